package tests

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/policy/rules"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
)

// startPack builds policy/ (the binary `pulumi preview --policy-pack policy`
// runs), starts it, and reads the port it prints, as the engine does.
func startPack(t *testing.T) pulumirpc.AnalyzerClient {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tars-policy")
	build := exec.Command("go", "build", "-o", bin, "./policy")
	build.Dir = ".."
	out, err := build.CombinedOutput()
	require.NoError(t, err, "build the policy pack: %s", out)

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait() // killed by cancel; its exit status says nothing
	})
	portCh := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		portCh <- strings.TrimSpace(line)
	}()
	var port string
	select {
	case port = <-portCh:
	case <-time.After(30 * time.Second):
		t.Fatal("the policy pack printed no port within 30 s")
	}
	require.Regexp(t, `^\d+$`, port)
	conn, err := grpc.NewClient("127.0.0.1:"+port, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return pulumirpc.NewAnalyzerClient(conn)
}

func marshal(t *testing.T, r policyx.AnalyzerResource) *pulumirpc.AnalyzerResource {
	t.Helper()
	props, err := plugin.MarshalProperties(resource.ToResourcePropertyMap(r.Properties), plugin.MarshalOptions{
		KeepSecrets: true, KeepUnknowns: true, KeepResources: true,
	})
	require.NoError(t, err)
	deps := map[string]*pulumirpc.AnalyzerPropertyDependencies{}
	for k, urns := range r.PropertyDependencies {
		deps[k] = &pulumirpc.AnalyzerPropertyDependencies{Urns: urns}
	}
	return &pulumirpc.AnalyzerResource{
		Type: r.Type, Name: r.Name, Urn: r.URN, Parent: r.Parent, Properties: props,
		Dependencies: r.Dependencies, PropertyDependencies: deps,
		// The engine sends the options the policies read (protect).
		Options: &pulumirpc.AnalyzerResourceOptions{Protect: r.Options.Protect},
	}
}

// TestPolicyPackOverGRPC drives the built pack the way the Pulumi engine
// does (Handshake, ConfigureStack, GetAnalyzerInfo, Analyze per resource,
// AnalyzeStack) over a real us-east graph with two violations planted, and
// expects exactly the violations of the in-process run.
func TestPolicyPackOverGRPC(t *testing.T) {
	t.Parallel() // slow and independent: runs beside the other slow tiers
	client := startPack(t)
	ctx := context.Background()

	g := mustRun(t, "us-east")
	resources := g.PolicyResources()
	for i, r := range resources {
		if r.Type == "aws:kms/key:Key" {
			resources[i].Properties = r.Properties.Set("enableKeyRotation", resource.FromResourcePropertyValue(resource.NewBoolProperty(false)))
		}
	}
	resources = append(resources, fixture("aws:s3/bucketV2:BucketV2", "bare", map[string]any{}))

	_, err := client.Handshake(ctx, &pulumirpc.AnalyzerHandshakeRequest{})
	require.NoError(t, err)
	_, err = client.ConfigureStack(ctx, &pulumirpc.AnalyzerStackConfigureRequest{Stack: "us-east", Project: "tars", DryRun: true})
	require.NoError(t, err)
	info, err := client.GetAnalyzerInfo(ctx, &emptypb.Empty{})
	require.NoError(t, err)
	assert.Equal(t, rules.PackName, info.GetName())
	pack, err := rules.Pack()
	require.NoError(t, err)
	require.Len(t, info.GetPolicies(), len(pack.Policies()))
	for _, p := range info.GetPolicies() {
		assert.NotEmpty(t, p.GetDescription(), p.GetName())
		want := pulumirpc.EnforcementLevel_MANDATORY
		if p.GetName() == "monthly-cost-within-budget" { // the pack's one advisory
			want = pulumirpc.EnforcementLevel_ADVISORY
		}
		assert.Equal(t, want, p.GetEnforcementLevel(), p.GetName())
	}

	var remote []string
	collect := func(ds []*pulumirpc.AnalyzeDiagnostic) {
		for _, d := range ds {
			msg := strings.TrimPrefix(d.GetMessage(), d.GetDescription()+"\n")
			remote = append(remote, fmt.Sprintf("%s|%s|%s|%d", d.GetPolicyName(), d.GetUrn(), msg, d.GetEnforcementLevel()))
		}
	}
	var stack []*pulumirpc.AnalyzerResource
	for _, r := range resources {
		m := marshal(t, r)
		stack = append(stack, m)
		resp, err := client.Analyze(ctx, &pulumirpc.AnalyzeRequest{Type: m.Type, Name: m.Name, Urn: m.Urn, Properties: m.Properties})
		require.NoError(t, err, r.URN)
		collect(resp.GetDiagnostics())
	}
	resp, err := client.AnalyzeStack(ctx, &pulumirpc.AnalyzeStackRequest{Resources: stack})
	require.NoError(t, err)
	collect(resp.GetDiagnostics())

	local, err := rules.Evaluate(ctx, pack, resources)
	require.NoError(t, err)
	var want []string
	for _, v := range local {
		want = append(want, fmt.Sprintf("%s|%s|%s|%d", v.Policy, v.URN, v.Message, v.Level))
	}
	slices.Sort(remote)
	slices.Sort(want)
	assert.Equal(t, want, remote)
	assert.Len(t, want, 12, "a KMS violation for each of the six keys (EKS secrets, Postgres WAL, Thanos blocks, Loki chunks, ChromaDB snapshots, SLO reports), five for the bare bucket (four baseline, unprotected) and the cost advisory")
}
