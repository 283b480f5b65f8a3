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
// exports every region output, the owner also the owner outputs, and every
// name a role reads from its peer is one the peer exports.
func TestContractBothStacksExportWhatThePeerReads(t *testing.T) {
	exports := map[string][]string{}
	roles := map[string]stacks.Role{}
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		exports[stack] = g.Exports
		if slices.Contains(g.Exports, stacks.OutPeeringConnectionID) {
			roles[stack] = stacks.RoleSingletonsOwner
		} else {
			roles[stack] = stacks.RoleMember
		}
		for _, k := range stacks.RegionOutputs {
			assert.Contains(t, g.Exports, k, "%s must export %s", stack, k)
		}
	}
	require.Equal(t, stacks.RoleSingletonsOwner, roles["us-east"], "us-east owns the singletons")
	require.Equal(t, stacks.RoleMember, roles["us-west"])
	for reader, peer := range map[string]string{"us-east": "us-west", "us-west": "us-east"} {
		for _, k := range stacks.PeerReads[roles[reader]] {
			assert.Contains(t, exports[peer], k, "%s reads %s from %s, which does not export it", reader, k, peer)
		}
	}
	// After a DR switchover (us-west owns the singletons), the roles swap and
	// the contract still holds.
	swapped := mustRun(t, "us-west", harness.WithConfig("tars:topology.singletonsOwner", "us-west"))
	assert.Contains(t, swapped.Exports, stacks.OutPeeringConnectionID)
	for _, k := range stacks.PeerReads[stacks.RoleSingletonsOwner] {
		assert.Contains(t, exports["us-east"], k)
	}
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
		stacks.OutPrivateRouteTableIDs: map[string]any{"us-west-2a": "rtb-a", "us-west-2b": "rtb-b", "us-west-2c": "rtb-c"},
	}
}

func TestPeeringRoutesBothRegions(t *testing.T) {
	g := mustRun(t, "us-east")
	p := one(t, g, "tars:cluster:Peering", "us-east-to-us-west")
	children := g.Children(p.URN)
	var peerProvider harness.Resource
	for _, c := range children {
		if c.Type == "pulumi:providers:aws" {
			peerProvider = c
		}
	}
	require.NotEmpty(t, peerProvider.URN)
	assert.Equal(t, "us-west-2", peerProvider.Input("region"))
	conn := one(t, g, "aws:ec2/vpcPeeringConnection:VpcPeeringConnection", "us-east-to-us-west")
	assert.Equal(t, "us-west-2", conn.Input("peerRegion"))
	acc := one(t, g, "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter", "us-east-to-us-west")
	assert.True(t, strings.HasPrefix(acc.Provider, peerProvider.URN+"::"), "the peer accepts in its own region")
	local, remote := 0, 0
	for _, r := range g.Children(p.URN) {
		if r.Type != "aws:ec2/route:Route" {
			continue
		}
		switch {
		case strings.HasPrefix(r.Provider, peerProvider.URN+"::"):
			remote++
			assert.Equal(t, "10.10.0.0/16", r.Input("destinationCidrBlock"), r.Name)
			assert.Contains(t, r.Name, "us-west-2")
		default:
			local++
			assert.Equal(t, "10.20.0.0/16", r.Input("destinationCidrBlock"), r.Name)
			assert.Contains(t, r.Name, "us-east-1")
		}
		assert.True(t, strings.HasPrefix(r.Input("vpcPeeringConnectionId").(string), "pcx-"), r.Name)
	}
	assert.Equal(t, 3, local)
	assert.Equal(t, 3, remote)
	// The member stack creates none of it.
	west := mustRun(t, "us-west")
	assert.Empty(t, west.ByType("aws:ec2/vpcPeeringConnection:VpcPeeringConnection"))
	assert.Empty(t, west.ByType("pulumi:pulumi:StackReference"), "the member stack can deploy before its peer exists")
}

// TestStacksDifferOnlyWhereConfigDiffers compares the two real graphs after
// replacing every config value that differs between the stack files
// (region names, AWS region, cluster name, VPC blocks, AZ letters) by a
// symbol. What remains must be identical, except the singletons that only
// the owner creates.
func TestStacksDifferOnlyWhereConfigDiffers(t *testing.T) {
	norm := map[string]func(string) string{
		"us-east": replacer(map[string]string{
			"tars-us-east": "<cluster>", "us-east-1": "<aws>", "us-east": "<region>", "us-west": "<peer>",
			"10.10.": "<vpc>.", "10.20.": "<peervpc>.",
		}),
		"us-west": replacer(map[string]string{
			"tars-us-west": "<cluster>", "us-west-2": "<aws>", "us-west": "<region>", "us-east": "<peer>",
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
			out[norm[stack](r.Type+" "+r.Name)] = mockIDs.ReplaceAllString(norm[stack](string(in)), "<id>")
		}
		graphs[stack] = out
	}
	east, west := graphs["us-east"], graphs["us-west"]
	var onlyEast []string
	for k, v := range east {
		w, ok := west[k]
		if !ok {
			onlyEast = append(onlyEast, k)
			continue
		}
		assert.Equal(t, v, w, "%s differs beyond config", k)
	}
	for k := range west {
		assert.Contains(t, east, k, "%s exists only in us-west", k)
	}
	sort.Strings(onlyEast)
	for _, k := range onlyEast {
		assert.True(t, hasPrefixAny(k, "tars:cluster:Peering ", "aws:ec2/vpcPeeringConnection", "pulumi:providers:aws ", "pulumi:pulumi:StackReference ", "aws:ec2/route:Route <region>-to-<peer>-"),
			"%s exists only in the owner stack but is not a singleton", k)
	}
	assert.Len(t, onlyEast, 11)
}

// mockIDs are physical IDs the harness derives from names; they differ by
// construction, so they are compared as a symbol.
var mockIDs = regexp.MustCompile(`[0-9A-F]{32}|(vpc|subnet|rtb|nat|eipalloc|igw|lt|pcx|sg)-[0-9a-f]{16}|eks-[a-z0-9-]+-[0-9a-f]{12}|[a-z0-9<>-]+-[0-9a-f]{12}\b`)

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
