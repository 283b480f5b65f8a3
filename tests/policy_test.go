package tests

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/policy/rules"
	"github.com/tars-platform/infra/tests/harness"
)

// fixture builds a policy resource from plain inputs (resource.MakeSecret
// values stay secret).
func fixture(typ, name string, props map[string]any) policyx.AnalyzerResource {
	return policyx.AnalyzerResource{
		Type: typ, Name: name, URN: "urn:pulumi:test::tars::" + typ + "::" + name,
		Properties: resource.FromResourcePropertyMap(resource.NewPropertyMapFromMap(props)),
	}
}

func dependsOn(r policyx.AnalyzerResource, input string, on policyx.AnalyzerResource) policyx.AnalyzerResource {
	if r.PropertyDependencies == nil {
		r.PropertyDependencies = map[string][]string{}
	}
	r.PropertyDependencies[input] = append(r.PropertyDependencies[input], on.URN)
	return r
}

func secret(s string) resource.PropertyValue {
	return resource.MakeSecret(resource.NewStringProperty(s))
}

// evaluate runs the whole pack and keeps the results of one policy.
func evaluate(t *testing.T, policy string, rs ...policyx.AnalyzerResource) []rules.Violation {
	t.Helper()
	pack, err := rules.Pack()
	require.NoError(t, err)
	all, err := rules.Evaluate(context.Background(), pack, rs)
	require.NoError(t, err)
	var out []rules.Violation
	for _, v := range all {
		if v.Policy == policy {
			out = append(out, v)
		}
	}
	return out
}

func container(name string, nonRoot bool, withLimits bool) map[string]any {
	c := map[string]any{"name": name, "image": "redis:7.4.2",
		"resources": map[string]any{"requests": map[string]any{"cpu": "250m", "memory": "2Gi"}}}
	if withLimits {
		c["resources"].(map[string]any)["limits"] = map[string]any{"cpu": "1", "memory": "2Gi"}
	}
	if nonRoot {
		c["securityContext"] = map[string]any{"runAsNonRoot": true}
	}
	return c
}

func statefulSet(name string, c map[string]any) policyx.AnalyzerResource {
	return fixture("kubernetes:apps/v1:StatefulSet", name, map[string]any{
		"metadata": map[string]any{"name": name, "namespace": "tars-data"},
		"spec": map[string]any{"template": map[string]any{
			"metadata": map[string]any{"labels": map[string]any{"app": name}},
			"spec":     map[string]any{"containers": []any{c}},
		}},
	})
}

func pdb(ns string, sel map[string]any) policyx.AnalyzerResource {
	return fixture("kubernetes:policy/v1:PodDisruptionBudget", "pdb-"+ns, map[string]any{
		"metadata": map[string]any{"namespace": ns},
		"spec":     map[string]any{"maxUnavailable": 1, "selector": map[string]any{"matchLabels": sel}},
	})
}

func bucketSet(kms, versioned, blocked, tls bool) []policyx.AnalyzerResource {
	b := fixture("aws:s3/bucketV2:BucketV2", "wal", map[string]any{})
	alg := "AES256"
	if kms {
		alg = "aws:kms"
	}
	status := "Suspended"
	if versioned {
		status = "Enabled"
	}
	effect := "Allow"
	if tls {
		effect = "Deny"
	}
	return []policyx.AnalyzerResource{b,
		dependsOn(fixture("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "wal", map[string]any{
			"rules": []any{map[string]any{"applyServerSideEncryptionByDefault": map[string]any{"sseAlgorithm": alg}}}}), "bucket", b),
		dependsOn(fixture("aws:s3/bucketVersioningV2:BucketVersioningV2", "wal", map[string]any{
			"versioningConfiguration": map[string]any{"status": status}}), "bucket", b),
		dependsOn(fixture("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "wal", map[string]any{
			"blockPublicAcls": true, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": blocked}), "bucket", b),
		dependsOn(fixture("aws:s3/bucketPolicy:BucketPolicy", "wal", map[string]any{
			"policy": `{"Statement":[{"Effect":"` + effect + `","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::wal/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`}), "bucket", b),
	}
}

func prometheusRelease(retention, scrape string, replicas, alertmanagers int) policyx.AnalyzerResource {
	return fixture("kubernetes:helm.sh/v3:Release", "kps", map[string]any{
		"chart": "kube-prometheus-stack",
		"values": map[string]any{
			"prometheus":   map[string]any{"prometheusSpec": map[string]any{"retention": retention, "scrapeInterval": scrape, "evaluationInterval": "15s", "replicas": replicas}},
			"alertmanager": map[string]any{"alertmanagerSpec": map[string]any{"replicas": alertmanagers}},
		},
	})
}

// withEvaluation sets a kube-prometheus-stack fixture's evaluation interval.
func withEvaluation(r policyx.AnalyzerResource, interval string) policyx.AnalyzerResource {
	props := resource.ToResourcePropertyMap(r.Properties).Mappable()
	props["values"].(map[string]any)["prometheus"].(map[string]any)["prometheusSpec"].(map[string]any)["evaluationInterval"] = interval
	r.Properties = resource.FromResourcePropertyMap(resource.NewPropertyMapFromMap(props))
	return r
}

// metricsStack is kube-prometheus-stack with (or without) the Thanos
// sidecar and replica label, and a Thanos release deduplicating on dedup
// with the compactor's raw retention.
func metricsStack(sidecar bool, dedup, raw string) []policyx.AnalyzerResource {
	spec := map[string]any{"replicaExternalLabelName": "prometheus_replica"}
	if sidecar {
		spec["thanos"] = map[string]any{"objectStorageConfig": map[string]any{"existingSecret": map[string]any{"name": "thanos-objstore", "key": "objstore.yml"}}}
	}
	kps := fixture("kubernetes:helm.sh/v3:Release", "kps", map[string]any{"chart": "kube-prometheus-stack", "values": map[string]any{"prometheus": map[string]any{"prometheusSpec": spec}}})
	thanos := fixture("kubernetes:helm.sh/v3:Release", "thanos", map[string]any{"chart": "thanos", "values": map[string]any{
		"additionalReplicaLabels": []any{dedup},
		"compact":                 map[string]any{"enabled": true, "extraArgs": []any{"--retention.resolution-raw=" + raw, "--retention.resolution-5m=90d", "--retention.resolution-1h=90d"}},
	}})
	return []policyx.AnalyzerResource{kps, thanos}
}

// grafanaRelease is a Grafana release fixture.
func grafanaRelease(replicas int, db string, adminSecret string) policyx.AnalyzerResource {
	values := map[string]any{"replicas": replicas, "grafana.ini": map[string]any{"database": map[string]any{"type": db}}}
	if adminSecret != "" {
		values["admin"] = map[string]any{"existingSecret": adminSecret}
	} else {
		values["adminPassword"] = "prom-operator"
	}
	return fixture("kubernetes:helm.sh/v3:Release", "grafana", map[string]any{"chart": "grafana", "values": values})
}

func healthCheckWithRecord(interval, threshold, ttl int) []policyx.AnalyzerResource {
	hc := fixture("aws:route53/healthCheck:HealthCheck", "east", map[string]any{"requestInterval": interval, "failureThreshold": threshold, "type": "HTTPS"})
	rec := dependsOn(fixture("aws:route53/record:Record", "api-east", map[string]any{"ttl": ttl}), "healthCheckId", hc)
	return []policyx.AnalyzerResource{hc, rec}
}

// helmRelease is a Release fixture of cert-manager.
func helmRelease(version, repo string, dependencyUpdate bool) policyx.AnalyzerResource {
	return fixture("kubernetes:helm.sh/v3:Release", "cm", map[string]any{
		"chart": "cert-manager", "version": version, "repositoryOpts": map[string]any{"repo": repo}, "dependencyUpdate": dependencyUpdate,
	})
}

func TestPolicyRulesFailAndPass(t *testing.T) {
	eks := func(secrets bool, logs []any) policyx.AnalyzerResource {
		enc := map[string]any{"resources": []any{"secrets"}, "provider": map[string]any{"keyArn": "arn:aws:kms:us-east-1:1:key/k"}}
		if !secrets {
			enc = map[string]any{"resources": []any{}}
		}
		return fixture("aws:eks/cluster:Cluster", "eks", map[string]any{"encryptionConfig": enc, "enabledClusterLogTypes": logs})
	}
	allLogs := []any{"api", "audit", "authenticator"}
	endpoint := func(public bool, cidrs ...string) policyx.AnalyzerResource {
		vpc := map[string]any{"endpointPublicAccess": public}
		if len(cidrs) > 0 {
			vpc["publicAccessCidrs"] = toAny(cidrs)
		}
		return fixture("aws:eks/cluster:Cluster", "eks", map[string]any{"vpcConfig": vpc})
	}
	logGroup := func(name string, days int) policyx.AnalyzerResource {
		return fixture("aws:cloudwatch/logGroup:LogGroup", "logs", map[string]any{"name": name, "retentionInDays": days})
	}
	namespace := func(name, level, reason string) policyx.AnalyzerResource {
		labels := map[string]any{"pod-security.kubernetes.io/audit": "restricted", "pod-security.kubernetes.io/warn": "restricted"}
		if level != "" {
			labels["pod-security.kubernetes.io/enforce"] = level
		}
		meta := map[string]any{"name": name, "labels": labels}
		if reason != "" {
			meta["annotations"] = map[string]any{"tars.io/pod-security-reason": reason}
		}
		return fixture("kubernetes:core/v1:Namespace", name, map[string]any{"metadata": meta})
	}
	trust := func(cond string) policyx.AnalyzerResource {
		return fixture("aws:iam/role:Role", "irsa", map[string]any{"assumeRolePolicy": `{"Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::1:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/X"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":` + cond + `}]}`})
	}
	iss := "oidc.eks.us-east-1.amazonaws.com/id/X"
	samplingCM := func(param string) policyx.AnalyzerResource {
		return fixture("kubernetes:core/v1:ConfigMap", "sampling", map[string]any{"data": map[string]any{"strategies.json": `{"service_strategies":[{"service":"tars-backend","type":"probabilistic","param":` + param + `},{"service":"tars-rag-service","type":"probabilistic","param":1.0}],"default_strategy":{"type":"probabilistic","param":0.1}}`}})
	}
	// pg is a Cluster with its archive store and its scheduled backup.
	pg := func(archiver bool, retention, schedule string) []policyx.AnalyzerResource {
		meta := func(name string) map[string]any { return map[string]any{"name": name, "namespace": "tars-postgres"} }
		return []policyx.AnalyzerResource{
			fixture("kubernetes:postgresql.cnpg.io/v1:Cluster", "pg", map[string]any{"metadata": meta("tars-pg"),
				"spec": map[string]any{"plugins": []any{map[string]any{"name": "barman-cloud.cloudnative-pg.io", "isWALArchiver": archiver,
					"parameters": map[string]any{"barmanObjectName": "wal"}}}}}),
			fixture("kubernetes:barmancloud.cnpg.io/v1:ObjectStore", "wal", map[string]any{"metadata": meta("wal"), "spec": map[string]any{"retentionPolicy": retention}}),
			// The peer's store, read only, needs no retention of its own.
			fixture("kubernetes:barmancloud.cnpg.io/v1:ObjectStore", "peer", map[string]any{"metadata": meta("peer"), "spec": map[string]any{}}),
			fixture("kubernetes:postgresql.cnpg.io/v1:ScheduledBackup", "daily", map[string]any{"metadata": meta("daily"), "spec": map[string]any{
				"schedule": schedule, "cluster": map[string]any{"name": "tars-pg"}, "method": "plugin",
				"pluginConfiguration": map[string]any{"name": "barman-cloud.cloudnative-pg.io"}}}),
		}
	}
	lagRule := func(thresholds ...string) []policyx.AnalyzerResource {
		var rules []any
		for i, th := range thresholds {
			rules = append(rules, map[string]any{"alert": fmt.Sprintf("Lag%d", i), "expr": "max(cnpg_pg_replication_lag) > " + th})
		}
		return append(pg(true, "30d", "0 0 2 * * *")[:1], fixture("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "replication",
			map[string]any{"spec": map[string]any{"groups": []any{map[string]any{"name": "r", "rules": rules}}}}))
	}
	loki := func(retention string, enabled bool) policyx.AnalyzerResource {
		return fixture("kubernetes:helm.sh/v3:Release", "loki", map[string]any{"chart": "loki", "values": map[string]any{"loki": map[string]any{
			"limits_config": map[string]any{"retention_period": retention}, "compactor": map[string]any{"retention_enabled": enabled}}}})
	}
	cloudflareMonitor := func(interval, down int) []policyx.AnalyzerResource {
		return []policyx.AnalyzerResource{fixture("cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor", "monitor", map[string]any{"interval": interval, "consecutiveDown": down})}
	}
	cases := []struct {
		policy string
		fail   []policyx.AnalyzerResource
		want   string
		pass   []policyx.AnalyzerResource
	}{
		{"eks-secrets-encrypted", []policyx.AnalyzerResource{eks(false, allLogs)}, "Kubernetes Secrets are not envelope-encrypted", []policyx.AnalyzerResource{eks(true, allLogs)}},
		{"eks-control-plane-logging", []policyx.AnalyzerResource{eks(true, []any{"api"})}, "control-plane logs [audit authenticator] are off", []policyx.AnalyzerResource{eks(true, allLogs)}},
		{"eks-endpoint-restricted", []policyx.AnalyzerResource{endpoint(true, "0.0.0.0/0")}, "the public API endpoint admits 0.0.0.0/0: the whole internet",
			[]policyx.AnalyzerResource{endpoint(true, "52.94.76.0/24"), endpoint(false)}},
		{"eks-endpoint-restricted", []policyx.AnalyzerResource{endpoint(true)}, "lists no publicAccessCidrs: AWS opens it to 0.0.0.0/0", nil},
		{"control-plane-log-retention", []policyx.AnalyzerResource{logGroup("/aws/eks/tars/cluster", 7)}, "keeps the control-plane logs 7 days, under the 90",
			[]policyx.AnalyzerResource{logGroup("/aws/eks/tars/cluster", 90), logGroup("/aws/eks/tars/cluster", 0), logGroup("/aws/vpc/flow", 7)}},
		{"namespace-pod-security", []policyx.AnalyzerResource{namespace("tars", "privileged", "")}, "namespace tars enforces Pod Security privileged without saying why",
			[]policyx.AnalyzerResource{namespace("tars", "restricted", ""), namespace("monitoring", "privileged", "node-exporter needs the host")}},
		{"namespace-pod-security", []policyx.AnalyzerResource{namespace("tars", "", "")}, "namespace tars enforces no Pod Security level", nil},
		{"kms-key-rotation", []policyx.AnalyzerResource{fixture("aws:kms/key:Key", "k", map[string]any{"enableKeyRotation": false})}, "enableKeyRotation is not true",
			[]policyx.AnalyzerResource{fixture("aws:kms/key:Key", "k", map[string]any{"enableKeyRotation": true})}},
		{"iam-no-wildcard-admin", []policyx.AnalyzerResource{fixture("aws:iam/rolePolicy:RolePolicy", "p", map[string]any{"policy": `{"Statement":[{"Sid":"God","Effect":"Allow","Action":"*","Resource":"*"}]}`})},
			"policy statement God allows action * on resource *",
			[]policyx.AnalyzerResource{fixture("aws:iam/rolePolicy:RolePolicy", "p", map[string]any{"policy": `{"Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/*"}]}`})}},
		{"irsa-trust-one-service-account", []policyx.AnalyzerResource{trust(`{"StringLike":{"` + iss + `:sub":"system:serviceaccount:*:*"}}`)}, "uses StringLike; only StringEquals scopes it",
			[]policyx.AnalyzerResource{trust(`{"StringEquals":{"` + iss + `:sub":"system:serviceaccount:monitoring:thanos","` + iss + `:aud":"sts.amazonaws.com"}}`)}},
		{"no-plaintext-secrets", []policyx.AnalyzerResource{fixture("kubernetes:core/v1:Secret", "am", map[string]any{"stringData": map[string]any{"slack": "https://hooks.slack.com/services/T0/B0/x"}})},
			"Secret stringData is not a Pulumi secret",
			[]policyx.AnalyzerResource{fixture("kubernetes:core/v1:Secret", "am", map[string]any{"stringData": resource.MakeSecret(resource.NewObjectProperty(resource.NewPropertyMapFromMap(map[string]any{"slack": "https://hooks.slack.com/services/T0/B0/x"})))})}},
		{"no-plaintext-secrets", []policyx.AnalyzerResource{fixture("kubernetes:helm.sh/v3:Release", "redis", map[string]any{"values": map[string]any{"auth": map[string]any{"password": "hunter2", "existingSecretName": "redis"}}})},
			"values.auth.password holds a credential in plain text",
			[]policyx.AnalyzerResource{fixture("kubernetes:helm.sh/v3:Release", "redis", map[string]any{"values": map[string]any{"auth": map[string]any{"password": secret("hunter2"), "existingSecretName": "redis"}}})}},
		{"no-plaintext-secrets", []policyx.AnalyzerResource{fixture("kubernetes:helm.sh/v3:Release", "grafana", map[string]any{"values": map[string]any{"auth": map[string]any{"clientSecret": "s3cr3t", "configSecret": "grafana-oauth"}}})},
			"values.auth.clientSecret holds a credential in plain text",
			[]policyx.AnalyzerResource{fixture("kubernetes:helm.sh/v3:Release", "grafana", map[string]any{"values": map[string]any{"auth": map[string]any{"clientSecret": secret("s3cr3t"), "configSecret": "grafana-oauth", "existingSecret": "grafana-admin"}}})}},
		{"no-plaintext-secrets", []policyx.AnalyzerResource{fixture("kubernetes:postgresql.cnpg.io/v1:Cluster", "pg", map[string]any{"spec": map[string]any{"certificates": map[string]any{"serverCASecret": "tars-pg-server-ca", "caKey": "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n"}}})},
			"spec.certificates.caKey contains a credential (webhook URL or private key) in plain text",
			[]policyx.AnalyzerResource{fixture("kubernetes:postgresql.cnpg.io/v1:Cluster", "pg", map[string]any{"spec": map[string]any{"certificates": map[string]any{"serverCASecret": "tars-pg-server-ca", "serverTLSSecret": "tars-pg-server"}}})}},
		{"workload-resources-and-non-root", []policyx.AnalyzerResource{statefulSet("redis", container("redis", false, false))},
			"container redis has no resources.limits.cpu",
			[]policyx.AnalyzerResource{statefulSet("redis", container("redis", true, true))}},
		{"workload-resources-and-non-root", []policyx.AnalyzerResource{statefulSet("redis", container("redis", false, true))},
			"container redis may run as root", []policyx.AnalyzerResource{statefulSet("redis", container("redis", true, true))}},
		{"statefulset-has-pdb", []policyx.AnalyzerResource{statefulSet("redis", container("redis", true, true)), pdb("default", map[string]any{"app": "redis"})},
			"StatefulSet redis in namespace tars-data has no PodDisruptionBudget",
			[]policyx.AnalyzerResource{statefulSet("redis", container("redis", true, true)), pdb("tars-data", map[string]any{"app": "redis"})}},
		{"helm-release-pinned", []policyx.AnalyzerResource{helmRelease("^1.21", "", true)},
			"chart cert-manager version \"^1.21\" is not an exact version\nchart cert-manager names no repository (repositoryOpts.repo)\nchart cert-manager re-resolves its dependencies (dependencyUpdate)",
			[]policyx.AnalyzerResource{helmRelease("v1.21.1", "https://charts.jetstack.io", false)}},
		{"helm-release-pinned", []policyx.AnalyzerResource{helmRelease("", "https://charts.jetstack.io", false)}, `chart cert-manager version "" is not an exact version`,
			[]policyx.AnalyzerResource{helmRelease("88.5.3", "https://charts.jetstack.io", false)}},
		{"s3-bucket-baseline", bucketSet(false, true, true, true), "bucket wal is not encrypted with a KMS key", bucketSet(true, true, true, true)},
		{"s3-bucket-baseline", bucketSet(true, false, true, true), "bucket wal is not versioned", bucketSet(true, true, true, true)},
		{"s3-bucket-baseline", bucketSet(true, true, false, true), "bucket wal does not block all public access", bucketSet(true, true, true, true)},
		{"s3-bucket-baseline", bucketSet(true, true, true, false), "bucket wal has no bucket policy denying requests without TLS", bucketSet(true, true, true, true)},
		{"prometheus-retention-and-ha", []policyx.AnalyzerResource{prometheusRelease("15d", "15s", 2, 3)}, `prometheusSpec.retention is "15d", want at least 30d`,
			[]policyx.AnalyzerResource{prometheusRelease("30d", "15s", 2, 3)}},
		{"prometheus-retention-and-ha", []policyx.AnalyzerResource{prometheusRelease("30d", "30s", 1, 1)}, "prometheusSpec.replicas is 1, want at least 2",
			[]policyx.AnalyzerResource{prometheusRelease("90d", "15s", 3, 3)}},
		{"prometheus-retention-and-ha", []policyx.AnalyzerResource{withEvaluation(prometheusRelease("30d", "15s", 2, 3), "1m")}, `prometheusSpec.evaluationInterval is "1m", want 15s`,
			[]policyx.AnalyzerResource{prometheusRelease("30d", "15s", 2, 3)}},
		{"metrics-long-term-storage", metricsStack(false, "prometheus_replica", "90d"), "prometheusSpec.thanos.objectStorageConfig is not set", metricsStack(true, "prometheus_replica", "90d")},
		{"metrics-long-term-storage", metricsStack(true, "replica", "90d"), `Thanos query does not deduplicate on the Prometheus replica label "prometheus_replica"`, metricsStack(true, "prometheus_replica", "0d")},
		{"metrics-long-term-storage", metricsStack(true, "prometheus_replica", "30d"), `the compactor's --retention.resolution-raw is "30d", want at least 90d`, metricsStack(true, "prometheus_replica", "13w")},
		{"metrics-long-term-storage", metricsStack(true, "prometheus_replica", "90d")[:1], "the stack runs Prometheus but no Thanos release", nil},
		{"grafana-ha-database", []policyx.AnalyzerResource{grafanaRelease(1, "postgres", "grafana-admin")}, "replicas is 1, want at least 2", []policyx.AnalyzerResource{grafanaRelease(2, "postgres", "grafana-admin")}},
		{"grafana-ha-database", []policyx.AnalyzerResource{grafanaRelease(2, "sqlite3", "grafana-admin")}, "grafana.ini database.type is sqlite3, want postgres", nil},
		{"grafana-ha-database", []policyx.AnalyzerResource{grafanaRelease(2, "postgres", "")}, "adminPassword is a chart value", nil},
		{"loki-retention", []policyx.AnalyzerResource{loki("168h", true)}, `retention_period is "168h", want at least 30d`, []policyx.AnalyzerResource{loki("720h", true)}},
		{"loki-retention", []policyx.AnalyzerResource{loki("720h", false)}, "compactor.retention_enabled is not true", []policyx.AnalyzerResource{loki("720h", true)}},
		{"jaeger-production-sampling", []policyx.AnalyzerResource{samplingCM("0.5")}, "service tars-backend is sampled probabilistic 0.5, want probabilistic 1",
			[]policyx.AnalyzerResource{samplingCM("1.0")}},
		{"postgres-wal-archiving-and-backups", pg(false, "30d", "0 0 2 * * *"), "cluster tars-pg: WAL archiving is off", pg(true, "30d", "0 0 2 * * *")},
		{"postgres-wal-archiving-and-backups", pg(true, "7d", "0 0 2 * * *"), `ObjectStore wal (the archive of cluster tars-pg): spec.retentionPolicy is "7d", want at least 30d`, pg(true, "5w", "0 0 2 * * *")},
		{"postgres-wal-archiving-and-backups", pg(true, "30d", "0 0 * * * *"), "cluster tars-pg has no daily backup", pg(true, "30d", "0 30 1 * * *")},
		{"postgres-replication-lag-alert", lagRule("60"), "no alert fires on cnpg_pg_replication_lag at or below the 5 s replication-lag target (only Lag0 at 60 s)", lagRule("5", "60")},
		{"dns-failover-budget", healthCheckWithRecord(30, 3, 60), "failover takes up to 150 s (request interval 30 s × failure threshold 3 + TTL 60 s), over the 90 s budget",
			healthCheckWithRecord(10, 3, 60)},
		{"dns-failover-budget", healthCheckWithRecord(30, 3, 0), "a dead region is detected after up to 90 s (request interval 30 s × failure threshold 3 + TTL 0 s), over the 30 s detection SLA",
			healthCheckWithRecord(10, 3, 0)},
		{"dns-failover-budget", cloudflareMonitor(60, 2), "cloudflare monitor: a dead region is detected after up to 120 s (monitor interval 60 s × 2 consecutive failures, proxied), over the 30 s detection SLA",
			cloudflareMonitor(15, 2)},
		{"region-stack-complete", []policyx.AnalyzerResource{fixture("aws:eks/cluster:Cluster", "eks", map[string]any{})}, "the stack lacks the region cluster component (tars:cluster:Cluster)", nil},
	}
	for _, tc := range cases {
		t.Run(tc.policy, func(t *testing.T) {
			got := evaluate(t, tc.policy, tc.fail...)
			require.NotEmpty(t, got, "the failing case passed")
			var msgs []string
			for _, v := range got {
				msgs = append(msgs, v.Message)
			}
			assert.Contains(t, strings.Join(msgs, "\n"), tc.want)
			if tc.pass != nil {
				assert.Empty(t, evaluate(t, tc.policy, tc.pass...), "the passing case failed")
			}
		})
	}
}

// TestPolicyBothStacksPass: the real stacks pass every mandatory policy.
func TestPolicyBothStacksPass(t *testing.T) {
	pack, err := rules.Pack()
	require.NoError(t, err)
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		vs, err := rules.Evaluate(context.Background(), pack, g.PolicyResources())
		require.NoError(t, err)
		for _, v := range vs {
			assert.NotEqual(t, policyx.EnforcementLevelMandatory, v.Level, "%s: %s", stack, v)
		}
	}
}

// TestPolicyCatchesALoosenedRealStack changes one setting of the real
// us-east graph at a time and expects the matching policy to fail.
func TestPolicyCatchesALoosenedRealStack(t *testing.T) {
	loosen := []struct {
		typ, name, path string
		value           any
		policy, want    string
	}{
		{"aws:kms/key:Key", "us-east-secrets", "enableKeyRotation", false, "kms-key-rotation", "enableKeyRotation is not true"},
		{"aws:eks/cluster:Cluster", "us-east-eks", "enabledClusterLogTypes", []any{"api"}, "eks-control-plane-logging", "control-plane logs [audit authenticator] are off"},
		{"aws:eks/cluster:Cluster", "us-east-eks", "vpcConfig", map[string]any{"endpointPublicAccess": true, "publicAccessCidrs": []any{"0.0.0.0/0"}}, "eks-endpoint-restricted", "admits 0.0.0.0/0"},
		{"kubernetes:core/v1:Namespace", "us-east-apps", "metadata", map[string]any{"name": "tars", "labels": map[string]any{"pod-security.kubernetes.io/enforce": "baseline",
			"pod-security.kubernetes.io/audit": "restricted", "pod-security.kubernetes.io/warn": "restricted"}}, "namespace-pod-security", "namespace tars enforces Pod Security baseline without saying why"},
	}
	for _, l := range loosen {
		t.Run(l.policy, func(t *testing.T) {
			g := mustRun(t, "us-east")
			r := one(t, g, l.typ, l.name)
			r.Inputs[resource.PropertyKey(l.path)] = resource.NewPropertyValue(l.value)
			for i := range g.Resources {
				if g.Resources[i].URN == r.URN {
					g.Resources[i] = r
				}
			}
			vs := evaluate(t, l.policy, g.PolicyResources()...)
			require.Len(t, vs, 1)
			assert.Equal(t, r.URN, vs[0].URN)
			assert.Contains(t, vs[0].Message, l.want)
		})
	}
}

// TestPolicyCatchesALoosenedMetricsStack: the real us-east metrics stack
// with Grafana down to one replica, then with the compactor keeping raw
// data 30 days, fails the matching policy on exactly that release.
func TestPolicyCatchesALoosenedMetricsStack(t *testing.T) {
	for _, tc := range []struct {
		release, policy, want string
		edit                  func(values map[string]any)
	}{
		{"us-east-grafana-release", "grafana-ha-database", "replicas is 1, want at least 2", func(v map[string]any) { v["replicas"] = 1 }},
		{"us-east-monitoring-thanos", "metrics-long-term-storage", `--retention.resolution-raw is "30d", want at least 90d`, func(v map[string]any) {
			args := v["compact"].(map[string]any)["extraArgs"].([]any)
			args[0] = "--retention.resolution-raw=30d"
		}},
		{"us-east-monitoring-loki", "loki-retention", `retention_period is "168h", want at least 30d`, func(v map[string]any) {
			v["loki"].(map[string]any)["limits_config"].(map[string]any)["retention_period"] = "168h"
		}},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			rs := mustRun(t, "us-east").PolicyResources()
			assert.Empty(t, evaluate(t, tc.policy, rs...), "the real stack passes")
			urn := editPolicyResource(t, rs, "kubernetes:helm.sh/v3:Release", tc.release, func(p map[string]any) { tc.edit(p["values"].(map[string]any)) })
			vs := evaluate(t, tc.policy, rs...)
			require.Len(t, vs, 1)
			assert.Equal(t, urn, vs[0].URN)
			assert.Contains(t, vs[0].Message, tc.want)
		})
	}
}

// TestPolicyCatchesLoosenedSampling: the real us-east sampling strategies
// with tars-backend at 50 % fail jaeger-production-sampling.
func TestPolicyCatchesLoosenedSampling(t *testing.T) {
	rs := mustRun(t, "us-east").PolicyResources()
	assert.Empty(t, evaluate(t, "jaeger-production-sampling", rs...), "the real stack passes")
	urn := editPolicyResource(t, rs, "kubernetes:core/v1:ConfigMap", "us-east-monitoring-jaeger-sampling", func(p map[string]any) {
		data := p["data"].(map[string]any)
		data["strategies.json"] = strings.Replace(data["strategies.json"].(string), `"param": 1`, `"param": 0.5`, 1)
	})
	vs := evaluate(t, "jaeger-production-sampling", rs...)
	require.Len(t, vs, 1)
	assert.Equal(t, urn, vs[0].URN)
	assert.Contains(t, vs[0].Message, "service tars-backend is sampled probabilistic 0.5, want probabilistic 1")
}

// editPolicyResource rewrites the plain properties of the first resource of
// a type and name in place.
func editPolicyResource(t *testing.T, rs []policyx.AnalyzerResource, typ, name string, edit func(props map[string]any)) string {
	t.Helper()
	for i, r := range rs {
		if r.Type == typ && r.Name == name {
			props := resource.ToResourcePropertyMap(r.Properties).Mappable()
			edit(props)
			rs[i].Properties = resource.FromResourcePropertyMap(resource.NewPropertyMapFromMap(props))
			return r.URN
		}
	}
	t.Fatalf("no %s %s", typ, name)
	return ""
}

// alertRule returns the plain rule map of an alert inside a PrometheusRule's props.
func alertRule(props map[string]any, alert string) map[string]any {
	for _, g := range props["spec"].(map[string]any)["groups"].([]any) {
		for _, r := range g.(map[string]any)["rules"].([]any) {
			if m := r.(map[string]any); m["alert"] == alert {
				return m
			}
		}
	}
	return nil
}

// TestPolicySLORulesCatchLoosenedAlerting changes the real us-east alerting
// one way at a time and expects the SLO rules to name the alert and values.
func TestPolicySLORulesCatchLoosenedAlerting(t *testing.T) {
	cases := []struct {
		name, rule, policy, want string
		edit                     func(map[string]any)
	}{
		{"threshold loosened", "us-east-alerting-tars-availability", "slo-alerts-match-catalog",
			"alert HighErrorRate: threshold is > 20 in the rule, the catalog says > 5",
			func(p map[string]any) {
				r := alertRule(p, "HighErrorRate")
				r["expr"] = strings.Replace(r["expr"].(string), "> 5", "> 20", 1)
			}},
		{"severity lowered", "us-east-alerting-tars-availability", "slo-alerts-match-catalog",
			`alert ServiceDown: severity is "P3" in the rule, the catalog says P0`,
			func(p map[string]any) { alertRule(p, "ServiceDown")["labels"].(map[string]any)["severity"] = "P3" }},
		{"hold stretched", "us-east-alerting-tars-database-slo", "alert-time-to-page",
			"alert DatabaseDown (P0) pages after up to 11m0s = scrape 15s + evaluation 15s + for 10m0s + group_wait 30s, over the 5m0s acknowledgement target",
			func(p map[string]any) { alertRule(p, "DatabaseDown")["for"] = "10m" }},
		{"runbook dropped", "us-east-alerting-tars-latency", "slo-alert-annotations",
			"alert HighAPILatency (group tars-latency) lacks annotation runbook_url",
			func(p map[string]any) {
				delete(alertRule(p, "HighAPILatency")["annotations"].(map[string]any), "runbook_url")
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := mustRun(t, "us-east")
			rs := g.PolicyResources()
			assert.Empty(t, evaluate(t, tc.policy, rs...), "the real stack must pass first")
			editPolicyResource(t, rs, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", tc.rule, tc.edit)
			var msgs []string
			for _, v := range evaluate(t, tc.policy, rs...) {
				msgs = append(msgs, v.Message)
			}
			assert.Contains(t, strings.Join(msgs, "\n"), tc.want)
		})
	}
	// Routing: P1 no longer reaches PagerDuty.
	g := mustRun(t, "us-east", harness.WithSecretConfig("tars:slackWebhookUrl", "https://hooks.slack.com/services/T0/B0/x"))
	rs := g.PolicyResources()
	assert.Empty(t, evaluate(t, "alertmanager-routing", rs...))
	editPolicyResource(t, rs, "kubernetes:core/v1:Secret", "us-east-alerting-alertmanager", func(p map[string]any) {
		// stringData is a secret: edit inside it and keep it secret.
		sd := p["stringData"].(*resource.Secret).Element.ObjectValue().Mappable()
		sd["alertmanager.yaml"] = strings.Replace(sd["alertmanager.yaml"].(string), `severity=~"P1|critical"`, `severity=~"P9|critical"`, 1)
		p["stringData"] = resource.MakeSecret(resource.NewPropertyValue(sd))
	})
	got := evaluate(t, "alertmanager-routing", rs...)
	require.Len(t, got, 1)
	assert.Contains(t, got[0].Message, "P1 alerts reach [email-oncall slack-alerts], none of them pagerduty")
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// TestPolicyCatchesAWeakenedStackFile: what a stack file can weaken is
// refused by the pack on the real stack: the control-plane logs kept a
// week.
func TestPolicyCatchesAWeakenedStackFile(t *testing.T) {
	g := mustRun(t, "us-east", harness.WithConfig("tars:cluster.logRetentionDays", 7))
	vs := evaluate(t, "control-plane-log-retention", g.PolicyResources()...)
	require.Len(t, vs, 1)
	assert.Contains(t, vs[0].Message, "/aws/eks/tars-us-east/cluster keeps the control-plane logs 7 days, under the 90 the audit trail needs")
	assert.Empty(t, evaluate(t, "control-plane-log-retention", mustRun(t, "us-east").PolicyResources()...))
}
