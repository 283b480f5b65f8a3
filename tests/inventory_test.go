package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/alerting"
	"github.com/tars-platform/infra/slo"
)

// scrapeLabels are the labels Prometheus puts on every series of a
// ServiceMonitor or PodMonitor target, whatever the exporter exports.
var scrapeLabels = []string{"job", "instance", "namespace", "pod", "service", "container", "endpoint"}

// synthetic are the series Prometheus itself writes for every target and
// every alert.
var synthetic = map[string][]string{
	"up": nil, "scrape_duration_seconds": nil, "scrape_samples_scraped": nil,
	"ALERTS": {"alertname", "alertstate", "severity"}, "ALERTS_FOR_STATE": {"alertname", "severity"},
}

// produced is what a series name can carry: the family's labels, closed
// value sets, and whether anything produces it.
type produced struct {
	labels map[string]bool
	values map[string][]string
	from   []string // exporter names
	open   bool     // a recording rule's output: labels not checked
}

// inventory indexes every exporter's families by the series names they
// expose (a histogram's _bucket, _sum and _count; a summary's base, _sum
// and _count), plus the recording rules' outputs and Prometheus's own.
func inventory(t *testing.T, recorded []string) map[string]*produced {
	t.Helper()
	idx := map[string]*produced{}
	add := func(name, from string, m slo.Metric, extra ...string) {
		p := idx[name]
		if p == nil {
			p = &produced{labels: map[string]bool{}, values: map[string][]string{}}
			idx[name] = p
		}
		p.from = append(p.from, from)
		for _, l := range append(slices.Clone(m.Labels), extra...) {
			p.labels[l] = true
		}
		for l, vs := range m.Values {
			p.values[l] = append(p.values[l], vs...)
		}
	}
	for _, e := range slo.Inventory() {
		require.NotEmpty(t, e.Source, "%s: no source", e.Name)
		require.NotEmpty(t, e.Version, "%s: no version", e.Name)
		for _, m := range e.Metrics {
			switch m.Type {
			case slo.TypeHistogram:
				add(m.Name+"_bucket", e.Name, m, "le")
				add(m.Name+"_sum", e.Name, m)
				add(m.Name+"_count", e.Name, m)
			case slo.TypeSummary:
				add(m.Name, e.Name, m, "quantile")
				add(m.Name+"_sum", e.Name, m)
				add(m.Name+"_count", e.Name, m)
			case slo.TypeCounter, slo.TypeGauge:
				add(m.Name, e.Name, m)
			default:
				t.Fatalf("%s %s: unknown type %q", e.Name, m.Name, m.Type)
			}
		}
	}
	for name, ls := range synthetic {
		add(name, "prometheus", slo.Metric{Name: name, Labels: ls})
	}
	for _, r := range recorded {
		add(r, "recording rule", slo.Metric{Name: r})
		idx[r].open = true
	}
	return idx
}

// queries are every PromQL expression the platform evaluates: each alert
// and recording rule, each dashboard panel target, of the full catalog
// (every optional feature on, slo.AllFeatures).
func queries(t *testing.T) (map[string]string, []string) {
	t.Helper()
	groups, err := slo.AllRuleGroupsFor(context.Background(), slo.AllFeatures)
	require.NoError(t, err)
	out := map[string]string{}
	var recorded []string
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded = append(recorded, r.Record)
				out["record "+g.Name+"/"+r.Record] = r.Expr
			} else {
				out["alert "+g.Name+"/"+r.Alert] = r.Expr
			}
		}
	}
	for _, d := range alerting.Dashboards {
		js, err := d.JSON()
		require.NoError(t, err)
		var doc struct {
			Panels []struct {
				Title   string                  `json:"title"`
				Targets []struct{ Expr string } `json:"targets"`
			} `json:"panels"`
		}
		require.NoError(t, json.Unmarshal([]byte(js), &doc))
		for _, p := range doc.Panels {
			for i, tg := range p.Targets {
				out[fmt.Sprintf("dashboard %s/%s#%d", d.UID, p.Title, i)] = tg.Expr
			}
		}
	}
	return out, recorded
}

// inventoryProblems checks every selector of expr against the inventory:
// the series name must be produced, each label matched must be one the
// family carries (or a scrape label), and a value matched on a closed set
// must be in it (a regex must match one of its values). up's job must be
// a scrape job the platform configures.
func inventoryProblems(expr string, idx map[string]*produced) []string {
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return []string{"does not parse: " + err.Error()}
	}
	var out []string
	parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
		if agg, ok := node.(*parser.AggregateExpr); ok && !agg.Without {
			out = append(out, groupingProblems(agg, idx)...)
			return nil
		}
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		var nameRe *labels.Matcher
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type != labels.MatchEqual {
				nameRe = m
			}
		}
		if name == "" && nameRe != nil {
			for n := range idx {
				if nameRe.Matches(n) {
					return nil // a name pattern that something matches
				}
			}
			out = append(out, fmt.Sprintf("no series name matches %s", nameRe))
			return nil
		}
		p := idx[name]
		if p == nil {
			out = append(out, fmt.Sprintf("%s: no exporter, contract or rule produces it", name))
			return nil
		}
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName || p.open {
				continue
			}
			if name == "up" && m.Name == "job" {
				if !anyValueMatches(m, slo.ScrapeJobs) {
					out = append(out, fmt.Sprintf("up{%s}: no scrape job of the platform is named so (jobs: %v)", m, slo.ScrapeJobs))
				}
				continue
			}
			if !p.labels[m.Name] && !slices.Contains(scrapeLabels, m.Name) {
				out = append(out, fmt.Sprintf("%s{%s}: %s has no label %q (from %v)", name, m, name, m.Name, p.from))
				continue
			}
			if vals, closed := p.values[m.Name]; closed && m.Type != labels.MatchNotEqual && m.Type != labels.MatchNotRegexp && !anyValueMatches(m, vals) {
				out = append(out, fmt.Sprintf("%s{%s}: %q takes only %v", name, m, m.Name, vals))
			}
		}
		return nil
	})
	return out
}

// groupingProblems: an aggregation "by (l)" reads l; some series under it
// must carry l (a label nobody sets collapses every series into one group).
func groupingProblems(agg *parser.AggregateExpr, idx map[string]*produced) []string {
	carried := map[string]bool{"le": true, "quantile": true}
	for _, l := range scrapeLabels {
		carried[l] = true
	}
	var names []string
	open := false
	parser.Inspect(agg.Expr, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			names = append(names, n.Name)
			if p := idx[n.Name]; p == nil || p.open {
				open = true // unknown names are reported by the selector check
			} else {
				for l := range p.labels {
					carried[l] = true
				}
			}
		case *parser.Call:
			if n.Func.Name == "label_replace" || n.Func.Name == "label_join" {
				open = true
			}
		}
		return nil
	})
	if open {
		return nil
	}
	var out []string
	for _, g := range agg.Grouping {
		if !carried[g] {
			out = append(out, fmt.Sprintf("by (%s): none of %v carries %q", strings.Join(agg.Grouping, ", "), names, g))
		}
	}
	return out
}

func anyValueMatches(m *labels.Matcher, values []string) bool {
	for _, v := range values {
		if m.Matches(v) {
			return true
		}
	}
	return false
}

// TestInventoryEveryQueryReadsWhatIsExported parses every alert, recording
// rule and dashboard query and fails on a series name, label or label
// value that no exporter the platform runs (at its pinned version), no
// T.A.R.S. service contract and no recording rule produces.
func TestInventoryEveryQueryReadsWhatIsExported(t *testing.T) {
	qs, recorded := queries(t)
	idx := inventory(t, recorded)
	keys := make([]string, 0, len(qs))
	for k := range qs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	bad := 0
	for _, k := range keys {
		for _, p := range inventoryProblems(qs[k], idx) {
			t.Errorf("%s: %s", k, p)
			bad++
		}
	}
	t.Logf("%d queries checked against %d exporters (%d series names); %d problems", len(qs), len(slo.Inventory()), len(idx), bad)
}

// TestInventoryCheckerRejects: the checker itself finds a name nobody
// exports, a label the family lacks, a value outside a closed set and an
// unknown scrape job.
func TestInventoryCheckerRejects(t *testing.T) {
	_, recorded := queries(t)
	idx := inventory(t, recorded)
	for _, tc := range []struct{ expr, want string }{
		{`pg_up == 0`, "pg_up: no exporter"},
		{`sum(rate(traces_spanmetrics_calls_total[5m]))`, "traces_spanmetrics_calls_total: no exporter"},
		{`kube_pod_status_phase{phase="Crashing"}`, `takes only`},
		{`kube_pod_status_phase{slow="true"}`, `has no label "slow"`},
		{`up{job="cluster-autoscaler"} == 0`, "no scrape job"},
	} {
		got := strings.Join(inventoryProblems(tc.expr, idx), "; ")
		assert.Contains(t, got, tc.want, tc.expr)
	}
	assert.Empty(t, inventoryProblems(`sum(rate(kube_pod_container_status_restarts_total{namespace="tars"}[5m]))`, idx))
	assert.Contains(t, strings.Join(inventoryProblems(`sum by (phase) (kube_pod_container_status_restarts_total)`, idx), "; "), `carries "phase"`)
}
