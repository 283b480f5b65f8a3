package tests

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/internal/helmchart"
	"github.com/tars-platform/infra/tests/charttier"
	"github.com/tars-platform/infra/tests/harness"
	"github.com/tars-platform/infra/tests/kubeapi"
)

// The chart tier: every Helm release of both stacks is rendered from the
// pinned archive as its Release resource would install it, and checked:
// the chart's schema accepts the values, every key the program sets is a
// key of the chart, every image is pinned, every rendered object passes
// the API server, and what the program means the chart to do (a service
// account for IRSA, disruption budgets and spreads that select their pods)
// is what the chart renders.

// chartsDir is the archive directory; a missing archive fails the test
// that needs it, naming the archive and the pull command.
func chartsDir(t *testing.T) string {
	t.Helper()
	d, err := helmchart.Dir()
	require.NoError(t, err)
	return d
}

// renderedStacks renders each stack's releases once per test binary.
var renderedStacks = struct {
	sync.Mutex
	m map[string]renderedStack
}{m: map[string]renderedStack{}}

type renderedStack struct {
	graph    *harness.Graph
	releases []charttier.Rendered
	took     time.Duration
}

func renderStack(t *testing.T, stack string) renderedStack {
	t.Helper()
	return renderStackVariant(t, stack, "", nil)
}

// renderStackVariant renders the stack run with opts, cached under
// stack/variant ("" for the stack as configured).
func renderStackVariant(t *testing.T, stack, variant string, opts []harness.Option) renderedStack {
	t.Helper()
	renderedStacks.Lock()
	defer renderedStacks.Unlock()
	key := stack
	if variant != "" {
		key += "/" + variant
	}
	if rs, ok := renderedStacks.m[key]; ok {
		return rs
	}
	g := mustRun(t, stack, opts...)
	start := time.Now()
	rels, err := charttier.Render(context.Background(), g, chartsDir(t))
	require.NoError(t, err)
	rs := renderedStack{graph: g, releases: rels, took: time.Since(start)}
	renderedStacks.m[key] = rs
	return rs
}

// TestChartsPinsMatchArchives: every pinned chart's archive is in the
// chart directory and its Chart.yaml says the pinned name, version and
// appVersion; the releases of both stacks install pinned charts from the
// pinned repository.
func TestChartsPinsMatchArchives(t *testing.T) {
	dir := chartsDir(t)
	for _, c := range versions.Charts {
		_, err := helmchart.Load(dir, charttier.Ref(c))
		assert.NoError(t, err, c.Archive())
	}
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		rels, err := charttier.Releases(g)
		require.NoError(t, err)
		require.NotEmpty(t, rels)
		for _, r := range rels {
			assert.Equal(t, r.Pin.Repository, r.Repository, "%s: repository", r.Name)
		}
	}
}

// TestChartsMissingArchiveNamesThePullCommand: an archive that is not
// there is an error naming it and the command that fetches it.
func TestChartsMissingArchiveNamesThePullCommand(t *testing.T) {
	_, err := helmchart.Load(t.TempDir(), charttier.Ref(versions.CertManager))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cert-manager-v1.21.1.tgz")
	assert.Contains(t, err.Error(), "go run ./cmd/tarsctl charts pull")
}

// TestChartsRender renders every release of both stacks and checks each
// against its chart: the schema, the keys, the images. It reports how long
// rendering took.
func TestChartsRender(t *testing.T) {
	for _, stack := range Stacks {
		t.Run(stack, func(t *testing.T) {
			rs := renderStack(t, stack)
			for _, r := range rs.releases {
				t.Run(r.Name, func(t *testing.T) {
					out := r.Output
					require.NotEmpty(t, out.Objects, "the release renders no objects")
					// Schema: on a fresh copy (Render changed r.Chart).
					ch, err := helmchart.Load(chartsDir(t), r.Ref())
					require.NoError(t, err)
					assert.NoError(t, helmchart.Schema(ch, r.Values), "values.schema.json")
					// Keys the chart does not have, less the reviewed exceptions.
					var unknown []string
					for _, p := range helmchart.UnknownKeys(helmchart.Defaults(ch), r.Values) {
						if !chartKeyException(r.Chart, p.Path) {
							unknown = append(unknown, p.String())
						}
					}
					assert.Empty(t, unknown, "values the chart does not know (ignored silently by Helm)")
					for _, img := range helmchart.Images(charttier.Namespaced(out.All(), r.Namespace)) {
						assert.NoError(t, helmchart.CheckPinned(img.Ref), img.Where)
					}
					t.Logf("%s %s: %d CRDs, %d objects, %d hooks, API versions from dependencies %d, rendered in %s",
						r.Chart, r.Version, len(out.CRDs), len(out.Objects), len(out.Hooks), len(r.APIVersions), r.Took.Round(time.Millisecond))
				})
			}
			t.Logf("%s: %d releases rendered in %s", stack, len(rs.releases), rs.took.Round(time.Millisecond))
		})
	}
}

// TestChartsAPIServerAcceptsEveryObject applies every rendered object of
// each stack, CRDs first and for real, then everything else (hooks too)
// with server-side dry-run and strict field validation; the stack's own
// objects are applied by TestConformanceStacks on the same server, with
// these CRDs installed.
func TestChartsAPIServerAcceptsEveryObject(t *testing.T) {
	t.Parallel() // slow and independent: runs beside the other slow tiers
	srv := kubeAPI(t)
	ctx := context.Background()
	for _, stack := range Stacks {
		t.Run(stack, func(t *testing.T) {
			rs := renderStack(t, stack)
			n, err := installChartCRDs(ctx, srv, rs.releases)
			require.NoError(t, err)
			applyNamespaces(t, srv, rs)
			kinds := map[string]int{}
			total := 0
			fromCharts := chartServedAPIs(rs.releases, nil)
			for _, r := range rs.releases {
				// A custom resource whose CRD another release installs is
				// created only after that release: the server here has every
				// CRD, a fresh cluster would not.
				before := chartServedAPIs(rs.releases, append(slices.Clone(r.After), r.URN))
				objs := slices.Concat(r.Output.Objects, r.Output.Hooks)
				for _, o := range charttier.Namespaced(objs, r.Namespace) {
					gvk := fmt.Sprintf("%v/%v", o["apiVersion"], o["kind"])
					if fromCharts[gvk] && !before[gvk] {
						t.Errorf("%s (release %s) is a %s, whose CRD a release it does not depend on installs", objectID(o), r.Name, gvk)
					}
					err := srv.Apply(ctx, o, true)
					assert.NoError(t, err, "%s (release %s)", objectID(o), r.Name)
					kinds[fmt.Sprint(o["kind"])]++
					total++
				}
			}
			t.Logf("%s: %d CRDs installed, %d chart objects accepted by kube-apiserver %s: %v", stack, n, total, versions.KubeAPIServer, kinds)
		})
	}
}

// chartServedAPIs are the "group/version/Kind"s the CRDs of the releases
// named by URN serve (all releases when urns is nil).
func chartServedAPIs(rels []charttier.Rendered, urns []string) map[string]bool {
	out := map[string]bool{}
	for _, r := range rels {
		if urns != nil && !slices.Contains(urns, r.URN) {
			continue
		}
		for _, v := range helmchart.CRDAPIVersions(r.Output.CRDs) {
			out[v] = true
		}
	}
	return out
}

// installChartCRDs installs the CRDs of every release for real (objects of
// their kinds are then validated against them) and waits until they are
// established.
func installChartCRDs(ctx context.Context, srv *kubeapi.Server, rels []charttier.Rendered) (int, error) {
	var names []string
	for _, r := range rels {
		for _, c := range r.Output.CRDs {
			if err := srv.Apply(ctx, c.Body, false); err != nil {
				return 0, fmt.Errorf("release %s: CRD %s: %w", r.Name, c.Name(), err)
			}
			names = append(names, c.Name())
		}
	}
	return len(names), srv.WaitEstablished(ctx, names, time.Minute)
}

// applyNamespaces creates, for real, the namespaces the releases install
// into and any a chart renders, so the namespaced objects can be admitted.
func applyNamespaces(t *testing.T, srv *kubeapi.Server, rs renderedStack) {
	t.Helper()
	ctx := context.Background()
	seen := map[string]bool{}
	for _, r := range rs.releases {
		if !seen[r.Namespace] {
			seen[r.Namespace] = true
			require.NoError(t, srv.Apply(ctx, map[string]any{
				"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": r.Namespace},
			}, false))
		}
		for _, o := range r.Output.Objects {
			if o.Kind() == "Namespace" {
				require.NoError(t, srv.Apply(ctx, o.Body, false))
			}
		}
	}
}

func objectID(o map[string]any) string {
	meta, _ := o["metadata"].(map[string]any)
	return fmt.Sprintf("%v %v/%v", o["kind"], meta["namespace"], meta["name"])
}

// TestChartsIRSAServiceAccountIsTheTrustedOne: for every release with an
// IRSA role, the chart renders exactly one ServiceAccount annotated with
// the role's ARN, and it is the namespace/name the role's trust policy
// names — the IRSA wiring works only if both agree.
func TestChartsIRSAServiceAccountIsTheTrustedOne(t *testing.T) {
	for _, stack := range Stacks {
		rs := renderStack(t, stack)
		checked := 0
		for _, r := range rs.releases {
			rel, _ := rs.graph.ByURN(r.URN)
			comp := rs.graph.Component(rel)
			for _, role := range rs.graph.Children(comp.URN) {
				if role.Type != "aws:iam/role:Role" {
					continue
				}
				doc := policyJSON(t, role, "assumeRolePolicy")
				st := statements(t, doc)
				require.Len(t, st, 1)
				var sub string
				for k, v := range st[0]["Condition"].(map[string]any)["StringEquals"].(map[string]any) {
					if strings.HasSuffix(k, ":sub") {
						sub = v.(string)
					}
				}
				arn := harness.MockRoleArn(role.Name)
				var annotated []string
				for _, o := range charttier.Namespaced(r.Output.Objects, r.Namespace) {
					if o["kind"] != "ServiceAccount" {
						continue
					}
					meta := o["metadata"].(map[string]any)
					ann, _ := meta["annotations"].(map[string]any)
					if ann["eks.amazonaws.com/role-arn"] == arn {
						annotated = append(annotated, fmt.Sprintf("system:serviceaccount:%v:%v", meta["namespace"], meta["name"]))
					}
				}
				assert.Equal(t, []string{sub}, annotated, "%s %s: service accounts carrying role %s", stack, r.Name, arn)
				checked++
			}
		}
		assert.Positive(t, checked, "%s: no release with an IRSA role", stack)
	}
}

// TestChartsSelectorsSelectTheirPods: every PodDisruptionBudget a chart
// renders selects the pods of a workload in its namespace, and every
// topology spread constraint selects its own pods; a selector that
// matches nothing protects nothing and no tier above would notice.
func TestChartsSelectorsSelectTheirPods(t *testing.T) {
	for _, stack := range Stacks {
		rs := renderStack(t, stack)
		pdbs, spreads := 0, 0
		for _, r := range rs.releases {
			objs := charttier.Namespaced(r.Output.Objects, r.Namespace)
			for _, o := range objs {
				switch o["kind"] {
				case "PodDisruptionBudget":
					sel := matchLabels(o, "spec", "selector", "matchLabels")
					assert.True(t, slices.ContainsFunc(objs, func(w map[string]any) bool {
						return sameNamespace(o, w) && selects(sel, podLabels(w))
					}), "%s %s: %s selects no pods (%v)", stack, r.Name, objectID(o), sel)
					pdbs++
				case "Deployment", "StatefulSet", "DaemonSet":
					spec := dig(o, "spec", "template", "spec")
					tscs, _ := spec["topologySpreadConstraints"].([]any)
					for _, c := range tscs {
						sel := matchLabels(c.(map[string]any), "labelSelector", "matchLabels")
						assert.True(t, selects(sel, podLabels(o)), "%s %s: %s spreads pods labelled %v, its pods are %v", stack, r.Name, objectID(o), sel, podLabels(o))
						spreads++
					}
				}
			}
		}
		assert.Positive(t, pdbs, "%s: no chart renders a PodDisruptionBudget", stack)
		assert.Positive(t, spreads, "%s: no chart renders a topology spread", stack)
	}
}

func dig(m map[string]any, path ...string) map[string]any {
	cur := m
	for _, p := range path {
		next, _ := cur[p].(map[string]any)
		if next == nil {
			return map[string]any{}
		}
		cur = next
	}
	return cur
}

func matchLabels(m map[string]any, path ...string) map[string]string {
	out := map[string]string{}
	for k, v := range dig(m, path...) {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func podLabels(w map[string]any) map[string]string {
	return matchLabels(w, "spec", "template", "metadata", "labels")
}

func sameNamespace(a, b map[string]any) bool {
	return dig(a, "metadata")["namespace"] == dig(b, "metadata")["namespace"]
}

// selects reports whether a non-empty selector matches the labels.
func selects(sel, labels map[string]string) bool {
	if len(sel) == 0 || len(labels) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// BenchmarkChartsRender renders every release of the us-east stack from
// the archives (load, merge, render, decode), as the chart tier does:
// go test ./tests -run '^$' -bench ChartsRender
func BenchmarkChartsRender(b *testing.B) {
	g, err := harness.Run("us-east")
	require.NoError(b, err)
	dir, err := helmchart.Dir()
	require.NoError(b, err)
	for b.Loop() {
		_, err := charttier.Render(context.Background(), g, dir)
		require.NoError(b, err)
	}
}
