package tests

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/jmespath/go-jmespath"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/monitoring"
	"github.com/tars-platform/infra/internal/check"
	"github.com/tars-platform/infra/tests/harness"
	"sigs.k8s.io/yaml"
)

// The metrics stack (issue #14) as the charts render it with the
// program's values: the numbers of seed 000 are literals here.

// named returns the rendered object of kind and name in the monitoring namespace.
func (p pickup) named(t *testing.T, kind, name string) map[string]any {
	t.Helper()
	return p.namedIn(t, kind, "monitoring", name)
}

// namedIn returns the rendered object of kind and name in a namespace.
func (p pickup) namedIn(t *testing.T, kind, ns, name string) map[string]any {
	t.Helper()
	for _, o := range p.kind(kind) {
		meta := asMap(o["metadata"])
		if meta["name"] == name && meta["namespace"] == ns {
			return o
		}
	}
	require.Failf(t, "not rendered", "%s %s/%s", kind, ns, name)
	return nil
}

// containerEnv is the plain (value, not valueFrom) environment of a
// workload's container, init containers included; nil when it has none.
func containerEnv(w map[string]any, container string) map[string]string {
	var out map[string]string
	for _, c := range append(asList(podSpec(w)["containers"]), asList(podSpec(w)["initContainers"])...) {
		if asMap(c)["name"] != container {
			continue
		}
		out = map[string]string{}
		for _, e := range asList(asMap(c)["env"]) {
			if v, ok := asMap(e)["value"]; ok {
				out[fmt.Sprint(asMap(e)["name"])] = fmt.Sprint(v)
			}
		}
	}
	return out
}

// podSpec is a workload's pod template spec.
func podSpec(w map[string]any) map[string]any {
	return asMap(asMap(asMap(w["spec"])["template"])["spec"])
}

// containerArgs are the args of the named container of a workload.
func namedContainerArgs(t *testing.T, w map[string]any, name string) []string {
	t.Helper()
	for _, c := range asList(podSpec(w)["containers"]) {
		if asMap(c)["name"] == name {
			var out []string
			for _, a := range asList(asMap(c)["args"]) {
				out = append(out, fmt.Sprint(a))
			}
			return out
		}
	}
	require.Failf(t, "no container", "%s in %v", name, asMap(w["metadata"])["name"])
	return nil
}

// TestMonitoringPrometheusCarriesTheSeedSettings: the Prometheus custom
// resource kube-prometheus-stack renders.
func TestMonitoringPrometheusCarriesTheSeedSettings(t *testing.T) {
	for _, stack := range Stacks {
		p := stackObjects(t, stack)
		spec := asMap(p.kind("Prometheus")[0]["spec"])
		assert.EqualValues(t, 2, spec["replicas"], stack)
		assert.Equal(t, "15s", spec["scrapeInterval"], stack)
		assert.Equal(t, "15s", spec["evaluationInterval"], stack)
		assert.Equal(t, "30d", spec["retention"], stack)
		// The size cap sits below the volume, with compaction headroom.
		assert.Equal(t, "80GB", spec["retentionSize"], stack)
		claim := asMap(asMap(asMap(spec["storage"])["volumeClaimTemplate"])["spec"])
		assert.Equal(t, "100Gi", asMap(asMap(claim["resources"])["requests"])["storage"], "%s: seed 000's 100 GB per replica", stack)
		assert.Equal(t, "gp3-encrypted-retain", claim["storageClassName"], "%s: the Retain class", stack)
		assert.Equal(t, map[string]any{"region": stack}, spec["externalLabels"], stack)
		assert.Equal(t, "prometheus_replica", spec["replicaExternalLabelName"], stack)
		assert.EqualValues(t, 200000, spec["enforcedSampleLimit"], "%s: the per-target series guard", stack)
		thanos := asMap(spec["thanos"])
		assert.Equal(t, map[string]any{"name": "thanos-objstore", "key": "objstore.yml"}, thanos["objectStorageConfig"], stack)
		// The sidecar uploads with the IRSA role: the pods' service account
		// is the one the role trusts (TestChartsIRSAServiceAccountIsTheTrustedOne).
		assert.Equal(t, "kube-prometheus-stack-prometheus", spec["serviceAccountName"], stack)
		aff := asMap(asMap(spec["affinity"])["podAntiAffinity"])
		require.NotEmpty(t, aff, "%s: replicas spread", stack)
		assert.Contains(t, fmt.Sprint(aff), "topology.kubernetes.io/zone", "%s: over zones", stack)
	}
}

// TestMonitoringThanos: query deduplicates the replicas and finds the
// sidecars through a Service the stack renders; query-frontend caches for
// 5 minutes; the compactor keeps 90 days; everything reads one bucket.
func TestMonitoringThanos(t *testing.T) {
	for _, stack := range Stacks {
		p := stackObjects(t, stack)
		query := p.named(t, "Deployment", "thanos-query")
		args := namedContainerArgs(t, query, "thanos-query")
		assert.Contains(t, args, "--query.replica-label=prometheus_replica", stack)
		// Each endpoint names a headless Service with a grpc port: the
		// Prometheus sidecars' (recent data) and the store gateway's.
		var selects []string
		for _, a := range args {
			name, ok := strings.CutPrefix(a, "--endpoint=dnssrv+_grpc._tcp.")
			if !ok {
				continue
			}
			svc := p.named(t, "Service", strings.Split(name, ".")[0])
			assert.Equal(t, "None", asMap(svc["spec"])["clusterIP"], "%s: %s", stack, name)
			assert.Contains(t, fmt.Sprint(asMap(svc["spec"])["ports"]), "name:grpc", "%s: %s", stack, name)
			sel := asMap(asMap(svc["spec"])["selector"])
			selects = append(selects, fmt.Sprint(sel["app.kubernetes.io/name"], "/", sel["app.kubernetes.io/component"]))
		}
		assert.ElementsMatch(t, []string{"prometheus/<nil>", "thanos/store-gateway"}, selects, "%s: the sidecars and the store gateway", stack)
		assert.EqualValues(t, 2, asMap(query["spec"])["replicas"], stack)

		fe := namedContainerArgs(t, p.named(t, "Deployment", "thanos-query-frontend"), "thanos-query-frontend")
		var cache map[string]any
		for _, a := range fe {
			if v, ok := strings.CutPrefix(a, "--query-range.response-cache-config="); ok {
				require.NoError(t, yaml.Unmarshal([]byte(v), &cache))
			}
		}
		assert.Equal(t, "IN-MEMORY", cache["type"], stack)
		assert.Equal(t, "5m", asMap(cache["config"])["validity"], "%s: seed 000's query caching, 5 minutes", stack)
		assert.Contains(t, fe, "--query-frontend.downstream-url=http://thanos-query.monitoring.svc.cluster.local:10902", stack)

		compact := p.named(t, "StatefulSet", "thanos-compact")
		cargs := namedContainerArgs(t, compact, "thanos-compact")
		for _, res := range []string{"raw", "5m", "1h"} {
			assert.Contains(t, cargs, "--retention.resolution-"+res+"=90d", "%s: seed 000's 90 days long-term", stack)
		}
		assert.Contains(t, cargs, "--deduplication.replica-label=prometheus_replica", stack)
		assert.Contains(t, cargs, "--objstore.config-file=/etc/thanos/objstore.yaml", stack)
		store := p.named(t, "StatefulSet", "thanos-store-gateway")
		assert.Equal(t, "thanos-bucket", podSpec(compact)["serviceAccountName"], stack)
		assert.Equal(t, "thanos-bucket", podSpec(store)["serviceAccountName"], "%s: the store gateway reads with the compactor's role", stack)

		// One bucket configuration for the sidecars and Thanos, with no
		// credentials in it.
		var cfg struct {
			Type   string
			Config map[string]any
		}
		g := renderStack(t, stack).graph
		sec := one(t, g, "kubernetes:core/v1:Secret", stack+"-monitoring-thanos-objstore")
		require.NoError(t, yaml.Unmarshal([]byte(fmt.Sprint(asMap(sec.Input("stringData"))["objstore.yml"])), &cfg))
		aws := map[string]string{"us-east": "us-east-1", "us-west": "us-west-2"}[stack]
		assert.Equal(t, "S3", cfg.Type)
		assert.Equal(t, "tars-thanos-"+harness.MockAccountID+"-"+aws, cfg.Config["bucket"], stack)
		assert.Equal(t, true, cfg.Config["aws_sdk_auth"], stack)
		assert.NotContains(t, cfg.Config, "access_key", stack)
		assert.NotContains(t, cfg.Config, "secret_key", stack)
	}
}

// TestMonitoringThanosBucket: the block bucket is private, encrypted,
// TLS-only and kept; the sidecar may write but not delete, the compactor
// (and store gateway) may delete.
func TestMonitoringThanosBucket(t *testing.T) {
	g := mustRun(t, "us-east")
	b := one(t, g, "aws:s3/bucketV2:BucketV2", "us-east-monitoring-thanos")
	assert.Equal(t, "tars-thanos-"+harness.MockAccountID+"-us-east-1", b.Input("bucket"))
	assert.True(t, b.RetainOnDelete, "metric history outlives the stack")
	pab := one(t, g, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "us-east-monitoring-thanos")
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		assert.Equal(t, true, pab.Input(k), k)
	}
	sse := one(t, g, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "us-east-monitoring-thanos")
	assert.Contains(t, fmt.Sprint(sse.Input("rules")), "aws:kms")
	pol := one(t, g, "aws:s3/bucketPolicy:BucketPolicy", "us-east-monitoring-thanos")
	assert.Contains(t, fmt.Sprint(pol.Input("policy")), `"aws:SecureTransport":"false"`)

	actions := func(role string) []string {
		rp := one(t, g, "aws:iam/rolePolicy:RolePolicy", role)
		var doc struct{ Statement []struct{ Action []string } }
		require.NoError(t, json.Unmarshal([]byte(fmt.Sprint(rp.Input("policy"))), &doc))
		var out []string
		for _, s := range doc.Statement {
			out = append(out, s.Action...)
		}
		return out
	}
	sidecar := actions("us-east-monitoring-kube-prometheus-stack-irsa")
	assert.Contains(t, sidecar, "s3:PutObject")
	assert.NotContains(t, sidecar, "s3:DeleteObject", "the sidecar never deletes")
	assert.Contains(t, actions("us-east-monitoring-thanos-irsa"), "s3:DeleteObject", "the compactor prunes")
	trust := fmt.Sprint(one(t, g, "aws:iam/role:Role", "us-east-monitoring-thanos-irsa").Input("assumeRolePolicy"))
	assert.Contains(t, trust, "system:serviceaccount:monitoring:thanos-bucket")
}

// grafanaIni parses the rendered grafana.ini into section → key → value.
func grafanaIni(t *testing.T, p pickup) map[string]map[string]string {
	t.Helper()
	cm := p.named(t, "ConfigMap", "grafana")
	out := map[string]map[string]string{"": {}}
	sec := ""
	for _, line := range strings.Split(fmt.Sprint(asMap(cm["data"])["grafana.ini"]), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, ";") || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			sec = strings.Trim(line, "[]")
			out[sec] = map[string]string{}
		default:
			k, v, _ := strings.Cut(line, "=")
			out[sec][strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

// TestMonitoringGrafana: two replicas on Postgres with OAuth, the admin
// password from a Secret (no chart default), data sources with fixed uids
// whose services the stack renders.
func TestMonitoringGrafana(t *testing.T) {
	for _, stack := range Stacks {
		p := stackObjects(t, stack)
		d := p.named(t, "Deployment", "grafana")
		assert.EqualValues(t, 2, asMap(d["spec"])["replicas"], "%s: seed 000's 2 replicas", stack)
		ini := grafanaIni(t, p)
		db := ini["database"]
		assert.Equal(t, "postgres", db["type"], stack)
		assert.Equal(t, "grafana", db["name"], stack)
		assert.Equal(t, "grafana", db["user"], stack)
		assert.Equal(t, "require", db["ssl_mode"], stack)
		assert.NotContains(t, db, "password", "%s: the password comes from the environment", stack)
		oauth := ini["auth.generic_oauth"]
		assert.Equal(t, "true", oauth["enabled"], stack)
		assert.Equal(t, "tars.ai", oauth["allowed_domains"], stack)
		assert.NotContains(t, oauth, "client_secret", stack)
		assert.Equal(t, "false", ini["users"]["allow_sign_up"], stack)
		assert.Equal(t, "https://grafana."+stack+".tars.example.com", ini["server"]["root_url"], stack)

		env := map[string]string{}
		for _, c := range asList(podSpec(d)["containers"]) {
			if asMap(c)["name"] != "grafana" {
				continue
			}
			for _, e := range asList(asMap(c)["env"]) {
				ref := asMap(asMap(asMap(e)["valueFrom"])["secretKeyRef"])
				if ref != nil {
					env[fmt.Sprint(asMap(e)["name"])] = fmt.Sprint(ref["name"], "/", ref["key"])
				}
			}
		}
		assert.Equal(t, "grafana-db/password", env["GF_DATABASE_PASSWORD"], stack)
		assert.Equal(t, "grafana-oauth/client-secret", env["GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET"], stack)
		assert.Equal(t, "grafana-admin/admin-password", env["GF_SECURITY_ADMIN_PASSWORD"], "%s: no default admin password", stack)
		for _, s := range p.kind("Secret") {
			assert.NotContains(t, fmt.Sprint(s), "prom-operator", "%s: the chart's default admin password is nowhere", stack)
		}
		g := renderStack(t, stack).graph
		for _, name := range []string{"admin", "db", "oauth"} {
			assert.True(t, one(t, g, "kubernetes:core/v1:Secret", stack+"-grafana-"+name).IsSecret("stringData"), name)
		}

		// Data sources: fixed uids, Thanos the default, each URL a Service
		// the stack renders (Loki and Jaeger arrive with the logs and
		// traces stack), traces linked to logs.
		var file struct {
			Datasources []struct {
				Name, UID, Type, URL string
				IsDefault            bool           `json:"isDefault"`
				JSONData             map[string]any `json:"jsonData"`
			}
		}
		require.NoError(t, yaml.Unmarshal([]byte(fmt.Sprint(asMap(p.named(t, "ConfigMap", "grafana")["data"])["datasources.yaml"])), &file))
		byUID := map[string]int{}
		for i, ds := range file.Datasources {
			byUID[ds.UID] = i
		}
		assert.ElementsMatch(t, []string{"prometheus", "prometheus-local", "alertmanager", "loki", "jaeger"}, slices.Collect(maps.Keys(byUID)), stack)
		def := file.Datasources[byUID["prometheus"]]
		assert.True(t, def.IsDefault, stack)
		for _, uid := range []string{"prometheus", "prometheus-local", "alertmanager", "loki", "jaeger"} {
			ds := file.Datasources[byUID[uid]]
			host := strings.Split(strings.TrimPrefix(ds.URL, "http://"), ".")
			port := ds.URL[strings.LastIndex(ds.URL, ":")+1:]
			svc := p.named(t, "Service", host[0])
			assert.Contains(t, fmt.Sprint(asMap(svc["spec"])["ports"]), "port:"+port, "%s: %s → %s", stack, uid, ds.URL)
		}
		assert.Equal(t, "thanos-query-frontend", strings.Split(strings.TrimPrefix(def.URL, "http://"), ".")[0], "%s: long ranges go to Thanos", stack)
		assert.Equal(t, "loki", get(file.Datasources[byUID["jaeger"]].JSONData, "tracesToLogsV2.datasourceUid"), stack)
		assert.Equal(t, "jaeger", get(file.Datasources[byUID["loki"]].JSONData, "derivedFields").([]any)[0].(map[string]any)["datasourceUid"], stack)
	}
}

// TestMonitoringGrafanaEdge: Grafana is reachable at its root URL: a
// certificate for the name validated in the zone, an HTTPS-only load
// balancer in front of the Service the chart renders, the name's CNAME.
func TestMonitoringGrafanaEdge(t *testing.T) {
	for _, stack := range Stacks {
		host := "grafana." + stack + ".tars.example.com"
		g := renderStack(t, stack).graph
		cert := one(t, g, "aws:acm/certificate:Certificate", stack+"-grafana-cert")
		assert.Equal(t, host, cert.Input("domainName"))
		assert.Equal(t, "DNS", cert.Input("validationMethod"))
		rec := one(t, g, "aws:route53/record:Record", stack+"-grafana-record")
		assert.Equal(t, host, rec.Input("name"))
		assert.Equal(t, "CNAME", rec.Input("type"))
		assert.EqualValues(t, 60, rec.Input("ttl"))
		ing := one(t, g, "kubernetes:networking.k8s.io/v1:Ingress", stack+"-grafana-public")
		ann := asMap(ing.Input("metadata.annotations"))
		assert.Equal(t, `[{"HTTP":80},{"HTTPS":443}]`, ann["alb.ingress.kubernetes.io/listen-ports"], "HTTPS, and 80 redirecting")
		assert.Equal(t, "443", ann["alb.ingress.kubernetes.io/ssl-redirect"])
		assert.Equal(t, "ELBSecurityPolicy-TLS13-1-2-2021-06", ann["alb.ingress.kubernetes.io/ssl-policy"])
		assert.Equal(t, "0.0.0.0/0", ann["alb.ingress.kubernetes.io/inbound-cidrs"])
		assert.Equal(t, "/api/health", ann["alb.ingress.kubernetes.io/healthcheck-path"])
		backend := asMap(ing.Input("spec.defaultBackend.service"))
		svc := stackObjects(t, stack).named(t, "Service", fmt.Sprint(backend["name"]))
		assert.Contains(t, fmt.Sprint(asMap(svc["spec"])["ports"]), fmt.Sprintf("port:%v", get(backend, "port.number")), "%s: the backend is the rendered Grafana Service", stack)
		assert.True(t, g.Upstream(ing.URN)[one(t, g, "kubernetes:helm.sh/v3:Release", stack+"-addons-aws-load-balancer-controller").URN], "the Ingress waits for the load balancer controller")
	}
	g := mustRun(t, "us-east", harness.WithConfig("tars:grafana.allowedCidrs", []any{"203.0.113.0/24", "198.51.100.0/24"}))
	ann := asMap(one(t, g, "kubernetes:networking.k8s.io/v1:Ingress", "us-east-grafana-public").Input("metadata.annotations"))
	assert.Equal(t, "203.0.113.0/24,198.51.100.0/24", ann["alb.ingress.kubernetes.io/inbound-cidrs"])
}

// TestMonitoringGrafanaWritesToThePrimary: Grafana's database is on the
// Postgres primary: local in the primary region, the primary region's
// endpoint in the other; after a DR flip, local again. The database and
// its owner role are the Cluster's.
func TestMonitoringGrafanaWritesToThePrimary(t *testing.T) {
	dbHost := func(g *harness.Graph) string {
		v := asMap(asMap(asMap(one(t, g, "kubernetes:helm.sh/v3:Release", g.Stack+"-grafana-release").Input("values"))["grafana.ini"])["database"])
		return fmt.Sprint(v["host"])
	}
	east := mustRun(t, "us-east")
	assert.Equal(t, "tars-pg-us-east-rw.tars-postgres.svc.cluster.local:5432", dbHost(east))
	west := mustRun(t, "us-west")
	assert.Regexp(t, `^internal-tars-pg-us-east.*\.elb\.us-east-1\.amazonaws\.com:5432$`, dbHost(west), "the primary region's endpoint")
	flipped := mustRun(t, "us-west", harness.WithConfig("tars:topology.postgresPrimary", "us-west"))
	assert.Equal(t, "tars-pg-us-west-rw.tars-postgres.svc.cluster.local:5432", dbHost(flipped), "after the DR flip, the local primary")

	spec := pgSpec(t, east)
	var roles []string
	for _, r := range asList(get(spec, "managed.roles")) {
		if asMap(r)["name"] == "grafana" {
			roles = append(roles, fmt.Sprint(get(r, "passwordSecret.name")))
			assert.Equal(t, true, asMap(r)["login"])
		}
	}
	assert.Equal(t, []string{"tars-pg-grafana"}, roles, "the grafana role, its password from a Secret")
	db := one(t, east, "kubernetes:postgresql.cnpg.io/v1:Database", "us-east-postgres-db-grafana")
	assert.Equal(t, "grafana", db.Input("spec.name"))
	assert.Equal(t, "grafana", db.Input("spec.owner"))
	assert.Equal(t, "tars-pg-us-east", db.Input("spec.cluster.name"))
	assert.True(t, one(t, east, "kubernetes:core/v1:Secret", "us-east-postgres-db-grafana").IsSecret("stringData"))
	// The database's network policy admits the pods the Grafana chart
	// renders (their namespace and labels).
	p := stackObjects(t, "us-east")
	podLabels := asMap(get(p.named(t, "Deployment", "grafana"), "spec.template.metadata.labels"))
	np := p.namedIn(t, "NetworkPolicy", "tars-postgres", "tars-pg-us-east")
	admitted := false
	for _, r := range asList(get(np, "spec.ingress")) {
		for _, from := range asList(asMap(r)["from"]) {
			nsOK := get(from, "namespaceSelector.matchLabels") != nil && asMap(get(from, "namespaceSelector.matchLabels"))["kubernetes.io/metadata.name"] == "monitoring"
			sel := asMap(get(from, "podSelector.matchLabels"))
			podsOK := len(sel) > 0
			for k, v := range sel {
				podsOK = podsOK && podLabels[k] == v
			}
			if nsOK && podsOK && strings.Contains(fmt.Sprint(asMap(r)["ports"]), "port:5432") {
				admitted = true
			}
		}
	}
	assert.True(t, admitted, "the Postgres network policy admits the rendered Grafana pods on 5432")
	// Grafana's release waits for its database.
	rel := one(t, east, "kubernetes:helm.sh/v3:Release", "us-east-grafana-release")
	assert.True(t, east.Upstream(rel.URN)[db.URN], "Grafana starts after its database")
}

// TestMonitoringGrafanaWaitsForADatabase: the replica region's first
// deployment (the primary region has not run) has no database to use, so
// no Grafana yet.
func TestMonitoringGrafanaWaitsForADatabase(t *testing.T) {
	g := mustRun(t, "us-west", harness.WithPeeringNotRequested())
	assert.Empty(t, g.ByType(monitoring.GrafanaTypeToken))
	assert.NotEmpty(t, g.ByType("tars:monitoring:Monitoring"), "the rest of the metrics stack runs")
}

// TestMonitoringGrafanaRoleMapping evaluates the generated JMESPath, as
// Grafana does, on users' claims.
func TestMonitoringGrafanaRoleMapping(t *testing.T) {
	o := monitoring.OAuth{GroupsAttribute: "groups", RoleMapping: []monitoring.RoleMapping{
		{Role: "Viewer", Groups: []string{"support"}},
		{Role: "Admin", Groups: []string{"tars-sre", "platform"}},
		{Role: "Editor", Groups: []string{"tars-engineering"}},
	}}
	for _, tc := range []struct {
		def    string
		groups []any
		want   any
	}{
		{"Viewer", []any{"tars-sre"}, "Admin"},
		{"Viewer", []any{"platform"}, "Admin"},
		{"Viewer", []any{"tars-engineering", "tars-sre"}, "Admin"},
		{"Viewer", []any{"tars-engineering"}, "Editor"},
		{"Viewer", []any{"support"}, "Viewer"},
		{"Viewer", []any{"marketing"}, "Viewer"},
		{"None", []any{"marketing"}, false},
		{"None", []any{}, false},
	} {
		o.DefaultRole = tc.def
		got, err := jmespath.Search(o.RoleAttributePath(), map[string]any{"groups": tc.groups})
		require.NoError(t, err, o.RoleAttributePath())
		assert.Equal(t, tc.want, got, "%v with default %s: %s", tc.groups, tc.def, o.RoleAttributePath())
	}
}

// TestMonitoringGrafanaConfigErrors: bad tars:grafana config is refused
// with the key named.
func TestMonitoringGrafanaConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		path  string
		value any
		want  string
	}{
		{"tars:grafana.rootUrl", "http://grafana.tars.example.com", "tars:grafana.rootUrl (\"http://grafana.tars.example.com\") must be the https URL"},
		{"tars:grafana.oauth.allowedDomains", []any{}, "tars:grafana.oauth.allowedDomains is required"},
		{"tars:grafana.oauth.allowedDomains", []any{"Tars.AI"}, "tars:grafana.oauth.allowedDomains[0] (\"Tars.AI\") must be a domain name"},
		{"tars:grafana.oauth.tokenUrl", "ftp://sso", "tars:grafana.oauth.tokenUrl (\"ftp://sso\") must be an https URL"},
		{"tars:grafana.oauth.roleMapping[0].role", "Owner", "tars:grafana.oauth.roleMapping[0].role (\"Owner\") must be one of [Admin Editor Viewer]"},
		{"tars:grafana.oauth.roleMapping[1].role", "Admin", "tars:grafana.oauth.roleMapping[1].role (\"Admin\") is mapped twice"},
		{"tars:grafana.oauth.roleMapping[0].groups[0]", "o'brien", "tars:grafana.oauth.roleMapping[0].groups[0] (\"o'brien\") must be a non-empty group name without quotes"},
		{"tars:grafana.oauth.defaultRole", "Admin", "tars:grafana.oauth.defaultRole (\"Admin\") must be Viewer or None"},
		{"tars:grafana.oauth.clientId", "", "tars:grafana.oauth.clientId is required"},
		{"tars:grafana.rootUrl", "https://grafana.tars.ai", "tars:grafana.rootUrl (\"https://grafana.tars.ai\") must be a name in the zone tars.example.com"},
		{"tars:grafana.rootUrl", "https://grafana.tars.example.com:8443", "must be the https URL users open Grafana at (no port)"},
		{"tars:grafana.allowedCidrs", []any{"10.0.0.0/33"}, "tars:grafana.allowedCidrs[0] (\"10.0.0.0/33\") must be an IPv4 CIDR block"},
	} {
		_, err := harness.Run("us-east", harness.WithConfig(tc.path, tc.value))
		if assert.Error(t, err, tc.path) {
			assert.Contains(t, err.Error(), tc.want, tc.path)
		}
	}
	assert.True(t, check.DNSName("tars.ai"))
	assert.False(t, check.DNSName("localhost"))
}
