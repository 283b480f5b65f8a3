package slo

// ServiceJob is the job label of the T.A.R.S. services' scrape targets (their
// ServiceMonitor selects the services' metrics port; the seeds' queries
// read job="tars").
const ServiceJob = "tars"

// AppContract is what the T.A.R.S. services must expose: the metrics the
// seeds' queries read, with the labels they filter on. It is a contract,
// not an observation: a service that does not export these leaves its
// alerts blind (each SLI has an absent alert).
var AppContract = Exporter{
	Name:    "tars-services",
	Version: "contract",
	Source:  "seed 000 (Measurement, Alert Rules §1–§7) and seed 003 (Phase 7 alert groups); names and labels as the catalog's queries read them",
	Metrics: []Metric{
		{Name: "embedding_generation_duration_seconds", Type: TypeHistogram},
		{Name: "http_request_duration_seconds", Type: TypeHistogram},
		{Name: "llm_inference_duration_seconds", Type: TypeHistogram, Labels: []string{"model"}},
		{Name: "pg_query_duration_seconds", Type: TypeHistogram},
		{Name: "rag_query_duration_seconds", Type: TypeHistogram},
		{Name: "tars_agent_reward", Type: TypeHistogram, Labels: []string{"agent"}},
		{Name: "tars_training_episode_duration_seconds", Type: TypeHistogram, Labels: []string{"agent"}},
		{Name: "tars_training_step_duration_seconds", Type: TypeHistogram, Labels: []string{"agent"}},
		{Name: "vector_search_duration_seconds", Type: TypeHistogram},
		{Name: "document_processing_failures_total", Type: TypeCounter},
		{Name: "document_processing_total", Type: TypeCounter},
		{Name: "embedding_cache_hits_total", Type: TypeCounter},
		{Name: "embedding_cache_misses_total", Type: TypeCounter},
		{Name: "http_requests_total", Type: TypeCounter, Labels: []string{"status", "method"}},
		{Name: "llm_inference_errors_total", Type: TypeCounter, Labels: []string{"model"}},
		{Name: "llm_requests_total", Type: TypeCounter, Labels: []string{"model"}},
		{Name: "llm_tokens_generated_total", Type: TypeCounter, Labels: []string{"model"}},
		{Name: "pg_connection_errors_total", Type: TypeCounter},
		{Name: "rag_queries_total", Type: TypeCounter},
		{Name: "rag_query_failures_total", Type: TypeCounter},
		{Name: "tars_agent_actions_total", Type: TypeCounter, Labels: []string{"agent", "action"}},
		{Name: "tars_hpo_trials_total", Type: TypeCounter, Labels: []string{"status"}},
		{Name: "websocket_disconnections_total", Type: TypeCounter},
		{Name: "websocket_messages_total", Type: TypeCounter},
		{Name: "websocket_reconnection_attempts_total", Type: TypeCounter},
		{Name: "websocket_reconnection_failures_total", Type: TypeCounter},
		{Name: "chromadb_collection_documents", Type: TypeGauge},
		{Name: "document_processing_queue_length", Type: TypeGauge},
		{Name: "pg_connections_active", Type: TypeGauge},
		{Name: "pg_connections_max", Type: TypeGauge},
		{Name: "tars_active_agents", Type: TypeGauge},
		{Name: "tars_active_missions", Type: TypeGauge},
		{Name: "tars_model_evaluation_score", Type: TypeGauge, Labels: []string{"model"}},
		{Name: "tars_nash_equilibrium_distance", Type: TypeGauge, Labels: []string{"game"}},
		{Name: "tars_replay_buffer_size", Type: TypeGauge, Labels: []string{"agent"}},
		{Name: "websocket_connections_active", Type: TypeGauge},
	},
}
