package main

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/tars-platform/infra/slo"
)

// SLO statuses.
const (
	StatusMet       = "met"
	StatusBreached  = "breached"
	StatusNoTraffic = "no traffic"
	StatusSkipped   = "skipped"
)

// SLOResult is one catalog SLO over the report's window. Numbers are
// percent; nil means "not applicable" (no traffic, skipped).
type SLOResult struct {
	Name      string  `json:"name"`
	Title     string  `json:"title"`
	Objective float64 `json:"objective_percent,omitempty"`
	Status    string  `json:"status"`
	// SLI is the share of good events, percent.
	SLI *float64 `json:"sli_percent"`
	// ErrorRatio is the share of bad events (0..1).
	ErrorRatio *float64 `json:"error_ratio"`
	// BudgetLeft is 1 - error ratio / (1 - objective), percent. Negative
	// means the budget is overspent by that much. Nil without traffic:
	// the budget is untouched.
	BudgetLeft *float64 `json:"error_budget_left_percent"`
	// Events is the SLI's total events in the window (total rate × window),
	// for SLIs that count events.
	Events  *float64 `json:"events,omitempty"`
	Note    string   `json:"note,omitempty"`
	Queries []string `json:"queries,omitempty"`
}

// ratio is an SLI's error ratio over a window.
type ratio struct {
	NoTraffic  bool
	ErrorRatio float64
	// Total is the total event rate (per second); HasTotal is false for
	// SLIs whose query already is a ratio.
	Total    float64
	HasTotal bool
}

// evalRatio evaluates an error/total pair. Zero traffic (total 0, or no
// series) is NoTraffic, never 0/0. Errors with no series count as zero,
// as the catalog's burn-rate rules do ("or vector(0)"). Without a total
// query, errors is the error ratio itself and no series is NoTraffic.
func evalRatio(ctx context.Context, q Querier, errorsQ, totalQ string, at time.Time) (ratio, error) {
	if totalQ == "" {
		r, ok, err := scalar(ctx, q, errorsQ, at)
		if err != nil || !ok {
			return ratio{NoTraffic: true}, err
		}
		return ratio{ErrorRatio: clamp01(r)}, nil
	}
	total, ok, err := scalar(ctx, q, totalQ, at)
	if err != nil {
		return ratio{}, err
	}
	if !ok || total <= 0 {
		return ratio{NoTraffic: true, HasTotal: true}, nil
	}
	errs, ok, err := scalar(ctx, q, errorsQ, at)
	if err != nil {
		return ratio{}, err
	}
	if !ok {
		errs = 0
	}
	return ratio{ErrorRatio: clamp01(errs / total), Total: total, HasTotal: true}, nil
}

// clamp01 keeps a ratio in [0, 1]: counters scraped a moment apart can
// make errors exceed the total, or a bucket exceed its count, by a hair.
func clamp01(f float64) float64 { return math.Min(1, math.Max(0, f)) }

// budgetLeft is the error budget left, as a fraction: 1 at no errors, 0
// at exactly the objective, negative when overspent. ok is false for an
// objective of 100 % (no budget to spend).
func budgetLeft(errorRatio, objectivePercent float64) (float64, bool) {
	allowed := 1 - objectivePercent/100
	if allowed <= 0 {
		return 0, false
	}
	left := 1 - errorRatio/allowed
	return snap(left), true
}

// met compares with a relative tolerance: 95 % of requests under 100 ms
// is met at exactly 95 %, whatever the float rounding of 1 - 0.95.
func met(errorRatio, objectivePercent float64) bool {
	allowed := 1 - objectivePercent/100
	return errorRatio <= allowed*(1+1e-9)+1e-12
}

// snap rounds float noise (|x| < 1e-9) to 0 so the report never says -0.0 %.
func snap(f float64) float64 {
	if math.Abs(f) < 1e-9 {
		return 0
	}
	return f
}

func ptr(f float64) *float64 { return &f }

// round rounds to prec decimals, never to -0.
func round(f float64, prec int) float64 {
	p := math.Pow(10, float64(prec))
	r := math.Round(f*p) / p
	if r == 0 {
		return 0
	}
	return r
}

// evalSLOs evaluates every catalog SLO over the window ending at at.
func evalSLOs(ctx context.Context, q Querier, window time.Duration, at time.Time) ([]SLOResult, error) {
	var out []SLOResult
	for _, s := range slo.SLOs {
		r, err := evalSLO(ctx, q, s, window, at)
		if err != nil {
			return nil, fmt.Errorf("slo %s: %w", s.Name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func evalSLO(ctx context.Context, q Querier, s slo.SLO, window time.Duration, at time.Time) (SLOResult, error) {
	res := SLOResult{Name: s.Name, Title: s.Title, Objective: s.Objective}
	if s.Ratio == nil || s.Objective <= 0 {
		res.Status = StatusSkipped
		res.Note = fmt.Sprintf("no ratio SLI (objective: %s %s %g %s): see dashboard %s", s.Title, s.Good, s.Target, s.Unit, s.Dashboard)
		return res, nil
	}
	errorsQ, err := renderWindow(s.Ratio.Errors, window)
	if err != nil {
		return res, err
	}
	totalQ := ""
	if s.Ratio.Total != "" {
		if totalQ, err = renderWindow(s.Ratio.Total, window); err != nil {
			return res, err
		}
	}
	res.Queries = []string{errorsQ}
	if totalQ != "" {
		res.Queries = append(res.Queries, totalQ)
	}
	r, err := evalRatio(ctx, q, errorsQ, totalQ, at)
	if err != nil {
		return res, err
	}
	if r.NoTraffic {
		res.Status = StatusNoTraffic
		res.Note = "no traffic in the window: error budget untouched"
		if !r.HasTotal {
			res.Note = fmt.Sprintf("no samples of %s in the window: error budget untouched", s.Ratio.Metric)
		} else {
			res.Events = ptr(0)
		}
		return res, nil
	}
	// Stored rounded to 1e-6 percent (1e-8 for the ratio): float noise of
	// rate() extrapolation stays out of the JSON.
	res.ErrorRatio = ptr(round(r.ErrorRatio, 8))
	res.SLI = ptr(round(100*(1-r.ErrorRatio), 6))
	if r.HasTotal {
		res.Events = ptr(math.Round(r.Total * window.Seconds()))
	}
	if left, ok := budgetLeft(r.ErrorRatio, s.Objective); ok {
		res.BudgetLeft = ptr(round(100*left, 6))
	}
	res.Status = StatusBreached
	if met(r.ErrorRatio, s.Objective) {
		res.Status = StatusMet
	}
	return res, nil
}
