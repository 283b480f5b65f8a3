package slo

import "time"

// planGroups are the alert rules of the v1.0.1 monitoring plan (seed 000,
// "Alert Rules"), plus one alert per SLO breach level the plan names in
// "Breach Actions" but gives no rule for.
//
// Fixes to the seed, each also on the alert's Fix field:
//   - error ratios: the seed divided rate(x{status=~"5.."}) by rate(x)
//     series by series, which matches each 5xx series with itself (100 %);
//     the ratios now sum both sides and guard the denominator (> 0) so zero
//     traffic gives no sample instead of NaN.
//   - histogram_quantile over a bare rate() gave one quantile per series;
//     buckets are now aggregated with sum by (le) first.
//   - the alert named "LowTraceCoV" in the seed's heading is LowTraceCoverage.
//   - PPOMemoryLeak took rate() of a gauge (wrong on every decrease) and
//     compared a per-second value with a per-hour threshold; it now uses
//     deriv() × 3600 against 100 MB/hour.
//   - PodCrashLooping described "restarted N times" but measured a
//     per-second rate; it now counts restarts with increase().
//   - NodeNotReady (P0) held 5m and PPOMemoryLeak (P2) 30m, so neither could
//     page within its severity's acknowledgement target once scrape,
//     evaluation and group_wait are added; the holds are 3m and 20m.
func planGroups() []Group {
	return []Group{
		{Name: "tars-availability", Source: "000 Alert Rules §1 + Availability SLO", Alerts: []Alert{
			{
				Name: "HighErrorRate", Query: ratioPercent(http5xx, httpRequests), Op: Above, Threshold: 5, For: 5 * time.Minute,
				Severity: P1, Team: "sre", SLO: "error-rate", Runbook: "high-error-rate", Dashboard: "tars-overview",
				Summary: "High error rate detected: {{ $value | humanize }}%", Description: "5xx error rate exceeds 5% for 5 minutes",
				Source: "000 HighErrorRate", Fix: "sum both sides of the ratio; guard the denominator",
				Firing: Ratio(`http_requests_total{status="500"}`, `http_requests_total{status="200"}`, 0.07/0.93, 10), Healthy: Ratio(`http_requests_total{status="500"}`, `http_requests_total{status="200"}`, 0.01, 10),
			},
			{
				Name: "CriticalErrorRate", Query: ratioPercent(http5xx, httpRequests), Op: Above, Threshold: 10, For: 2 * time.Minute,
				Severity: P0, Team: "sre", SLO: "error-rate", Runbook: "critical-error-rate", Dashboard: "tars-overview",
				Summary: "CRITICAL: Error rate {{ $value | humanize }}%", Description: "Error rate exceeds 10% - service outage",
				Source: "000 CriticalErrorRate", Fix: "sum both sides of the ratio; guard the denominator",
				Firing: Ratio(`http_requests_total{status="503"}`, `http_requests_total{status="200"}`, 0.25, 10), Healthy: Ratio(`http_requests_total{status="503"}`, `http_requests_total{status="200"}`, 0.06, 10),
			},
			{
				Name: "ElevatedErrorRate", Query: ratioPercent(http5xx, httpRequests), Op: Above, Threshold: 1, For: 10 * time.Minute,
				Severity: P2, Team: "sre", SLO: "error-rate", Runbook: "high-error-rate", Dashboard: "tars-overview",
				Summary: "Error rate above the 1% SLO: {{ $value | humanize }}%", Description: "5xx error rate exceeds the 1% SLO for 10 minutes",
				Source: "000 Error Rate SLO breach > 1% (P2)",
				Firing: Ratio(`http_requests_total{status="500"}`, `http_requests_total{status="200"}`, 0.03, 10), Healthy: Ratio(`http_requests_total{status="500"}`, `http_requests_total{status="200"}`, 0.002, 10),
			},
			{
				Name: "ServiceDown", Query: `up{job="tars"}`, Op: Equal, Threshold: 0, For: 2 * time.Minute,
				Severity: P0, Team: "sre", Runbook: "service-down", Dashboard: "tars-overview",
				Summary: "Service {{ $labels.instance }} is down", Description: "Service has been down for 2 minutes",
				Source: "000 ServiceDown",
				Firing: Gauge(`up{job="tars",instance="orchestration-agent:8080"}`, 0), Healthy: Gauge(`up{job="tars",instance="orchestration-agent:8080"}`, 1),
			},
			{
				Name: RegionDownAlert, Query: `(max(up{job="tars"}) or vector(0))`, Op: Equal, Threshold: 0, For: 2 * time.Minute,
				Severity: P0, Team: "sre", Runbook: "region-down", Dashboard: "tars-overview",
				Summary: "No T.A.R.S. service answers in this region", Description: "Every service target of the region has been down (or gone) for 2 minutes: fail over to the other region (runbook); the region's other alerts are silenced",
				Source:  "000 Severity P0 (critical outage) and DR runbook; the platform's own",
				Firing:  Join(Gauge(`up{job="tars",instance="orchestration-agent:8080"}`, 0), Gauge(`up{job="tars",instance="rag-service:8080"}`, 0)),
				Healthy: Join(Gauge(`up{job="tars",instance="orchestration-agent:8080"}`, 0), Gauge(`up{job="tars",instance="rag-service:8080"}`, 1)),
			},
			{
				Name: "AvailabilityBelowSLO", Query: stillFailing(99.9), Op: Below, Threshold: 99.9, For: 5 * time.Minute,
				Severity: P1, Team: "sre", SLO: "availability", Runbook: "service-down", Dashboard: "tars-overview",
				Summary: "Availability {{ $value | humanize }}% over the last hour, 30-day SLO of 99.9% breached", Description: "Availability over 30 days is below 99.9% (43 minutes of downtime a month) and services are still failing",
				Source: "000 Availability SLO breach < 99.9% (P1)",
				Fix:    "pages only while the last hour is below the level too: the 30-day figure stays low for up to a month after one incident",
				Firing: Join(Gauge(`up{job="tars",instance="a"}`, 1), Fixture{`up{job="tars",instance="b"} 1x170 0x10`}), Healthy: Gauge(`up{job="tars",instance="a"}`, 1),
			},
			{
				Name: "AvailabilityCritical", Query: stillFailing(99.5), Op: Below, Threshold: 99.5, For: 3 * time.Minute,
				Severity: P0, Team: "sre", SLO: "availability", Runbook: "service-down", Dashboard: "tars-overview",
				Summary: "Availability {{ $value | humanize }}% over the last hour, 30-day availability below 99.5%", Description: "Availability over 30 days is below 99.5% and services are still failing: executive notification",
				Source: "000 Availability SLO breach < 99.5% (P0)",
				Fix:    "pages only while the last hour is below the level too: the 30-day figure stays low for up to a month after one incident",
				Firing: Join(Gauge(`up{job="tars",instance="a"}`, 1), Fixture{`up{job="tars",instance="b"} 1x150 0x30`}), Healthy: Join(Gauge(`up{job="tars",instance="a"}`, 1), Fixture{`up{job="tars",instance="b"} 1x100 0 1x80`}),
			},
		}},
		{Name: "tars-latency", Source: "000 Alert Rules §2 + API Latency SLO", Alerts: []Alert{
			{
				Name: "HighAPILatency", Query: quantile(0.95, httpLatency, "") + " * 1000", Op: Above, Threshold: 150, For: 10 * time.Minute,
				Severity: P2, Team: "sre", SLO: "api-latency-p95", Runbook: "high-api-latency", Dashboard: "tars-overview",
				Summary: "API latency elevated: {{ $value | humanize }}ms", Description: "p95 latency exceeds 150ms for 10 minutes",
				Source: "000 HighAPILatency", Fix: "sum by (le) before histogram_quantile",
				Firing: Latency(httpLatency, `job="tars"`, 0.18, 10), Healthy: Latency(httpLatency, `job="tars"`, 0.04, 10),
			},
			{
				Name: "CriticalAPILatency", Query: quantile(0.95, httpLatency, "") + " * 1000", Op: Above, Threshold: 200, For: 5 * time.Minute,
				Severity: P1, Team: "sre", SLO: "api-latency-p95", Runbook: "critical-api-latency", Dashboard: "tars-overview",
				Summary: "CRITICAL: API latency {{ $value | humanize }}ms", Description: "p95 latency exceeds 200ms - performance degraded",
				Source: "000 CriticalAPILatency", Fix: "sum by (le) before histogram_quantile",
				Firing: Latency(httpLatency, `job="tars"`, 0.4, 10), Healthy: Latency(httpLatency, `job="tars"`, 0.12, 10),
			},
			{
				Name: "CriticalAPILatencyP99", Query: quantile(0.99, httpLatency, "") + " * 1000", Op: Above, Threshold: 500, For: 5 * time.Minute,
				Severity: P1, Team: "sre", SLO: "api-latency-p99", Runbook: "critical-api-latency", Dashboard: "tars-overview",
				Summary: "CRITICAL: API p99 latency {{ $value | humanize }}ms", Description: "p99 latency exceeds 500ms - critical performance degradation",
				Source: "000 API Latency SLO breach p99 > 500ms (P1)",
				Firing: Latency(httpLatency, `job="tars"`, 0.9, 10), Healthy: Latency(httpLatency, `job="tars"`, 0.2, 10),
			},
		}},
		{Name: "tars-database-slo", Source: "000 Alert Rules §3 + Database Performance SLO", Alerts: []Alert{
			{
				Name: "SlowDatabaseQueries", Query: quantile(0.95, pgQueryLatency, "") + " * 1000", Op: Above, Threshold: 150, For: 10 * time.Minute,
				Severity: P2, Team: "sre", SLO: "database-latency-p95", Runbook: "slow-database-queries", Dashboard: "tars-database",
				Summary: "Database queries slow: {{ $value | humanize }}ms", Description: "Database p95 latency exceeds 150ms",
				Source: "000 SlowDatabaseQueries (TARS-1004)", Fix: "sum by (le) before histogram_quantile",
				Firing: Latency(pgQueryLatency, "", 0.18, 20), Healthy: Latency(pgQueryLatency, "", 0.02, 20),
			},
			{
				Name: "DatabaseConnectionPoolHigh", Query: `sum(pg_connections_active) / (sum(pg_connections_max) > 0) * 100`, Op: Above, Threshold: 80, For: 5 * time.Minute,
				Severity: P2, Team: "sre", SLO: "database-pool", Runbook: "database-connection-pool", Dashboard: "tars-database",
				Summary: "Database connection pool at {{ $value | humanize }}%", Description: "Connection pool utilization exceeds 80%",
				Source: "000 DatabaseConnectionPoolHigh", Fix: "sum and guard the denominator",
				Firing: Join(Gauge(`pg_connections_active`, 85), Gauge(`pg_connections_max`, 100)), Healthy: Join(Gauge(`pg_connections_active`, 40), Gauge(`pg_connections_max`, 100)),
			},
			{
				Name: "DatabaseConnectionPoolCritical", Query: `sum(pg_connections_active) / (sum(pg_connections_max) > 0) * 100`, Op: Above, Threshold: 90, For: 5 * time.Minute,
				Severity: P1, Team: "sre", SLO: "database-pool", Runbook: "database-connection-pool", Dashboard: "tars-database",
				Summary: "Database connection pool at {{ $value | humanize }}%", Description: "Connection pool utilization exceeds 90%: immediate scaling required",
				Source: "000 Database SLO breach pool > 90% (P1)",
				Firing: Join(Gauge(`pg_connections_active`, 95), Gauge(`pg_connections_max`, 100)), Healthy: Join(Gauge(`pg_connections_active`, 85), Gauge(`pg_connections_max`, 100)),
			},
			{
				Name: "DatabaseDown", Query: `(max(cnpg_collector_up) or vector(0))`, Op: Equal, Threshold: 0, For: time.Minute,
				Severity: P0, Team: "sre", Runbook: "database-down", Dashboard: "tars-database",
				Summary: "PostgreSQL database is down", Description: "Database has been unreachable for 1 minute",
				Source: "000 DatabaseDown; also 003 PostgreSQLDown (same condition, one alert so it pages once)",
				Fix:    "CloudNativePG exports cnpg_collector_up, not pg_up; no instance answering, or no instance scraped at all (the pods are gone), is down",
				Firing: Gauge(`cnpg_collector_up{cluster="tars-pg-us-east",pod="tars-pg-us-east-1"}`, 0), Healthy: Gauge(`cnpg_collector_up{cluster="tars-pg-us-east",pod="tars-pg-us-east-1"}`, 1),
			},
		}},
		{Name: "tars-websocket", Source: "000 Alert Rules §4 (TARS-1001)", Alerts: []Alert{
			{
				Name: "HighWebSocketDisconnectionRate", Query: `sum(rate(websocket_disconnections_total[5m]))`, Op: Above, Threshold: 0.05, For: 10 * time.Minute,
				Severity: P2, Team: "sre", SLO: "websocket-disconnections", Runbook: "websocket-disconnections", Dashboard: "tars-overview",
				Summary: "WebSocket disconnection rate: {{ $value | humanize }}/s", Description: "Disconnection rate exceeds 0.05/s",
				Source: "000 HighWebSocketDisconnectionRate", Fix: "sum over instances",
				Firing: Counter(`websocket_disconnections_total`, 0.1), Healthy: Counter(`websocket_disconnections_total`, 0.005),
			},
			{
				Name: "WebSocketReconnectionFailures", Query: ratioPercent(`websocket_reconnection_failures_total`, `websocket_reconnection_attempts_total`), Op: Above, Threshold: 10, For: 5 * time.Minute,
				Severity: P1, Team: "sre", SLO: "websocket-reconnections", Runbook: "websocket-reconnection-failures", Dashboard: "tars-overview",
				Summary: "WebSocket reconnection failure rate: {{ $value | humanize }}%", Description: "Reconnection failure rate exceeds 10%",
				Source: "000 WebSocketReconnectionFailures", Fix: "sum both sides; guard the denominator",
				Firing: Ratio(`websocket_reconnection_failures_total`, `websocket_reconnection_attempts_total`, 0.2, 1), Healthy: Ratio(`websocket_reconnection_failures_total`, `websocket_reconnection_attempts_total`, 0.02, 1),
			},
		}},
		{Name: "tars-dashboards", Source: "000 Alert Rules §5 (TARS-1002)", Alerts: []Alert{
			{
				Name: "SlowGrafanaDashboard", Query: quantile(0.95, grafanaLoad, ""), Op: Above, Threshold: 8, For: 15 * time.Minute,
				Severity: P3, Team: "sre", SLO: "grafana-load", Runbook: "slow-grafana-dashboard", Dashboard: "tars-overview",
				Summary: "Grafana dashboard load time: {{ $value | humanize }}s", Description: "Dashboard load time exceeds 8 seconds",
				Source: "000 SlowGrafanaDashboard", Fix: "sum by (le) before histogram_quantile",
				Firing: Latency(grafanaLoad, "", 9, 0.5), Healthy: Latency(grafanaLoad, "", 2, 0.5),
			},
			{
				Name: "VerySlowGrafanaDashboard", Query: quantile(0.95, grafanaLoad, ""), Op: Above, Threshold: 15, For: 15 * time.Minute,
				Severity: P2, Team: "sre", SLO: "grafana-load", Runbook: "slow-grafana-dashboard", Dashboard: "tars-overview",
				Summary: "Grafana dashboard load time: {{ $value | humanize }}s", Description: "Dashboard load time exceeds 15 seconds: dashboards degraded",
				Source: "000 Grafana SLO breach > 15s (P2)",
				Firing: Latency(grafanaLoad, grafanaLoadSel, 25, 0.5), Healthy: Latency(grafanaLoad, grafanaLoadSel, 9, 0.5),
			},
		}},
		{Name: "tars-tracing", Source: "000 Alert Rules §6 (TARS-1003)", Alerts: []Alert{
			{
				Name: "LowTraceCoverage", Query: traceCoverage("30m") + " * 100", Op: Below, Threshold: 90, For: 30 * time.Minute,
				Severity: P3, Team: "sre", SLO: "trace-coverage", Runbook: "low-trace-coverage", Dashboard: "tars-tracing",
				Summary: "Trace coverage: {{ $value | humanize }}%", Description: "Distributed trace coverage below 90%",
				Source: "000 LowTraceCoverage", Fix: `the seed's heading named it "LowTraceCoV"; the seed's jaeger_trace_coverage_ratio is no metric of any component: coverage is server spans (spanmetrics) over the services' requests`,
				Firing: coverageFixture(0.85, 20), Healthy: coverageFixture(0.97, 20),
			},
			{
				Name: "CriticalTraceCoverage", Query: traceCoverage("20m") + " * 100", Op: Below, Threshold: 80, For: 20 * time.Minute,
				Severity: P2, Team: "sre", SLO: "trace-coverage", Runbook: "low-trace-coverage", Dashboard: "tars-tracing",
				Summary: "Trace coverage: {{ $value | humanize }}%", Description: "Distributed trace coverage below 80%: critical traces missing",
				Source: "000 Tracing SLO breach < 80% (P2)", Fix: "coverage from spanmetrics over requests (no coverage metric exists)",
				Firing: coverageFixture(0.7, 20), Healthy: coverageFixture(0.85, 20),
			},
		}},
		{Name: "tars-ppo", Source: "000 Alert Rules §7 (TARS-1005)", Alerts: []Alert{
			{
				Name: "PPOMemoryHigh", Query: `max by (namespace, pod) (` + ppoMemory + `) / 1073741824`, Op: Above, Threshold: 2.5, For: 10 * time.Minute,
				Severity: P2, Team: "ml-engineering", SLO: "ppo-memory", Runbook: "ppo-memory-high", Dashboard: "tars-agents",
				Summary: "PPO agent {{ $labels.pod }} memory: {{ $value | humanize }}GB", Description: "PPO agent memory exceeds 2.5GB",
				Source: "000 PPOMemoryHigh",
				Firing: Gauge(`container_memory_working_set_bytes{pod="ppo-agent-0"}`, 2.7*gib), Healthy: Gauge(`container_memory_working_set_bytes{pod="ppo-agent-0"}`, 1.5*gib),
			},
			{
				Name: "PPOMemoryCritical", Query: `max by (namespace, pod) (` + ppoMemory + `) / 1073741824`, Op: Above, Threshold: 3, For: 5 * time.Minute,
				Severity: P2, Team: "ml-engineering", SLO: "ppo-memory", Runbook: "ppo-memory-high", Dashboard: "tars-agents",
				Summary: "PPO agent {{ $labels.pod }} memory: {{ $value | humanize }}GB", Description: "PPO agent memory exceeds 3GB: restart the agent pod",
				Source: "000 PPO SLO breach > 3GB (P2)",
				Firing: Gauge(`container_memory_working_set_bytes{pod="ppo-agent-0"}`, 3.5*gib), Healthy: Gauge(`container_memory_working_set_bytes{pod="ppo-agent-0"}`, 2.7*gib),
			},
			{
				Name: "PPOMemoryLeak", Query: `max by (namespace, pod) (deriv(` + ppoMemory + `[1h])) * 3600`, Op: Above, Threshold: 100e6, For: 20 * time.Minute,
				Severity: P2, Team: "ml-engineering", SLO: "ppo-memory", Runbook: "ppo-memory-leak", Dashboard: "tars-agents",
				Summary: "PPO agent {{ $labels.pod }} memory leak detected", Description: "Memory growing at {{ $value | humanize }} bytes/hour (over 100 MB/hour)",
				Source: "000 PPOMemoryLeak", Fix: "deriv() × 3600 instead of rate() of a gauge; hold 20m so a P2 pages within its 30m acknowledgement target",
				Firing: Ramp(`container_memory_working_set_bytes{pod="ppo-agent-0"}`, 1*gib, 5e6), Healthy: Ramp(`container_memory_working_set_bytes{pod="ppo-agent-0"}`, 1*gib, 0.5e6),
			},
		}},
		{Name: "tars-infrastructure", Source: "000 Alert Rules §8", Alerts: []Alert{
			{
				Name: "PodCrashLooping", Query: `increase(kube_pod_container_status_restarts_total{namespace=~"` + ServiceNamespaces + `"}[15m])`, Op: Above, Threshold: 0, For: 5 * time.Minute,
				Severity: P1, Team: "sre", Runbook: "pod-crash-looping", Dashboard: "tars-infra",
				Summary: "Pod {{ $labels.pod }} is crash looping", Description: "Pod has restarted {{ $value | humanize }} times in 15 minutes",
				Source: "000 PodCrashLooping", Fix: "increase() so the description's count is a count; only the T.A.R.S. namespaces page (P1): the charts' KubePodCrashLooping covers the platform's own pods without paging",
				Firing: Ramp(`kube_pod_container_status_restarts_total{namespace="tars",pod="api-0"}`, 0, 0.2), Healthy: Gauge(`kube_pod_container_status_restarts_total{namespace="tars",pod="api-0"}`, 2),
			},
			{
				Name: "NodeNotReady", Query: `kube_node_status_condition{condition="Ready",status="true"}`, Op: Equal, Threshold: 0, For: 3 * time.Minute,
				Severity: P0, Team: "sre", Runbook: "node-not-ready", Dashboard: "tars-infra",
				Summary: "Node {{ $labels.node }} not ready", Description: "Node has been not ready for 3 minutes",
				Source: "000 NodeNotReady", Fix: "hold 3m (was 5m) so a P0 pages within its 5m acknowledgement target",
				Firing: Gauge(`kube_node_status_condition{condition="Ready",status="true",node="ip-10-10-0-1"}`, 0), Healthy: Gauge(`kube_node_status_condition{condition="Ready",status="true",node="ip-10-10-0-1"}`, 1),
			},
			{
				Name: "DiskSpaceHigh", Query: `node_filesystem_avail_bytes / (node_filesystem_size_bytes > 0) * 100`, Op: Below, Threshold: 20, For: 10 * time.Minute,
				Severity: P2, Team: "sre", Runbook: "disk-space-high", Dashboard: "tars-infra",
				Summary: "Disk space low: {{ $value | humanize }}% remaining", Description: "Disk space below 20% on {{ $labels.instance }}",
				Source: "000 DiskSpaceHigh", Fix: "guard the denominator",
				Firing:  Join(Gauge(`node_filesystem_avail_bytes{instance="n1",mountpoint="/"}`, 10), Gauge(`node_filesystem_size_bytes{instance="n1",mountpoint="/"}`, 100)),
				Healthy: Join(Gauge(`node_filesystem_avail_bytes{instance="n1",mountpoint="/"}`, 60), Gauge(`node_filesystem_size_bytes{instance="n1",mountpoint="/"}`, 100)),
			},
		}},
	}
}
