// Package gpu installs what the optional GPU node pool (cluster.GPUPool)
// needs: NVIDIA's device plugin, which advertises the nodes' GPUs to the
// scheduler as nvidia.com/gpu, and NVIDIA's DCGM exporter, whose GPU
// metrics the GPU alerts and panels read. Both run only on the pool's
// nodes (its label) and tolerate its taint; the stack creates this
// component only when the pool is enabled.
package gpu

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/chart"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/internal/netpol"
	"github.com/tars-platform/infra/internal/podsecurity"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "tars:gpu:Stack"

const (
	// Namespace of both releases (created here).
	Namespace = "nvidia-gpu"
	// DevicePluginRelease and ExporterRelease are the Helm releases.
	DevicePluginRelease = "nvidia-device-plugin"
	ExporterRelease     = "dcgm-exporter"
	// MetricsPort is the exporter's (chart default service.port).
	MetricsPort = 9400
)

// PodSecurity of the namespace: privileged, for both DaemonSets.
var PodSecurity = podsecurity.Policy{Level: podsecurity.Privileged,
	Reason: "nvidia-device-plugin (DaemonSet) registers with the kubelet through hostPath /var/lib/kubelet/device-plugins; " +
		"dcgm-exporter (DaemonSet) reads the kubelet's pod-resources socket through hostPath and runs as root with SYS_ADMIN (profiling metrics); " +
		"nvidia-device-plugin-mps-control-daemon (DaemonSet, the chart renders it with the plugin; it runs only on nodes labelled nvidia.com/mps.capable, which the pool's are not) is privileged with the host PID namespace"}

// Args configures the GPU stack.
type Args struct {
	// MonitoringNamespace is Prometheus's: its ServiceMonitor selects the
	// exporter, and it alone may reach MetricsPort. Required.
	MonitoringNamespace string
	// MonitoringDependsOn installs the ServiceMonitor CRD (the metrics
	// stack's release). Required.
	MonitoringDependsOn []pulumi.Resource
	// Tags go on AWS resources (none today; for the chart block).
	Tags map[string]string
}

// Validate returns every problem.
func (a Args) Validate() error {
	if a.MonitoringNamespace == "" {
		return fmt.Errorf("monitoringNamespace is required")
	}
	if len(a.MonitoringDependsOn) == 0 {
		return fmt.Errorf("monitoringDependsOn must name what installs the ServiceMonitor CRD")
	}
	return nil
}

// Stack is the installed device plugin and exporter.
type Stack struct {
	pulumi.ResourceState

	DevicePlugin *chart.Release
	Exporter     *chart.Release
}

// NodeSelector places both DaemonSets on the pool's nodes only.
var NodeSelector = map[string]string{cluster.GPUPresentLabel: "true"}

// Toleration tolerates the pool's taint.
var Toleration = chart.Toleration{Key: cluster.GPUResource, Operator: "Exists", Effect: "NoSchedule"}

// New installs the device plugin, then the exporter. Pass the cluster's
// Kubernetes provider in opts.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Stack, error) {
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("gpu %s: invalid args: %w", name, err)
	}
	s := &Stack{}
	if err := ctx.RegisterComponentResource(TypeToken, name, s, opts...); err != nil {
		return nil, fmt.Errorf("gpu %s: register: %w", name, err)
	}
	parent := pulumi.Parent(s)
	var err error
	if s.DevicePlugin, err = chart.New(ctx, name+"-device-plugin", devicePluginRelease(args), parent); err != nil {
		return nil, fmt.Errorf("gpu %s: %w", name, err)
	}
	if s.Exporter, err = chart.New(ctx, name+"-dcgm-exporter", exporterRelease(args, s.DevicePlugin), parent); err != nil {
		return nil, fmt.Errorf("gpu %s: %w", name, err)
	}
	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{}); err != nil {
		return nil, fmt.Errorf("gpu %s: register outputs: %w", name, err)
	}
	return s, nil
}

// devicePluginValues are the values set on nvidia-device-plugin 0.20.0.
type devicePluginValues struct {
	Image        chart.Image        `json:"image"`
	NodeSelector map[string]string  `json:"nodeSelector"`
	Tolerations  []chart.Toleration `json:"tolerations"`
	Resources    chart.Resources    `json:"resources"`
	// Node feature discovery and GPU feature discovery stay off: the
	// pool's nodes carry their label from the node group.
	NFD enabledFlag `json:"nfd"`
	GFD enabledFlag `json:"gfd"`
}

type enabledFlag struct {
	Enabled bool `json:"enabled"`
}

func devicePluginRelease(a Args) chart.Args {
	return chart.Args{
		Chart: versions.NVIDIADevicePlugin, ReleaseName: DevicePluginRelease, Namespace: Namespace,
		PodSecurity: PodSecurity, Tags: a.Tags,
		Values: devicePluginValues{
			Image:        chart.ImageOf(versions.NVIDIADevicePluginImage),
			NodeSelector: NodeSelector, Tolerations: []chart.Toleration{Toleration},
			Resources: chart.Burstable(chart.ResourceList{CPU: "10m", Memory: "32Mi"}, chart.ResourceList{CPU: "100m", Memory: "128Mi"}),
		},
	}
}

// exporterValues are the values set on dcgm-exporter 4.8.2; the chart's
// default counters (its exporter-metrics-config-map) are what the GPU
// alerts and panels read (slo.DCGMExporter).
type exporterValues struct {
	Image          chart.Image        `json:"image"`
	NodeSelector   map[string]string  `json:"nodeSelector"`
	Tolerations    []chart.Toleration `json:"tolerations"`
	Resources      chart.Resources    `json:"resources"`
	ServiceMonitor serviceMonitor     `json:"serviceMonitor"`
}

type serviceMonitor struct {
	Enabled  bool   `json:"enabled"`
	Interval string `json:"interval"`
}

// exporterLabels select the exporter's pods (the chart's selector labels).
var exporterLabels = map[string]string{"app.kubernetes.io/name": ExporterRelease, "app.kubernetes.io/instance": ExporterRelease}

func exporterRelease(a Args, devicePlugin *chart.Release) chart.Args {
	return chart.Args{
		Chart: versions.DCGMExporter, ReleaseName: ExporterRelease, Namespace: Namespace,
		NamespaceResource: devicePlugin.Helm,
		// The ServiceMonitor CRD comes with the metrics stack.
		DependsOn: a.MonitoringDependsOn,
		Values: exporterValues{
			Image:        chart.ImageOf(versions.DCGMExporterImage),
			NodeSelector: NodeSelector, Tolerations: []chart.Toleration{Toleration},
			Resources:      chart.Burstable(chart.ResourceList{CPU: "100m", Memory: "128Mi"}, chart.ResourceList{CPU: "200m", Memory: "512Mi"}),
			ServiceMonitor: serviceMonitor{Enabled: true, Interval: "15s"},
		},
		Tags:            a.Tags,
		NetworkPolicies: []netpol.Policy{netpol.Scrape("metrics", a.MonitoringNamespace, exporterLabels, MetricsPort)},
	}
}
