package verify

// Checks is the checklist, in the order it runs and is reported: seed
// 003's "Validation & Testing" (metrics, alerts, logs, traces, Postgres
// replication, the Redis Cluster, GeoDNS, Kubecost, VPA, the autoscaler)
// plus the Thanos store's recent blocks.
func Checks() []Check {
	return []Check{
		PrometheusTargets(),
		PrometheusRules(),
		Alerts(),
		ThanosBlocks(),
		LokiLogs(),
		JaegerTraces(),
		PostgresStandbys(),
		PostgresReplication(),
		RedisCluster(),
		Route53Health(),
		GlobalName(),
		KubecostAllocation(),
		VPARecommendations(),
		AutoscalerStatus(),
	}
}
