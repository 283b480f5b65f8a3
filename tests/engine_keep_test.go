package tests

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/stacks"
	"github.com/tars-platform/infra/tests/engine"
)

// Issue #25 on the engine tier: the real Pulumi engine, with the stack as
// `pulumi up` left it, refuses to lose a stateful resource.

// stateResource is a resource of a stack's state.
type stateResource struct {
	URN          string   `json:"urn"`
	Type         string   `json:"type"`
	ID           string   `json:"id"`
	Custom       bool     `json:"custom"`
	Protect      bool     `json:"protect"`
	Retain       bool     `json:"retainOnDelete"`
	Parent       string   `json:"parent"`
	Provider     string   `json:"provider"`
	Dependencies []string `json:"dependencies"`
}

// dependents are, per URN, the resources that depend on it in the state
// (through an explicit or input dependency, as their parent, or as their
// provider): what a destroy deletes before it.
func dependents(rs []stateResource) map[string][]string {
	out := map[string][]string{}
	for _, r := range rs {
		ups := slices.Clone(r.Dependencies)
		if r.Parent != "" {
			ups = append(ups, r.Parent)
		}
		if i := strings.LastIndex(r.Provider, "::"); i > 0 {
			ups = append(ups, r.Provider[:i])
		}
		for _, u := range ups {
			out[u] = append(out[u], r.URN)
		}
	}
	return out
}

// reaches reports whether some resource that (transitively) depends on
// urn is in targets.
func reaches(deps map[string][]string, urn string, targets []string) bool {
	seen := map[string]bool{}
	stack := slices.Clone(deps[urn])
	for len(stack) > 0 {
		u := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[u] {
			continue
		}
		seen[u] = true
		if slices.Contains(targets, u) {
			return true
		}
		stack = append(stack, deps[u]...)
	}
	return false
}

// exportState is the stack's state as the backend holds it.
func exportState(ctx context.Context, t *testing.T, st auto.Stack) []stateResource {
	t.Helper()
	dep, err := st.Export(ctx)
	require.NoError(t, err)
	var state struct {
		Resources []stateResource `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(dep.Deployment, &state))
	return state.Resources
}

// urnName is the logical name at the end of a URN.
func urnName(urn string) string { return urn[strings.LastIndex(urn, "::")+2:] }

// named are the URNs the messages quote after a prefix ("resource ",
// "unable to replace resource ").
func named(msgs []string, pattern string) []string {
	re := regexp.MustCompile(pattern + `"(urn:pulumi:[^"]+)"`)
	var out []string
	for _, m := range msgs {
		for _, x := range re.FindAllStringSubmatch(m, -1) {
			if !slices.Contains(out, x[1]) {
				out = append(out, x[1])
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestEngineKeepsTheStatefulResources deploys us-west, then us-east
// through the real engine, then proves on us-east: a destroy is refused, as an SRE runs it
// (`pulumi destroy --yes`, which previews first) and as its preview, and
// the refusal names every protected resource, the reviewed stateful ones
// among them; nothing is deleted. A config change that would replace the
// Redis StatefulSet (a larger volume) and the EKS cluster (another name)
// fails the preview naming both; with tars:protect off the same change
// plans their replacement (so it is the protection that stops it).
// Renaming every component of the region keeps all its resources through
// aliases: the preview plans nothing, and `up` keeps every ID.
func TestEngineKeepsTheStatefulResources(t *testing.T) {
	if os.Getenv("TARS_SKIP_ENGINE") == "1" {
		t.Skip("TARS_SKIP_ENGINE=1")
	}
	t.Parallel()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	// us-east reads us-west's outputs: the first two runs of the README's
	// order (engine.Order) give us-east its database.
	const stack = "us-east"
	var logs strings.Builder
	require.Equal(t, stack, engine.Order[1])
	rig := deploy(ctx, t, &logs, engine.Order[:2])
	st, err := rig.Stack(ctx, stack)
	require.NoError(t, err)

	before := exportState(ctx, t, st)
	var protected, lines []string
	for _, r := range before {
		if r.Protect {
			protected = append(protected, r.URN)
			lines = append(lines, r.Type+"::"+urnName(r.URN))
		}
	}
	sort.Strings(protected)
	sort.Strings(lines)
	t.Logf("%s: %d of %d resources protected in state:\n  %s", stack, len(protected), len(before), strings.Join(lines, "\n  "))
	// The reviewed stateful resources are among them (names the issue
	// lists, as the program names them).
	for _, want := range []string{
		"aws:eks/cluster:Cluster::us-east-eks",
		"aws:kms/key:Key::us-east-secrets",
		"kubernetes:postgresql.cnpg.io/v1:Cluster::us-east-postgres-cluster",
		"kubernetes:apps/v1:StatefulSet::us-east-redis",
		"kubernetes:apps/v1:StatefulSet::us-east-chromadb",
		"aws:s3/bucketV2:BucketV2::us-east-postgres-wal",
		"aws:s3/bucketV2:BucketV2::us-east-monitoring-thanos",
		"aws:s3/bucketV2:BucketV2::us-east-monitoring-loki",
		"aws:s3/bucketV2:BucketV2::us-east-reports",
		"aws:s3/bucketV2:BucketV2::us-east-chromadb-snapshots",
		"aws:route53/record:Record::us-east-edge-failover",
	} {
		assert.Contains(t, lines, want, "protected in state")
	}

	// 1. A destroy is refused. Its preview names every protected resource.
	_, diags, err := watch(func(ch chan<- events.EngineEvent) error {
		_, err := st.PreviewDestroy(ctx, optdestroy.EventStreams(ch))
		return err
	})
	require.Error(t, err, "the destroy preview fails")
	refused := named(diags, `resource `)
	assert.Contains(t, strings.Join(diags, "\n"), "cannot be deleted\nbecause it is protected")
	// The engine names each protected resource it would delete first, and
	// does not reach what they depend on (the EKS cluster under every
	// Kubernetes object, the namespaces under their claims' owners): each
	// protected resource is named, or a named one depends on it.
	deps := dependents(before)
	var behind []string
	for _, u := range protected {
		if slices.Contains(refused, u) {
			continue
		}
		behind = append(behind, urnName(u))
		assert.True(t, reaches(deps, u, refused), "%s is protected, not named by the destroy, and no named resource depends on it", urnName(u))
	}
	for _, u := range refused {
		assert.Contains(t, protected, u, "the destroy names %s, which is not protected", urnName(u))
	}
	for _, want := range []string{"us-east-postgres-cluster", "us-east-redis", "us-east-chromadb", "us-east-postgres-wal", "us-east-monitoring-thanos", "us-east-monitoring-loki", "us-east-reports", "us-east-chromadb-snapshots"} {
		assert.True(t, slices.ContainsFunc(refused, func(u string) bool { return urnName(u) == want }), "the destroy names %s", want)
	}
	t.Logf("destroy preview: refused, naming %d protected resources; the %d others are under them: %v", len(refused), len(behind), behind)
	// As an SRE runs it: `pulumi destroy --yes` previews first, fails
	// naming the same resources, and deletes nothing.
	out, errOut, code, _ := rig.CLI(ctx, stack, "destroy", "--yes", "--non-interactive")
	assert.NotZero(t, code, "pulumi destroy --yes exits non-zero:\n%s\n%s", out, errOut)
	for _, u := range refused {
		assert.Contains(t, out+errOut, u, "pulumi destroy names %s", urnName(u))
	}
	after := exportState(ctx, t, st)
	assert.Equal(t, len(before), len(after), "pulumi destroy deleted resources")
	assert.ElementsMatch(t, ids(before), ids(after), "every resource keeps its ID")

	// 2. A config change that would replace protected resources fails the
	// preview, naming them; it is the protection that fails it.
	set := func(key, value string) {
		require.NoError(t, st.SetConfigWithOptions(ctx, key, auto.ConfigValue{Value: value}, &auto.ConfigOptions{Path: true}))
	}
	set("tars:redis.storageGiB", "40")
	set("tars:cluster.name", "tars-us-east-2")
	_, diags, err = watch(func(ch chan<- events.EngineEvent) error {
		_, err := st.Preview(ctx, optpreview.EventStreams(ch))
		return err
	})
	require.Error(t, err, "a preview replacing protected resources fails")
	replaced := named(diags, `unable to replace resource `)
	var names []string
	for _, u := range replaced {
		names = append(names, urnName(u))
	}
	assert.Subset(t, names, []string{"us-east-redis", "us-east-eks"}, "the preview names the StatefulSet and the EKS cluster: %s", diags)
	t.Logf("a larger Redis volume and another cluster name: the preview fails naming %v", names)
	set("tars:protect", "false")
	var plog strings.Builder
	steps := preview(ctx, t, st, &plog)
	for _, want := range []string{"us-east-redis", "us-east-eks"} {
		assert.True(t, slices.ContainsFunc(steps, func(s step) bool {
			return urnName(s.URN) == want && (s.Op == "replace" || s.Op == "create-replacement")
		}), "unprotected, the same change plans replacing %s", want)
	}
	for _, key := range []string{"tars:redis", "tars:cluster.name", "tars:protect"} {
		require.NoError(t, st.RemoveConfigWithOptions(ctx, key, &auto.ConfigOptions{Path: true}))
	}
	set("tars:cluster.name", "tars-us-east")
	set("tars:protect", "true")
	plog.Reset()
	assert.Empty(t, preview(ctx, t, st, &plog), "the config restored, nothing to do:\n%s", plog.String())

	// 3. Renaming every component keeps its resources through aliases.
	renames := stacks.Renames{}
	for _, kind := range []string{"cluster", "addons", "monitoring", "apps", "redis", "costs", "reports", "postgres", "grafana", "jwt", "edge", "oncall", "alerting", "chromadb"} {
		renames[kind] = []string{kind + "-renamed"}
	}
	st.Workspace().SetProgram(stacks.DeployWith(renames))
	plog.Reset()
	var changes []string
	for _, s := range preview(ctx, t, st, &plog) {
		changes = append(changes, s.Op+" "+s.Type+" "+urnName(s.URN)+" "+strings.Join(s.Diffs, ","))
	}
	assert.Empty(t, changes, "renaming the components changes nothing but URNs (no replacement, no update: no tag carries a component's name)")
	logs.Reset()
	_, err = st.Up(ctx, optup.ProgressStreams(&logs))
	require.NoError(t, err, logs.String())
	renamed := exportState(ctx, t, st)
	assert.Equal(t, len(before), len(renamed), "the rename keeps the resource count")
	assert.ElementsMatch(t, ids(before), ids(renamed), "every resource keeps its ID through the rename")
	moved := 0
	for _, r := range renamed {
		if strings.Contains(r.URN, "-renamed") {
			moved++
		}
	}
	assert.Greater(t, moved, len(renamed)/2, "the children moved with their components (new URNs)")
	t.Logf("renamed 14 components: %d of %d resources now have URNs under the new names, every ID kept", moved, len(renamed))
	t.Logf("engine keep proofs: %s", time.Since(start).Round(time.Second))
}

// ids are the custom resources' type and ID (what a replacement changes).
func ids(rs []stateResource) []string {
	var out []string
	for _, r := range rs {
		if r.Custom && r.ID != "" && !strings.HasPrefix(r.Type, "pulumi:providers:") {
			out = append(out, r.Type+" "+r.ID)
		}
	}
	return out
}
