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
