// Package versions is the one place where every version the program installs
// is pinned, each with the source it was read from. Components take their
// versions from here; stack config may override a few (named on the field) so
// an SRE can roll a patch forward without a code change.
package versions

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

// Chart is a Helm chart the platform installs, pinned with the version of
// the application (operator) it runs.
type Chart struct {
	Name       string // chart name in its repository
	Repository string // Helm repository URL
	Version    string // chart version, exact
	AppVersion string // the chart's appVersion: the operator release it deploys
}

// Charts pinned for the platform. Source: each chart's Chart.yaml
// (version/appVersion) at the tag named; the pairs are the ones
// ../shared/DESIGN.md lists. The conformance tier installs the CRDs of the
// operator at AppVersion from the operator's own Go module and fails if the
// module's declared version drifts from AppVersion.
var (
	// kube-prometheus-stack 88.x runs prometheus-operator v0.93.1.
	KubePrometheusStack = Chart{Name: "kube-prometheus-stack", Repository: "https://prometheus-community.github.io/helm-charts", Version: "88.0.0", AppVersion: "0.93.1"}
	// cloudnative-pg 0.29.x runs the CloudNativePG operator 1.30.0.
	CloudNativePG = Chart{Name: "cloudnative-pg", Repository: "https://cloudnative-pg.github.io/charts", Version: "0.29.0", AppVersion: "1.30.0"}
	// plugin-barman-cloud 0.7.x runs the Barman Cloud CNPG-I plugin v0.13.0.
	PluginBarmanCloud = Chart{Name: "plugin-barman-cloud", Repository: "https://cloudnative-pg.github.io/charts", Version: "0.7.0", AppVersion: "0.13.0"}
	// vertical-pod-autoscaler (upstream kubernetes/autoscaler chart) 0.11.x runs VPA 1.7.1.
	VerticalPodAutoscaler = Chart{Name: "vertical-pod-autoscaler", Repository: "https://kubernetes.github.io/autoscaler", Version: "0.11.0", AppVersion: "1.7.1"}
)

// Conformance-tier servers: built from source at these versions (tools/kubeserver).
const (
	// KubeAPIServer is k8s.io/kubernetes at the minor of KubernetesDefault.
	KubeAPIServer = "v1.34.2"
	// Etcd is go.etcd.io/etcd/server/v3; v3.5 is what Kubernetes 1.34 supports.
	Etcd = "v3.5.21"
)

// Container images, pinned by tag.
const (
	// Redis is the official Redis 7 image (Docker Hub library/redis, 7.4
	// line: cluster-announce-hostname and hostname endpoints).
	Redis = "redis:7.4.2"
	// RedisExporter is oliver006/redis_exporter (GitHub releases).
	RedisExporter = "oliver006/redis_exporter:v1.67.0"
)
