package redis

import (
	"fmt"
	"github.com/tars-platform/infra/internal/keep"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/internal/check"
)

// Defaults: seed 003 "Redis Cluster Configuration".
const (
	DefaultNamespace           = "tars-data"
	DefaultAppNamespace        = "tars"
	DefaultMonitoringNamespace = "monitoring"
	DefaultMasters             = 3
	DefaultReplicasPerMaster   = 1
	DefaultNodeTimeoutMs       = 5000 // cluster-node-timeout
	DefaultMaxmemoryMB         = 1536
	DefaultMaxmemoryPolicy     = "allkeys-lru"
	// DefaultMemoryLimitMB leaves a third of maxmemory for the AOF rewrite
	// fork's copy-on-write pages and buffers.
	DefaultMemoryLimitMB = 2048
	DefaultCPURequest    = "250m"
	DefaultCPULimit      = "1"
	DefaultStorageGiB    = 20
	// MinHeadroomRatio: maxmemory may use at most this share of the limit.
	MinHeadroomRatio = 0.75
	// ProbePeriodSeconds: "health checks every 10 seconds".
	ProbePeriodSeconds = 10
	Port               = 6379
	BusPort            = 16379
	ExporterPort       = 9121
)

var maxmemoryPolicies = []string{"allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu", "allkeys-random", "volatile-random", "volatile-ttl", "noeviction"}

// Args configures the Redis Cluster. Fields with json tags are exactly the
// stack config object tars:redis.
type Args struct {
	// Namespace of the cluster. Default DefaultNamespace (created here).
	Namespace string `json:"namespace,omitempty"`
	// AppNamespace is the only namespace whose pods may connect. Default DefaultAppNamespace.
	AppNamespace string `json:"appNamespace,omitempty"`
	// MonitoringNamespace may scrape the exporter. Default DefaultMonitoringNamespace.
	MonitoringNamespace string `json:"monitoringNamespace,omitempty"`
	// Nodes is the StatefulSet size; it must be masters × (1 + replicasPerMaster). Default 6.
	Nodes int `json:"nodes,omitempty"`
	// Masters (≥ 3, Redis Cluster's quorum) and ReplicasPerMaster (cluster-replicas). Defaults 3 and 1.
	Masters           int `json:"masters,omitempty"`
	ReplicasPerMaster int `json:"replicasPerMaster,omitempty"`
	// NodeTimeoutMs is cluster-node-timeout. Default DefaultNodeTimeoutMs.
	NodeTimeoutMs int `json:"nodeTimeoutMs,omitempty"`
	// MaxmemoryMB and MaxmemoryPolicy. Defaults 1536 and allkeys-lru.
	MaxmemoryMB     int    `json:"maxmemoryMb,omitempty"`
	MaxmemoryPolicy string `json:"maxmemoryPolicy,omitempty"`
	// MemoryLimitMB is the container's memory request and limit. Default 2048.
	MemoryLimitMB int `json:"memoryLimitMb,omitempty"`
	// CPURequest and CPULimit. Defaults 250m and 1.
	CPURequest string `json:"cpuRequest,omitempty"`
	CPULimit   string `json:"cpuLimit,omitempty"`
	// StorageGiB is the data volume per pod. Default 20.
	StorageGiB int `json:"storageGiB,omitempty"`

	// StorageClass for the PVCs (the cluster's Retain class: a deleted
	// claim leaves its volume). Required.
	StorageClass string `json:"-"`
	// Keep protects the StatefulSet and the namespace, whose deletion
	// deletes the members' claims (tars:protect).
	Keep keep.Keep `json:"-"`
	// Password is the auth secret; nil generates one (random, 32 characters).
	Password pulumi.StringInput `json:"-"`
	// ZoneSubnets maps each availability zone to the private subnet its
	// nodes' pods take addresses from (cluster.Cluster.PrivateSubnetCIDRs):
	// the formation script tells members' zones by their addresses, to put
	// masters in distinct zones and each replica in another zone than its
	// master. Empty: zones are not considered.
	ZoneSubnets map[string]string `json:"-"`
	// MonitoringDependsOn is what the ServiceMonitor waits for: the release
	// that installs prometheus-operator's CRDs (monitoring.Monitoring.Ready).
	// Required: a ServiceMonitor created before its CRD fails `pulumi up`.
	MonitoringDependsOn []pulumi.Resource `json:"-"`
	// CertManagerDependsOn is cert-manager's release (addons.Addons.CertManager):
	// it installs the Issuer and Certificate CRDs and issues the members'
	// TLS certificate. Required: the members start only with it.
	CertManagerDependsOn []pulumi.Resource `json:"-"`
	// AppNamespaceDependsOn is the application namespace's Namespace
	// resource (apps.Namespace.Resource, never the component): the
	// ConfigMap of the CA certificate (CAConfigMapName) is created in it.
	// Empty: nothing orders the ConfigMap after the namespace, and `pulumi
	// up` on a new cluster fails if the namespace does not exist yet.
	AppNamespaceDependsOn []pulumi.Resource `json:"-"`
}

// WithDefaults fills zero fields.
func (a Args) WithDefaults() Args {
	check.Default(&a.Namespace, DefaultNamespace)
	check.Default(&a.AppNamespace, DefaultAppNamespace)
	check.Default(&a.MonitoringNamespace, DefaultMonitoringNamespace)
	check.Default(&a.Masters, DefaultMasters)
	check.Default(&a.ReplicasPerMaster, DefaultReplicasPerMaster)
	check.Default(&a.Nodes, a.Masters*(1+a.ReplicasPerMaster))
	check.Default(&a.NodeTimeoutMs, DefaultNodeTimeoutMs)
	check.Default(&a.MaxmemoryMB, DefaultMaxmemoryMB)
	check.Default(&a.MaxmemoryPolicy, DefaultMaxmemoryPolicy)
	check.Default(&a.MemoryLimitMB, DefaultMemoryLimitMB)
	check.Default(&a.CPURequest, DefaultCPURequest)
	check.Default(&a.CPULimit, DefaultCPULimit)
	check.Default(&a.StorageGiB, DefaultStorageGiB)
	return a
}

// Validate returns every problem, paths in the config spelling.
func (a Args) Validate() error {
	var p check.Problems
	for _, f := range []struct{ field, v string }{{"namespace", a.Namespace}, {"appNamespace", a.AppNamespace}, {"monitoringNamespace", a.MonitoringNamespace}} {
		if !check.DNSLabel(f.v, 63) {
			p.Addf(f.field, "(%q) must be a Kubernetes namespace name", f.v)
		}
	}
	for _, z := range sortedZones(a.ZoneSubnets) {
		if _, err := check.IPv4Prefix(a.ZoneSubnets[z]); err != nil || !check.DNSLabel(z, 63) {
			p.Addf("zoneSubnets."+z, "(%q) must map a zone name to its private subnet's CIDR", a.ZoneSubnets[z])
		}
	}
	if a.Masters < 3 {
		p.Addf("masters", "(%d) must be at least 3: Redis Cluster needs a majority of masters to fail over", a.Masters)
	}
	if a.ReplicasPerMaster < 1 {
		p.Addf("replicasPerMaster", "(%d) must be at least 1 or a lost master loses its slots", a.ReplicasPerMaster)
	}
	if want := a.Masters * (1 + a.ReplicasPerMaster); a.Nodes != want {
		p.Addf("nodes", "(%d) must equal masters × (1 + replicasPerMaster) = %d × (1 + %d) = %d", a.Nodes, a.Masters, a.ReplicasPerMaster, want)
	}
	if a.NodeTimeoutMs < 1000 || a.NodeTimeoutMs > 60000 {
		p.Addf("nodeTimeoutMs", "(%d) must be between 1000 and 60000", a.NodeTimeoutMs)
	}
	if a.MaxmemoryMB < 64 {
		p.Addf("maxmemoryMb", "(%d) must be at least 64", a.MaxmemoryMB)
	}
	if limit := float64(a.MemoryLimitMB) * MinHeadroomRatio; float64(a.MaxmemoryMB) > limit {
		p.Addf("maxmemoryMb", "(%d) leaves no headroom for the AOF rewrite under memoryLimitMb (%d): at most %.0f (%.0f%% of the limit)",
			a.MaxmemoryMB, a.MemoryLimitMB, limit, MinHeadroomRatio*100)
	}
	found := false
	for _, pol := range maxmemoryPolicies {
		found = found || pol == a.MaxmemoryPolicy
	}
	if !found {
		p.Addf("maxmemoryPolicy", "(%q) must be one of %s", a.MaxmemoryPolicy, strings.Join(maxmemoryPolicies, ", "))
	}
	if a.StorageGiB < 1 {
		p.Addf("storageGiB", "(%d) must be at least 1", a.StorageGiB)
	}
	for _, f := range []struct{ field, v string }{{"cpuRequest", a.CPURequest}, {"cpuLimit", a.CPULimit}} {
		if strings.TrimSpace(f.v) == "" || strings.ContainsAny(f.v, " ,") {
			p.Addf(f.field, "(%q) must be a Kubernetes CPU quantity like 250m", f.v)
		}
	}
	if a.StorageClass == "" {
		p.Addf("storageClass", "is required")
	}
	return p.Err()
}

func (a Args) headlessService() string { return "redis-headless" }

// Hostname is the stable DNS name a member announces.
func (a Args) Hostname(i int) string {
	return fmt.Sprintf("redis-%d.%s.%s.svc.cluster.local", i, a.headlessService(), a.Namespace)
}

func sortedZones(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for z := range m {
		out = append(out, z)
	}
	slices.Sort(out)
	return out
}
