package slo

// Grafana is Grafana's own /metrics at v13.2.0: the grafana_* families an
// SRE alerts or builds SLOs on (HTTP latency and status, build info, stat
// totals, frontend boot timings); unified-alerting (ngalert), plugin and
// unified-storage families are not listed. No Grafana metric measures
// dashboard load time: grafana_dashboard_load_duration_seconds does not
// exist, and grafana_api_dashboard_get_milliseconds and
// grafana_api_dashboard_save_milliseconds were removed (PR #119554,
// 2026-03-04), as was grafana_stat_totals_dashboard_versions (PR #121900).
// The closest signal is grafana_http_request_duration_seconds on the
// dashboard GET routes (the JSON fetch, not the render); the
// frontend_boot_* histograms time the app boot, not a dashboard.
// grafana_http_request_duration_seconds gains grafana_team only when
// [metrics] include_team_label is set.
var Grafana = Exporter{
	Name:    "grafana",
	Version: "13.2.0",
	Source: "grafana/grafana@v13.2.0 (3.2 GB, not fetchable here; read the newest versions held by the code index): " +
		"pkg/infra/metrics/metrics.go, pkg/infra/metrics/frontendmetrics.go, pkg/middleware/request_metrics.go, " +
		"pkg/middleware/requestmeta/request_metadata.go; removals from grafana/grafana PR #119554 and PR #121900",
	Metrics: []Metric{
		{Name: "grafana_http_request_duration_seconds", Type: TypeHistogram,
			Labels: []string{"handler", "status_code", "method", "status_source", "slo_group"},
			Values: map[string][]string{"status_source": {"server", "downstream"}}},
		{Name: "grafana_http_request_in_flight", Type: TypeGauge},
		{Name: "grafana_api_response_status_total", Type: TypeCounter, Labels: []string{"code"},
			Values: map[string][]string{"code": {"200", "404", "500", "unknown"}}},
		{Name: "grafana_page_response_status_total", Type: TypeCounter, Labels: []string{"code"},
			Values: map[string][]string{"code": {"200", "404", "500", "unknown"}}},
		// countProxyRequests records a 404 as "400"; "404" stays at its zero start.
		{Name: "grafana_proxy_response_status_total", Type: TypeCounter, Labels: []string{"code"},
			Values: map[string][]string{"code": {"200", "400", "404", "500", "unknown"}}},
		{Name: "grafana_api_dashboard_search_milliseconds", Type: TypeSummary},
		{Name: "grafana_api_dataproxy_request_all_milliseconds", Type: TypeSummary},
		{Name: "grafana_api_login_post_total", Type: TypeCounter},
		{Name: "grafana_api_login_oauth_total", Type: TypeCounter},
		{Name: "grafana_api_login_saml_total", Type: TypeCounter},
		{Name: "grafana_instance_start_total", Type: TypeCounter},
		{Name: "grafana_build_info", Type: TypeGauge,
			Labels: []string{"version", "revision", "branch", "goversion", "edition"},
			Values: map[string][]string{"edition": {"oss", "enterprise"}}},
		{Name: "grafana_build_timestamp", Type: TypeGauge,
			Labels: []string{"version", "revision", "branch", "goversion", "edition"},
			Values: map[string][]string{"edition": {"oss", "enterprise"}}},
		{Name: "grafana_plugin_build_info", Type: TypeGauge,
			Labels: []string{"plugin_id", "plugin_type", "version", "signature_status"}},
		{Name: "grafana_stat_totals_dashboard", Type: TypeGauge},
		{Name: "grafana_stat_totals_folder", Type: TypeGauge},
		{Name: "grafana_stat_total_users", Type: TypeGauge},
		{Name: "grafana_stat_active_users", Type: TypeGauge},
		{Name: "grafana_stat_total_orgs", Type: TypeGauge},
		{Name: "grafana_stat_totals_datasource", Type: TypeGauge, Labels: []string{"plugin_id"}},
		{Name: "grafana_stat_totals_alert_rules", Type: TypeGauge},
		{Name: "grafana_stat_totals_rule_groups", Type: TypeGauge},
		{Name: "grafana_frontend_boot_load_time_seconds", Type: TypeHistogram},
		{Name: "grafana_frontend_boot_first_paint_time_seconds", Type: TypeHistogram},
		{Name: "grafana_frontend_boot_first_contentful_paint_time_seconds", Type: TypeHistogram},
		{Name: "grafana_frontend_boot_js_done_time_seconds", Type: TypeHistogram},
		{Name: "grafana_frontend_boot_css_time_seconds", Type: TypeHistogram},
	},
}

// OTelSpanMetrics is the collector-contrib spanmetrics connector at v0.158.0
// as Prometheus sees it after the prometheus / prometheusremotewrite
// exporters: namespace "traces.span.metrics" (default), "calls" becomes
// *_calls_total and "duration" (unit ms: useSecondAsDefaultMetricsUnit is
// still alpha, off) becomes *_duration_milliseconds. Dimensions service.name,
// span.name, span.kind, status.code and collector.instance.id (gate
// includeCollectorInstanceID beta, on) become the labels below; configured
// extra dimensions add more. The traced service's resource (service.name,
// service.instance.id) surfaces as job/instance, not as labels here.
// traces_span_metrics_events_total exists only with events.enabled; the
// legacy names (calls, duration) only with legacyMetricNames. The Tempo names
// the dashboards use (traces_spanmetrics_latency_bucket,
// traces_spanmetrics_calls_total) are not produced by this connector.
var OTelSpanMetrics = Exporter{
	Name:    "otel-collector-spanmetrics-connector",
	Version: "0.158.0",
	Source: "open-telemetry/opentelemetry-collector-contrib@connector/spanmetricsconnector/v0.158.0 " +
		"(commit 821a9d9c, module proxy .info; 1.4 GB repo not fetchable, files read from the code index): " +
		"connector/spanmetricsconnector/{factory.go,connector.go,config.go,metadata.yaml," +
		"internal/metadata/generated_feature_gates.go,documentation.md}, internal/coreinternal/traceutil/traceutil.go; " +
		"PRs #42761, #48146, #48281, #43714 (closed); cross-checked with jaegertracing/jaeger@v2.19.0 " +
		"internal/storage/metricstore/prometheus/{options.go,metricstore/reader.go}, cmd/jaeger/config-spm.yaml",
	Metrics: []Metric{
		{Name: "traces_span_metrics_calls_total", Type: TypeCounter,
			Labels: []string{"service_name", "span_name", "span_kind", "status_code", "collector_instance_id"},
			Values: map[string][]string{
				"span_kind": {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
					"SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"},
				"status_code": {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"},
			}},
		{Name: "traces_span_metrics_duration_milliseconds", Type: TypeHistogram,
			Labels: []string{"service_name", "span_name", "span_kind", "status_code", "collector_instance_id"},
			Values: map[string][]string{
				"span_kind": {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
					"SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"},
				"status_code": {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"},
			}},
	},
}

// Loki is Loki v3.7.6 (namespace "loki"): the families its own mixin alerts
// on (request errors/latency, panics, compactor) plus ingestion
// (distributor, discards), ingester, ring, query and build families.
// Kafka/ingest-limits/bloom/pattern/dataobj families are not listed.
var Loki = Exporter{
	Name:    "loki",
	Version: "3.7.6",
	Source: "grafana/loki@v3.7.6: vendor/github.com/grafana/dskit/server/metrics.go, " +
		"vendor/github.com/grafana/dskit/ring/{ring.go,ring.pb.go}, " +
		"vendor/github.com/prometheus/client_golang/prometheus/collectors/version/version.go, " +
		"pkg/loki/{loki.go,modules.go}, pkg/util/server/recovery.go, pkg/validation/validate.go, " +
		"pkg/loghttp/push/push.go, pkg/distributor/distributor.go, pkg/ingester/{metrics.go,instance.go,flush.go}, " +
		"pkg/ingester/client/client.go, pkg/compactor/metrics.go, pkg/logql/metrics.go, pkg/util/log/log.go, " +
		"production/loki-mixin-compiled/alerts.yaml",
	Metrics: []Metric{
		{Name: "loki_request_duration_seconds", Type: TypeHistogram,
			Labels: []string{"method", "route", "status_code", "ws"},
			Values: map[string][]string{"ws": {"true", "false"}}},
		{Name: "loki_inflight_requests", Type: TypeGauge, Labels: []string{"method", "route"}},
		{Name: "loki_request_message_bytes", Type: TypeHistogram, Labels: []string{"method", "route"}},
		{Name: "loki_response_message_bytes", Type: TypeHistogram, Labels: []string{"method", "route"}},
		{Name: "loki_tcp_connections", Type: TypeGauge, Labels: []string{"protocol"}},
		{Name: "loki_panic_total", Type: TypeCounter},
		{Name: "loki_build_info", Type: TypeGauge,
			Labels: []string{"version", "revision", "branch", "goversion", "goos", "goarch", "tags"}},
		{Name: "loki_internal_log_messages_total", Type: TypeCounter, Labels: []string{"level"},
			Values: map[string][]string{"level": {"debug", "info", "warn", "error", "unknown"}}},
		{Name: "loki_discarded_samples_total", Type: TypeCounter,
			Labels: []string{"reason", "tenant", "retention_hours", "policy", "format"}},
		{Name: "loki_discarded_bytes_total", Type: TypeCounter,
			Labels: []string{"reason", "tenant", "retention_hours", "policy", "format"}},
		{Name: "loki_distributor_bytes_received_total", Type: TypeCounter,
			Labels: []string{"tenant", "retention_hours", "is_internal_stream", "policy", "format"}},
		{Name: "loki_distributor_structured_metadata_bytes_received_total", Type: TypeCounter,
			Labels: []string{"tenant", "retention_hours", "is_internal_stream", "policy", "format"}},
		{Name: "loki_distributor_lines_received_total", Type: TypeCounter,
			Labels: []string{"tenant", "is_internal_stream", "policy", "format"}},
		{Name: "loki_distributor_ingester_appends_total", Type: TypeCounter, Labels: []string{"ingester"}},
		{Name: "loki_distributor_ingester_append_timeouts_total", Type: TypeCounter, Labels: []string{"ingester"}},
		{Name: "loki_distributor_replication_factor", Type: TypeGauge},
		{Name: "loki_distributor_inflight_bytes", Type: TypeGauge},
		{Name: "loki_ingester_memory_streams", Type: TypeGauge, Labels: []string{"tenant"}},
		{Name: "loki_ingester_streams_created_total", Type: TypeCounter, Labels: []string{"tenant"}},
		{Name: "loki_ingester_streams_removed_total", Type: TypeCounter, Labels: []string{"tenant"}},
		{Name: "loki_ingester_memory_chunks", Type: TypeGauge},
		{Name: "loki_ingester_chunks_flushed_total", Type: TypeCounter, Labels: []string{"reason"},
			Values: map[string][]string{"reason": {"idle", "max_age", "forced", "not_owned", "full", "synced"}}},
		{Name: "loki_ingester_chunks_flush_failures_total", Type: TypeCounter},
		{Name: "loki_ingester_flush_queue_length", Type: TypeGauge},
		{Name: "loki_ingester_wal_disk_full_failures_total", Type: TypeCounter},
		{Name: "loki_ingester_wal_corruptions_total", Type: TypeCounter, Labels: []string{"type"}},
		{Name: "loki_ingester_client_request_duration_seconds", Type: TypeHistogram,
			Labels: []string{"operation", "status_code"}},
		{Name: "loki_ring_members", Type: TypeGauge, Labels: []string{"name", "state"},
			Values: map[string][]string{"state": {"ACTIVE", "LEAVING", "PENDING", "JOINING", "LEFT", "Unhealthy"}}},
		{Name: "loki_logql_querystats_latency_seconds", Type: TypeHistogram,
			Labels: []string{"status_code", "type", "range"}},
		{Name: "loki_boltdb_shipper_compactor_running", Type: TypeGauge},
		{Name: "loki_boltdb_shipper_compact_tables_operation_total", Type: TypeCounter, Labels: []string{"status"},
			Values: map[string][]string{"status": {"success", "failure"}}},
		{Name: "loki_boltdb_shipper_compact_tables_operation_last_successful_run_timestamp_seconds", Type: TypeGauge},
	},
}

// Jaeger is Jaeger v2.19.0, an OpenTelemetry Collector distribution
// (otelcol v0.153.0): on :8888 it exposes the collector's own otelcol_*
// telemetry for the trace pipeline, its storage decorators (jaeger_storage_*)
// and the query HTTP server histogram, with units and _total suffixes because
// cmd/jaeger/config.yaml sets a plain prometheus pull reader (every family
// also carries otel_scope_name/otel_scope_version from that reader). Nothing
// like jaeger_trace_coverage_ratio exists: the only "coverage" in the tree is
// the UI's quality-metrics sample data (qualitymetrics/data.go, "Made up
// data"), which is not a metric. Log/metric pipeline counterparts and
// ES/Cassandra writer families are not listed.
var Jaeger = Exporter{
	Name:    "jaeger",
	Version: "2.19.0",
	Source: "jaegertracing/jaeger@v2.19.0: go.mod, cmd/jaeger/config.yaml, cmd/jaeger/internal/extension/jaegerstorage/extension.go, " +
		"cmd/internal/storageconfig/factory.go, internal/metrics/otelmetrics/factory.go, " +
		"internal/storage/v2/api/tracestore/tracestoremetrics/reader_metrics.go, " +
		"internal/storage/v1/api/metricstore/metricstoremetrics/decorator.go, " +
		"cmd/jaeger/internal/extension/jaegerquery/internal/qualitymetrics/data.go, monitoring/jaeger-mixin/dashboard-for-grafana.json; " +
		"open-telemetry/opentelemetry-collector@v0.153.0: receiver/receiverhelper/{documentation.md,obsreport.go,internal/obsmetrics.go}, " +
		"exporter/exporterhelper/{documentation.md,internal/obs_report_sender.go,internal/queue/obs_queue.go}, " +
		"service/documentation.md, service/telemetry/otelconftelemetry/factory.go",
	Metrics: []Metric{
		{Name: "otelcol_receiver_accepted_spans_total", Type: TypeCounter, Labels: []string{"receiver", "transport"}},
		{Name: "otelcol_receiver_refused_spans_total", Type: TypeCounter, Labels: []string{"receiver", "transport"}},
		{Name: "otelcol_receiver_failed_spans_total", Type: TypeCounter, Labels: []string{"receiver", "transport"}},
		{Name: "otelcol_exporter_sent_spans_total", Type: TypeCounter, Labels: []string{"exporter"}},
		{Name: "otelcol_exporter_send_failed_spans_total", Type: TypeCounter, Labels: []string{"exporter"}},
		{Name: "otelcol_exporter_enqueue_failed_spans_total", Type: TypeCounter, Labels: []string{"exporter"}},
		{Name: "otelcol_exporter_queue_size", Type: TypeGauge, Labels: []string{"exporter", "data_type"},
			Values: map[string][]string{"data_type": {"traces", "metrics", "logs", "profiles"}}},
		{Name: "otelcol_exporter_queue_capacity", Type: TypeGauge, Labels: []string{"exporter", "data_type"},
			Values: map[string][]string{"data_type": {"traces", "metrics", "logs", "profiles"}}},
		{Name: "otelcol_process_uptime_seconds_total", Type: TypeCounter},
		{Name: "otelcol_process_cpu_seconds_total", Type: TypeCounter},
		{Name: "otelcol_process_memory_rss_bytes", Type: TypeGauge},
		{Name: "otelcol_process_runtime_heap_alloc_bytes", Type: TypeGauge},
		{Name: "jaeger_storage_requests_total", Type: TypeCounter,
			Labels: []string{"name", "kind", "role", "operation", "result"},
			Values: map[string][]string{"role": {"tracestore", "metricstore"}, "result": {"ok", "err"}}},
		{Name: "jaeger_storage_latency_seconds", Type: TypeHistogram,
			Labels: []string{"name", "kind", "role", "operation", "result"},
			Values: map[string][]string{"role": {"tracestore", "metricstore"}, "result": {"ok", "err"}}},
		{Name: "jaeger_storage_responses_total", Type: TypeCounter, Labels: []string{"name", "role", "operation"},
			Values: map[string][]string{"operation": {"find_traces", "find_trace_ids", "get_trace", "get_services", "get_operations"}}},
		{Name: "http_server_request_duration_seconds", Type: TypeHistogram,
			Labels: []string{"http_request_method", "http_response_status_code", "http_route"}},
	},
}

// Kubecost is the cost model of Kubecost 3.2.1, i.e. OpenCost v1.120.1: the
// cost families it emits (node, container, PV, network, load balancer,
// cluster management prices and allocations), cluster info and its own HTTP
// telemetry. The instance/node/namespace/pod/container labels here are set
// by the cost model itself (instance = node name), so the scrape must honor
// them. The kube_* replicas of kube-state-metrics (EMIT_KSM_V1_METRICS),
// the *_labels/*_annotations controller families and WAL metrics are not
// listed.
var Kubecost = Exporter{
	Name:    "opencost",
	Version: "1.120.1",
	Source: "opencost/opencost@v1.120.1 (tag absent from the stored snapshot, which ends at v1.112.0/2024-10; " +
		"newest indexed versions read): pkg/costmodel/metrics.go, pkg/metrics/kubemetrics.go, pkg/metrics/telemetry.go, " +
		"core/pkg/clusters (ClusterInfo keys); compared with pkg/costmodel/metrics.go@v1.112.0; " +
		"uid labels per opencost PRs #3366/#3384, NAT gateway per #3534",
	Metrics: []Metric{
		{Name: "node_total_hourly_cost", Type: TypeGauge,
			Labels: []string{"instance", "node", "instance_type", "region", "provider_id", "arch", "uid"}},
		{Name: "node_cpu_hourly_cost", Type: TypeGauge,
			Labels: []string{"instance", "node", "instance_type", "region", "provider_id", "arch", "uid"}},
		{Name: "node_ram_hourly_cost", Type: TypeGauge,
			Labels: []string{"instance", "node", "instance_type", "region", "provider_id", "arch", "uid"}},
		{Name: "node_gpu_hourly_cost", Type: TypeGauge,
			Labels: []string{"instance", "node", "instance_type", "region", "provider_id", "arch", "uid"}},
		{Name: "node_gpu_count", Type: TypeGauge,
			Labels: []string{"instance", "node", "instance_type", "region", "provider_id", "arch", "uid"}},
		{Name: "kubecost_node_is_spot", Type: TypeGauge,
			Labels: []string{"instance", "node", "instance_type", "region", "provider_id", "arch", "uid"}},
		{Name: "pv_hourly_cost", Type: TypeGauge,
			Labels: []string{"volumename", "persistentvolume", "provider_id", "uid"}},
		{Name: "container_cpu_allocation", Type: TypeGauge,
			Labels: []string{"namespace", "pod", "container", "instance", "node", "uid"}},
		{Name: "container_memory_allocation_bytes", Type: TypeGauge,
			Labels: []string{"namespace", "pod", "container", "instance", "node", "uid"}},
		{Name: "container_gpu_allocation", Type: TypeGauge,
			Labels: []string{"namespace", "pod", "container", "instance", "node", "uid"}},
		{Name: "pod_pvc_allocation", Type: TypeGauge,
			Labels: []string{"namespace", "pod", "persistentvolumeclaim", "persistentvolume", "uid"}},
		{Name: "kubecost_network_zone_egress_cost", Type: TypeGauge},
		{Name: "kubecost_network_region_egress_cost", Type: TypeGauge},
		{Name: "kubecost_network_internet_egress_cost", Type: TypeGauge},
		{Name: "kubecost_network_nat_gateway_egress_cost", Type: TypeGauge},
		{Name: "kubecost_network_nat_gateway_ingress_cost", Type: TypeGauge},
		{Name: "kubecost_cluster_management_cost", Type: TypeGauge, Labels: []string{"provisioner_name"}},
		{Name: "kubecost_load_balancer_cost", Type: TypeGauge,
			Labels: []string{"ingress_ip", "namespace", "service_name", "uid"}},
		{Name: "kubecost_cluster_info", Type: TypeGauge,
			Labels: []string{"id", "name", "clusterProfile", "provider", "account", "project", "region", "provisioner", "version"}},
		{Name: "opencost_build_info", Type: TypeGauge, Labels: []string{"version", "revision"}},
		{Name: "kubecost_http_requests_total", Type: TypeCounter, Labels: []string{"handler", "method", "code"}},
		{Name: "kubecost_http_response_time_seconds", Type: TypeHistogram, Labels: []string{"handler", "method", "code"}},
		{Name: "kubecost_http_response_size_bytes", Type: TypeSummary, Labels: []string{"handler", "method", "code"}},
	},
}

// Prometheus is the server's own /metrics at v3.14.0 (kube-prometheus-stack
// 88.5.3's image): the TSDB head families the cardinality guard reads.
var Prometheus = Exporter{
	Name:    "prometheus",
	Version: "3.14.0",
	Source: "prometheus/prometheus (module github.com/prometheus/prometheus@v0.310.0, the same TSDB metric set as v3.14.0): " +
		"tsdb/head.go (newHeadMetrics)",
	Metrics: []Metric{
		{Name: "prometheus_tsdb_head_series", Type: TypeGauge},
		{Name: "prometheus_tsdb_head_series_created_total", Type: TypeCounter},
		{Name: "prometheus_tsdb_head_series_removed_total", Type: TypeCounter},
		{Name: "prometheus_tsdb_head_chunks", Type: TypeGauge},
	},
}

// Thanos is the compactor's and the sidecar's /metrics at v0.42.4: the
// families the long-term-storage alerts read.
var Thanos = Exporter{
	Name:    "thanos",
	Version: "0.42.4",
	Source: "thanos-io/thanos@v0.42.4: cmd/thanos/compact.go (newCompactMetrics: thanos_compact_halted, " +
		"thanos_compact_iterations_total); thanos-io/objstore objstore.go (BucketMetrics under the thanos_ namespace, label bucket)",
	Metrics: []Metric{
		{Name: "thanos_compact_halted", Type: TypeGauge},
		{Name: "thanos_compact_iterations_total", Type: TypeCounter},
		{Name: "thanos_objstore_bucket_last_successful_upload_time", Type: TypeGauge, Labels: []string{"bucket"}},
	},
}
