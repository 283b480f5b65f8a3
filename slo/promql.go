package slo

import (
	"fmt"
	"strconv"
	"strings"
)

// PromQL shapes the catalog reuses. Every ratio guards its denominator with
// "> 0" so that zero traffic yields no sample instead of NaN, and every
// quantile aggregates buckets by le first (the seeds' histogram_quantile
// over a bare rate() computed one quantile per series and instance).

// quantile is the q-quantile, in the histogram's unit, of name over 5m.
func quantile(q float64, name, sel string) string {
	return fmt.Sprintf("histogram_quantile(%s, sum by (le) (rate(%s_bucket%s[5m])))", num(q), name, braces(sel))
}

// le is a histogram bucket bound as Prometheus 3 stores it: a scrape
// normalises le="5" to le="5.0", so a matcher must name that form.
func le(bound float64) string {
	s := strconv.FormatFloat(bound, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// Trace coverage: the share of the services' requests that produced a
// server span (spanmetrics connector, 100 % sampling), from two counters
// over a window; clamped at 1 as spans and requests are scraped apart.
const (
	serverSpans     = `traces_span_metrics_calls_total{span_kind="SPAN_KIND_SERVER",service_name=~"tars-.*"}`
	serviceRequests = `http_requests_total{job="tars"}`
)

// TraceCoverage is the coverage over window (the dashboards show it).
func TraceCoverage(window string) string { return traceCoverage(window) }

func traceCoverage(window string) string {
	return fmt.Sprintf("clamp_max(sum(rate(%s[%s])) / (sum(rate(%s[%s])) > 0), 1)", serverSpans, window, serviceRequests, window)
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
	// grafanaLoad is Grafana's request histogram on the dashboard-by-uid
	// API route: what opening a dashboard fetches (Grafana 13 exports no
	// render-time metric; grafana_dashboard_load_duration_seconds never
	// existed).
	grafanaLoad    = `grafana_http_request_duration_seconds`
	grafanaLoadSel = `handler="/api/dashboards/uid/:uid"`
	ppoMemory      = `container_memory_working_set_bytes{pod=~".*ppo.*"}`
	gib            = 1024 * 1024 * 1024
	// ServiceNamespaces are the T.A.R.S. services' and their data stores'
	// namespaces, as a regex (tars:redis appNamespace and namespace;
	// TestRedisGraphCarriesTheSeedSettings ties them together).
	ServiceNamespaces = `tars|tars-data|tars-postgres`
)

// stillFailing is the last hour's availability of the services, where the
// 30-day availability is below level too: a 30-day breach pages while the
// services are failing, not for the month the figure takes to recover.
func stillFailing(level float64) string {
	return fmt.Sprintf(`(avg(avg_over_time(up{job="tars"}[1h])) * 100 and on () (avg(avg_over_time(up{job="tars"}[30d])) * 100 < %s))`, num(level))
}
