// Package pgconf is the PostgreSQL configuration of the T.A.R.S. database:
// the postgresql.parameters the CloudNativePG Cluster sets, derived from the
// seed's settings and the instance size. It has no Pulumi dependency, so a
// real PostgreSQL server test can start a server with exactly these values.
package pgconf

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Seed 003 "PostgreSQL WAL Replication" settings.
const (
	// WalLevel: the seed's wal_level. CloudNativePG defaults to logical;
	// replica is what physical streaming and archiving need.
	WalLevel = "replica"
	// MaxWalSenders and MaxReplicationSlots: the seed's 10 each, enough for
	// the two local standbys, the remote region's designated primary,
	// pg_basebackup and the operator's own connections.
	MaxWalSenders       = 10
	MaxReplicationSlots = 10
)

// Sizing is what the memory settings are derived from.
type Sizing struct {
	// MemoryMB is the instance's memory limit (= request).
	MemoryMB int
	// MaxConnections is max_connections.
	MaxConnections int
	// RemoteApply makes commits wait until the remote region has applied
	// them (the seed's synchronous_commit remote_apply; opt-in, see
	// components/postgres.Args.CrossRegionSynchronous).
	RemoteApply bool
}

// SharedBuffersMB is a quarter of the memory limit, PostgreSQL's
// recommendation for a dedicated server; the rest is the OS page cache
// (effective_cache_size) and per-query work_mem.
func (s Sizing) SharedBuffersMB() int { return s.MemoryMB / 4 }

// Parameters returns postgresql.parameters of the Cluster. Every value is a
// string, as the CRD wants it; every name is one PostgreSQL 15 to 18 accepts
// (a real server test starts PostgreSQL with all of them).
func Parameters(s Sizing) map[string]string {
	mb := func(v int) string { return strconv.Itoa(v) + "MB" }
	p := map[string]string{
		// Seed 003.
		"wal_level":             WalLevel,
		"max_wal_senders":       strconv.Itoa(MaxWalSenders),
		"max_replication_slots": strconv.Itoa(MaxReplicationSlots),
		// Keep enough WAL for a standby that reconnects after a short
		// network blip to resume streaming instead of reading the archive,
		// and cap what a replication slot of a lost standby may hold, so it
		// can never fill the volume (the archive covers the rest).
		"wal_keep_size":                "2GB",
		"max_slot_wal_keep_size":       "20GB",
		"hot_standby_feedback":         "on",
		"wal_compression":              "zstd",
		"wal_log_hints":                "on",
		"max_wal_size":                 "4GB",
		"min_wal_size":                 "1GB",
		"checkpoint_timeout":           "15min",
		"checkpoint_completion_target": "0.9",
		// A WAL segment is archived at least every minute even when
		// writes are few: the recovery point objective when only the
		// archive is left (streaming is the < 5 s path).
		"archive_timeout": "60s",
		// Memory: a quarter for shared buffers, three quarters are the
		// page cache the planner may count on.
		"max_connections":      strconv.Itoa(s.MaxConnections),
		"shared_buffers":       mb(s.SharedBuffersMB()),
		"effective_cache_size": mb(s.MemoryMB * 3 / 4),
		"work_mem":             mb(max(4, s.MemoryMB/4/s.MaxConnections)),
		"maintenance_work_mem": mb(min(2048, s.MemoryMB/16)),
		// gp3 volumes: SSD costs and concurrency.
		"random_page_cost":         "1.1",
		"effective_io_concurrency": "200",
		// Seed 000 slow-query alerting: statements over a second are
		// logged, every statement is counted by pg_stat_statements
		// (CloudNativePG preloads the library when its settings are set).
		"log_min_duration_statement":          "1000",
		"log_lock_waits":                      "on",
		"log_checkpoints":                     "on",
		"log_autovacuum_min_duration":         "10s",
		"track_io_timing":                     "on",
		"pg_stat_statements.max":              "10000",
		"pg_stat_statements.track":            "all",
		"idle_in_transaction_session_timeout": "10min",
		// Commits wait for the local synchronous standby (the quorum
		// components/postgres sets); remote_apply only in the opt-in
		// cross-region synchronous mode.
		"synchronous_commit": "on",
	}
	if s.RemoteApply {
		p["synchronous_commit"] = "remote_apply"
	}
	return p
}

// PreloadLibraries are the libraries CloudNativePG adds to
// shared_preload_libraries because a parameter of theirs is set
// (pkg/postgres/configuration.go ManagedExtensions, v1.30.0): a plain
// server needs the same to accept those parameters.
func PreloadLibraries(params map[string]string) []string {
	var libs []string
	for _, lib := range []string{"pg_stat_statements", "auto_explain", "pg_failover_slots"} {
		for name := range params {
			if strings.HasPrefix(name, lib+".") {
				libs = append(libs, lib)
				break
			}
		}
	}
	return libs
}

// CNPGManaged are the parameters CloudNativePG 1.30.0 fixes or blocks
// (pkg/postgres/configuration.go: FixedConfigurationParameters and
// blockedConfigurationParameter entries): its admission webhook rejects a
// Cluster that sets any of them, so Parameters never does. archive_mode,
// archive_command, synchronous_standby_names, primary_conninfo and the SSL
// files are set by the operator from the Cluster spec.
var CNPGManaged = []string{
	"allow_system_table_mods", "archive_cleanup_command", "archive_command", "archive_mode", "bonjour", "bonjour_name",
	"cluster_name", "config_file", "data_directory", "data_sync_retry", "event_source", "external_pid_file",
	"hba_file", "hot_standby", "ident_file", "jit_provider", "listen_addresses", "log_destination",
	"log_directory", "log_file_mode", "log_filename", "log_rotation_age", "log_rotation_size",
	"log_truncate_on_rotation", "logging_collector", "pg_failover_slots.primary_dsn",
	"pg_failover_slots.standby_slot_names", "port", "primary_conninfo", "primary_slot_name",
	"promote_trigger_file", "recovery_end_command", "recovery_min_apply_delay", "recovery_target",
	"recovery_target_action", "recovery_target_inclusive", "recovery_target_lsn", "recovery_target_name",
	"recovery_target_time", "recovery_target_timeline", "recovery_target_xid", "restart_after_crash",
	"restore_command", "shared_preload_libraries", "ssl", "ssl_ca_file", "ssl_cert_file", "ssl_crl_file",
	"ssl_dh_params_file", "ssl_ecdh_curve", "ssl_key_file", "ssl_passphrase_command",
	"ssl_passphrase_command_supports_reload", "ssl_prefer_server_ciphers", "stats_temp_directory",
	"synchronized_standby_slots", "synchronous_standby_names", "syslog_facility", "syslog_ident",
	"syslog_sequence_numbers", "syslog_split_messages", "temp_tablespaces", "unix_socket_directories",
	"unix_socket_group", "unix_socket_permissions",
}

// Conf renders parameters as postgresql.conf lines, sorted, values quoted.
func Conf(params map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(params)) {
		fmt.Fprintf(&b, "%s = '%s'\n", k, strings.ReplaceAll(params[k], "'", "''"))
	}
	return b.String()
}
