package postgres

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/tars-platform/infra/internal/keep"
	"github.com/tars-platform/infra/internal/netpol"
	"github.com/tars-platform/infra/internal/pki"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/components/postgres/pgconf"
	"github.com/tars-platform/infra/internal/check"
	"github.com/tars-platform/infra/slo"
)

// Defaults: seed 003 "PostgreSQL WAL Replication" and the seed's VPA row
// for postgres-primary (1000m/2Gi to 8000m/16Gi).
const (
	DefaultNamespace           = "tars-postgres"
	DefaultAppNamespace        = "tars"
	DefaultMonitoringNamespace = "monitoring"
	// DefaultInstances: a primary and two standbys, one per zone, so the
	// synchronous quorum survives a zone.
	DefaultInstances = 3
	DefaultDatabase  = "tars"
	DefaultOwner     = "tars"
	// DefaultStorageGiB and DefaultWalStorageGiB: data and WAL on separate
	// volumes, so a WAL burst (the archive falling behind) cannot fill the
	// data volume.
	DefaultStorageGiB    = 100
	DefaultWalStorageGiB = 20
	DefaultCPURequest    = "1"
	DefaultCPULimit      = "4"
	// DefaultMemoryMB is the memory request and limit (equal: PostgreSQL
	// is never the pod the kubelet evicts first for overcommitted memory).
	DefaultMemoryMB       = 4096
	DefaultMaxConnections = 200
	// DefaultBackupRetentionDays: "Backup Retention: 30 days" (slo.BackupRetention),
	// also the least allowed.
	DefaultBackupRetentionDays = int(slo.BackupRetention / (24 * time.Hour))

	// The VPA bounds of seed 003 (postgres-primary: 1000m/2Gi–8000m/16Gi):
	// the resources must stay inside them.
	MinCPUMilli = 1000
	MaxCPUMilli = 8000
	MinMemoryMB = 2048
	MaxMemoryMB = 16384

	// Port is PostgreSQL's; StatusPort is the instance manager's (health).
	Port       = 5432
	StatusPort = 8000
	// MetricsPort is the instance manager's exporter.
	MetricsPort = 9187
)

// Args configures a region's PostgreSQL. Fields with json tags are exactly
// the stack config object tars:postgres.
type Args struct {
	// Namespace of the database (created here). Default DefaultNamespace.
	Namespace string `json:"namespace,omitempty"`
	// AppNamespace is the only application namespace whose pods may
	// connect. Default DefaultAppNamespace.
	AppNamespace string `json:"appNamespace,omitempty"`
	// MonitoringNamespace may scrape the exporter. Default DefaultMonitoringNamespace.
	MonitoringNamespace string `json:"monitoringNamespace,omitempty"`
	// Instances in this region (the primary or designated primary and its
	// local standbys). At least 3: the synchronous quorum needs a standby
	// left when one is lost. Default 3.
	Instances int `json:"instances,omitempty"`
	// Database and Owner: the application database and its owner role.
	// Defaults "tars" and "tars".
	Database string `json:"database,omitempty"`
	Owner    string `json:"owner,omitempty"`
	// StorageGiB and WalStorageGiB: the data and WAL volume of each
	// instance. Defaults 100 and 20. Volumes only grow.
	StorageGiB    int `json:"storageGiB,omitempty"`
	WalStorageGiB int `json:"walStorageGiB,omitempty"`
	// CPURequest, CPULimit (cores or millicores) and MemoryMB (request =
	// limit) must stay inside the seed's VPA bounds, 1000m/2Gi to
	// 8000m/16Gi. Defaults 1, 4 and 4096.
	CPURequest string `json:"cpuRequest,omitempty"`
	CPULimit   string `json:"cpuLimit,omitempty"`
	MemoryMB   int    `json:"memoryMb,omitempty"`
	// MaxConnections is max_connections. Default 200.
	MaxConnections int `json:"maxConnections,omitempty"`
	// BackupRetentionDays: base backups and WAL are kept this long, and
	// at least 30 days (seed 003). Default 30.
	BackupRetentionDays int `json:"backupRetentionDays,omitempty"`
	// CrossRegionSynchronous is the seed's synchronous_commit remote_apply
	// to the other region, off by default. On, every commit in the primary
	// region waits until the other region has applied it (zero data loss
	// on a region failover, at the cost of a cross-country round trip on
	// every write) and, because durability is then "required", writes stop
	// altogether while the other region or the link is down. Off, the
	// cross-region link is asynchronous with its lag alerted (target
	// < 5 s) and only the local synchronous quorum makes commits durable.
	CrossRegionSynchronous bool `json:"crossRegionSynchronous,omitempty"`
	// PromotionToken is the old primary's .status.demotionToken, set in
	// the stack of the region becoming primary, together with
	// tars:topology.postgresPrimary, during a controlled switchover
	// (README "Postgres switchover"). CloudNativePG waits until this
	// region has replayed the WAL up to the token's checkpoint, then
	// promotes: no data is lost and the old primary need not be rebuilt.
	// Without a token, a region that becomes primary is promoted at once
	// (the failover of a lost region). Remove it after the switchover.
	PromotionToken string `json:"promotionToken,omitempty"`

	// Region and PeerRegion are the logical regions ("us-east"); Primary
	// is tars:topology.postgresPrimary. Required.
	Region     string `json:"-"`
	PeerRegion string `json:"-"`
	Primary    string `json:"-"`
	// AwsRegion, AccountID and Partition place the bucket and the key.
	AwsRegion string `json:"-"`
	AccountID string `json:"-"`
	Partition string `json:"-"`
	// OIDC lets the instances' service account assume the backup role.
	OIDC cluster.OIDC `json:"-"`
	// StorageClass of the volumes (the cluster's Retain class: a deleted
	// claim leaves its volume). Required.
	StorageClass string `json:"-"`
	// Sources: the control plane calls the operator's webhook from
	// Sources.ControlPlane, the replication endpoint (an internal load
	// balancer) health-checks the status port from
	// Sources.InternalLoadBalancers. Both required.
	Sources netpol.Sources `json:"-"`
	// PeerVpcCidr is the other region's VPC, the only network admitted to
	// the replication endpoint. Required.
	PeerVpcCidr string `json:"-"`
	// Peer is what the other region's stack exports about its database;
	// nil while the other region has not deployed it. Without it the
	// primary region runs a primary without a standby region, and the
	// other region creates its bucket, key and endpoint but no database
	// (it has nothing to replicate from; also while Peer.Cluster is "").
	Peer *Peer `json:"-"`
	// AppPassword and ReplicationPassword are the passwords of Owner and
	// of the cross-region replication role: Pulumi secrets, the same in
	// both stacks (roles replicate with the data). Required.
	AppPassword         pulumi.StringInput `json:"-"`
	ReplicationPassword pulumi.StringInput `json:"-"`
	// ServiceDatabases are the platform's own databases on the cluster
	// (Grafana's), each with a login role of the same name that owns it.
	ServiceDatabases []ServiceDatabase `json:"-"`
	// DependsOn: the operator's and the plugin's releases wait for these
	// (cert-manager issues the plugin's certificates; the load balancer
	// controller provisions the replication endpoint). Required.
	DependsOn []pulumi.Resource `json:"-"`
	// MonitoringDependsOn is what installs the PodMonitor CRD. Required.
	MonitoringDependsOn []pulumi.Resource `json:"-"`
	// Tags go on the AWS resources.
	Tags map[string]string `json:"-"`
	// Keep protects the WAL bucket and its key, the namespace and the
	// Cluster (tars:protect); the Cluster and namespace are retained on
	// delete, since deleting either deletes the instances' claims.
	Keep keep.Keep `json:"-"`
}

// ServiceDatabase is a database and its owner role, both named Name.
type ServiceDatabase struct {
	// Name of the database and the role, e.g. "grafana". Required.
	Name string
	// Password of the role: a Pulumi secret, the same in both stacks
	// (roles replicate with the data). Required.
	Password pulumi.StringInput
	// ConnectionLimit of the role. Required.
	ConnectionLimit int
	// ClientNamespace and ClientPodLabels select the pods the network
	// policy lets connect (from this region; the other region's connect
	// over the peering like the replication). Required.
	ClientNamespace string
	ClientPodLabels map[string]string
}

// ServiceSecret is the basic-auth Secret of a service database's role.
func ServiceSecret(database string) string { return "tars-pg-" + database }

// Peer is the other region's database as its stack exports it.
type Peer struct {
	// AwsRegion and AccountID of the peer's bucket and key.
	AwsRegion string
	AccountID string
	// Bucket is the peer's WAL and backup bucket.
	Bucket string
	// Endpoint is the host name of the peer's internal replication
	// endpoint (an internal NLB reached over the VPC peering).
	Endpoint string
	// ServerCA is the peer's server CA certificate (PEM): the peer's
	// endpoint is verified against it (sslmode verify-full).
	ServerCA string
	// Cluster is the peer's Cluster, "" while the peer has no database
	// (its first deployment): the database then does not exist anywhere
	// yet, and only then does the primary region initialise it.
	Cluster string
}

// WithDefaults fills zero fields.
func (a Args) WithDefaults() Args {
	check.Default(&a.Namespace, DefaultNamespace)
	check.Default(&a.AppNamespace, DefaultAppNamespace)
	check.Default(&a.MonitoringNamespace, DefaultMonitoringNamespace)
	check.Default(&a.Instances, DefaultInstances)
	check.Default(&a.Database, DefaultDatabase)
	check.Default(&a.Owner, DefaultOwner)
	check.Default(&a.StorageGiB, DefaultStorageGiB)
	check.Default(&a.WalStorageGiB, DefaultWalStorageGiB)
	check.Default(&a.CPURequest, DefaultCPURequest)
	check.Default(&a.CPULimit, DefaultCPULimit)
	check.Default(&a.MemoryMB, DefaultMemoryMB)
	check.Default(&a.MaxConnections, DefaultMaxConnections)
	check.Default(&a.BackupRetentionDays, DefaultBackupRetentionDays)
	return a
}

// Validate returns every problem, paths in the config spelling.
func (a Args) Validate() error {
	var p check.Problems
	a.validateConfig(&p)
	for _, f := range []struct{ field, v string }{{"accountId", a.AccountID}, {"partition", a.Partition}} {
		if f.v == "" {
			p.Addf(f.field, "is required")
		}
	}
	if a.Peer != nil {
		for _, f := range []struct{ field, v string }{{"awsRegion", a.Peer.AwsRegion}, {"accountId", a.Peer.AccountID}, {"bucket", a.Peer.Bucket}, {"endpoint", a.Peer.Endpoint}} {
			if f.v == "" {
				p.Addf("peer."+f.field, "is empty")
			}
		}
		if err := pki.ParseCACert(a.Peer.ServerCA); err != nil {
			p.Addf("peer.serverCA", "%v", err)
		}
	}
	for _, f := range []struct {
		field string
		v     []string
	}{{"sources.controlPlane", a.Sources.ControlPlane}, {"sources.internalLoadBalancers", a.Sources.InternalLoadBalancers}} {
		if len(f.v) == 0 {
			p.Addf(f.field, "is required")
		}
		for _, c := range f.v {
			if _, err := check.IPv4Prefix(c); err != nil {
				p.Addf(f.field, "(%q) %v", c, err)
			}
		}
	}
	if a.AppPassword == nil || a.ReplicationPassword == nil {
		p.Addf("appPassword", "and replicationPassword are required (Pulumi secrets)")
	}
	if len(a.DependsOn) == 0 || len(a.MonitoringDependsOn) == 0 {
		p.Addf("dependsOn", "must name cert-manager's release and monitoringDependsOn what installs the PodMonitor CRD")
	}
	seen := map[string]bool{a.Owner: true, a.Database: true, ReplicationUser: true, "postgres": true, "streaming_replica": true}
	for i, sd := range a.ServiceDatabases {
		f := fmt.Sprintf("serviceDatabases[%d]", i)
		switch {
		case !pgIdentifier(sd.Name):
			p.Addf(f+".name", "(%q) must be a lower-case identifier", sd.Name)
		case seen[sd.Name]:
			p.Addf(f+".name", "(%q) is already a database or role of the cluster", sd.Name)
		}
		seen[sd.Name] = true
		if sd.Password == nil {
			p.Addf(f+".password", "is required (a Pulumi secret)")
		}
		if sd.ConnectionLimit < 1 {
			p.Addf(f+".connectionLimit", "(%d) must be at least 1", sd.ConnectionLimit)
		}
		if !check.DNSLabel(sd.ClientNamespace, 63) || len(sd.ClientPodLabels) == 0 {
			p.Addf(f+".clientNamespace", "(%q) and clientPodLabels (%v) must select the database's clients", sd.ClientNamespace, sd.ClientPodLabels)
		}
	}
	return p.Err()
}

// ValidateConfig checks what the stack config decides (the json fields
// and the topology), before anything is created.
func (a Args) ValidateConfig() error {
	var p check.Problems
	a.validateConfig(&p)
	return p.Err()
}

func (a Args) validateConfig(p *check.Problems) {
	for _, f := range []struct{ field, v string }{{"namespace", a.Namespace}, {"appNamespace", a.AppNamespace}, {"monitoringNamespace", a.MonitoringNamespace}} {
		if !check.DNSLabel(f.v, 63) {
			p.Addf(f.field, "(%q) must be a Kubernetes namespace name", f.v)
		}
	}
	if a.Instances < 3 {
		p.Addf("instances", "(%d) must be at least 3: the synchronous quorum needs a local standby left when one is lost", a.Instances)
	}
	for _, f := range []struct{ field, v string }{{"database", a.Database}, {"owner", a.Owner}} {
		if !pgIdentifier(f.v) {
			p.Addf(f.field, "(%q) must be a lower-case PostgreSQL identifier (letters, digits, _; at most 63)", f.v)
		}
	}
	if a.Owner == ReplicationUser || a.Owner == "postgres" || strings.HasPrefix(a.Owner, "cnpg_") || a.Owner == "streaming_replica" {
		p.Addf("owner", "(%q) is a role the operator or the replication uses", a.Owner)
	}
	if a.StorageGiB < 10 {
		p.Addf("storageGiB", "(%d) must be at least 10", a.StorageGiB)
	}
	if a.WalStorageGiB < 5 {
		p.Addf("walStorageGiB", "(%d) must be at least 5", a.WalStorageGiB)
	}
	req, reqErr := cpuMilli(a.CPURequest)
	lim, limErr := cpuMilli(a.CPULimit)
	switch {
	case reqErr != nil:
		p.Addf("cpuRequest", "(%q) %v", a.CPURequest, reqErr)
	case req < MinCPUMilli:
		p.Addf("cpuRequest", "(%q) is below the seed's VPA minimum of 1000m", a.CPURequest)
	}
	switch {
	case limErr != nil:
		p.Addf("cpuLimit", "(%q) %v", a.CPULimit, limErr)
	case lim > MaxCPUMilli:
		p.Addf("cpuLimit", "(%q) is above the seed's VPA maximum of 8000m", a.CPULimit)
	case reqErr == nil && lim < req:
		p.Addf("cpuLimit", "(%q) is below cpuRequest (%q)", a.CPULimit, a.CPURequest)
	}
	if a.MemoryMB < MinMemoryMB || a.MemoryMB > MaxMemoryMB {
		p.Addf("memoryMb", "(%d) must be within the seed's VPA bounds, 2048 to 16384", a.MemoryMB)
	}
	if a.MaxConnections < 20 || a.MaxConnections > 5000 {
		p.Addf("maxConnections", "(%d) must be between 20 and 5000", a.MaxConnections)
	}
	if a.BackupRetentionDays < DefaultBackupRetentionDays {
		p.Addf("backupRetentionDays", "(%d) must be at least %d (seed 003: backups are kept %d days)", a.BackupRetentionDays, DefaultBackupRetentionDays, DefaultBackupRetentionDays)
	}
	if a.PromotionToken != "" {
		if err := checkPromotionToken(a.PromotionToken); err != nil {
			p.Addf("promotionToken", "is not a CloudNativePG demotion token: %v (copy .status.demotionToken of the old primary's Cluster)", err)
		} else if a.Primary != a.Region {
			p.Addf("promotionToken", "is set, but this region (%s) is not tars:topology.postgresPrimary (%s): the token belongs in the stack of the region being promoted; remove it here", a.Region, a.Primary)
		}
	}
	if a.Region == "" || a.PeerRegion == "" || a.Region == a.PeerRegion {
		p.Addf("region", "(%q, peer %q) must name two different regions", a.Region, a.PeerRegion)
	}
	if a.Primary != a.Region && a.Primary != a.PeerRegion {
		p.Addf("primary", "(%q) must be this region (%s) or its peer (%s)", a.Primary, a.Region, a.PeerRegion)
	}
	for _, f := range []struct{ field, v string }{{"awsRegion", a.AwsRegion}, {"storageClass", a.StorageClass}} {
		if f.v == "" {
			p.Addf(f.field, "is required")
		}
	}
	if _, err := check.IPv4Prefix(a.PeerVpcCidr); err != nil {
		p.Addf("peerVpcCidr", "(%q) %v", a.PeerVpcCidr, err)
	}
}

// IsPrimary reports whether this region runs the primary.
func (a Args) IsPrimary() bool { return a.Primary == a.Region }

// peerHasDatabase reports whether the other region runs the database.
func (a Args) peerHasDatabase() bool { return a.Peer != nil && a.Peer.Cluster != "" }

// HasDatabase reports whether this region runs a Cluster: the primary
// always; the other region once the primary region runs one.
func (a Args) HasDatabase() bool { return a.IsPrimary() || a.peerHasDatabase() }

// Initialises reports whether this region creates the database from
// nothing (initdb): only the primary region, and only while the other
// region has none, i.e. on the first deployment. Every other Cluster is
// created by recovery from the primary's object store, so a region rebuilt
// while the other holds the data never starts empty.
func (a Args) Initialises() bool { return a.IsPrimary() && !a.peerHasDatabase() }

// Sizing is what pgconf derives the memory settings from.
func (a Args) Sizing() pgconf.Sizing {
	return pgconf.Sizing{MemoryMB: a.MemoryMB, MaxConnections: a.MaxConnections, RemoteApply: a.CrossRegionSynchronous}
}

// ClusterName is the name of a region's Cluster, also its name in the
// distributed topology (externalClusters, replica.self/primary/source),
// its server name in the object stores and its application_name when it
// streams from the other region.
func ClusterName(region string) string { return "tars-pg-" + region }

// BucketName is a region's WAL and backup bucket: S3 names are global, so
// the account and AWS region make it unique.
func BucketName(accountID, awsRegion string) string {
	return fmt.Sprintf("tars-pg-wal-%s-%s", accountID, awsRegion)
}

func pgIdentifier(s string) bool {
	if s == "" || len(s) > 63 || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// cpuMilli reads a Kubernetes CPU quantity ("2", "1500m", "0.5").
func cpuMilli(q string) (int, error) {
	if m, ok := strings.CutSuffix(q, "m"); ok {
		v, err := strconv.Atoi(m)
		if err != nil || v <= 0 {
			return 0, fmt.Errorf("must be a CPU quantity like 1000m or 2")
		}
		return v, nil
	}
	f, err := strconv.ParseFloat(q, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("must be a CPU quantity like 1000m or 2")
	}
	return int(f * 1000), nil
}

// checkPromotionToken decodes a demotion token as CloudNativePG 1.30.0
// writes it (pkg/utils/parser.go PgControldataTokenContent: base64 JSON)
// and checks the fields its IsValid requires.
func checkPromotionToken(tok string) error {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(tok))
	if err != nil {
		return fmt.Errorf("not base64: %v", err)
	}
	var content map[string]any
	if err := json.Unmarshal(raw, &content); err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	for _, k := range []string{"latestCheckpointTimelineID", "redoWalFile", "databaseSystemIdentifier", "latestCheckpointREDOLocation", "timeOfLatestCheckpoint", "operatorVersion"} {
		if s, _ := content[k].(string); s == "" {
			return fmt.Errorf("it has no %s", k)
		}
	}
	return nil
}
