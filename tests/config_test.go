package tests

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/tests/harness"
)

// TestConfigRejectsBadStacks feeds the real us-east config with one defect
// per case through the whole program and checks the exact message: the key
// path, the offending value and what is wrong. Nothing may be registered
// and nothing may panic.
func TestConfigRejectsBadStacks(t *testing.T) {
	general := map[string]any{"name": "general", "instanceTypes": []any{"m5.xlarge"}, "minSize": 3, "maxSize": 20}
	cases := []struct {
		name string
		opts []harness.Option
		want []string
	}{
		{"max below min in the second group", []harness.Option{
			harness.WithConfig("tars:cluster.nodeGroups", []any{general, map[string]any{"name": "gpu", "instanceTypes": []any{"g4dn.xlarge"}, "minSize": 3, "maxSize": 2}}),
		}, []string{"tars:cluster.nodeGroups[1].maxSize (2) is below minSize (3)"}},
		{"cluster key missing", []harness.Option{harness.WithoutConfig("tars:cluster")},
			[]string{"tars:cluster is not set"}},
		{"aws region missing", []harness.Option{harness.WithoutConfig("aws:region")},
			[]string{"aws:region is not set"}},
		{"aws region malformed", []harness.Option{harness.WithConfig("aws:region", "useast1")},
			[]string{`aws:region ("useast1") is not an AWS region like us-east-1`}},
		{"vpc cidr not a cidr", []harness.Option{harness.WithConfig("tars:cluster.vpcCidr", "10.10.0.0/33")},
			[]string{`tars:cluster.vpcCidr ("10.10.0.0/33") is not a CIDR block`}},
		{"vpc cidr host bits", []harness.Option{harness.WithConfig("tars:cluster.vpcCidr", "10.10.1.0/16")},
			[]string{`tars:cluster.vpcCidr ("10.10.1.0/16") has host bits set (did you mean 10.10.0.0/16?)`}},
		{"vpc cidr too small", []harness.Option{harness.WithConfig("tars:cluster.vpcCidr", "10.10.0.0/24")},
			[]string{"tars:cluster.vpcCidr (10.10.0.0/24) must be between /16 and /20"}},
		{"services elsewhere", []harness.Option{harness.WithConfig("tars:dns.backend.namespace", "apps"), harness.WithConfig("tars:redis.appNamespace", "apps")},
			[]string{`tars:dns.backend.namespace ("apps") must be "tars": the log alerts and tarsctl verify's loki-logs read the services' logs from namespace "tars"`}},
		{"redis clients elsewhere", []harness.Option{harness.WithConfig("tars:redis.appNamespace", "apps")},
			[]string{`tars:redis.appNamespace ("apps") must be the services' namespace tars:dns.backend.namespace ("tars")`}},
		{"peer cidr overlaps", []harness.Option{harness.WithConfig("tars:topology.peerVpcCidr", "10.10.128.0/17")},
			[]string{"tars:topology.peerVpcCidr (10.10.128.0/17) overlaps tars:cluster.vpcCidr (10.10.0.0/16)"}},
		{"unsupported kubernetes version", []harness.Option{harness.WithConfig("tars:cluster.version", "1.20")},
			[]string{`tars:cluster.version ("1.20") is not a supported Kubernetes minor`}},
		{"nat layout unknown", []harness.Option{harness.WithConfig("tars:cluster.natGateways", "two")},
			[]string{`tars:cluster.natGateways ("two") must be "perAz" or "single"`}},
		{"min size of the wrong type", []harness.Option{harness.WithConfig("tars:cluster.nodeGroups[0].minSize", "three")},
			[]string{"tars:cluster.nodeGroups.minSize (string) must be a whole number"}},
		{"misspelt field", []harness.Option{
			harness.WithConfig("tars:cluster.nodegroups", []any{}),
		}, []string{`tars:cluster has unknown field "nodegroups" (did you mean "nodeGroups"?)`}},
		{"field misspelt by a letter", []harness.Option{harness.WithConfig("tars:redis.maxmemoryPolcy", "allkeys-lru")},
			[]string{`tars:redis has unknown field "maxmemoryPolcy" (did you mean "maxmemoryPolicy"?)`}},
		{"misspelt top-level key", []harness.Option{harness.WithConfig("tars:clustr", map[string]any{"name": "x"})},
			[]string{`tars:clustr is not a config key of this program (did you mean "tars:cluster"?)`}},
		{"unknown top-level key", []harness.Option{harness.WithConfig("tars:featureFlags", map[string]any{"x": true})},
			[]string{"tars:featureFlags is not a config key of this program"}},
		{"node label key not a label key", []harness.Option{harness.WithConfig("tars:cluster.nodeGroups[0].labels", map[string]any{"tars.ai/pool type": "general"})},
			[]string{`tars:cluster.nodeGroups[0].labels key "tars.ai/pool type" is not a Kubernetes label key`}},
		{"node label value not a label value", []harness.Option{harness.WithConfig("tars:cluster.nodeGroups[0].labels", map[string]any{"tars.ai/pool": "-general"})},
			[]string{`tars:cluster.nodeGroups[0].labels.tars.ai/pool ("-general") is not a Kubernetes label value`}},
		{"namespace not a namespace name", []harness.Option{harness.WithConfig("tars:redis.namespace", "Tars_Data")},
			[]string{`tars:redis.namespace ("Tars_Data")`}},
		{"misspelt nested field", []harness.Option{harness.WithConfig("tars:cluster.nodeGroups[0].maxsize", 5)},
			[]string{`tars:cluster.nodeGroups[0] has unknown field "maxsize" (did you mean "maxSize"?)`}},
		{"singletons owner not a region of the pair", []harness.Option{harness.WithConfig("tars:topology.singletonsOwner", "eu-west")},
			[]string{`tars:topology.singletonsOwner ("eu-west") must be region ("us-east") or peerRegion ("us-west")`}},
		{"peer region is this region", []harness.Option{harness.WithConfig("tars:topology.peerRegion", "us-east")},
			[]string{`tars:topology.peerRegion ("us-east") must differ from region`}},
		{"duplicate node group names", []harness.Option{
			harness.WithConfig("tars:cluster.nodeGroups", []any{general, general}),
		}, []string{`tars:cluster.nodeGroups[1].name ("general") repeats nodeGroups[0].name`}},
		{"capacity type unknown", []harness.Option{harness.WithConfig("tars:cluster.nodeGroups[0].capacityType", "RESERVED")},
			[]string{`tars:cluster.nodeGroups[0].capacityType ("RESERVED") must be ON_DEMAND or SPOT`}},
		{"too many AZs", []harness.Option{harness.WithConfig("tars:cluster.availabilityZones", 7)},
			[]string{"tars:cluster.availabilityZones (7) must be between 2 and 6"}},
		{"log retention CloudWatch does not offer", []harness.Option{harness.WithConfig("tars:cluster.logRetentionDays", 10)},
			[]string{"tars:cluster.logRetentionDays (10) is not a CloudWatch Logs retention"}},
		{"kube-proxy of another minor", []harness.Option{harness.WithConfig("tars:cluster.addonVersions", map[string]any{"kube-proxy": "v1.33.0-eksbuild.2"})},
			[]string{`tars:cluster.addonVersions.kube-proxy ("v1.33.0-eksbuild.2") does not match the cluster's Kubernetes version 1.34`}},
		{"public endpoint open to nobody named", []harness.Option{harness.WithoutConfig("tars:cluster.publicAccessCidrs")},
			[]string{"tars:cluster.publicAccessCidrs must list the CIDRs allowed"}},
		{"public CIDRs without a public endpoint", []harness.Option{harness.WithConfig("tars:cluster.endpointPublicAccess", false)},
			[]string{"tars:cluster.publicAccessCidrs is set but endpointPublicAccess is false"}},
		{"public endpoint open to the internet", []harness.Option{harness.WithConfig("tars:cluster.publicAccessCidrs", []any{"0.0.0.0/0"})},
			[]string{`tars:cluster.publicAccessCidrs[0] ("0.0.0.0/0") opens the Kubernetes API to a /0 of the internet`}},
		{"no admin", []harness.Option{harness.WithConfig("tars:cluster.admins", []any{})},
			[]string{"tars:cluster.admins must name at least one IAM role"}},
		{"admin that is not a role", []harness.Option{harness.WithConfig("tars:cluster.admins", []any{"bob smith", "arn:aws:s3:::bucket"})},
			[]string{`tars:cluster.admins[0] ("bob smith") is neither an IAM role name nor an ARN`, `tars:cluster.admins[1] ("arn:aws:s3:::bucket") is not the ARN of an IAM role or user`}},
		{"fewer than three nodes in total", []harness.Option{
			harness.WithConfig("tars:cluster.nodeGroups[0].minSize", 1),
			harness.WithConfig("tars:cluster.nodeGroups[0].desiredSize", 1),
		}, []string{"tars:cluster.nodeGroups minSize totals 1 nodes; the platform needs at least 3"}},
		{"desired above max", []harness.Option{harness.WithConfig("tars:cluster.nodeGroups[0].desiredSize", 25)},
			[]string{"tars:cluster.nodeGroups[0].desiredSize (25) must be between minSize (3) and maxSize (20)"}},
		{"secret not set", []harness.Option{harness.WithoutConfig("tars:slackWebhookUrl")},
			[]string{"tars:slackWebhookUrl is not set: run `pulumi config set --secret tars:slackWebhookUrl <value>`"}},
		{"slack channel without #", []harness.Option{harness.WithConfig("tars:alerting.slackChannel", "alerts")},
			[]string{`tars:alerting.slackChannel ("alerts") must be a Slack channel like #tars-alerts`}},
		{"topology missing", []harness.Option{harness.WithoutConfig("tars:topology")},
			[]string{"tars:topology is not set"}},
		{"every problem at once", []harness.Option{
			harness.WithConfig("aws:region", "mars"),
			harness.WithConfig("tars:cluster.vpcCidr", "10.10.0.0/8"),
			harness.WithConfig("tars:cluster.nodeGroups[0].maxSize", 0),
		}, []string{
			`aws:region ("mars") is not an AWS region`,
			`tars:cluster.vpcCidr ("10.10.0.0/8") has host bits set (did you mean 10.0.0.0/8?)`,
			"tars:cluster.nodeGroups[0].maxSize (0) must be at least 1",
			"tars:cluster.nodeGroups[0].maxSize (0) is below minSize (3)",
		}},
	}
	require.GreaterOrEqual(t, len(cases), 15)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := runRecovering(t, "us-east", tc.opts...)
			require.Error(t, err)
			for _, want := range tc.want {
				assert.Contains(t, err.Error(), want)
			}
			assert.Contains(t, err.Error(), "stack us-east: invalid config")
			if g != nil {
				assert.Empty(t, g.Resources, "nothing may be registered from an invalid config")
			}
		})
	}
}

// TestConfigKeysFromPulumiUp: under `pulumi up` the language host passes
// the whole config in PULUMI_CONFIG; a key of the project's namespace the
// program does not read stops the run there too (the harness checks the
// stack file's keys the same way). Not parallel: it sets the environment.
func TestConfigKeysFromPulumiUp(t *testing.T) {
	t.Setenv("PULUMI_CONFIG", `{"aws:region":"us-east-1","tars:grafanna":"{}","tars:cluster":"{}"}`)
	_, err := harness.Run("us-east")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `tars:grafanna is not a config key of this program (did you mean "tars:grafana"?)`)
	assert.NotContains(t, err.Error(), "tars:cluster is not", "known keys pass")
	t.Setenv("PULUMI_CONFIG", `not json`)
	_, err = harness.Run("us-east")
	assert.ErrorContains(t, err, "PULUMI_CONFIG is not a JSON object")
}

// TestConfigAcceptsBothStacks: the committed stack files are valid.
func TestConfigAcceptsBothStacks(t *testing.T) {
	for _, stack := range Stacks {
		t.Run(stack, func(t *testing.T) {
			g := mustRun(t, stack)
			assert.NotEmpty(t, g.Resources)
		})
	}
}

// TestConfigDefaultsFromProjectFile: a stack that gives only the required
// cluster fields gets Pulumi.yaml's and the component's documented defaults.
func TestConfigDefaultsFromProjectFile(t *testing.T) {
	g := mustRun(t, "us-west", harness.WithConfig("tars:cluster", map[string]any{
		"name": "tars-us-west", "vpcCidr": "10.20.0.0/16", "admins": []any{"tars-platform-admin"},
		"nodeGroups": []any{map[string]any{"name": "general", "instanceTypes": []any{"m5.xlarge"}, "minSize": 3, "maxSize": 20}},
	}))
	eks := one(t, g, "aws:eks/cluster:Cluster", "us-west-eks")
	assert.Equal(t, "1.34", eks.Input("version"))
	assert.Len(t, g.ByType("aws:ec2/natGateway:NatGateway"), 3, "natGateways defaults to perAz over 3 AZs")
	logs := one(t, g, "aws:cloudwatch/logGroup:LogGroup", "us-west-control-plane")
	assert.EqualValues(t, 90, logs.Input("retentionInDays"))
	assert.Equal(t, false, eks.Input("vpcConfig.endpointPublicAccess"), "private endpoint only by default")
	ng := one(t, g, "aws:eks/nodeGroup:NodeGroup", "us-west-general")
	assert.EqualValues(t, 3, ng.Input("scalingConfig.desiredSize"), "desiredSize defaults to minSize")
	assert.Equal(t, "ON_DEMAND", ng.Input("capacityType"))
}

// TestConfigDeployerMustBeAdmin: a cluster whose deployer is not among its
// admins is refused before anything is built (every Kubernetes object
// after the cluster would fail Unauthorized).
func TestConfigDeployerMustBeAdmin(t *testing.T) {
	g, err := runRecovering(t, "us-east", harness.WithConfig("tars:cluster.admins", []any{"sre-breakglass"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the identity running this program (arn:aws:sts::123456789012:assumed-role/tars-platform-admin/pulumi) is not among admins [sre-breakglass]")
	assert.Empty(t, g.ByType("aws:eks/cluster:Cluster"))
	// The same role named by its ARN, or a second admin, is fine.
	mustRun(t, "us-east", harness.WithConfig("tars:cluster.admins", []any{"sre-breakglass", "arn:aws:iam::123456789012:role/tars-platform-admin"}))
}

// TestConfigExampleRangesRefusedOnUp: the stack files' example egress
// range passes a preview (with a warning) and is refused by `pulumi up`.
func TestConfigExampleRangesRefusedOnUp(t *testing.T) {
	_, err := runRecovering(t, "us-west", harness.WithUpdate())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tars:cluster.publicAccessCidrs[0] (198.51.100.0/24) is an RFC 5737 example range")
	mustRun(t, "us-west", harness.WithUpdate(), harness.WithConfig("tars:cluster.publicAccessCidrs", []any{"100.64.10.0/24"}))
}

// TestConfigUnknownStack: a stack without a file is a clear error.
func TestConfigUnknownStack(t *testing.T) {
	_, err := harness.Run("eu-central")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown stack "eu-central": no Pulumi.eu-central.yaml (stacks here: us-east, us-west)`)
}

// TestProjectFilesPassPulumiValidation loads Pulumi.yaml and both stack
// files with the Pulumi CLI's own loaders, so `pulumi up` will not refuse
// them, and checks each stack value against the type Pulumi.yaml declares.
func TestProjectFilesPassPulumiValidation(t *testing.T) {
	proj, err := workspace.LoadProject("../Pulumi.yaml")
	require.NoError(t, err)
	require.NoError(t, proj.Validate())
	assert.Equal(t, "tars", proj.Name.String())
	assert.Equal(t, "go", proj.Runtime.Name())
	for _, stack := range Stacks {
		ps, err := workspace.LoadProjectStack(&diag.MockSink{}, proj, "../Pulumi."+stack+".yaml")
		require.NoError(t, err, stack)
		cfg, err := harness.LoadStackConfig("..", stack)
		require.NoError(t, err)
		for key, decl := range proj.Config {
			v, ok := cfg.Values["tars:"+key]
			require.True(t, ok, "%s: tars:%s has neither a value nor a default", stack, key)
			assert.True(t, workspace.ValidateConfigValue(decl.TypeName(), decl.Items, v), "%s: tars:%s is not a %s", stack, key, decl.TypeName())
		}
		assert.NotEmpty(t, ps.Config, stack)
	}
}
