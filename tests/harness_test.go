package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/tests/harness"
)

type sink struct{ pulumi.CustomResourceState }

// secretSink registers a resource whose input is the secret config value.
func secretSink(key string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		v, err := config.TrySecret(ctx, key)
		if err != nil {
			return err
		}
		return ctx.RegisterResource("test:index:Sink", "sink", pulumi.Map{"value": v}, &sink{})
	}
}

// TestHarnessSecretsStaySecret: a `secure:` value in a stack file, which
// cannot be decrypted offline, reaches the program as a marked placeholder
// that is still a Pulumi secret, and printing the plan hides it.
func TestHarnessSecretsStaySecret(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte("name: tars\nruntime: go\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.dev.yaml"), []byte(
		"config:\n  tars:pagerdutyKey:\n    secure: v1:Zm9vYmFy\n"), 0o644))
	g, err := harness.Run("dev", harness.WithProjectDir(dir), harness.WithProgram(secretSink("pagerdutyKey")))
	require.NoError(t, err)
	r := one(t, g, "test:index:Sink", "sink")
	assert.True(t, r.IsSecret("value"))
	assert.Equal(t, harness.SecretPlaceholder("tars:pagerdutyKey"), r.PlainInputs()["value"])
	var buf bytes.Buffer
	require.NoError(t, g.WriteJSON(&buf))
	assert.NotContains(t, buf.String(), "offline-secret-placeholder")
	var plan harness.JSONPlan
	require.NoError(t, json.Unmarshal(buf.Bytes(), &plan))
	assert.Equal(t, "dev", plan.Stack)
	assert.Equal(t, harness.SecretMarker, plan.Resources[0].Inputs["value"])

	// A value set with WithSecretConfig behaves the same.
	g, err = harness.Run("us-east", harness.WithSecretConfig("tars:slackWebhook", "https://hooks.example/T0"), harness.WithProgram(secretSink("slackWebhook")))
	require.NoError(t, err)
	assert.True(t, one(t, g, "test:index:Sink", "sink").IsSecret("value"))
}

func TestPlanText(t *testing.T) {
	g := mustRun(t, "us-east")
	var buf bytes.Buffer
	require.NoError(t, g.WriteText(&buf))
	out := buf.String()
	for _, want := range []string{
		"Stack us-east\n",
		"tars:cluster:Cluster  us-east [component]\n",
		"  aws:eks/cluster:Cluster  us-east-eks  {protect, dependsOn=",
		"    aws:s3/bucketPolicy:BucketPolicy  us-east-postgres-wal  {retainOnDelete, dependsOn=2}\n",
		"Protected (a destroy, or a change that deletes or replaces one, is refused): ",
		"  kubernetes:postgresql.cnpg.io/v1:Cluster  us-east-postgres-cluster  (retained on delete)\n",
		"tars:cluster:Peering  us-east-to-us-west [component]\n",
		"    3  aws:ec2/natGateway:NatGateway\n",
		fmt.Sprintf("Total: %d resources (%d custom, %d components)\n", len(g.Resources), len(g.Resources)-components(g), components(g)),
		"Program time: ",
	} {
		assert.Contains(t, out, want)
	}
	// Every resource appears exactly once in the tree.
	for _, r := range g.Resources {
		line := regexp.MustCompile(`(?m)^ *` + regexp.QuoteMeta(r.Type+"  "+r.Name) + `( \[component\])?(  \{[^}]*\})?$`)
		tree, _, _ := strings.Cut(out, "\nProtected (")
		assert.Len(t, line.FindAllString(tree, -1), 1, r.Name)
	}
}

func TestPlanJSONIsTheGraph(t *testing.T) {
	g := mustRun(t, "us-west")
	var buf bytes.Buffer
	require.NoError(t, g.WriteJSON(&buf))
	var plan struct {
		Stack     string `json:"stack"`
		Resources []struct {
			Type, Name, URN, Parent string
			Custom                  bool
			Inputs                  map[string]any
		} `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &plan))
	assert.Equal(t, "us-west", plan.Stack)
	require.Len(t, plan.Resources, len(g.Resources))
	for i, r := range plan.Resources {
		assert.Equal(t, g.Resources[i].URN, r.URN)
		assert.Equal(t, g.Resources[i].Custom, r.Custom)
	}
	assert.NotContains(t, buf.String(), "get-token", "the kubeconfig is a secret and never printed")
}

func components(g *harness.Graph) int {
	return len(g.Filter(func(r harness.Resource) bool { return !r.Custom }))
}

// TestPlanListsTheSecretsAStackFileLacks: the stack files hold no
// secrets, so the plan lists every declared one the program reads with
// this config, with the command that sets it (a real `pulumi up` would
// refuse the stack without them): with tars:pagerduty enabled the
// PagerDuty token and not the hand-set routing keys, and not the Cloudflare
// token while Cloudflare is off.
func TestPlanListsTheSecretsAStackFileLacks(t *testing.T) {
	g := mustRun(t, "us-west")
	var b strings.Builder
	require.NoError(t, g.WriteText(&b))
	out := b.String()
	assert.Contains(t, out, "9 secret(s) the program reads are not in Pulumi.us-west.yaml")
	for _, key := range []string{
		"tars:deadMansSwitchUrl", "tars:grafanaAdminPassword", "tars:grafanaDbPassword",
		"tars:grafanaOauthClientSecret", "tars:pagerdutyToken",
		"tars:postgresAppPassword", "tars:postgresReplicationPassword", "tars:slackWebhookUrl", "tars:smtpPassword",
	} {
		assert.Contains(t, out, "pulumi config set --secret --stack us-west "+key+" '<value>'\n")
	}
	for _, key := range []string{"tars:cloudflareApiToken", "tars:pagerdutyCriticalRoutingKey", "tars:pagerdutyHighRoutingKey"} {
		assert.NotContains(t, out, key, "not read with this config")
	}
	// A secret the stack file sets (encrypted) is not listed.
	dir := t.TempDir()
	for _, f := range []string{"Pulumi.yaml", "Pulumi.us-west.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", f))
		require.NoError(t, err)
		if f == "Pulumi.us-west.yaml" {
			b = append(b, []byte("  tars:smtpPassword:\n    secure: v1:AAAAAAAAAAAAAAAA:BBBBBBBB\n")...)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o600))
	}
	cfg, err := harness.LoadStackConfig(dir, "us-west")
	require.NoError(t, err)
	assert.Len(t, cfg.Placeholders, 11)
	assert.NotContains(t, cfg.Placeholders, "tars:smtpPassword")
}
