package dr

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/tars-platform/infra/internal/kube"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Where Live looks. The names are the ones the program deploys
// (components/postgres, components/monitoring); the tests hold them to it.
const (
	// PostgresNamespace is the namespace of each region's Cluster.
	PostgresNamespace = "tars-postgres"
	// PostgresDatabase is the application database the markers go in.
	PostgresDatabase = "tars"
	// PostgresContainer is the CloudNativePG instance pod's container
	// that runs PostgreSQL (and psql).
	PostgresContainer = "postgres"
	// PrometheusNamespace and PrometheusService are the kube-prometheus-stack
	// Service (release "kube-prometheus-stack": fullname
	// "kube-prometheus-stack", service "<fullname>-prometheus", port 9090).
	PrometheusNamespace = "monitoring"
	PrometheusService   = "kube-prometheus-stack-prometheus"
	PrometheusPort      = "9090"
	// BarmanCloudPlugin is the plugin name a Cluster's spec.plugins lists
	// for the barman-cloud plugin (plugin-barman-cloud
	// internal/cnpgi/metadata.PluginName).
	BarmanCloudPlugin = "barman-cloud.cloudnative-pg.io"
)

// The queries Postgres sends to Prometheus through the API server's
// service proxy. cnpg_pg_replication_lag is CloudNativePG's default
// pg_replication.lag metric, in seconds (config/manager/default-monitoring.yaml
// of cloudnative-pg v1.30.0); cnpg_pg_stat_archiver_last_archived_time is
// pg_stat_archiver's last_archived_time as a Unix epoch (-1 when never).
const (
	LagQuery          = `max(cnpg_pg_replication_lag{namespace="tars-postgres"})`
	LastArchivedQuery = `max(cnpg_pg_stat_archiver_last_archived_time{namespace="tars-postgres"})`
)

var (
	cnpgClusterGVR = schema.GroupVersionResource{Group: "postgresql.cnpg.io", Version: "v1", Resource: "clusters"}
	objectStoreGVR = schema.GroupVersionResource{Group: "barmancloud.cnpg.io", Version: "v1", Resource: "objectstores"}
)

// liveRequestTimeout bounds one API request (the Cluster, the ObjectStore,
// a Prometheus query) when the caller's context has no earlier deadline.
const (
	liveRequestTimeout = 30 * time.Second
	livePromTimeout    = 10 * time.Second
)

// Live is the real Reality: each region's Kubernetes API (client-go, with
// the kubeconfig its stack exported) and Route 53 (the AWS SDK).
type Live struct {
	outputs OutputsSource

	r53Endpoint string
	awsCreds    aws.CredentialsProvider

	mu    sync.Mutex
	kube  map[string]*liveKube // region → client, rebuilt when its kubeconfig changes
	r53   *route53.Client
	r53mu sync.Mutex
}

// LiveOption configures Live.
type LiveOption func(*Live)

// WithRoute53Endpoint sends the Route 53 calls to url instead of AWS (the
// tests' stand-in server).
func WithRoute53Endpoint(url string) LiveOption {
	return func(l *Live) { l.r53Endpoint = url }
}

// WithAWSCredentials uses p instead of the default credential chain.
func WithAWSCredentials(p aws.CredentialsProvider) LiveOption {
	return func(l *Live) { l.awsCreds = p }
}

// NewLive reads each region through its stack outputs (kubeconfig, health
// check, zone). It caches one Kubernetes client per region.
func NewLive(outputs OutputsSource, opts ...LiveOption) *Live {
	l := &Live{outputs: outputs, kube: map[string]*liveKube{}}
	for _, o := range opts {
		o(l)
	}
	return l
}

var _ Reality = (*Live)(nil)

// liveKube is one region's clients, built from one kubeconfig.
type liveKube struct {
	digest [32]byte // of the kubeconfig it was built from
	*kube.Client
}

func (l *Live) regionOutputs(ctx context.Context, region string) (Outputs, error) {
	if l.outputs == nil {
		return Outputs{}, fmt.Errorf("region %s: no outputs source", region)
	}
	out, err := l.outputs(ctx, region)
	if err != nil {
		return Outputs{}, fmt.Errorf("region %s: stack outputs: %w", region, err)
	}
	return out, nil
}

// kubeFor returns the region's cached clients, (re)building them when the
// kubeconfig differs from the one they were built from.
func (l *Live) kubeFor(region string, out Outputs) (*liveKube, error) {
	if strings.TrimSpace(out.Kubeconfig) == "" {
		return nil, fmt.Errorf("region %s: the stack exported no kubeconfig", region)
	}
	digest := sha256.Sum256([]byte(out.Kubeconfig))
	l.mu.Lock()
	defer l.mu.Unlock()
	if k, ok := l.kube[region]; ok && k.digest == digest {
		return k, nil
	}
	c, err := kube.New(out.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("region %s: %w", region, err)
	}
	k := &liveKube{digest: digest, Client: c}
	l.kube[region] = k
	return k, nil
}

// liveUnreachable reports whether err is a failure to reach a server at
// all: a refused or failed dial, an unknown host, a timeout, a reset
// connection. An answer from the server (an HTTP status, a TLS or
// authentication failure) is not.
func liveUnreachable(err error) bool {
	return errors.Is(err, ErrUnreachable) || kube.Unreachable(err)
}

// liveErr wraps err with what was being done; an unreachable server's
// error wraps ErrUnreachable.
func liveErr(what string, err error) error {
	if liveUnreachable(err) && !errors.Is(err, ErrUnreachable) {
		return fmt.Errorf("%s: %w: %v", what, ErrUnreachable, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// liveWithTimeout bounds ctx by d unless it already ends sooner.
func liveWithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// getCluster reads the region's Cluster; found is false when it does not
// exist.
func (l *Live) getCluster(ctx context.Context, region string, out Outputs, k *liveKube) (obj map[string]any, found bool, err error) {
	what := fmt.Sprintf("region %s: get Cluster %s/%s", region, PostgresNamespace, out.PostgresCluster)
	rctx, cancel := liveWithTimeout(ctx, liveRequestTimeout)
	defer cancel()
	u, err := k.Dyn.Resource(cnpgClusterGVR).Namespace(PostgresNamespace).Get(rctx, out.PostgresCluster, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, liveErr(what, err)
	}
	return u.Object, true, nil
}

// Postgres reads the region's Cluster (status and spec.replica), its
// barman-cloud ObjectStore's recovery window and, through Prometheus, its
// replication lag and last archival. A region whose outputs name no
// Cluster, or whose Cluster does not exist, has an empty Cluster.
func (l *Live) Postgres(ctx context.Context, region string) (Postgres, error) {
	out, err := l.regionOutputs(ctx, region)
	if err != nil {
		return Postgres{}, err
	}
	if out.PostgresCluster == "" {
		return Postgres{}, nil
	}
	k, err := l.kubeFor(region, out)
	if err != nil {
		return Postgres{}, err
	}
	obj, found, err := l.getCluster(ctx, region, out, k)
	if err != nil {
		return Postgres{}, err
	}
	if !found {
		return Postgres{}, nil
	}
	cl, err := ParseCluster(obj)
	if err != nil {
		return Postgres{}, fmt.Errorf("region %s: Cluster %s/%s: %w", region, PostgresNamespace, out.PostgresCluster, err)
	}
	p := cl.Postgres
	if cl.ObjectStore != "" {
		what := fmt.Sprintf("region %s: get ObjectStore %s/%s", region, PostgresNamespace, cl.ObjectStore)
		rctx, cancel := liveWithTimeout(ctx, liveRequestTimeout)
		u, err := k.Dyn.Resource(objectStoreGVR).Namespace(PostgresNamespace).Get(rctx, cl.ObjectStore, metav1.GetOptions{})
		cancel()
		switch {
		case apierrors.IsNotFound(err):
			// No store (or no plugin CRD): no recovery window to read.
		case err != nil:
			return Postgres{}, liveErr(what, err)
		default:
			if w, ok := ParseRecoveryWindow(u.Object, cl.ServerName); ok && w.LastSuccessfulBackup.After(p.LastBackup) {
				p.LastBackup = w.LastSuccessfulBackup
			}
		}
	}
	// Prometheus is best effort: an unanswered query leaves the lag
	// unknown, it does not make the region unreadable. A primary has no
	// replication lag (its series are its local standbys').
	if !p.Primary {
		if v, known, err := l.promQuery(ctx, k, LagQuery); err == nil && known && v >= 0 {
			p.Lag, p.LagKnown = time.Duration(v*float64(time.Second)), true
		}
	}
	if v, known, err := l.promQuery(ctx, k, LastArchivedQuery); err == nil && known && v > 0 {
		sec, frac := math.Modf(v)
		if t := time.Unix(int64(sec), int64(frac*1e9)).UTC(); t.After(p.LastArchivedWALTime) {
			p.LastArchivedWALTime = t
		}
	}
	return p, nil
}

// promQuery runs an instant query through the API server's service proxy
// to the region's Prometheus.
func (l *Live) promQuery(ctx context.Context, k *liveKube, query string) (float64, bool, error) {
	rctx, cancel := liveWithTimeout(ctx, livePromTimeout)
	defer cancel()
	body, err := k.Core.CoreV1().Services(PrometheusNamespace).
		ProxyGet("http", PrometheusService, PrometheusPort, "api/v1/query", map[string]string{"query": query}).
		DoRaw(rctx)
	if err != nil && len(body) == 0 {
		return 0, false, err
	}
	v, known, perr := ParsePromQuery(body)
	if perr != nil {
		if err != nil {
			return 0, false, fmt.Errorf("%w (%v)", err, perr)
		}
		return 0, false, perr
	}
	return v, known, err
}

// ParsePromQuery reads the single value of a Prometheus instant query's
// JSON answer (GET /api/v1/query): a vector's first sample, or a scalar.
// An empty vector, or a NaN, is unknown (false) and no error; a failed
// query ("status": "error") is an error.
func ParsePromQuery(body []byte) (float64, bool, error) {
	var resp struct {
		Status    string          `json:"status"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return 0, false, fmt.Errorf("prometheus: not a query response: %v", err)
	}
	if resp.Status != "success" {
		return 0, false, fmt.Errorf("prometheus: query %s: %s %s", liveOr(resp.Status, "failed"), resp.ErrorType, resp.Error)
	}
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(resp.Data, &data); err != nil {
		return 0, false, fmt.Errorf("prometheus: data: %v", err)
	}
	var sample []any // [ <unix time>, "<value>" ]
	switch data.ResultType {
	case "vector":
		var vec []struct {
			Value []any `json:"value"`
		}
		if err := json.Unmarshal(data.Result, &vec); err != nil {
			return 0, false, fmt.Errorf("prometheus: vector: %v", err)
		}
		if len(vec) == 0 {
			return 0, false, nil
		}
		sample = vec[0].Value
	case "scalar":
		if err := json.Unmarshal(data.Result, &sample); err != nil {
			return 0, false, fmt.Errorf("prometheus: scalar: %v", err)
		}
	default:
		return 0, false, fmt.Errorf("prometheus: result type %q, want a vector or a scalar", data.ResultType)
	}
	if len(sample) != 2 {
		return 0, false, fmt.Errorf("prometheus: sample %v, want [time, value]", sample)
	}
	s, ok := sample[1].(string)
	if !ok {
		return 0, false, fmt.Errorf("prometheus: sample value %v is not a string", sample[1])
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false, fmt.Errorf("prometheus: sample value %q: %v", s, err)
	}
	if math.IsNaN(v) {
		return 0, false, nil
	}
	return v, true, nil
}

func liveOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ClusterView is what ParseCluster reads from a Cluster: the dr view and
// where its backups are recorded.
type ClusterView struct {
	Postgres
	// CurrentPrimary is .status.currentPrimary: the pod that runs the
	// primary (in a replica cluster, the designated primary).
	CurrentPrimary string
	// ObjectStore is the barman-cloud ObjectStore the Cluster archives to
	// (the plugin's barmanObjectName parameter); ServerName the server
	// name it archives under (the serverName parameter, default the
	// Cluster's name).
	ObjectStore, ServerName string
}

// ParseCluster reads a postgresql.cnpg.io/v1 Cluster (CloudNativePG 1.30,
// api/v1/cluster_types.go):
//   - status: phase, instances, readyInstances, currentPrimary,
//     timelineID, demotionToken, lastSuccessfulBackup (deprecated, not set
//     with backup plugins) and conditions (ContinuousArchiving);
//   - spec.replica (ReplicaClusterConfiguration: self, primary, source,
//     enabled): Primary follows Cluster.IsReplica of api/v1/cluster_funcs.go:
//     no spec.replica → primary; spec.replica.enabled set → its negation
//     decides (the legacy form); otherwise the Cluster is primary when
//     spec.replica.primary equals spec.replica.self (self defaulting to
//     metadata.name).
//
// Following is spec.replica.primary of a replica (spec.replica.source
// for the legacy form without primary).
func ParseCluster(obj map[string]any) (ClusterView, error) {
	var c struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Spec struct {
			Replica *struct {
				Self    string `json:"self"`
				Primary string `json:"primary"`
				Source  string `json:"source"`
				Enabled *bool  `json:"enabled"`
			} `json:"replica"`
			Plugins []struct {
				Name          string            `json:"name"`
				Enabled       *bool             `json:"enabled"`
				IsWALArchiver *bool             `json:"isWALArchiver"`
				Parameters    map[string]string `json:"parameters"`
			} `json:"plugins"`
		} `json:"spec"`
		Status struct {
			Phase                string             `json:"phase"`
			Instances            int                `json:"instances"`
			ReadyInstances       int                `json:"readyInstances"`
			CurrentPrimary       string             `json:"currentPrimary"`
			TimelineID           int                `json:"timelineID"`
			DemotionToken        string             `json:"demotionToken"`
			LastSuccessfulBackup string             `json:"lastSuccessfulBackup"`
			Conditions           []metav1.Condition `json:"conditions"`
		} `json:"status"`
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return ClusterView{}, fmt.Errorf("encode: %v", err)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return ClusterView{}, fmt.Errorf("decode: %v", err)
	}
	v := ClusterView{CurrentPrimary: c.Status.CurrentPrimary}
	p := &v.Postgres
	p.Cluster = c.Metadata.Name
	p.Phase = c.Status.Phase
	p.Instances, p.ReadyInstances = c.Status.Instances, c.Status.ReadyInstances
	p.Timeline = c.Status.TimelineID
	p.DemotionToken = c.Status.DemotionToken
	p.Primary = true
	if r := c.Spec.Replica; r != nil {
		self := r.Self
		if self == "" {
			self = c.Metadata.Name
		}
		if r.Enabled != nil {
			p.Primary = !*r.Enabled
		} else {
			p.Primary = self == r.Primary
		}
		if !p.Primary {
			p.Following = r.Primary
			if p.Following == "" {
				p.Following = r.Source
			}
		}
	}
	if t, err := time.Parse(time.RFC3339, c.Status.LastSuccessfulBackup); err == nil {
		p.LastBackup = t.UTC()
	}
	for _, cond := range c.Status.Conditions {
		// ContinuousArchiving is True while WAL archiving works; its
		// lastTransitionTime is when it last became so (the condition is
		// not touched again on each archived segment): a lower bound of
		// the last archival, replaced by Prometheus's when it is known.
		if cond.Type == "ContinuousArchiving" && cond.Status == metav1.ConditionTrue {
			p.LastArchivedWALTime = cond.LastTransitionTime.UTC()
		}
	}
	for _, pl := range c.Spec.Plugins {
		if pl.Name != BarmanCloudPlugin || (pl.Enabled != nil && !*pl.Enabled) {
			continue
		}
		// The WAL archiver's store first; another enabled entry only when
		// none archives.
		if v.ObjectStore == "" || (pl.IsWALArchiver != nil && *pl.IsWALArchiver) {
			v.ObjectStore = pl.Parameters["barmanObjectName"]
			v.ServerName = pl.Parameters["serverName"]
		}
	}
	if v.ServerName == "" {
		v.ServerName = c.Metadata.Name
	}
	return v, nil
}

// RecoveryWindow is one server's entry of a barman-cloud ObjectStore's
// status.serverRecoveryWindow (plugin-barman-cloud v0.13.0
// api/v1/objectstore_types.go: RecoveryWindow).
type RecoveryWindow struct {
	FirstRecoverabilityPoint time.Time
	LastSuccessfulBackup     time.Time
	LastFailedBackup         time.Time
}

// ParseRecoveryWindow reads status.serverRecoveryWindow[server] of a
// barmancloud.cnpg.io/v1 ObjectStore.
func ParseRecoveryWindow(obj map[string]any, server string) (RecoveryWindow, bool) {
	var s struct {
		Status struct {
			ServerRecoveryWindow map[string]struct {
				FirstRecoverabilityPoint *metav1.Time `json:"firstRecoverabilityPoint"`
				LastSuccessfulBackupTime *metav1.Time `json:"lastSuccessfulBackupTime"`
				LastFailedBackupTime     *metav1.Time `json:"lastFailedBackupTime"`
			} `json:"serverRecoveryWindow"`
		} `json:"status"`
	}
	raw, err := json.Marshal(obj)
	if err != nil || json.Unmarshal(raw, &s) != nil {
		return RecoveryWindow{}, false
	}
	w, ok := s.Status.ServerRecoveryWindow[server]
	if !ok {
		return RecoveryWindow{}, false
	}
	t := func(m *metav1.Time) time.Time {
		if m == nil {
			return time.Time{}
		}
		return m.UTC()
	}
	return RecoveryWindow{
		FirstRecoverabilityPoint: t(w.FirstRecoverabilityPoint),
		LastSuccessfulBackup:     t(w.LastSuccessfulBackupTime),
		LastFailedBackup:         t(w.LastFailedBackupTime),
	}, true
}

// DeleteCluster deletes the region's Cluster (the operator's owner
// references take its pods and volumes with it). A Cluster that is
// already gone, or a region without one, is not an error.
func (l *Live) DeleteCluster(ctx context.Context, region string) error {
	out, err := l.regionOutputs(ctx, region)
	if err != nil {
		return err
	}
	if out.PostgresCluster == "" {
		return nil
	}
	k, err := l.kubeFor(region, out)
	if err != nil {
		return err
	}
	rctx, cancel := liveWithTimeout(ctx, liveRequestTimeout)
	defer cancel()
	policy := metav1.DeletePropagationBackground
	err = k.Dyn.Resource(cnpgClusterGVR).Namespace(PostgresNamespace).Delete(rctx, out.PostgresCluster, metav1.DeleteOptions{PropagationPolicy: &policy})
	if err != nil && !apierrors.IsNotFound(err) {
		return liveErr(fmt.Sprintf("region %s: delete Cluster %s/%s", region, PostgresNamespace, out.PostgresCluster), err)
	}
	return nil
}

// The markers: rows of tars_dr.markers written on the primary and read
// wherever the data should have arrived.

var liveMarkerID = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// ValidMarkerID refuses an id that is not 1–64 of [a-z0-9-]: ids go into
// SQL literals, so nothing else is allowed.
func ValidMarkerID(id string) error {
	if !liveMarkerID.MatchString(id) {
		return fmt.Errorf("marker id %q: want 1-64 characters of [a-z0-9-]", id)
	}
	return nil
}

// WriteMarkerSQL creates the markers table if needed and inserts id (a
// second write of the same id changes nothing).
func WriteMarkerSQL(id string) (string, error) {
	if err := ValidMarkerID(id); err != nil {
		return "", err
	}
	return "CREATE SCHEMA IF NOT EXISTS tars_dr; " +
		"CREATE TABLE IF NOT EXISTS tars_dr.markers (id text PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT now()); " +
		"INSERT INTO tars_dr.markers (id) VALUES ('" + id + "') ON CONFLICT (id) DO NOTHING;", nil
}

// ReadMarkerSQL counts the rows carrying id (psql -At prints 0 or 1).
func ReadMarkerSQL(id string) (string, error) {
	if err := ValidMarkerID(id); err != nil {
		return "", err
	}
	return "SELECT count(*) FROM tars_dr.markers WHERE id = '" + id + "';", nil
}

// DeleteMarkerSQL removes the row carrying id.
func DeleteMarkerSQL(id string) (string, error) {
	if err := ValidMarkerID(id); err != nil {
		return "", err
	}
	return "DELETE FROM tars_dr.markers WHERE id = '" + id + "';", nil
}

// PsqlCommand is the command run in the postgres container: psql over the
// local socket as the postgres superuser (-U postgres, as CloudNativePG's
// own `kubectl cnpg psql` adds: internal/cmd/plugin/psql/psql.go),
// stopping at the first error, unaligned tuples only.
func PsqlCommand(sql string) []string {
	return []string{"psql", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-d", PostgresDatabase, "-Atc", sql}
}

// MarkerTableMissing: psql's error (its stderr, or an error carrying it)
// when tars_dr.markers (or its schema) does not exist yet, i.e. no marker
// was ever written (or replicated).
func MarkerTableMissing(stderr string) bool {
	return strings.Contains(stderr, `relation "tars_dr.markers" does not exist`) ||
		strings.Contains(stderr, `schema "tars_dr" does not exist`)
}

// psql runs sql in the postgres container of the region's Cluster's
// current primary (status.currentPrimary: in a replica cluster, the
// designated primary, a hot standby).
func (l *Live) psql(ctx context.Context, region, sql string) (stdout, stderr string, err error) {
	out, err := l.regionOutputs(ctx, region)
	if err != nil {
		return "", "", err
	}
	if out.PostgresCluster == "" {
		return "", "", fmt.Errorf("region %s: no Postgres Cluster in its outputs", region)
	}
	k, err := l.kubeFor(region, out)
	if err != nil {
		return "", "", err
	}
	obj, found, err := l.getCluster(ctx, region, out, k)
	if err != nil {
		return "", "", err
	}
	if !found {
		return "", "", fmt.Errorf("region %s: Cluster %s/%s does not exist", region, PostgresNamespace, out.PostgresCluster)
	}
	cl, err := ParseCluster(obj)
	if err != nil {
		return "", "", fmt.Errorf("region %s: Cluster %s/%s: %w", region, PostgresNamespace, out.PostgresCluster, err)
	}
	pod := cl.CurrentPrimary
	if pod == "" {
		return "", "", fmt.Errorf("region %s: Cluster %s/%s has no current primary (status.currentPrimary)", region, PostgresNamespace, out.PostgresCluster)
	}
	what := fmt.Sprintf("region %s: exec psql in pod %s/%s", region, PostgresNamespace, pod)
	stdout, stderr, err = k.Exec(ctx, PostgresNamespace, pod, PostgresContainer, PsqlCommand(sql))
	if err != nil {
		return stdout, stderr, liveErr(what, err)
	}
	return stdout, stderr, nil
}

// WriteMarker inserts the row carrying id on the region's primary.
func (l *Live) WriteMarker(ctx context.Context, region, id string) error {
	sql, err := WriteMarkerSQL(id)
	if err != nil {
		return fmt.Errorf("region %s: write marker: %w", region, err)
	}
	if _, _, err := l.psql(ctx, region, sql); err != nil {
		return fmt.Errorf("write marker %s: %w", id, err)
	}
	return nil
}

// ReadMarker reports whether the row carrying id is visible on the
// region's current primary (in a replica cluster the designated primary:
// the row has replicated). No markers table yet is false.
func (l *Live) ReadMarker(ctx context.Context, region, id string) (bool, error) {
	sql, err := ReadMarkerSQL(id)
	if err != nil {
		return false, fmt.Errorf("region %s: read marker: %w", region, err)
	}
	stdout, stderr, err := l.psql(ctx, region, sql)
	if err != nil {
		if MarkerTableMissing(stderr) {
			return false, nil
		}
		return false, fmt.Errorf("read marker %s: %w", id, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(stdout))
	if err != nil {
		return false, fmt.Errorf("region %s: read marker %s: psql printed %q, want a count", region, id, strings.TrimSpace(stdout))
	}
	return n > 0, nil
}

// DeleteMarker removes the row carrying id on the region's primary; no
// markers table is nothing to delete.
func (l *Live) DeleteMarker(ctx context.Context, region, id string) error {
	sql, err := DeleteMarkerSQL(id)
	if err != nil {
		return fmt.Errorf("region %s: delete marker: %w", region, err)
	}
	if _, stderr, err := l.psql(ctx, region, sql); err != nil {
		if MarkerTableMissing(stderr) {
			return nil
		}
		return fmt.Errorf("delete marker %s: %w", id, err)
	}
	return nil
}
