package tests

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/slo"
	"gopkg.in/yaml.v3"
)

// evaluation is what happened to each alert during a run of the rules.
type evaluation struct {
	firstFiring map[string]time.Duration // alertname → first time it fired
	everActive  map[string]bool          // pending or firing at any step
	final       map[string][]*rules.Alert
	// instant queries the storage (fixture and recorded series) at the
	// last evaluation.
	instant func(expr string) promql.Vector
}

// runRules runs rule groups on a fixture the way promtool's unit tests do:
// a rules.Manager loads the rendered YAML, and every group is evaluated each
// minute from 0 to slo.FixtureDuration while the samples up to that minute
// are appended, so recording rules feed the alerts that read them.
func runRules(t *testing.T, groups []rulefmt.RuleGroup, fixture slo.Fixture) evaluation {
	t.Helper()
	ll, err := promqltest.NewLazyLoader(scraped(t, fixture).Load(), promqltest.LazyLoaderOpts{EnableAtModifier: true, EnableNegativeOffset: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ll.Close() })
	b, err := yaml.Marshal(map[string]any{"groups": groups})
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(file, b, 0o644))

	ctx := context.Background()
	m := rules.NewManager(&rules.ManagerOptions{
		QueryFunc:  rules.EngineQueryFunc(ll.QueryEngine(), ll.Storage()),
		Appendable: ll.Storage(),
		Queryable:  ll.Storage(),
		Context:    ctx,
		NotifyFunc: func(context.Context, string, ...*rules.Alert) {},
		Logger:     promslog.NewNopLogger(),
	})
	loaded, errs := m.LoadGroups(slo.EvaluationInterval, labels.EmptyLabels(), "", nil, false, file)
	require.Empty(t, errs)
	var ordered []*rules.Group
	for _, g := range groups {
		rg, ok := loaded[rules.GroupKey(file, g.Name)]
		require.True(t, ok, g.Name)
		for _, r := range rg.AlertingRules() {
			r.SetRestored(true)
		}
		ordered = append(ordered, rg)
	}
	ev := evaluation{firstFiring: map[string]time.Duration{}, everActive: map[string]bool{}, final: map[string][]*rules.Alert{}}
	start := time.Unix(0, 0).UTC()
	for at := time.Duration(0); at <= slo.FixtureDuration; at += slo.FixtureStep {
		ts := start.Add(at)
		ll.WithSamplesTill(ts, func(err error) { require.NoError(t, err) })
		for _, g := range ordered {
			g.Eval(ctx, ts)
		}
		for _, g := range ordered {
			for _, r := range g.AlertingRules() {
				for _, a := range r.ActiveAlerts() {
					ev.everActive[r.Name()] = true
					if _, seen := ev.firstFiring[r.Name()]; !seen && a.State == rules.StateFiring {
						ev.firstFiring[r.Name()] = at
					}
				}
			}
		}
	}
	for _, g := range ordered {
		for _, r := range g.AlertingRules() {
			ev.final[r.Name()] = append(ev.final[r.Name()], r.ActiveAlerts()...)
		}
	}
	end := start.Add(slo.FixtureDuration)
	ev.instant = func(expr string) promql.Vector {
		q, err := ll.QueryEngine().NewInstantQuery(ctx, ll.Storage(), nil, expr, end)
		require.NoError(t, err, expr)
		res := q.Exec(ctx)
		require.NoError(t, res.Err, expr)
		vec, err := res.Vector()
		require.NoError(t, err, expr)
		return vec
	}
	return ev
}

// ruleFor is the rendered rule of a catalog alert (full catalog: every
// optional feature on).
func ruleFor(a slo.Alert) rulefmt.RuleGroup {
	for _, g := range slo.RuleGroupsFor(slo.AllFeatures) {
		for _, r := range g.Rules {
			if r.Alert == a.Name {
				return rulefmt.RuleGroup{Name: g.Name, Interval: g.Interval, Rules: []rulefmt.Rule{r}}
			}
		}
	}
	return rulefmt.RuleGroup{}
}

// TestSLOEveryAlertFiresAndStaysSilent: for every catalog alert, its firing
// fixture makes it fire (not before its `for` has passed) with the
// catalog's labels, and its healthy fixture never makes it even pending.
// The full catalog: the GPU alerts (slo.AllFeatures) are included.
func TestSLOEveryAlertFiresAndStaysSilent(t *testing.T) {
	t.Parallel() // slow and independent: runs beside the other slow tiers
	fired, silent := 0, 0
	for _, a := range slo.AlertsFor(slo.AllFeatures) {
		t.Run(a.Name, func(t *testing.T) {
			require.NotEmpty(t, a.Firing, "no firing fixture")
			require.NotEmpty(t, a.Healthy, "no healthy fixture")
			group := ruleFor(a)
			require.Len(t, group.Rules, 1)

			ev := runRules(t, []rulefmt.RuleGroup{group}, a.Firing)
			first, ok := ev.firstFiring[a.Name]
			require.True(t, ok, "%s never fired on its firing fixture", a.Name)
			assert.GreaterOrEqual(t, first, a.For, "fired before its for (%s)", a.For)
			require.NotEmpty(t, ev.final[a.Name])
			got := ev.final[a.Name][0]
			assert.Equal(t, rules.StateFiring, got.State)
			for k, v := range a.Labels() {
				assert.Equal(t, v, got.Labels.Get(k), "label %s", k)
			}
			assert.Equal(t, a.Name, got.Labels.Get("alertname"))
			assert.NotEmpty(t, got.Annotations.Get("summary"))
			fired++

			ev = runRules(t, []rulefmt.RuleGroup{group}, a.Healthy)
			assert.False(t, ev.everActive[a.Name], "%s became active on its healthy fixture", a.Name)
			silent++
		})
	}
	t.Logf("%d alerts fired on their firing fixtures, %d stayed silent on their healthy fixtures", fired, silent)
}

// TestSLOBurnRateAlerts: for every ratio SLO the sloth-generated rules page
// and ticket on a 15× burn of the error budget and stay silent at 0.9×.
func TestSLOBurnRateAlerts(t *testing.T) {
	t.Parallel() // slow and independent: runs beside the other slow tiers
	all, err := slo.BurnRateGroups(context.Background())
	require.NoError(t, err)
	for _, s := range slo.RatioSLOs() {
		t.Run(s.Name, func(t *testing.T) {
			require.NotNil(t, s.Burn, "ratio SLO without a burn fixture")
			var groups []rulefmt.RuleGroup
			for _, g := range all {
				if strings.HasSuffix(g.Name, "-"+s.Name) {
					groups = append(groups, g)
				}
			}
			require.Len(t, groups, 3, "sli recordings, metadata recordings, alerts")
			budget := 1 - s.Objective/100
			name := slo.BurnRateAlertName(s)

			ev := runRules(t, groups, s.Burn(15*budget))
			sev := map[string]bool{}
			for _, a := range ev.final[name] {
				if a.State == rules.StateFiring {
					sev[a.Labels.Get("severity")] = true
				}
			}
			assert.True(t, sev[string(s.PageSeverity())], "page alert (%s) did not fire at 15x burn", s.PageSeverity())
			assert.True(t, sev[string(s.TicketSeverity())], "ticket alert (%s) did not fire at 15x burn", s.TicketSeverity())

			ev = runRules(t, groups, s.Burn(0.9*budget))
			assert.False(t, ev.everActive[name], "burn-rate alert active at 0.9x burn")
		})
	}
}

// TestSLOZeroTrafficIsNotNaN: with the SLI metrics present but no traffic,
// the SLI recording rules produce 0 or nothing, never NaN, and nothing fires.
func TestSLOZeroTrafficIsNotNaN(t *testing.T) {
	all, err := slo.BurnRateGroups(context.Background())
	require.NoError(t, err)
	s, _ := slo.FindSLO("error-rate")
	// Requests counters exist but never move: no traffic at all.
	fix := slo.Join(slo.Counter(`http_requests_total{status="200"}`, 0), slo.Counter(`http_requests_total{status="500"}`, 0))
	var groups []rulefmt.RuleGroup
	for _, g := range all {
		if strings.HasSuffix(g.Name, "-"+s.Name) {
			groups = append(groups, g)
		}
	}
	ev := runRules(t, groups, fix)
	assert.False(t, ev.everActive[slo.BurnRateAlertName(s)], "no page on zero traffic")
	// Every series the generated recording rules wrote: none is NaN, and
	// the error ratios over the alert windows say "no sample", not 0/0.
	recorded := 0
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Record == "" {
				continue
			}
			for _, smp := range ev.instant(r.Record) {
				recorded++
				assert.False(t, math.IsNaN(smp.F), "%s %s is NaN on zero traffic", r.Record, smp.Metric)
			}
		}
	}
	ratios := ev.instant(`{__name__=~"slo:sli_error:ratio_rate.*", sloth_slo="` + s.Name + `"}`)
	assert.Empty(t, ratios, "zero traffic: the SLI ratios record no sample")
	// The rules did run: the SLO's static series (objective, budget) exist.
	assert.Positive(t, recorded, "the generated rules recorded series")
}

// TestSLOAbsentSLIAlerts: a missing SLI metric raises its own alert.
func TestSLOAbsentSLIAlerts(t *testing.T) {
	all, err := slo.BurnRateGroups(context.Background())
	require.NoError(t, err)
	var absent rulefmt.RuleGroup
	for _, g := range all {
		if g.Name == "tars-slo-sli-absent" {
			absent = g
		}
	}
	require.Len(t, absent.Rules, len(slo.RatioSLOs()))
	// Only the error-rate SLI metric exists: every other SLO's absent alert fires.
	ev := runRules(t, []rulefmt.RuleGroup{absent}, slo.Counter(`http_requests_total{status="200"}`, 1))
	for _, s := range slo.RatioSLOs() {
		_, fired := ev.firstFiring[slo.AbsentAlertName(s)]
		assert.Equal(t, s.Name != "error-rate", fired, s.Name)
	}
}

// TestSLORulesParse: every rendered group parses with rulefmt (strictly)
// and every expression with the PromQL parser.
func TestSLORulesParse(t *testing.T) {
	groups, err := slo.AllRuleGroupsFor(context.Background(), slo.AllFeatures)
	require.NoError(t, err)
	b, err := yaml.Marshal(map[string]any{"groups": groups})
	require.NoError(t, err)
	_, errs := rulefmt.Parse(b, false, model.UTF8Validation)
	require.Empty(t, errs)
	records, alerts := 0, 0
	for _, g := range groups {
		for _, r := range g.Rules {
			_, err := parser.ParseExpr(r.Expr)
			assert.NoError(t, err, "%s/%s%s", g.Name, r.Alert, r.Record)
			if r.Alert != "" {
				alerts++
			} else {
				records++
			}
		}
	}
	t.Logf("%d rule groups: %d recording rules, %d alerting rules", len(groups), records, alerts)
}

// TestSLOCatalogIsConsistent: unique alert names, complete annotations,
// known severities, and every SLO breach level backed by an alert with that
// threshold and severity.
func TestSLOCatalogIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range slo.AlertsFor(slo.AllFeatures) {
		assert.False(t, seen[a.Name], "duplicate alert %s", a.Name)
		seen[a.Name] = true
		_, ok := slo.Target(a.Severity)
		assert.True(t, ok, "%s: unknown severity %q", a.Name, a.Severity)
		for k, v := range a.Annotations() {
			assert.NotEmpty(t, strings.TrimPrefix(strings.TrimPrefix(v, slo.RunbookBase), slo.DashboardBase), "%s: empty %s", a.Name, k)
		}
		assert.NotEmpty(t, a.Team, a.Name)
		assert.NotEmpty(t, a.Source, a.Name)
	}
	assert.False(t, seen["LowTraceCoV"])
	// Breach alerts are rendered on every stack: found among the default
	// features' (no GPU) alerts.
	for _, s := range slo.SLOs {
		for _, b := range s.Breaches {
			a, ok := slo.FindAlertFor(slo.Features{}, b.Alert)
			if !assert.True(t, ok, "%s breach %v names unknown alert %s", s.Name, b.Threshold, b.Alert) {
				continue
			}
			assert.Equal(t, b.Severity, a.Severity, "%s severity", a.Name)
			assert.InDelta(t, b.Threshold, a.Threshold, 1e-9, "%s threshold", a.Name)
			assert.Equal(t, s.Name, a.SLO, a.Name)
		}
	}
	// Every P0/P1/P2 alert can page within its acknowledgement target.
	for _, a := range slo.AlertsFor(slo.AllFeatures) {
		tgt, _ := slo.Target(a.Severity)
		if tgt.Acknowledgement > 0 {
			assert.LessOrEqual(t, slo.TimeToPage(a.For), tgt.Acknowledgement, "%s (%s) pages after %s", a.Name, a.Severity, slo.TimeToPage(a.For))
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	t.Logf("%d catalog alerts in %d groups, %d SLOs (%d with burn-rate alerts)", len(names), len(slo.GroupsFor(slo.AllFeatures)), len(slo.SLOs), len(slo.RatioSLOs()))
}

// TestSLOAvailabilityBreachResolvesAfterTheIncident: a 30-day availability
// breach pages during the incident and resolves once the services have
// been healthy for an hour, though the 30-day figure stays below the level.
func TestSLOAvailabilityBreachResolvesAfterTheIncident(t *testing.T) {
	incident := slo.Join(slo.Gauge(`up{job="tars",instance="a"}`, 1), slo.Fixture{`up{job="tars",instance="b"} 1x60 0x30 1x90`})
	for _, name := range []string{"AvailabilityBelowSLO", "AvailabilityCritical"} {
		a, ok := slo.FindAlert(name)
		require.True(t, ok, name)
		ev := runRules(t, []rulefmt.RuleGroup{ruleFor(a)}, incident)
		_, fired := ev.firstFiring[name]
		assert.True(t, fired, "%s did not page during the incident", name)
		assert.Empty(t, ev.final[name], "%s still active an hour and a half after the incident", name)
	}
}
