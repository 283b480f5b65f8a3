package monitoring

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/chart"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/slo"
)

// The traces stack (seed 003 "Jaeger Distributed Tracing", "OpenTelemetry
// Collector"; seed 000 "Trace Collection"): OpenSearch holding the spans
// 7 days, Jaeger v2 (collector and query UI in one deployment of two
// replicas) serving the seed's sampling strategies, and the OpenTelemetry
// collector receiving OTLP, sending traces to Jaeger and span metrics to
// Prometheus.
//
// The seed's Jaeger v1 agent ports are gone in v2, which has no agent:
// the services send OTLP (gRPC 4317 instead of the collector's 14250,
// HTTP 4318 instead of 14268's Thrift) to the OpenTelemetry collector or
// to Jaeger, and the UDP Thrift ports 6831/6832 of the agent have no
// successor (the OpenTelemetry SDKs do not speak them); Zipkin stays on
// 9411 and sampling strategies are served on 5778 (HTTP) and 5779 (gRPC).

// Traces settings.
const (
	OpenSearchReleaseName = "opensearch"
	// OpenSearchService is the chart's Service (clusterName-nodeGroup).
	OpenSearchService = "opensearch-cluster-master"
	// OpenSearchReplicas hold each index with one replica.
	OpenSearchReplicas = 3
	// OpenSearchStorageGiB per node: a week of spans.
	OpenSearchStorageGiB = 30
	// TraceRetentionDays: seed 003 "Retention: 7 days"; the index cleaner
	// deletes older daily indices.
	TraceRetentionDays = 7
	// JaegerReplicas: seed 003 "Collector (2 replicas)".
	JaegerReplicas = 2
	// JaegerSamplingConfigMap holds the sampling strategies file.
	JaegerSamplingConfigMap = "jaeger-sampling-strategies"
	// JaegerIndexPrefix of the span and service indices.
	JaegerIndexPrefix = "jaeger"
	// OTelCollectorReleaseName is the collector's release; its Service is
	// <release>-opentelemetry-collector.
	OTelCollectorReleaseName = "otel-collector"
	// OTelReplicas of the collector deployment.
	OTelReplicas = 2
	// OTel's pipeline numbers (seed 003): batch 1024 spans or 10 s; the
	// memory limiter at 512 MiB with a 128 MiB spike allowance.
	OTelBatchSize      = 1024
	OTelBatchTimeout   = "10s"
	OTelMemoryLimitMiB = 512
	OTelSpikeLimitMiB  = 128
	// OTLP ports.
	OTLPGRPCPort = 4317
	OTLPHTTPPort = 4318
	// ZipkinPort and the sampling ports.
	ZipkinPort         = 9411
	SamplingHTTPPort   = 5778
	SamplingGRPCPort   = 5779
	SpanMetricsPort    = 8889
	JaegerMetricsPort  = 8888
	jaegerHealthPort   = 13133
	openSearchHTTPPort = 9200
)

// SamplingStrategy is one service's probabilistic sampling rate.
type SamplingStrategy struct {
	Service string
	Rate    float64
}

// SamplingStrategies are seed 003's: the production services at
// slo.ProductionTraceSampling (the rate the policy pack enforces), the UI
// at half.
var SamplingStrategies = append(productionSampling(), SamplingStrategy{Service: "tars-ui", Rate: 0.5})

func productionSampling() []SamplingStrategy {
	var out []SamplingStrategy
	for _, s := range slo.ProductionServices {
		out = append(out, SamplingStrategy{Service: s, Rate: slo.ProductionTraceSampling})
	}
	return out
}

// DefaultSamplingRate is every other service's rate.
const DefaultSamplingRate = 0.1

// samplingFile is Jaeger's strategies file.
type samplingFile struct {
	DefaultStrategy   probabilistic     `json:"default_strategy"`
	ServiceStrategies []serviceStrategy `json:"service_strategies"`
}

type probabilistic struct {
	Type  string  `json:"type"`
	Param float64 `json:"param"`
}

type serviceStrategy struct {
	Service string `json:"service"`
	probabilistic
}

// SamplingJSON renders the strategies file.
func SamplingJSON() (string, error) {
	f := samplingFile{DefaultStrategy: probabilistic{Type: "probabilistic", Param: DefaultSamplingRate}}
	for _, s := range SamplingStrategies {
		f.ServiceStrategies = append(f.ServiceStrategies, serviceStrategy{Service: s.Service, probabilistic: probabilistic{Type: "probabilistic", Param: s.Rate}})
	}
	b, err := json.MarshalIndent(f, "", "  ")
	return string(b), err
}

func openSearchURL(ns string) string {
	return fmt.Sprintf("http://%s.%s.svc.cluster.local:%d", OpenSearchService, ns, openSearchHTTPPort)
}

// newTraces creates OpenSearch, Jaeger (with its sampling file and
// ServiceMonitor) and the OpenTelemetry collector. stack is the
// kube-prometheus-stack release (the ServiceMonitor CRD).
func (m *Monitoring) newTraces(ctx *pulumi.Context, name string, a Args, ns, stack pulumi.Resource) error {
	parent := pulumi.Parent(m)
	os, err := chart.New(ctx, name+"-opensearch", openSearchRelease(a, ns), parent)
	if err != nil {
		return err
	}
	strategies, err := SamplingJSON()
	if err != nil {
		return fmt.Errorf("sampling strategies: %w", err)
	}
	cm, err := corev1.NewConfigMap(ctx, name+"-jaeger-sampling", &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(JaegerSamplingConfigMap), Namespace: pulumi.String(a.Namespace),
			Labels: pulumi.StringMap{"app.kubernetes.io/name": pulumi.String("jaeger"), "app.kubernetes.io/part-of": pulumi.String("tars")}},
		Data: pulumi.StringMap{"strategies.json": pulumi.String(strategies)},
	}, parent, pulumi.DependsOn([]pulumi.Resource{ns}))
	if err != nil {
		return err
	}
	jaeger, err := jaegerRelease(a, ns)
	if err != nil {
		return err
	}
	jaeger.DependsOn = append(jaeger.DependsOn, os.Helm, cm)
	jrel, err := chart.New(ctx, name+"-jaeger", jaeger, parent)
	if err != nil {
		return err
	}
	// Jaeger's chart renders no ServiceMonitor: its own metrics.
	if _, err := apiextensions.NewCustomResource(ctx, name+"-jaeger-metrics", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("monitoring.coreos.com/v1"),
		Kind:       pulumi.String("ServiceMonitor"),
		Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(JaegerReleaseName), Namespace: pulumi.String(a.Namespace), Labels: pulumi.StringMap{"app.kubernetes.io/part-of": pulumi.String("tars")}},
		OtherFields: kubernetes.UntypedArgs{"spec": map[string]any{
			"selector":  map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "jaeger", "app.kubernetes.io/instance": JaegerReleaseName}},
			"endpoints": []any{map[string]any{"port": "internal-metrics", "path": "/metrics"}},
		}},
	}, parent, pulumi.DependsOn([]pulumi.Resource{stack, jrel.Helm})); err != nil {
		return err
	}
	otel := otelRelease(a, ns)
	otel.DependsOn = append(otel.DependsOn, stack, jrel.Helm)
	_, err = chart.New(ctx, name+"-otel-collector", otel, parent)
	return err
}

// openSearchValues are the values set on opensearch 3.6.0.
type openSearchValues struct {
	Replicas           int               `json:"replicas"`
	OpensearchJavaOpts string            `json:"opensearchJavaOpts"`
	Resources          chart.Resources   `json:"resources"`
	Persistence        osPersistence     `json:"persistence"`
	AntiAffinity       string            `json:"antiAffinity"`
	MaxUnavailable     int               `json:"maxUnavailable"`
	Protocol           string            `json:"protocol"`
	Config             map[string]string `json:"config"`
	ExtraEnvs          []envVar          `json:"extraEnvs"`
}

type osPersistence struct {
	Enabled         bool   `json:"enabled"`
	EnableInitChown bool   `json:"enableInitChown"`
	StorageClass    string `json:"storageClass"`
	Size            string `json:"size"`
}

type envVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// openSearchRelease: three nodes inside the cluster, reached only by
// Jaeger over plain HTTP (the security plugin is off; the demo
// certificates it would otherwise install are public keys).
func openSearchRelease(a Args, ns pulumi.Resource) chart.Args {
	return chart.Args{
		Chart: versions.OpenSearch, ReleaseName: OpenSearchReleaseName, Namespace: a.Namespace, NamespaceResource: ns,
		Values: openSearchValues{
			Replicas:           OpenSearchReplicas,
			OpensearchJavaOpts: "-Xms512m -Xmx512m",
			// Heap plus off-heap, request = limit: never OOM-killed for a
			// neighbour's burst.
			Resources:      chart.Burstable(chart.ResourceList{CPU: "250m", Memory: "1Gi"}, chart.ResourceList{CPU: "1", Memory: "1Gi"}),
			Persistence:    osPersistence{Enabled: true, EnableInitChown: false, StorageClass: a.StorageClass, Size: fmt.Sprintf("%dGi", OpenSearchStorageGiB)},
			AntiAffinity:   "hard",
			MaxUnavailable: 1,
			Protocol:       "http",
			Config:         map[string]string{"opensearch.yml": "cluster.name: opensearch-cluster\nnetwork.host: 0.0.0.0\nplugins.security.disabled: true\n"},
			ExtraEnvs:      []envVar{{Name: "DISABLE_INSTALL_DEMO_CONFIG", Value: "true"}, {Name: "DISABLE_SECURITY_PLUGIN", Value: "true"}},
		},
	}
}

// jaegerValues are the values set on jaeger 4.11.1. Its one Deployment is
// the v2 binary running collector and query; userconfig replaces the
// image's configuration whole (so every listener is bound explicitly).
type jaegerValues struct {
	Jaeger         jaegerDeploy `json:"jaeger"`
	Userconfig     otelDocument `json:"userconfig"`
	EsIndexCleaner indexCleaner `json:"esIndexCleaner"`
	Storage        jaegerStore  `json:"storage"`
}

type jaegerDeploy struct {
	// PodLabels carry the configuration's hash: the chart mounts the
	// fixed-name user-config ConfigMap without a checksum, so without it a
	// configuration change would not roll the pods.
	PodLabels                 map[string]string                `json:"podLabels"`
	Replicas                  int                              `json:"replicas"`
	Strategy                  rolloutStrategy                  `json:"strategy"`
	Resources                 chart.Resources                  `json:"resources"`
	TopologySpreadConstraints []chart.TopologySpreadConstraint `json:"topologySpreadConstraints"`
	Service                   jaegerService                    `json:"service"`
	ExtraVolumes              []configMapVolume                `json:"extraVolumes"`
	ExtraVolumeMounts         []volumeMount                    `json:"extraVolumeMounts"`
}

type rolloutStrategy struct {
	Type string `json:"type"`
}

type jaegerService struct {
	ExtraPorts []servicePort `json:"extraPorts"`
}

type servicePort struct {
	Name       string `json:"name"`
	Port       int    `json:"port"`
	TargetPort int    `json:"targetPort"`
}

type configMapVolume struct {
	Name      string         `json:"name"`
	ConfigMap localObjectRef `json:"configMap"`
}

type localObjectRef struct {
	Name string `json:"name"`
}

type volumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly"`
}

// indexCleaner is the chart's nightly CronJob deleting indices older than
// NumberOfDays: the 7-day retention (Jaeger's ILM support is
// Elasticsearch-only; OpenSearch has no ILM API).
type indexCleaner struct {
	Enabled       bool              `json:"enabled"`
	NumberOfDays  int               `json:"numberOfDays"`
	CmdlineParams map[string]string `json:"cmdlineParams"`
}

type jaegerStore struct {
	Type          string       `json:"type"`
	Elasticsearch esConnection `json:"elasticsearch"`
}

type esConnection struct {
	URL string `json:"url"`
}

// otelDocument is an OpenTelemetry-collector-style configuration (Jaeger
// v2 and the collector share it): components by id, then the service.
type otelDocument struct {
	Extensions map[string]any `json:"extensions,omitempty"`
	Receivers  map[string]any `json:"receivers"`
	Processors map[string]any `json:"processors,omitempty"`
	Connectors map[string]any `json:"connectors,omitempty"`
	Exporters  map[string]any `json:"exporters"`
	Service    otelService    `json:"service"`
}

type otelService struct {
	Extensions []string                `json:"extensions,omitempty"`
	Pipelines  map[string]otelPipeline `json:"pipelines"`
	Telemetry  *otelTelemetry          `json:"telemetry,omitempty"`
}

type otelPipeline struct {
	Receivers  []string `json:"receivers"`
	Processors []string `json:"processors,omitempty"`
	Exporters  []string `json:"exporters"`
}

type otelTelemetry struct {
	Metrics otelTelemetryMetrics `json:"metrics"`
}

type otelTelemetryMetrics struct {
	Readers []otelReader `json:"readers"`
}

type otelReader struct {
	Pull otelPull `json:"pull"`
}

type otelPull struct {
	Exporter otelPullExporter `json:"exporter"`
}

type otelPullExporter struct {
	Prometheus otelPromEndpoint `json:"prometheus"`
}

type otelPromEndpoint struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

type endpoint struct {
	Endpoint string `json:"endpoint"`
}

func anyAddr(port int) endpoint { return endpoint{Endpoint: fmt.Sprintf("0.0.0.0:%d", port)} }

// otlpReceiver accepts OTLP over gRPC and HTTP on all interfaces.
func otlpReceiver() map[string]any {
	return map[string]any{"protocols": map[string]any{"grpc": anyAddr(OTLPGRPCPort), "http": anyAddr(OTLPHTTPPort)}}
}

const samplingMount = "/etc/jaeger/sampling"

// jaegerConfig is Jaeger v2's configuration (its image's own is replaced
// whole, so every listener is bound explicitly).
func jaegerConfig(ns string) otelDocument {
	const store = "primary"
	return otelDocument{
		Extensions: map[string]any{
			"healthcheckv2": map[string]any{"use_v2": true, "http": anyAddr(jaegerHealthPort)},
			"jaeger_query":  map[string]any{"storage": map[string]any{"traces": store}, "http": anyAddr(JaegerQueryPort), "grpc": anyAddr(16685)},
			"jaeger_storage": map[string]any{"backends": map[string]any{store: map[string]any{"opensearch": map[string]any{
				"server_urls": []string{openSearchURL(ns)},
				"indices": map[string]any{
					"index_prefix": JaegerIndexPrefix,
					"spans":        map[string]any{"shards": 1, "replicas": 1},
					"services":     map[string]any{"shards": 1, "replicas": 1},
				},
			}}}},
			"remote_sampling": map[string]any{
				"file": map[string]any{"path": samplingMount + "/strategies.json", "reload_interval": "1m"},
				"http": anyAddr(SamplingHTTPPort), "grpc": anyAddr(SamplingGRPCPort),
			},
		},
		Receivers:  map[string]any{"otlp": otlpReceiver(), "zipkin": anyAddr(ZipkinPort)},
		Processors: map[string]any{"batch": map[string]any{}},
		Exporters:  map[string]any{"jaeger_storage_exporter": map[string]any{"trace_storage": store}},
		Service: otelService{
			Extensions: []string{"jaeger_storage", "jaeger_query", "remote_sampling", "healthcheckv2"},
			Pipelines:  map[string]otelPipeline{"traces": {Receivers: []string{"otlp", "zipkin"}, Processors: []string{"batch"}, Exporters: []string{"jaeger_storage_exporter"}}},
			Telemetry:  &otelTelemetry{Metrics: otelTelemetryMetrics{Readers: []otelReader{{Pull: otelPull{Exporter: otelPullExporter{Prometheus: otelPromEndpoint{Host: "0.0.0.0", Port: JaegerMetricsPort}}}}}}},
		},
	}
}

// ConfigHashLabel is the pod label holding a configuration's hash.
const ConfigHashLabel = "tars.ai/config-hash"

// configHash is a short, stable hash of a value's JSON.
func configHash(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8]), nil
}

func jaegerRelease(a Args, ns pulumi.Resource) (chart.Args, error) {
	config := jaegerConfig(a.Namespace)
	hash, err := configHash(config)
	if err != nil {
		return chart.Args{}, fmt.Errorf("jaeger config: %w", err)
	}
	return chart.Args{
		Chart: versions.Jaeger, ReleaseName: JaegerReleaseName, Namespace: a.Namespace, NamespaceResource: ns,
		Values: jaegerValues{
			Jaeger: jaegerDeploy{
				PodLabels:                 map[string]string{ConfigHashLabel: hash},
				Replicas:                  JaegerReplicas,
				Strategy:                  rolloutStrategy{Type: "RollingUpdate"},
				Resources:                 chart.Burstable(chart.ResourceList{CPU: "100m", Memory: "256Mi"}, chart.ResourceList{CPU: "1", Memory: "512Mi"}),
				TopologySpreadConstraints: chart.ZoneSpread(map[string]string{"app.kubernetes.io/name": "jaeger", "app.kubernetes.io/instance": JaegerReleaseName}),
				Service:                   jaegerService{ExtraPorts: []servicePort{{Name: "grpc-sampling", Port: SamplingGRPCPort, TargetPort: SamplingGRPCPort}}},
				ExtraVolumes:              []configMapVolume{{Name: "sampling", ConfigMap: localObjectRef{Name: JaegerSamplingConfigMap}}},
				ExtraVolumeMounts:         []volumeMount{{Name: "sampling", MountPath: samplingMount, ReadOnly: true}},
			},
			Userconfig:     config,
			EsIndexCleaner: indexCleaner{Enabled: true, NumberOfDays: TraceRetentionDays, CmdlineParams: map[string]string{"index-prefix": JaegerIndexPrefix}},
			Storage:        jaegerStore{Type: "elasticsearch", Elasticsearch: esConnection{URL: openSearchURL(a.Namespace)}},
		},
	}, nil
}

// otelValues are the values set on opentelemetry-collector 0.170.0.
type otelValues struct {
	Mode                string              `json:"mode"`
	Image               otelImage           `json:"image"`
	ReplicaCount        int                 `json:"replicaCount"`
	Resources           chart.Resources     `json:"resources"`
	Ports               map[string]otelPort `json:"ports"`
	ServiceMonitor      otelServiceMonitor  `json:"serviceMonitor"`
	PodDisruptionBudget otelPDB             `json:"podDisruptionBudget"`
	Config              otelDocument        `json:"config"`
}

type otelImage struct {
	Repository string `json:"repository"`
}

type otelPort struct {
	Enabled       bool   `json:"enabled"`
	ContainerPort int    `json:"containerPort,omitempty"`
	ServicePort   int    `json:"servicePort,omitempty"`
	Protocol      string `json:"protocol,omitempty"`
}

type otelServiceMonitor struct {
	Enabled          bool               `json:"enabled"`
	MetricsEndpoints []otelMetricsPoint `json:"metricsEndpoints"`
}

type otelMetricsPoint struct {
	Port string `json:"port"`
}

type otelPDB struct {
	Enabled      bool `json:"enabled"`
	MinAvailable int  `json:"minAvailable"`
}

// otelRelease: the contrib distribution (the spanmetrics connector and the
// Prometheus exporter), OTLP in, traces to Jaeger, span metrics out.
func otelRelease(a Args, ns pulumi.Resource) chart.Args {
	return chart.Args{
		Chart: versions.OpenTelemetryCollector, ReleaseName: OTelCollectorReleaseName, Namespace: a.Namespace, NamespaceResource: ns,
		Values: otelValues{
			Mode:         "deployment",
			Image:        otelImage{Repository: "otel/opentelemetry-collector-contrib"},
			ReplicaCount: OTelReplicas,
			// Above the memory limiter's 512 MiB + 128 MiB spike.
			Resources: chart.Burstable(chart.ResourceList{CPU: "200m", Memory: "768Mi"}, chart.ResourceList{CPU: "1", Memory: "1Gi"}),
			Ports: map[string]otelPort{
				"jaeger-compact": {Enabled: false}, "jaeger-thrift": {Enabled: false}, "jaeger-grpc": {Enabled: false}, "zipkin": {Enabled: false},
				"metrics":     {Enabled: true},
				"spanmetrics": {Enabled: true, ContainerPort: SpanMetricsPort, ServicePort: SpanMetricsPort, Protocol: "TCP"},
			},
			ServiceMonitor:      otelServiceMonitor{Enabled: true, MetricsEndpoints: []otelMetricsPoint{{Port: "spanmetrics"}, {Port: "metrics"}}},
			PodDisruptionBudget: otelPDB{Enabled: true, MinAvailable: 1},
			Config: otelDocument{
				Receivers: map[string]any{"otlp": otlpReceiver()},
				Processors: map[string]any{
					"memory_limiter": map[string]any{"check_interval": "1s", "limit_mib": OTelMemoryLimitMiB, "spike_limit_mib": OTelSpikeLimitMiB},
					"batch":          map[string]any{"send_batch_size": OTelBatchSize, "timeout": OTelBatchTimeout},
					"resource": map[string]any{"attributes": []any{
						map[string]any{"key": "k8s.namespace.name", "value": "${env:OTEL_K8S_NAMESPACE}", "action": "upsert"},
						map[string]any{"key": "deployment.environment.name", "value": Environment, "action": "upsert"},
					}},
				},
				Connectors: map[string]any{"spanmetrics": map[string]any{"metrics_flush_interval": "15s"}},
				Exporters: map[string]any{
					"otlp/jaeger": map[string]any{"endpoint": fmt.Sprintf("%s.%s.svc.cluster.local:%d", JaegerReleaseName, a.Namespace, OTLPGRPCPort), "tls": map[string]any{"insecure": true}},
					"prometheus":  map[string]any{"endpoint": fmt.Sprintf("0.0.0.0:%d", SpanMetricsPort), "resource_to_telemetry_conversion": map[string]any{"enabled": true}},
				},
				Service: otelService{Pipelines: map[string]otelPipeline{
					"traces":  {Receivers: []string{"otlp"}, Processors: []string{"memory_limiter", "resource", "batch"}, Exporters: []string{"otlp/jaeger", "spanmetrics"}},
					"metrics": {Receivers: []string{"spanmetrics"}, Processors: []string{"memory_limiter", "batch"}, Exporters: []string{"prometheus"}},
				}},
			},
		},
	}
}
