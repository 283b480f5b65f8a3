// Package versions is the one place where every version the program installs
// is pinned, each with the source it was read from. Components take their
// versions from here; stack config may override a few (named on the field) so
// an SRE can roll a patch forward without a code change.
package versions

import (
	"fmt"
	"sort"
)

// KubernetesDefault is the EKS control-plane minor the region stacks run when
// tars:cluster.version is not set. Source: EKS standard-support calendar
// (docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html); the
// conformance tier builds kube-apiserver at this same minor.
const KubernetesDefault = "1.34"

// EKS managed add-on names, as the EKS API spells them.
const (
	AddonVPCCNI    = "vpc-cni"
	AddonCoreDNS   = "coredns"
	AddonKubeProxy = "kube-proxy"
	AddonEBSCSI    = "aws-ebs-csi-driver"
)

// EKSAddons pins the EKS managed add-on version per Kubernetes minor.
// Source: `aws eks describe-addon-versions --kubernetes-version <minor>
// --addon-name <name>` (the default-version entry for that minor).
// kube-proxy must match the control-plane minor; stacks validates that.
var EKSAddons = map[string]map[string]string{
	"1.33": {
		AddonVPCCNI:    "v1.19.5-eksbuild.3",
		AddonCoreDNS:   "v1.12.1-eksbuild.2",
		AddonKubeProxy: "v1.33.0-eksbuild.2",
		AddonEBSCSI:    "v1.44.0-eksbuild.1",
	},
	"1.34": {
		AddonVPCCNI:    "v1.20.4-eksbuild.1",
		AddonCoreDNS:   "v1.12.4-eksbuild.1",
		AddonKubeProxy: "v1.34.1-eksbuild.2",
		AddonEBSCSI:    "v1.51.0-eksbuild.1",
	},
}

// Addon returns the pinned version of an EKS add-on for a Kubernetes minor and
// whether one is pinned.
func Addon(kubernetesMinor, addon string) (string, bool) {
	v, ok := EKSAddons[kubernetesMinor][addon]
	return v, ok
}

// Chart is a Helm chart the platform installs, pinned exactly. Every chart
// is installed from Repository at Version by the shared chart block
// (components/chart); `tarsctl charts pull` fetches the same archives,
// named <Name>-<Version>.tgz, for the offline chart tier.
type Chart struct {
	Name       string // chart name in its repository
	Repository string // Helm repository URL
	Version    string // chart version, exact, as the repository spells it
	// AppVersion is the chart's appVersion without a leading "v": the
	// operator or application release it deploys.
	AppVersion string
}

// Archive is the file name of the chart's packaged archive.
func (c Chart) Archive() string { return c.Name + "-" + c.Version + ".tgz" }

// Charts pinned for the platform. Source of each: the chart's Chart.yaml
// (version/appVersion) at the upstream commit named, which is also the
// archive in the offline mirror ../shared/charts (its README lists the
// commits and sha256 sums). The conformance tier installs an operator's
// CRDs at AppVersion from the operator's own Go module where the program
// creates its custom resources, and fails if that module's declared
// version drifts from AppVersion; the chart tier fails if an archive's
// Chart.yaml disagrees with the pin.
var (
	// KubePrometheusStack runs prometheus-operator v0.93.1 (grafana 12.11.1
	// subchart). prometheus-community/helm-charts @ ea930baeebeb.
	KubePrometheusStack = Chart{Name: "kube-prometheus-stack", Repository: "https://prometheus-community.github.io/helm-charts", Version: "88.5.3", AppVersion: "0.93.1"}
	// Grafana is installed on its own (not as kube-prometheus-stack's
	// subchart, the same chart version) so it starts after its Postgres
	// database exists. grafana-community/helm-charts @ 864f77946836.
	Grafana = Chart{Name: "grafana", Repository: "https://grafana-community.github.io/helm-charts", Version: "12.11.1", AppVersion: "13.2.0"}
	// Thanos is stevehipwell's chart with the upstream quay.io/thanos image.
	// stevehipwell/helm-charts @ 8e4dbb7290ba.
	Thanos = Chart{Name: "thanos", Repository: "https://stevehipwell.github.io/helm-charts", Version: "1.24.1", AppVersion: "0.42.4"}
	// Loki from the grafana-community repository (external S3 storage).
	// grafana-community/helm-charts @ 3386a1156177.
	Loki = Chart{Name: "loki", Repository: "https://grafana-community.github.io/helm-charts", Version: "18.11.0", AppVersion: "3.7.6"}
	// Alloy replaces the end-of-life Promtail. grafana/alloy @ 233907cff225.
	Alloy = Chart{Name: "alloy", Repository: "https://grafana.github.io/helm-charts", Version: "1.11.1", AppVersion: "1.18.1"}
	// Jaeger v2 (no bundled storage). jaegertracing/helm-charts @ 6c602b54a180.
	Jaeger = Chart{Name: "jaeger", Repository: "https://jaegertracing.github.io/helm-charts", Version: "4.11.1", AppVersion: "2.19.0"}
	// OpenSearch is Jaeger's span storage. opensearch-project/helm-charts @ 0a2cba40e973.
	OpenSearch = Chart{Name: "opensearch", Repository: "https://opensearch-project.github.io/helm-charts", Version: "3.6.0", AppVersion: "3.6.0"}
	// OpenTelemetryCollector needs mode and image.repository set.
	// open-telemetry/opentelemetry-helm-charts @ f5178cb97987.
	OpenTelemetryCollector = Chart{Name: "opentelemetry-collector", Repository: "https://open-telemetry.github.io/opentelemetry-helm-charts", Version: "0.170.0", AppVersion: "0.158.0"}
	// ClusterAutoscaler's default image is 1.35; the program pins the image
	// to the control plane's minor. kubernetes/autoscaler @ 5a0b98e45f89.
	ClusterAutoscaler = Chart{Name: "cluster-autoscaler", Repository: "https://kubernetes.github.io/autoscaler", Version: "9.59.0", AppVersion: "1.35.0"}
	// VerticalPodAutoscaler (upstream kubernetes/autoscaler chart) runs VPA
	// 1.7.1. kubernetes/autoscaler @ 49ef1cb46052.
	VerticalPodAutoscaler = Chart{Name: "vertical-pod-autoscaler", Repository: "https://kubernetes.github.io/autoscaler", Version: "0.11.0", AppVersion: "1.7.1"}
	// CloudNativePG runs the operator 1.30.0. cloudnative-pg/charts @ d1b5ad60cee2.
	CloudNativePG = Chart{Name: "cloudnative-pg", Repository: "https://cloudnative-pg.github.io/charts", Version: "0.29.0", AppVersion: "1.30.0"}
	// PluginBarmanCloud runs the Barman Cloud CNPG-I plugin v0.13.0; it
	// needs cert-manager. cloudnative-pg/charts @ 83bd9c59514c.
	PluginBarmanCloud = Chart{Name: "plugin-barman-cloud", Repository: "https://cloudnative-pg.github.io/charts", Version: "0.7.0", AppVersion: "0.13.0"}
	// CertManager ships its CRDs as templates, off by default.
	// cert-manager/cert-manager @ 24e33194fb39 (tag v1.21.1).
	CertManager = Chart{Name: "cert-manager", Repository: "https://charts.jetstack.io", Version: "v1.21.1", AppVersion: "1.21.1"}
	// AWSLoadBalancerController needs clusterName. aws/eks-charts gh-pages @
	// c7f9ea560178 (chart source kubernetes-sigs/aws-load-balancer-controller
	// @ v3.5.0 = 11eb202c97e4).
	AWSLoadBalancerController = Chart{Name: "aws-load-balancer-controller", Repository: "https://aws.github.io/eks-charts", Version: "3.5.0", AppVersion: "3.5.0"}
	// Kubecost 3.x (the chart was renamed from cost-analyzer).
	// kubecost/kubecost @ 0601bd5301bf.
	Kubecost = Chart{Name: "kubecost", Repository: "https://kubecost.github.io/kubecost", Version: "3.2.1", AppVersion: "3.2.1"}
	// OpenCost is the fully open alternative to Kubecost.
	// opencost/opencost-helm-chart @ 725bb939d6a6.
	OpenCost = Chart{Name: "opencost", Repository: "https://opencost.github.io/opencost-helm-chart", Version: "2.5.17", AppVersion: "1.120.1"}
	// NVIDIADevicePlugin exposes GPUs to the scheduler.
	// NVIDIA/k8s-device-plugin @ 1b826acc6af3.
	NVIDIADevicePlugin = Chart{Name: "nvidia-device-plugin", Repository: "https://nvidia.github.io/k8s-device-plugin", Version: "0.20.0", AppVersion: "0.20.0"}
	// DCGMExporter exports GPU metrics. NVIDIA/dcgm-exporter @ 691c92762eb5.
	DCGMExporter = Chart{Name: "dcgm-exporter", Repository: "https://nvidia.github.io/dcgm-exporter/helm-charts", Version: "4.8.2", AppVersion: "4.8.2"}
)

// AutoscalerImages pins the Cluster Autoscaler image per Kubernetes minor:
// the autoscaler's minor must match the control plane's (its scheduler
// simulation is that release's), and the chart's default (1.35.0) is one
// ahead of the clusters. Source: kubernetes/autoscaler release notes of
// cluster-autoscaler-1.34.5 ("Images: registry.k8s.io/autoscaling/
// cluster-autoscaler:v1.34.5").
var AutoscalerImages = map[string]string{
	"1.34": "v1.34.5",
}

// AutoscalerImage returns the pinned autoscaler tag for a control-plane
// minor, or an error naming the minors that have one.
func AutoscalerImage(kubernetesMinor string) (string, error) {
	if tag, ok := AutoscalerImages[kubernetesMinor]; ok {
		return tag, nil
	}
	var have []string
	for k := range AutoscalerImages {
		have = append(have, k)
	}
	sort.Strings(have)
	return "", fmt.Errorf("(%q) has no Cluster Autoscaler image pinned (components/versions.AutoscalerImages has %v): the autoscaler's minor must match the control plane's", kubernetesMinor, have)
}

// Charts is every pinned chart: what `tarsctl charts pull` fetches.
var Charts = []Chart{
	KubePrometheusStack, Grafana, Thanos, Loki, Alloy, Jaeger, OpenSearch, OpenTelemetryCollector,
	ClusterAutoscaler, VerticalPodAutoscaler, CloudNativePG, PluginBarmanCloud, CertManager,
	AWSLoadBalancerController, Kubecost, OpenCost, NVIDIADevicePlugin, DCGMExporter,
}

// Conformance- and scheduling-tier servers: built from source at these
// versions (tools/kubeserver).
const (
	// KubeAPIServer is k8s.io/kubernetes at the minor of KubernetesDefault;
	// kube-scheduler and kube-controller-manager are built from the same.
	KubeAPIServer = "v1.34.2"
	// Etcd is go.etcd.io/etcd/server/v3; v3.5 is what Kubernetes 1.34 supports.
	Etcd = "v3.5.21"
	// PulumiCLI is github.com/pulumi/pulumi/pkg/v3's cmd/pulumi, the engine
	// tier's CLI (tools/pulumicli requires exactly this version).
	PulumiCLI = "v3.259.0"
)

// Container images, pinned by tag.
const (
	// Redis is the official Redis 7 image (Docker Hub library/redis, 7.4
	// line: cluster-announce-hostname and hostname endpoints).
	Redis = "redis:7.4.2"
	// RedisExporter is oliver006/redis_exporter (GitHub releases).
	RedisExporter = "oliver006/redis_exporter:v1.67.0"
	// Postgres is the PostgreSQL image of the Cluster: the default image
	// of the pinned CloudNativePG operator 1.30.0 (pkg/versions
	// DefaultImageName), named so an operator upgrade never changes the
	// database's major version behind the program's back.
	Postgres = "ghcr.io/cloudnative-pg/postgresql:18.4-system-trixie"
	// ChromaDB is the vector store's server (Docker Hub chromadb/chroma,
	// 1.x: persists under /data, health at /api/v2/heartbeat).
	ChromaDB = "chromadb/chroma:1.5.9"
	// TarsReport is cmd/tars-report, built and pushed by
	// .github/workflows/release.yml (ko) when the repository is tagged
	// with this version.
	TarsReport = "ghcr.io/tars-platform/tars-report:v0.1.0"
	// AWSCLI runs the ChromaDB sync scripts (Docker Hub amazon/aws-cli,
	// Amazon Linux 2 with sh, sed and curl).
	AWSCLI = "amazon/aws-cli:2.27.9"
	// NVIDIADevicePluginImage is the pinned chart's device plugin (its
	// appVersion), set explicitly so the image moves only with this line.
	NVIDIADevicePluginImage = "nvcr.io/nvidia/k8s-device-plugin:v0.20.0"
	// DCGMExporterImage is the pinned chart's exporter (its values' default:
	// DCGM 4.5.3, exporter 4.8.2, distroless).
	DCGMExporterImage = "nvcr.io/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless"
)

// Pulumi providers registered by type token (their Go SDK is not served
// here), pinned with where the engine downloads the plugin.
const (
	// PagerDutyProvider is pulumi/pulumi-pagerduty tag v4.34.0 (commit
	// 15b9785091ff21e6ce4f2c4f6bbf6fc2f173600e); its schema, trimmed, is
	// tests/testdata/pagerduty-schema.json.
	PagerDutyProvider  = "4.34.0"
	PagerDutyPluginURL = "github://api.github.com/pulumi/pulumi-pagerduty"
)
