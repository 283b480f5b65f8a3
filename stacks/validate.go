package stacks

import (
	"regexp"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/internal/check"
	"github.com/tars-platform/infra/slo"
)

// awsRegionPattern matches commercial and GovCloud region names (us-east-1, us-gov-west-1).
var awsRegionPattern = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`)

// Validate checks the whole defaulted config and returns every problem, each
// naming its full key path ("tars:cluster.nodeGroups[1].maxSize (2) is below
// minSize (3)").
func (c Config) Validate() error {
	var p check.Problems
	if !awsRegionPattern.MatchString(c.AwsRegion) {
		p.Addf(KeyAwsRegion, "(%q) is not an AWS region like us-east-1", c.AwsRegion)
	}
	c.Topology.validate(&p)
	p.Merge(KeyCluster+".", c.Cluster.Validate())
	p.Merge(KeyAlerting+".", c.alertingArgs().Validate())
	p.Merge(KeyRedis+".", c.Redis.Validate())
	p.Merge(KeyPostgres+".", c.Postgres.ValidateConfig())
	p.Merge(KeyDNS+".", c.DNS.ValidateConfig())
	p.Merge(KeyGrafana+".", c.grafanaArgs(nil, "", 0).ValidateConfig())
	if _, err := versions.AutoscalerImage(c.Cluster.Version); err != nil && c.Cluster.Version != "" {
		p.Addf(KeyCluster+".version", "%v", err)
	}
	if c.PagerDuty.Enabled {
		a := c.oncallArgs()
		if a.Token == nil {
			p.Addf(KeyPagerDutyToken, "is not set, but %s.enabled is true: run `pulumi config set --secret %s <PagerDuty API token>`", KeyPagerDuty, KeyPagerDutyToken)
			a.Token = pulumi.String("")
		}
		p.Merge(KeyPagerDuty+".people.", a.Validate())
	}
	if c.DNS.Cloudflare.Enabled && c.CloudflareAPIToken == nil {
		p.Addf(KeyCloudflareToken, "is not set, but %s.cloudflare.enabled is true: run `pulumi config set --secret %s <token>`", KeyDNS, KeyCloudflareToken)
	}
	if d := c.DNS.WithDefaults().Backend.Namespace; d != slo.LogNamespace {
		p.Addf(KeyDNS+".backend.namespace", "(%q) must be %q: the log alerts and tarsctl verify's loki-logs read the services' logs from namespace %q (slo.LogNamespace)", d, slo.LogNamespace, slo.LogNamespace)
	}
	if r, d := c.Redis.WithDefaults().AppNamespace, c.DNS.WithDefaults().Backend.Namespace; r != d {
		p.Addf(KeyRedis+".appNamespace", "(%q) must be the services' namespace %s.backend.namespace (%q): only it may connect, and it gets the Redis CA", r, KeyDNS, d)
	}
	if vpc, err := check.IPv4Prefix(c.Cluster.VpcCidr); err == nil {
		if peer, err := check.IPv4Prefix(c.Topology.PeerVpcCidr); err == nil && vpc.Overlaps(peer) {
			p.Addf(KeyTopology+".peerVpcCidr", "(%s) overlaps %s.vpcCidr (%s); peered VPCs need disjoint blocks", c.Topology.PeerVpcCidr, KeyCluster, c.Cluster.VpcCidr)
		}
	}
	return p.Err()
}

func (t Topology) validate(p *check.Problems) {
	s := p.At(KeyTopology)
	if !check.DNSLabel(t.Region, 20) {
		s.Addf("region", "(%q) must be a short lower-case name like us-east", t.Region)
	}
	if !check.DNSLabel(t.PeerRegion, 20) {
		s.Addf("peerRegion", "(%q) must be a short lower-case name like us-west", t.PeerRegion)
	} else if t.PeerRegion == t.Region {
		s.Addf("peerRegion", "(%q) must differ from region", t.PeerRegion)
	}
	if t.PeerStack == "" {
		s.Addf("peerStack", "must name the peer region's stack, e.g. %q", t.PeerRegion)
	}
	if _, err := check.IPv4Prefix(t.PeerVpcCidr); err != nil {
		s.Addf("peerVpcCidr", "(%q) %v", t.PeerVpcCidr, err)
	}
	for _, f := range []struct{ field, value string }{
		{"singletonsOwner", t.SingletonsOwner},
		{"postgresPrimary", t.PostgresPrimary},
		{"dnsPrimary", t.DNSPrimary},
	} {
		if f.value != t.Region && f.value != t.PeerRegion {
			s.Addf(f.field, "(%q) must be region (%q) or peerRegion (%q)", f.value, t.Region, t.PeerRegion)
		}
	}
}
