package slo

import "time"

// phase7Groups are the alert groups of the Phase 7 report (seed 003,
// "Prometheus Alert Rules"), with the thresholds of its critical-alerts
// table. The report names ten groups and their rule counts (4, 3, 2, 3, 3,
// 2, 2, 4, 3, 2: 28 rules) but states "42 alerts"; the groups here follow
// the per-group counts, and the Cluster Autoscaler and replication-lag
// alerts it lists elsewhere are groups of their own (platformGroups).
// Its "critical"/"warning" severities map to the plan's P-levels: a
// component down is P0, other critical alerts P1, warnings P2 (P3 where the
// condition has no user impact). PostgreSQLDown has the same condition as
// the plan's DatabaseDown and is that alert, so it pages once.
func phase7Groups() []Group {
	rag := func(q float64) string { return quantile(q, "rag_query_duration_seconds", "") }
	return []Group{
		{Name: "tars_rag_alerts", Source: "003 tars_rag_alerts (4 rules)", Alerts: []Alert{
			{
				Name: "HighRAGQueryLatency", Query: rag(0.95), Op: Above, Threshold: 0.25, For: 5 * time.Minute,
				Severity: P2, Team: "ml-engineering", Runbook: "high-rag-query-latency", Dashboard: "tars-rag",
				Summary: "RAG query p95 latency {{ $value | humanizeDuration }}", Description: "RAG query p95 latency exceeds 250ms for 5 minutes",
				Source: "003 HighRAGQueryLatency (P95 > 250ms, 5m, warning)", Fix: "sum by (le) before histogram_quantile",
				Firing: Latency("rag_query_duration_seconds", "", 0.4, 5), Healthy: Latency("rag_query_duration_seconds", "", 0.09, 5),
			},
			{
				Name: "VeryHighRAGQueryLatency", Query: rag(0.95), Op: Above, Threshold: 1, For: 2 * time.Minute,
				Severity: P1, Team: "ml-engineering", Runbook: "high-rag-query-latency", Dashboard: "tars-rag",
				Summary: "RAG query p95 latency {{ $value | humanizeDuration }}", Description: "RAG query p95 latency exceeds 1s for 2 minutes",
				Source: "003 VeryHighRAGQueryLatency (P95 > 1s, 2m, critical)", Fix: "sum by (le) before histogram_quantile",
				Firing: Latency("rag_query_duration_seconds", "", 2, 5), Healthy: Latency("rag_query_duration_seconds", "", 0.4, 5),
			},
			{
				Name: "RAGQueryFailures", Query: `sum(increase(rag_query_failures_total[5m]))`, Op: Above, Threshold: 1, For: 5 * time.Minute,
				Severity: P2, Team: "ml-engineering", Runbook: "rag-query-failures", Dashboard: "tars-rag",
				Summary: "{{ $value | humanize }} RAG queries failed in 5 minutes", Description: "More than 1 RAG query failure in 5 minutes",
				Source: "003 Loki query \"RAG query failures (>1 failure/5m)\"",
				Firing: Counter(`rag_query_failures_total`, 0.05), Healthy: Counter(`rag_query_failures_total`, 0),
			},
			{
				Name: "HighRAGQueryErrorRatio", Query: ratioPercent(`rag_query_failures_total`, `rag_queries_total`), Op: Above, Threshold: 5, For: 5 * time.Minute,
				Severity: P1, Team: "ml-engineering", Runbook: "rag-query-failures", Dashboard: "tars-rag",
				Summary: "RAG query error ratio {{ $value | humanize }}%", Description: "More than 5% of RAG queries fail",
				Source: "003 tars_rag_alerts",
				Firing: Ratio(`rag_query_failures_total`, `rag_queries_total`, 0.1, 5), Healthy: Ratio(`rag_query_failures_total`, `rag_queries_total`, 0.01, 5),
			},
		}},
		{Name: "tars_llm_alerts", Source: "003 tars_llm_alerts (3 rules)", Alerts: []Alert{
			{
				Name: "LLMServiceDown", Query: `up{job="ollama"}`, Op: Equal, Threshold: 0, For: time.Minute,
				Severity: P0, Team: "ml-engineering", Runbook: "llm-service-down", Dashboard: "tars-rag",
				Summary: "LLM service {{ $labels.instance }} is down", Description: "The LLM inference service has been down for 1 minute",
				Source: "003 LLMServiceDown (up == 0, 1m, critical)",
				Firing: Gauge(`up{job="ollama",instance="ollama-0"}`, 0), Healthy: Gauge(`up{job="ollama",instance="ollama-0"}`, 1),
			},
			{
				Name: "HighLLMInferenceLatency", Query: quantile(0.95, "llm_inference_duration_seconds", ""), Op: Above, Threshold: 5, For: 5 * time.Minute,
				Severity: P2, Team: "ml-engineering", Runbook: "llm-inference-latency", Dashboard: "tars-rag",
				Summary: "LLM p95 inference {{ $value | humanizeDuration }}", Description: "LLM inference p95 exceeds 5s for 5 minutes",
				Source: "003 tars_llm_alerts (LLM Inference Latency panel)",
				Firing: Latency("llm_inference_duration_seconds", `model="llama3"`, 9, 1), Healthy: Latency("llm_inference_duration_seconds", `model="llama3"`, 2, 1),
			},
			{
				Name: "HighLLMInferenceErrorRatio", Query: ratioPercent(`llm_inference_errors_total`, `llm_requests_total`), Op: Above, Threshold: 5, For: 5 * time.Minute,
				Severity: P2, Team: "ml-engineering", Runbook: "llm-inference-errors", Dashboard: "tars-rag",
				Summary: "LLM inference error ratio {{ $value | humanize }}%", Description: "More than 5% of LLM inference requests fail",
				Source: "003 tars_llm_alerts",
				Firing: Ratio(`llm_inference_errors_total`, `llm_requests_total`, 0.2, 1), Healthy: Ratio(`llm_inference_errors_total`, `llm_requests_total`, 0.01, 1),
			},
		}},
		{Name: "tars_embedding_alerts", Source: "003 tars_embedding_alerts (2 rules)", Alerts: []Alert{
			{
				Name: "HighEmbeddingLatency", Query: quantile(0.95, "embedding_generation_duration_seconds", ""), Op: Above, Threshold: 0.5, For: 5 * time.Minute,
				Severity: P2, Team: "ml-engineering", Runbook: "embedding-latency", Dashboard: "tars-rag",
				Summary: "Embedding p95 {{ $value | humanizeDuration }}", Description: "Embedding generation p95 exceeds 500ms",
				Source: "003 tars_embedding_alerts (Embedding Generation panel)",
				Firing: Latency("embedding_generation_duration_seconds", "", 0.9, 5), Healthy: Latency("embedding_generation_duration_seconds", "", 0.04, 5),
			},
			{
				Name: "LowEmbeddingCacheHitRate", Query: `sum(rate(embedding_cache_hits_total[5m])) / ((sum(rate(embedding_cache_hits_total[5m])) + sum(rate(embedding_cache_misses_total[5m]))) > 0) * 100`, Op: Below, Threshold: 50, For: 15 * time.Minute,
				Severity: P3, Team: "ml-engineering", Runbook: "embedding-cache", Dashboard: "tars-rag",
				Summary: "Embedding cache hit rate {{ $value | humanize }}%", Description: "Embedding cache hit rate below 50% for 15 minutes",
				Source: "003 tars_embedding_alerts (cache hit rate)",
				Firing: Join(Counter(`embedding_cache_hits_total`, 1), Counter(`embedding_cache_misses_total`, 3)), Healthy: Join(Counter(`embedding_cache_hits_total`, 8), Counter(`embedding_cache_misses_total`, 2)),
			},
		}},
		{Name: "tars_redis_alerts", Source: "003 tars_redis_alerts (3 rules)", Alerts: []Alert{
			{
				Name: "RedisDown", Query: `(count(redis_up == 1) or vector(0))`, Op: Below, Threshold: RedisMembers, For: time.Minute,
				Severity: P0, Team: "sre", Runbook: "redis-down", Dashboard: "tars-rag",
				Summary: "{{ $value }} of the Redis Cluster members answer", Description: "Fewer Redis Cluster members answer than the cluster has, for 1 minute",
				Source: "003 RedisDown (up == 0, 1m, critical)",
				Fix:    "redis_up comes from each member's exporter sidecar: when the pod is gone its series disappears and redis_up == 0 never fires; count the members that answer instead",
				Firing: redisMembersUp(RedisMembers - 1), Healthy: redisMembersUp(RedisMembers),
			},
			{
				Name: "RedisMemoryHigh", Query: `max by (pod) (redis_memory_used_rss_bytes) / on (pod) (max by (pod) (kube_pod_container_resource_limits{namespace="tars-data",container="redis",resource="memory"}) > 0) * 100`, Op: Above, Threshold: 90, For: 5 * time.Minute,
				Severity: P2, Team: "sre", Runbook: "redis-memory", Dashboard: "tars-rag",
				Summary: "Redis {{ $labels.pod }} resident memory at {{ $value | humanize }}% of its container limit", Description: "Redis resident memory above 90% of the container's memory limit: the next fork (AOF rewrite) or fragmentation may get it OOM-killed",
				Source:  "003 tars_redis_alerts (Redis Cache Efficiency panel)",
				Fix:     "used memory against maxmemory is always ~100% on a warm allkeys-lru cache (eviction is the design); resident memory against the container limit is what kills a member",
				Firing:  Join(Gauge(`redis_memory_used_rss_bytes{pod="redis-0"}`, 1950*1024*1024), Gauge(`kube_pod_container_resource_limits{namespace="tars-data",pod="redis-0",container="redis",resource="memory",unit="byte"}`, 2048*1024*1024)),
				Healthy: Join(Gauge(`redis_memory_used_rss_bytes{pod="redis-0"}`, 1600*1024*1024), Gauge(`kube_pod_container_resource_limits{namespace="tars-data",pod="redis-0",container="redis",resource="memory",unit="byte"}`, 2048*1024*1024)),
			},
			{
				Name: "RedisClusterStateNotOK", Query: `min(redis_cluster_state)`, Op: Equal, Threshold: 0, For: time.Minute,
				Severity: P1, Team: "sre", Runbook: "redis-cluster-state", Dashboard: "tars-rag",
				Summary: "Redis Cluster state is not ok", Description: "A Redis Cluster member reports cluster_state other than ok (slots uncovered)",
				Source: "003 tars_redis_alerts (cluster verification)",
				Firing: Gauge(`redis_cluster_state{instance="redis-0"}`, 0), Healthy: Gauge(`redis_cluster_state{instance="redis-0"}`, 1),
			},
		}},
		{Name: "tars_database_alerts", Source: "003 tars_database_alerts (3 rules; PostgreSQLDown is the plan's DatabaseDown)", Alerts: []Alert{
			{
				Name: "DatabaseConnectionErrors", Query: `sum(increase(pg_connection_errors_total[5m]))`, Op: Above, Threshold: 2, For: 5 * time.Minute,
				Severity: P2, Team: "sre", Runbook: "database-connection-errors", Dashboard: "tars-database",
				Summary: "{{ $value | humanize }} database connection errors in 5 minutes", Description: "More than 2 database connection errors in 5 minutes",
				Source: "003 Loki query \"Database connection errors (>2 errors/5m)\"",
				Firing: Counter(`pg_connection_errors_total`, 0.05), Healthy: Counter(`pg_connection_errors_total`, 0),
			},
			{
				Name: "PostgreSQLWALArchivingFailing", Query: `sum(increase(cnpg_pg_stat_archiver_failed_count[15m]))`, Op: Above, Threshold: 0, For: 5 * time.Minute,
				Severity: P1, Team: "sre", Runbook: "wal-archiving", Dashboard: "tars-database",
				Summary: "WAL archiving to S3 is failing", Description: "WAL segments failed to archive in the last 15 minutes: point-in-time recovery is at risk",
				Source: "003 tars_database_alerts (WAL archiving to S3)",
				Firing: Ramp(`cnpg_pg_stat_archiver_failed_count{cluster="tars-pg-us-east"}`, 0, 1), Healthy: Gauge(`cnpg_pg_stat_archiver_failed_count{cluster="tars-pg-us-east"}`, 3),
			},
			{
				Name: "PostgreSQLDeadlocks", Query: `sum(increase(cnpg_pg_stat_database_deadlocks[10m]))`, Op: Above, Threshold: 5, For: 5 * time.Minute,
				Severity: P3, Team: "sre", Runbook: "slow-database-queries", Dashboard: "tars-database",
				Summary: "{{ $value | humanize }} deadlocks in 10 minutes", Description: "More than 5 deadlocks in 10 minutes",
				Source: "003 tars_database_alerts", Fix: "CloudNativePG's default query exports cnpg_pg_stat_database_deadlocks",
				Firing: Counter(`cnpg_pg_stat_database_deadlocks{datname="tars"}`, 0.05), Healthy: Counter(`cnpg_pg_stat_database_deadlocks{datname="tars"}`, 0.001),
			},
		}},
		{Name: "tars_vectorstore_alerts", Source: "003 tars_vectorstore_alerts (2 rules)", Alerts: []Alert{
			{
				Name: "ChromaDBDown", Query: `up{job="chromadb"}`, Op: Equal, Threshold: 0, For: time.Minute,
				Severity: P0, Team: "sre", Runbook: "chromadb-down", Dashboard: "tars-rag",
				Summary: "ChromaDB {{ $labels.instance }} is down", Description: "The vector store has been down for 1 minute",
				Source: "003 ChromaDBDown (up == 0, 1m, critical)",
				Firing: Gauge(`up{job="chromadb",instance="chromadb-0"}`, 0), Healthy: Gauge(`up{job="chromadb",instance="chromadb-0"}`, 1),
			},
			{
				Name: "HighVectorSearchLatency", Query: quantile(0.95, "vector_search_duration_seconds", ""), Op: Above, Threshold: 0.5, For: 5 * time.Minute,
				Severity: P2, Team: "sre", Runbook: "vector-search-latency", Dashboard: "tars-rag",
				Summary: "Vector search p95 {{ $value | humanizeDuration }}", Description: "Vector search p95 exceeds 500ms",
				Source: "003 tars_vectorstore_alerts (Vector Store Performance panel)",
				Firing: Latency("vector_search_duration_seconds", "", 0.9, 5), Healthy: Latency("vector_search_duration_seconds", "", 0.04, 5),
			},
		}},
		{Name: "tars_http_alerts", Source: "003 tars_http_alerts (2 rules)", Alerts: []Alert{
			{
				Name: "High5xxErrorRate", Query: ratioPercent(http5xx, httpRequests), Op: Above, Threshold: 0.5, For: 5 * time.Minute,
				Severity: P3, Team: "sre", Signal: "error-rate", Runbook: "high-error-rate", Dashboard: "tars-rag",
				Summary: "5xx error rate {{ $value | humanize }}%", Description: "More than 0.5% of requests return 5xx for 5 minutes",
				Source: "003 High5xxErrorRate (> 0.5%, 5m, critical)",
				Fix:    "P3, not critical: 0.5% is the first step of the 5xx ladder below ElevatedErrorRate (1%, P2), HighErrorRate (5%, P1) and CriticalErrorRate (10%, P0), which inhibit it",
				Firing: Ratio(`http_requests_total{status="502"}`, `http_requests_total{status="200"}`, 0.02, 10), Healthy: Ratio(`http_requests_total{status="502"}`, `http_requests_total{status="200"}`, 0.001, 10),
			},
			{
				Name: "High4xxErrorRate", Query: ratioPercent(`http_requests_total{status=~"4.."}`, httpRequests), Op: Above, Threshold: 10, For: 10 * time.Minute,
				Severity: P3, Team: "sre", Runbook: "high-error-rate", Dashboard: "tars-rag",
				Summary: "4xx error rate {{ $value | humanize }}%", Description: "More than 10% of requests return 4xx for 10 minutes",
				Source: "003 tars_http_alerts (Error Rates panel)",
				Firing: Ratio(`http_requests_total{status="404"}`, `http_requests_total{status="200"}`, 0.3, 10), Healthy: Ratio(`http_requests_total{status="404"}`, `http_requests_total{status="200"}`, 0.02, 10),
			},
		}},
		{Name: "tars_system_alerts", Source: "003 tars_system_alerts (4 rules)", Alerts: []Alert{
			{
				Name: "HighGPUTemperature", Query: `max by (gpu, Hostname) (DCGM_FI_DEV_GPU_TEMP)`, Op: Above, Threshold: 85, For: 5 * time.Minute,
				Severity: P1, Team: "ml-engineering", Runbook: "gpu-temperature", Dashboard: "tars-rag",
				Summary: "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} at {{ $value }}°C", Description: "GPU temperature above 85°C for 5 minutes",
				Source: "003 HighGPUTemperature (> 85°C, 5m, critical)",
				Firing: Gauge(`DCGM_FI_DEV_GPU_TEMP{gpu="0",Hostname="gpu-node-1"}`, 90), Healthy: Gauge(`DCGM_FI_DEV_GPU_TEMP{gpu="0",Hostname="gpu-node-1"}`, 70),
			},
			{
				Name: "HighGPUMemoryUsage", Query: `max by (gpu, Hostname) (DCGM_FI_DEV_FB_USED / ((DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) > 0)) * 100`, Op: Above, Threshold: 95, For: 10 * time.Minute,
				Severity: P2, Team: "ml-engineering", Runbook: "gpu-memory", Dashboard: "tars-rag",
				Summary: "GPU {{ $labels.gpu }} memory at {{ $value | humanize }}%", Description: "GPU memory above 95% for 10 minutes",
				Source:  "003 tars_system_alerts (System Resources - GPU panel)",
				Firing:  Join(Gauge(`DCGM_FI_DEV_FB_USED{gpu="0",Hostname="gpu-node-1"}`, 15800), Gauge(`DCGM_FI_DEV_FB_FREE{gpu="0",Hostname="gpu-node-1"}`, 200)),
				Healthy: Join(Gauge(`DCGM_FI_DEV_FB_USED{gpu="0",Hostname="gpu-node-1"}`, 8000), Gauge(`DCGM_FI_DEV_FB_FREE{gpu="0",Hostname="gpu-node-1"}`, 8000)),
			},
			{
				Name: "HighNodeCPUUsage", Query: `(1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))) * 100`, Op: Above, Threshold: 90, For: 10 * time.Minute,
				Severity: P2, Team: "sre", Runbook: "node-resources", Dashboard: "tars-infra",
				Summary: "Node {{ $labels.instance }} CPU at {{ $value | humanize }}%", Description: "Node CPU usage above 90% for 10 minutes",
				Source: "003 tars_system_alerts (System Resources - CPU panel)",
				Firing: Counter(`node_cpu_seconds_total{instance="n1",cpu="0",mode="idle"}`, 0.05), Healthy: Counter(`node_cpu_seconds_total{instance="n1",cpu="0",mode="idle"}`, 0.6),
			},
			{
				Name: "HighNodeMemoryUsage", Query: `(1 - node_memory_MemAvailable_bytes / (node_memory_MemTotal_bytes > 0)) * 100`, Op: Above, Threshold: 90, For: 10 * time.Minute,
				Severity: P2, Team: "sre", Runbook: "node-resources", Dashboard: "tars-infra",
				Summary: "Node {{ $labels.instance }} memory at {{ $value | humanize }}%", Description: "Node memory usage above 90% for 10 minutes",
				Source:  "003 tars_system_alerts (System Resources - Memory panel)",
				Firing:  Join(Gauge(`node_memory_MemAvailable_bytes{instance="n1"}`, 5), Gauge(`node_memory_MemTotal_bytes{instance="n1"}`, 100)),
				Healthy: Join(Gauge(`node_memory_MemAvailable_bytes{instance="n1"}`, 40), Gauge(`node_memory_MemTotal_bytes{instance="n1"}`, 100)),
			},
		}},
		{Name: "tars_pod_alerts", Source: "003 tars_pod_alerts (3 rules)", Alerts: []Alert{
			{
				Name: "HighPodRestartRate", Query: `increase(kube_pod_container_status_restarts_total{namespace="tars"}[5m])`, Op: Above, Threshold: 3, For: time.Minute,
				Severity: P1, Team: "sre", Runbook: "pod-crash-looping", Dashboard: "tars-infra",
				Summary: "Pod {{ $labels.pod }} restarted {{ $value | humanize }} times in 5 minutes", Description: "More than 3 restarts in 5 minutes",
				Source: "003 HighPodRestartRate (> 3/5m, 1m, critical)",
				Firing: Ramp(`kube_pod_container_status_restarts_total{namespace="tars",pod="api-0"}`, 0, 1), Healthy: Ramp(`kube_pod_container_status_restarts_total{namespace="tars",pod="api-0"}`, 0, 0.1),
			},
			{
				Name: "PodNotReady", Query: `sum by (namespace, pod) (kube_pod_status_ready{namespace="tars",condition="false"})`, Op: Equal, Threshold: 1, For: 10 * time.Minute,
				Severity: P2, Team: "sre", Runbook: "pod-not-ready", Dashboard: "tars-infra",
				Summary: "Pod {{ $labels.pod }} not ready", Description: "Pod has not been ready for 10 minutes",
				Source: "003 tars_pod_alerts",
				Firing: Gauge(`kube_pod_status_ready{namespace="tars",pod="api-0",condition="false"}`, 1), Healthy: Gauge(`kube_pod_status_ready{namespace="tars",pod="api-0",condition="false"}`, 0),
			},
			{
				Name: "ContainerOOMKilled", Query: `max by (namespace, pod, container) ((increase(kube_pod_container_status_restarts_total{namespace="tars"}[10m]) > 0) and on (namespace, pod, container) (kube_pod_container_status_last_terminated_reason{namespace="tars",reason="OOMKilled"} == 1))`, Op: Above, Threshold: 0, For: 0,
				Severity: P2, Team: "sre", Runbook: "pod-oom-killed", Dashboard: "tars-infra",
				Summary: "Container {{ $labels.container }} of {{ $labels.pod }} was OOM-killed", Description: "A container was terminated for exceeding its memory limit; check VPA recommendations",
				Source:  "003 tars_pod_alerts",
				Fix:     "fires while the container restarted in the last 10 minutes after an OOM kill; the last-terminated reason alone stays OOMKilled until the next termination, so the alert fired for days after one OOM",
				Firing:  Join(Ramp(`kube_pod_container_status_restarts_total{namespace="tars",pod="api-0",container="api"}`, 0, 0.2), Gauge(`kube_pod_container_status_last_terminated_reason{namespace="tars",pod="api-0",container="api",reason="OOMKilled"}`, 1)),
				Healthy: Join(Gauge(`kube_pod_container_status_restarts_total{namespace="tars",pod="api-0",container="api"}`, 1), Gauge(`kube_pod_container_status_last_terminated_reason{namespace="tars",pod="api-0",container="api",reason="OOMKilled"}`, 1)),
			},
		}},
		{Name: "tars_document_alerts", Source: "003 tars_document_alerts (2 rules)", Alerts: []Alert{
			{
				Name: "DocumentQueueBacklog", Query: `sum(document_processing_queue_length)`, Op: Above, Threshold: 100, For: 15 * time.Minute,
				Severity: P3, Team: "ml-engineering", Runbook: "document-processing", Dashboard: "tars-rag",
				Summary: "{{ $value }} documents waiting", Description: "Document processing queue above 100 for 15 minutes",
				Source: "003 tars_document_alerts (Document Processing panel)",
				Firing: Gauge(`document_processing_queue_length`, 250), Healthy: Gauge(`document_processing_queue_length`, 10),
			},
			{
				Name: "DocumentProcessingFailures", Query: ratioPercent(`document_processing_failures_total`, `document_processing_total`), Op: Above, Threshold: 10, For: 10 * time.Minute,
				Severity: P2, Team: "ml-engineering", Runbook: "document-processing", Dashboard: "tars-rag",
				Summary: "{{ $value | humanize }}% of documents fail processing", Description: "More than 10% of document ingestions fail",
				Source: "003 tars_document_alerts",
				Firing: Ratio(`document_processing_failures_total`, `document_processing_total`, 0.3, 1), Healthy: Ratio(`document_processing_failures_total`, `document_processing_total`, 0.02, 1),
			},
		}},
	}
}

// platformGroups are the Cluster Autoscaler alerts (seed 003 "Cluster
// Autoscaler: Alerts Configured") and the replication-lag alerts (seed 003
// "PostgreSQL WAL Replication", runbook 2).
func platformGroups() []Group {
	return []Group{
		{Name: "tars_autoscaler_alerts", Source: "003 Cluster Autoscaler alerts", Alerts: []Alert{
			{
				Name: "ClusterAutoscalerDown", Query: `(sum(up{job="` + ClusterAutoscalerJob + `"}) or vector(0))`, Op: Equal, Threshold: 0, For: 5 * time.Minute,
				Severity: P2, Team: "sre", Runbook: "cluster-autoscaler", Dashboard: "tars-infra",
				Summary: "Cluster Autoscaler is down", Description: "The Cluster Autoscaler has been down (or unscraped) for more than 5 minutes: no node scaling",
				Source: "003 \"Autoscaler down for >5 minutes\"",
				Fix:    "the job is the chart's Service name (ClusterAutoscalerJob), not cluster-autoscaler",
				Firing: Gauge(`up{job="`+ClusterAutoscalerJob+`",instance="ca-0"}`, 0), Healthy: Gauge(`up{job="`+ClusterAutoscalerJob+`",instance="ca-0"}`, 1),
			},
			{
				Name: "ClusterAutoscalerErrors", Query: `sum(rate(cluster_autoscaler_errors_total[5m]))`, Op: Above, Threshold: 0.1, For: 5 * time.Minute,
				Severity: P2, Team: "sre", Runbook: "cluster-autoscaler", Dashboard: "tars-infra",
				Summary: "Cluster Autoscaler errors at {{ $value | humanize }}/s", Description: "Cluster Autoscaler error rate above 0.1/s",
				Source: "003 \"High error rate (>0.1 errors/sec)\"",
				Firing: Counter(`cluster_autoscaler_errors_total{type="cloudProviderError"}`, 0.3), Healthy: Counter(`cluster_autoscaler_errors_total{type="cloudProviderError"}`, 0.01),
			},
			{
				Name: "ClusterAutoscalerFailedScaleUps", Query: `sum(rate(cluster_autoscaler_failed_scale_ups_total[5m]))`, Op: Above, Threshold: 0.1, For: 10 * time.Minute,
				Severity: P2, Team: "sre", Runbook: "cluster-autoscaler", Dashboard: "tars-infra",
				Summary: "Cluster Autoscaler scale-ups failing at {{ $value | humanize }}/s", Description: "Failed scale-ups above 0.1/s for 10 minutes",
				Source: "003 \"Failed scale-ups (>0.1/sec for 10m)\"",
				Firing: Counter(`cluster_autoscaler_failed_scale_ups_total{reason="timeout"}`, 0.2), Healthy: Counter(`cluster_autoscaler_failed_scale_ups_total{reason="timeout"}`, 0),
			},
			{
				Name: "UnschedulablePods", Query: `sum(cluster_autoscaler_unschedulable_pods_count)`, Op: Above, Threshold: 5, For: 10 * time.Minute,
				Severity: P2, Team: "sre", Runbook: "cluster-autoscaler", Dashboard: "tars-infra",
				Summary: "{{ $value }} pods unschedulable", Description: "More than 5 pods unschedulable for 10 minutes",
				Source: "003 \"Unschedulable pods (>5 for 10m)\"",
				Firing: Gauge(`cluster_autoscaler_unschedulable_pods_count`, 8), Healthy: Gauge(`cluster_autoscaler_unschedulable_pods_count`, 1),
			},
			{
				Name: "ClusterNearMaxSize", Query: `sum(cluster_autoscaler_nodes_count{state="ready"}) / (max(cluster_autoscaler_max_nodes_count) > 0)`, Op: AtLeast, Threshold: ClusterNearMaxSizeRatio, For: 5 * time.Minute,
				Severity: P2, Team: "sre", Runbook: "cluster-autoscaler", Dashboard: "tars-infra",
				Summary: "Cluster at {{ $value | humanizePercentage }} of its maximum size", Description: "Ready nodes at or above 90% of the node groups' maximum (20): scale-ups will soon stop",
				Source:  "003 ClusterNearMaxSize (>= 90% max, 5m, warning)",
				Firing:  Join(Gauge(`cluster_autoscaler_nodes_count{state="ready"}`, 19), Gauge(`cluster_autoscaler_max_nodes_count`, ClusterMaxNodes)),
				Healthy: Join(Gauge(`cluster_autoscaler_nodes_count{state="ready"}`, 6), Gauge(`cluster_autoscaler_max_nodes_count`, ClusterMaxNodes)),
			},
		}},
		{Name: "tars_metrics_alerts", Source: "000 Metrics Collection (10M active-series ceiling, 90 days long-term with Thanos)", Alerts: []Alert{
			{
				Name: "PrometheusActiveSeriesNearCeiling", Query: `max(prometheus_tsdb_head_series)`, Op: Above, Threshold: ActiveSeriesCeiling * ActiveSeriesWarnRatio, For: 15 * time.Minute,
				Severity: P2, Team: "sre", Runbook: "prometheus-cardinality", Dashboard: "tars-infra",
				Summary: "Prometheus holds {{ $value | humanize }} active series", Description: "Active series above 80% of the 10M ceiling for 15 minutes: find the label that exploded before the replicas run out of memory",
				Source: "000 \"Cardinality Limit: 10M active series\" (no rule in the seed)",
				Firing: Gauge(`prometheus_tsdb_head_series{pod="prometheus-kube-prometheus-stack-prometheus-0"}`, 8.5e6), Healthy: Gauge(`prometheus_tsdb_head_series{pod="prometheus-kube-prometheus-stack-prometheus-0"}`, 2e6),
			},
			{
				Name: "ThanosCompactorHalted", Query: `max(thanos_compact_halted)`, Op: Equal, Threshold: 1, For: 5 * time.Minute,
				Severity: P2, Team: "sre", Runbook: "thanos-compactor", Dashboard: "tars-infra",
				Summary: "The Thanos compactor has halted", Description: "The compactor stopped on an error: blocks are no longer compacted, downsampled or deleted after 90 days",
				Source: "000 \"90 days (long-term storage)\" (no rule in the seed)",
				Firing: Gauge(`thanos_compact_halted{pod="thanos-compact-0"}`, 1), Healthy: Gauge(`thanos_compact_halted{pod="thanos-compact-0"}`, 0),
			},
		}},
		{Name: "tars_vector_store_sync_alerts", Source: "003 ChromaDB 100Gi per region, cross-region sync every 15 minutes", Alerts: []Alert{
			{
				// The newest snapshot is as old as the sync job's last
				// success: the primary's chromadb-snapshot, the other
				// region's chromadb-restore. A job that never succeeded
				// counts from its creation.
				Name: "ChromaDBSnapshotStale",
				Query: `(time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{cronjob=~"chromadb-(snapshot|restore)"})` +
					` or (time() - max by (namespace, cronjob) (kube_cronjob_created{cronjob=~"chromadb-(snapshot|restore)"}))` +
					` unless on (namespace, cronjob) kube_cronjob_status_last_successful_time)`,
				Op: Above, Threshold: ChromaSnapshotMaxAge.Seconds(), For: time.Minute,
				Severity: P2, Team: "sre", Runbook: "chromadb-sync", Dashboard: "tars-rag",
				Summary:     "The newest ChromaDB snapshot of {{ $labels.cronjob }} is {{ $value | humanizeDuration }} old",
				Description: "No successful ChromaDB sync for over 30 minutes (it runs every 15): the standby region's vector store is falling behind the primary's",
				Source:      "003 \"ChromaDB ... Sync (15min)\" (no rule in the seed)",
				Firing:      Gauge(`kube_cronjob_status_last_successful_time{namespace="tars",cronjob="chromadb-snapshot"}`, 3600),
				// A job that succeeds every minute of the fixture.
				Healthy: Ramp(`kube_cronjob_status_last_successful_time{namespace="tars",cronjob="chromadb-snapshot"}`, 0, 60),
			},
		}},
		{Name: "tars_replication_alerts", Source: "003 PostgreSQL WAL replication (lag target < 5s; runbook 2)", Alerts: []Alert{
			{
				Name: "HighReplicationLag", Query: `max(cnpg_pg_replication_lag)`, Op: Above, Threshold: ReplicationLagTarget.Seconds(), For: 2 * time.Minute,
				Severity: P2, Team: "sre", Runbook: "postgres-replication-lag", Dashboard: "tars-database",
				Summary: "Postgres replication lag {{ $value | humanizeDuration }}", Description: "Cross-region replication lag above the 5s target for 2 minutes",
				Source: "003 HighReplicationLag (target < 5s)",
				Firing: Gauge(`cnpg_pg_replication_lag{cluster="tars-pg-us-west"}`, 12), Healthy: Gauge(`cnpg_pg_replication_lag{cluster="tars-pg-us-west"}`, 1),
			},
			{
				Name: "VeryHighReplicationLag", Query: `max(cnpg_pg_replication_lag)`, Op: Above, Threshold: 60, For: 2 * time.Minute,
				Severity: P1, Team: "sre", Runbook: "postgres-replication-lag", Dashboard: "tars-database",
				Summary: "Postgres replication lag {{ $value | humanizeDuration }}", Description: "Replication lag above 60s: the replica serves stale data and a failover would lose writes",
				Source: "003 VeryHighReplicationLag (runbook 2: > 60s)",
				Firing: Gauge(`cnpg_pg_replication_lag{cluster="tars-pg-us-west"}`, 90), Healthy: Gauge(`cnpg_pg_replication_lag{cluster="tars-pg-us-west"}`, 12),
			},
		}},
	}
}
