package tests

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/stacks"
	"github.com/tars-platform/infra/tests/harness"
)

// Issue #25 under mocks: what the program protects and retains, the
// switch, the recorded options and the rename table.

// keptNames are the protected resources other than the region's records,
// as "type name" with the region's prefix, and whether each is retained
// on delete. The list: the buckets (WAL and backups, Thanos, Loki,
// reports, snapshots) and their KMS keys, the EKS cluster (and its secrets
// key), the CNPG Cluster, the Redis and ChromaDB StatefulSets, and the
// namespaces whose deletion deletes claims.
var keptNames = map[string]bool{
	"aws:eks/cluster:Cluster %s-eks":                               false,
	"aws:kms/key:Key %s-secrets":                                   true,
	"aws:kms/key:Key %s-postgres-wal-key":                          true,
	"aws:kms/key:Key %s-monitoring-thanos-key":                     true,
	"aws:kms/key:Key %s-monitoring-loki-key":                       true,
	"aws:kms/key:Key %s-reports-key":                               true,
	"aws:kms/key:Key %s-chromadb-snapshots-key":                    true,
	"aws:s3/bucketV2:BucketV2 %s-postgres-wal":                     true,
	"aws:s3/bucketV2:BucketV2 %s-monitoring-thanos":                true,
	"aws:s3/bucketV2:BucketV2 %s-monitoring-loki":                  true,
	"aws:s3/bucketV2:BucketV2 %s-reports":                          true,
	"aws:s3/bucketV2:BucketV2 %s-chromadb-snapshots":               true,
	"kubernetes:postgresql.cnpg.io/v1:Cluster %s-postgres-cluster": true,
	"kubernetes:apps/v1:StatefulSet %s-redis":                      false,
	"kubernetes:apps/v1:StatefulSet %s-chromadb":                   false,
	"kubernetes:core/v1:Namespace %s-redis-namespace":              true,
	"kubernetes:core/v1:Namespace %s-postgres-namespace":           true,
	"kubernetes:core/v1:Namespace %s-monitoring-namespace":         true,
	"kubernetes:core/v1:Namespace %s-apps":                         true,
}

// TestKeepProtectsWhatHoldsData: in both stacks exactly the reviewed
// resources are protected (printed per stack), the data ones retained on
// delete; the region's own records are protected, the geolocation default
// (it moves with singletonsOwner) only retained; a bucket's settings are
// retained with it and not protected; no bucket has forceDestroy; every
// KMS key has the 30-day deletion window.
func TestKeepProtectsWhatHoldsData(t *testing.T) {
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		got := map[string]bool{}
		records := 0
		for _, r := range g.Protected() {
			if r.Type == "aws:route53/record:Record" {
				records++
				continue
			}
			got[r.Type+" "+r.Name] = r.RetainOnDelete
		}
		want := map[string]bool{}
		for k, v := range keptNames {
			want[fmt.Sprintf(k, stack)] = v
		}
		assert.Equal(t, want, got, "%s: protected (and retained) resources", stack)
		var lines []string
		for _, r := range g.Protected() {
			lines = append(lines, strings.Join(append([]string{r.Type, r.Name}, r.OptionList()...), " "))
		}
		sort.Strings(lines)
		t.Logf("%s: %d stateful resources protected (%d of them the region's records):\n  %s", stack, len(lines), records, strings.Join(lines, "\n  "))

		// The records: every one of the region's own names protected.
		for _, r := range g.ByType("aws:route53/record:Record") {
			own := strings.HasPrefix(r.Name, stack+"-edge-") && !strings.Contains(r.Name, "-validation-") && r.Name != stack+"-edge-geo-default"
			assert.Equal(t, own, r.Protect, "%s: record %s protected", stack, r.Name)
		}
		assert.Greater(t, records, 10, "%s: the region's geolocation, failover, latency, weighted and region records", stack)
		if def, ok := g.Find("aws:route53/record:Record", stack+"-edge-geo-default"); ok {
			assert.False(t, def.Protect, "the geolocation default moves with singletonsOwner: protected, the old owner could not let it go")
			assert.True(t, def.RetainOnDelete, "…so it is retained instead")
		}

		for _, b := range g.ByType("aws:s3/bucketV2:BucketV2") {
			assert.Equal(t, false, b.PlainInputs()["forceDestroy"], "%s: bucket %s never forceDestroy", stack, b.Name)
			for _, part := range g.Children(b.URN) {
				assert.True(t, part.RetainOnDelete, "%s: %s %s is retained with its bucket", stack, part.Type, part.Name)
				assert.False(t, part.Protect, "%s: %s %s stays editable", stack, part.Type, part.Name)
			}
			assert.Len(t, g.Children(b.URN), 6, "%s: %s's settings", stack, b.Name)
		}
		keys := g.ByType("aws:kms/key:Key")
		assert.Len(t, keys, 6, stack)
		for _, k := range keys {
			assert.EqualValues(t, 30, k.PlainInputs()["deletionWindowInDays"], "%s: key %s", stack, k.Name)
		}
	}
}

// TestKeepSwitch: tars:protect false protects nothing (a test stack to tear
// down) but still retains the data; a value that is not a boolean is a
// config error naming the key.
func TestKeepSwitch(t *testing.T) {
	g := mustRun(t, "us-east", harness.WithConfig("tars:protect", false))
	assert.Empty(t, g.Protected(), "tars:protect false")
	b, ok := g.Find("aws:s3/bucketV2:BucketV2", "us-east-postgres-wal")
	require.True(t, ok)
	assert.True(t, b.RetainOnDelete, "unprotected, the WAL bucket is still retained on delete")
	pg, ok := g.Find("kubernetes:postgresql.cnpg.io/v1:Cluster", "us-east-postgres-cluster")
	require.True(t, ok)
	assert.True(t, pg.RetainOnDelete)

	on := mustRun(t, "us-east", harness.WithoutConfig("tars:protect"))
	assert.Len(t, on.Protected(), len(mustRun(t, "us-east").Protected()), "unset, tars:protect defaults to true")

	_, err := harness.Run("us-east", harness.WithConfig("tars:protect", "sometimes"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `tars:protect ("sometimes") must be true or false`)
}

// TestHarnessRecordsResourceOptions: every option of the registration
// request reaches the graph, the plan's tree, its JSON and the policy
// resources.
func TestHarnessRecordsResourceOptions(t *testing.T) {
	g := mustRun(t, "us-east", harness.WithProgram(func(ctx *pulumi.Context) error {
		first, err := random.NewRandomPassword(ctx, "first", &random.RandomPasswordArgs{Length: pulumi.Int(16)})
		if err != nil {
			return err
		}
		_, err = random.NewRandomPassword(ctx, "second", &random.RandomPasswordArgs{Length: pulumi.Int(16)},
			pulumi.Protect(true), pulumi.RetainOnDelete(true), pulumi.DeleteBeforeReplace(true),
			pulumi.IgnoreChanges([]string{"special"}), pulumi.ReplaceOnChanges([]string{"length"}),
			pulumi.Aliases([]pulumi.Alias{{Name: pulumi.String("formerly")}}), pulumi.DependsOn([]pulumi.Resource{first}))
		return err
	}))
	r, ok := g.Find("random:index/randomPassword:RandomPassword", "second")
	require.True(t, ok)
	assert.True(t, r.Protect)
	assert.True(t, r.RetainOnDelete)
	assert.True(t, r.DeleteBeforeReplace)
	assert.Equal(t, []string{"special"}, r.IgnoreChanges)
	assert.Equal(t, []string{"length"}, r.ReplaceOnChanges)
	assert.Equal(t, []string{"name=formerly"}, r.Aliases)
	first, _ := g.Find("random:index/randomPassword:RandomPassword", "first")
	assert.Equal(t, []string{first.URN}, r.Dependencies)
	assert.Empty(t, first.OptionList(), "no options, none shown")
	assert.Equal(t, []string{"protect", "retainOnDelete", "deleteBeforeReplace", "ignoreChanges=[special]", "replaceOnChanges=[length]", "aliases=[name=formerly]", "dependsOn=1"}, r.OptionList())

	var text bytes.Buffer
	require.NoError(t, g.WriteText(&text))
	assert.Contains(t, text.String(), "random:index/randomPassword:RandomPassword  second  {protect, retainOnDelete, deleteBeforeReplace, ignoreChanges=[special], replaceOnChanges=[length], aliases=[name=formerly], dependsOn=1}\n")
	assert.Contains(t, text.String(), "random:index/randomPassword:RandomPassword  first\n")
	assert.Contains(t, text.String(), "Protected (a destroy, or a change that deletes or replaces one, is refused): 1\n  random:index/randomPassword:RandomPassword  second  (retained on delete)\n")
	for _, jr := range g.JSON().Resources {
		if jr.Name == "second" {
			require.NotNil(t, jr.Options)
			assert.True(t, jr.Options.Protect && jr.Options.RetainOnDelete && jr.Options.DeleteBeforeReplace)
			assert.Equal(t, []string{first.URN}, jr.Options.DependsOn)
		}
		if jr.Name == "first" {
			assert.Nil(t, jr.Options)
		}
	}
	for _, pr := range g.PolicyResources() {
		if pr.Name == "second" {
			assert.True(t, pr.Options.Protect, "the policies see protect, as in the engine's analyzer request")
			assert.True(t, pr.Options.DeleteBeforeReplace)
			assert.Equal(t, []string{"special"}, pr.Options.IgnoreChanges)
		}
	}
}

// TestRenamesAliasTheFormerName: a component renamed through the table is
// registered under its new name, aliased to the former one, and its
// children carry the new name (so they inherit the alias); components not
// renamed have no alias of a name.
func TestRenamesAliasTheFormerName(t *testing.T) {
	g := mustRun(t, "us-east", harness.WithProgram(stacks.DeployWith(stacks.Renames{"redis": {"cache"}, "cluster": {"platform"}})))
	for _, c := range []struct{ typ, name, former string }{
		{"tars:redis:Cluster", "us-east-cache", "us-east-redis"},
		{"tars:cluster:Cluster", "us-east-platform", "us-east"},
	} {
		r, ok := g.Find(c.typ, c.name)
		require.True(t, ok, c.name)
		assert.Equal(t, []string{"name=" + c.former}, r.Aliases, c.name)
		kids := g.Children(r.URN)
		require.NotEmpty(t, kids)
		for _, k := range kids {
			assert.True(t, strings.HasPrefix(k.Name, c.name), "%s's child %s is named after it (it inherits the alias)", c.name, k.Name)
		}
	}
	sts, ok := g.Find("kubernetes:apps/v1:StatefulSet", "us-east-cache")
	require.True(t, ok)
	assert.True(t, sts.Protect, "the renamed StatefulSet stays protected")
	plain := mustRun(t, "us-east")
	for _, r := range plain.Resources {
		for _, a := range r.Aliases {
			assert.NotContains(t, a, "name=", "%s: no rename in Renamed, no name alias", r.Name)
		}
	}
	assert.Empty(t, stacks.Renamed, "no component of the deployed stacks has been renamed")
}
