package main

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

const day = 24 * time.Hour

// dailySeries is one day of the services at one-minute resolution: 0.5 %
// 5xx, one failed health check in 1440, a latency histogram on two
// endpoints, 10 % failed WebSocket reconnections, a Postgres histogram
// that exists but sees no queries, no Grafana series at all, 95 % trace
// coverage, two alerts and the cluster's resources.
func dailySeries() string {
	const m = 1440 // minutes
	hist := func(handler string, perBucket map[string]float64) map[string]string {
		out := map[string]string{}
		for le, per := range perBucket {
			out[`http_request_duration_seconds_bucket{job="tars",handler="`+handler+`",le="`+le+`"}`] = counter(1000, seg{per, m})
		}
		out[`http_request_duration_seconds_count{job="tars",handler="`+handler+`"}`] = counter(1000, seg{perBucket["+Inf"], m})
		return out
	}
	s := map[string]string{
		`http_requests_total{job="tars",status="200"}`: counter(1000, seg{199, m}),
		`http_requests_total{job="tars",status="500"}`: counter(1000, seg{1, m}),
		// one 0 among the 1440 samples of the window (0, 24h]
		`up{job="tars",instance="a"}`:                                                           "1x720 0 1x718",
		`websocket_reconnection_attempts_total`:                                                 counter(1000, seg{10, m}),
		`websocket_reconnection_failures_total`:                                                 counter(1000, seg{1, m}),
		`pg_query_duration_seconds_count`:                                                       counter(5, seg{0, m}),
		`pg_query_duration_seconds_bucket{le="0.1"}`:                                            counter(5, seg{0, m}),
		`traces_span_metrics_calls_total{span_kind="SPAN_KIND_SERVER",service_name="tars-api"}`: counter(1000, seg{190, m}),

		`container_cpu_usage_seconds_total{job="kubelet",namespace="tars",pod="api-0",container="api"}`: counter(1000, seg{15, m}),
		// the pod cgroup (container="") must not be counted twice
		`container_cpu_usage_seconds_total{job="kubelet",namespace="tars",pod="api-0",container=""}`:                                                counter(1000, seg{15, m}),
		`container_memory_working_set_bytes{job="kubelet",namespace="tars",pod="api-0",container="api"}`:                                            "1073741824x1440",
		`container_memory_working_set_bytes{job="kubelet",namespace="tars",pod="api-0",container=""}`:                                               "1073741824x1440",
		`kube_pod_container_resource_requests{job="kube-state-metrics",namespace="tars",pod="api-0",container="api",resource="cpu",unit="core"}`:    "0.5x1440",
		`kube_pod_container_resource_requests{job="kube-state-metrics",namespace="tars",pod="api-0",container="api",resource="memory",unit="byte"}`: "2147483648x1440",
		`kube_pod_container_resource_requests{job="kube-state-metrics",namespace="tars",pod="job-1",container="job",resource="cpu",unit="core"}`:    "4x1440",
		`kube_pod_container_resource_requests{job="kube-state-metrics",namespace="tars",pod="job-1",container="job",resource="memory",unit="byte"}`: "8589934592x1440",
		`kube_pod_container_resource_requests{job="kubecost",namespace="tars",pod="api-0",container="api",resource="cpu",unit="core"}`:              "0.5x1440",
		`kube_pod_status_phase{job="kube-state-metrics",namespace="tars",pod="api-0",phase="Running"}`:                                              "1x1440",
		`kube_pod_status_phase{job="kube-state-metrics",namespace="tars",pod="api-0",phase="Pending"}`:                                              "0x1440",
		`kube_pod_status_phase{job="kube-state-metrics",namespace="tars",pod="job-1",phase="Running"}`:                                              "0x1440",
		`kube_pod_status_phase{job="kube-state-metrics",namespace="tars",pod="job-1",phase="Succeeded"}`:                                            "1x1440",
		`kube_node_status_allocatable{job="kube-state-metrics",node="n1",resource="cpu",unit="core"}`:                                               "2x1440",
		`kube_node_status_allocatable{job="kube-state-metrics",node="n1",resource="memory",unit="byte"}`:                                            "8589934592x1440",
	}
	for _, h := range []map[string]string{
		// p95 175 ms: rank 95 falls between 90 (le 0.1) and 100 (le 0.25)
		hist("/api/missions", map[string]float64{"0.05": 50, "0.1": 90, "0.25": 100, "+Inf": 100}),
		// p95 47.5 ms: 95 % of the first bucket's 50 ms
		hist("/health", map[string]float64{"0.05": 100, "0.1": 100, "0.25": 100, "+Inf": 100}),
	} {
		for k, v := range h {
			s[k] = v
		}
	}
	// Two episodes, minutes 100-110 and 212-217, each ended by the stale
	// marker the rule manager writes on resolution: 11 and 6 minutes, on
	// the subquery's 15 s steps 44 + 24 steps = 1020 s.
	s[`ALERTS{alertname="HighErrorRate",alertstate="firing",severity="P1",instance="a"}`] = "_x100 1x10 stale _x100 1x5 stale"
	// Already firing when the window opens: 25m45s in the window (steps
	// 0:15 to 25:45), but no new episode.
	s[`ALERTS{alertname="LowTraceCoverage",alertstate="firing",severity="P3"}`] = "1x25 stale"
	s[`ALERTS{alertname="HighErrorRate",alertstate="pending",severity="P1",instance="b"}`] = "1x50 stale"
	return loadText("1m", s)
}

func testConfig(p string, at time.Time) config {
	return config{Period: periods[p], Region: "us-east", Prefix: "slo-reports", EndpointLabel: "handler", At: at, Bucket: "tars-reports"}
}

func near(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: nil, want %v", what, want)
		return
	}
	if math.Abs(*got-want) > 1e-6*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", what, *got, want)
	}
}

func findSLO(t *testing.T, r *Report, name string) SLOResult {
	t.Helper()
	for _, s := range r.SLOs {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("SLO %s not in report", name)
	return SLOResult{}
}

// noNaN checks both renderings are free of NaN and Inf.
func noNaN(t *testing.T, r *Report) (md, js string) {
	t.Helper()
	md = r.Markdown()
	b, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	js = string(b)
	for _, bad := range []string{"NaN", "Inf "} {
		if strings.Contains(md, bad) || strings.Contains(js, bad) {
			t.Errorf("report contains %q", bad)
		}
	}
	if !json.Valid(b) {
		t.Error("JSON invalid")
	}
	return md, js
}

func TestDailyReport(t *testing.T) {
	q := newEngineQuerier(t, dailySeries())
	r, err := buildReport(context.Background(), testConfig("daily", epoch.Add(day)), q, nil, epoch.Add(day))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) > 0 {
		t.Fatalf("warnings: %v", r.Warnings)
	}

	// 0.5 % 5xx over 24 h: SLI 99.5 %, half the 1 % budget left.
	e := findSLO(t, r, "error-rate")
	near(t, "error-rate SLI", e.SLI, 99.5)
	near(t, "error-rate budget", e.BudgetLeft, 50)
	near(t, "error-rate events", e.Events, 288000)
	if e.Status != StatusMet {
		t.Errorf("error-rate status %q", e.Status)
	}
	// 1 failed check of 1440: SLI 99.930556 %, 1 - (1/1440)/0.001 = 30.56 % left.
	a := findSLO(t, r, "availability")
	near(t, "availability SLI", a.SLI, 100*(1-1.0/1440))
	near(t, "availability budget", a.BudgetLeft, 30.555556)
	// 10 of 200 requests/min over 100 ms: exactly the 5 % the p95 SLO allows.
	p95 := findSLO(t, r, "api-latency-p95")
	near(t, "p95 SLI", p95.SLI, 95)
	near(t, "p95 budget", p95.BudgetLeft, 0)
	if p95.Status != StatusMet {
		t.Errorf("p95 at exactly its objective: status %q, want met", p95.Status)
	}
	p99 := findSLO(t, r, "api-latency-p99")
	near(t, "p99 SLI", p99.SLI, 100)
	near(t, "p99 budget", p99.BudgetLeft, 100)
	// 10 % failed reconnections against a 5 % budget: overspent twice over.
	ws := findSLO(t, r, "websocket-reconnections")
	near(t, "websocket SLI", ws.SLI, 90)
	near(t, "websocket budget", ws.BudgetLeft, -100)
	if ws.Status != StatusBreached {
		t.Errorf("websocket status %q", ws.Status)
	}
	tc := findSLO(t, r, "trace-coverage")
	near(t, "trace coverage SLI", tc.SLI, 95)
	if tc.Status != StatusMet {
		t.Errorf("trace coverage status %q", tc.Status)
	}
	// Series with rate 0, and no series at all: no traffic, budget untouched.
	for _, name := range []string{"database-latency-p95", "grafana-load"} {
		s := findSLO(t, r, name)
		if s.Status != StatusNoTraffic || s.SLI != nil || s.BudgetLeft != nil {
			t.Errorf("%s: %+v, want no traffic", name, s)
		}
	}
	for _, name := range []string{"database-pool", "websocket-disconnections", "ppo-memory"} {
		if s := findSLO(t, r, name); s.Status != StatusSkipped {
			t.Errorf("%s: status %q, want skipped", name, s.Status)
		}
	}

	// Alerts: two HighErrorRate episodes, 660 s + 360 s; LowTraceCoverage
	// fired before the window: 103 steps of 15 s, no new episode.
	want := map[string]AlertRow{
		"HighErrorRate":    {Alert: "HighErrorRate", Severity: "P1", Firings: 2, FiringSeconds: 1020},
		"LowTraceCoverage": {Alert: "LowTraceCoverage", Severity: "P3", Firings: 0, FiringSeconds: 1545},
	}
	if len(r.Alerts.Rows) != len(want) {
		t.Errorf("alert rows %+v", r.Alerts.Rows)
	}
	for _, row := range r.Alerts.Rows {
		if row != want[row.Alert] {
			t.Errorf("alert %+v, want %+v", row, want[row.Alert])
		}
	}

	if len(r.Endpoints.Rows) != 2 || r.Endpoints.Rows[0].Endpoint != "/api/missions" {
		t.Fatalf("endpoints %+v", r.Endpoints.Rows)
	}
	near(t, "missions p95", &r.Endpoints.Rows[0].P95Ms, 175)
	near(t, "health p95", &r.Endpoints.Rows[1].P95Ms, 47.5)

	if len(r.ErrorTrend.Points) != 24 || r.ErrorTrend.Step != "1h" {
		t.Fatalf("trend: %d points step %s", len(r.ErrorTrend.Points), r.ErrorTrend.Step)
	}
	for _, p := range r.ErrorTrend.Points {
		near(t, "hourly 5xx "+p.End.Format(timeLayout), p.Percent5xx, 0.5)
	}

	res := r.Resources
	near(t, "cpu used", res.CPU.UsedAvg, 0.25)
	near(t, "cpu peak", res.CPU.UsedPeak, 0.25)
	near(t, "cpu requested (Running pods, kube-state-metrics only)", res.CPU.RequestedAvg, 0.5)
	near(t, "cpu allocatable", res.CPU.Allocatable, 2)
	near(t, "memory used", res.Memory.UsedAvg, 1<<30)
	near(t, "memory peak", res.Memory.UsedPeak, 1<<30)
	near(t, "memory requested", res.Memory.RequestedAvg, 2<<30)
	near(t, "memory allocatable", res.Memory.Allocatable, 8<<30)

	md, js := noNaN(t, r)
	for _, line := range []string{
		"| 5xx error rate | 99 % | 99.5 % | met | 50 % | 288000 |",
		"| Availability | 99.9 % | 99.931 % | met | 30.6 % | — |",
		"| WebSocket reconnection failures | 95 % | 90 % | breached | -100 % (overspent) | 14400 |",
		"| Database query p95 | 95 % | no traffic | no traffic | untouched (no traffic) | 0 |",
		"| HighErrorRate | P1 | 2 | 17m0s |",
		"| LowTraceCoverage | P3 | 0 | 25m45s |",
		"| 1 | — | /api/missions | 175 ms |",
		"| 1970-01-01 01:00 | 0.5 % |",
		"| CPU | 0.25 cores | 0.25 cores | 0.5 cores | 2 cores | 50 % | 25 % |",
		"| Memory | 1 GiB | 1 GiB | 2 GiB | 8 GiB | 50 % | 25 % |",
	} {
		if !strings.Contains(md, line) {
			t.Errorf("markdown lacks %q", line)
		}
	}
	if !strings.Contains(js, `"error_budget_left_percent": -100`) {
		t.Error("JSON lacks the negative budget")
	}
	if testing.Verbose() {
		t.Log("\n" + md)
	}
}

// A week whose third day is an outage (half the requests fail): the
// weekly SLI, the overspent budget and the daily trend.
func TestWeeklyReportWithOutageOnDay3(t *testing.T) {
	const d = 1440
	load := loadText("1m", map[string]string{
		`http_requests_total{job="tars",status="200"}`: counter(100000, seg{100, 2 * d}, seg{50, d}, seg{100, 4 * d}),
		`http_requests_total{job="tars",status="500"}`: counter(1000, seg{0, 2 * d}, seg{50, d}, seg{0, 4 * d}),
	})
	q := newEngineQuerier(t, load)
	at := epoch.Add(7 * day)
	r, err := buildReport(context.Background(), testConfig("weekly", at), q, nil, at)
	if err != nil {
		t.Fatal(err)
	}
	e := findSLO(t, r, "error-rate")
	// The window (0, 7d] holds the samples of minutes 1..10080: 72000
	// failed of 1007900 requests (the first minute's 100 are before the
	// first sample). 72000/1007900 = 0.0714356583.
	near(t, "weekly SLI", e.SLI, 92.85643417)
	near(t, "weekly budget", e.BudgetLeft, -614.3565830)
	if e.Status != StatusBreached {
		t.Errorf("status %q", e.Status)
	}
	if !strings.Contains(e.Queries[0], "[7d]") {
		t.Errorf("weekly query %q", e.Queries[0])
	}
	wantTrend := []float64{0, 0, 50, 0, 0, 0, 0}
	if len(r.ErrorTrend.Points) != 7 || r.ErrorTrend.Step != "1d" {
		t.Fatalf("trend %+v", r.ErrorTrend)
	}
	for i, p := range r.ErrorTrend.Points {
		near(t, "day "+p.End.Format(timeLayout), p.Percent5xx, wantTrend[i])
	}
	md, _ := noNaN(t, r)
	for _, line := range []string{
		"| 5xx error rate | 99 % | 92.856 % | breached | -614.4 % (overspent) |",
		"| 1970-01-04 00:00 | 50 % |",
		"| 1970-01-03 00:00 | 0 % |",
	} {
		if !strings.Contains(md, line) {
			t.Errorf("markdown lacks %q", line)
		}
	}
	// Nothing else has traffic.
	for _, s := range r.SLOs {
		if s.Name != "error-rate" && s.Status != StatusNoTraffic && s.Status != StatusSkipped {
			t.Errorf("%s: %s", s.Name, s.Status)
		}
	}
}

type fakeCosts struct {
	start, end time.Time
	sec        CostSection
}

func (f *fakeCosts) Costs(_ context.Context, start, end time.Time) CostSection {
	f.start, f.end = start, end
	return f.sec
}

func TestMonthlyReport(t *testing.T) {
	const m = 30 * 1440
	q := newEngineQuerier(t, loadText("1m", map[string]string{
		`http_requests_total{job="tars",status="200"}`: counter(1000, seg{499, m}),
		`http_requests_total{job="tars",status="503"}`: counter(1000, seg{1, m}),
	}))
	at := epoch.Add(30 * day)
	costs := &fakeCosts{sec: CostSection{Rows: []CostRow{{Namespace: "tars", Total: 100}}, Total: 100}}
	r, err := buildReport(context.Background(), testConfig("monthly", at), q, costs, at)
	if err != nil {
		t.Fatal(err)
	}
	// 0.2 % over 30 days: SLI 99.8 %, 80 % of the budget left.
	e := findSLO(t, r, "error-rate")
	near(t, "monthly SLI", e.SLI, 99.8)
	near(t, "monthly budget", e.BudgetLeft, 80)
	if !strings.Contains(e.Queries[1], "[30d]") {
		t.Errorf("monthly total query %q", e.Queries[1])
	}
	if len(r.ErrorTrend.Points) != 30 {
		t.Errorf("monthly trend has %d points", len(r.ErrorTrend.Points))
	}
	if !costs.start.Equal(epoch) || !costs.end.Equal(at) {
		t.Errorf("cost window %s..%s", costs.start, costs.end)
	}
	md, _ := noNaN(t, r)
	if !strings.Contains(md, "| 5xx error rate | 99 % | 99.8 % | met | 80 % | 21600000 |") ||
		!strings.Contains(md, "| **Total** | | | | | | | | **100.00** |") {
		t.Errorf("markdown:\n%s", md)
	}
}

// No request at all in the window, and series that exist with rate 0:
// every ratio SLO is "no traffic", nothing divides by zero, no NaN.
func TestZeroTraffic(t *testing.T) {
	for name, load := range map[string]string{
		"no series": loadText("1m", map[string]string{`unrelated_metric`: "1x1440"}),
		"rate zero": loadText("1m", map[string]string{
			`http_requests_total{job="tars",status="200"}`:                            "1000x1440",
			`http_requests_total{job="tars",status="500"}`:                            "1000x1440",
			`http_request_duration_seconds_count{job="tars",handler="/a"}`:            "1000x1440",
			`http_request_duration_seconds_bucket{job="tars",handler="/a",le="0.1"}`:  "1000x1440",
			`http_request_duration_seconds_bucket{job="tars",handler="/a",le="0.25"}`: "1000x1440",
			`http_request_duration_seconds_bucket{job="tars",handler="/a",le="+Inf"}`: "1000x1440",
			`websocket_reconnection_attempts_total`:                                   "7x1440",
			`websocket_reconnection_failures_total`:                                   "7x1440",
			`pg_query_duration_seconds_count`:                                         "3x1440",
			`pg_query_duration_seconds_bucket{le="0.1"}`:                              "3x1440",
		}),
		// traffic ended two days before the window
		"traffic before the window": loadText("1m", map[string]string{
			`http_requests_total{job="tars",status="200"}`: counter(1000, seg{100, 1440}),
			`http_requests_total{job="tars",status="500"}`: counter(1000, seg{100, 1440}),
		}),
	} {
		t.Run(name, func(t *testing.T) {
			at := epoch.Add(day)
			if name == "traffic before the window" {
				at = epoch.Add(3 * day)
			}
			q := newEngineQuerier(t, load)
			r, err := buildReport(context.Background(), testConfig("daily", at), q, nil, at)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range r.SLOs {
				if s.Status == StatusSkipped {
					continue
				}
				if s.Status != StatusNoTraffic || s.SLI != nil || s.BudgetLeft != nil || s.ErrorRatio != nil {
					t.Errorf("%s: %+v, want no traffic", s.Name, s)
				}
			}
			for _, p := range r.ErrorTrend.Points {
				if !p.NoTraffic || p.Percent5xx != nil {
					t.Errorf("trend point %+v, want no traffic", p)
				}
			}
			if len(r.Endpoints.Rows) != 0 || len(r.Alerts.Rows) != 0 {
				t.Errorf("endpoints %+v alerts %+v", r.Endpoints.Rows, r.Alerts.Rows)
			}
			md, js := noNaN(t, r)
			if !strings.Contains(md, "| 5xx error rate | 99 % | no traffic | no traffic | untouched (no traffic) | 0 |") {
				t.Errorf("markdown:\n%s", md)
			}
			if !strings.Contains(js, `"error_budget_left_percent": null`) || strings.Contains(js, `"error_budget_left_percent": 100`) {
				t.Error("JSON must carry a null budget, not 100 %")
			}
			if txt := r.SlackText(); !strings.Contains(txt, "5xx error rate: no traffic — budget untouched") || strings.Contains(txt, "NaN") {
				t.Errorf("slack text:\n%s", txt)
			}
		})
	}
}

// The budget formula with literal numbers, including its edges.
func TestBudgetLeft(t *testing.T) {
	for _, c := range []struct {
		ratio, objective, want float64
		met                    bool
	}{
		{0.005, 99, 0.5, true},
		{0, 99.9, 1, true},
		{0.001, 99.9, 0, true},
		{0.02, 99, -1, false},
		{1 - 0.95, 95, 0, true},
		{0.0500001, 95, -0.000002, false},
	} {
		got, ok := budgetLeft(c.ratio, c.objective)
		if !ok || math.Abs(got-c.want) > 1e-9 {
			t.Errorf("budgetLeft(%v, %v) = %v, %v; want %v", c.ratio, c.objective, got, ok, c.want)
		}
		if met(c.ratio, c.objective) != c.met {
			t.Errorf("met(%v, %v) = %v", c.ratio, c.objective, !c.met)
		}
	}
	if _, ok := budgetLeft(0, 100); ok {
		t.Error("a 100 % objective has no budget")
	}
}
