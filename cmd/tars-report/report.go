package main

import (
	"context"
	"time"
)

// Report is one period's report; it is stored as JSON and rendered as
// Markdown. Sections that failed carry their error and the rest of the
// report is still produced.
type Report struct {
	Period      string           `json:"period"`
	Region      string           `json:"region"`
	Start       time.Time        `json:"start"`
	End         time.Time        `json:"end"`
	Window      string           `json:"window"`
	SLOs        []SLOResult      `json:"slos"`
	Alerts      AlertSection     `json:"alert_frequency"`
	Endpoints   EndpointSection  `json:"slowest_endpoints"`
	ErrorTrend  TrendSection     `json:"error_rate_trend"`
	Resources   ResourceSection  `json:"resource_utilisation"`
	Cost        *CostSection     `json:"cost,omitempty"`
	NotCovered  []string         `json:"not_covered,omitempty"`
	Warnings    []string         `json:"warnings,omitempty"`
	GeneratedAt time.Time        `json:"generated_at"`
	Location    *ReportLocations `json:"location,omitempty"`
}

// ReportLocations are the S3 objects of a stored report.
type ReportLocations struct {
	Bucket   string `json:"bucket"`
	Markdown string `json:"markdown_key"`
	JSON     string `json:"json_key"`
	Console  string `json:"console_url,omitempty"`
}

// CostSource is Kubecost's Allocation API (monthly report).
type CostSource interface {
	Costs(ctx context.Context, start, end time.Time) CostSection
}

// notCovered are the seed's report contents that no metric provides.
var notCovered = map[string][]string{
	"daily":   {"incident summary (PagerDuty / post-mortems)"},
	"weekly":  {"incident analysis", "top issues and root causes", "action items from post-mortems", "capacity planning recommendations"},
	"monthly": {"capacity planning", "security posture", "roadmap recommendations"},
}

// buildReport queries everything of the period. Only an SLO query failure
// is fatal: the SLOs are what the report is for; other sections record
// their error and the report goes out with it.
func buildReport(ctx context.Context, c config, q Querier, costs CostSource, now time.Time) (*Report, error) {
	p := c.Period
	start := c.At.Add(-p.Window)
	r := &Report{
		Period: p.Name, Region: c.Region, Start: start, End: c.At, Window: promDuration(p.Window),
		GeneratedAt: now.UTC(), NotCovered: notCovered[p.Name],
	}
	slos, err := evalSLOs(ctx, q, p.Window, c.At)
	if err != nil {
		return nil, err
	}
	r.SLOs = slos
	r.Alerts = evalAlerts(ctx, q, p.Window, c.At)
	r.Endpoints = evalEndpoints(ctx, q, c.EndpointLabel, p.Window, c.At)
	r.ErrorTrend = evalTrend(ctx, q, p, c.At)
	r.Resources = evalResources(ctx, q, p, c.At)
	if p.Name == "monthly" && costs != nil {
		cs := costs.Costs(ctx, start, c.At)
		r.Cost = &cs
	}
	sections := [][2]string{
		{"alert frequency", r.Alerts.Error}, {"slowest endpoints", r.Endpoints.Error},
		{"error-rate trend", r.ErrorTrend.Error}, {"resource utilisation", r.Resources.Error},
	}
	if r.Cost != nil {
		sections = append(sections, [2]string{"cost", r.Cost.Error})
	}
	for _, s := range sections {
		if s[1] != "" {
			r.Warnings = append(r.Warnings, s[0]+": "+s[1])
		}
	}
	return r, nil
}
