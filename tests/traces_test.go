package tests

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// The traces stack (issue #15) as the charts render it with the program's
// values: seed 003's numbers are literals here.

// configMapYAML parses one key of a rendered ConfigMap in monitoring.
func configMapYAML(t *testing.T, p pickup, name, key string) map[string]any {
	t.Helper()
	cm := p.named(t, "ConfigMap", name)
	src, ok := asMap(cm["data"])[key]
	require.True(t, ok, "ConfigMap %s has no %s: %v", name, key, asMap(cm["data"]))
	var out map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(fmt.Sprint(src)), &out))
	return out
}

// servicePorts lists a rendered Service's port numbers by name.
func servicePorts(t *testing.T, p pickup, name string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, port := range asList(asMap(p.named(t, "Service", name)["spec"])["ports"]) {
		out[fmt.Sprint(asMap(port)["name"])] = toInt(asMap(port)["port"])
	}
	return out
}

// hostPort splits "http://svc.ns.svc.cluster.local:9200" or "svc.ns...:4317".
func hostPort(u string) (string, int) {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
	host, port, _ := strings.Cut(u, ":")
	n, _ := strconv.Atoi(port)
	return strings.Split(host, ".")[0], n
}

// TestTracesJaeger: two replicas of Jaeger v2 on OpenSearch, OTLP and
// Zipkin in, the seed's sampling strategies served, 7 days kept.
func TestTracesJaeger(t *testing.T) {
	for _, stack := range Stacks {
		p := stackObjects(t, stack)
		d := p.named(t, "Deployment", "jaeger")
		assert.EqualValues(t, 2, asMap(d["spec"])["replicas"], "%s: seed 003's collector ×2", stack)
		assert.Equal(t, "RollingUpdate", get(d, "spec.strategy.type"), stack)
		assert.Len(t, fmt.Sprint(asMap(get(d, "spec.template.metadata.labels"))["tars.ai/config-hash"]), 16, "%s: a configuration change rolls the pods", stack)
		cfg := configMapYAML(t, p, "user-config", "user-config.yaml")
		assert.Equal(t, "0.0.0.0:4317", get(cfg, "receivers.otlp.protocols.grpc.endpoint"), stack)
		assert.Equal(t, "0.0.0.0:4318", get(cfg, "receivers.otlp.protocols.http.endpoint"), stack)
		assert.Equal(t, "0.0.0.0:9411", get(cfg, "receivers.zipkin.endpoint"), "%s: Zipkin 9411", stack)
		assert.ElementsMatch(t, []any{"otlp", "zipkin"}, get(cfg, "service.pipelines.traces.receivers"), stack)
		ports := servicePorts(t, p, "jaeger")
		for name, port := range map[string]int{"otlp-grpc": 4317, "otlp-http": 4318, "http-zipkin": 9411, "http-query": 16686, "grpc-sampling": 5779} {
			assert.Equal(t, port, ports[name], "%s: the Service exposes %s", stack, name)
		}
		// Storage: the rendered OpenSearch Service.
		urls := asList(get(cfg, "extensions.jaeger_storage.backends.primary.opensearch.server_urls"))
		require.Len(t, urls, 1, stack)
		host, port := hostPort(fmt.Sprint(urls[0]))
		assert.Equal(t, port, servicePorts(t, p, host)["http"], "%s: %v is the OpenSearch Service", stack, urls[0])

		// Sampling: the file the extension reads is the mounted ConfigMap.
		path := fmt.Sprint(get(cfg, "extensions.remote_sampling.file.path"))
		var mount, volumeCM string
		for _, m := range asList(asMap(asList(podSpec(d)["containers"])[0])["volumeMounts"]) {
			if strings.HasPrefix(path, fmt.Sprint(asMap(m)["mountPath"])+"/") {
				mount = fmt.Sprint(asMap(m)["name"])
			}
		}
		for _, v := range asList(podSpec(d)["volumes"]) {
			if asMap(v)["name"] == mount {
				volumeCM = fmt.Sprint(get(v, "configMap.name"))
			}
		}
		require.NotEmpty(t, volumeCM, "%s: %s is on a mounted ConfigMap", stack, path)
		var strategies struct {
			Default struct {
				Type  string
				Param float64
			} `json:"default_strategy"`
			Services []struct {
				Service, Type string
				Param         float64
			} `json:"service_strategies"`
		}
		raw := asMap(p.named(t, "ConfigMap", volumeCM)["data"])[path[strings.LastIndex(path, "/")+1:]]
		require.NoError(t, json.Unmarshal([]byte(fmt.Sprint(raw)), &strategies))
		assert.Equal(t, 0.1, strategies.Default.Param, "%s: default 10%%", stack)
		got := map[string]float64{}
		for _, s := range strategies.Services {
			got[s.Service] = s.Param
			assert.Equal(t, "probabilistic", s.Type)
		}
		assert.Equal(t, map[string]float64{"tars-backend": 1.0, "tars-rag-service": 1.0, "tars-ui": 0.5}, got, stack)

		// Retention: the nightly index cleaner keeps 7 days of jaeger-* indices.
		var cleaner map[string]any
		for _, cj := range p.kind("CronJob") {
			if strings.Contains(fmt.Sprint(asMap(cj["metadata"])["name"]), "index-cleaner") {
				cleaner = cj
			}
		}
		require.NotNil(t, cleaner, "%s: the index cleaner", stack)
		var args []string
		for _, a := range asList(get(asList(get(cleaner, "spec.jobTemplate.spec.template.spec.containers"))[0], "args")) {
			args = append(args, fmt.Sprint(a))
		}
		require.NotEmpty(t, args, stack)
		assert.Equal(t, "7", args[0], "%s: indices older than 7 days go: %v", stack, args)
		assert.Contains(t, args, "--index-prefix=jaeger", stack)
		assert.Contains(t, args, "http://opensearch-cluster-master.monitoring.svc.cluster.local:9200", stack)

		// Jaeger's own metrics are scraped: the ServiceMonitor's port is on
		// the Service it selects.
		sm := p.named(t, "ServiceMonitor", "jaeger")
		assert.Contains(t, ports, fmt.Sprint(get(asList(get(sm, "spec.endpoints"))[0], "port")), stack)
	}
}

// TestTracesOpenSearch: three nodes, a week's volume each, no privileged
// container.
func TestTracesOpenSearch(t *testing.T) {
	for _, stack := range Stacks {
		p := stackObjects(t, stack)
		sts := p.named(t, "StatefulSet", "opensearch-cluster-master")
		assert.EqualValues(t, 3, asMap(sts["spec"])["replicas"], stack)
		claims := asList(get(sts, "spec.volumeClaimTemplates"))
		require.Len(t, claims, 1, stack)
		assert.Equal(t, "30Gi", get(claims[0], "spec.resources.requests.storage"), stack)
		assert.Equal(t, "gp3-encrypted-retain", get(claims[0], "spec.storageClassName"), "%s: the Retain class", stack)
		for _, c := range append(asList(podSpec(sts)["initContainers"]), asList(podSpec(sts)["containers"])...) {
			assert.NotEqual(t, true, get(c, "securityContext.privileged"), "%s: %v runs privileged", stack, asMap(c)["name"])
		}
	}
}

// TestTracesCollector: the OpenTelemetry collector with the seed's
// receivers, processors and exporters.
func TestTracesCollector(t *testing.T) {
	for _, stack := range Stacks {
		p := stackObjects(t, stack)
		name := "otel-collector-opentelemetry-collector"
		d := p.named(t, "Deployment", name)
		assert.EqualValues(t, 2, asMap(d["spec"])["replicas"], stack)
		cfg := configMapYAML(t, p, name, "relay")
		assert.EqualValues(t, 512, get(cfg, "processors.memory_limiter.limit_mib"), "%s: 512 MiB", stack)
		assert.EqualValues(t, 128, get(cfg, "processors.memory_limiter.spike_limit_mib"), "%s: 128 MiB spike", stack)
		assert.EqualValues(t, 1024, get(cfg, "processors.batch.send_batch_size"), "%s: batch 1024", stack)
		assert.Equal(t, "10s", get(cfg, "processors.batch.timeout"), "%s: batch 10 s", stack)
		var keys []string
		for _, a := range asList(get(cfg, "processors.resource.attributes")) {
			keys = append(keys, fmt.Sprint(asMap(a)["key"], "=", asMap(a)["value"]))
		}
		assert.Contains(t, keys, "deployment.environment.name=production", stack)
		assert.Contains(t, keys, "k8s.namespace.name=${env:OTEL_K8S_NAMESPACE}", stack)
		assert.Equal(t, []any{"otlp"}, get(cfg, "service.pipelines.traces.receivers"), stack)
		assert.Equal(t, []any{"memory_limiter", "resource", "batch"}, get(cfg, "service.pipelines.traces.processors"), "%s: the limiter first", stack)
		assert.ElementsMatch(t, []any{"otlp/jaeger", "spanmetrics"}, get(cfg, "service.pipelines.traces.exporters"), stack)
		assert.Equal(t, []any{"prometheus"}, get(cfg, "service.pipelines.metrics.exporters"), stack)
		// Traces go to the rendered Jaeger Service's OTLP port.
		host, port := hostPort(fmt.Sprint(get(cfg, "exporters.otlp/jaeger.endpoint")))
		assert.Equal(t, port, servicePorts(t, p, host)["otlp-grpc"], "%s: %s:%d is Jaeger's OTLP port", stack, host, port)
		ports := servicePorts(t, p, name)
		assert.Equal(t, 4317, ports["otlp"], stack)
		assert.Equal(t, 4318, ports["otlp-http"], stack)
		// Span metrics: the exporter's port is on the Service the chart's
		// ServiceMonitor scrapes.
		_, promPort := hostPort("x:" + strings.Split(fmt.Sprint(get(cfg, "exporters.prometheus.endpoint")), ":")[1])
		var scraped []string
		for _, sm := range p.kind("ServiceMonitor") {
			if asMap(sm["metadata"])["name"] == name {
				for _, e := range asList(get(sm, "spec.endpoints")) {
					scraped = append(scraped, fmt.Sprint(asMap(e)["port"]))
				}
			}
		}
		var spanPort string
		for n, v := range ports {
			if v == promPort {
				spanPort = n
			}
		}
		assert.True(t, slices.Contains(scraped, spanPort), "%s: the span-metrics port %d (%q) is scraped: %v", stack, promPort, spanPort, scraped)
	}
}

// checkOTelConfig is the collector's own wiring check (otelcol's
// configuration validation, which this project cannot link: the contrib
// modules are too heavy to build here): every component a pipeline or the
// service names is defined in its section, a connector is the exporter of
// one pipeline and the receiver of another, and no pipeline lacks
// receivers or exporters.
func checkOTelConfig(cfg map[string]any) error {
	var problems []string
	defined := func(section, id string) bool {
		_, ok := asMap(cfg[section])[id]
		return ok
	}
	for _, e := range asList(get(cfg, "service.extensions")) {
		if !defined("extensions", fmt.Sprint(e)) {
			problems = append(problems, fmt.Sprintf("extension %v is not defined", e))
		}
	}
	pipelines := asMap(get(cfg, "service.pipelines"))
	if len(pipelines) == 0 {
		problems = append(problems, "no pipelines")
	}
	asReceiver, asExporter := map[string]bool{}, map[string]bool{}
	for name, p := range pipelines {
		for _, role := range []struct{ key, section string }{{"receivers", "receivers"}, {"processors", "processors"}, {"exporters", "exporters"}} {
			ids := asList(asMap(p)[role.key])
			if len(ids) == 0 && role.key != "processors" {
				problems = append(problems, fmt.Sprintf("pipeline %s has no %s", name, role.key))
			}
			for _, id := range ids {
				s := fmt.Sprint(id)
				switch {
				case defined(role.section, s):
				case role.key != "processors" && defined("connectors", s):
					if role.key == "receivers" {
						asReceiver[s] = true
					} else {
						asExporter[s] = true
					}
				default:
					problems = append(problems, fmt.Sprintf("pipeline %s: %s %s is not defined", name, strings.TrimSuffix(role.key, "s"), s))
				}
			}
		}
	}
	for c := range asMap(cfg["connectors"]) {
		if asReceiver[c] != asExporter[c] {
			problems = append(problems, fmt.Sprintf("connector %s must be the exporter of one pipeline and the receiver of another", c))
		}
	}
	slices.Sort(problems)
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// TestTracesConfigsAreWired: the rendered Jaeger and collector
// configurations pass the wiring check; broken ones do not.
func TestTracesConfigsAreWired(t *testing.T) {
	p := stackObjects(t, "us-east")
	configs := map[string]map[string]any{
		"jaeger":         configMapYAML(t, p, "user-config", "user-config.yaml"),
		"otel-collector": configMapYAML(t, p, "otel-collector-opentelemetry-collector", "relay"),
	}
	for name, cfg := range configs {
		assert.NoError(t, checkOTelConfig(cfg), name)
	}
	broken := func(name string, edit func(map[string]any)) map[string]any {
		b, err := json.Marshal(configs[name])
		require.NoError(t, err)
		var c map[string]any
		require.NoError(t, json.Unmarshal(b, &c))
		edit(c)
		return c
	}
	for _, tc := range []struct {
		name, want string
		edit       func(map[string]any)
	}{
		{"otel-collector", "pipeline traces: exporter otlp/jaeger is not defined", func(c map[string]any) { delete(asMap(c["exporters"]), "otlp/jaeger") }},
		{"otel-collector", "pipeline traces: processor resource is not defined", func(c map[string]any) { delete(asMap(c["processors"]), "resource") }},
		{"otel-collector", "connector spanmetrics must be the exporter of one pipeline and the receiver of another", func(c map[string]any) {
			delete(asMap(get(c, "service.pipelines")), "metrics")
		}},
		{"jaeger", "extension remote_sampling is not defined", func(c map[string]any) { delete(asMap(c["extensions"]), "remote_sampling") }},
		{"jaeger", "pipeline traces has no receivers", func(c map[string]any) {
			asMap(get(c, "service.pipelines.traces"))["receivers"] = []any{}
		}},
	} {
		err := checkOTelConfig(broken(tc.name, tc.edit))
		if assert.Error(t, err, tc.want) {
			assert.Contains(t, err.Error(), tc.want)
		}
	}
}
