package tests

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/redis"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/slo"
	"github.com/tars-platform/infra/tests/harness"
)

// parseRedisConf reads a redis.conf into directive → value.
func parseRedisConf(t *testing.T, conf string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(conf))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, " ")
		_, dup := out[k]
		require.False(t, dup, "directive %s twice", k)
		out[k] = v
	}
	return out
}

func TestRedisGraphCarriesTheSeedSettings(t *testing.T) {
	g := mustRun(t, "us-east")
	sts := one(t, g, "kubernetes:apps/v1:StatefulSet", "us-east-redis")
	assert.EqualValues(t, 6, sts.Input("spec.replicas"))
	assert.Equal(t, "tars-data", sts.Input("metadata.namespace"))
	// The alerts count members and select namespaces by these.
	assert.EqualValues(t, 6, sts.Input("spec.replicas"), "seed 003: a 6-node Redis Cluster")
	nsRe := regexp.MustCompile("^(" + slo.ServiceNamespaces + ")$")
	for _, ns := range []string{fmt.Sprint(sts.Input("metadata.namespace")), redis.DefaultAppNamespace} {
		assert.True(t, nsRe.MatchString(ns), "slo.ServiceNamespaces does not match %s", ns)
	}
	assert.Equal(t, "Parallel", sts.Input("spec.podManagementPolicy"))
	pod := sts.Input("spec.template.spec").(map[string]any)
	containers := pod["containers"].([]any)
	require.Len(t, containers, 2)
	srv := containers[0].(map[string]any)
	assert.Equal(t, "redis:7.4.2", srv["image"], "the pinned official Redis 7.4 image")
	res := srv["resources"].(map[string]any)
	assert.Equal(t, "2048Mi", res["limits"].(map[string]any)["memory"])
	assert.Equal(t, "2048Mi", res["requests"].(map[string]any)["memory"], "Guaranteed memory: request = limit")
	for _, p := range []string{"livenessProbe", "readinessProbe"} {
		assert.EqualValues(t, 10, srv[p].(map[string]any)["periodSeconds"], p)
	}
	assert.Contains(t, srv["command"].([]any)[2], `--cluster-announce-hostname "$POD_NAME.$HEADLESS_SERVICE.$POD_NAMESPACE.svc.cluster.local"`)
	exporter := containers[1].(map[string]any)
	assert.Equal(t, versions.RedisExporter, exporter["image"])
	// Spread evenly over zones and nodes (two per node on the three nodes a
	// region starts with), never a required one-per-node anti-affinity.
	assert.NotContains(t, pod, "affinity")
	spread := map[string]map[string]any{}
	for _, c := range pod["topologySpreadConstraints"].([]any) {
		m := c.(map[string]any)
		spread[m["topologyKey"].(string)] = m
	}
	for _, key := range []string{"topology.kubernetes.io/zone", "kubernetes.io/hostname"} {
		require.Contains(t, spread, key)
		assert.EqualValues(t, 1, spread[key]["maxSkew"], key)
		assert.Equal(t, "DoNotSchedule", spread[key]["whenUnsatisfiable"], key)
		assert.Equal(t, "Honor", spread[key]["nodeTaintsPolicy"], key)
	}
	claims := map[string]string{}
	for _, c := range sts.Input("spec.volumeClaimTemplates").([]any) {
		m := c.(map[string]any)
		claims[m["metadata"].(map[string]any)["name"].(string)] = m["spec"].(map[string]any)["storageClassName"].(string)
	}
	assert.Equal(t, map[string]string{"data": "gp3-encrypted-retain", "cluster-state": "gp3-encrypted-retain"}, claims)
	assert.Equal(t, "Retain", sts.Input("spec.persistentVolumeClaimRetentionPolicy.whenDeleted"), "a deleted StatefulSet keeps its claims")
	assert.True(t, sts.Protect, "the StatefulSet is protected")

	pdb := one(t, g, "kubernetes:policy/v1:PodDisruptionBudget", "us-east-redis")
	assert.EqualValues(t, 1, pdb.Input("spec.maxUnavailable"))
	np := one(t, g, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "us-east-redis")
	ingress := np.Input("spec.ingress").([]any)
	require.Len(t, ingress, 4, "application namespace, members, formation job, metrics scraper")
	first := ingress[0].(map[string]any)["from"].([]any)[0].(map[string]any)["namespaceSelector"].(map[string]any)["matchLabels"].(map[string]any)
	assert.Equal(t, "tars", first["kubernetes.io/metadata.name"])

	secret := one(t, g, "kubernetes:core/v1:Secret", "us-east-redis-auth")
	assert.True(t, secret.IsSecret("stringData"), "the password stays a Pulumi secret")
	job := one(t, g, "kubernetes:batch/v1:Job", "us-east-redis-cluster-create")
	env := map[string]string{}
	for _, e := range job.Input("spec.template.spec.containers").([]any)[0].(map[string]any)["env"].([]any) {
		m := e.(map[string]any)
		if v, ok := m["value"].(string); ok {
			env[m["name"].(string)] = v
		}
	}
	assert.Len(t, strings.Fields(env["REDIS_NODES"]), 6)
	assert.Equal(t, "3", env["REDIS_MASTERS"])
	assert.Equal(t, "1", env["REDIS_REPLICAS"])
	assert.Equal(t, "us-east-1a=10.10.0.0/19 us-east-1b=10.10.32.0/19 us-east-1c=10.10.64.0/19", env["REDIS_ZONES"],
		"the zones' private subnets, for the script to place replicas away from their masters")
	cron := one(t, g, "kubernetes:batch/v1:CronJob", "us-east-redis-cluster-rejoin")
	assert.Equal(t, "*/5 * * * *", cron.Input("spec.schedule"), "the rejoin runs every 5 minutes")
	assert.Equal(t, "Forbid", cron.Input("spec.concurrencyPolicy"))
	assert.Equal(t, job.Input("spec.template"), cron.Input("spec.jobTemplate").(map[string]any)["spec"].(map[string]any)["template"], "the CronJob runs the same pod as the Job")
	scripts := one(t, g, "kubernetes:core/v1:ConfigMap", "us-east-redis-scripts")
	assert.Equal(t, redis.ClusterCreateScript, scripts.Input("data").(map[string]any)["cluster-create.sh"], "the Job runs the embedded script")
	sm := one(t, g, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "us-east-redis-metrics")
	assert.Equal(t, "15s", sm.Input("spec.endpoints").([]any)[0].(map[string]any)["interval"])

	cm := one(t, g, "kubernetes:core/v1:ConfigMap", "us-east-redis-config")
	conf := parseRedisConf(t, cm.Input("data").(map[string]any)["redis.conf"].(string))
	for k, v := range map[string]string{
		"cluster-enabled": "yes", "cluster-node-timeout": "5000", "maxmemory": "1536mb", "maxmemory-policy": "allkeys-lru",
		"appendonly": "yes", "save": "900 1 300 10 60 10000", "protected-mode": "yes", "cluster-preferred-endpoint-type": "hostname",
		"cluster-config-file": "/cluster/nodes.conf", "dir": "/data",
	} {
		assert.Equal(t, v, conf[k], k)
	}
	assert.NotContains(t, conf, "requirepass", "the password never lands in a ConfigMap")

	// TLS only: no plaintext port; clients, the bus and replication on TLS
	// with the certificate cert-manager issues, mounted from its Secret.
	for k, v := range map[string]string{
		"port": "0", "tls-port": "6379", "tls-cluster": "yes", "tls-replication": "yes", "cluster-port": "16379",
		"tls-cert-file": "/tls/tls.crt", "tls-key-file": "/tls/tls.key", "tls-ca-cert-file": "/tls/ca.crt",
	} {
		assert.Equal(t, v, conf[k], k)
	}
	assert.Contains(t, []string{"yes", "optional"}, conf["tls-auth-clients"])
	for _, p := range []string{"livenessProbe", "readinessProbe"} {
		cmd := fmt.Sprint(srv[p].(map[string]any)["exec"].(map[string]any)["command"])
		assert.Contains(t, cmd, "redis-cli --tls --cacert /tls/ca.crt -p 6379 ping", p)
	}
	exporterEnv := map[string]any{}
	for _, e := range exporter["env"].([]any) {
		exporterEnv[e.(map[string]any)["name"].(string)] = e.(map[string]any)["value"]
	}
	assert.Equal(t, "rediss://localhost:6379", exporterEnv["REDIS_ADDR"], "the exporter scrapes over TLS")
	assert.Equal(t, "/tls/ca.crt", exporterEnv["REDIS_EXPORTER_TLS_CA_CERT_FILE"])
	assert.Equal(t, "/tls/ca.crt", env["REDIS_TLS_CA"], "the formation Job and the rejoin CronJob talk TLS")

	cert := one(t, g, "kubernetes:cert-manager.io/v1:Certificate", "us-east-redis-tls")
	assert.Equal(t, "tars-data", cert.Input("metadata.namespace"))
	dnsNames := fmt.Sprint(cert.Input("spec.dnsNames"))
	for i := range 6 {
		assert.Contains(t, cert.Input("spec.dnsNames"), fmt.Sprintf("redis-%d.redis-headless.tars-data.svc.cluster.local", i), "member %d's stable name", i)
	}
	for _, n := range []string{"redis.tars-data.svc.cluster.local", "redis.tars-data.svc", "redis", "localhost"} {
		assert.Contains(t, cert.Input("spec.dnsNames"), n, dnsNames)
	}
	assert.Subset(t, cert.Input("spec.usages"), []any{"server auth", "client auth"})
	assert.Equal(t, "2160h", cert.Input("spec.duration"))
	assert.Equal(t, "720h", cert.Input("spec.renewBefore"))
	assert.Equal(t, "condition=Ready", cert.Input("metadata.annotations").(map[string]any)["pulumi.com/waitFor"], "the members start with their certificate")
	// Its issuer is a CA Issuer on Secret redis-ca, which the stack writes
	// from the CA it holds (no self-signed Issuer, no CA Certificate).
	issuers := map[string]harness.Resource{}
	for _, r := range g.ByType("kubernetes:cert-manager.io/v1:Issuer") {
		assert.NotContains(t, r.Input("spec"), "selfSigned", "%s: the CA is the stack's, no self-signed Issuer remains", r.Name)
		if r.Input("metadata.namespace") == "tars-data" {
			issuers[fmt.Sprint(r.Input("metadata.name"))] = r
		}
	}
	ref := cert.Input("spec.issuerRef").(map[string]any)
	assert.Equal(t, "Issuer", ref["kind"])
	assert.Equal(t, "redis-ca", ref["name"])
	issuer, ok := issuers["redis-ca"]
	require.True(t, ok, "no Issuer redis-ca in tars-data")
	assert.Equal(t, map[string]any{"ca": map[string]any{"secretName": "redis-ca"}}, issuer.Input("spec"), "a CA Issuer on Secret redis-ca")
	for _, r := range g.ByType("kubernetes:cert-manager.io/v1:Certificate") {
		assert.NotEqual(t, true, r.Input("spec.isCA"), "%s: cert-manager no longer makes the CA", r.Name)
	}
	caSecret := one(t, g, "kubernetes:core/v1:Secret", "us-east-redis-ca")
	assert.Equal(t, "redis-ca", caSecret.Input("metadata.name"))
	assert.Equal(t, "tars-data", caSecret.Input("metadata.namespace"))
	assert.Equal(t, "kubernetes.io/tls", caSecret.Input("type"))
	// The key stays a Pulumi secret: the SDK marks every Secret's data
	// secret, and policy no-plaintext-secrets fails on a PEM private key in
	// plain text anywhere (TestPolicyBothStacksPass).
	assert.True(t, g.Upstream(issuer.URN)[caSecret.URN], "the Issuer waits for its CA Secret")
	caData := secretData(t, g, "tars-data", "redis-ca")
	caCrt, _ := caData["ca.crt"].(string)
	assert.Equal(t, caCrt, caData["tls.crt"], "a self-signed root: tls.crt is ca.crt")
	caKey, _ := caData["tls.key"].(string)
	_, err := tls.X509KeyPair([]byte(caCrt), []byte(caKey))
	require.NoError(t, err, "cert-manager's CA Issuer: tls.crt and tls.key must match")
	keyBlock, _ := pem.Decode([]byte(caKey))
	require.NotNil(t, keyBlock)
	assert.Equal(t, "EC PRIVATE KEY", keyBlock.Type)
	ca := parseCert(t, caCrt)
	assert.True(t, ca.IsCA)
	assert.Equal(t, "tars-redis-ca.tars-data", ca.Subject.CommonName)
	caPub, isEC := ca.PublicKey.(*ecdsa.PublicKey)
	require.True(t, isEC, "an ECDSA CA")
	assert.Equal(t, "P-256", caPub.Curve.Params().Name)
	assert.Equal(t, 87600*time.Hour, ca.NotAfter.Sub(ca.NotBefore), "a 10-year CA")
	// The services trust it from a ConfigMap in their namespace: the
	// certificate alone, not a secret.
	trust := one(t, g, "kubernetes:core/v1:ConfigMap", "us-east-redis-ca-trust")
	assert.Equal(t, "redis-ca", trust.Input("metadata.name"))
	assert.Equal(t, "tars", trust.Input("metadata.namespace"))
	assert.Equal(t, map[string]any{"app.kubernetes.io/name": "redis", "app.kubernetes.io/component": "tls", "app.kubernetes.io/part-of": "tars"},
		trust.Input("metadata.labels"), "labelled like the other Redis objects")
	assert.Equal(t, map[string]any{"ca.crt": caCrt}, trust.JSONInputs()["data"], "the CA certificate, in plain sight")
	assert.False(t, trust.IsSecret("data"))
	assert.NotContains(t, fmt.Sprint(trust.PlainInputs()), "PRIVATE KEY")
	appNS := one(t, g, "kubernetes:core/v1:Namespace", "us-east-apps")
	assert.Contains(t, trust.Dependencies, appNS.URN, "created once the services' namespace exists")
	// The StatefulSet mounts the certificate's Secret where redis.conf reads it.
	certSecret := cert.Input("spec.secretName")
	mounted := ""
	for _, v := range pod["volumes"].([]any) {
		if vol := dig(v.(map[string]any), "secret"); vol["secretName"] == certSecret && vol["items"] == nil {
			name := v.(map[string]any)["name"]
			for _, m := range srv["volumeMounts"].([]any) {
				if m.(map[string]any)["name"] == name {
					mounted = fmt.Sprint(m.(map[string]any)["mountPath"])
				}
			}
		}
	}
	assert.Equal(t, "/tls", mounted, "the redis container mounts Secret %v", certSecret)
	// Ordering: the CA chain after cert-manager's release, the members after their certificate.
	var certManager string
	for _, r := range g.ByType("kubernetes:helm.sh/v3:Release") {
		if r.Input("chart") == versions.CertManager.Name {
			certManager = r.URN
		}
	}
	require.NotEmpty(t, certManager)
	assert.True(t, g.Upstream(cert.URN)[certManager], "the certificate waits for cert-manager")
	assert.True(t, g.Upstream(sts.URN)[cert.URN], "the members wait for their certificate")
}

// TestRedisCATrustWaitsForTheAppNamespace: the CA certificate's ConfigMap
// is created after the application namespace it is given (the Namespace
// itself), and the component exports the same certificate as CACert.
func TestRedisCATrustWaitsForTheAppNamespace(t *testing.T) {
	g := mustRun(t, "us-east", harness.WithProgram(func(ctx *pulumi.Context) error {
		appNS, err := corev1.NewNamespace(ctx, "app-namespace", &corev1.NamespaceArgs{Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("tars")}})
		if err != nil {
			return err
		}
		other, err := corev1.NewNamespace(ctx, "prerequisites", &corev1.NamespaceArgs{Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("other")}})
		if err != nil {
			return err
		}
		rc, err := redis.New(ctx, "r", redis.Args{
			StorageClass: "gp3", MonitoringDependsOn: []pulumi.Resource{other}, CertManagerDependsOn: []pulumi.Resource{other},
			AppNamespaceDependsOn: []pulumi.Resource{appNS},
		})
		if err != nil {
			return err
		}
		ctx.Export("redisCACert", rc.CACert)
		return nil
	}))
	ns := one(t, g, "kubernetes:core/v1:Namespace", "app-namespace")
	trust := one(t, g, "kubernetes:core/v1:ConfigMap", "r-ca-trust")
	assert.Equal(t, "tars", trust.Input("metadata.namespace"))
	assert.True(t, g.Upstream(trust.URN)[ns.URN], "the ConfigMap waits for the tars Namespace")
	assert.Contains(t, g.Exports, "redisCACert")
	crt, _ := trust.Input("data").(map[string]any)["ca.crt"].(string)
	assert.Equal(t, "tars-redis-ca.tars-data", parseCert(t, crt).Subject.CommonName)
	assert.Equal(t, secretData(t, g, "tars-data", "redis-ca")["ca.crt"], crt, "the ConfigMap holds the Issuer's CA")
}

// TestRedisDefaults: what an empty tars:redis gets (seed 003's cluster).
func TestRedisDefaults(t *testing.T) {
	a := redis.Args{StorageClass: "gp3"}.WithDefaults()
	assert.Equal(t, 6, a.Nodes)
	assert.Equal(t, 5000, a.NodeTimeoutMs)
	assert.Equal(t, 1536, a.MaxmemoryMB)
	assert.Equal(t, "allkeys-lru", a.MaxmemoryPolicy)
	assert.Equal(t, "tars-data", a.Namespace)
}

func TestRedisArgsValidation(t *testing.T) {
	cases := []struct {
		path  string
		value any
		want  string
	}{
		{"tars:redis.nodes", 5, "tars:redis.nodes (5) must equal masters × (1 + replicasPerMaster) = 3 × (1 + 1) = 6"},
		{"tars:redis.masters", 2, "tars:redis.masters (2) must be at least 3"},
		{"tars:redis.maxmemoryMb", 2048, "tars:redis.maxmemoryMb (2048) leaves no headroom for the AOF rewrite under memoryLimitMb (2048): at most 1536"},
		{"tars:redis.maxmemoryPolicy", "lru", `tars:redis.maxmemoryPolicy ("lru") must be one of`},
		{"tars:redis.replicasPerMaster", -1, "tars:redis.replicasPerMaster (-1) must be at least 1"},
		{"tars:redis.nodeTimeoutMs", 100, "tars:redis.nodeTimeoutMs (100) must be between 1000 and 60000"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.path, "=", tc.value), func(t *testing.T) {
			g, err := runRecovering(t, "us-east", harness.WithConfig(tc.path, tc.value))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, g.Resources)
		})
	}
}
