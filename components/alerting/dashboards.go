package alerting

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/tars-platform/infra/slo"
)

// Query is one PromQL target of a panel. Fixed [5m] windows (not
// $__rate_interval) keep every query valid PromQL, which the tests check.
type Query struct {
	Expr   string
	Legend string
}

// Panel is one time-series panel.
type Panel struct {
	Title   string
	Unit    string
	Queries []Query
}

// Dashboard is one Grafana dashboard as the seeds list it.
type Dashboard struct {
	UID     string
	Title   string
	Purpose string
	Refresh string
	Panels  []Panel
}

// Panel geometry: two panels per 24-column row.
const (
	panelWidth  = 12
	panelHeight = 8
)

func q(expr, legend string) Query { return Query{Expr: expr, Legend: legend} }

func sloCompliance(name string) string {
	return fmt.Sprintf(`1 - max(slo:sli_error:ratio_rate30d{sloth_slo="%s"})`, name)
}

// Dashboards are the six dashboards of the monitoring plan (seed 000
// "Health Dashboards") and the RAG dashboard of Phase 7 (seed 003, 13
// panels, 10 s refresh). The Evaluation dashboard reads the pre-aggregated
// recording rules the plan asks for; SLO panels read sloth's SLI recordings.
// These are every panel, the GPU ones included; a stack renders
// DashboardsFor its features.
var Dashboards = []Dashboard{
	{UID: "tars-overview", Title: "T.A.R.S. Overview", Purpose: "High-level system health and SLO tracking", Refresh: "5s", Panels: []Panel{
		{"SLO Compliance (Availability, Latency, Error Rate)", "percentunit", []Query{
			q(sloCompliance("availability"), "availability"), q(sloCompliance("api-latency-p95"), "latency p95"), q(sloCompliance("error-rate"), "error rate"),
		}},
		{"Request Rate", "reqps", []Query{q(`sum(rate(http_requests_total[5m]))`, "req/s")}},
		{"Active Agents Count", "short", []Query{q(`sum(tars_active_agents)`, "agents")}},
		{"Active Missions Count", "short", []Query{q(`sum(tars_active_missions)`, "missions")}},
		{"Database Query Rate", "qps", []Query{q(`sum(rate(pg_query_duration_seconds_count[5m]))`, "queries/s")}},
		{"WebSocket Connection Count", "short", []Query{q(`sum(websocket_connections_active)`, "connections")}},
		{"System Resource Utilization", "percentunit", []Query{
			q(`sum(rate(container_cpu_usage_seconds_total{namespace="tars"}[5m])) / sum(kube_pod_container_resource_requests{namespace="tars",resource="cpu"})`, "CPU of requests"),
			q(`sum(container_memory_working_set_bytes{namespace="tars"}) / sum(kube_pod_container_resource_requests{namespace="tars",resource="memory"})`, "memory of requests"),
		}},
	}},
	{UID: "tars-evaluation", Title: "T.A.R.S. Evaluation", Purpose: "Reinforcement learning metrics and agent performance (TARS-1002: recording rules, < 3 s load)", Refresh: "10s", Panels: []Panel{
		{"Agent Reward Trends (DQN, A2C, PPO, DDPG)", "short", []Query{q(slo.RecAgentReward+`{agent=~"dqn|a2c|ppo|ddpg"}`, "{{agent}}")}},
		{"Training Episode Duration", "s", []Query{q(slo.RecEpisodeDuration, "{{agent}} p95")}},
		{"Nash Equilibrium Convergence", "short", []Query{q(slo.RecNashConvergence, "{{game}}")}},
		{"Hyperparameter Optimization Status", "short", []Query{q(slo.RecHPOTrials, "{{status}}")}},
		{"Model Performance Comparison", "short", []Query{q(slo.RecModelScore, "{{model}}")}},
	}},
	{UID: "tars-database", Title: "T.A.R.S. Database", Purpose: "Database performance and health", Refresh: "15s", Panels: []Panel{
		{"Query Latency (p50, p95, p99)", "s", []Query{
			q(`histogram_quantile(0.5, sum by (le) (rate(pg_query_duration_seconds_bucket[5m])))`, "p50"),
			q(`histogram_quantile(0.95, sum by (le) (rate(pg_query_duration_seconds_bucket[5m])))`, "p95"),
			q(`histogram_quantile(0.99, sum by (le) (rate(pg_query_duration_seconds_bucket[5m])))`, "p99"),
		}},
		{"Active Connections", "short", []Query{q(`sum(pg_connections_active)`, "active"), q(`sum(pg_connections_max)`, "max")}},
		{"Transaction Rate", "ops", []Query{q(`sum(rate(cnpg_pg_stat_database_xact_commit[5m])) + sum(rate(cnpg_pg_stat_database_xact_rollback[5m]))`, "tx/s")}},
		{"Cache Hit Ratio", "percentunit", []Query{q(`sum(rate(cnpg_pg_stat_database_blks_hit[5m])) / (sum(rate(cnpg_pg_stat_database_blks_hit[5m])) + sum(rate(cnpg_pg_stat_database_blks_read[5m])) > 0)`, "hit ratio")}},
		// CloudNativePG's default queries have no per-table scan counts: rows
		// fetched by index scans over all rows read is the index-usage share.
		{"Index Usage Statistics (TARS-1004)", "percentunit", []Query{q(`sum by (datname) (rate(cnpg_pg_stat_database_tup_fetched[5m])) / (sum by (datname) (rate(cnpg_pg_stat_database_tup_returned[5m])) > 0)`, "{{datname}}")}},
		// No exporter labels queries slow; the longest open transaction is
		// what CloudNativePG reports (per pod, state and application).
		{"Longest Running Transaction", "s", []Query{q(`max by (pod, application_name) (cnpg_backends_max_tx_duration_seconds)`, "{{pod}} {{application_name}}")}},
	}},
	{UID: "tars-agents", Title: "T.A.R.S. Agent Performance", Purpose: "Individual RL agent monitoring", Refresh: "10s", Panels: []Panel{
		{"PPO Agent Memory Usage (TARS-1005)", "bytes", []Query{q(`max by (pod) (container_memory_working_set_bytes{pod=~".*ppo.*"})`, "{{pod}}")}},
		{"Agent CPU Utilization", "percentunit", []Query{q(`sum by (pod) (rate(container_cpu_usage_seconds_total{pod=~".*(ppo|dqn|a2c|ddpg).*"}[5m]))`, "{{pod}}")}},
		{"Training Step Duration", "s", []Query{q(`histogram_quantile(0.95, sum by (le, agent) (rate(tars_training_step_duration_seconds_bucket[5m])))`, "{{agent}} p95")}},
		{"Replay Buffer Size", "short", []Query{q(`sum by (agent) (tars_replay_buffer_size)`, "{{agent}}")}},
		{"Action Distribution", "short", []Query{q(`sum by (action) (rate(tars_agent_actions_total[5m]))`, "{{action}}")}},
		{"Reward Distribution", "short", []Query{q(`histogram_quantile(0.5, sum by (le, agent) (rate(tars_agent_reward_bucket[5m])))`, "{{agent}} median")}},
	}},
	{UID: "tars-infra", Title: "T.A.R.S. Infrastructure", Purpose: "Kubernetes cluster and infrastructure health", Refresh: "15s", Panels: []Panel{
		{"Pod Status (Running, Pending, Failed)", "short", []Query{q(`sum by (phase) (kube_pod_status_phase{namespace="tars",phase=~"Running|Pending|Failed"})`, "{{phase}}")}},
		{"Node Resource Utilization", "percentunit", []Query{
			q(`1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))`, "{{instance}} CPU"),
			q(`1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes`, "{{instance}} memory"),
		}},
		{"Network I/O", "Bps", []Query{q(`sum by (instance) (rate(node_network_receive_bytes_total{device!="lo"}[5m]))`, "{{instance}} rx"), q(`sum by (instance) (rate(node_network_transmit_bytes_total{device!="lo"}[5m]))`, "{{instance}} tx")}},
		{"Disk I/O", "Bps", []Query{q(`sum by (instance) (rate(node_disk_read_bytes_total[5m]))`, "{{instance}} read"), q(`sum by (instance) (rate(node_disk_written_bytes_total[5m]))`, "{{instance}} write")}},
		{"PersistentVolume Usage", "percentunit", []Query{q(`max by (persistentvolumeclaim) (kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes)`, "{{persistentvolumeclaim}}")}},
		{"HPA Scaling Events", "short", []Query{q(`sum by (horizontalpodautoscaler) (changes(kube_horizontalpodautoscaler_status_current_replicas[15m]))`, "{{horizontalpodautoscaler}}")}},
	}},
	{UID: "tars-tracing", Title: "T.A.R.S. Distributed Tracing", Purpose: "Request flow and trace analysis (TARS-1003)", Refresh: "20s", Panels: []Panel{
		{"Trace Coverage", "percentunit", []Query{q(slo.TraceCoverage("5m"), "server spans per request")}},
		{"Outgoing Calls by Service", "reqps", []Query{q(`sum by (service_name, span_name) (rate(traces_span_metrics_calls_total{span_kind="SPAN_KIND_CLIENT"}[5m]))`, "{{service_name}} → {{span_name}}")}},
		{"Trace Latency Heatmap", "ms", []Query{q(`sum by (le) (rate(traces_span_metrics_duration_milliseconds_bucket[5m]))`, "{{le}}")}},
		{"Error Traces (5xx)", "reqps", []Query{q(`sum by (service_name) (rate(traces_span_metrics_calls_total{status_code="STATUS_CODE_ERROR"}[5m]))`, "{{service_name}}")}},
		{"Slowest Requests (p99)", "ms", []Query{q(`histogram_quantile(0.99, sum by (le, service_name) (rate(traces_span_metrics_duration_milliseconds_bucket{span_kind="SPAN_KIND_SERVER"}[5m])))`, "{{service_name}}")}},
	}},
	{UID: "tars-rag", Title: "T.A.R.S. RAG Platform", Purpose: "Phase 7 RAG, LLM, cache, vector store and system metrics", Refresh: "10s", Panels: []Panel{
		{"RAG Query Performance", "s", []Query{
			q(`histogram_quantile(0.5, sum by (le) (rate(rag_query_duration_seconds_bucket[5m])))`, "p50"),
			q(`histogram_quantile(0.95, sum by (le) (rate(rag_query_duration_seconds_bucket[5m])))`, "p95"),
			q(`sum(rate(rag_query_duration_seconds_sum[5m])) / (sum(rate(rag_query_duration_seconds_count[5m])) > 0)`, "avg"),
		}},
		{"LLM Inference Latency", "s", []Query{
			q(`histogram_quantile(0.95, sum by (le, model) (rate(llm_inference_duration_seconds_bucket[5m])))`, "{{model}} p95"),
			q(`sum by (model) (rate(llm_tokens_generated_total[5m]))`, "{{model}} tokens/s"),
		}},
		{"Embedding Generation", "s", []Query{
			q(`histogram_quantile(0.95, sum by (le) (rate(embedding_generation_duration_seconds_bucket[5m])))`, "p95"),
			q(`sum(rate(embedding_cache_hits_total[5m])) / ((sum(rate(embedding_cache_hits_total[5m])) + sum(rate(embedding_cache_misses_total[5m]))) > 0)`, "cache hit rate"),
		}},
		{"Redis Cache Efficiency", "percentunit", []Query{
			q(`sum(rate(redis_keyspace_hits_total[5m])) / ((sum(rate(redis_keyspace_hits_total[5m])) + sum(rate(redis_keyspace_misses_total[5m]))) > 0)`, "hit rate"),
			q(`sum(redis_memory_used_bytes) / sum(redis_memory_max_bytes)`, "memory of maxmemory"),
		}},
		{"Database Performance", "s", []Query{
			q(`histogram_quantile(0.95, sum by (le) (rate(pg_query_duration_seconds_bucket[5m])))`, "query p95"),
			q(`sum(pg_connections_active) / sum(pg_connections_max)`, "pool usage"),
		}},
		{"Vector Store Performance", "s", []Query{
			q(`histogram_quantile(0.95, sum by (le) (rate(vector_search_duration_seconds_bucket[5m])))`, "search p95"),
			q(`sum(chromadb_collection_documents)`, "documents"),
		}},
		{"System Resources - CPU", "short", []Query{q(`sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="tars"}[5m]))`, "{{pod}}")}},
		{"System Resources - Memory", "bytes", []Query{q(`sum by (pod) (container_memory_working_set_bytes{namespace="tars"})`, "{{pod}}")}},
		{"System Resources - GPU", "percent", []Query{
			q(`avg by (gpu) (DCGM_FI_DEV_GPU_UTIL)`, "GPU {{gpu}} utilization"),
			q(`max by (gpu) (DCGM_FI_DEV_GPU_TEMP)`, "GPU {{gpu}} °C"),
			q(`max by (gpu) (DCGM_FI_DEV_FB_USED / ((DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) > 0)) * 100`, "GPU {{gpu}} memory %"),
		}},
		{"Error Rates", "percentunit", []Query{
			q(`sum(rate(http_requests_total{status=~"4.."}[5m])) / (sum(rate(http_requests_total[5m])) > 0)`, "4xx"),
			q(`sum(rate(http_requests_total{status=~"5.."}[5m])) / (sum(rate(http_requests_total[5m])) > 0)`, "5xx"),
			q(`sum(rate(http_requests_total{status=~"[45].."}[5m]))`, "errors/s"),
		}},
		{"Request Throughput", "reqps", []Query{q(`sum(rate(http_requests_total[5m]))`, "HTTP"), q(`sum(rate(websocket_messages_total[5m]))`, "WebSocket")}},
		{"Pod Restart Count", "short", []Query{q(`sum by (pod) (increase(kube_pod_container_status_restarts_total{namespace="tars"}[1h]))`, "{{pod}}")}},
		{"Document Processing", "short", []Query{q(`sum(rate(document_processing_total[5m]))`, "processed/s"), q(`sum(document_processing_queue_length)`, "queue length")}},
	}},
}

// DashboardsFor returns the dashboards as a stack with f renders them:
// every query reading a metric of an exporter f leaves out (slo.Features,
// e.g. the DCGM exporter without the GPU pool) is dropped, and so is a
// panel left without queries. Dashboards is DashboardsFor(slo.AllFeatures).
func DashboardsFor(f slo.Features) []Dashboard {
	out := make([]Dashboard, 0, len(Dashboards))
	for _, d := range Dashboards {
		var panels []Panel
		for _, p := range d.Panels {
			var queries []Query
			for _, qq := range p.Queries {
				if f.Renders(qq.Expr) {
					queries = append(queries, qq)
				}
			}
			if len(queries) > 0 {
				p.Queries = queries
				panels = append(panels, p)
			}
		}
		d.Panels = panels
		out = append(out, d)
	}
	return out
}

// prometheusDS is the Grafana data source of kube-prometheus-stack.
func prometheusDS() common.DataSourceRef {
	typ, uid := "prometheus", "prometheus"
	return common.DataSourceRef{Type: &typ, Uid: &uid}
}

// Build renders a dashboard with the Grafana Foundation SDK: panel ids
// 1..n in order, two panels per row; every builder error is collected.
func (d Dashboard) Build() (dashboard.Dashboard, error) {
	b := dashboard.NewDashboardBuilder(d.Title).
		Uid(d.UID).
		Description(d.Purpose).
		Tags([]string{"tars", "generated"}).
		Refresh(d.Refresh).
		Time("now-6h", "now").
		Timezone(common.TimeZoneUtc)
	for i, p := range d.Panels {
		pb := timeseries.NewPanelBuilder().
			Id(uint32(i + 1)).
			Title(p.Title).
			Unit(p.Unit).
			Datasource(prometheusDS()).
			// Seed 000 Grafana (TARS-1002): "Max data points: 1000".
			MaxDataPoints(slo.GrafanaMaxDataPoints).
			Span(panelWidth).
			Height(panelHeight)
		for j, qq := range p.Queries {
			pb = pb.WithTarget(prometheus.NewDataqueryBuilder().
				RefId(string(rune('A' + j))).
				Expr(qq.Expr).
				LegendFormat(qq.Legend))
		}
		b = b.WithPanel(pb)
	}
	out, err := b.Build()
	if err != nil {
		var be cog.BuildErrors
		if errors.As(err, &be) {
			return dashboard.Dashboard{}, fmt.Errorf("dashboard %s: %w", d.UID, errors.Join(asErrors(be)...))
		}
		return dashboard.Dashboard{}, fmt.Errorf("dashboard %s: %w", d.UID, err)
	}
	return out, nil
}

func asErrors(be cog.BuildErrors) []error {
	out := make([]error, len(be))
	for i, e := range be {
		out[i] = e
	}
	return out
}

// JSON renders the dashboard as the Grafana sidecar loads it.
func (d Dashboard) JSON() (string, error) {
	built, err := d.Build()
	if err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(built, "", "  ")
	if err != nil {
		return "", fmt.Errorf("dashboard %s: %w", d.UID, err)
	}
	return string(b), nil
}
