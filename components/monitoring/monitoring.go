// Package monitoring is the region's metrics stack: the monitoring
// namespace and kube-prometheus-stack (prometheus-operator with its CRDs,
// Prometheus, Alertmanager, Grafana, kube-state-metrics, node-exporter)
// through the shared chart block. The alerting component's PrometheusRules,
// Alertmanager secret and dashboards, and every ServiceMonitor, are created
// after it: its release installs the CRDs they are made of.
package monitoring

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/chart"
	"github.com/tars-platform/infra/internal/check"
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
	// DefaultPrometheusStorageGiB is each Prometheus replica's volume: 30
	// days of the platform's series at ~1.5 bytes per sample, with room.
	DefaultPrometheusStorageGiB = 200
	// DefaultAlertmanagerStorageGiB keeps silences and the notification log.
	DefaultAlertmanagerStorageGiB = 10
)

// Args configures the metrics stack of one region.
type Args struct {
	// Namespace of the stack (created here). Default DefaultNamespace.
	Namespace string
	// StorageClass for Prometheus and Alertmanager volumes. Required.
	StorageClass string
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
	return p.Err()
}

// Monitoring is the component.
type Monitoring struct {
	pulumi.ResourceState

	Namespace pulumi.StringOutput `pulumi:"namespace"`

	// Ready is what objects in the namespace and every prometheus-operator
	// custom resource (PrometheusRule, ServiceMonitor, PodMonitor) wait
	// for: the namespace and the release that installs the CRDs.
	Ready []pulumi.Resource
}

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
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(args.Namespace), Labels: pulumi.StringMap{
			"app.kubernetes.io/part-of": pulumi.String("tars"), "app.kubernetes.io/managed-by": pulumi.String("pulumi"),
		}},
	}, pulumi.Parent(m))
	if err != nil {
		return nil, fmt.Errorf("monitoring %s: namespace: %w", name, err)
	}
	stack, err := chart.New(ctx, name+"-kube-prometheus-stack", kubePrometheusStack(args, ns), pulumi.Parent(m))
	if err != nil {
		return nil, fmt.Errorf("monitoring %s: %w", name, err)
	}
	m.Namespace = ns.Metadata.Name().Elem()
	m.Ready = []pulumi.Resource{ns, stack.Helm}
	if err := ctx.RegisterResourceOutputs(m, pulumi.Map{"namespace": m.Namespace}); err != nil {
		return nil, fmt.Errorf("monitoring %s: register outputs: %w", name, err)
	}
	return m, nil
}
