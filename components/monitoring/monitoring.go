// Package monitoring is the region's metrics stack (seed 000 "Metrics
// Collection", "Grafana"): the monitoring namespace; kube-prometheus-stack
// (prometheus-operator with its CRDs, two Prometheus replicas with the
// Thanos sidecar, three Alertmanagers, kube-state-metrics, node-exporter);
// Thanos (query, query-frontend, store gateway, compactor) on the region's
// S3 bucket; and, as a second component once the database exists, Grafana
// (grafana.go). The alerting component's PrometheusRules, Alertmanager
// secret and dashboards, and every ServiceMonitor, are created after the
// stack: its release installs the CRDs they are made of.
package monitoring

import (
	"fmt"
	"github.com/tars-platform/infra/internal/keep"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/chart"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/internal/check"
	"github.com/tars-platform/infra/internal/netpol"
	"github.com/tars-platform/infra/internal/podsecurity"
	"github.com/tars-platform/infra/slo"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "tars:monitoring:Monitoring"

// Defaults and fixed names.
const (
	// DefaultNamespace is where the metrics stack runs.
	DefaultNamespace = "monitoring"
	// ReleaseName is the kube-prometheus-stack release; its objects and the
	// `release` label the chart's own selectors use derive from it.
	ReleaseName = "kube-prometheus-stack"
	// DefaultPrometheusStorageGiB is each Prometheus replica's volume
	// (seed 000: "100GB PVC per replica"); older data is in Thanos.
	DefaultPrometheusStorageGiB = slo.PrometheusVolumeGiB
	// DefaultScrapeSampleLimit is the per-target series guard: the largest
	// target, kube-state-metrics, exposes ~40 000 samples on a full
	// 20-node cluster; 50 such targets still stay under the seed's 10 M
	// active-series ceiling.
	DefaultScrapeSampleLimit = 200_000
	// DefaultAlertmanagerStorageGiB keeps silences and the notification log.
	DefaultAlertmanagerStorageGiB = 10
)

// Args configures the metrics stack of one region.
type Args struct {
	// Namespace of the stack (created here). Default DefaultNamespace.
	Namespace string
	// Sources: the control plane reaches the operator's admission webhook
	// from Sources.ControlPlane, Grafana's internet-facing load balancer
	// (target type ip) reaches Grafana from Sources.PublicLoadBalancers.
	// Empty admits neither.
	Sources netpol.Sources
	// AppNamespace is the services' namespace, admitted to the OTel
	// collector's OTLP ports. Empty admits none.
	AppNamespace string
	// StorageClass holds the data volumes: Prometheus's TSDB,
	// Alertmanager's silences and notification log, Loki's and OpenSearch's
	// volumes (the cluster's Retain class). Required.
	StorageClass string
	// ScratchStorageClass holds what rebuilds itself: the Thanos
	// compactor's working directory (its blocks live in the bucket).
	// Required.
	ScratchStorageClass string
	// Keep protects the Thanos and Loki buckets and the namespace, whose
	// deletion deletes every claim in it.
	Keep keep.Keep
	// AlertmanagerConfigSecret is the Secret (in Namespace) that holds
	// alertmanager.yaml; the alerting component writes it. Required.
	AlertmanagerConfigSecret string
	// Region is added to every series as the external label region, so the
	// two regions' data can be told apart wherever it is merged. Required.
	Region string
	// PrometheusStorageGiB per replica. Default DefaultPrometheusStorageGiB.
	PrometheusStorageGiB int
	// AlertmanagerStorageGiB per replica. Default DefaultAlertmanagerStorageGiB.
	AlertmanagerStorageGiB int
	// CompactorStorageGiB is Thanos compactor's scratch volume. Default
	// DefaultCompactorStorageGiB.
	CompactorStorageGiB int
	// ScrapeSampleLimit caps the samples of one scrape. Default
	// DefaultScrapeSampleLimit.
	ScrapeSampleLimit int
	// ClusterName is the EKS cluster's name: the cluster label of the
	// shipped logs. Required.
	ClusterName string
	// AccountID, AwsRegion ("us-east-1"), Partition and OIDC come from the
	// cluster: the Thanos and Loki buckets and their IRSA roles. Required.
	AccountID, AwsRegion, Partition string
	OIDC                            cluster.OIDC
	// Tags go on the AWS resources.
	Tags map[string]string
}

// WithDefaults fills zero fields.
func (a Args) WithDefaults() Args {
	if a.Namespace == "" {
		a.Namespace = DefaultNamespace
	}
	if a.PrometheusStorageGiB == 0 {
		a.PrometheusStorageGiB = DefaultPrometheusStorageGiB
	}
	if a.AlertmanagerStorageGiB == 0 {
		a.AlertmanagerStorageGiB = DefaultAlertmanagerStorageGiB
	}
	if a.CompactorStorageGiB == 0 {
		a.CompactorStorageGiB = DefaultCompactorStorageGiB
	}
	if a.ScrapeSampleLimit == 0 {
		a.ScrapeSampleLimit = DefaultScrapeSampleLimit
	}
	return a
}

// Validate reports every problem, by field.
func (a Args) Validate() error {
	var p check.Problems
	if !check.DNSLabel(a.Namespace, 63) {
		p.Addf("namespace", "(%q) must be a Kubernetes namespace name", a.Namespace)
	}
	if !check.DNSLabel(a.StorageClass, 253) {
		p.Addf("storageClass", "(%q) must name a StorageClass", a.StorageClass)
	}
	if !check.DNSLabel(a.ScratchStorageClass, 253) {
		p.Addf("scratchStorageClass", "(%q) must name a StorageClass", a.ScratchStorageClass)
	}
	if !check.DNSLabel(a.AlertmanagerConfigSecret, 253) {
		p.Addf("alertmanagerConfigSecret", "(%q) must name a Secret", a.AlertmanagerConfigSecret)
	}
	if !check.DNSLabel(a.Region, 20) {
		p.Addf("region", "(%q) must be a short lower-case name like us-east", a.Region)
	}
	if a.PrometheusStorageGiB < 10 {
		p.Addf("prometheusStorageGiB", "(%d) must be at least 10", a.PrometheusStorageGiB)
	}
	if a.AlertmanagerStorageGiB < 1 {
		p.Addf("alertmanagerStorageGiB", "(%d) must be at least 1", a.AlertmanagerStorageGiB)
	}
	if a.CompactorStorageGiB < 10 {
		p.Addf("compactorStorageGiB", "(%d) must be at least 10", a.CompactorStorageGiB)
	}
	if a.ScrapeSampleLimit < 1000 || a.ScrapeSampleLimit > slo.ActiveSeriesCeiling {
		p.Addf("scrapeSampleLimit", "(%d) must be between 1000 and the active-series ceiling %d", a.ScrapeSampleLimit, slo.ActiveSeriesCeiling)
	}
	for _, f := range []struct{ field, v string }{{"accountId", a.AccountID}, {"awsRegion", a.AwsRegion}, {"partition", a.Partition}, {"clusterName", a.ClusterName}} {
		if f.v == "" {
			p.Addf(f.field, "is required (from the cluster)")
		}
	}
	return p.Err()
}

// PodSecurity of the monitoring namespace: privileged. node-exporter
// (DaemonSet kube-prometheus-stack-prometheus-node-exporter) shares the
// node's network and PID namespaces and mounts /, /proc and /sys to report
// the node; that is what it is for. Below it, Alloy (DaemonSet alloy)
// reads the node's pod logs through hostPath as root, and Jaeger, the
// OpenTelemetry collector, OpenSearch and its index cleaner set no
// restricted security context (baseline). audit and warn stay restricted.
var PodSecurity = podsecurity.Policy{Level: podsecurity.Privileged, Reason: "node-exporter (DaemonSet kube-prometheus-stack-prometheus-node-exporter) needs the host network and PID namespaces and hostPath /, /proc, /sys; alloy (DaemonSet) reads pod logs through hostPath as root; jaeger, otel-collector-opentelemetry-collector, opensearch-cluster-master and jaeger-es-index-cleaner set no restricted security context"}

// Monitoring is the component.
type Monitoring struct {
	pulumi.ResourceState

	Namespace pulumi.StringOutput `pulumi:"namespace"`
	// ThanosBucket is the region's metric block bucket; LokiBucket its
	// log chunk bucket.
	ThanosBucket pulumi.StringOutput `pulumi:"thanosBucket"`
	LokiBucket   pulumi.StringOutput `pulumi:"lokiBucket"`

	// Ready is what objects in the namespace and every prometheus-operator
	// custom resource (PrometheusRule, ServiceMonitor, PodMonitor) wait
	// for: the namespace and the release that installs the CRDs.
	Ready []pulumi.Resource
	// NamespaceResource is the Namespace; Stack the kube-prometheus-stack
	// release (what Grafana's release waits for).
	NamespaceResource pulumi.Resource
	Stack             pulumi.Resource
}

// networkPolicies: the namespace's default-deny; every pod of the
// namespace to every other on any port (the charts' parts talk to each
// other: Prometheus scrapes them, Thanos reads its sidecar, Alloy ships to
// Loki, the collector to Jaeger, Jaeger to OpenSearch, Grafana and the
// report CronJobs query Thanos and Loki; listing each chart's internal
// ports would not make the namespace safer); the services to the OTel
// collector's OTLP ports; the control plane to the operator's webhook;
// Grafana's load balancer to Grafana.
func networkPolicies(a Args) []netpol.Policy {
	out := []netpol.Policy{netpol.DefaultDeny(),
		{Name: "same-namespace", Rules: []netpol.Rule{{From: []netpol.Peer{netpol.Pods("", map[string]string{})}}}}}
	if a.AppNamespace != "" {
		out = append(out, netpol.Policy{Name: "otlp", PodLabels: OTelCollectorPodLabels,
			Rules: []netpol.Rule{{From: []netpol.Peer{netpol.Namespace(a.AppNamespace)}, Ports: []any{4317, 4318}}}})
	}
	out = append(out, netpol.Webhook("operator-webhook", a.Sources.ControlPlane, map[string]string{"app": ReleaseName + "-operator", "release": ReleaseName}, "https")...)
	if len(a.Sources.PublicLoadBalancers) > 0 {
		out = append(out, netpol.Policy{Name: "grafana-load-balancer", PodLabels: GrafanaPodLabels(),
			Rules: []netpol.Rule{{From: netpol.CIDRs(a.Sources.PublicLoadBalancers), Ports: []any{"grafana"}}}})
	}
	return out
}

// OTelCollectorPodLabels select the OpenTelemetry collector's pods.
var OTelCollectorPodLabels = map[string]string{"app.kubernetes.io/name": "opentelemetry-collector", "app.kubernetes.io/instance": OTelCollectorReleaseName}

// New creates the metrics stack. Pass the cluster's Kubernetes provider in opts.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	args = args.WithDefaults()
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("monitoring %s: invalid args: %w", name, err)
	}
	m := &Monitoring{}
	if err := ctx.RegisterComponentResource(TypeToken, name, m, opts...); err != nil {
		return nil, fmt.Errorf("monitoring %s: register: %w", name, err)
	}
	ns, err := corev1.NewNamespace(ctx, name+"-namespace", &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(args.Namespace),
			Labels: pulumi.ToStringMap(podsecurity.With(PodSecurity.Labels(), map[string]string{
				"app.kubernetes.io/part-of": "tars", "app.kubernetes.io/managed-by": "pulumi",
			})),
			Annotations: pulumi.ToStringMap(PodSecurity.Annotations()),
		},
	}, append([]pulumi.ResourceOption{pulumi.Parent(m)}, args.Keep.Data()...)...)
	if err != nil {
		return nil, fmt.Errorf("monitoring %s: namespace: %w", name, err)
	}
	if err := netpol.New(ctx, name, args.Namespace, networkPolicies(args), pulumi.Parent(m), pulumi.DependsOn([]pulumi.Resource{ns})); err != nil {
		return nil, fmt.Errorf("monitoring %s: %w", name, err)
	}
	bkt, objstore, err := m.newThanosBucket(ctx, name, args, ns)
	if err != nil {
		return nil, fmt.Errorf("monitoring %s: %w", name, err)
	}
	stack, err := chart.New(ctx, name+"-kube-prometheus-stack", kubePrometheusStack(args, ns, objstore, bkt), pulumi.Parent(m))
	if err != nil {
		return nil, fmt.Errorf("monitoring %s: %w", name, err)
	}
	thanosArgs, err := thanosRelease(args, ns, objstore, bkt)
	if err != nil {
		return nil, fmt.Errorf("monitoring %s: thanos values: %w", name, err)
	}
	// After the stack: its release installs the ServiceMonitor CRD.
	thanosArgs.DependsOn = append(thanosArgs.DependsOn, stack.Helm)
	if _, err := chart.New(ctx, name+"-thanos", thanosArgs, pulumi.Parent(m)); err != nil {
		return nil, fmt.Errorf("monitoring %s: %w", name, err)
	}
	if err := m.newLogs(ctx, name, args, ns, stack.Helm); err != nil {
		return nil, fmt.Errorf("monitoring %s: logs: %w", name, err)
	}
	if err := m.newTraces(ctx, name, args, ns, stack.Helm); err != nil {
		return nil, fmt.Errorf("monitoring %s: traces: %w", name, err)
	}
	m.Namespace = ns.Metadata.Name().Elem()
	m.ThanosBucket = pulumi.String(bkt.Name).ToStringOutput()
	m.LokiBucket = pulumi.String(LokiBucketName(args.AccountID, args.AwsRegion)).ToStringOutput()
	m.Ready = []pulumi.Resource{ns, stack.Helm}
	m.NamespaceResource, m.Stack = ns, stack.Helm
	if err := ctx.RegisterResourceOutputs(m, pulumi.Map{"namespace": m.Namespace, "thanosBucket": m.ThanosBucket, "lokiBucket": m.LokiBucket}); err != nil {
		return nil, fmt.Errorf("monitoring %s: register outputs: %w", name, err)
	}
	return m, nil
}
