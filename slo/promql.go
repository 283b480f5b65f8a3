package slo

import "fmt"

// PromQL shapes the catalog reuses. Every ratio guards its denominator with
// "> 0" so that zero traffic yields no sample instead of NaN, and every
// quantile aggregates buckets by le first (the seeds' histogram_quantile
// over a bare rate() computed one quantile per series and instance).

// quantile is the q-quantile, in the histogram's unit, of name over 5m.
func quantile(q float64, name, sel string) string {
	return fmt.Sprintf("histogram_quantile(%s, sum by (le) (rate(%s_bucket%s[5m])))", num(q), name, braces(sel))
}

// ratioPercent is 100 × errors / total over 5m, NaN-free.
func ratioPercent(errors, total string) string {
	return fmt.Sprintf("sum(rate(%s[5m])) / (sum(rate(%s[5m])) > 0) * 100", errors, total)
}

func braces(sel string) string {
	if sel == "" {
		return ""
	}
	return "{" + sel + "}"
}

// Metrics and selectors of the T.A.R.S. services (seed 000 "Measurement").
const (
	httpRequests   = `http_requests_total`
	http5xx        = `http_requests_total{status=~"5.."}`
	httpLatency    = `http_request_duration_seconds`
	pgQueryLatency = `pg_query_duration_seconds`
	grafanaLoad    = `grafana_dashboard_load_duration_seconds`
	ppoMemory      = `container_memory_working_set_bytes{pod=~".*ppo.*"}`
	gib            = 1024 * 1024 * 1024
)
