package tests

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/alerting"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/slo"
	"github.com/tars-platform/infra/tests/harness"
)

// The GPU alerts and panels read NVIDIA's DCGM exporter, which a stack runs
// only with the GPU pool (tars:cluster.gpu.enabled, slo.Features.GPU). These
// tests pin that the catalog renders them only then, exactly as the catalog
// states them, on metrics the pinned exporter chart really exports.

// gpuAlerts are the catalog alerts whose PromQL reads a DCGM exporter
// metric: the ones a stack without the GPU pool drops.
var gpuAlerts = []string{"HighGPUMemoryUsage", "HighGPUTemperature"}

// dcgmMetricsOf are the DCGM exporter metric names a PromQL expression selects.
func dcgmMetricsOf(t *testing.T, expr string) []string {
	t.Helper()
	names, err := slo.MetricNames(expr)
	require.NoError(t, err, expr)
	var out []string
	for _, n := range names {
		if slices.ContainsFunc(slo.DCGMExporter.Metrics, func(m slo.Metric) bool { return m.Name == n }) {
			out = append(out, n)
		}
	}
	return out
}

// renderedQueries are every rule expression and dashboard query a stack
// with f renders, by where they are.
func renderedQueries(t *testing.T, f slo.Features) map[string]string {
	t.Helper()
	groups, err := slo.AllRuleGroupsFor(context.Background(), f)
	require.NoError(t, err)
	out := map[string]string{}
	for _, g := range groups {
		for _, r := range g.Rules {
			out["rule "+g.Name+"/"+r.Alert+r.Record] = r.Expr
		}
	}
	for _, d := range alerting.DashboardsFor(f) {
		for _, p := range d.Panels {
			for i, q := range p.Queries {
				out[fmt.Sprintf("dashboard %s/%s#%d", d.UID, p.Title, i)] = q.Expr
			}
		}
	}
	return out
}

func alertNames(groups []rulefmt.RuleGroup) []string {
	var out []string
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, r.Alert)
			}
		}
	}
	slices.Sort(out)
	return out
}

func findRule(groups []rulefmt.RuleGroup, alert string) (rulefmt.Rule, bool) {
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Alert == alert {
				return r, true
			}
		}
	}
	return rulefmt.Rule{}, false
}

// TestGPUAlertsOnlyWithTheGPUPool: without the GPU pool no rule and no
// panel reads (or even names) a DCGM metric and the GPU alerts are absent;
// with it the catalog is the full one, the GPU alerts as the seed states
// them (85 °C for 5 minutes, critical: P1).
func TestGPUAlertsOnlyWithTheGPUPool(t *testing.T) {
	off := renderedQueries(t, slo.Features{})
	for where, expr := range off {
		assert.Empty(t, dcgmMetricsOf(t, expr), "GPU off: %s reads a DCGM metric: %s", where, expr)
		assert.NotContains(t, expr, "DCGM_", "GPU off: %s", where)
	}
	for _, d := range alerting.DashboardsFor(slo.Features{}) {
		js, err := d.JSON()
		require.NoError(t, err)
		assert.False(t, strings.Contains(js, "DCGM_"), "GPU off: dashboard %s JSON mentions DCGM_", d.UID)
		for _, p := range d.Panels {
			assert.NotEqual(t, "System Resources - GPU", p.Title, d.UID)
		}
	}
	for _, name := range gpuAlerts {
		_, ok := slo.FindAlertFor(slo.Features{}, name)
		assert.False(t, ok, "GPU off: %s is in the catalog", name)
		_, ok = slo.FindAlert(name)
		assert.False(t, ok, "default features: %s is in the catalog", name)
	}
	offGroups, err := slo.AllRuleGroupsFor(context.Background(), slo.Features{})
	require.NoError(t, err)
	for _, name := range gpuAlerts {
		assert.NotContains(t, alertNames(offGroups), name, "GPU off: rendered")
	}

	// GPU on: the DCGM reads are there, rules and panels.
	on := renderedQueries(t, slo.AllFeatures)
	dcgm := 0
	for _, expr := range on {
		if len(dcgmMetricsOf(t, expr)) > 0 {
			dcgm++
		}
	}
	assert.Equal(t, 2+3, dcgm, "GPU on: the two GPU alerts and the GPU panel's three queries read DCGM metrics")
	assert.Equal(t, alerting.Dashboards, alerting.DashboardsFor(slo.AllFeatures), "GPU on: the dashboards as declared")
	onGroups, err := slo.AllRuleGroupsFor(context.Background(), slo.AllFeatures)
	require.NoError(t, err)

	temp, ok := findRule(onGroups, "HighGPUTemperature")
	require.True(t, ok, "GPU on: HighGPUTemperature rendered")
	assert.Equal(t, `max by (gpu, Hostname) (DCGM_FI_DEV_GPU_TEMP) > 85`, temp.Expr)
	assert.Equal(t, 5*time.Minute, time.Duration(temp.For))
	assert.Equal(t, "P1", temp.Labels["severity"], "seed: critical")
	a, ok := slo.FindAlertFor(slo.AllFeatures, "HighGPUTemperature")
	require.True(t, ok)
	assert.Equal(t, slo.Above, a.Op)
	assert.Equal(t, 85.0, a.Threshold)
	assert.Equal(t, 5*time.Minute, a.For)
	assert.Equal(t, slo.P1, a.Severity)
	assert.Equal(t, "tars_system_alerts", a.Group)

	mem, ok := findRule(onGroups, "HighGPUMemoryUsage")
	require.True(t, ok, "GPU on: HighGPUMemoryUsage rendered")
	assert.Equal(t, `max by (gpu, Hostname) (DCGM_FI_DEV_FB_USED / ((DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) > 0)) * 100 > 95`, mem.Expr)
	assert.Equal(t, 10*time.Minute, time.Duration(mem.For))
	assert.Equal(t, "P2", mem.Labels["severity"])
	a, ok = slo.FindAlertFor(slo.AllFeatures, "HighGPUMemoryUsage")
	require.True(t, ok)
	assert.Equal(t, 95.0, a.Threshold)
	assert.Equal(t, 10*time.Minute, a.For)
	assert.Equal(t, slo.P2, a.Severity)
	assert.Equal(t, "tars_system_alerts", a.Group)

	// Off is on minus exactly the rules reading DCGM metrics, in order.
	require.Equal(t, len(onGroups), len(offGroups), "no group is left empty")
	for i := range onGroups {
		want := slices.DeleteFunc(slices.Clone(onGroups[i].Rules), func(r rulefmt.Rule) bool { return len(dcgmMetricsOf(t, r.Expr)) > 0 })
		assert.Equal(t, want, offGroups[i].Rules, "group %s", onGroups[i].Name)
	}
}

// chartCounters are the uncommented fields of the exporter chart's default
// counters (templates/metrics-configmap.yaml), which the exporter exports
// under the field's name.
func chartCounters(t *testing.T) map[string]string {
	t.Helper()
	require.Equal(t, versions.DCGMExporter.Version, slo.DCGMExporter.Version, "the inventory is of the pinned chart")
	archive := filepath.Join(chartsDir(t), "dcgm-exporter-"+versions.DCGMExporter.Version+".tgz")
	f, err := os.Open(archive)
	require.NoError(t, err, "the pinned chart archive")
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if h.Name != "dcgm-exporter/templates/metrics-configmap.yaml" {
			continue
		}
		out := map[string]string{}
		sc := bufio.NewScanner(tr)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(line, "#") || !strings.HasPrefix(line, "DCGM_") {
				continue
			}
			fields := strings.Split(line, ",")
			require.GreaterOrEqual(t, len(fields), 2, line)
			out[strings.TrimSpace(fields[0])] = strings.TrimSpace(fields[1])
		}
		require.NoError(t, sc.Err())
		require.NotEmpty(t, out, "no counters in %s", h.Name)
		return out
	}
	t.Fatalf("%s has no templates/metrics-configmap.yaml", archive)
	return nil
}

// TestGPUAlertMetricsAreExportedByTheChart: every DCGM metric a GPU alert
// or panel reads is an uncommented default counter of the pinned
// dcgm-exporter chart, and the labels the alerts group by are labels the
// exporter sets.
func TestGPUAlertMetricsAreExportedByTheChart(t *testing.T) {
	counters := chartCounters(t)
	used := map[string]bool{}
	for where, expr := range renderedQueries(t, slo.AllFeatures) {
		for _, n := range dcgmMetricsOf(t, expr) {
			used[n] = true
			_, ok := counters[n]
			assert.True(t, ok, "%s reads %s, which dcgm-exporter %s does not export by default", where, n, versions.DCGMExporter.Version)
		}
		// Any DCGM_ name, even one not in the inventory.
		names, err := slo.MetricNames(expr)
		require.NoError(t, err)
		for _, n := range names {
			if strings.HasPrefix(n, "DCGM_") {
				_, ok := counters[n]
				assert.True(t, ok, "%s reads %s, not a default counter of the chart", where, n)
			}
		}
	}
	for _, n := range []string{"DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_GPU_UTIL"} {
		assert.True(t, used[n], "%s is read by a GPU alert or panel", n)
	}
	// The inventory is exactly the chart's default counters, with their types.
	inv := map[string]string{}
	for _, m := range slo.DCGMExporter.Metrics {
		inv[m.Name] = string(m.Type)
	}
	assert.Equal(t, counters, inv, "slo.DCGMExporter.Metrics against the chart's metrics-configmap.yaml")

	// The labels the GPU alerts group by are the exporter's.
	for _, name := range gpuAlerts {
		a, ok := slo.FindAlertFor(slo.AllFeatures, name)
		require.True(t, ok, name)
		expr, err := parser.ParseExpr(a.Expr())
		require.NoError(t, err)
		var by []string
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			if ag, ok := n.(*parser.AggregateExpr); ok && !ag.Without {
				by = append(by, ag.Grouping...)
			}
			return nil
		})
		assert.ElementsMatch(t, []string{"gpu", "Hostname"}, by, name)
		for _, n := range dcgmMetricsOf(t, a.Expr()) {
			i := slices.IndexFunc(slo.DCGMExporter.Metrics, func(m slo.Metric) bool { return m.Name == n })
			require.GreaterOrEqual(t, i, 0, n)
			for _, l := range by {
				assert.Contains(t, slo.DCGMExporter.Metrics[i].Labels, l, "%s groups %s by %s", name, n, l)
			}
		}
	}
}

// TestGPUAlertFixturesFireOnTheEngine: the GPU alerts are exactly the
// catalog alerts a stack without the GPU pool drops, and their Firing and
// Healthy fixtures run through Prometheus's rule engine: firing after
// their for, silent when healthy.
func TestGPUAlertFixturesFireOnTheEngine(t *testing.T) {
	def := map[string]bool{}
	for _, a := range slo.AlertsFor(slo.Features{}) {
		def[a.Name] = true
	}
	var dropped []slo.Alert
	for _, a := range slo.AlertsFor(slo.AllFeatures) {
		if !def[a.Name] {
			dropped = append(dropped, a)
		}
	}
	var names []string
	for _, a := range dropped {
		names = append(names, a.Name)
	}
	slices.Sort(names)
	require.Equal(t, gpuAlerts, names)
	for _, a := range dropped {
		t.Run(a.Name, func(t *testing.T) {
			require.NotEmpty(t, a.Firing)
			require.NotEmpty(t, a.Healthy)
			group := ruleFor(a)
			require.Len(t, group.Rules, 1)
			ev := runRules(t, []rulefmt.RuleGroup{group}, a.Firing)
			first, ok := ev.firstFiring[a.Name]
			require.True(t, ok, "%s never fired on its firing fixture", a.Name)
			assert.GreaterOrEqual(t, first, a.For)
			require.NotEmpty(t, ev.final[a.Name])
			got := ev.final[a.Name][0]
			assert.Equal(t, "gpu-node-1", got.Labels.Get("Hostname"))
			assert.Equal(t, "0", got.Labels.Get("gpu"))
			assert.Equal(t, string(a.Severity), got.Labels.Get("severity"))
			ev = runRules(t, []rulefmt.RuleGroup{group}, a.Healthy)
			assert.False(t, ev.everActive[a.Name], "%s became active on its healthy fixture", a.Name)
		})
	}
}

// alertingProgram creates only the alerting component, with gpu.
func alertingProgram(gpu bool) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		ns, err := corev1.NewNamespace(ctx, "monitoring", &corev1.NamespaceArgs{Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("monitoring")}})
		if err != nil {
			return err
		}
		_, err = alerting.New(ctx, "gpu", alerting.Args{
			Region: "us-east", DependsOn: []pulumi.Resource{ns}, PagingDeferred: true, GPU: gpu,
			Notify: alerting.Notify{
				SlackChannel: "#tars-alerts", SMTPSmarthost: "smtp.example.com:587",
				SMTPFrom: "alerts@example.com", EmailTo: "oncall@example.com",
			},
			SlackWebhookURL:   pulumi.ToSecret(pulumi.String("https://hooks.slack.com/services/T0/B0/x")).(pulumi.StringOutput),
			DeadMansSwitchURL: pulumi.ToSecret(pulumi.String("https://hc-ping.com/x")).(pulumi.StringOutput),
			SMTPPassword:      pulumi.ToSecret(pulumi.String("pw")).(pulumi.StringOutput),
		})
		return err
	}
}

// graphDCGM lists the alerting component's objects that mention DCGM_ and
// the alerts its PrometheusRules carry.
func graphDCGM(t *testing.T, g *harness.Graph, component string) (mentions, alerts []string) {
	t.Helper()
	for _, r := range g.Filter(func(r harness.Resource) bool {
		return (r.Type == "kubernetes:monitoring.coreos.com/v1:PrometheusRule" || r.Type == "kubernetes:core/v1:ConfigMap") &&
			g.Component(r).Name == component
	}) {
		if r.Type == "kubernetes:monitoring.coreos.com/v1:PrometheusRule" {
			for _, grp := range asList(r.Input("spec.groups")) {
				for _, rule := range asList(asMap(grp)["rules"]) {
					if a, _ := asMap(rule)["alert"].(string); a != "" {
						alerts = append(alerts, a)
					}
				}
			}
		}
		if strings.Contains(fmt.Sprint(r.PlainInputs()), "DCGM_") {
			mentions = append(mentions, r.Name)
		}
	}
	slices.Sort(mentions)
	return mentions, alerts
}

// TestGPUAlertingComponent: the component's GPU arg decides; the real
// stacks (no GPU pool by default) render no DCGM query at all.
func TestGPUAlertingComponent(t *testing.T) {
	g, err := harness.Run("us-east", harness.WithProgram(alertingProgram(false)))
	require.NoError(t, err)
	mentions, alerts := graphDCGM(t, g, "gpu")
	assert.Empty(t, mentions, "GPU off")
	require.NotEmpty(t, alerts)
	for _, name := range gpuAlerts {
		assert.NotContains(t, alerts, name, "GPU off")
	}

	g, err = harness.Run("us-east", harness.WithProgram(alertingProgram(true)))
	require.NoError(t, err)
	mentions, alerts = graphDCGM(t, g, "gpu")
	assert.Equal(t, []string{"gpu-dashboard-tars-rag", "gpu-tars-system-alerts"}, mentions, "GPU on")
	for _, name := range gpuAlerts {
		assert.Contains(t, alerts, name, "GPU on")
	}

	for _, stack := range Stacks {
		g := mustRun(t, stack)
		mentions, _ := graphDCGM(t, g, stack+"-alerting")
		assert.Empty(t, mentions, "%s: the stack's default (no GPU pool)", stack)
	}
}
