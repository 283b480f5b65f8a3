package slo

import (
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
)

// The log alerts (seed 003 "Loki Log Aggregation", "Log Queries
// Configured"): LogQL rules Loki's ruler evaluates on the streams the
// Alloy pipeline ships, sending to the region's Alertmanager like the
// Prometheus rules. The seed names four conditions and their thresholds;
// the queries read the pipeline's labels (namespace, component, level).
//
// What the seed leaves open, decided here:
//   - "errors" are lines the pipeline labelled level="ERROR" or
//     "CRITICAL" (the services' Python logging levels), counted per
//     component so the alert names the service;
//   - the other three match the services' log messages case-insensitively
//     (the messages are the T.A.R.S. logging contract, AppContract's
//     counterpart for logs: LogMessages).

// LogNamespace is where the T.A.R.S. services log from.
const LogNamespace = "tars"

// LogMessages are the log lines (regular expressions, case-insensitive)
// the services write for the conditions the log alerts count.
var LogMessages = struct {
	RAGQueryFailed, AuthFailed, DBConnectionError string
}{
	RAGQueryFailed:    `rag (query|retrieval) failed`,
	AuthFailed:        `(authentication failed|invalid (token|credentials)|login failed)`,
	DBConnectionError: `(could not connect to server|connection refused|too many (connections|clients)|connection (reset|timed out)|OperationalError)`,
}

// LogLine is one synthetic log line of a fixture stream.
type LogLine struct {
	// Labels are the stream's labels, as the pipeline sets them.
	Labels map[string]string
	// Line is the log line.
	Line string
	// Every is how often the line is written.
	Every time.Duration
}

// LogFixture is synthetic log traffic over FixtureDuration: each line
// written once every Every.
type LogFixture []LogLine

// LogAlert is a LogQL alert: Query is a LogQL metric query; Firing and
// Healthy of the embedded Alert are unused (the fixtures are logs).
type LogAlert struct {
	Alert
	FiringLogs, HealthyLogs LogFixture
}

// LogGroup is a group of log alerts.
type LogGroup struct {
	Name   string
	Source string
	Alerts []LogAlert
}

func tarsLine(component, level, line string, every time.Duration) LogLine {
	return LogLine{Labels: map[string]string{"namespace": LogNamespace, "component": component, "level": level}, Line: line, Every: every}
}

// LogGroups are the log alert groups.
func LogGroups() []LogGroup {
	countOf := func(selector, filter string) string {
		if filter != "" {
			filter = ` |~ "(?i)` + filter + `"`
		}
		return `sum by (namespace, component) (count_over_time(` + selector + filter + ` [5m]))`
	}
	g := LogGroup{Name: "tars-logs", Source: "003 Loki \"Log Queries Configured\"", Alerts: []LogAlert{
		{
			Alert: Alert{
				Name: "HighErrorLogRate", Query: countOf(`{namespace="`+LogNamespace+`", level=~"ERROR|CRITICAL"}`, ""), Op: Above, Threshold: 10, For: 0,
				Severity: P2, Team: "sre", Runbook: "high-error-log-rate", Dashboard: "tars-overview",
				Summary: "{{ $labels.component }} logged {{ $value }} errors in 5 minutes", Description: "More than 10 ERROR lines in 5 minutes",
				Source: "003 \"High error rate detection (>10 errors/5m)\"",
			},
			FiringLogs:  LogFixture{tarsLine("tars-backend", "ERROR", "request failed: upstream timeout", 20*time.Second)},
			HealthyLogs: LogFixture{tarsLine("tars-backend", "ERROR", "request failed: upstream timeout", time.Minute), tarsLine("tars-backend", "INFO", "request served", 100*time.Millisecond)},
		},
		{
			Alert: Alert{
				Name: "RAGQueryFailures", Query: countOf(`{namespace="`+LogNamespace+`"}`, LogMessages.RAGQueryFailed), Op: Above, Threshold: 1, For: 0,
				Severity: P2, Team: "ml-engineering", Runbook: "rag-query-failures", Dashboard: "tars-rag",
				Summary: "{{ $value }} RAG query failures in 5 minutes ({{ $labels.component }})", Description: "More than 1 RAG query failure in 5 minutes",
				Source: "003 \"RAG query failures (>1 failure/5m)\"",
			},
			FiringLogs:  LogFixture{tarsLine("tars-rag-service", "ERROR", "RAG query failed: vector store unavailable", time.Minute)},
			HealthyLogs: LogFixture{tarsLine("tars-rag-service", "INFO", "RAG query served in 0.42s", time.Second), tarsLine("tars-rag-service", "ERROR", "RAG query failed: vector store unavailable", 6*time.Minute)},
		},
		{
			Alert: Alert{
				Name: "AuthenticationFailures", Query: countOf(`{namespace="`+LogNamespace+`"}`, LogMessages.AuthFailed), Op: Above, Threshold: 5, For: 0,
				Severity: P2, Team: "sre", Runbook: "authentication-failures", Dashboard: "tars-overview",
				Summary: "{{ $value }} authentication failures in 5 minutes ({{ $labels.component }})", Description: "More than 5 authentication failures in 5 minutes: credential stuffing or a broken identity provider",
				Source: "003 \"Authentication failures (>5 failures/5m)\"",
			},
			FiringLogs:  LogFixture{tarsLine("tars-backend", "WARNING", "Authentication failed for user 4711: invalid token", 30*time.Second)},
			HealthyLogs: LogFixture{tarsLine("tars-backend", "WARNING", "Authentication failed for user 4711: invalid token", 90*time.Second), tarsLine("tars-backend", "INFO", "authentication succeeded", 500*time.Millisecond)},
		},
		{
			Alert: Alert{
				Name: "DatabaseConnectionErrors", Query: countOf(`{namespace="`+LogNamespace+`"}`, LogMessages.DBConnectionError), Op: Above, Threshold: 2, For: 0,
				Severity: P1, Team: "sre", Runbook: "database-connection-errors", Dashboard: "tars-database",
				Summary: "{{ $value }} database connection errors in 5 minutes ({{ $labels.component }})", Description: "More than 2 database connection errors in 5 minutes",
				Source: "003 \"Database connection errors (>2 errors/5m)\"",
			},
			FiringLogs: LogFixture{tarsLine("tars-backend", "ERROR", `sqlalchemy.exc.OperationalError: connection to server at "tars-pg-us-east-rw" failed: Connection refused`, time.Minute)},
			HealthyLogs: LogFixture{tarsLine("tars-backend", "INFO", "database pool: 12 connections in use", time.Second),
				tarsLine("tars-backend", "ERROR", `sqlalchemy.exc.OperationalError: connection to server at "tars-pg-us-east-rw" failed: Connection refused`, 3*time.Minute)},
		},
	}}
	for i := range g.Alerts {
		g.Alerts[i].Group = g.Name
	}
	return []LogGroup{g}
}

// LogAlerts returns every log alert.
func LogAlerts() []LogAlert {
	var out []LogAlert
	for _, g := range LogGroups() {
		out = append(out, g.Alerts...)
	}
	return out
}

// LokiRuleGroups renders the log alerts as Loki ruler groups (Loki reads
// Prometheus's rule file format with LogQL expressions).
func LokiRuleGroups() []rulefmt.RuleGroup {
	var out []rulefmt.RuleGroup
	for _, g := range LogGroups() {
		rg := rulefmt.RuleGroup{Name: g.Name, Interval: model.Duration(time.Minute)}
		for _, a := range g.Alerts {
			rg.Rules = append(rg.Rules, rulefmt.Rule{
				Alert: a.Name, Expr: a.Expr(), For: model.Duration(a.For), Labels: a.Labels(), Annotations: a.Annotations(),
			})
		}
		out = append(out, rg)
	}
	return out
}
