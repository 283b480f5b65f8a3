package cluster

import (
	"fmt"
	"github.com/tars-platform/infra/internal/keep"
	"github.com/tars-platform/infra/slo"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/internal/check"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Defaults, applied by Args.withDefaults when a field is left at its zero value.
const (
	// DefaultAvailabilityZones is how many AZs the VPC spans; the seed's HA
	// story (anti-affinity, zone spread) assumes three.
	DefaultAvailabilityZones = 3
	// DefaultLogRetentionDays keeps control-plane logs for 90 days.
	DefaultLogRetentionDays = slo.ControlPlaneLogRetentionDays
	// DefaultDiskSizeGiB is the gp3 root volume of each node.
	DefaultDiskSizeGiB = 100
	// DefaultCapacityType buys on-demand nodes.
	DefaultCapacityType = "ON_DEMAND"
	// NodeMetadataHopLimit is the IMDSv2 response hop limit of every node.
	NodeMetadataHopLimit = 1
	// DefaultKMSDeletionWindowDays is the KMS keys' pending-deletion
	// window: slo.KMSDeletionWindowDays.
	DefaultKMSDeletionWindowDays = slo.KMSDeletionWindowDays
)

// NAT gateway layouts.
const (
	// NatPerAZ gives each AZ its own NAT gateway: losing one AZ does not cut
	// the others off from the internet. The default.
	NatPerAZ = "perAz"
	// NatSingle shares one NAT gateway across AZs: cheaper (one hourly charge
	// instead of three), at the price of a single point of failure.
	NatSingle = "single"
)

// Node group scaling the seed asks for (Phase 7: "Dynamic node scaling (3-20 nodes)").
const (
	SeedMinNodes = 3
	SeedMaxNodes = 20
)

// NodeGroup is one EKS managed node group. Its name is part of every child
// resource name, so renaming a group replaces it.
type NodeGroup struct {
	// Name is a DNS label, unique within the cluster. Required.
	Name string `json:"name"`
	// InstanceTypes, first preferred. Required.
	InstanceTypes []string `json:"instanceTypes"`
	// CapacityType is ON_DEMAND or SPOT. Default DefaultCapacityType.
	CapacityType string `json:"capacityType,omitempty"`
	// MinSize and MaxSize bound the Cluster Autoscaler. Required.
	MinSize int `json:"minSize"`
	MaxSize int `json:"maxSize"`
	// DesiredSize is used only when the group is created; afterwards the
	// Cluster Autoscaler owns it and Pulumi ignores drift. Default MinSize.
	DesiredSize int `json:"desiredSize,omitempty"`
	// DiskSizeGiB is the encrypted gp3 root volume. Default DefaultDiskSizeGiB.
	DiskSizeGiB int `json:"diskSizeGiB,omitempty"`
	// Labels are Kubernetes node labels.
	Labels map[string]string `json:"labels,omitempty"`

	// Set for the GPU pool only (GPUPool.nodeGroup): the AMI type ("":
	// EKS's default for the instance type), taints, and the autoscaler's
	// node-template tags on the Auto Scaling group.
	amiType      string
	taints       []taint
	templateTags map[string]string
}

// PeerPort is a TCP port the peer region's VPC CIDR may reach on this
// cluster's nodes. Components that serve cross-region traffic name theirs.
type PeerPort struct {
	Name string // e.g. "postgres"; part of the security-group rule name
	Port int
}

// Args configures a region cluster. Fields with json tags are exactly the
// stack config object tars:cluster; the others are set by the caller.
type Args struct {
	// Name is the EKS cluster name. Required.
	Name string `json:"name"`
	// Version is the Kubernetes minor, e.g. "1.34". Default versions.KubernetesDefault.
	Version string `json:"version,omitempty"`
	// VpcCidr is the VPC's IPv4 block, /16 to /20. Required.
	VpcCidr string `json:"vpcCidr"`
	// AvailabilityZones is how many AZs to span (2 to 6). Default DefaultAvailabilityZones.
	AvailabilityZones int `json:"availabilityZones,omitempty"`
	// NatGateways is NatPerAZ or NatSingle. Default NatPerAZ.
	NatGateways string `json:"natGateways,omitempty"`
	// NodeGroups are the managed node groups. Required, at least one.
	NodeGroups []NodeGroup `json:"nodeGroups"`
	// GPU is the optional GPU node group (off by default).
	GPU GPUPool `json:"gpu,omitempty"`
	// AddonVersions overrides pinned EKS add-on versions by add-on name.
	// Default: versions.EKSAddons for Version.
	AddonVersions map[string]string `json:"addonVersions,omitempty"`
	// Admins get cluster-admin through EKS access entries, and nobody else
	// does: the identity that creates the cluster gets no hidden access.
	// Each is an IAM role name in the stack's account ("tars-platform-admin")
	// or a full IAM role or user ARN. The identity that runs `pulumi up` must
	// be one of them, or it cannot create the cluster's Kubernetes objects.
	// Required, at least one.
	Admins []string `json:"admins"`
	// EndpointPublicAccess also exposes the API endpoint on the internet,
	// limited to PublicAccessCidrs (operators' and CI's egress ranges); the
	// private endpoint is always on. Default false: only machines inside the
	// VPC (or peered/VPN-connected to it) reach the API. README, "Reaching
	// the cluster".
	EndpointPublicAccess bool     `json:"endpointPublicAccess,omitempty"`
	PublicAccessCidrs    []string `json:"publicAccessCidrs,omitempty"`
	// LogRetentionDays for the control-plane log group. Default DefaultLogRetentionDays.
	LogRetentionDays int `json:"logRetentionDays,omitempty"`

	// PeerCidr is the peer region's VPC block, admitted on PeerPorts only.
	// Empty: no peer rules.
	PeerCidr  string     `json:"-"`
	PeerPorts []PeerPort `json:"-"`
	// Tags are added to every AWS resource of the cluster.
	Tags map[string]string `json:"-"`
	// Keep protects the EKS cluster and its secrets key (tars:protect).
	Keep keep.Keep `json:"-"`

	// component is the component's name (set by New; nameTag).
	component string
}

// cloudWatchRetentionDays are the values CloudWatch Logs accepts.
var cloudWatchRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// WithDefaults returns a copy of a with every zero field set to its default.
func (a Args) WithDefaults() Args {
	if a.Version == "" {
		a.Version = versions.KubernetesDefault
	}
	if a.AvailabilityZones == 0 {
		a.AvailabilityZones = DefaultAvailabilityZones
	}
	if a.NatGateways == "" {
		a.NatGateways = NatPerAZ
	}
	if a.LogRetentionDays == 0 {
		a.LogRetentionDays = DefaultLogRetentionDays
	}
	groups := make([]NodeGroup, len(a.NodeGroups))
	for i, g := range a.NodeGroups {
		if g.CapacityType == "" {
			g.CapacityType = DefaultCapacityType
		}
		if g.DesiredSize == 0 {
			g.DesiredSize = g.MinSize
		}
		if g.DiskSizeGiB == 0 {
			g.DiskSizeGiB = DefaultDiskSizeGiB
		}
		groups[i] = g
	}
	a.NodeGroups = groups
	if a.GPU.Enabled {
		a.GPU = a.GPU.WithDefaults()
	}
	addons := map[string]string{}
	for _, name := range Addons {
		if v, ok := versions.Addon(a.Version, name); ok {
			addons[name] = v
		}
	}
	for k, v := range a.AddonVersions {
		addons[k] = v
	}
	a.AddonVersions = addons
	return a
}

// Validate checks defaulted args and returns every problem, each a
// check.Problem whose path uses the config spelling.
func (a Args) Validate() error {
	var p check.Problems
	if !check.DNSLabel(a.Name, 100) {
		p.Addf("name", "(%q) must be a lower-case DNS label of at most 100 characters", a.Name)
	}
	if !slices.Contains(supportedMinors(), a.Version) {
		p.Addf("version", "(%q) is not a supported Kubernetes minor; supported: %s", a.Version, strings.Join(supportedMinors(), ", "))
	}
	vpc, err := check.IPv4Prefix(a.VpcCidr)
	switch {
	case err != nil:
		p.Addf("vpcCidr", "(%q) %v", a.VpcCidr, err)
	case vpc.Bits() < 16 || vpc.Bits() > 20:
		p.Addf("vpcCidr", "(%s) must be between /16 and /20 so every AZ gets a /19-sized private subnet or smaller", a.VpcCidr)
	}
	if a.AvailabilityZones < 2 || a.AvailabilityZones > maxAZs {
		p.Addf("availabilityZones", "(%d) must be between 2 and %d (EKS needs subnets in two AZs)", a.AvailabilityZones, maxAZs)
	}
	if a.NatGateways != NatPerAZ && a.NatGateways != NatSingle {
		p.Addf("natGateways", "(%q) must be %q or %q", a.NatGateways, NatPerAZ, NatSingle)
	}
	a.validateNodeGroups(&p)
	a.validateAddons(&p)
	if len(a.Admins) == 0 {
		p.Addf("admins", "must name at least one IAM role (or user ARN) that administers the cluster, including the identity that runs `pulumi up`")
	}
	for i, admin := range a.Admins {
		if _, err := AdminPrincipal(admin, "aws", "123456789012"); err != nil {
			p.Addf(fmt.Sprintf("admins[%d]", i), "(%q) %v", admin, err)
		}
	}
	if a.EndpointPublicAccess && len(a.PublicAccessCidrs) == 0 {
		p.Addf("publicAccessCidrs", "must list the CIDRs allowed to reach the public endpoint when endpointPublicAccess is true (0.0.0.0/0 is not assumed)")
	}
	if !a.EndpointPublicAccess && len(a.PublicAccessCidrs) > 0 {
		p.Addf("publicAccessCidrs", "is set but endpointPublicAccess is false: the public endpoint is off, so the CIDRs would do nothing")
	}
	for i, c := range a.PublicAccessCidrs {
		pfx, err := check.IPv4Prefix(c)
		switch {
		case err != nil:
			p.Addf(fmt.Sprintf("publicAccessCidrs[%d]", i), "(%q) %v", c, err)
		case pfx.Bits() < 8:
			p.Addf(fmt.Sprintf("publicAccessCidrs[%d]", i), "(%q) opens the Kubernetes API to a /%d of the internet; list your egress ranges", c, pfx.Bits())
		}
	}
	if !slices.Contains(cloudWatchRetentionDays, a.LogRetentionDays) {
		p.Addf("logRetentionDays", "(%d) is not a CloudWatch Logs retention; use one of %v", a.LogRetentionDays, cloudWatchRetentionDays)
	}
	a.GPU.validate(&p)
	if a.GPU.Enabled && slices.ContainsFunc(a.NodeGroups, func(g NodeGroup) bool { return g.Name == GPUNodeGroupName }) {
		p.Addf("nodeGroups", "name %q is the GPU pool's (gpu.enabled)", GPUNodeGroupName)
	}
	a.validatePeer(&p, vpc)
	return p.Err()
}

func (a Args) validateNodeGroups(p *check.Problems) {
	if len(a.NodeGroups) == 0 {
		p.Addf("nodeGroups", "must list at least one node group")
	}
	seen := map[string]int{}
	totalMin := 0
	for i, g := range a.NodeGroups {
		s := p.At(fmt.Sprintf("nodeGroups[%d]", i))
		if !check.DNSLabel(g.Name, 40) {
			s.Addf("name", "(%q) must be a lower-case DNS label of at most 40 characters", g.Name)
		} else if j, dup := seen[g.Name]; dup {
			s.Addf("name", "(%q) repeats nodeGroups[%d].name", g.Name, j)
		}
		seen[g.Name] = i
		if len(g.InstanceTypes) == 0 {
			s.Addf("instanceTypes", "must list at least one EC2 instance type")
		}
		for j, t := range g.InstanceTypes {
			if !strings.Contains(t, ".") {
				s.Addf(fmt.Sprintf("instanceTypes[%d]", j), "(%q) is not an EC2 instance type like m5.xlarge", t)
			}
		}
		g.validateSizing(s)
		if g.DesiredSize < g.MinSize || g.DesiredSize > g.MaxSize {
			s.Addf("desiredSize", "(%d) must be between minSize (%d) and maxSize (%d)", g.DesiredSize, g.MinSize, g.MaxSize)
		}
		for _, k := range slices.Sorted(maps.Keys(g.Labels)) {
			if errs := validation.IsQualifiedName(k); len(errs) > 0 {
				s.Addf("labels", "key %q is not a Kubernetes label key: %s", k, strings.Join(errs, "; "))
			}
			if errs := validation.IsValidLabelValue(g.Labels[k]); len(errs) > 0 {
				s.Addf("labels."+k, "(%q) is not a Kubernetes label value: %s", g.Labels[k], strings.Join(errs, "; "))
			}
		}
		totalMin += g.MinSize
	}
	if len(a.NodeGroups) > 0 && totalMin < SeedMinNodes {
		p.Addf("nodeGroups", "minSize totals %d nodes; the platform needs at least %d for zone spread and quorum", totalMin, SeedMinNodes)
	}
}

func (a Args) validateAddons(p *check.Problems) {
	for _, name := range Addons {
		v, ok := a.AddonVersions[name]
		if !ok || v == "" {
			p.Addf("addonVersions."+name, "is not pinned for Kubernetes %s; set it (see `aws eks describe-addon-versions`)", a.Version)
			continue
		}
		if !strings.HasPrefix(v, "v") || !strings.Contains(v, "-eksbuild.") {
			p.Addf("addonVersions."+name, "(%q) is not an EKS add-on version like v1.20.4-eksbuild.1", v)
		}
	}
	for name := range a.AddonVersions {
		if !slices.Contains(Addons, name) {
			p.Addf("addonVersions."+name, "is not an add-on this cluster manages (%s)", strings.Join(Addons, ", "))
		}
	}
	// kube-proxy must run the control plane's minor.
	if v := a.AddonVersions[versions.AddonKubeProxy]; v != "" && !strings.HasPrefix(v, "v"+a.Version+".") {
		p.Addf("addonVersions."+versions.AddonKubeProxy, "(%q) does not match the cluster's Kubernetes version %s", v, a.Version)
	}
}

func (a Args) validatePeer(p *check.Problems, vpc netip.Prefix) {
	if a.PeerCidr == "" {
		if len(a.PeerPorts) > 0 {
			p.Addf("peerCidr", "must be set when peer ports are requested")
		}
		return
	}
	peer, err := check.IPv4Prefix(a.PeerCidr)
	if err != nil {
		p.Addf("peerCidr", "(%q) %v", a.PeerCidr, err)
		return
	}
	if vpc.IsValid() && peer.Overlaps(vpc) {
		p.Addf("peerCidr", "(%s) overlaps vpcCidr (%s); peered VPCs need disjoint blocks", a.PeerCidr, a.VpcCidr)
	}
	seen := map[string]bool{}
	for i, pp := range a.PeerPorts {
		if !check.DNSLabel(pp.Name, 30) || seen[pp.Name] {
			p.Addf(fmt.Sprintf("peerPorts[%d].name", i), "(%q) must be a unique DNS label", pp.Name)
		}
		seen[pp.Name] = true
		if pp.Port < 1 || pp.Port > 65535 {
			p.Addf(fmt.Sprintf("peerPorts[%d].port", i), "(%d) is not a TCP port", pp.Port)
		}
	}
}

func supportedMinors() []string {
	out := make([]string, 0, len(versions.EKSAddons))
	for k := range versions.EKSAddons {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// validateSizing checks what every node group and the GPU pool share:
// capacity type, size bounds and root volume.
func (g NodeGroup) validateSizing(s *check.Scope) {
	if g.CapacityType != "ON_DEMAND" && g.CapacityType != "SPOT" {
		s.Addf("capacityType", "(%q) must be ON_DEMAND or SPOT", g.CapacityType)
	}
	if g.MinSize < 0 {
		s.Addf("minSize", "(%d) must not be negative", g.MinSize)
	}
	if g.MaxSize < 1 {
		s.Addf("maxSize", "(%d) must be at least 1", g.MaxSize)
	}
	if g.MaxSize < g.MinSize {
		s.Addf("maxSize", "(%d) is below minSize (%d)", g.MaxSize, g.MinSize)
	}
	if g.DiskSizeGiB < 20 || g.DiskSizeGiB > 16384 {
		s.Addf("diskSizeGiB", "(%d) must be between 20 and 16384", g.DiskSizeGiB)
	}
}
