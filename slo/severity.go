// Package slo is the single source of truth for what T.A.R.S. promises and
// what pages people: the SLO catalog of the v1.0.1 monitoring plan (seed
// 000), the severity table P0–P4, and the alert catalog of both seeds (the
// plan's rules, Phase 7's alert groups, the Cluster Autoscaler and
// replication-lag alerts), each alert with the synthetic series that make it
// fire and stay silent. It is plain Go: components render it into
// PrometheusRules, dashboards and Alertmanager routes, and the policy pack
// reads its thresholds instead of restating them.
package slo

import "time"

// Severity is an incident severity of the monitoring plan.
type Severity string

// The plan's severities.
const (
	P0 Severity = "P0" // critical outage, customer impact
	P1 Severity = "P1" // major degradation, partial impact
	P2 Severity = "P2" // moderate issue, minimal impact
	P3 Severity = "P3" // minor issue, no customer impact
	P4 Severity = "P4" // informational, log only
)

// SeverityTarget is one row of the plan's severity and response-time tables.
// A zero duration means no target ("best effort" / "N/A").
type SeverityTarget struct {
	Severity    Severity
	Description string
	Escalation  string
	// Acknowledgement, Response and Resolution are the plan's "Response Time
	// Targets" (acknowledgment, initial response, resolution target).
	Acknowledgement time.Duration
	Response        time.Duration
	Resolution      time.Duration
	// Pages is whether the severity pages (PagerDuty) rather than notifies.
	Pages bool
}

// Severities is the plan's table, P0 first.
var Severities = []SeverityTarget{
	{P0, "Critical outage, customer impact", "Immediate, all hands", 5 * time.Minute, 15 * time.Minute, time.Hour, true},
	{P1, "Major degradation, partial impact", "On-call SRE + Lead", 10 * time.Minute, 30 * time.Minute, 4 * time.Hour, true},
	{P2, "Moderate issue, minimal impact", "On-call SRE", 30 * time.Minute, 2 * time.Hour, 24 * time.Hour, false},
	{P3, "Minor issue, no customer impact", "Best effort", 2 * time.Hour, 24 * time.Hour, 0, false},
	{P4, "Informational, no action required", "Log only", 0, 0, 0, false},
}

// Target returns the row of a severity.
func Target(s Severity) (SeverityTarget, bool) {
	for _, t := range Severities {
		if t.Severity == s {
			return t, true
		}
	}
	return SeverityTarget{}, false
}

// Pipeline timings that decide how fast an alert can page (seed 000
// "Metrics Collection"; evaluation and group_wait are the platform's).
const (
	// ScrapeInterval is how often Prometheus scrapes targets.
	ScrapeInterval = 15 * time.Second
	// EvaluationInterval is how often every rule group is evaluated
	// (seed 000 prometheus.yml: evaluation_interval 15s).
	EvaluationInterval = 15 * time.Second
	// GroupWait is Alertmanager's wait before the first notification of a group.
	GroupWait = 30 * time.Second
	// GroupInterval and RepeatInterval pace follow-up notifications.
	GroupInterval  = 5 * time.Minute
	RepeatInterval = 4 * time.Hour
)

// TimeToPage is an alert's worst case from the condition becoming true to
// the first notification: one scrape to see it, one evaluation to notice it,
// the `for` hold, then Alertmanager's group_wait.
func TimeToPage(hold time.Duration) time.Duration {
	return ScrapeInterval + EvaluationInterval + hold + GroupWait
}

// Platform settings the monitoring stack must carry (seed 000 "Metrics
// Collection", "Trace Collection"; seed 003 Loki, PostgreSQL, GeoDNS).
const (
	PrometheusRetention     = 30 * 24 * time.Hour
	LongTermRetention       = 90 * 24 * time.Hour
	PrometheusReplicas      = 2
	PrometheusVolumeGiB     = 100
	ActiveSeriesCeiling     = 10_000_000
	ActiveSeriesWarnRatio   = 0.8
	GrafanaReplicas         = 2
	GrafanaMaxDataPoints    = 1000
	AlertmanagerReplicas    = 3
	LokiRetention           = 720 * time.Hour
	BackupRetention         = 30 * 24 * time.Hour
	FailoverBudget          = 90 * time.Second
	ProductionTraceSampling = 1.0
	ReplicationLagTarget    = 5 * time.Second
	ClusterMinNodes         = 3
	ClusterMaxNodes         = 20
	ClusterNearMaxSizeRatio = 0.9
	// ChromaSnapshotMaxAge is when a stale newest ChromaDB snapshot
	// alerts: two missed 15-minute syncs (components/chromadb schedules).
	ChromaSnapshotMaxAge      = 30 * time.Minute
	AutoscalerUtilizationDown = 0.5
	// DailyBudgetUSD and MonthlyBudgetUSD: seed 003 "Budget Alerts".
	DailyBudgetUSD   = 50
	MonthlyBudgetUSD = 1000
)

// ProductionServices are the services traced at 100 % (seed 003 sampling).
var ProductionServices = []string{"tars-backend", "tars-rag-service"}

// GeoDNS failover (seed 003 "GeoDNS Configuration": "failover SLA < 90 s
// (detection < 30 s + ~60 s TTL)") and the platform's own target.
const (
	// FailoverDetectionSLA: the health checks must declare a region down
	// within this (request interval × failure threshold).
	FailoverDetectionSLA = 30 * time.Second
	// FailoverTarget is the worst case the platform aims for, well inside
	// the seed's FailoverBudget: detection plus what clients may still
	// have cached.
	FailoverTarget = 50 * time.Second
	// LoadBalancerAliasTTL is what Route 53 answers an alias record to a
	// load balancer with: the load balancer's own 60 s TTL.
	LoadBalancerAliasTTL = 60 * time.Second
)

// Route53FailoverWorstCase is the longest a client can still reach a dead
// region through a Route 53 record: the health checkers need interval ×
// failureThreshold to declare it unhealthy, then resolvers may serve the
// old answer for its TTL.
func Route53FailoverWorstCase(interval time.Duration, failureThreshold int, ttl time.Duration) time.Duration {
	return interval*time.Duration(failureThreshold) + ttl
}

// CloudflareFailoverWorstCase is the same for a proxied Cloudflare load
// balancer: clients resolve Cloudflare's own addresses, so nothing stale is
// cached; the monitor needs interval × consecutiveDown failed checks.
func CloudflareFailoverWorstCase(interval time.Duration, consecutiveDown int) time.Duration {
	return interval * time.Duration(consecutiveDown)
}

// ControlPlaneLogRetentionDays keeps the EKS control-plane logs (API
// calls, the audit trail, authentication decisions) for 90 days: the
// cluster's default, and the least the policy pack accepts.
const ControlPlaneLogRetentionDays = 90

// KMSDeletionWindowDays is every KMS key's pending-deletion window: the
// longest AWS allows, so a key scheduled for deletion by mistake (a
// destroy, a key leaving the program) stays recoverable that long (issue
// #25). The program sets it and the policy pack requires it.
const KMSDeletionWindowDays = 30
