package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tars-platform/infra/dr"
	"github.com/tars-platform/infra/slo"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The Postgres checks write a marker row (dr's tars_dr.markers, id
// carrying the run id) with psql in the postgres container of a Cluster's
// current primary — `kubectl exec … -c postgres -- psql -U postgres -v
// ON_ERROR_STOP=1 -d tars -Atc <sql>` (dr.PsqlCommand) — and read it with
// the same command where it should arrive, until it is there or the lag
// target has passed; the row is deleted on the primary afterwards.

// PostgresLagTarget is how soon a marker must be visible where it
// replicates to: seed 003's replication lag target.
const PostgresLagTarget = slo.ReplicationLagTarget

// The marker ids: the run id with the check's suffix, so that the second
// check of a run never reads the first one's row (deleted on the primary,
// but perhaps not yet replayed where it looks).
const (
	StandbysMarkerSuffix    = "-standbys"
	ReplicationMarkerSuffix = "-replication"
)

// pgExecTimeout bounds one psql exec that is not a marker read (those
// are bounded by the lag target).
const pgExecTimeout = 20 * time.Second

// CNPGClusterGVR is CloudNativePG's Cluster resource.
var CNPGClusterGVR = schema.GroupVersionResource{Group: "postgresql.cnpg.io", Version: "v1", Resource: "clusters"}

const cnpgAPIVersion = "postgresql.cnpg.io/v1"

// PostgresStandbys: in the region whose Cluster is primary, a marker row
// written on status.currentPrimary is visible on every other instance
// (status.instanceNames) within the lag target. A replica region skips:
// its writes come from the peer (postgres-replication).
func PostgresStandbys() Check {
	return Check{
		ID:       "postgres-standbys",
		Expected: fmt.Sprintf("a marker row written on the primary is visible on every standby within %s", PostgresLagTarget),
		Scope:    PerRegion,
		Timeout:  60 * time.Second,
		Run:      runPostgresStandbys,
	}
}

// PostgresReplication: a marker row written on the primary region's
// current primary (env.PostgresPrimary) is visible on the peer region's
// designated primary (its replica Cluster's status.currentPrimary, a hot
// standby streaming from the primary region) within the lag target.
func PostgresReplication() Check {
	return Check{
		ID:       "postgres-replication",
		Expected: fmt.Sprintf("a marker row written on the primary region's primary is visible on the peer's designated primary within %s", PostgresLagTarget),
		Scope:    CrossRegion,
		Timeout:  60 * time.Second,
		Run:      runPostgresReplication,
	}
}

// pgCluster is a region's CloudNativePG Cluster as the checks use it.
type pgCluster struct {
	region          string
	cl              Cluster
	namespace, name string
	view            dr.ClusterView
	// instances is status.instanceNames (the instance pods, CLUSTER-N).
	instances []string
	// want is the program's spec.instances (0: unknown).
	want int
}

func (c pgCluster) String() string { return c.namespace + "/" + c.name }

// pgLocate finds the region's Cluster (the program's
// postgresql.cnpg.io/v1 Cluster in the inventory, else the stack output's
// name in dr.PostgresNamespace) and reads it live. skip, when set, is why
// there is nothing to check: the program deploys no Cluster there.
func pgLocate(ctx context.Context, env *Env, region string) (c pgCluster, skip string, err error) {
	reg, ok := env.Regions[region]
	if !ok || reg.Cluster == nil {
		return c, "", fmt.Errorf("region %s is not part of this run", region)
	}
	c = pgCluster{region: region, cl: reg.Cluster}
	var objs []Object
	for _, o := range reg.Inventory.Kind("Cluster") {
		if o.APIVersion == cnpgAPIVersion {
			objs = append(objs, o)
		}
	}
	if len(objs) > 1 {
		for _, o := range objs {
			if o.Name == reg.Outputs.PostgresCluster {
				objs = []Object{o}
				break
			}
		}
	}
	switch {
	case len(objs) == 1:
		c.namespace, c.name = objs[0].Namespace, objs[0].Name
		if n, ok := redisInt(Path(objs[0].Body, "spec.instances")); ok {
			c.want = n
		}
	case len(objs) > 1:
		var names []string
		for _, o := range objs {
			names = append(names, o.Namespace+"/"+o.Name)
		}
		return c, "", fmt.Errorf("region %s: the program deploys several Clusters (%s)", region, strings.Join(names, ", "))
	case reg.Outputs.PostgresCluster != "":
		c.namespace, c.name = dr.PostgresNamespace, reg.Outputs.PostgresCluster
	default:
		return c, fmt.Sprintf("%s runs no Postgres Cluster: the program deploys none there (yet)", region), nil
	}
	obj, err := reg.Cluster.Get(ctx, CNPGClusterGVR, c.namespace, c.name)
	if errors.Is(err, ErrNotFound) {
		return c, "", fmt.Errorf("region %s: Cluster %s does not exist (the program deploys it)", region, c)
	}
	if err != nil {
		return c, "", fmt.Errorf("region %s: read Cluster %s: %w", region, c, err)
	}
	if c.view, err = dr.ParseCluster(obj); err != nil {
		return c, "", fmt.Errorf("region %s: Cluster %s: %w", region, c, err)
	}
	names, _ := Path(obj, "status.instanceNames").([]any)
	for _, n := range names {
		if s, ok := n.(string); ok && s != "" {
			c.instances = append(c.instances, s)
		}
	}
	slices.Sort(c.instances)
	return c, "", nil
}

// pgRegionOf names the region whose Cluster is name (for messages), or
// the Cluster's name.
func pgRegionOf(env *Env, cluster string) string {
	for _, group := range []map[string]*Region{env.Regions, env.Peers} {
		for name, r := range group {
			if r != nil && r.Outputs.PostgresCluster == cluster && cluster != "" {
				return name
			}
		}
	}
	if cluster == "" {
		return "the peer"
	}
	return cluster
}

// pgPsql runs sql with dr.PsqlCommand in a pod's postgres container.
func pgPsql(ctx context.Context, c pgCluster, pod, sql string) (string, error) {
	stdout, stderr, err := c.cl.Exec(ctx, c.namespace, pod, dr.PostgresContainer, dr.PsqlCommand(sql))
	if err != nil {
		msg := err.Error()
		if s := strings.TrimSpace(stderr); s != "" && !strings.Contains(msg, s) {
			msg += ": " + s
		}
		return stdout, fmt.Errorf("psql in %s: %s", pod, oneLine(msg, 300))
	}
	return strings.TrimSpace(stdout), nil
}

// pgMarkerTableMissing: the markers table (or schema) does not exist yet:
// no marker was ever written (or replicated) there.
func pgMarkerTableMissing(err error) bool {
	return err != nil && dr.MarkerTableMissing(err.Error())
}

// pgWriteMarker inserts the marker on pod (a primary).
func pgWriteMarker(ctx context.Context, c pgCluster, pod, id string) error {
	sql, err := dr.WriteMarkerSQL(id)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, pgExecTimeout)
	defer cancel()
	if _, err := pgPsql(wctx, c, pod, sql); err != nil {
		return fmt.Errorf("write marker %s on %s: %w", id, pod, err)
	}
	return nil
}

// pgDeleteMarker removes the marker on pod (a primary) with a fresh
// context, so that it goes even when the check ran out of time.
func pgDeleteMarker(c pgCluster, pod, id string) error {
	sql, err := dr.DeleteMarkerSQL(id)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), pgExecTimeout)
	defer cancel()
	if _, err := pgPsql(ctx, c, pod, sql); err != nil && !pgMarkerTableMissing(err) {
		return fmt.Errorf("marker %s not deleted on %s of %s: %w", id, pod, c.region, err)
	}
	return nil
}

// pgSeen reports whether the marker is visible on pod.
func pgSeen(ctx context.Context, c pgCluster, pod, id string) (bool, error) {
	sql, err := dr.ReadMarkerSQL(id)
	if err != nil {
		return false, err
	}
	out, err := pgPsql(ctx, c, pod, sql)
	if pgMarkerTableMissing(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	n, err := strconv.Atoi(out)
	if err != nil {
		return false, fmt.Errorf("psql in %s printed %q, want a count", pod, oneLine(out, 80))
	}
	return n > 0, nil
}

// pgArrival is when (if) the marker became visible on one pod.
type pgArrival struct {
	pod     string
	seen    bool
	after   time.Duration
	lastErr error
}

// pgAwait polls every pod (each in its own goroutine, every env.Poll)
// until the marker is visible there or target has passed since start
// (env.Now after the write returned). A read that answers after the
// target counts as late; the measured time includes the exec round trip
// of the read that saw the row (an upper bound).
func pgAwait(ctx context.Context, env *Env, c pgCluster, pods []string, id string, start time.Time, target time.Duration) []pgArrival {
	res := make([]pgArrival, len(pods))
	var wg sync.WaitGroup
	for i, pod := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := pgArrival{pod: pod}
			defer func() { res[i] = r }()
			for {
				elapsed := env.now().Sub(start)
				if elapsed > target {
					return
				}
				// A read may take at most what is left of the target (and
				// a second for the answer to come back).
				rctx, cancel := context.WithTimeout(ctx, target-elapsed+time.Second)
				seen, err := pgSeen(rctx, c, pod, id)
				cancel()
				after := env.now().Sub(start)
				if err != nil {
					r.lastErr = err
				} else {
					r.lastErr = nil
				}
				if seen {
					r.seen, r.after = true, after
					return
				}
				if ctx.Err() != nil {
					r.lastErr = ctx.Err()
					return
				}
				select {
				case <-ctx.Done():
					r.lastErr = ctx.Err()
					return
				case <-time.After(env.poll()):
				}
			}
		}()
	}
	wg.Wait()
	return res
}

// pgArrivalProblem is a pod's failure, or "".
func pgArrivalProblem(a pgArrival, what string, target time.Duration) string {
	switch {
	case a.seen && a.after <= target:
		return ""
	case a.seen:
		return fmt.Sprintf("%s: the marker became visible only after %s (target %s)", what, pgSeconds(a.after), target)
	case a.lastErr != nil:
		return fmt.Sprintf("%s: the marker is not visible within %s (last read failed: %v)", what, target, a.lastErr)
	default:
		return fmt.Sprintf("%s: the marker is not visible within %s (the last read found no row)", what, target)
	}
}

// pgSeconds prints a duration as seconds to the hundredth.
func pgSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
}

// pgMarkerID is the check's marker id: the run id and suffix.
func pgMarkerID(runID, suffix string) (string, error) {
	id := runID + suffix
	if err := dr.ValidMarkerID(id); err != nil {
		return "", fmt.Errorf("run id %q: %w", runID, err)
	}
	return id, nil
}

func runPostgresStandbys(ctx context.Context, env *Env, region string) (Outcome, error) {
	var out Outcome
	id, err := pgMarkerID(env.RunID, StandbysMarkerSuffix)
	if err != nil {
		return out, err
	}
	c, skip, err := pgLocate(ctx, env, region)
	if err != nil || skip != "" {
		return Outcome{Skipped: skip}, err
	}
	if !c.view.Primary {
		return Outcome{Skipped: fmt.Sprintf("%s is a replica cluster: its writes come from %s; see postgres-replication",
			region, pgRegionOf(env, c.view.Following))}, nil
	}
	primary := c.view.CurrentPrimary
	if primary == "" {
		return out, fmt.Errorf("the Cluster %s has no current primary (status.currentPrimary; phase %q)", c, c.view.Phase)
	}
	if c.want > 0 {
		out.Expected = fmt.Sprintf("a marker row written on the primary is visible on the %d standbys of %s within %s", c.want-1, c, PostgresLagTarget)
		if len(c.instances) != c.want {
			out = out.Failf("Cluster %s has %d instances (status.instanceNames: %s), the program deploys %d",
				c, len(c.instances), strings.Join(c.instances, ", "), c.want)
		}
	}
	if !slices.Contains(c.instances, primary) && len(c.instances) > 0 {
		out = out.Failf("the current primary %s is not among status.instanceNames (%s)", primary, strings.Join(c.instances, ", "))
	}
	var standbys []string
	for _, n := range c.instances {
		if n != primary {
			standbys = append(standbys, n)
		}
	}
	if len(standbys) == 0 {
		return out.Failf("Cluster %s has no standby to read the marker on (status.instanceNames: %s)", c, strings.Join(c.instances, ", ")), nil
	}

	if err := pgWriteMarker(ctx, c, primary, id); err != nil {
		return out, err
	}
	start := env.now()
	arrivals := pgAwait(ctx, env, c, standbys, id, start, PostgresLagTarget)
	if err := pgDeleteMarker(c, primary, id); err != nil {
		out = out.Failf("%v", err)
	}
	var seen []string
	for _, a := range arrivals {
		if p := pgArrivalProblem(a, a.pod, PostgresLagTarget); p != "" {
			out = out.Failf("%s", p)
		}
		if a.seen {
			seen = append(seen, fmt.Sprintf("%s after %s", a.pod, pgSeconds(a.after)))
		}
	}
	if len(seen) == 0 {
		seen = []string{"no standby"}
	}
	out.Observed = fmt.Sprintf("marker written on %s visible on %s (target %s)", primary, strings.Join(seen, ", "), PostgresLagTarget)
	return out, nil
}

func runPostgresReplication(ctx context.Context, env *Env, _ string) (Outcome, error) {
	var out Outcome
	id, err := pgMarkerID(env.RunID, ReplicationMarkerSuffix)
	if err != nil {
		return out, err
	}
	primary := env.PostgresPrimary
	if primary == "" {
		return out, errors.New("the stacks exported no postgresPrimary (their topology output): which region writes is unknown")
	}
	if _, ok := env.Regions[primary]; !ok {
		return out, fmt.Errorf("the Postgres primary region %s is not part of this run (%s)", primary, strings.Join(env.RegionNames(), ", "))
	}
	peer := ""
	for _, r := range env.RegionNames() {
		if r != primary {
			peer = r
			break
		}
	}
	if peer == "" {
		return out, fmt.Errorf("no region besides the Postgres primary %s in this run", primary)
	}
	src, skip, err := pgLocate(ctx, env, primary)
	if err != nil {
		return out, err
	}
	if skip != "" {
		return Outcome{Skipped: skip}, nil
	}
	dst, skip, err := pgLocate(ctx, env, peer)
	if err != nil {
		return out, err
	}
	if skip != "" {
		return Outcome{Skipped: skip + ": nothing replicates to it"}, nil
	}
	out.Expected = fmt.Sprintf("a marker row written on %s's primary (%s) is visible on %s's designated primary (%s) within %s",
		primary, src, peer, dst, PostgresLagTarget)
	if !src.view.Primary {
		out = out.Failf("%s is the Postgres primary region (topology) but its Cluster %s is a replica cluster following %s (tarsctl dr status)",
			primary, src, src.view.Following)
	}
	if dst.view.Primary {
		out = out.Failf("%s's Cluster %s is a primary, not a replica cluster of %s's %s (tarsctl dr status)", peer, dst, primary, src.name)
	} else if dst.view.Following != src.name {
		out = out.Failf("%s's Cluster %s follows %q, not %s's %s", peer, dst, dst.view.Following, primary, src.name)
	}
	if src.view.CurrentPrimary == "" {
		out = out.Failf("%s's Cluster %s has no current primary (status.currentPrimary; phase %q)", primary, src, src.view.Phase)
	}
	if dst.view.CurrentPrimary == "" {
		out = out.Failf("%s's Cluster %s has no designated primary (status.currentPrimary; phase %q)", peer, dst, dst.view.Phase)
	}
	if len(out.Problems) > 0 {
		out.Observed = "the Clusters are not a primary and its replica cluster: nothing written"
		return out, nil
	}

	if err := pgWriteMarker(ctx, src, src.view.CurrentPrimary, id); err != nil {
		return out, fmt.Errorf("%s: %w", primary, err)
	}
	start := env.now()
	arrival := pgAwait(ctx, env, dst, []string{dst.view.CurrentPrimary}, id, start, PostgresLagTarget)[0]
	// Deleted on the primary: the deletion replicates like the row.
	if err := pgDeleteMarker(src, src.view.CurrentPrimary, id); err != nil {
		out = out.Failf("%v", err)
	}
	what := fmt.Sprintf("%s designated primary %s", peer, dst.view.CurrentPrimary)
	if p := pgArrivalProblem(arrival, what, PostgresLagTarget); p != "" {
		out = out.Failf("%s", p)
	}
	if arrival.seen {
		out.Observed = fmt.Sprintf("marker written on %s %s visible on %s %s (designated primary) after %s (target %s)",
			primary, src.view.CurrentPrimary, peer, dst.view.CurrentPrimary, pgSeconds(arrival.after), PostgresLagTarget)
	} else {
		out.Observed = fmt.Sprintf("marker written on %s %s not visible on %s %s within %s",
			primary, src.view.CurrentPrimary, peer, dst.view.CurrentPrimary, PostgresLagTarget)
	}
	return out, nil
}
