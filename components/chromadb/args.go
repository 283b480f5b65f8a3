package chromadb

import (
	"fmt"
	"github.com/tars-platform/infra/internal/keep"
	"regexp"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/internal/check"
)

// Defaults: seed 003 "ChromaDB 100Gi" per region, "Sync (15min)".
const (
	// DefaultStorageGi is the volume of the one ChromaDB member.
	DefaultStorageGi = 100
	// SyncSchedule: the primary snapshots and the other region restores
	// every 15 minutes (the restore runs 7 minutes after the snapshot so
	// it finds a finished one).
	SnapshotSchedule = "*/15 * * * *"
	RestoreSchedule  = "7-59/15 * * * *"
	// SyncDeadlineSeconds stops a sync before the next one is due: the
	// slot a restore reads is rewritten 30 minutes after it was written.
	SyncDeadlineSeconds = 14 * 60
	// Port is ChromaDB's HTTP port; HeartbeatPath its health endpoint.
	Port          = 8000
	HeartbeatPath = "/api/v2/heartbeat"
	// uid runs ChromaDB and the sync jobs; the volume is group-owned by it.
	uid = 1000
)

// Names of the objects (the runbooks name them).
const (
	StatefulSetName  = "chromadb"
	ServiceName      = "chromadb"
	HeadlessService  = "chromadb-headless"
	SnapshotCronJob  = "chromadb-snapshot"
	RestoreCronJob   = "chromadb-restore"
	SyncAccount      = "chromadb-sync"
	volumeClaim      = "data"
	prefix           = "chromadb"
	podName          = StatefulSetName + "-0"
	volumeClaimOfPod = volumeClaim + "-" + podName
)

// Role is what the region does in the cross-region sync.
type Role string

const (
	// RoleSnapshot: the primary region copies its ChromaDB to its bucket.
	RoleSnapshot Role = "snapshot"
	// RoleRestore: the other region restores the primary's newest copy.
	RoleRestore Role = "restore"
)

// Peer is the snapshotting region, read by the restoring one.
type Peer struct {
	// AwsRegion of the peer (us-east-1) and its ChromaDB Bucket.
	AwsRegion, Bucket string
}

// Args configures ChromaDB in one region.
type Args struct {
	// Namespace is the application's namespace (it exists; DependsOn holds
	// it). Its pods are the only clients admitted. Required.
	Namespace string
	// Region is the logical region ("us-east"). Required.
	Region string
	// Role in the sync; which region snapshots follows tars:topology. Required.
	Role Role
	// Peer is the snapshotting region's bucket, required for RoleRestore;
	// nil there means the peer has not deployed yet: no restore CronJob.
	Peer *Peer
	// StorageClass of the volume (the cluster's Retain class). Required.
	StorageClass string
	// StorageGi. Default DefaultStorageGi.
	StorageGi int
	// AccountID, AwsRegion, Partition and OIDC: the bucket and the sync
	// jobs' IRSA role. Required.
	AccountID, AwsRegion, Partition string
	OIDC                            cluster.OIDC
	// DependsOn: the namespace.
	DependsOn []pulumi.Resource
	Tags      map[string]string
	// Keep protects the snapshot bucket and its key, and the StatefulSet.
	Keep keep.Keep
}

// WithDefaults fills zero fields.
func (a Args) WithDefaults() Args {
	check.Default(&a.StorageGi, DefaultStorageGi)
	return a
}

var awsRegion = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)

// Validate reports every problem at once.
func (a Args) Validate() error {
	var p check.Problems
	if !check.DNSLabel(a.Namespace, 63) {
		p.Addf("namespace", "(%q) must be a Kubernetes namespace name", a.Namespace)
	}
	if !check.DNSLabel(a.Region, 20) {
		p.Addf("region", "(%q) must be a short lower-case name like us-east", a.Region)
	}
	switch a.Role {
	case RoleSnapshot:
	case RoleRestore:
		if a.Peer != nil && (!awsRegion.MatchString(a.Peer.AwsRegion) || !check.DNSLabel(a.Peer.Bucket, 63)) {
			p.Addf("peer", "(%+v) needs the snapshotting region's AWS region and bucket", *a.Peer)
		}
	default:
		p.Addf("role", "(%q) must be %q or %q", a.Role, RoleSnapshot, RoleRestore)
	}
	if a.StorageClass == "" {
		p.Addf("storageClass", "is required")
	}
	if a.StorageGi < 1 {
		p.Addf("storageGi", "(%d) must be at least 1", a.StorageGi)
	}
	if a.AccountID == "" || a.Partition == "" || !awsRegion.MatchString(a.AwsRegion) {
		p.Addf("awsRegion", "(%q), accountId (%q) and partition (%q) are required", a.AwsRegion, a.AccountID, a.Partition)
	}
	return p.Err()
}

// BucketName is the region's snapshot bucket.
func BucketName(accountID, awsRegion string) string {
	return fmt.Sprintf("tars-chromadb-%s-%s", accountID, awsRegion)
}
