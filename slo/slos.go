package slo

import "fmt"

// eventsOver builds a latency SLI: requests slower than le seconds out of all.
func eventsOver(histogram, sel string, bound float64) *RatioSLI {
	and := ""
	if sel != "" {
		and = sel + ","
	}
	return &RatioSLI{
		Errors: fmt.Sprintf(`sum(rate(%[1]s_count%[2]s[{{.window}}])) - sum(rate(%[1]s_bucket{%[3]sle="%[4]s"}[{{.window}}]))`, histogram, braces(sel), and, le(bound)),
		Total:  fmt.Sprintf(`sum(rate(%s_count%s[{{.window}}]))`, histogram, braces(sel)),
		Metric: histogram + "_count" + braces(sel),
	}
}

// SLOs is the catalog of the monitoring plan (seed 000 "Service Level
// Objectives"). Ratio SLOs get multi-window multi-burn-rate alerts; every
// breach level names the catalog alert that fires at it.
//
// Seed conflict, kept as the alert rule says: "Memory > 2.5GB: P3" in the
// PPO SLO's breach actions, but the PPOMemoryHigh rule is P2; the rule wins.
var SLOs = []SLO{
	{
		Name: "availability", Title: "Availability", Target: 99.9, Unit: "%", Good: AtLeast, Objective: 99.9,
		Description: "Share of time all critical services answer health checks (43 minutes of downtime a month)",
		Ratio:       &RatioSLI{Errors: `1 - avg(avg_over_time(up{job="tars"}[{{.window}}]))`, Metric: `up{job="tars"}`},
		Breaches:    []Breach{{99.9, P1, "AvailabilityBelowSLO"}, {99.5, P0, "AvailabilityCritical"}},
		Dashboard:   "tars-overview", Team: "sre",
		// up is 0 or 1 per target; a fractional gauge stands for the share of
		// failed health checks so any error ratio can be expressed exactly.
		Burn: func(r float64) Fixture { return Gauge(`up{job="tars",instance="a"}`, 1-r) },
	},
	{
		Name: "api-latency-p95", Title: "API latency p95", Target: 100, Unit: "ms", Good: Below, Objective: 95,
		Description: "95th percentile API response time across endpoints",
		Ratio:       eventsOver(httpLatency, "", 0.1),
		Breaches:    []Breach{{150, P2, "HighAPILatency"}, {200, P1, "CriticalAPILatency"}},
		Dashboard:   "tars-overview", Team: "sre",
		Burn: func(r float64) Fixture { return SlowShare(httpLatency, `job="tars"`, 0.04, 0.4, r, 20) },
	},
	{
		Name: "api-latency-p99", Title: "API latency p99", Target: 250, Unit: "ms", Good: Below, Objective: 99,
		Description: "99th percentile API response time across endpoints",
		Ratio:       eventsOver(httpLatency, "", 0.25),
		Breaches:    []Breach{{500, P1, "CriticalAPILatencyP99"}},
		Dashboard:   "tars-overview", Team: "sre",
		Burn: func(r float64) Fixture { return SlowShare(httpLatency, `job="tars"`, 0.04, 0.9, r, 20) },
	},
	{
		Name: "error-rate", Title: "5xx error rate", Target: 1, Unit: "%", Good: Below, Objective: 99,
		Description: "Share of HTTP requests answered with 5xx",
		Ratio:       &RatioSLI{Errors: `sum(rate(http_requests_total{status=~"5.."}[{{.window}}]))`, Total: `sum(rate(http_requests_total[{{.window}}]))`, Metric: httpRequests},
		Breaches:    []Breach{{1, P2, "ElevatedErrorRate"}, {5, P1, "HighErrorRate"}, {10, P0, "CriticalErrorRate"}},
		Dashboard:   "tars-overview", Team: "sre",
		Burn: func(r float64) Fixture {
			return Join(Counter(`http_requests_total{status="500"}`, 20*r), Counter(`http_requests_total{status="200"}`, 20*(1-r)))
		},
	},
	{
		Name: "database-latency-p95", Title: "Database query p95", Target: 100, Unit: "ms", Good: Below, Objective: 95,
		Description: "95th percentile PostgreSQL query latency",
		Ratio:       eventsOver(pgQueryLatency, "", 0.1),
		Breaches:    []Breach{{150, P2, "SlowDatabaseQueries"}},
		Dashboard:   "tars-database", Team: "sre",
		Burn: func(r float64) Fixture { return SlowShare(pgQueryLatency, "", 0.02, 0.4, r, 20) },
	},
	{
		Name: "database-pool", Title: "Database connection pool", Target: 80, Unit: "%", Good: Below,
		Description: "Active connections over the pool maximum",
		Breaches:    []Breach{{80, P2, "DatabaseConnectionPoolHigh"}, {90, P1, "DatabaseConnectionPoolCritical"}},
		Dashboard:   "tars-database", Team: "sre",
	},
	{
		Name: "websocket-disconnections", Title: "WebSocket disconnections", Target: 0.01, Unit: "/s", Good: Below,
		Description: "WebSocket disconnections per second (TARS-1001)",
		Breaches:    []Breach{{0.05, P2, "HighWebSocketDisconnectionRate"}},
		Dashboard:   "tars-overview", Team: "sre",
	},
	{
		Name: "websocket-reconnections", Title: "WebSocket reconnection failures", Target: 5, Unit: "%", Good: Below, Objective: 95,
		Description: "Share of WebSocket reconnection attempts that fail (TARS-1001)",
		Ratio:       &RatioSLI{Errors: `sum(rate(websocket_reconnection_failures_total[{{.window}}]))`, Total: `sum(rate(websocket_reconnection_attempts_total[{{.window}}]))`, Metric: "websocket_reconnection_attempts_total"},
		Breaches:    []Breach{{10, P1, "WebSocketReconnectionFailures"}},
		Dashboard:   "tars-overview", Team: "sre",
		Burn: func(r float64) Fixture {
			return Ratio(`websocket_reconnection_failures_total`, `websocket_reconnection_attempts_total`, r, 5)
		},
	},
	{
		Name: "grafana-load", Title: "Grafana dashboard load p95", Target: 5, Unit: "s", Good: Below, Objective: 95,
		Description: "95th percentile Grafana dashboard load time (TARS-1002)",
		Ratio:       eventsOver(grafanaLoad, grafanaLoadSel, 5),
		Breaches:    []Breach{{8, P3, "SlowGrafanaDashboard"}, {15, P2, "VerySlowGrafanaDashboard"}},
		Dashboard:   "tars-overview", Team: "sre",
		Burn: func(r float64) Fixture { return SlowShare(grafanaLoad, grafanaLoadSel, 1, 9, r, 5) },
	},
	{
		Name: "trace-coverage", Title: "Trace coverage", Target: 95, Unit: "%", Good: Above, Objective: 95,
		Description: "Share of requests with complete distributed traces (TARS-1003)",
		Ratio:       &RatioSLI{Errors: "1 - " + traceCoverage("{{.window}}"), Metric: serverSpans},
		Breaches:    []Breach{{90, P3, "LowTraceCoverage"}, {80, P2, "CriticalTraceCoverage"}},
		Dashboard:   "tars-tracing", Team: "sre",
		Burn: func(r float64) Fixture { return coverageFixture(1-r, 20) },
	},
	{
		Name: "ppo-memory", Title: "PPO agent memory", Target: 2, Unit: "GB", Good: Below,
		Description: "Working-set memory per PPO agent pod (TARS-1005)",
		Breaches:    []Breach{{2.5, P2, "PPOMemoryHigh"}, {3, P2, "PPOMemoryCritical"}},
		Dashboard:   "tars-agents", Team: "ml-engineering",
	},
}

// FindSLO returns the catalog SLO of a name.
func FindSLO(name string) (SLO, bool) {
	for _, s := range SLOs {
		if s.Name == name {
			return s, true
		}
	}
	return SLO{}, false
}

// allGroups returns every catalog alert group: the plan's, Phase 7's and
// the platform's, whatever exporters a stack runs (GroupsFor filters).
func allGroups() []Group {
	var out []Group
	out = append(out, planGroups()...)
	out = append(out, phase7Groups()...)
	out = append(out, platformGroups()...)
	for gi := range out {
		for ai := range out[gi].Alerts {
			out[gi].Alerts[ai].Group = out[gi].Name
		}
	}
	return out
}

// Groups returns the catalog alert groups of a stack with the default
// features (no GPU): GroupsFor(Features{}). GroupsFor(AllFeatures) is the
// full catalog. Burn-rate rules are generated separately (BurnRateGroups).
func Groups() []Group { return GroupsFor(Features{}) }

// Alerts returns the catalog alerts of a stack with the default features
// (no GPU), in group order: AlertsFor(Features{}).
func Alerts() []Alert { return AlertsFor(Features{}) }

// FindAlert returns the catalog alert of a name among those of a stack
// with the default features (no GPU): FindAlertFor(Features{}, name).
func FindAlert(name string) (Alert, bool) { return FindAlertFor(Features{}, name) }
