package slo

// The metric inventory: every metric family the platform's exporters
// produce, at the versions the stacks run, with its labels and where the
// list was read. The catalog's alerts, recording rules and dashboards may
// use only what is here (a test parses every query against it); the
// T.A.R.S. services' own metrics are a contract (AppContract) the services
// must expose.

// MetricType is a Prometheus metric family type.
type MetricType string

const (
	TypeCounter   MetricType = "counter"   // Name carries its _total suffix, as queries name it
	TypeGauge     MetricType = "gauge"     // also info and stateset families
	TypeHistogram MetricType = "histogram" // Name is the base: _bucket (le), _sum and _count exist
	TypeSummary   MetricType = "summary"   // Name is the base: quantile-labelled samples, _sum and _count
)

// Metric is one metric family as an exporter exposes it.
type Metric struct {
	Name string
	Type MetricType
	// Labels the exporter itself sets on the family (not the target labels
	// Prometheus adds at scrape: job, instance, namespace, pod, service,
	// container, endpoint).
	Labels []string
	// Values lists the closed value set of a label where the source defines
	// one (kube_pod_status_phase's phase); labels not here take any value.
	Values map[string][]string
}

// Exporter is one producer of metrics, at the version the stacks run.
type Exporter struct {
	Name    string
	Version string
	// Source is where the list was read: repository@tag and paths, or the
	// documentation page of that version.
	Source  string
	Metrics []Metric
}

// Inventory is every exporter the platform runs, at its pinned version,
// and the T.A.R.S. services' metric contract.
func Inventory() []Exporter {
	return []Exporter{
		KubeStateMetrics, NodeExporter, Kubelet, CloudNativePG, RedisExporter, ClusterAutoscaler,
		Grafana, Prometheus, Thanos, OTelSpanMetrics, Loki, Jaeger, Kubecost, DCGMExporter, AppContract,
	}
}

// ScrapeJobs are the job label values of the platform's scrape targets:
// a ServiceMonitor's job is its Service's name (or the value of the label
// its jobLabel names), a PodMonitor's is "<namespace>/<name>".
var ScrapeJobs = []string{
	"kubelet", "kube-state-metrics", "node-exporter", // kube-prometheus-stack 88.5.3 ServiceMonitors (jobLabel)
	"redis-headless", // components/redis ServiceMonitor: it selects the headless Service (component server)
	ClusterAutoscalerJob,
	ServiceJob, "ollama", "chromadb", // the T.A.R.S. services (AppContract)
}

// ClusterAutoscalerJob is the job of the cluster-autoscaler chart's
// ServiceMonitor (9.59.0): its Service is named <release>-aws-cluster-autoscaler
// (cloudProvider aws, no fullnameOverride) and the chart sets no jobLabel;
// the release is named after the chart, as the chart block names releases.
const ClusterAutoscalerJob = "cluster-autoscaler-aws-cluster-autoscaler"
