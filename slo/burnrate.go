package slo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	sloth "github.com/slok/sloth/pkg/lib"
	prometheusv1 "github.com/slok/sloth/pkg/prometheus/api/v1"
)

// Burn-rate alerting (multi-window, multi-burn-rate over a 30-day budget,
// sloth's defaults): the page alert fires on a 14.4× burn over 1h and 5m or
// a 6× burn over 6h and 30m; the ticket alert on 3× over 1d and 2h or 1×
// over 3d and 6h.
const (
	BurnRateService   = "tars"
	AbsentSLIHold     = 10 * time.Minute
	AbsentSLISeverity = P2
)

// BurnRateAlertName is the alert name of an SLO's burn-rate alerts.
func BurnRateAlertName(s SLO) string { return camel(s.Name) + "ErrorBudgetBurn" }

// AbsentAlertName is the alert raised when an SLO's SLI metric is absent.
func AbsentAlertName(s SLO) string { return camel(s.Name) + "SLIAbsent" }

func camel(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// RatioSLOs returns the SLOs with a ratio SLI.
func RatioSLOs() []SLO {
	var out []SLO
	for _, s := range SLOs {
		if s.Ratio != nil {
			out = append(out, s)
		}
	}
	return out
}

// sliQueries makes the SLI NaN-free: no errors yields 0 (not an empty
// result) and zero traffic yields no sample (not 0/0).
func sliQueries(r RatioSLI) prometheusv1.SLI {
	if r.Total == "" {
		return prometheusv1.SLI{Raw: &prometheusv1.SLIRaw{ErrorRatioQuery: r.Errors}}
	}
	return prometheusv1.SLI{Events: &prometheusv1.SLIEvents{
		ErrorQuery: fmt.Sprintf("(%s or vector(0))", r.Errors),
		TotalQuery: fmt.Sprintf("(%s > 0)", r.Total),
	}}
}

// BurnRateGroups generates, with sloth's library, the SLI and error-budget
// recording rules and the page/ticket burn-rate alerts of every ratio SLO,
// plus one group of absent-SLI alerts.
func BurnRateGroups(ctx context.Context) ([]rulefmt.RuleGroup, error) {
	gen, err := sloth.NewPrometheusSLOGenerator(sloth.PrometheusSLOGeneratorConfig{})
	if err != nil {
		return nil, fmt.Errorf("sloth: %w", err)
	}
	spec := prometheusv1.Spec{Service: BurnRateService, Labels: map[string]string{"owner": "sre"}}
	for _, s := range RatioSLOs() {
		annotations := map[string]string{
			"runbook_url": RunbookBase + "slo-burn-rate",
			"dashboard":   DashboardBase + s.Dashboard,
		}
		spec.SLOs = append(spec.SLOs, prometheusv1.SLO{
			Name:        s.Name,
			Description: s.Description,
			Objective:   s.Objective,
			SLI:         sliQueries(*s.Ratio),
			Alerting: prometheusv1.Alerting{
				Name:        BurnRateAlertName(s),
				Labels:      map[string]string{"team": s.Team, "slo": s.Name, "signal": s.Name},
				Annotations: annotations,
				PageAlert: prometheusv1.Alert{Labels: map[string]string{"severity": string(s.PageSeverity())}, Annotations: map[string]string{
					"summary":     s.Title + " is burning its 30-day error budget fast",
					"description": fmt.Sprintf("%s (objective %s%%) burns its error budget at 14.4x over 1h/5m or 6x over 6h/30m", s.Title, num(s.Objective)),
				}},
				TicketAlert: prometheusv1.Alert{Labels: map[string]string{"severity": string(s.TicketSeverity())}, Annotations: map[string]string{
					"summary":     s.Title + " is burning its 30-day error budget",
					"description": fmt.Sprintf("%s (objective %s%%) burns its error budget at 3x over 1d/2h or 1x over 3d/6h", s.Title, num(s.Objective)),
				}},
			},
		})
	}
	res, err := gen.GenerateFromSlothV1(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("sloth: generate: %w", err)
	}
	var groups []rulefmt.RuleGroup
	for _, r := range res.SLOResults {
		rules := r.PrometheusRules
		for _, g := range []struct {
			suffix string
			rules  []rulefmt.Rule
		}{{"sli-recordings", rules.SLIErrorRecRules.Rules}, {"meta-recordings", rules.MetadataRecRules.Rules}, {"alerts", rules.AlertRules.Rules}} {
			if len(g.rules) == 0 {
				continue
			}
			groups = append(groups, rulefmt.RuleGroup{
				Name:     fmt.Sprintf("sloth-slo-%s-%s", g.suffix, r.SLO.Name),
				Interval: model.Duration(EvaluationInterval),
				Rules:    g.rules,
			})
		}
	}
	groups = append(groups, absentGroup())
	return groups, nil
}

// absentGroup raises an alert per ratio SLO whose SLI metric is missing: a
// burn-rate alert cannot fire on data that is not there.
func absentGroup() rulefmt.RuleGroup {
	g := rulefmt.RuleGroup{Name: "tars-slo-sli-absent", Interval: model.Duration(EvaluationInterval)}
	for _, s := range RatioSLOs() {
		g.Rules = append(g.Rules, rulefmt.Rule{
			Alert: AbsentAlertName(s),
			Expr:  fmt.Sprintf("absent(%s)", s.Ratio.Metric),
			For:   model.Duration(AbsentSLIHold),
			Labels: map[string]string{
				"severity": string(AbsentSLISeverity), "team": s.Team, "slo": s.Name,
			},
			Annotations: map[string]string{
				"summary":     fmt.Sprintf("The %s SLI metric %s is absent", s.Title, s.Ratio.Metric),
				"description": "No samples for 10 minutes: the SLO and its burn-rate alerts are blind",
				"runbook_url": RunbookBase + "slo-sli-absent",
				"dashboard":   DashboardBase + s.Dashboard,
			},
		})
	}
	return g
}

// RuleGroupsFor renders the catalog groups of a stack with f as
// Prometheus rule groups.
func RuleGroupsFor(f Features) []rulefmt.RuleGroup {
	var out []rulefmt.RuleGroup
	for _, g := range GroupsFor(f) {
		rg := rulefmt.RuleGroup{Name: g.Name, Interval: model.Duration(EvaluationInterval)}
		for _, a := range g.Alerts {
			rg.Rules = append(rg.Rules, rulefmt.Rule{
				Alert:       a.Name,
				Expr:        a.Expr(),
				For:         model.Duration(a.For),
				Labels:      a.Labels(),
				Annotations: a.Annotations(),
			})
		}
		out = append(out, rg)
	}
	return out
}

// RuleGroups renders the catalog groups of a stack with the default
// features (no GPU): RuleGroupsFor(Features{}).
func RuleGroups() []rulefmt.RuleGroup { return RuleGroupsFor(Features{}) }

// AllRuleGroups is the whole rule set of a stack with the default features
// (no GPU): AllRuleGroupsFor(ctx, Features{}).
func AllRuleGroups(ctx context.Context) ([]rulefmt.RuleGroup, error) {
	return AllRuleGroupsFor(ctx, Features{})
}
