package tests

import (
	"context"
	"encoding/json"
	"github.com/tars-platform/infra/tests/apistandin"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/verify"
)

// Shared by the observability checks' tests (prometheus, thanos, loki,
// jaeger, kubecost).

// obsNow is the tests' clock.
var obsNow = time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)

// obsRelease is a helm.sh/v3 Release as the program registers it.
func obsRelease(name, namespace, chart, version string, values map[string]any) verify.Resource {
	in := map[string]any{"name": name, "namespace": namespace, "chart": chart, "version": version}
	if values != nil {
		in["values"] = values
	}
	return verify.Resource{Type: "kubernetes:helm.sh/v3:Release", Name: "us-east-" + name, Inputs: in}
}

// obsObject is a Kubernetes object the program creates: type token,
// metadata and the rest of its inputs.
func obsObject(token, namespace, name string, rest map[string]any) verify.Resource {
	in := map[string]any{"metadata": map[string]any{"namespace": namespace, "name": name}}
	for k, v := range rest {
		in[k] = v
	}
	return verify.Resource{Type: token, Name: "us-east-" + name, Inputs: in}
}

// obsEnv is a one-region run against the stand-in with the inventory of
// the resources.
func obsEnv(t *testing.T, s *apistandin.Server, resources ...verify.Resource) *verify.Env {
	t.Helper()
	inv, err := verify.NewInventory("us-east", resources)
	require.NoError(t, err)
	return &verify.Env{RunID: "verify-test", Regions: map[string]*verify.Region{
		"us-east": {Name: "us-east", Cluster: s.Cluster(t), Inventory: inv},
	}, Now: func() time.Time { return obsNow }}
}

// obsRun runs a check for us-east within its timeout.
func obsRun(t *testing.T, c verify.Check, env *verify.Env) (verify.Outcome, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	require.Equal(t, verify.PerRegion, c.Scope)
	require.Positive(t, c.Timeout)
	return c.Run(ctx, env, "us-east")
}

// obsJSON answers every request with body (JSON) and status code.
func obsJSON(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
}

// obsAPI serves fixed answers by path; any other path is a 404.
func obsAPI(routes map[string]http.Handler) http.Handler {
	mux := http.NewServeMux()
	for p, h := range routes {
		mux.Handle("GET "+p, h)
	}
	return mux
}

// obsMonitor is a prometheus-operator monitor as the API server lists it;
// release, when set, is the Helm release ("ns/name") that owns it.
func obsMonitor(kind, namespace, name, release string) map[string]any {
	meta := map[string]any{"namespace": namespace, "name": name, "uid": "uid-" + name}
	if release != "" {
		ns, rel, _ := strings.Cut(release, "/")
		meta["annotations"] = map[string]any{"meta.helm.sh/release-name": rel, "meta.helm.sh/release-namespace": ns}
		meta["labels"] = map[string]any{"app.kubernetes.io/managed-by": "Helm"}
	}
	return map[string]any{"apiVersion": "monitoring.coreos.com/v1", "kind": kind, "metadata": meta, "spec": map[string]any{}}
}

func kpsRelease() verify.Resource {
	return obsRelease("kube-prometheus-stack", "monitoring", "kube-prometheus-stack", "88.5.3", nil)
}

// promTargets renders /api/v1/targets?state=active in Prometheus's format
// (prometheus.io/docs/prometheus/latest/querying/api, "Targets").
func promTargets(targets ...map[string]any) string {
	for _, t := range targets {
		pool := t["scrapePool"].(string)
		t["discoveredLabels"] = map[string]string{"__address__": "10.0.1.17:8080", "__scheme__": "http", "job": pool}
		t["labels"] = map[string]string{"instance": "10.0.1.17:8080", "job": strings.Split(pool, "/")[2]}
		t["globalUrl"] = "http://10.0.1.17:8080/metrics"
		t["lastScrape"] = "2026-11-30T13:59:51.123Z"
		t["lastScrapeDuration"] = 0.0123
		t["scrapeInterval"] = "15s"
		t["scrapeTimeout"] = "10s"
		if _, ok := t["lastError"]; !ok {
			t["lastError"] = ""
		}
	}
	b, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]any{"activeTargets": targets, "droppedTargets": []any{}}})
	return string(b)
}

func promTarget(pool, health, lastError string) map[string]any {
	return map[string]any{"scrapePool": pool, "scrapeUrl": "http://10.0.1.17:8080/metrics", "health": health, "lastError": lastError}
}

// targetsCluster: the program's ServiceMonitor monitoring/jaeger and
// PodMonitor tars-postgres/tars-pg-us-east, the chart's ServiceMonitor
// monitoring/kube-prometheus-stack-prometheus, and a monitor of a release
// the program does not install (not expected).
func targetsCluster(t *testing.T, targets string) (*apistandin.Server, *verify.Env) {
	s := apistandin.New(t)
	s.Objects("servicemonitors.monitoring.coreos.com/v1",
		obsMonitor("ServiceMonitor", "monitoring", "jaeger", ""),
		obsMonitor("ServiceMonitor", "monitoring", "kube-prometheus-stack-prometheus", "monitoring/kube-prometheus-stack"),
		obsMonitor("ServiceMonitor", "default", "someone-elses", "default/someone-else"))
	s.Objects("podmonitors.monitoring.coreos.com/v1", obsMonitor("PodMonitor", "tars-postgres", "tars-pg-us-east", ""))
	s.Service("monitoring", "kube-prometheus-stack-prometheus", "9090", obsAPI(map[string]http.Handler{
		"/api/v1/targets": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			assert.Equal(t, "active", r.URL.Query().Get("state"))
			obsJSON(200, targets)(w, r)
		}),
	}))
	env := obsEnv(t, s, kpsRelease(),
		obsObject("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "monitoring", "jaeger", map[string]any{"spec": map[string]any{}}),
		obsObject("kubernetes:monitoring.coreos.com/v1:PodMonitor", "tars-postgres", "tars-pg-us-east", map[string]any{"spec": map[string]any{}}))
	return s, env
}

func TestVerifyPrometheusTargetsPass(t *testing.T) {
	_, env := targetsCluster(t, promTargets(
		promTarget("serviceMonitor/monitoring/jaeger/0", "up", ""),
		// One endpoint down, the other up: the monitor has a target up.
		promTarget("serviceMonitor/monitoring/kube-prometheus-stack-prometheus/0", "down", "connection refused"),
		promTarget("serviceMonitor/monitoring/kube-prometheus-stack-prometheus/1", "up", ""),
		promTarget("podMonitor/tars-postgres/tars-pg-us-east/0", "up", ""),
	))
	out, err := obsRun(t, verify.PrometheusTargets(), env)
	require.NoError(t, err)
	assert.Empty(t, out.Problems)
	assert.Equal(t, "each of 3 monitors (2 the program's, 1 its charts') has ≥1 target up", out.Expected)
	assert.Contains(t, out.Observed, "3 of 3 monitors have a target up (4 active targets")
}

func TestVerifyPrometheusTargetsFail(t *testing.T) {
	_, env := targetsCluster(t, promTargets(
		// jaeger: all down. A pool of another monitor whose name starts
		// the same must not count for it.
		promTarget("serviceMonitor/monitoring/jaeger/0", "down", `Get "http://10.0.1.17:8888/metrics": dial tcp 10.0.1.17:8888: connect: connection refused`),
		promTarget("serviceMonitor/monitoring/jaeger/1", "unknown", ""),
		promTarget("serviceMonitor/monitoring/jaeger-extra/0", "up", ""),
		// The postgres PodMonitor is up; the chart's monitor has no target.
		promTarget("podMonitor/tars-postgres/tars-pg-us-east/0", "up", ""),
	))
	env.Regions["us-east"].Inventory.Objects = append(env.Regions["us-east"].Inventory.Objects,
		verify.Object{APIVersion: "monitoring.coreos.com/v1", Kind: "ServiceMonitor", Namespace: "tars-data", Name: "redis"})
	out, err := obsRun(t, verify.PrometheusTargets(), env)
	require.NoError(t, err)
	require.Len(t, out.Problems, 3, "%q", out.Problems)
	assert.Equal(t, "ServiceMonitor tars-data/redis (created by the program): not in the cluster", out.Problems[0])
	assert.Equal(t, `ServiceMonitor monitoring/jaeger (the program): 2 targets, all down; first error: http://10.0.1.17:8080/metrics: Get "http://10.0.1.17:8888/metrics": dial tcp 10.0.1.17:8888: connect: connection refused`, out.Problems[1])
	assert.Equal(t, "ServiceMonitor monitoring/kube-prometheus-stack-prometheus (release monitoring/kube-prometheus-stack): no active target (scrape pool serviceMonitor/monitoring/kube-prometheus-stack-prometheus/*)", out.Problems[2])
	assert.Contains(t, out.Observed, "1 of 4 monitors have a target up")
}

// A renamed release is followed: kube-prometheus-stack's fullname is the
// release name plus the chart's, cut to 26 characters.
func TestVerifyPrometheusTargetsRenamedRelease(t *testing.T) {
	s := apistandin.New(t)
	s.Objects("servicemonitors.monitoring.coreos.com/v1")
	s.Objects("podmonitors.monitoring.coreos.com/v1")
	s.Service("observability", "metrics-kube-prometheus-st-prometheus", "9090", obsJSON(200, promTargets()))
	env := obsEnv(t, s, obsRelease("metrics", "observability", "kube-prometheus-stack", "88.5.3", nil))
	out, err := obsRun(t, verify.PrometheusTargets(), env)
	require.NoError(t, err)
	assert.Empty(t, out.Problems)
	assert.Contains(t, out.Observed, "observability/metrics-kube-prometheus-st-prometheus:9090")
}

// Prometheus answering an error, or not JSON, or not at all, fails the
// check with what was asked; nothing panics.
func TestVerifyPrometheusAPIErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		h    http.Handler
		want string
	}{
		"error status": {obsJSON(503, `{"status":"error","errorType":"unavailable","error":"TSDB not ready"}`), "TSDB not ready"},
		"not json":     {obsJSON(200, `<html>502 Bad Gateway</html>`), "not the API's JSON"},
		"not success":  {obsJSON(200, `{"status":"error","errorType":"internal","error":"boom"}`), `status "error": internal boom`},
		"no service":   {nil, "no endpoints available"},
	} {
		t.Run(name, func(t *testing.T) {
			for _, c := range []verify.Check{verify.PrometheusTargets(), verify.PrometheusRules(), verify.Alerts()} {
				s := apistandin.New(t)
				s.Objects("servicemonitors.monitoring.coreos.com/v1")
				s.Objects("podmonitors.monitoring.coreos.com/v1")
				s.Objects("prometheusrules.monitoring.coreos.com/v1")
				if tc.h != nil {
					s.Service("monitoring", "kube-prometheus-stack-prometheus", "9090", tc.h)
				}
				env := obsEnv(t, s, kpsRelease(), promRule("monitoring", "tars-availability", "tars-availability"))
				_, err := obsRun(t, c, env)
				require.Error(t, err, c.ID)
				assert.ErrorContains(t, err, "Prometheus monitoring/kube-prometheus-stack-prometheus:9090 /api/v1/", c.ID)
				assert.ErrorContains(t, err, tc.want, c.ID)
			}
		})
	}
}

// The CRDs not being served is an error, not a pass.
func TestVerifyPrometheusTargetsNoCRD(t *testing.T) {
	s := apistandin.New(t)
	s.Service("monitoring", "kube-prometheus-stack-prometheus", "9090", obsJSON(200, promTargets()))
	_, err := obsRun(t, verify.PrometheusTargets(), obsEnv(t, s, kpsRelease()))
	assert.ErrorIs(t, err, verify.ErrNotFound)
}

func promRule(namespace, name string, groups ...string) verify.Resource {
	var gs []any
	for _, g := range groups {
		gs = append(gs, map[string]any{"name": g, "rules": []any{map[string]any{"alert": g + "Down", "expr": "up == 0", "labels": map[string]any{"severity": "P1"}}}})
	}
	return obsObject("kubernetes:monitoring.coreos.com/v1:PrometheusRule", namespace, name, map[string]any{"spec": map[string]any{"groups": gs}})
}

// ruleGroup renders a group of /api/v1/rules (Prometheus docs, "Rules").
func ruleGroup(name, file string, health, lastError string) map[string]any {
	return map[string]any{"name": name, "file": file, "interval": 15, "limit": 0, "evaluationTime": 0.000512, "lastEvaluation": "2026-11-30T13:59:58.1Z",
		"rules": []any{map[string]any{
			"state": "inactive", "name": name + "Down", "query": "up == 0", "duration": 300, "keepFiringFor": 0,
			"labels": map[string]string{"severity": "P1"}, "annotations": map[string]string{}, "alerts": []any{},
			"health": health, "lastError": lastError, "evaluationTime": 0.0001, "lastEvaluation": "2026-11-30T13:59:58.1Z", "type": "alerting",
		}}}
}

const rulesDir = "/etc/prometheus/rules/prometheus-kube-prometheus-stack-prometheus-rulefiles-0/"

func rulesCluster(t *testing.T, groups ...map[string]any) *verify.Env {
	s := apistandin.New(t)
	s.Objects("prometheusrules.monitoring.coreos.com/v1",
		map[string]any{"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": map[string]any{"namespace": "monitoring", "name": "tars-availability", "uid": "3f6c1a52-9d2e-4f4b-8a51-1c2d3e4f5a6b"}},
		map[string]any{"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": map[string]any{"namespace": "monitoring", "name": "tars-latency", "uid": "0a1b2c3d-0000-4000-8000-000000000001"}})
	b, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]any{"groups": groups}})
	s.Service("monitoring", "kube-prometheus-stack-prometheus", "9090", obsAPI(map[string]http.Handler{"/api/v1/rules": obsJSON(200, string(b))}))
	return obsEnv(t, s, kpsRelease(),
		promRule("monitoring", "tars-availability", "tars-availability", "tars-availability-extra"),
		promRule("monitoring", "tars-latency", "tars-latency"))
}

func TestVerifyPrometheusRulesPass(t *testing.T) {
	env := rulesCluster(t,
		ruleGroup("tars-availability", rulesDir+"monitoring-tars-availability-3f6c1a52-9d2e-4f4b-8a51-1c2d3e4f5a6b.yaml", "ok", ""),
		ruleGroup("tars-availability-extra", rulesDir+"monitoring-tars-availability-3f6c1a52-9d2e-4f4b-8a51-1c2d3e4f5a6b.yaml", "ok", ""),
		ruleGroup("tars-latency", rulesDir+"monitoring-tars-latency-0a1b2c3d-0000-4000-8000-000000000001.yaml", "ok", ""),
		ruleGroup("kubernetes-apps", rulesDir+"monitoring-kube-prometheus-stack-kubernetes-apps-77.yaml", "ok", ""),
	)
	out, err := obsRun(t, verify.PrometheusRules(), env)
	require.NoError(t, err)
	assert.Empty(t, out.Problems)
	assert.Equal(t, "all 3 rule groups of the program's 2 PrometheusRules loaded, every rule healthy", out.Expected)
	assert.Equal(t, "3 of 3 groups loaded (Prometheus monitoring/kube-prometheus-stack-prometheus:9090 has 4 groups in all)", out.Observed)
}

func TestVerifyPrometheusRulesFail(t *testing.T) {
	env := rulesCluster(t,
		ruleGroup("tars-availability", rulesDir+"monitoring-tars-availability-3f6c1a52-9d2e-4f4b-8a51-1c2d3e4f5a6b.yaml", "err", "vector contains metrics with the same labelset after applying rule labels"),
		// tars-availability-extra is missing; tars-latency is loaded from
		// the file of an older object of the same name.
		ruleGroup("tars-latency", rulesDir+"monitoring-tars-latency-ffffffff-0000-4000-8000-000000000000.yaml", "ok", ""),
	)
	out, err := obsRun(t, verify.PrometheusRules(), env)
	require.NoError(t, err)
	require.Len(t, out.Problems, 3, "%q", out.Problems)
	assert.Equal(t, `PrometheusRule monitoring/tars-availability group tars-availability: rule tars-availabilityDown health "err": "vector contains metrics with the same labelset after applying rule labels"`, out.Problems[0])
	assert.Equal(t, "PrometheusRule monitoring/tars-availability: 1 of 2 groups not loaded from monitoring-tars-availability-3f6c1a52-9d2e-4f4b-8a51-1c2d3e4f5a6b.yaml: tars-availability-extra", out.Problems[1])
	assert.Equal(t, "PrometheusRule monitoring/tars-latency: 1 of 1 groups not loaded from monitoring-tars-latency-0a1b2c3d-0000-4000-8000-000000000001.yaml: tars-latency (loaded only from "+rulesDir+"monitoring-tars-latency-ffffffff-0000-4000-8000-000000000000.yaml)", out.Problems[2])
	assert.Equal(t, "1 of 3 groups loaded (Prometheus monitoring/kube-prometheus-stack-prometheus:9090 has 2 groups in all)", out.Observed)
}

func TestVerifyPrometheusRulesNotInCluster(t *testing.T) {
	env := rulesCluster(t)
	env.Regions["us-east"].Inventory.Objects = append(env.Regions["us-east"].Inventory.Objects,
		verify.Object{Kind: "PrometheusRule", Namespace: "monitoring", Name: "tars-new", Body: map[string]any{"spec": map[string]any{"groups": []any{map[string]any{"name": "tars-new"}}}}})
	out, err := obsRun(t, verify.PrometheusRules(), env)
	require.NoError(t, err)
	assert.Contains(t, out.Problems, "PrometheusRule monitoring/tars-new: not in the cluster (1 groups not loaded)")
	assert.Equal(t, "0 of 4 groups loaded (Prometheus monitoring/kube-prometheus-stack-prometheus:9090 has 0 groups in all)", out.Observed)
}

// promAlerts renders /api/v1/alerts (Prometheus docs, "Alerts").
func promAlerts(alerts ...[3]string) string {
	var as []any
	for _, a := range alerts {
		as = append(as, map[string]any{
			"labels":      map[string]string{"alertname": a[0], "severity": a[1], "namespace": "tars"},
			"annotations": map[string]string{"summary": a[0]},
			"state":       a[2], "activeAt": "2026-11-30T13:41:15.123Z", "value": "1e+00",
		})
	}
	b, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]any{"alerts": as}})
	return string(b)
}

func alertsEnv(t *testing.T, body string) *verify.Env {
	s := apistandin.New(t)
	s.Service("monitoring", "kube-prometheus-stack-prometheus", "9090", obsAPI(map[string]http.Handler{"/api/v1/alerts": obsJSON(200, body)}))
	return obsEnv(t, s, kpsRelease())
}

func TestVerifyAlertsPass(t *testing.T) {
	env := alertsEnv(t, promAlerts(
		[3]string{"Watchdog", "none", "firing"},
		[3]string{"HighLatencyP95", "P2", "firing"},
		[3]string{"DiskFillingUp", "P3", "firing"},
		[3]string{"KubeCPUOvercommit", "warning", "firing"},
		// Pending alerts do not count, whatever their severity.
		[3]string{"APIDown", "P0", "pending"},
	))
	out, err := obsRun(t, verify.Alerts(), env)
	require.NoError(t, err)
	assert.Empty(t, out.Problems)
	assert.Equal(t, "4 firing (P2 1, P3 1, warning 1, Watchdog 1); 0 above P2", out.Observed)
}

func TestVerifyAlertsFail(t *testing.T) {
	env := alertsEnv(t, promAlerts(
		[3]string{"Watchdog", "none", "firing"},
		[3]string{"PostgresReplicationLagHigh", "P1", "firing"},
		[3]string{"KubePodCrashLooping", "critical", "firing"},
		[3]string{"HighLatencyP95", "P2", "firing"},
	))
	out, err := obsRun(t, verify.Alerts(), env)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"P1 PostgresReplicationLagHigh firing since 2026-11-30T13:41:15.123Z (namespace=tars)",
		"critical KubePodCrashLooping firing since 2026-11-30T13:41:15.123Z (namespace=tars)",
	}, out.Problems)
	assert.Equal(t, "4 firing (P1 1, critical 1, P2 1, Watchdog 1); 2 above P2", out.Observed)
}
