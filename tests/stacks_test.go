package tests

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/stacks"
	"github.com/tars-platform/infra/tests/harness"
)

// TestContractBothStacksExportWhatThePeerReads runs both real stacks: each
// exports every region output, the peering requester also its connection,
// and every name a role reads from its peer is one the peer exports —
// also after a DR switchover flips the owner and primary fields in both
// files, which must not change who requests the peering.
func TestContractBothStacksExportWhatThePeerReads(t *testing.T) {
	check := func(t *testing.T, opts ...harness.Option) {
		exports := map[string][]string{}
		roles := map[string]stacks.PeeringRole{}
		for _, stack := range Stacks {
			g := mustRun(t, stack, opts...)
			exports[stack] = g.Exports
			roles[stack] = stacks.PeeringAccepter
			if slices.Contains(g.Exports, stacks.OutPeeringConnectionID) {
				roles[stack] = stacks.PeeringRequester
			}
			for _, k := range stacks.RegionOutputs {
				assert.Contains(t, g.Exports, k, "%s must export %s", stack, k)
			}
		}
		require.Equal(t, stacks.PeeringRequester, roles["us-east"], "us-east requests the peering")
		require.Equal(t, stacks.PeeringAccepter, roles["us-west"])
		for reader, peer := range map[string]string{"us-east": "us-west", "us-west": "us-east"} {
			for _, k := range stacks.PeerReads[roles[reader]] {
				assert.Contains(t, exports[peer], k, "%s reads %s from %s, which does not export it", reader, k, peer)
			}
		}
	}
	t.Run("as deployed", func(t *testing.T) { check(t) })
	t.Run("after a switchover to us-west", func(t *testing.T) {
		var flip []harness.Option
		for _, f := range []string{"singletonsOwner", "postgresPrimary", "dnsPrimary"} {
			flip = append(flip, harness.WithConfig("tars:topology."+f, "us-west"))
		}
		check(t, flip...)
	})
}

// TestContractReadsAreDeclared: a stack reading an undeclared or missing
// peer output fails with a message that says what to do.
func TestContractReadsAreDeclared(t *testing.T) {
	_, err := harness.Run("us-east", harness.WithPeerOutputs(map[string]any{stacks.OutRegion: "us-west"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `peer stack us-west does not export "awsRegion"; run `+"`pulumi up -s us-west`"+` first`)

	peer := peerOutputs(t)
	peer[stacks.OutVpcCidr] = "10.99.0.0/16"
	_, err = harness.Run("us-east", harness.WithPeerOutputs(peer))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "peer stack us-west has VPC 10.99.0.0/16, but tars:topology.peerVpcCidr is 10.20.0.0/16")
}

// TestContractGuardRefusesAnUndeclaredRead: the guard in
// stacks/peer.go refuses a peer output the role's PeerReads does not list.
// The program reads only declared names, so the test takes one name out of
// the requester's list (restored after; the test is not parallel) and
// expects the read that needs it to fail, naming the output and the file.
func TestContractGuardRefusesAnUndeclaredRead(t *testing.T) {
	peer := peerOutputs(t)
	saved := stacks.PeerReads[stacks.PeeringRequester]
	t.Cleanup(func() { stacks.PeerReads[stacks.PeeringRequester] = saved })
	var without []string
	for _, k := range saved {
		if k != stacks.OutVpcCidr {
			without = append(without, k)
		}
	}
	stacks.PeerReads[stacks.PeeringRequester] = without
	_, err := harness.Run("us-east", harness.WithPeerOutputs(peer))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `peer stack us-west: output "vpcCidr" is not in this role's PeerReads (stacks/contract.go)`)
}

func peerOutputs(t *testing.T) map[string]any {
	t.Helper()
	g := mustRun(t, "us-east")
	ref := one(t, g, "pulumi:pulumi:StackReference", "us-west")
	require.Equal(t, "us-west", ref.Input("name"))
	cfg, err := harness.LoadStackConfig("..", "us-west")
	require.NoError(t, err)
	return map[string]any{
		stacks.OutRegion: "us-west", stacks.OutAwsRegion: cfg.Values["aws:region"], stacks.OutAccountID: harness.MockAccountID,
		stacks.OutVpcID: "vpc-0123", stacks.OutVpcCidr: "10.20.0.0/16",
	}
}

// TestPeeringEachStackOwnsItsSide: us-east requests the connection to
// us-west's VPC and routes its private subnets to it; us-west accepts that
// connection (found in its own region by the two VPC blocks) and routes
// its own. No stack has a provider for, or a resource in, the other
// region, so a lost region never blocks the survivor's `pulumi up`.
func TestPeeringEachStackOwnsItsSide(t *testing.T) {
	east := mustRun(t, "us-east")
	conn := one(t, east, "aws:ec2/vpcPeeringConnection:VpcPeeringConnection", "us-east-to-us-west")
	assert.Equal(t, "us-west-2", conn.Input("peerRegion"))
	assert.Equal(t, harness.MockAccountID, conn.Input("peerOwnerId"))
	assert.Empty(t, east.ByType("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"))
	connID := harness.MockID("aws:ec2/vpcPeeringConnection:VpcPeeringConnection", "us-east-to-us-west")

	west := mustRun(t, "us-west")
	acc := one(t, west, "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter", "us-west-to-us-east")
	assert.Equal(t, connID, acc.Input("vpcPeeringConnectionId"), "us-west accepts the connection us-east requested")
	assert.Equal(t, true, acc.Input("autoAccept"))
	assert.Empty(t, west.ByType("aws:ec2/vpcPeeringConnection:VpcPeeringConnection"))
	// The accepter reads its peer only once the peer has requested the
	// peering (so the peer stack exists), and then only its database.
	ref := one(t, west, "pulumi:pulumi:StackReference", "us-east")
	assert.Equal(t, "us-east", ref.Input("name"))

	for stack, g := range map[string]*harness.Graph{"us-east": east, "us-west": west} {
		// The one explicit AWS provider is us-east-1, where Route 53 (a
		// global service) publishes health-check metrics: only the health
		// alarms and their topic use it.
		provs := g.ByType("pulumi:providers:aws")
		require.Len(t, provs, 1, "%s: AWS providers besides the default", stack)
		assert.Equal(t, "us-east-1", provs[0].Input("region"))
		for _, r := range g.Resources {
			if strings.HasPrefix(r.Provider, provs[0].URN+"::") {
				assert.True(t, strings.HasPrefix(r.Type, "aws:cloudwatch/metricAlarm:") || strings.HasPrefix(r.Type, "aws:sns/"), "%s %s uses the us-east-1 provider", r.Type, r.Name)
			}
		}
		p := one(t, g, "tars:cluster:Peering", map[string]string{"us-east": "us-east-to-us-west", "us-west": "us-west-to-us-east"}[stack])
		peerCidr := map[string]string{"us-east": "10.20.0.0/16", "us-west": "10.10.0.0/16"}[stack]
		aws := map[string]string{"us-east": "us-east-1", "us-west": "us-west-2"}[stack]
		routes := 0
		for _, r := range g.Children(p.URN) {
			if r.Type != "aws:ec2/route:Route" {
				continue
			}
			routes++
			assert.Equal(t, peerCidr, r.Input("destinationCidrBlock"), r.Name)
			assert.Contains(t, r.Name, aws, "a route in this region's own route table")
			assert.Equal(t, connID, r.Input("vpcPeeringConnectionId"), r.Name)
		}
		assert.Equal(t, 3, routes, "%s: one route per private route table", stack)
	}
}

// TestPeeringAccepterBeforeTheRequest: on the first deployment the
// accepter runs before the requester exists; it creates no peering (and
// warns) instead of failing, and accepts on its next run.
func TestPeeringAccepterBeforeTheRequest(t *testing.T) {
	g := mustRun(t, "us-west", harness.WithPeeringNotRequested())
	assert.Empty(t, g.ByType("tars:cluster:Peering"))
	assert.Empty(t, g.ByType("pulumi:pulumi:StackReference"), "the peer may not exist yet: reading it would fail the run")
	assert.Empty(t, g.ByType("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"))
	// Once us-east has requested it, the lookup by the two VPC blocks finds it.
	g = mustRun(t, "us-west")
	assert.Len(t, g.ByType("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"), 1)
}

// TestStacksDifferOnlyWhereConfigDiffers compares the two real graphs after
// replacing every config value that differs between the stack files
// (region names, AWS region, cluster name, VPC blocks, AZ letters) by a
// symbol. What remains must be identical, except each side of the VPC
// peering.
func TestStacksDifferOnlyWhereConfigDiffers(t *testing.T) {
	norm := map[string]func(string) string{
		"us-east": replacer(map[string]string{
			"tars-us-east": "<cluster>", "us-east-1": "<aws>", "us-west-2": "<peeraws>", "us-east": "<region>", "us-west": "<peer>",
			"10.10.": "<vpc>.", "10.20.": "<peervpc>.",
		}),
		"us-west": replacer(map[string]string{
			"tars-us-west": "<cluster>", "us-west-2": "<aws>", "us-east-1": "<peeraws>", "us-west": "<region>", "us-east": "<peer>",
			"10.20.": "<vpc>.", "10.10.": "<peervpc>.",
		}),
	}
	graphs := map[string]map[string]string{}
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		out := map[string]string{}
		for _, r := range g.Resources {
			in, err := json.Marshal(r.JSONInputs())
			require.NoError(t, err)
			out[norm[stack](r.Type+" "+r.Name)] = mockIDs.ReplaceAllString(pemCerts.ReplaceAllString(norm[stack](string(in)), "<certificate>"), "<id>")
		}
		graphs[stack] = out
	}
	east, west := graphs["us-east"], graphs["us-west"]
	var onlyEast, onlyWest []string
	for k, v := range east {
		w, ok := west[k]
		if !ok {
			onlyEast = append(onlyEast, k)
			continue
		}
		if strings.HasPrefix(k, "tars:cluster:Peering ") {
			continue // the requester's and the accepter's sides differ by design
		}
		if strings.HasPrefix(k, "kubernetes:postgresql.cnpg.io/v1:Cluster ") {
			continue // primary and replica region differ by design (TestPostgresDistributedTopology)
		}
		if k == "aws:iam/rolePolicy:RolePolicy <region>-chromadb-sync" {
			continue // writes its own bucket or reads the primary's (TestChromaDBSyncFollowsTheTopology)
		}
		if strings.HasPrefix(k, "pagerduty:index/serviceIntegration:ServiceIntegration <region>-oncall-") {
			continue // the owner's service by reference, the other's found by name (TestOnCallEscalationFollowsTheSeed)
		}
		if k == "kubernetes:helm.sh/v3:Release <region>-grafana-release" {
			continue // Grafana writes to the primary, local or the peer's (TestGrafanaWritesToThePrimary)
		}
		// Config-derived, per region: the failover role follows dnsPrimary,
		// the weight is the region's, and the checker-region list reads
		// differently once each stack's own region is replaced by a symbol
		// (TestGeoDNS* check them).
		if slices.Contains([]string{"aws:route53/record:Record <region>-edge-failover", "aws:route53/record:Record <region>-edge-weighted",
			"aws:route53/healthCheck:HealthCheck <region>-edge-health",
			// us-east-1 in both stacks, which reads as <aws> in one and <peeraws> in the other
			"pulumi:providers:aws <region>-edge-route53-metrics"}, k) {
			continue
		}
		assert.Equal(t, v, w, "%s differs beyond config", k)
	}
	for k := range west {
		if _, ok := east[k]; !ok {
			onlyWest = append(onlyWest, k)
		}
	}
	// Each region's geolocation records are its own states (config).
	geo := func(keys []string) (out []string) {
		for _, k := range keys {
			if !strings.Contains(k, "-edge-geo-") || strings.HasSuffix(k, "-edge-geo-default") {
				out = append(out, k)
			}
		}
		return out
	}
	onlyEast, onlyWest = geo(onlyEast), geo(onlyWest)
	sort.Strings(onlyEast)
	sort.Strings(onlyWest)
	assert.Equal(t, []string{
		"aws:ec2/vpcPeeringConnection:VpcPeeringConnection <region>-to-<peer>",
		"aws:route53/record:Record <region>-edge-geo-default",
		"kubernetes:batch/v1:CronJob <region>-chromadb-snapshot",
		"pagerduty:index/escalationPolicy:EscalationPolicy <region>-oncall-tars-production-critical",
		"pagerduty:index/escalationPolicy:EscalationPolicy <region>-oncall-tars-production-high",
		"pagerduty:index/escalationPolicy:EscalationPolicy <region>-oncall-tars-production-moderate",
		"pagerduty:index/schedule:Schedule <region>-oncall-rotation",
		"pagerduty:index/service:Service <region>-oncall-tars-production-critical",
		"pagerduty:index/service:Service <region>-oncall-tars-production-high",
		"pagerduty:index/service:Service <region>-oncall-tars-production-moderate",
		"random:index/randomPassword:RandomPassword <region>-jwt",
	}, onlyEast, "only the requester requests and generates the JWT key; only the singletons owner owns the default geolocation record and the PagerDuty services; the primary snapshots ChromaDB")
	assert.Equal(t, []string{
		"aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter <region>-to-<peer>",
		"kubernetes:batch/v1:CronJob <region>-chromadb-restore",
		"kubernetes:rbac.authorization.k8s.io/v1:Role <region>-chromadb-restart",
		"kubernetes:rbac.authorization.k8s.io/v1:RoleBinding <region>-chromadb-restart",
	}, onlyWest, "only the accepter accepts; the standby restores ChromaDB")
}

// mockIDs are physical IDs the harness derives from names; they differ by
// construction, so they are compared as a symbol.
// pemCerts are PEM certificates (each region has its own CAs, by design).
var pemCerts = regexp.MustCompile(`-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\\n]*-----END CERTIFICATE-----`)

var mockIDs = regexp.MustCompile(`_[0-9a-f]{16}\.|[0-9A-F]{32}|(vpc|subnet|rtb|nat|eipalloc|igw|lt|pcx|sg)-[0-9a-f]{16}|eks-[a-z0-9-]+-[0-9a-f]{12}|[a-z0-9<>-]+-[0-9a-f]{12}\b`)

// replacer rewrites the longest keys first so "us-east-1" wins over "us-east".
func replacer(m map[string]string) func(string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	var pairs []string
	for _, k := range keys {
		pairs = append(pairs, k, m[k])
	}
	r := strings.NewReplacer(pairs...)
	// AZ letters follow the AWS region: us-east-1a → <aws>a is already symbolic.
	return r.Replace
}
