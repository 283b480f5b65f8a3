package slo

import (
	"fmt"
	"strconv"
	"time"
)

// Op is an alert condition's comparison.
type Op string

// Comparisons alerts use.
const (
	Above   Op = ">"
	AtLeast Op = ">="
	Below   Op = "<"
	Equal   Op = "=="
)

// Links the annotations point at.
const (
	RunbookBase   = "https://docs.tars.ai/runbooks/"
	DashboardBase = "https://grafana.tars.ai/d/"
)

// Alert is one alerting rule. Its PromQL is Query Op Threshold, so the
// threshold is a number the policy pack can read and compare.
type Alert struct {
	Name  string
	Group string
	// Query is the left-hand side; Expr appends Op and Threshold.
	Query     string
	Op        Op
	Threshold float64
	For       time.Duration
	Severity  Severity
	Team      string
	Summary   string
	// Description says what the condition means, with the threshold.
	Description string
	// Runbook is the runbook slug under RunbookBase.
	Runbook string
	// Dashboard is the uid of the dashboard to open, under DashboardBase.
	Dashboard string
	// SLO names the catalog SLO the alert guards, if any.
	SLO string
	// Signal names what the alert measures, for inhibition: a firing alert
	// silences the less severe alerts of the same signal. Default: the SLO,
	// else the alert's own name (nothing to inhibit).
	Signal string
	// Source cites the seed section the alert comes from.
	Source string
	// Fix records what was changed from the seed, and why (empty: as written).
	Fix string
	// Firing must make the alert fire; Healthy must keep it silent.
	Firing, Healthy Fixture
}

// Expr is the alert's PromQL condition.
func (a Alert) Expr() string {
	return fmt.Sprintf("%s %s %s", a.Query, a.Op, strconv.FormatFloat(a.Threshold, 'g', -1, 64))
}

// Labels are the labels every firing alert carries.
func (a Alert) Labels() map[string]string {
	l := map[string]string{"severity": string(a.Severity), "team": a.Team, "signal": a.SignalName()}
	if a.SLO != "" {
		l["slo"] = a.SLO
	}
	return l
}

// RegionDownAlert fires when no service of the region answers; while it
// fires, Alertmanager silences every other alert of the region.
const RegionDownAlert = "RegionDown"

// SignalName is the alert's signal label.
func (a Alert) SignalName() string {
	switch {
	case a.Signal != "":
		return a.Signal
	case a.SLO != "":
		return a.SLO
	}
	return a.Name
}

// Annotations are summary, description, runbook and dashboard.
func (a Alert) Annotations() map[string]string {
	return map[string]string{
		"summary":     a.Summary,
		"description": a.Description,
		"runbook_url": RunbookBase + a.Runbook,
		"dashboard":   DashboardBase + a.Dashboard,
	}
}

// Group is a named group of alerts, evaluated together.
type Group struct {
	Name   string
	Source string
	Alerts []Alert
}

// Breach is one level of an SLO's "Breach Actions".
// PageSeverity is the severity of the SLO's fast-burn alert: its most
// severe breach level (the seed's severity for the SLO), so a fast burn of
// the error budget is as urgent as the worst breach it leads to.
func (s SLO) PageSeverity() Severity {
	best := P3
	for _, b := range s.Breaches {
		if rank(b.Severity) < rank(best) {
			best = b.Severity
		}
	}
	return best
}

// TicketSeverity is the severity of the SLO's slow-burn alert: its most
// severe breach level that does not page, else P3 (a ticket never pages).
func (s SLO) TicketSeverity() Severity {
	best := P3
	for _, b := range s.Breaches {
		if t, ok := Target(b.Severity); ok && !t.Pages && rank(b.Severity) < rank(best) {
			best = b.Severity
		}
	}
	return best
}

// rank orders severities, P0 first.
func rank(s Severity) int {
	for i, t := range Severities {
		if t.Severity == s {
			return i
		}
	}
	return len(Severities)
}

type Breach struct {
	Threshold float64
	Severity  Severity
	Alert     string // the catalog alert that pages at this level
}

// RatioSLI makes an SLO a ratio of bad to all events, which is what
// multi-window multi-burn-rate alerts need. Queries use {{.window}}.
type RatioSLI struct {
	Errors string
	Total  string
	// Metric is the series whose absence means the SLI cannot be computed.
	Metric string
}

// SLO is one service level objective of the plan.
type SLO struct {
	Name        string // e.g. "availability"; label value slo=<name>
	Title       string
	Description string
	// Target is the objective as the plan states it (99.9 for 99.9 %, 100 for 100 ms).
	Target float64
	Unit   string
	// Good is the direction of the objective: Below for "p95 < 100 ms".
	Good Op
	// Objective is the ratio objective in percent for burn-rate alerting
	// (e.g. 95 for "p95 < 100 ms": 95 % of requests under 100 ms).
	Objective float64
	Ratio     *RatioSLI
	Breaches  []Breach
	Dashboard string
	Team      string
	// Burn builds series on which the SLI's error ratio is errorRatio
	// (ratio SLOs only): the burn-rate tests run it at 15× and 0.9× the
	// error budget.
	Burn func(errorRatio float64) Fixture
}
