package tests

import (
	"context"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/internal/helmchart"
	"github.com/tars-platform/infra/tests/charttier"
	"helm.sh/helm/v3/pkg/chart"
)

// chartKeyExceptions is the one reviewed list of values the program sets
// that a chart reads but its values.yaml does not list (charts often leave
// such keys commented out). Each names the template that reads the key;
// TestChartsKeyExceptionsAreRead proves the template still reads it and
// the program still sets it, so the list cannot go stale.
var chartKeyExceptions = []struct {
	Chart    string // chart name
	Key      string // dotted value path
	Template string // chart-relative template path that reads it
}{
	// Only in a comment of values.yaml; the Alertmanager resource reads it.
	{"kube-prometheus-stack", "alertmanager.alertmanagerSpec.configSecret", "templates/alertmanager/alertmanager.yaml"},
	// Only in a comment of values.yaml ("Please provide these values");
	// the storage helpers read it.
	{"loki", "loki.storage.bucketNames", "templates/_helpers.tpl"},
	// Jaeger's values.yaml lacks (or misspells: topologySpreadContraints)
	// these; the Deployment reads them.
	{"jaeger", "jaeger.strategy", "templates/jaeger/jaeger-deploy.yaml"},
	{"jaeger", "jaeger.resources", "templates/jaeger/jaeger-deploy.yaml"},
	{"jaeger", "jaeger.topologySpreadConstraints", "templates/jaeger/jaeger-deploy.yaml"},
	{"jaeger", "jaeger.podLabels", "templates/jaeger/jaeger-deploy.yaml"},
	{"opensearch", "persistence.storageClass", "templates/statefulset.yaml"},
	{"opentelemetry-collector", "podDisruptionBudget.minAvailable", "templates/pdb.yaml"},
}

// chartFreeFormKeys are values a chart renders whole, every key below them
// as it is (a configuration file written from a map): anything under Key
// is the program's to choose; TestChartsFreeFormKeysAreRenderedWhole
// proves the template still ranges over the map. What lands in the file
// is checked by the component's own tests on the rendered object.
var chartFreeFormKeys = []struct {
	Chart, Key, Template string
	// Ranges is the template's loop over the map.
	Ranges string
}{
	{"grafana", "grafana.ini", "templates/_config.tpl", `range $key, $value := index .Values "grafana.ini"`},
	// Loki's configuration file is the template string loki.config in the
	// chart's values.yaml, rendered by templates/config.yaml; it writes
	// these sections whole.
	{"loki", "loki.limits_config", "values.yaml", "{{- with .Values.loki.limits_config }}\n    limits_config:\n      {{- tpl (. | toYaml) $ | nindent 4 }}"},
	{"loki", "loki.ingester", "values.yaml", "{{- with .Values.loki.ingester }}\n    ingester:\n      {{- tpl (. | toYaml) $ | nindent 4 }}"},
	{"loki", "loki.rulerConfig", "templates/_helpers.tpl", "(.Values.loki.rulerConfig | default dict) | toYaml"},
	// The collector's configuration is the chart's default deep-merged
	// with ours and written whole; the ports map is rendered port by port.
	{"opentelemetry-collector", "config", "templates/_config.tpl", "{{- $config := deepCopy .Values.config }}"},
	{"opentelemetry-collector", "ports", "templates/_config.tpl", "{{- $ports := deepCopy .Values.ports }}\n{{- range $key, $port := $ports }}"},
	{"opensearch", "resources", "templates/statefulset.yaml", "{{- toYaml .Values.resources | nindent 10 }}"},
	{"kubecost", "frontend.resources", "templates/frontend/frontend-deployment.yaml", "{{- toYaml .Values.frontend.resources | nindent 12 }}"},
	{"kubecost", "networkCosts.resources", "templates/network-costs/network-costs-daemonset.yaml", "resources: {{- toYaml .Values.networkCosts.resources | nindent 10 }}"},
	// The pod security context is written whole into every part's pod.
	{"vertical-pod-autoscaler", "podSecurityContext", "templates/recommender-deployment.yaml", "{{- with .Values.podSecurityContext }}\n      securityContext:\n        {{ toYaml . | nindent 8 | trim }}"},
	// Every extraArgs entry becomes a --flag=value.
	{"cluster-autoscaler", "extraArgs", "templates/deployment.yaml", "{{- range $key, $value := .Values.extraArgs }}"},
}

func chartKeyException(chartName, key string) bool {
	for _, e := range chartKeyExceptions {
		if e.Chart == chartName && e.Key == key {
			return true
		}
	}
	for _, f := range chartFreeFormKeys {
		if f.Chart == chartName && strings.HasPrefix(key, f.Key+".") {
			return true
		}
	}
	return false
}

// TestChartsFreeFormKeysAreRenderedWhole: each free-form map is still
// rendered by a loop over all its keys, and some release sets it.
func TestChartsFreeFormKeysAreRenderedWhole(t *testing.T) {
	for _, f := range chartFreeFormKeys {
		i := slices.IndexFunc(versions.Charts, func(c versions.Chart) bool { return c.Name == f.Chart })
		require.GreaterOrEqual(t, i, 0, "free-form key of unpinned chart %s", f.Chart)
		ch, err := helmchart.Load(chartsDir(t), charttier.Ref(versions.Charts[i]))
		require.NoError(t, err)
		var src string
		for _, tpl := range allTemplates(ch, "") {
			if tpl.name == f.Template {
				src = tpl.data
			}
		}
		for _, raw := range ch.Raw {
			if raw.Name == f.Template { // values.yaml: a template string in the values
				src = string(raw.Data)
			}
		}
		assert.Contains(t, src, f.Ranges, "%s: %s no longer renders %s whole", f.Chart, f.Template, f.Key)
		set := false
		for _, stack := range Stacks {
			for _, r := range renderStack(t, stack).releases {
				var v any = r.Values
				for _, k := range strings.Split(f.Key, ".") {
					if m, ok := v.(map[string]any); ok {
						if _, whole := m[f.Key]; whole { // a dotted key ("grafana.ini")
							v = m[f.Key]
							break
						}
						v = m[k]
					}
				}
				if v != nil && r.Chart == f.Chart {
					set = true
				}
			}
		}
		assert.True(t, set, "free-form key %s %s is stale: no release sets it", f.Chart, f.Key)
	}
}

// TestChartsKeyExceptionsAreRead: every exception is a key the chart's
// defaults lack, that some release of a stack sets, and that its named
// template reads.
func TestChartsKeyExceptionsAreRead(t *testing.T) {
	for _, e := range chartKeyExceptions {
		var pin versions.Chart
		for _, c := range versions.Charts {
			if c.Name == e.Chart {
				pin = c
			}
		}
		require.NotEmpty(t, pin.Name, "exception for unpinned chart %s", e.Chart)
		ch, err := helmchart.Load(chartsDir(t), charttier.Ref(pin))
		require.NoError(t, err)
		var src string
		for _, tpl := range allTemplates(ch, "") {
			if tpl.name == e.Template {
				src = tpl.data
			}
		}
		require.NotEmpty(t, src, "%s: chart %s has no template %s", e.Key, e.Chart, e.Template)
		last := e.Key[strings.LastIndex(e.Key, ".")+1:]
		assert.Regexp(t, `\.`+regexp.QuoteMeta(last)+`\b`, src, "%s: %s does not read %s", e.Chart, e.Template, e.Key)
		unknown := false
		used := false
		for _, stack := range Stacks {
			for _, r := range renderStack(t, stack).releases {
				if r.Chart != e.Chart {
					continue
				}
				for _, p := range helmchart.UnknownKeys(helmchart.Defaults(ch), r.Values) {
					if p.Path == e.Key {
						unknown, used = true, true
					}
				}
			}
		}
		assert.True(t, used && unknown, "exception %s %s is stale: no release sets it, or the chart's defaults now have it", e.Chart, e.Key)
	}
}

type template struct{ name, data string }

// allTemplates lists a chart's templates and its dependencies', named
// relative to the top chart ("charts/grafana/templates/…" for a subchart).
func allTemplates(ch *chart.Chart, prefix string) []template {
	var out []template
	for _, f := range ch.Templates {
		out = append(out, template{path.Join(prefix, f.Name), string(f.Data)})
	}
	for _, d := range ch.Dependencies() {
		out = append(out, allTemplates(d, path.Join(prefix, "charts", d.Name()))...)
	}
	return out
}

// TestChartsKeyCheckCatchesMistakes proves the key walk and the schema can
// fail, on the real cert-manager chart: a misspelt key, a key under a
// subtree the chart has, a key the chart only mentions in a comment, a map
// where the chart has a scalar and the reverse are reported; keys below
// pass-through defaults (resources: {}) are not; the schema refuses a
// replica count that is not a number.
func TestChartsKeyCheckCatchesMistakes(t *testing.T) {
	ch, err := helmchart.Load(chartsDir(t), charttier.Ref(versions.CertManager))
	require.NoError(t, err)
	values := map[string]any{
		"replicaCont":    2,                                                    // typo
		"webhook":        map[string]any{"replicas": 2, "replicaCount": 2},     // wrong name in a known subtree
		"serviceAccount": map[string]any{"name": "cm", "create": true},         // only in a comment upstream
		"crds":           "yes",                                                // map in the chart
		"featureGates":   map[string]any{"A": true},                            // string in the chart
		"resources":      map[string]any{"requests": map[string]any{"cpu": 1}}, // pass-through
		"prometheus":     map[string]any{"enabled": true},
	}
	var got []string
	for _, p := range helmchart.UnknownKeys(helmchart.Defaults(ch), values) {
		got = append(got, p.String())
	}
	assert.Equal(t, []string{
		"crds is a map in the chart's values, the program sets string",
		"featureGates is string in the chart's values, the program sets a map",
		"replicaCont is not a key of the chart's values",
		"serviceAccount.name is not a key of the chart's values",
		"webhook.replicas is not a key of the chart's values",
	}, got)

	err = helmchart.Schema(ch, map[string]any{"replicaCount": "two"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "replicaCount")
	assert.NoError(t, helmchart.Schema(ch, map[string]any{"replicaCount": 2}))
}

// TestChartsDefaultsIncludeSubcharts: a key of a dependency is known under
// the dependency's key (its alias when it has one), with the parent's
// overrides, and dependencies' globals are known at the root.
func TestChartsDefaultsIncludeSubcharts(t *testing.T) {
	ch, err := helmchart.Load(chartsDir(t), charttier.Ref(versions.KubePrometheusStack))
	require.NoError(t, err)
	d := helmchart.Defaults(ch)
	values := map[string]any{
		// grafana subchart keys, and the parent's own key under it
		"grafana":            map[string]any{"replicas": 2, "sidecar": map[string]any{"dashboards": map[string]any{"enabled": true}}, "defaultDashboardsEnabled": false},
		"kube-state-metrics": map[string]any{"replicas": 2},
		"prometheus-node-exporter": map[string]any{
			"hostRootFsMount": map[string]any{"enabled": false},
		},
		"grafanna": map[string]any{"replicas": 2},
	}
	var got []string
	for _, p := range helmchart.UnknownKeys(d, values) {
		got = append(got, p.Path)
	}
	assert.Equal(t, []string{"grafanna"}, got)
}

// TestChartsRenderFollowsCapabilities: an API version handed to the render
// reaches the chart's Capabilities, and without it a gated object is not
// rendered — how a chart installed before its CRDs' owner behaves (alloy
// renders its VerticalPodAutoscaler only when autoscaling.k8s.io/v1 is
// served).
func TestChartsRenderFollowsCapabilities(t *testing.T) {
	render := func(apis []string) int {
		ch, err := helmchart.Load(chartsDir(t), charttier.Ref(versions.Alloy))
		require.NoError(t, err)
		out, err := helmchart.Render(context.Background(), helmchart.Input{
			Chart: ch, ReleaseName: "alloy", Namespace: "monitoring", KubeVersion: versions.KubernetesDefault,
			Values: map[string]any{"controller": map[string]any{"autoscaling": map[string]any{
				"vertical": map[string]any{"enabled": true}}}},
			APIVersions: apis,
		})
		require.NoError(t, err)
		n := 0
		for _, o := range out.Objects {
			if o.Kind() == "VerticalPodAutoscaler" {
				n++
			}
		}
		return n
	}
	assert.Equal(t, 1, render([]string{"autoscaling.k8s.io/v1", "autoscaling.k8s.io/v1/VerticalPodAutoscaler"}))
	assert.Equal(t, 0, render(nil))
}
