// Package alloycfg renders the Grafana Alloy configuration (Alloy syntax,
// formerly River) that ships the T.A.R.S. pod logs to Loki. It replaces the
// Promtail pipeline of seed 003 (Promtail is end-of-life) and is pure Go: no
// Pulumi, so the config can be built and checked in unit tests and handed
// to whatever deploys Alloy (a ConfigMap of the Alloy DaemonSet).
//
// Component, block and argument names follow the Alloy v1.18.1 reference
// (docs/sources/reference/components/{discovery,loki}/*.md and
// docs/sources/collect/logs-in-kubernetes.md at tag v1.18.1 of
// github.com/grafana/alloy); the tests parse the output with the parser of
// github.com/grafana/alloy/syntax v0.1.0.
package alloycfg

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tars-platform/infra/slo"
)

// Environments accepted by Config.Environment.
const (
	EnvProduction  = "production"
	EnvStaging     = "staging"
	EnvDevelopment = "development"
)

// Defaults. DefaultConfig uses all of them; Pipeline fills the optional
// fields (Namespace, Apps, RAGComponent, RAGBuckets) from them when empty.
const (
	DefaultLokiURL      = "http://loki-gateway.monitoring.svc.cluster.local/loki/api/v1/push"
	DefaultEnvironment  = EnvProduction
	DefaultRegion       = "us-east"
	DefaultCluster      = "tars-us-east"
	DefaultNamespace    = slo.LogNamespace
	DefaultRAGComponent = "tars-rag-service"
)

// The RAG query duration histogram that loki.process derives from logs.
const (
	// RAGQueryDurationMetric is the `name` of the stage.metrics histogram.
	RAGQueryDurationMetric = "rag_query_duration_seconds"
	// MetricPrefix is the default `prefix` loki.process puts before the
	// name of every stage.metrics metric.
	MetricPrefix = "loki_process_custom_"
	// RAGQueryDurationExposed is the name Alloy exposes on its /metrics
	// endpoint (with _bucket, _sum and _count series). Alerts and
	// dashboards that want the log-derived histogram must use this name;
	// plain rag_query_duration_seconds is the one the RAG service exports
	// itself, which the prefix keeps apart.
	RAGQueryDurationExposed = MetricPrefix + RAGQueryDurationMetric
)

// LineRegex is the stage.regex expression (RE2) that splits an application
// log line "<RFC3339 timestamp> <LEVEL> <message>" into the extracted values
// timestamp, level and message. The timestamp must start with a date so
// that the first words of a free-text line are never taken for a level
// (which is promoted to a label and so must stay low-cardinality).
const LineRegex = `^(?P<timestamp>\d{4}-\d{2}-\d{2}T\S+)\s+(?P<level>[A-Za-z]+)\s+(?P<message>.*)$`

// DefaultApps are the app label values whose pods are kept in any namespace.
func DefaultApps() []string { return []string{"tars-backend", "tars-ui"} }

// DefaultRAGBuckets are the histogram buckets, in seconds; 0.25 and 1 are
// the HighRAGQueryLatency and VeryHighRAGQueryLatency thresholds.
func DefaultRAGBuckets() []float64 {
	return []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
}

// Config is what varies between deployments of the log pipeline.
type Config struct {
	// LokiURL is the Loki push endpoint of loki.write. Required: an
	// absolute http or https URL. DefaultConfig: DefaultLokiURL.
	LokiURL string
	// Environment is one of EnvProduction, EnvStaging, EnvDevelopment.
	// Required. Only "production" renders the stage.drop that drops DEBUG
	// lines. DefaultConfig: EnvProduction.
	Environment string
	// Region is the `region` external label on every stream. Required.
	// DefaultConfig: DefaultRegion.
	Region string
	// Cluster is the `cluster` external label on every stream. Required.
	// DefaultConfig: DefaultCluster.
	Cluster string
	// Namespace: every pod in it is kept. Default DefaultNamespace.
	Namespace string
	// Apps: pods whose app label (app.kubernetes.io/name, else app) is one
	// of these are kept in any namespace. Default DefaultApps().
	Apps []string
	// RAGComponent is the component label (the pod's app label) of the
	// RAG service, whose lines alone feed the duration histogram. Default
	// DefaultRAGComponent.
	RAGComponent string
	// RAGBuckets are the histogram buckets in seconds, strictly
	// increasing. Default DefaultRAGBuckets().
	RAGBuckets []float64
}

// DefaultConfig is the configuration of the us-east production cluster.
func DefaultConfig() Config {
	return Config{
		LokiURL:      DefaultLokiURL,
		Environment:  DefaultEnvironment,
		Region:       DefaultRegion,
		Cluster:      DefaultCluster,
		Namespace:    DefaultNamespace,
		Apps:         DefaultApps(),
		RAGComponent: DefaultRAGComponent,
		RAGBuckets:   DefaultRAGBuckets(),
	}
}

// Component labels, referenced across blocks.
const (
	discoveryLabel = "tars_pods"
	processLabel   = "tars"
	writeLabel     = "default"
)

var (
	dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	labelValue   = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)
)

func (c Config) withDefaults() Config {
	if c.Namespace == "" {
		c.Namespace = DefaultNamespace
	}
	if len(c.Apps) == 0 {
		c.Apps = DefaultApps()
	}
	if c.RAGComponent == "" {
		c.RAGComponent = DefaultRAGComponent
	}
	if len(c.RAGBuckets) == 0 {
		c.RAGBuckets = DefaultRAGBuckets()
	}
	return c
}

// Validate reports every invalid field of c (after defaults), each error
// naming its field as Config.<Field>.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("alloycfg: Config.%s: %s", field, fmt.Sprintf(format, args...)))
	}

	if c.LokiURL == "" {
		bad("LokiURL", "must not be empty")
	} else if u, err := url.Parse(c.LokiURL); err != nil {
		bad("LokiURL", "%v", err)
	} else if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("LokiURL", "%q is not an absolute http(s) URL", c.LokiURL)
	}

	switch c.Environment {
	case EnvProduction, EnvStaging, EnvDevelopment:
	default:
		bad("Environment", "%q is not one of %q, %q, %q", c.Environment, EnvProduction, EnvStaging, EnvDevelopment)
	}

	for field, v := range map[string]string{"Region": c.Region, "Cluster": c.Cluster} {
		if strings.TrimSpace(v) == "" || !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < ' ' }) {
			bad(field, "%q must be a non-empty label value without control characters", v)
		}
	}

	if len(c.Namespace) > 63 || !dns1123Label.MatchString(c.Namespace) {
		bad("Namespace", "%q is not a Kubernetes namespace name", c.Namespace)
	}
	for i, app := range c.Apps {
		if len(app) > 63 || !labelValue.MatchString(app) {
			bad(fmt.Sprintf("Apps[%d]", i), "%q is not a Kubernetes label value", app)
		}
	}
	if len(c.RAGComponent) > 63 || !labelValue.MatchString(c.RAGComponent) {
		bad("RAGComponent", "%q is not a Kubernetes label value", c.RAGComponent)
	}
	for i, b := range c.RAGBuckets {
		switch {
		case math.IsNaN(b) || math.IsInf(b, 0):
			bad(fmt.Sprintf("RAGBuckets[%d]", i), "%v is not finite", b)
		case i > 0 && b <= c.RAGBuckets[i-1]:
			bad(fmt.Sprintf("RAGBuckets[%d]", i), "%v does not increase on %v", b, c.RAGBuckets[i-1])
		}
	}
	return errors.Join(errs...)
}

// Pipeline renders the whole Alloy configuration file for cfg.
func Pipeline(cfg Config) (string, error) {
	f, err := Build(cfg)
	if err != nil {
		return "", err
	}
	return f.Render()
}

// Build validates cfg and returns the configuration as typed blocks:
// discovery.kubernetes -> discovery.relabel -> loki.source.kubernetes ->
// loki.process -> loki.write.
func Build(cfg Config) (File, error) {
	if err := cfg.Validate(); err != nil {
		return File{}, err
	}
	cfg = cfg.withDefaults()
	return File{
		Comment: "Generated by github.com/tars-platform/infra/components/monitoring/alloycfg; do not edit.\n" +
			"T.A.R.S. pod logs -> Loki (replaces the Promtail pipeline of seed 003).",
		Blocks: []Block{
			discoveryBlock(),
			relabelBlock(cfg),
			sourceBlock(),
			processBlock(cfg),
			writeBlock(cfg),
		},
	}, nil
}

// discoveryBlock watches the pods of this node only: Alloy runs as a
// DaemonSet, and the Alloy docs ("Limit to only Pods on the same node")
// have each instance select spec.nodeName = its own node, which the Helm
// chart passes in $HOSTNAME.
func discoveryBlock() Block {
	return Block{
		Comment: "Pods on this node only (Alloy runs as a DaemonSet; HOSTNAME is the node name).",
		Name:    "discovery.kubernetes", Label: discoveryLabel,
		Attrs: []Attr{{"role", String("pod")}},
		Blocks: []Block{{
			Name: "selectors",
			Attrs: []Attr{
				{"role", String("pod")},
				{"field", Concat(String("spec.nodeName="),
					Call("coalesce", Call("sys.env", String("HOSTNAME")), Ref("constants.hostname")))},
			},
		}},
	}
}

func replaceRule(target string, sources ...string) Block {
	return Block{Name: "rule", Attrs: []Attr{
		{"source_labels", Strings(sources...)},
		{"target_label", String(target)},
	}}
}

// keepRegex matches "<namespace>;<app>" when the namespace is cfg.Namespace
// or the app is one of cfg.Apps. Relabel regexes are fully anchored, and
// neither namespaces nor label values can contain ';'.
func keepRegex(cfg Config) string {
	apps := make([]string, len(cfg.Apps))
	for i, a := range cfg.Apps {
		apps[i] = regexp.QuoteMeta(a)
	}
	return fmt.Sprintf("%s;.*|[^;]*;(%s)", regexp.QuoteMeta(cfg.Namespace), strings.Join(apps, "|"))
}

// relabelBlock keeps every pod of cfg.Namespace plus the pods of cfg.Apps in
// any namespace (Promtail's kubernetes-pods job and its per-app jobs), and
// sets the namespace, pod, container, app and job labels.
func relabelBlock(cfg Config) Block {
	return Block{
		Name: "discovery.relabel", Label: discoveryLabel,
		Attrs: []Attr{{"targets", Ref("discovery.kubernetes." + discoveryLabel + ".targets")}},
		Blocks: []Block{
			{
				Comment: "app: the pod's app label, app.kubernetes.io/name winning over the legacy app.",
				Name:    "rule", Attrs: []Attr{
					{"source_labels", Strings("__meta_kubernetes_pod_label_app")},
					{"regex", String("(.+)")},
					{"target_label", String("app")},
				},
			},
			{Name: "rule", Attrs: []Attr{
				{"source_labels", Strings("__meta_kubernetes_pod_label_app_kubernetes_io_name")},
				{"regex", String("(.+)")},
				{"target_label", String("app")},
			}},
			{
				Comment: fmt.Sprintf("Keep every pod in namespace %q and the %s pods anywhere.", cfg.Namespace, strings.Join(cfg.Apps, ", ")),
				Name:    "rule", Attrs: []Attr{
					{"action", String("keep")},
					{"source_labels", Strings("__meta_kubernetes_namespace", "app")},
					{"separator", String(";")},
					{"regex", String(keepRegex(cfg))},
				},
			},
			replaceRule("namespace", "__meta_kubernetes_namespace"),
			replaceRule("pod", "__meta_kubernetes_pod_name"),
			replaceRule("container", "__meta_kubernetes_pod_container_name"),
			{Name: "rule", Attrs: []Attr{
				{"source_labels", Strings("__meta_kubernetes_namespace", "__meta_kubernetes_pod_container_name")},
				{"separator", String("/")},
				{"target_label", String("job")},
			}},
		},
	}
}

// sourceBlock reads the logs through the Kubernetes API. The Alloy docs'
// "Collect Kubernetes logs" page uses loki.source.kubernetes for pod logs,
// with node-local discovery when Alloy is a DaemonSet: it needs no
// privileged container, no root and no hostPath mount of /var/log/pods,
// and it hands over the container output without the CRI wrapper (no
// stage.cri), at the cost of more kubelet traffic than loki.source.file.
// The Alloy service account needs get on pods/log and list/watch on pods.
func sourceBlock() Block {
	return Block{
		Comment: "Tails the container logs through the Kubernetes API: no privileged pod, root or\n" +
			"/var/log/pods hostPath needed, and no CRI wrapper to strip (Alloy docs, Collect Kubernetes logs).",
		Name: "loki.source.kubernetes", Label: discoveryLabel,
		Attrs: []Attr{
			{"targets", Ref("discovery.relabel." + discoveryLabel + ".output")},
			{"forward_to", List(Ref("loki.process." + processLabel + ".receiver"))},
		},
	}
}

func processBlock(cfg Config) Block {
	stages := []Block{
		{
			Comment: "<RFC3339 timestamp> <LEVEL> <message>",
			Name:    "stage.regex",
			Attrs:   []Attr{{"expression", String(LineRegex)}},
		},
		{
			Comment: "The message is a JSON object carrying the request fields.",
			Name:    "stage.json",
			Attrs: []Attr{
				{"source", String("message")},
				{"expressions", Object(
					Field{"request_id", String("request_id")},
					Field{"user_id", String("user_id")},
					Field{"duration", String("duration")},
				)},
			},
		},
		{
			Comment: "component comes from the app label set in discovery.relabel (labels are\n" +
				"also extracted values in loki.process).",
			Name: "stage.labels",
			Attrs: []Attr{{"values", Object(
				Field{"level", String("")},
				Field{"component", String("app")},
			)}},
		},
		{
			Name: "stage.timestamp",
			Attrs: []Attr{
				{"source", String("timestamp")},
				{"format", String("RFC3339Nano")},
				{"action_on_failure", String("skip")},
			},
		},
	}
	if cfg.Environment == EnvProduction {
		stages = append(stages, Block{
			Comment: "Production only: drop DEBUG lines.",
			Name:    "stage.drop",
			Attrs: []Attr{
				{"source", String("level")},
				{"expression", String("(?i)^debug$")},
				{"drop_counter_reason", String("debug_in_production")},
			},
		})
	}
	selector := "{component=" + strconv.Quote(cfg.RAGComponent) + "}"
	stages = append(stages, Block{
		Comment: fmt.Sprintf("RAG query durations from the %s lines only;\nAlloy exposes the histogram as %s.", cfg.RAGComponent, RAGQueryDurationExposed),
		Name:    "stage.match",
		Attrs: []Attr{
			{"selector", String(selector)},
			{"pipeline_name", String("rag_query_duration")},
		},
		Blocks: []Block{{
			Name: "stage.metrics",
			Blocks: []Block{{
				Name: "metric.histogram",
				Attrs: []Attr{
					{"name", String(RAGQueryDurationMetric)},
					{"description", String("RAG query duration in seconds, from the duration field of the RAG service logs.")},
					{"source", String("duration")},
					{"buckets", Numbers(cfg.RAGBuckets...)},
				},
			}},
		}},
	})
	return Block{
		Name: "loki.process", Label: processLabel,
		Attrs:  []Attr{{"forward_to", List(Ref("loki.write." + writeLabel + ".receiver"))}},
		Blocks: stages,
	}
}

func writeBlock(cfg Config) Block {
	return Block{
		Name: "loki.write", Label: writeLabel,
		Attrs: []Attr{{"external_labels", StringMap(map[string]string{
			"cluster": cfg.Cluster,
			"region":  cfg.Region,
		})}},
		Blocks: []Block{{Name: "endpoint", Attrs: []Attr{{"url", String(cfg.LokiURL)}}}},
	}
}
