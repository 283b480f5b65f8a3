package slo

import (
	"context"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// Features are the optional parts of a stack the catalog depends on: an
// alert, recording rule or dashboard query that reads a metric only an
// optional exporter produces is rendered only on stacks that run it, so no
// stack evaluates (or shows) queries on series nothing exports.
type Features struct {
	// GPU: the stack runs the GPU node pool (tars:cluster.gpu.enabled) and
	// with it NVIDIA's DCGM exporter (DCGMExporter). On: every query reading
	// a DCGM exporter metric is rendered (the full catalog). Off (the
	// default): none is, so no rule and no panel mentions DCGM_.
	GPU bool
}

// AllFeatures turns every optional feature on: the full catalog, as the
// reviewed lists and the fixture tests see it.
var AllFeatures = Features{GPU: true}

// optionalExporters are the exporters a stack runs only with a feature on,
// each with whether f has it.
func (f Features) optionalExporters() []struct {
	exporter Exporter
	on       bool
} {
	return []struct {
		exporter Exporter
		on       bool
	}{{DCGMExporter, f.GPU}}
}

// MetricNames are the metric names a PromQL expression selects, in order
// of appearance, without duplicates.
func MetricNames(expr string) ([]string, error) {
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var out []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		if name == "" {
			for _, m := range vs.LabelMatchers {
				if m.Name == "__name__" {
					name = m.Value
				}
			}
		}
		if name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
		return nil
	})
	return out, nil
}

// exports reports whether the exporter produces the series name (a
// histogram or summary family also as _bucket, _sum and _count).
func exports(e Exporter, name string) bool {
	for _, m := range e.Metrics {
		switch {
		case m.Name == name:
			return true
		case m.Type == TypeHistogram || m.Type == TypeSummary:
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if m.Name+suffix == name {
					return true
				}
			}
		}
	}
	return false
}

// Needs are the optional exporters whose metrics a PromQL expression reads
// (by exporter name, e.g. "dcgm-exporter"), decided by the metric names it
// selects against each exporter's inventory. An expression that does not
// parse is matched on the inventory's names as text, so it is never
// rendered on a stack without the exporter it names.
func Needs(expr string) []string {
	names, err := MetricNames(expr)
	var out []string
	for _, o := range AllFeatures.optionalExporters() {
		reads := slices.ContainsFunc(names, func(n string) bool { return exports(o.exporter, n) })
		if err != nil {
			reads = slices.ContainsFunc(o.exporter.Metrics, func(m Metric) bool { return strings.Contains(expr, m.Name) })
		}
		if reads {
			out = append(out, o.exporter.Name)
		}
	}
	return out
}

// Renders reports whether a stack with f renders a query: every optional
// exporter it reads is on.
func (f Features) Renders(expr string) bool {
	for _, need := range Needs(expr) {
		for _, o := range f.optionalExporters() {
			if o.exporter.Name == need && !o.on {
				return false
			}
		}
	}
	return true
}

// GroupsFor returns the catalog alert groups a stack with f renders: the
// alerts whose condition reads a metric of an exporter f leaves out are
// dropped, and so is a group left empty.
func GroupsFor(f Features) []Group {
	var out []Group
	for _, g := range allGroups() {
		alerts := slices.DeleteFunc(slices.Clone(g.Alerts), func(a Alert) bool { return !f.Renders(a.Expr()) })
		if len(alerts) == 0 {
			continue
		}
		g.Alerts = alerts
		out = append(out, g)
	}
	return out
}

// AlertsFor returns the catalog alerts a stack with f renders, in group order.
func AlertsFor(f Features) []Alert {
	var out []Alert
	for _, g := range GroupsFor(f) {
		out = append(out, g.Alerts...)
	}
	return out
}

// FindAlertFor returns the catalog alert of a name, if a stack with f renders it.
func FindAlertFor(f Features, name string) (Alert, bool) {
	for _, a := range AlertsFor(f) {
		if a.Name == name {
			return a, true
		}
	}
	return Alert{}, false
}

// filterRules drops the rules a stack with f does not render, and the
// groups left empty.
func filterRules(groups []rulefmt.RuleGroup, f Features) []rulefmt.RuleGroup {
	var out []rulefmt.RuleGroup
	for _, g := range groups {
		g.Rules = slices.DeleteFunc(slices.Clone(g.Rules), func(r rulefmt.Rule) bool { return !f.Renders(r.Expr) })
		if len(g.Rules) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// DashboardRecordingsFor is the dashboards' recording-rule group as a stack
// with f renders it.
func DashboardRecordingsFor(f Features) rulefmt.RuleGroup {
	g := DashboardRecordings()
	g.Rules = slices.DeleteFunc(g.Rules, func(r rulefmt.Rule) bool { return !f.Renders(r.Expr) })
	return g
}

// AllRuleGroupsFor is the whole rule set a stack with f renders: catalog
// groups, the dashboards' recording rules, then the burn-rate groups, each
// without the rules reading an exporter f leaves out.
func AllRuleGroupsFor(ctx context.Context, f Features) ([]rulefmt.RuleGroup, error) {
	burn, err := BurnRateGroups(ctx)
	if err != nil {
		return nil, err
	}
	return filterRules(append(append(RuleGroupsFor(f), DashboardRecordings()), burn...), f), nil
}
