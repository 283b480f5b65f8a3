package slo

// The inventories of three exporters, read from their sources at the
// versions the stacks run. None of the three serves OpenMetrics (each uses
// promhttp.HandlerOpts without EnableOpenMetrics), so names are exposed
// exactly as defined: a counter without a _total suffix in its source keeps
// none.

// CloudNativePG is the instance manager's metrics exporter of the
// CloudNativePG operator 1.30.0 (port 9187 of every PostgreSQL pod, path
// /metrics): its built-in cnpg_collector_* gauges and counters, the
// queries collector's own cnpg_* families, the built-in "collector" query
// (cnpg_collector_lo_pages), and the default monitoring queries of the
// cnpg-default-monitoring ConfigMap (chart 0.29.0 values
// monitoringQueriesConfigMap.queries, the same queries and metrics as the
// operator's config/manager/default-monitoring.yaml). A query column
// becomes cnpg_<query name>_<column>; its LABEL columns are the labels of
// every metric of the query; COUNTER columns are exposed as counters under
// the bare column name (no _total). The instance's go_* runtime metrics
// (collectors.NewGoCollector) and CNPG-I plugin metrics are not listed.
// Families marked for a PostgreSQL version range are absent elsewhere; the
// operator's default image (pkg/versions DefaultImageName) is PostgreSQL 18.4.
var CloudNativePG = Exporter{
	Name:    "cloudnative-pg",
	Version: "1.30.0",
	Source: "github.com/cloudnative-pg/cloudnative-pg@v1.30.0 (module cache): " +
		"pkg/management/postgres/webserver/metricserver/{pg_collector.go,wal.go,metrics.go}, " +
		"pkg/management/postgres/metrics/{collector.go,mappings.go}, pkg/versions, " +
		"internal/management/controller/instance_controller.go, pkg/management/url/url.go, " +
		"config/manager/default-monitoring.yaml; " +
		"cloudnative-pg chart 0.29.0 (/work/shared/charts/cloudnative-pg-0.29.0.tgz): " +
		"values.yaml monitoringQueriesConfigMap, templates/monitoring-configmap.yaml",
	Metrics: []Metric{
		// Exporter built-ins (newMetrics, subsystem "collector").
		{Name: "cnpg_collector_collections_total", Type: TypeCounter},
		{Name: "cnpg_collector_collection_errors_total", Type: TypeCounter, Labels: []string{"collector"}, Values: map[string][]string{"collector": {
			"Collect.cnpg", "Collect.PluginMetrics", "Collect.NodesUsed", "Collect.SynchronousStandbys",
			"Collect.FirstRecoverabilityPoint", "Collect.LastAvailableBackupTimestamp", "Collect.LastFailedBackupTimestamp",
			"Collect.PgWALArchiveStats", "Collect.PGWalSettings", "Collect.PGVersion", "Collect.PGWALStat",
		}}},
		{Name: "cnpg_collector_last_collection_error", Type: TypeGauge},
		{Name: "cnpg_collector_up", Type: TypeGauge, Labels: []string{"cluster"}},
		{Name: "cnpg_collector_collection_duration_seconds", Type: TypeGauge, Labels: []string{"collector"}, Values: map[string][]string{"collector": {"Collect.up", "Collect.cnpg"}}},
		{Name: "cnpg_collector_manual_switchover_required", Type: TypeGauge},
		{Name: "cnpg_collector_sync_replicas", Type: TypeGauge, Labels: []string{"value"}, Values: map[string][]string{"value": {"observed"}}}, // primary only
		{Name: "cnpg_collector_replica_mode", Type: TypeGauge},
		{Name: "cnpg_collector_pg_wal_archive_status", Type: TypeGauge, Labels: []string{"value"}, Values: map[string][]string{"value": {"ready", "done"}}},
		{Name: "cnpg_collector_pg_wal", Type: TypeGauge, Labels: []string{"value"}, Values: map[string][]string{"value": {"count", "size", "min", "max", "keep", "slots_max", "volume_size", "volume_max"}}},
		{Name: "cnpg_collector_postgres_version", Type: TypeGauge, Labels: []string{"full", "cluster"}},
		{Name: "cnpg_collector_first_recoverability_point", Type: TypeGauge},      // deprecated; primary only
		{Name: "cnpg_collector_last_available_backup_timestamp", Type: TypeGauge}, // deprecated; primary only
		{Name: "cnpg_collector_last_failed_backup_timestamp", Type: TypeGauge},    // deprecated; primary only
		{Name: "cnpg_collector_fencing_on", Type: TypeGauge},
		{Name: "cnpg_collector_nodes_used", Type: TypeGauge},
		// pg_stat_wal (PostgreSQL 14+), gauges despite being cumulative.
		{Name: "cnpg_collector_wal_records", Type: TypeGauge, Labels: []string{"stats_reset"}},
		{Name: "cnpg_collector_wal_fpi", Type: TypeGauge, Labels: []string{"stats_reset"}},
		{Name: "cnpg_collector_wal_bytes", Type: TypeGauge, Labels: []string{"stats_reset"}},
		{Name: "cnpg_collector_wal_buffers_full", Type: TypeGauge, Labels: []string{"stats_reset"}},
		{Name: "cnpg_collector_wal_write", Type: TypeGauge, Labels: []string{"stats_reset"}},      // PostgreSQL 14 to 17 only
		{Name: "cnpg_collector_wal_sync", Type: TypeGauge, Labels: []string{"stats_reset"}},       // PostgreSQL 14 to 17 only
		{Name: "cnpg_collector_wal_write_time", Type: TypeGauge, Labels: []string{"stats_reset"}}, // PostgreSQL 14 to 17 only
		{Name: "cnpg_collector_wal_sync_time", Type: TypeGauge, Labels: []string{"stats_reset"}},  // PostgreSQL 14 to 17 only
		// Built-in query "collector" (metricserver.DefaultQueries, every database).
		{Name: "cnpg_collector_lo_pages", Type: TypeGauge, Labels: []string{"datname"}},
		// The queries collector itself (NewQueriesCollector("cnpg", ...)).
		{Name: "cnpg_errors_total", Type: TypeCounter, Labels: []string{"errorUserQueries"}},
		{Name: "cnpg_last_error", Type: TypeGauge},
		{Name: "cnpg_last_update_timestamp", Type: TypeGauge},
		{Name: "cnpg_cache_hits", Type: TypeGauge},
		{Name: "cnpg_cache_miss", Type: TypeGauge},
		// Default monitoring queries (cnpg-default-monitoring).
		// Query backends: pg_stat_activity per state (the query enumerates the states).
		{Name: "cnpg_backends_total", Type: TypeGauge, Labels: []string{"datname", "usename", "application_name", "state"}, Values: map[string][]string{"state": {"active", "idle", "idle in transaction", "idle in transaction (aborted)", "fastpath function call", "disabled"}}},
		{Name: "cnpg_backends_max_tx_duration_seconds", Type: TypeGauge, Labels: []string{"datname", "usename", "application_name", "state"}, Values: map[string][]string{"state": {"active", "idle", "idle in transaction", "idle in transaction (aborted)", "fastpath function call", "disabled"}}},
		// Query backends_waiting.
		{Name: "cnpg_backends_waiting_total", Type: TypeGauge},
		// Query pg_database.
		{Name: "cnpg_pg_database_size_bytes", Type: TypeGauge, Labels: []string{"datname"}},
		{Name: "cnpg_pg_database_xid_age", Type: TypeGauge, Labels: []string{"datname"}},
		{Name: "cnpg_pg_database_mxid_age", Type: TypeGauge, Labels: []string{"datname"}},
		// Query pg_postmaster.
		{Name: "cnpg_pg_postmaster_start_time", Type: TypeGauge},
		// Query pg_replication: lag is seconds behind the primary (0 on a primary).
		{Name: "cnpg_pg_replication_lag", Type: TypeGauge},
		{Name: "cnpg_pg_replication_in_recovery", Type: TypeGauge},
		{Name: "cnpg_pg_replication_is_wal_receiver_up", Type: TypeGauge},
		{Name: "cnpg_pg_replication_streaming_replicas", Type: TypeGauge},
		// Query pg_replication_slots.
		{Name: "cnpg_pg_replication_slots_active", Type: TypeGauge, Labels: []string{"slot_name", "slot_type", "database"}},
		{Name: "cnpg_pg_replication_slots_pg_wal_lsn_diff", Type: TypeGauge, Labels: []string{"slot_name", "slot_type", "database"}},
		// Query pg_stat_archiver (predicate: primary, or archive_mode=always). COUNTER columns keep the column name: no _total.
		{Name: "cnpg_pg_stat_archiver_archived_count", Type: TypeCounter},
		{Name: "cnpg_pg_stat_archiver_failed_count", Type: TypeCounter},
		{Name: "cnpg_pg_stat_archiver_seconds_since_last_archival", Type: TypeGauge},
		{Name: "cnpg_pg_stat_archiver_seconds_since_last_failure", Type: TypeGauge},
		{Name: "cnpg_pg_stat_archiver_last_archived_time", Type: TypeGauge},
		{Name: "cnpg_pg_stat_archiver_last_failed_time", Type: TypeGauge},
		{Name: "cnpg_pg_stat_archiver_last_archived_wal_start_lsn", Type: TypeGauge},
		{Name: "cnpg_pg_stat_archiver_last_failed_wal_start_lsn", Type: TypeGauge},
		{Name: "cnpg_pg_stat_archiver_stats_reset_time", Type: TypeGauge},
		// Query pg_stat_bgwriter (runonserver <17.0.0) and pg_stat_bgwriter_17 (runonserver >=17.0.0, name: pg_stat_bgwriter) share the cnpg_pg_stat_bgwriter_ prefix.
		{Name: "cnpg_pg_stat_bgwriter_checkpoints_timed", Type: TypeCounter},     // PostgreSQL <17.0.0
		{Name: "cnpg_pg_stat_bgwriter_checkpoints_req", Type: TypeCounter},       // PostgreSQL <17.0.0
		{Name: "cnpg_pg_stat_bgwriter_checkpoint_write_time", Type: TypeCounter}, // PostgreSQL <17.0.0
		{Name: "cnpg_pg_stat_bgwriter_checkpoint_sync_time", Type: TypeCounter},  // PostgreSQL <17.0.0
		{Name: "cnpg_pg_stat_bgwriter_buffers_checkpoint", Type: TypeCounter},    // PostgreSQL <17.0.0
		{Name: "cnpg_pg_stat_bgwriter_buffers_clean", Type: TypeCounter},
		{Name: "cnpg_pg_stat_bgwriter_maxwritten_clean", Type: TypeCounter},
		{Name: "cnpg_pg_stat_bgwriter_buffers_backend", Type: TypeCounter},       // PostgreSQL <17.0.0
		{Name: "cnpg_pg_stat_bgwriter_buffers_backend_fsync", Type: TypeCounter}, // PostgreSQL <17.0.0
		{Name: "cnpg_pg_stat_bgwriter_buffers_alloc", Type: TypeCounter},
		{Name: "cnpg_pg_stat_bgwriter_stats_reset_time", Type: TypeGauge}, // PostgreSQL >=17.0.0
		// Query pg_stat_checkpointer (runonserver >=17.0.0).
		{Name: "cnpg_pg_stat_checkpointer_checkpoints_timed", Type: TypeCounter},   // PostgreSQL >=17.0.0
		{Name: "cnpg_pg_stat_checkpointer_checkpoints_req", Type: TypeCounter},     // PostgreSQL >=17.0.0
		{Name: "cnpg_pg_stat_checkpointer_restartpoints_timed", Type: TypeCounter}, // PostgreSQL >=17.0.0
		{Name: "cnpg_pg_stat_checkpointer_restartpoints_req", Type: TypeCounter},   // PostgreSQL >=17.0.0
		{Name: "cnpg_pg_stat_checkpointer_restartpoints_done", Type: TypeCounter},  // PostgreSQL >=17.0.0
		{Name: "cnpg_pg_stat_checkpointer_write_time", Type: TypeCounter},          // PostgreSQL >=17.0.0
		{Name: "cnpg_pg_stat_checkpointer_sync_time", Type: TypeCounter},           // PostgreSQL >=17.0.0
		{Name: "cnpg_pg_stat_checkpointer_buffers_written", Type: TypeCounter},     // PostgreSQL >=17.0.0
		{Name: "cnpg_pg_stat_checkpointer_stats_reset_time", Type: TypeGauge},      // PostgreSQL >=17.0.0
		// Query pg_stat_database.
		{Name: "cnpg_pg_stat_database_xact_commit", Type: TypeCounter, Labels: []string{"datname"}},
		{Name: "cnpg_pg_stat_database_xact_rollback", Type: TypeCounter, Labels: []string{"datname"}},
		{Name: "cnpg_pg_stat_database_blks_read", Type: TypeCounter, Labels: []string{"datname"}},
		{Name: "cnpg_pg_stat_database_blks_hit", Type: TypeCounter, Labels: []string{"datname"}},
		{Name: "cnpg_pg_stat_database_tup_returned", Type: TypeCounter, Labels: []string{"datname"}},
		{Name: "cnpg_pg_stat_database_tup_fetched", Type: TypeCounter, Labels: []string{"datname"}},
		{Name: "cnpg_pg_stat_database_tup_inserted", Type: TypeCounter, Labels: []string{"datname"}},
		{Name: "cnpg_pg_stat_database_tup_updated", Type: TypeCounter, Labels: []string{"datname"}},
		{Name: "cnpg_pg_stat_database_tup_deleted", Type: TypeCounter, Labels: []string{"datname"}},
		{Name: "cnpg_pg_stat_database_conflicts", Type: TypeCounter, Labels: []string{"datname"}},
		{Name: "cnpg_pg_stat_database_temp_files", Type: TypeCounter, Labels: []string{"datname"}},
		{Name: "cnpg_pg_stat_database_temp_bytes", Type: TypeCounter, Labels: []string{"datname"}},
		{Name: "cnpg_pg_stat_database_deadlocks", Type: TypeCounter, Labels: []string{"datname"}},
		{Name: "cnpg_pg_stat_database_blk_read_time", Type: TypeCounter, Labels: []string{"datname"}},
		{Name: "cnpg_pg_stat_database_blk_write_time", Type: TypeCounter, Labels: []string{"datname"}},
		// Query pg_stat_replication (primary: true).
		{Name: "cnpg_pg_stat_replication_backend_start", Type: TypeCounter, Labels: []string{"usename", "application_name", "client_addr", "client_port"}},
		{Name: "cnpg_pg_stat_replication_backend_xmin_age", Type: TypeCounter, Labels: []string{"usename", "application_name", "client_addr", "client_port"}},
		{Name: "cnpg_pg_stat_replication_sent_diff_bytes", Type: TypeGauge, Labels: []string{"usename", "application_name", "client_addr", "client_port"}},
		{Name: "cnpg_pg_stat_replication_write_diff_bytes", Type: TypeGauge, Labels: []string{"usename", "application_name", "client_addr", "client_port"}},
		{Name: "cnpg_pg_stat_replication_flush_diff_bytes", Type: TypeGauge, Labels: []string{"usename", "application_name", "client_addr", "client_port"}},
		{Name: "cnpg_pg_stat_replication_replay_diff_bytes", Type: TypeGauge, Labels: []string{"usename", "application_name", "client_addr", "client_port"}},
		{Name: "cnpg_pg_stat_replication_write_lag_seconds", Type: TypeGauge, Labels: []string{"usename", "application_name", "client_addr", "client_port"}},
		{Name: "cnpg_pg_stat_replication_flush_lag_seconds", Type: TypeGauge, Labels: []string{"usename", "application_name", "client_addr", "client_port"}},
		{Name: "cnpg_pg_stat_replication_replay_lag_seconds", Type: TypeGauge, Labels: []string{"usename", "application_name", "client_addr", "client_port"}},
		// Query pg_settings: one series per numeric setting.
		{Name: "cnpg_pg_settings_setting", Type: TypeGauge, Labels: []string{"name"}},
		// Query pg_extensions (target_databases: ["*"]).
		{Name: "cnpg_pg_extensions_update_available", Type: TypeGauge, Labels: []string{"datname", "extname", "default_version", "installed_version"}},
	},
}

// RedisExporter is oliver006/redis_exporter v1.67.0 beside each member of
// the Redis 7.4 cluster (REDIS_EXPORTER_IS_CLUSTER=true, defaults
// otherwise: namespace redis, no check-keys, streams, key groups, client
// list, config-as-metrics, system metrics, ping-on-connect or Lua). INFO
// fields become redis_<field> (renamed by the exporter's metricMapGauges /
// metricMapCounters; only those maps, the db, cmdstat_ and cluster_
// prefixes are exported) and are listed here only where Redis 7.4's INFO ALL
// or CLUSTER INFO has the field. A field in both maps is a counter; a field
// only in the gauge map is a gauge even when named _total (e.g.
// redis_cluster_messages_sent_total, redis_rdb_saves_total). Process and Go
// runtime collectors of the default registry are not listed.
var RedisExporter = Exporter{
	Name:    "redis_exporter",
	Version: "1.67.0",
	Source: "github.com/oliver006/redis_exporter@v1.67.0: exporter/exporter.go, exporter/metrics.go, " +
		"exporter/info.go, exporter/latency.go, exporter/slowlog.go, exporter/keys.go, " +
		"exporter/key_groups.go, exporter/streams.go, main.go; INFO/CLUSTER INFO fields from " +
		"github.com/redis/redis@7.4.1 (7.4.2 is not in the snapshot): src/server.c genRedisInfoString, " +
		"src/cluster_legacy.c genClusterInfoString, src/config.c, src/networking.c",
	Metrics: []Metric{
		// Exporter itself.
		{Name: "redis_up", Type: TypeGauge},
		{Name: "redis_exporter_last_scrape_error", Type: TypeGauge, Labels: []string{"err"}},
		{Name: "redis_exporter_last_scrape_duration_seconds", Type: TypeGauge},
		{Name: "redis_exporter_last_scrape_connect_time_seconds", Type: TypeGauge},
		{Name: "redis_exporter_scrapes_total", Type: TypeCounter},
		{Name: "redis_exporter_scrape_duration_seconds", Type: TypeSummary},
		{Name: "redis_target_scrape_request_errors_total", Type: TypeCounter},
		{Name: "redis_exporter_build_info", Type: TypeGauge, Labels: []string{"version", "commit_sha", "build_date", "golang_version"}},
		{Name: "redis_instance_info", Type: TypeGauge, Labels: []string{"role", "redis_version", "redis_build_id", "redis_mode", "os", "maxmemory_policy", "tcp_port", "run_id", "process_id", "master_replid"}, Values: map[string][]string{
			"role": {"master", "slave"}, "redis_mode": {"standalone", "sentinel", "cluster"},
		}},
		{Name: "redis_slave_info", Type: TypeGauge, Labels: []string{"master_host", "master_port", "read_only"}}, // replicas only
		// INFO Server.
		{Name: "redis_start_time_seconds", Type: TypeGauge},
		{Name: "redis_uptime_in_seconds", Type: TypeGauge},
		{Name: "redis_process_id", Type: TypeGauge},
		{Name: "redis_configured_hz", Type: TypeGauge},
		{Name: "redis_hz", Type: TypeGauge},
		{Name: "redis_io_threads_active", Type: TypeGauge},
		// INFO Clients.
		{Name: "redis_connected_clients", Type: TypeGauge},
		{Name: "redis_cluster_connections", Type: TypeGauge},
		{Name: "redis_blocked_clients", Type: TypeGauge},
		{Name: "redis_tracking_clients", Type: TypeGauge},
		{Name: "redis_pubsub_clients", Type: TypeGauge},
		{Name: "redis_watching_clients", Type: TypeGauge},
		{Name: "redis_clients_in_timeout_table", Type: TypeGauge},
		{Name: "redis_total_watched_keys", Type: TypeGauge},
		{Name: "redis_total_blocking_keys", Type: TypeGauge},
		{Name: "redis_total_blocking_keys_on_nokey", Type: TypeGauge},
		{Name: "redis_client_recent_max_input_buffer_bytes", Type: TypeGauge},
		{Name: "redis_client_recent_max_output_buffer_bytes", Type: TypeGauge},
		// INFO Memory.
		{Name: "redis_memory_used_bytes", Type: TypeGauge},
		{Name: "redis_memory_used_rss_bytes", Type: TypeGauge},
		{Name: "redis_memory_used_peak_bytes", Type: TypeGauge},
		{Name: "redis_memory_used_overhead_bytes", Type: TypeGauge},
		{Name: "redis_memory_used_startup_bytes", Type: TypeGauge},
		{Name: "redis_memory_used_dataset_bytes", Type: TypeGauge},
		{Name: "redis_memory_used_lua_bytes", Type: TypeGauge},
		{Name: "redis_memory_used_vm_eval_bytes", Type: TypeGauge},
		{Name: "redis_memory_used_scripts_eval_bytes", Type: TypeGauge},
		{Name: "redis_memory_used_vm_functions_bytes", Type: TypeGauge},
		{Name: "redis_memory_used_vm_total", Type: TypeGauge},
		{Name: "redis_memory_used_functions_bytes", Type: TypeGauge},
		{Name: "redis_memory_used_scripts_bytes", Type: TypeGauge},
		{Name: "redis_memory_max_bytes", Type: TypeGauge},
		{Name: "redis_number_of_cached_scripts", Type: TypeGauge},
		{Name: "redis_number_of_functions", Type: TypeGauge},
		{Name: "redis_number_of_libraries", Type: TypeGauge},
		{Name: "redis_allocator_allocated_bytes", Type: TypeGauge},
		{Name: "redis_allocator_active_bytes", Type: TypeGauge},
		{Name: "redis_allocator_resident_bytes", Type: TypeGauge},
		{Name: "redis_allocator_frag_ratio", Type: TypeGauge},
		{Name: "redis_allocator_frag_bytes", Type: TypeGauge},
		{Name: "redis_allocator_rss_ratio", Type: TypeGauge},
		{Name: "redis_allocator_rss_bytes", Type: TypeGauge},
		{Name: "redis_mem_fragmentation_ratio", Type: TypeGauge},
		{Name: "redis_mem_fragmentation_bytes", Type: TypeGauge},
		{Name: "redis_mem_not_counted_for_eviction_bytes", Type: TypeGauge},
		{Name: "redis_mem_total_replication_buffers_bytes", Type: TypeGauge},
		{Name: "redis_mem_clients_slaves", Type: TypeGauge},
		{Name: "redis_mem_clients_normal", Type: TypeGauge},
		{Name: "redis_mem_overhead_db_hashtable_rehashing_bytes", Type: TypeGauge},
		{Name: "redis_lazyfree_pending_objects", Type: TypeGauge},
		{Name: "redis_active_defrag_running", Type: TypeGauge},
		// INFO Persistence (the aof_* size, buffer and fsync fields need appendonly yes, as conf.go sets).
		{Name: "redis_loading_dump_file", Type: TypeGauge},
		{Name: "redis_async_loading", Type: TypeGauge},
		{Name: "redis_rdb_changes_since_last_save", Type: TypeGauge},
		{Name: "redis_rdb_bgsave_in_progress", Type: TypeGauge},
		{Name: "redis_rdb_last_save_timestamp_seconds", Type: TypeGauge},
		{Name: "redis_rdb_last_bgsave_status", Type: TypeGauge}, // ok=1, err=0
		{Name: "redis_rdb_last_bgsave_duration_sec", Type: TypeGauge},
		{Name: "redis_rdb_current_bgsave_duration_sec", Type: TypeGauge},
		{Name: "redis_rdb_saves_total", Type: TypeGauge},
		{Name: "redis_rdb_last_cow_size_bytes", Type: TypeGauge},
		{Name: "redis_rdb_last_load_expired_keys", Type: TypeGauge},
		{Name: "redis_rdb_last_load_loaded_keys", Type: TypeGauge},
		{Name: "redis_aof_enabled", Type: TypeGauge},
		{Name: "redis_aof_rewrite_in_progress", Type: TypeGauge},
		{Name: "redis_aof_rewrite_scheduled", Type: TypeGauge},
		{Name: "redis_aof_last_rewrite_duration_sec", Type: TypeGauge},
		{Name: "redis_aof_current_rewrite_duration_sec", Type: TypeGauge},
		{Name: "redis_aof_last_cow_size_bytes", Type: TypeGauge},
		{Name: "redis_aof_last_bgrewrite_status", Type: TypeGauge}, // ok=1, err=0
		{Name: "redis_aof_last_write_status", Type: TypeGauge},     // ok=1, err=0
		{Name: "redis_aof_current_size_bytes", Type: TypeGauge},
		{Name: "redis_aof_base_size_bytes", Type: TypeGauge},
		{Name: "redis_aof_pending_rewrite", Type: TypeGauge},
		{Name: "redis_aof_buffer_length", Type: TypeGauge},
		{Name: "redis_aof_pending_bio_fsync", Type: TypeGauge},
		{Name: "redis_aof_delayed_fsync", Type: TypeGauge},
		{Name: "redis_module_fork_in_progress", Type: TypeGauge},
		{Name: "redis_module_fork_last_cow_size", Type: TypeGauge},
		// INFO Stats.
		{Name: "redis_connections_received_total", Type: TypeCounter},
		{Name: "redis_commands_processed_total", Type: TypeCounter},
		{Name: "redis_rejected_connections_total", Type: TypeCounter},
		{Name: "redis_net_input_bytes_total", Type: TypeCounter},
		{Name: "redis_net_output_bytes_total", Type: TypeCounter},
		{Name: "redis_net_repl_input_bytes_total", Type: TypeCounter},
		{Name: "redis_net_repl_output_bytes_total", Type: TypeCounter},
		{Name: "redis_replica_resyncs_full", Type: TypeGauge},
		{Name: "redis_replica_partial_resync_accepted", Type: TypeGauge},
		{Name: "redis_replica_partial_resync_denied", Type: TypeGauge},
		{Name: "redis_expired_subkeys_total", Type: TypeCounter},
		{Name: "redis_expired_keys_total", Type: TypeCounter},
		{Name: "redis_expired_stale_percentage", Type: TypeGauge},
		{Name: "redis_expired_time_cap_reached_total", Type: TypeCounter},
		{Name: "redis_expire_cycle_cpu_time_ms_total", Type: TypeCounter},
		{Name: "redis_evicted_keys_total", Type: TypeCounter},
		{Name: "redis_evicted_clients_total", Type: TypeCounter},
		{Name: "redis_evicted_scripts_total", Type: TypeCounter},
		{Name: "redis_eviction_exceeded_time_ms_total", Type: TypeCounter},
		{Name: "redis_current_eviction_exceeded_time_ms", Type: TypeGauge},
		{Name: "redis_keyspace_hits_total", Type: TypeCounter},
		{Name: "redis_keyspace_misses_total", Type: TypeCounter},
		{Name: "redis_pubsub_channels", Type: TypeGauge},
		{Name: "redis_pubsub_patterns", Type: TypeGauge},
		{Name: "redis_pubsubshard_channels", Type: TypeGauge},
		{Name: "redis_latest_fork_seconds", Type: TypeGauge},
		{Name: "redis_migrate_cached_sockets_total", Type: TypeGauge},
		{Name: "redis_slave_expires_tracked_keys", Type: TypeGauge},
		{Name: "redis_defrag_hits", Type: TypeGauge},
		{Name: "redis_defrag_misses", Type: TypeGauge},
		{Name: "redis_defrag_key_hits", Type: TypeGauge},
		{Name: "redis_defrag_key_misses", Type: TypeGauge},
		{Name: "redis_tracking_total_keys", Type: TypeGauge},
		{Name: "redis_tracking_total_items", Type: TypeGauge},
		{Name: "redis_tracking_total_prefixes", Type: TypeGauge},
		{Name: "redis_unexpected_error_replies", Type: TypeCounter},
		{Name: "redis_total_error_replies", Type: TypeCounter},
		{Name: "redis_dump_payload_sanitizations", Type: TypeCounter},
		{Name: "redis_total_reads_processed", Type: TypeCounter},
		{Name: "redis_total_writes_processed", Type: TypeCounter},
		{Name: "redis_io_threaded_reads_processed", Type: TypeCounter},
		{Name: "redis_io_threaded_writes_processed", Type: TypeCounter},
		{Name: "redis_client_query_buffer_limit_disconnections_total", Type: TypeCounter},
		{Name: "redis_client_output_buffer_limit_disconnections_total", Type: TypeCounter},
		{Name: "redis_reply_buffer_shrinks_total", Type: TypeCounter},
		{Name: "redis_reply_buffer_expands_total", Type: TypeCounter},
		{Name: "redis_acl_access_denied_auth_total", Type: TypeCounter},
		{Name: "redis_acl_access_denied_cmd_total", Type: TypeCounter},
		{Name: "redis_acl_access_denied_key_total", Type: TypeCounter},
		{Name: "redis_acl_access_denied_channel_total", Type: TypeCounter},
		// INFO Replication.
		{Name: "redis_connected_slaves", Type: TypeGauge},
		{Name: "redis_master_repl_offset", Type: TypeGauge},
		{Name: "redis_second_repl_offset", Type: TypeGauge},
		{Name: "redis_repl_backlog_is_active", Type: TypeGauge},
		{Name: "redis_replication_backlog_bytes", Type: TypeGauge},
		{Name: "redis_repl_backlog_first_byte_offset", Type: TypeGauge},
		{Name: "redis_repl_backlog_history_bytes", Type: TypeGauge},
		{Name: "redis_slave_priority", Type: TypeGauge},
		{Name: "redis_connected_slave_offset_bytes", Type: TypeGauge, Labels: []string{"slave_ip", "slave_port", "slave_state"}}, // primaries
		{Name: "redis_connected_slave_lag_seconds", Type: TypeGauge, Labels: []string{"slave_ip", "slave_port", "slave_state"}},  // primaries
		{Name: "redis_master_link_up", Type: TypeGauge, Labels: []string{"master_host", "master_port"}},                          // replicas
		{Name: "redis_master_last_io_seconds_ago", Type: TypeGauge, Labels: []string{"master_host", "master_port"}},              // replicas
		{Name: "redis_master_sync_in_progress", Type: TypeGauge, Labels: []string{"master_host", "master_port"}},                 // replicas
		{Name: "redis_slave_repl_offset", Type: TypeGauge, Labels: []string{"master_host", "master_port"}},                       // replicas
		// INFO CPU.
		{Name: "redis_cpu_sys_seconds_total", Type: TypeCounter},
		{Name: "redis_cpu_user_seconds_total", Type: TypeCounter},
		{Name: "redis_cpu_sys_children_seconds_total", Type: TypeCounter},
		{Name: "redis_cpu_user_children_seconds_total", Type: TypeCounter},
		{Name: "redis_cpu_sys_main_thread_seconds_total", Type: TypeCounter},
		{Name: "redis_cpu_user_main_thread_seconds_total", Type: TypeCounter},
		// INFO Cluster, Errorstats, Commandstats, Latencystats, Keyspace.
		{Name: "redis_cluster_enabled", Type: TypeGauge},
		{Name: "redis_errors_total", Type: TypeCounter, Labels: []string{"err"}},
		{Name: "redis_commands_total", Type: TypeCounter, Labels: []string{"cmd"}},
		{Name: "redis_commands_duration_seconds_total", Type: TypeCounter, Labels: []string{"cmd"}},
		{Name: "redis_commands_rejected_calls_total", Type: TypeCounter, Labels: []string{"cmd"}},
		{Name: "redis_commands_failed_calls_total", Type: TypeCounter, Labels: []string{"cmd"}},
		{Name: "redis_latency_percentiles_usec", Type: TypeSummary, Labels: []string{"cmd"}},
		// Cluster mode has database 0 only (the exporter sets dbCount to 1);
		// 7.4's keyspace line has a fourth field, subexpiry, which the
		// exporter parses as cached keys, so redis_db_keys_cached carries the
		// hash-field-expiry count.
		{Name: "redis_db_keys", Type: TypeGauge, Labels: []string{"db"}, Values: map[string][]string{"db": {"db0"}}},
		{Name: "redis_db_keys_expiring", Type: TypeGauge, Labels: []string{"db"}, Values: map[string][]string{"db": {"db0"}}},
		{Name: "redis_db_avg_ttl_seconds", Type: TypeGauge, Labels: []string{"db"}, Values: map[string][]string{"db": {"db0"}}},
		{Name: "redis_db_keys_cached", Type: TypeGauge, Labels: []string{"db"}, Values: map[string][]string{"db": {"db0"}}},
		// LATENCY HISTOGRAM and LATENCY LATEST (the spikes need latency-monitor-threshold > 0).
		{Name: "redis_commands_latencies_usec", Type: TypeHistogram, Labels: []string{"cmd"}},
		{Name: "redis_latency_spike_last", Type: TypeGauge, Labels: []string{"event_name"}},
		{Name: "redis_latency_spike_duration_seconds", Type: TypeGauge, Labels: []string{"event_name"}},
		// CONFIG GET * (always read; config_key_value/config_value need include-config-metrics).
		{Name: "redis_config_io_threads", Type: TypeGauge},
		{Name: "redis_config_maxclients", Type: TypeGauge},
		{Name: "redis_config_maxmemory", Type: TypeGauge},
		{Name: "redis_config_client_output_buffer_limit_bytes", Type: TypeGauge, Labels: []string{"class", "limit"}, Values: map[string][]string{
			"class": {"normal", "slave", "pubsub"}, "limit": {"hard", "soft"},
		}},
		{Name: "redis_config_client_output_buffer_limit_overcome_seconds", Type: TypeGauge, Labels: []string{"class", "limit"}, Values: map[string][]string{
			"class": {"normal", "slave", "pubsub"}, "limit": {"soft"},
		}},
		// SLOWLOG.
		{Name: "redis_slowlog_length", Type: TypeGauge},
		{Name: "redis_slowlog_last_id", Type: TypeGauge},
		{Name: "redis_last_slow_execution_duration_seconds", Type: TypeGauge},
		// CLUSTER INFO (every cluster_ field, gauges; cluster_state ok=1, fail=0).
		{Name: "redis_cluster_state", Type: TypeGauge},
		{Name: "redis_cluster_slots_assigned", Type: TypeGauge},
		{Name: "redis_cluster_slots_ok", Type: TypeGauge},
		{Name: "redis_cluster_slots_pfail", Type: TypeGauge},
		{Name: "redis_cluster_slots_fail", Type: TypeGauge},
		{Name: "redis_cluster_known_nodes", Type: TypeGauge},
		{Name: "redis_cluster_size", Type: TypeGauge},
		{Name: "redis_cluster_current_epoch", Type: TypeGauge},
		{Name: "redis_cluster_my_epoch", Type: TypeGauge},
		{Name: "redis_cluster_messages_sent_total", Type: TypeGauge},
		{Name: "redis_cluster_messages_received_total", Type: TypeGauge},
		// Per message type, present once that type's count is non-zero
		// ("auth-req"/"auth-ack" sanitised to auth_req/auth_ack).
		{Name: "redis_cluster_stats_messages_ping_sent", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_ping_received", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_pong_sent", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_pong_received", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_meet_sent", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_meet_received", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_fail_sent", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_fail_received", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_publish_sent", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_publish_received", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_publishshard_sent", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_publishshard_received", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_auth_req_sent", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_auth_req_received", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_auth_ack_sent", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_auth_ack_received", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_update_sent", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_update_received", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_mfstart_sent", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_mfstart_received", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_module_sent", Type: TypeGauge},
		{Name: "redis_cluster_stats_messages_module_received", Type: TypeGauge},
	},
}

// ClusterAutoscaler is kubernetes/autoscaler cluster-autoscaler 1.35.0
// (metrics on :8085/metrics, served by component-base's legacyregistry
// handler): every cluster_autoscaler_* family of metrics/metrics.go and the
// AWS provider's request histogram. The five node_group_* per-group
// families need --emit-per-nodegroup-metrics (default false).
// InitMetrics pre-creates the errors_total types, the scaled_down and
// failed_scale_ups reasons cloudProviderError, apiCallError and timeout,
// both eviction results and the four skipped_scale_events series.
//
// Job label: chart cluster-autoscaler 9.59.0's ServiceMonitor
// (templates/servicemonitor.yaml, off unless serviceMonitor.enabled) sets
// no jobLabel and no default relabelings, so the Prometheus Operator's
// default applies: job = the scraped Service's name, which is the chart's
// "cluster-autoscaler.fullname": fullnameOverride if set, otherwise
// "<release>-<name>" with name = nameOverride or
// "<cloudProvider>-cluster-autoscaler" (cloudProvider defaults to aws), or
// just name when it equals the release name. With release
// "cluster-autoscaler" and default values the job is
// "cluster-autoscaler-aws-cluster-autoscaler"; set fullnameOverride (e.g.
// "cluster-autoscaler") for a stable job label. The endpoint is port "http"
// (8085), path /metrics, interval 10s.
var ClusterAutoscaler = Exporter{
	Name:    "cluster-autoscaler",
	Version: "1.35.0",
	Source: "github.com/kubernetes/autoscaler@cluster-autoscaler-1.35.0: cluster-autoscaler/metrics/metrics.go, " +
		"cluster-autoscaler/metrics/legacy_functions.go, cluster-autoscaler/cloudprovider/aws/aws_metrics.go, " +
		"cluster-autoscaler/utils/errors/errors.go, cluster-autoscaler/simulator/cluster.go, " +
		"cluster-autoscaler/processors/podinjection/enforce_injected_pods_limit_processor.go, " +
		"cluster-autoscaler/core/scaledown/actuation/delete_in_batch.go, cluster-autoscaler/config/flags/flags.go, " +
		"cluster-autoscaler/main.go; chart cluster-autoscaler 9.59.0 (/work/shared/charts/cluster-autoscaler-9.59.0.tgz): " +
		"templates/servicemonitor.yaml, templates/service.yaml, templates/_helpers.tpl, values.yaml; " +
		"github.com/prometheus-operator/prometheus-operator@v0.93.1 pkg/prometheus/promcfg.go (job relabeling)",
	Metrics: []Metric{
		// Cluster state.
		{Name: "cluster_autoscaler_cluster_safe_to_autoscale", Type: TypeGauge},
		{Name: "cluster_autoscaler_nodes_count", Type: TypeGauge, Labels: []string{"state"}, Values: map[string][]string{
			"state": {"ready", "unready", "notStarted", "longUnregistered", "unregistered"},
		}},
		{Name: "cluster_autoscaler_node_groups_count", Type: TypeGauge, Labels: []string{"node_group_type"}, Values: map[string][]string{
			"node_group_type": {"autoscaled", "autoprovisioned"},
		}},
		{Name: "cluster_autoscaler_unschedulable_pods_count", Type: TypeGauge, Labels: []string{"type"}, Values: map[string][]string{
			"type": {"unschedulable", "scheduler_unprocessed", "injected", "skipped_injection"},
		}},
		{Name: "cluster_autoscaler_max_nodes_count", Type: TypeGauge},
		{Name: "cluster_autoscaler_cluster_cpu_current_cores", Type: TypeGauge},
		{Name: "cluster_autoscaler_cpu_limits_cores", Type: TypeGauge, Labels: []string{"direction"}, Values: map[string][]string{
			"direction": {"minimum", "maximum"},
		}},
		{Name: "cluster_autoscaler_cluster_memory_current_bytes", Type: TypeGauge},
		{Name: "cluster_autoscaler_memory_limits_bytes", Type: TypeGauge, Labels: []string{"direction"}, Values: map[string][]string{
			"direction": {"minimum", "maximum"},
		}},
		{Name: "cluster_autoscaler_node_group_min_count", Type: TypeGauge, Labels: []string{"node_group"}},                // --emit-per-nodegroup-metrics
		{Name: "cluster_autoscaler_node_group_max_count", Type: TypeGauge, Labels: []string{"node_group"}},                // --emit-per-nodegroup-metrics
		{Name: "cluster_autoscaler_node_group_target_count", Type: TypeGauge, Labels: []string{"node_group"}},             // --emit-per-nodegroup-metrics
		{Name: "cluster_autoscaler_node_group_healthiness", Type: TypeGauge, Labels: []string{"node_group"}},              // --emit-per-nodegroup-metrics
		{Name: "cluster_autoscaler_node_group_backoff_status", Type: TypeGauge, Labels: []string{"node_group", "reason"}}, // --emit-per-nodegroup-metrics
		// Autoscaler execution.
		{Name: "cluster_autoscaler_last_activity", Type: TypeGauge, Labels: []string{"activity"}, Values: map[string][]string{"activity": {
			"scaleDown", "scaleDown:nodeDeletion", "scaleDown:softTaintUnneeded", "scaleUp", "scaleUp:buildPodEquivalenceGroups",
			"scaleUp:estimate", "findUnneeded", "updateClusterState", "filterOutSchedulable", "cloudProviderRefresh", "main",
			"mainSuccessful", "poll", "reconfigure", "autoscaling", "loopWait",
			"bulkListInstances:listAllInstances", "bulkListInstances:listMigInstances",
		}}},
		{Name: "cluster_autoscaler_function_duration_seconds", Type: TypeHistogram, Labels: []string{"function"}, Values: map[string][]string{"function": {
			"scaleDown", "scaleDown:nodeDeletion", "scaleDown:softTaintUnneeded", "scaleUp", "scaleUp:buildPodEquivalenceGroups",
			"scaleUp:estimate", "findUnneeded", "updateClusterState", "filterOutSchedulable", "cloudProviderRefresh", "main",
			"mainSuccessful", "poll", "reconfigure", "autoscaling", "loopWait",
			"bulkListInstances:listAllInstances", "bulkListInstances:listMigInstances",
		}}},
		{Name: "cluster_autoscaler_function_duration_quantile_seconds", Type: TypeSummary, Labels: []string{"function"}, Values: map[string][]string{"function": {
			"scaleDown", "scaleDown:nodeDeletion", "scaleDown:softTaintUnneeded", "scaleUp", "scaleUp:buildPodEquivalenceGroups",
			"scaleUp:estimate", "findUnneeded", "updateClusterState", "filterOutSchedulable", "cloudProviderRefresh", "main",
			"mainSuccessful", "poll", "reconfigure", "autoscaling", "loopWait",
			"bulkListInstances:listAllInstances", "bulkListInstances:listMigInstances",
		}}},
		{Name: "cluster_autoscaler_pending_node_deletions", Type: TypeGauge},
		// Autoscaler operations.
		{Name: "cluster_autoscaler_errors_total", Type: TypeCounter, Labels: []string{"type"}, Values: map[string][]string{"type": {
			"cloudProviderError", "apiCallError", "internalError", "transientError", "configurationError",
			"nodeGroupDoesNotExistError", "unexpectedScaleDownStateError",
		}}},
		{Name: "cluster_autoscaler_scaled_up_nodes_total", Type: TypeCounter},
		{Name: "cluster_autoscaler_scaled_up_gpu_nodes_total", Type: TypeCounter, Labels: []string{"gpu_resource_name", "gpu_name"}},
		// reason: timeout, an AutoscalerErrorType, or a cloud provider's instance error code.
		{Name: "cluster_autoscaler_failed_scale_ups_total", Type: TypeCounter, Labels: []string{"reason"}},
		{Name: "cluster_autoscaler_failed_gpu_scale_ups_total", Type: TypeCounter, Labels: []string{"reason", "gpu_resource_name", "gpu_name"}},
		{Name: "cluster_autoscaler_scaled_down_nodes_total", Type: TypeCounter, Labels: []string{"reason"}, Values: map[string][]string{
			// underutilized, empty, unready are recorded; the other three are only pre-created at 0 by InitMetrics.
			"reason": {"underutilized", "empty", "unready", "cloudProviderError", "apiCallError", "timeout"},
		}},
		{Name: "cluster_autoscaler_scaled_down_gpu_nodes_total", Type: TypeCounter, Labels: []string{"reason", "gpu_resource_name", "gpu_name"}, Values: map[string][]string{
			"reason": {"underutilized", "empty", "unready"},
		}},
		{Name: "cluster_autoscaler_evicted_pods_total", Type: TypeCounter, Labels: []string{"eviction_result"}, Values: map[string][]string{
			"eviction_result": {"succeeded", "failed"},
		}},
		{Name: "cluster_autoscaler_unneeded_nodes_count", Type: TypeGauge},
		// reason is simulator.UnremovableReason printed with %v: its integer (NoReason=0 … NoNodeInfo=17).
		{Name: "cluster_autoscaler_unremovable_nodes_count", Type: TypeGauge, Labels: []string{"reason"}, Values: map[string][]string{
			"reason": {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17"},
		}},
		{Name: "cluster_autoscaler_scale_down_in_cooldown", Type: TypeGauge},
		{Name: "cluster_autoscaler_old_unregistered_nodes_removed_count", Type: TypeCounter}, // counter without _total
		{Name: "cluster_autoscaler_overflowing_controllers_count", Type: TypeGauge},
		{Name: "cluster_autoscaler_skipped_scale_events_count", Type: TypeCounter, Labels: []string{"direction", "reason"}, Values: map[string][]string{ // counter without _total
			"direction": {"up", "down"}, "reason": {"CpuResourceLimit", "MemoryResourceLimit"},
		}},
		{Name: "cluster_autoscaler_created_node_groups_total", Type: TypeCounter, Labels: []string{"group_type"}},
		{Name: "cluster_autoscaler_deleted_node_groups_total", Type: TypeCounter, Labels: []string{"group_type"}},
		{Name: "cluster_autoscaler_node_taints_count", Type: TypeGauge, Labels: []string{"type"}},
		{Name: "cluster_autoscaler_inconsistent_instances_migs_count", Type: TypeGauge},
		{Name: "cluster_autoscaler_binpacking_heterogeneity", Type: TypeHistogram, Labels: []string{"instance_type", "cpu_count", "namespace_count"}},
		{Name: "cluster_autoscaler_max_node_skip_eval_duration_seconds", Type: TypeGauge},
		{Name: "cluster_autoscaler_node_removal_latency_seconds", Type: TypeHistogram, Labels: []string{"deleted"}, Values: map[string][]string{
			"deleted": {"true", "false"},
		}},
		// AWS cloud provider (registered when the AWS provider is built); status is "success", "error" or an AWS API error code.
		{Name: "cluster_autoscaler_aws_request_duration_seconds", Type: TypeHistogram, Labels: []string{"endpoint", "status"}},
	},
}
