package rules

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/tars-platform/infra/slo"
	"gopkg.in/yaml.v3"
)

// Type tokens of the alerting objects.
const (
	typePrometheusRule = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
	typeSecret         = "kubernetes:core/v1:Secret"
	alertmanagerKey    = "alertmanager.yaml"
)

// The SLO rules never restate a number: every threshold, hold, severity
// and acknowledgement target comes from package slo.
func sloPolicies() []policyx.Policy {
	mandatory := policyx.EnforcementLevelMandatory
	return []policyx.Policy{
		stackPolicy("slo-alerts-match-catalog",
			"Every catalog alert is in the PrometheusRules with the catalog's threshold, comparison, `for` and severity; every ratio SLO has its burn-rate alerts.",
			mandatory, alertsMatchCatalog),
		stackPolicy("slo-alert-annotations",
			"Every alerting rule carries summary, description, runbook_url and dashboard annotations and severity and team labels.",
			mandatory, alertAnnotations),
		stackPolicy("alertmanager-routing",
			"Alertmanager sends P0 and P1 to PagerDuty and P2 and P3 to Slack.",
			mandatory, alertmanagerRouting),
		stackPolicy("alert-time-to-page",
			"Each alert's worst-case time to page (scrape interval + rule evaluation interval + for + group_wait) fits its severity's acknowledgement target.",
			mandatory, timeToPage),
	}
}

// promRule is one rule of a PrometheusRule spec.
type promRule struct {
	Alert, Record, Expr, For string
	Labels, Annotations      map[string]string
	group                    string
	interval                 time.Duration
	urn                      string
}

// prometheusRules collects every rule of the stack's PrometheusRules.
func prometheusRules(rs []policyx.AnalyzerResource) []promRule {
	var out []promRule
	for _, r := range rs {
		if r.Type != typePrometheusRule {
			continue
		}
		for _, g := range mapList(r.Properties, "spec.groups") {
			name, _ := str(g, "name")
			interval := slo.EvaluationInterval
			if iv, ok := str(g, "interval"); ok {
				if d, err := model.ParseDuration(iv); err == nil {
					interval = time.Duration(d)
				}
			}
			for _, rule := range mapList(g, "rules") {
				pr := promRule{group: name, interval: interval, urn: r.URN, Labels: map[string]string{}, Annotations: map[string]string{}}
				pr.Alert, _ = str(rule, "alert")
				pr.Record, _ = str(rule, "record")
				pr.Expr, _ = str(rule, "expr")
				pr.For, _ = str(rule, "for")
				for k, v := range labels(rule, "labels") {
					pr.Labels[k] = v
				}
				for k, v := range labels(rule, "annotations") {
					pr.Annotations[k] = v
				}
				out = append(out, pr)
			}
		}
	}
	return out
}

func (r promRule) hold() time.Duration {
	if r.For == "" {
		return 0
	}
	d, err := model.ParseDuration(r.For)
	if err != nil {
		return -1
	}
	return time.Duration(d)
}

// comparison reads "<query> <op> <number>" from an alert expression.
func comparison(expr string) (op string, threshold float64, ok bool) {
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return "", 0, false
	}
	for {
		p, isParen := e.(*parser.ParenExpr)
		if !isParen {
			break
		}
		e = p.Expr
	}
	b, isBin := e.(*parser.BinaryExpr)
	if !isBin || !b.Op.IsComparisonOperator() {
		return "", 0, false
	}
	n, isNum := b.RHS.(*parser.NumberLiteral)
	if !isNum {
		return "", 0, false
	}
	return b.Op.String(), n.Val, true
}

func alertsMatchCatalog(rs []policyx.AnalyzerResource) []finding {
	rules := prometheusRules(rs)
	if len(rules) == 0 {
		return nil // no alerting in this stack: region-stack-complete reports that
	}
	byName := map[string][]promRule{}
	for _, r := range rules {
		if r.Alert != "" {
			byName[r.Alert] = append(byName[r.Alert], r)
		}
	}
	// The catalog as this stack renders it: with the GPU alerts when it
	// runs the DCGM exporter (the GPU pool).
	features := slo.Features{GPU: slices.ContainsFunc(rs, func(r policyx.AnalyzerResource) bool {
		return r.Type == typeHelmRelease && chartIs(r, chartDCGMExporter)
	})}
	var out []finding
	for _, a := range slo.AlertsFor(features) {
		found := byName[a.Name]
		if len(found) == 0 {
			out = append(out, finding{"", fmt.Sprintf("alert %s (%s) is missing from the PrometheusRules", a.Name, a.Group)})
			continue
		}
		r := found[0]
		op, th, ok := comparison(r.Expr)
		switch {
		case !ok:
			out = append(out, finding{r.urn, fmt.Sprintf("alert %s: expression %q is not <query> <comparison> <number>", a.Name, r.Expr)})
		case op != string(a.Op) || th != a.Threshold:
			out = append(out, finding{r.urn, fmt.Sprintf("alert %s: threshold is %s %v in the rule, the catalog says %s %v", a.Name, op, th, a.Op, a.Threshold)})
		}
		if h := r.hold(); h != a.For {
			out = append(out, finding{r.urn, fmt.Sprintf("alert %s: for is %s in the rule, the catalog says %s", a.Name, r.For, model.Duration(a.For))})
		}
		if r.Labels["severity"] != string(a.Severity) {
			out = append(out, finding{r.urn, fmt.Sprintf("alert %s: severity is %q in the rule, the catalog says %s", a.Name, r.Labels["severity"], a.Severity)})
		}
	}
	for _, s := range slo.RatioSLOs() {
		sev := map[string]bool{}
		for _, r := range byName[slo.BurnRateAlertName(s)] {
			sev[r.Labels["severity"]] = true
		}
		for _, want := range []slo.Severity{s.PageSeverity(), s.TicketSeverity()} {
			if !sev[string(want)] {
				out = append(out, finding{"", fmt.Sprintf("SLO %s has no %s burn-rate alert %s", s.Name, want, slo.BurnRateAlertName(s))})
			}
		}
		if len(byName[slo.AbsentAlertName(s)]) == 0 {
			out = append(out, finding{"", fmt.Sprintf("SLO %s has no absent-SLI alert %s", s.Name, slo.AbsentAlertName(s))})
		}
	}
	return out
}

func alertAnnotations(rs []policyx.AnalyzerResource) []finding {
	var out []finding
	for _, r := range prometheusRules(rs) {
		if r.Alert == "" {
			continue
		}
		var missing []string
		for _, k := range []string{"summary", "description", "runbook_url", "dashboard"} {
			if strings.TrimSpace(r.Annotations[k]) == "" {
				missing = append(missing, "annotation "+k)
			}
		}
		for _, k := range []string{"severity", "team"} {
			if r.Labels[k] == "" {
				missing = append(missing, "label "+k)
			}
		}
		if len(missing) > 0 {
			out = append(out, finding{r.urn, fmt.Sprintf("alert %s (group %s) lacks %s", r.Alert, r.group, strings.Join(missing, ", "))})
		}
	}
	return out
}

// amDoc is the part of alertmanager.yaml the routing rules read.
type amDoc struct {
	Route     amRouteDoc `yaml:"route"`
	Receivers []struct {
		Name             string `yaml:"name"`
		PagerDutyConfigs []any  `yaml:"pagerduty_configs"`
		SlackConfigs     []any  `yaml:"slack_configs"`
	} `yaml:"receivers"`
}

type amRouteDoc struct {
	Receiver  string       `yaml:"receiver"`
	GroupWait string       `yaml:"group_wait"`
	Matchers  []string     `yaml:"matchers"`
	Continue  bool         `yaml:"continue"`
	Routes    []amRouteDoc `yaml:"routes"`
}

var matcherRE = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"(.*)"\s*$`)

func (r amRouteDoc) matches(lbls map[string]string) bool {
	for _, m := range r.Matchers {
		p := matcherRE.FindStringSubmatch(m)
		if p == nil {
			return false
		}
		v := lbls[p[1]]
		switch p[2] {
		case "=":
			if v != p[3] {
				return false
			}
		case "!=":
			if v == p[3] {
				return false
			}
		case "=~", "!~":
			re, err := regexp.Compile("^(?:" + p[3] + ")$")
			if err != nil || re.MatchString(v) != (p[2] == "=~") {
				return false
			}
		}
	}
	return true
}

// receivers walks the tree as Alertmanager does: depth first, stopping at
// the first matching child unless it continues; a node with no matching
// child delivers to its own receiver.
func (r amRouteDoc) receivers(lbls map[string]string) []string {
	var out []string
	for _, c := range r.Routes {
		if !c.matches(lbls) {
			continue
		}
		out = append(out, c.receivers(lbls)...)
		if !c.Continue {
			return out
		}
	}
	if len(out) == 0 {
		out = []string{r.Receiver}
	}
	return out
}

// alertmanagerConfigs finds alertmanager.yaml documents in Secrets.
func alertmanagerConfigs(rs []policyx.AnalyzerResource) map[string]amDoc {
	out := map[string]amDoc{}
	for _, r := range rs {
		if r.Type != typeSecret {
			continue
		}
		data := at(r.Properties, "stringData")
		if !data.IsMap() {
			continue
		}
		v := data.AsMap().Get(alertmanagerKey)
		if !v.IsString() {
			continue
		}
		var doc amDoc
		if yaml.Unmarshal([]byte(v.AsString()), &doc) == nil {
			out[r.URN] = doc
		}
	}
	return out
}

func alertmanagerRouting(rs []policyx.AnalyzerResource) []finding {
	var out []finding
	for urn, doc := range alertmanagerConfigs(rs) {
		kind := map[string]string{}
		for _, rc := range doc.Receivers {
			switch {
			case len(rc.PagerDutyConfigs) > 0:
				kind[rc.Name] = "pagerduty"
			case len(rc.SlackConfigs) > 0:
				kind[rc.Name] = "slack"
			}
		}
		for _, t := range slo.Severities {
			want := ""
			switch t.Severity {
			case slo.P0, slo.P1:
				want = "pagerduty"
			case slo.P2, slo.P3:
				want = "slack"
			default:
				continue
			}
			got := doc.Route.receivers(map[string]string{"severity": string(t.Severity), "alertname": "PolicyProbe"})
			ok := slices.ContainsFunc(got, func(n string) bool { return kind[n] == want })
			if !ok {
				out = append(out, finding{urn, fmt.Sprintf("%s alerts reach %v, none of them %s", t.Severity, got, want)})
			}
		}
	}
	return out
}

func timeToPage(rs []policyx.AnalyzerResource) []finding {
	groupWait := slo.GroupWait
	for _, doc := range alertmanagerConfigs(rs) {
		if d, err := model.ParseDuration(doc.Route.GroupWait); err == nil {
			groupWait = time.Duration(d)
		}
	}
	var out []finding
	for _, r := range prometheusRules(rs) {
		if r.Alert == "" {
			continue
		}
		t, ok := slo.Target(slo.Severity(r.Labels["severity"]))
		if !ok || t.Acknowledgement == 0 {
			continue
		}
		total := slo.ScrapeInterval + r.interval + r.hold() + groupWait
		if total > t.Acknowledgement {
			out = append(out, finding{r.urn, fmt.Sprintf("alert %s (%s) pages after up to %s = scrape %s + evaluation %s + for %s + group_wait %s, over the %s acknowledgement target",
				r.Alert, t.Severity, total, slo.ScrapeInterval, r.interval, r.hold(), groupWait, t.Acknowledgement)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].msg < out[j].msg })
	return out
}
