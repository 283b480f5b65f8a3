package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/prometheus/common/model"
	"github.com/tars-platform/infra/slo"
)

// AlertRow is one alert name and severity's activity in the window.
type AlertRow struct {
	Alert    string `json:"alertname"`
	Severity string `json:"severity"`
	// Firings counts distinct firing episodes that started in the window
	// (the alert went from not firing to firing), whatever their label
	// sets (instance, pod ...): one incident that pages once counts once,
	// however long it lasts.
	Firings int `json:"firings"`
	// FiringSeconds is the time the alert's series spent firing in the
	// window, summed over its label sets (includes episodes that started
	// before the window).
	FiringSeconds float64 `json:"firing_seconds"`
}

// AlertSection is the alert frequency of the window.
type AlertSection struct {
	Rows    []AlertRow `json:"rows"`
	Queries []string   `json:"queries"`
	Error   string     `json:"error,omitempty"`
}

// alertQueries count, on a subquery stepped at the rule evaluation
// interval, the steps where an ALERTS series is firing but was not one
// interval earlier (starts), and the steps where it is firing (time).
// The resolved alert's stale marker ends its series at once, so a re-fire
// after a gap counts as a new start.
func alertQueries(window time.Duration) (starts, firing string) {
	step := promDuration(slo.EvaluationInterval)
	w := promDuration(window)
	starts = fmt.Sprintf(`sum by (alertname, severity) (count_over_time((ALERTS{alertstate="firing"} unless ALERTS{alertstate="firing"} offset %s)[%s:%s]))`, step, w, step)
	firing = fmt.Sprintf(`sum by (alertname, severity) (count_over_time(ALERTS{alertstate="firing"}[%s:%s])) * %g`, w, step, slo.EvaluationInterval.Seconds())
	return starts, firing
}

func evalAlerts(ctx context.Context, q Querier, window time.Duration, at time.Time) AlertSection {
	startsQ, firingQ := alertQueries(window)
	sec := AlertSection{Queries: []string{startsQ, firingQ}}
	rows := map[[2]string]*AlertRow{}
	row := func(m model.Metric) *AlertRow {
		k := [2]string{string(m["alertname"]), string(m["severity"])}
		if rows[k] == nil {
			rows[k] = &AlertRow{Alert: k[0], Severity: k[1]}
		}
		return rows[k]
	}
	starts, err := q.Query(ctx, startsQ, at)
	if err != nil {
		sec.Error = err.Error()
		return sec
	}
	firing, err := q.Query(ctx, firingQ, at)
	if err != nil {
		sec.Error = err.Error()
		return sec
	}
	for _, s := range starts {
		if finite(float64(s.Value)) {
			row(s.Metric).Firings += int(s.Value)
		}
	}
	for _, s := range firing {
		if finite(float64(s.Value)) {
			row(s.Metric).FiringSeconds += float64(s.Value)
		}
	}
	for _, r := range rows {
		sec.Rows = append(sec.Rows, *r)
	}
	sort.Slice(sec.Rows, func(i, j int) bool {
		a, b := sec.Rows[i], sec.Rows[j]
		if a.Firings != b.Firings {
			return a.Firings > b.Firings
		}
		if a.FiringSeconds != b.FiringSeconds {
			return a.FiringSeconds > b.FiringSeconds
		}
		return a.Alert+a.Severity < b.Alert+b.Severity
	})
	return sec
}

// EndpointRow is one endpoint's p95 latency over the window.
type EndpointRow struct {
	Service  string  `json:"service,omitempty"`
	Endpoint string  `json:"endpoint"`
	P95Ms    float64 `json:"p95_ms"`
}

// EndpointSection is the top 10 slowest endpoints.
type EndpointSection struct {
	Label string        `json:"label"`
	Rows  []EndpointRow `json:"rows"`
	Query string        `json:"query"`
	Note  string        `json:"note,omitempty"`
	Error string        `json:"error,omitempty"`
}

// endpointsQuery is the p95 over the window of each service and endpoint;
// ">= 0" drops the NaN of endpoints with no requests in the window.
func endpointsQuery(label string, window time.Duration) string {
	return fmt.Sprintf(`topk(10, histogram_quantile(0.95, sum by (le, service, %s) (rate(http_request_duration_seconds_bucket[%s]))) >= 0)`, label, promDuration(window))
}

func evalEndpoints(ctx context.Context, q Querier, label string, window time.Duration, at time.Time) EndpointSection {
	sec := EndpointSection{Label: label, Query: endpointsQuery(label, window)}
	v, err := q.Query(ctx, sec.Query, at)
	if err != nil {
		sec.Error = err.Error()
		return sec
	}
	unlabelled := false
	for _, s := range v {
		if !finite(float64(s.Value)) {
			continue
		}
		ep := string(s.Metric[model.LabelName(label)])
		if ep == "" {
			unlabelled = true
		}
		sec.Rows = append(sec.Rows, EndpointRow{Service: string(s.Metric["service"]), Endpoint: ep, P95Ms: 1000 * float64(s.Value)})
	}
	sort.Slice(sec.Rows, func(i, j int) bool { return sec.Rows[i].P95Ms > sec.Rows[j].P95Ms })
	if unlabelled {
		sec.Note = fmt.Sprintf("series without a %q label are aggregated per service: the services' metric contract (slo.AppContract) lists no endpoint label on http_request_duration_seconds", label)
	}
	return sec
}

// TrendPoint is the 5xx share of one bucket of the window.
type TrendPoint struct {
	End       time.Time `json:"end"`
	NoTraffic bool      `json:"no_traffic"`
	// Percent5xx is nil without traffic.
	Percent5xx *float64 `json:"percent_5xx"`
}

// TrendSection is the error-rate trend: the catalog's error-rate SLI per
// bucket (hour for the daily report, day otherwise).
type TrendSection struct {
	Step    string       `json:"step"`
	Points  []TrendPoint `json:"points"`
	Queries []string     `json:"queries"`
	Error   string       `json:"error,omitempty"`
}

// trendSLO is the catalog SLO whose SLI the trend plots.
const trendSLO = "error-rate"

func evalTrend(ctx context.Context, q Querier, p period, at time.Time) TrendSection {
	sec := TrendSection{Step: promDuration(p.TrendStep)}
	s, ok := slo.FindSLO(trendSLO)
	if !ok || s.Ratio == nil {
		sec.Error = fmt.Sprintf("catalog SLO %q not found", trendSLO)
		return sec
	}
	errorsQ, err1 := renderWindow(s.Ratio.Errors, p.TrendStep)
	totalQ, err2 := renderWindow(s.Ratio.Total, p.TrendStep)
	if err := errors.Join(err1, err2); err != nil {
		sec.Error = err.Error()
		return sec
	}
	sec.Queries = []string{errorsQ, totalQ}
	start := at.Add(-p.Window)
	for end := start.Add(p.TrendStep); !end.After(at); end = end.Add(p.TrendStep) {
		r, err := evalRatio(ctx, q, errorsQ, totalQ, end)
		if err != nil {
			sec.Error = err.Error()
			return sec
		}
		pt := TrendPoint{End: end, NoTraffic: r.NoTraffic}
		if !r.NoTraffic {
			pt.Percent5xx = ptr(round(100*r.ErrorRatio, 6))
		}
		sec.Points = append(sec.Points, pt)
	}
	return sec
}

// ResourceSection is the cluster's CPU (cores) and memory (bytes): used
// (cAdvisor, via the kubelet), requested (kube-state-metrics, pods Pending
// or Running) and allocatable, averaged over the window; used also at its
// peak. Nil values had no data.
type ResourceSection struct {
	CPU        ResourceFigures   `json:"cpu_cores"`
	Memory     ResourceFigures   `json:"memory_bytes"`
	Resolution string            `json:"resolution"`
	Queries    map[string]string `json:"queries"`
	Error      string            `json:"error,omitempty"`
}

// ResourceFigures is one resource's summary.
type ResourceFigures struct {
	UsedAvg      *float64 `json:"used_avg"`
	UsedPeak     *float64 `json:"used_peak"`
	RequestedAvg *float64 `json:"requested_avg"`
	Allocatable  *float64 `json:"allocatable_avg"`
}

// Selectors of the resource summary: the kubelet's cAdvisor series of real
// containers (no pod cgroup, no pause) and kube-state-metrics' own series
// (Kubecost can re-emit kube_* families under its own job).
const (
	cadvisorSel = `job="kubelet",container!="",container!="POD"`
	ksmJob      = `job="kube-state-metrics"`
)

func resourceQueries(window, res time.Duration) map[string]string {
	w, r := promDuration(window), promDuration(res)
	requests := func(resource, unit string) string {
		return fmt.Sprintf(`avg_over_time(sum(kube_pod_container_resource_requests{%[1]s,resource="%[2]s",unit="%[3]s"} * on (namespace, pod) group_left () (max by (namespace, pod) (kube_pod_status_phase{%[1]s,phase=~"Pending|Running"}) == 1))[%[4]s:%[5]s])`, ksmJob, resource, unit, w, r)
	}
	alloc := func(resource, unit string) string {
		return fmt.Sprintf(`avg_over_time(sum(kube_node_status_allocatable{%s,resource="%s",unit="%s"})[%s:%s])`, ksmJob, resource, unit, w, r)
	}
	return map[string]string{
		"cpu_used_avg":       fmt.Sprintf(`sum(rate(container_cpu_usage_seconds_total{%s}[%s]))`, cadvisorSel, w),
		"cpu_used_peak":      fmt.Sprintf(`max_over_time(sum(rate(container_cpu_usage_seconds_total{%s}[%s]))[%s:%s])`, cadvisorSel, r, w, r),
		"cpu_requested_avg":  requests("cpu", "core"),
		"cpu_allocatable":    alloc("cpu", "core"),
		"memory_used_avg":    fmt.Sprintf(`avg_over_time(sum(container_memory_working_set_bytes{%s})[%s:%s])`, cadvisorSel, w, r),
		"memory_used_peak":   fmt.Sprintf(`max_over_time(sum(container_memory_working_set_bytes{%s})[%s:%s])`, cadvisorSel, w, r),
		"memory_requested":   requests("memory", "byte"),
		"memory_allocatable": alloc("memory", "byte"),
	}
}

func evalResources(ctx context.Context, q Querier, p period, at time.Time) ResourceSection {
	sec := ResourceSection{Resolution: promDuration(p.Resolution), Queries: resourceQueries(p.Window, p.Resolution)}
	targets := map[string]**float64{
		"cpu_used_avg": &sec.CPU.UsedAvg, "cpu_used_peak": &sec.CPU.UsedPeak,
		"cpu_requested_avg": &sec.CPU.RequestedAvg, "cpu_allocatable": &sec.CPU.Allocatable,
		"memory_used_avg": &sec.Memory.UsedAvg, "memory_used_peak": &sec.Memory.UsedPeak,
		"memory_requested": &sec.Memory.RequestedAvg, "memory_allocatable": &sec.Memory.Allocatable,
	}
	var errs []error
	for name, query := range sec.Queries {
		v, ok, err := scalar(ctx, q, query, at)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			*targets[name] = ptr(v)
		}
	}
	if err := errors.Join(errs...); err != nil {
		sec.Error = err.Error()
	}
	return sec
}
