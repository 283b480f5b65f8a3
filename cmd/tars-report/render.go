package main

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// num rounds to prec decimals and drops trailing zeros: 99.5, 30.556, 0.
func num(f float64, prec int) string {
	p := math.Pow(10, float64(prec))
	r := math.Round(f*p) / p
	if r == 0 {
		r = 0 // no "-0"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

func pct(f *float64, prec int) string {
	if f == nil {
		return "no data"
	}
	return num(*f, prec) + " %"
}

// ratioOf is a/b in percent, nil when either is missing or b is 0.
func ratioOf(a, b *float64) *float64 {
	if a == nil || b == nil || *b == 0 {
		return nil
	}
	return ptr(100 * *a / *b)
}

func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

const timeLayout = "2006-01-02 15:04"

func budgetText(s SLOResult) string {
	switch {
	case s.Status == StatusNoTraffic:
		return "untouched (no traffic)"
	case s.BudgetLeft == nil:
		return "n/a"
	case *s.BudgetLeft < 0:
		return num(*s.BudgetLeft, 1) + " % (overspent)"
	}
	return num(*s.BudgetLeft, 1) + " %"
}

func sliText(s SLOResult) string {
	if s.Status == StatusNoTraffic {
		return "no traffic"
	}
	return pct(s.SLI, 3)
}

// Markdown renders the report.
func (r *Report) Markdown() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# T.A.R.S. %s SLO report — %s\n\n", r.Period, r.Region)
	w("Window: %s → %s UTC (%s). Generated %s UTC.\n\n", r.Start.Format(timeLayout), r.End.Format(timeLayout), r.Window, r.GeneratedAt.Format(timeLayout))
	if len(r.Warnings) > 0 {
		w("> **Incomplete:** %d section(s) failed; see Warnings at the end.\n\n", len(r.Warnings))
	}

	w("## SLO compliance\n\n")
	w("| SLO | Objective | SLI | Status | Error budget left | Events |\n|---|---|---|---|---|---|\n")
	var skipped []string
	for _, s := range r.SLOs {
		if s.Status == StatusSkipped {
			skipped = append(skipped, s.Title)
			continue
		}
		events := "—"
		if s.Events != nil {
			events = num(*s.Events, 0)
		}
		w("| %s | %s %% | %s | %s | %s | %s |\n", cell(s.Title), num(s.Objective, 3), sliText(s), s.Status, budgetText(s), events)
	}
	w("\nSLI is the share of good events (good time for availability). Error budget left = 1 − error ratio ÷ (1 − objective); " +
		"below 0 %% the budget is overspent by that much. An SLO with no traffic in the window is not scored and its budget is untouched.\n")
	if len(skipped) > 0 {
		w("\nNot scored here (no ratio SLI; threshold alerts and dashboards cover them): %s.\n", strings.Join(skipped, ", "))
	}

	w("\n## Alert frequency\n\n")
	switch {
	case r.Alerts.Error != "":
		w("Unavailable: %s\n", r.Alerts.Error)
	case len(r.Alerts.Rows) == 0:
		w("No alert fired in the window.\n")
	default:
		w("| Alert | Severity | Firing episodes | Time firing |\n|---|---|---|---|\n")
		for _, a := range r.Alerts.Rows {
			sev := a.Severity
			if sev == "" {
				sev = "—"
			}
			w("| %s | %s | %d | %s |\n", cell(a.Alert), cell(sev), a.Firings, (time.Duration(a.FiringSeconds) * time.Second).String())
		}
		w("\nFiring episodes count the times an alert went from not firing to firing in the window (one per label set); " +
			"time firing sums its label sets, including episodes that began before the window.\n")
	}

	w("\n## Top 10 slowest endpoints (p95)\n\n")
	switch {
	case r.Endpoints.Error != "":
		w("Unavailable: %s\n", r.Endpoints.Error)
	case len(r.Endpoints.Rows) == 0:
		w("No requests in the window.\n")
	default:
		w("| # | Service | Endpoint (%s) | p95 |\n|---|---|---|---|\n", cell(r.Endpoints.Label))
		for i, e := range r.Endpoints.Rows {
			ep := e.Endpoint
			if ep == "" {
				ep = "(all)"
			}
			svc := e.Service
			if svc == "" {
				svc = "—"
			}
			w("| %d | %s | %s | %s ms |\n", i+1, cell(svc), cell(ep), num(e.P95Ms, 1))
		}
		if r.Endpoints.Note != "" {
			w("\nNote: %s.\n", r.Endpoints.Note)
		}
	}

	w("\n## Error-rate trend (5xx share per %s)\n\n", r.ErrorTrend.Step)
	if r.ErrorTrend.Error != "" {
		w("Unavailable: %s\n", r.ErrorTrend.Error)
	} else {
		w("| Bucket ending (UTC) | 5xx share |\n|---|---|\n")
		for _, p := range r.ErrorTrend.Points {
			v := "no traffic"
			if !p.NoTraffic {
				v = pct(p.Percent5xx, 3)
			}
			w("| %s | %s |\n", p.End.Format(timeLayout), v)
		}
	}

	w("\n## Resource utilisation\n\n")
	if r.Resources.Error != "" {
		w("Partly unavailable: %s\n\n", r.Resources.Error)
	}
	w("| Resource | Used (avg) | Used (peak, %s) | Requested (avg) | Allocatable (avg) | Used / requested | Requested / allocatable |\n|---|---|---|---|---|---|---|\n", r.Resources.Resolution)
	res := func(name string, f ResourceFigures, unit func(*float64) string) {
		w("| %s | %s | %s | %s | %s | %s | %s |\n", name, unit(f.UsedAvg), unit(f.UsedPeak), unit(f.RequestedAvg), unit(f.Allocatable),
			pct(ratioOf(f.UsedAvg, f.RequestedAvg), 1), pct(ratioOf(f.RequestedAvg, f.Allocatable), 1))
	}
	res("CPU", r.Resources.CPU, func(f *float64) string {
		if f == nil {
			return "no data"
		}
		return num(*f, 2) + " cores"
	})
	res("Memory", r.Resources.Memory, func(f *float64) string {
		if f == nil {
			return "no data"
		}
		return num(*f/(1<<30), 2) + " GiB"
	})

	if r.Cost != nil {
		w("\n## Cost by namespace (Kubecost, USD)\n\n")
		if r.Cost.Error != "" {
			w("Unavailable: %s\n", r.Cost.Error)
		} else {
			w("| Namespace | CPU | RAM | GPU | Storage | Network | Load balancers | Shared + external | Total |\n|---|---|---|---|---|---|---|---|---|\n")
			m := func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
			for _, c := range r.Cost.Rows {
				w("| `%s` | %s | %s | %s | %s | %s | %s | %s | %s |\n", strings.ReplaceAll(c.Namespace, "`", "'"), m(c.CPU), m(c.RAM), m(c.GPU), m(c.PV), m(c.Network), m(c.LB), m(c.Other), m(c.Total))
			}
			w("| **Total** | | | | | | | | **%s** |\n", m(r.Cost.Total))
		}
	}

	if len(r.NotCovered) > 0 {
		w("\n## Not covered by metrics\n\n%s: see the incident tracker and post-mortems.\n", strings.Join(r.NotCovered, "; "))
	}
	if len(r.Warnings) > 0 {
		w("\n## Warnings\n\n")
		for _, x := range r.Warnings {
			w("- %s\n", x)
		}
	}
	w("\n## Queries\n\n```promql\n")
	for _, q := range r.queries() {
		w("%s\n", q)
	}
	w("```\n")
	return b.String()
}

// queries lists every PromQL query of the report, once.
func (r *Report) queries() []string {
	var qs []string
	for _, s := range r.SLOs {
		qs = append(qs, s.Queries...)
	}
	qs = append(qs, r.Alerts.Queries...)
	qs = append(qs, r.Endpoints.Query)
	qs = append(qs, r.ErrorTrend.Queries...)
	var names []string
	for n := range r.Resources.Queries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		qs = append(qs, r.Resources.Queries[n])
	}
	return qs
}

// JSON renders the report as indented JSON.
func (r *Report) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	return append(b, '\n'), nil
}

// SlackText is the summary posted to Slack: each SLO's compliance and
// budget left, and where the full report is.
func (r *Report) SlackText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "*T.A.R.S. %s SLO report — %s* (%s → %s UTC)\n", r.Period, r.Region, r.Start.Format(timeLayout), r.End.Format(timeLayout))
	var skipped []string
	for _, s := range r.SLOs {
		switch s.Status {
		case StatusSkipped:
			skipped = append(skipped, s.Title)
		case StatusNoTraffic:
			fmt.Fprintf(&b, "• %s: no traffic — budget untouched\n", s.Title)
		default:
			mark := "met"
			if s.Status == StatusBreached {
				mark = "*BREACHED*"
			}
			fmt.Fprintf(&b, "• %s: %s — SLI %s (objective %s %%), budget left %s\n", s.Title, mark, sliText(s), num(s.Objective, 3), budgetText(s))
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintf(&b, "Not scored (no ratio SLI): %s\n", strings.Join(skipped, ", "))
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintf(&b, "Incomplete: %d section(s) failed (see the report's Warnings)\n", len(r.Warnings))
	}
	if l := r.Location; l != nil {
		where := fmt.Sprintf("s3://%s/%s", l.Bucket, l.Markdown)
		if l.Console != "" {
			where = fmt.Sprintf("<%s|%s>", l.Console, where)
		}
		fmt.Fprintf(&b, "Report: %s (JSON: %s)", where, l.JSON)
	} else {
		b.WriteString("Report: not stored (dry run)")
	}
	return b.String()
}
