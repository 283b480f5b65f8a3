package tests

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/tars-platform/infra/slo"
)

// The alert catalog, pinned by name in a reviewed list: deleting or
// renaming an alert fails here, and so does adding one without adding it
// to the list. Change the list in the same review as the catalog. It is
// the full catalog (every optional feature on, slo.AllFeatures).
var reviewedPrometheusAlerts = []string{
	"AvailabilityBelowSLO", "AvailabilityCritical", "ChromaDBDown", "ChromaDBSnapshotStale", "ClusterAutoscalerDown",
	"ClusterAutoscalerErrors", "ClusterAutoscalerFailedScaleUps", "ClusterNearMaxSize",
	"ContainerOOMKilled", "CriticalAPILatency", "CriticalAPILatencyP99", "CriticalErrorRate",
	"CriticalTraceCoverage", "DatabaseConnectionErrors", "DatabaseConnectionPoolCritical",
	"DatabaseConnectionPoolHigh", "DatabaseDown", "DiskSpaceHigh", "DocumentProcessingFailures",
	"DocumentQueueBacklog", "ElevatedErrorRate", "High4xxErrorRate", "High5xxErrorRate",
	"HighAPILatency", "HighEmbeddingLatency", "HighErrorRate", "HighGPUMemoryUsage",
	"HighGPUTemperature", "HighLLMInferenceErrorRatio", "HighLLMInferenceLatency", "HighNodeCPUUsage",
	"HighNodeMemoryUsage", "HighPodRestartRate", "HighRAGQueryErrorRatio", "HighRAGQueryLatency",
	"HighReplicationLag", "HighVectorSearchLatency", "HighWebSocketDisconnectionRate",
	"LLMServiceDown", "LowEmbeddingCacheHitRate", "LowTraceCoverage", "NodeNotReady",
	"PPOMemoryCritical", "PPOMemoryHigh", "PPOMemoryLeak", "PodCrashLooping", "PodNotReady",
	"PostgreSQLDeadlocks", "PostgreSQLWALArchivingFailing", "PrometheusActiveSeriesNearCeiling",
	"RAGQueryFailures", "RedisClusterStateNotOK", "RedisDown", "RedisMemoryHigh", "RegionDown",
	"ServiceDown", "SlowDatabaseQueries", "SlowGrafanaDashboard", "ThanosCompactorHalted",
	"UnschedulablePods", "VeryHighRAGQueryLatency", "VeryHighReplicationLag",
	"VerySlowGrafanaDashboard", "WebSocketReconnectionFailures",
}

// reviewedLogAlerts are seed 003's four LogQL alerts (Loki ruler).
var reviewedLogAlerts = []string{
	"AuthenticationFailures", "DatabaseConnectionErrors", "HighErrorLogRate", "RAGQueryFailures",
}

func TestAlertCatalogIsTheReviewedList(t *testing.T) {
	var prom []string
	for _, g := range slo.RuleGroupsFor(slo.AllFeatures) {
		for _, r := range g.Rules {
			if r.Alert != "" {
				prom = append(prom, r.Alert)
			}
		}
	}
	slices.Sort(prom)
	assert.Equal(t, reviewedPrometheusAlerts, prom, "the catalog's Prometheus alerts")
	assert.Len(t, prom, 64)
	var logs []string
	for _, a := range slo.LogAlerts() {
		logs = append(logs, a.Name)
	}
	slices.Sort(logs)
	assert.Equal(t, reviewedLogAlerts, logs, "the catalog's LogQL alerts")
}

// TestAlertCatalogWithoutGPU: a stack without the GPU pool (the default
// features) renders the reviewed list minus exactly the alerts reading the
// DCGM exporter's metrics.
func TestAlertCatalogWithoutGPU(t *testing.T) {
	var prom []string
	for _, g := range slo.RuleGroupsFor(slo.Features{}) {
		for _, r := range g.Rules {
			if r.Alert != "" {
				prom = append(prom, r.Alert)
			}
		}
	}
	slices.Sort(prom)
	want := slices.DeleteFunc(slices.Clone(reviewedPrometheusAlerts), func(n string) bool {
		return n == "HighGPUMemoryUsage" || n == "HighGPUTemperature"
	})
	assert.Equal(t, want, prom, "GPU off: the reviewed list without the two GPU alerts")
	assert.Len(t, prom, 62)
	var def []string
	for _, g := range slo.RuleGroups() {
		for _, r := range g.Rules {
			if r.Alert != "" {
				def = append(def, r.Alert)
			}
		}
	}
	slices.Sort(def)
	assert.Equal(t, prom, def, "the zero-argument catalog is the default features' (no GPU)")
}
