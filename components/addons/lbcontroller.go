package addons

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/chart"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/components/versions"
)

// AWS Load Balancer Controller settings.
const (
	// LoadBalancerControllerNamespace is where EKS documents the controller.
	LoadBalancerControllerNamespace = "kube-system"
	// LoadBalancerControllerServiceAccount is the service account its IRSA
	// role trusts.
	LoadBalancerControllerServiceAccount = "aws-load-balancer-controller"
	// LoadBalancerControllerReplicas: one leader and a standby; the
	// webhooks (failurePolicy Fail for Services) are served by both.
	LoadBalancerControllerReplicas = 2
)

// loadBalancerControllerPolicy is the controller's IAM policy exactly as
// upstream publishes it: kubernetes-sigs/aws-load-balancer-controller
// docs/install/iam_policy.json at tag v3.5.0 (commit 11eb202c97e4, git blob
// 761d0e733c41), the release the pinned chart 3.5.0 runs. Its scoped
// conditions (security groups and load balancers only when tagged with
// elbv2.k8s.aws/cluster, the service-linked role only for ELB) are kept.
//
//go:embed iam/aws-load-balancer-controller-v3.5.0.json
var loadBalancerControllerPolicy []byte

// LoadBalancerControllerPolicy returns the controller's IAM policy for a
// partition. The upstream file is written for the aws partition; the
// others publish their own file, which is not pinned here.
func LoadBalancerControllerPolicy(partition string) (*cluster.PolicyDocument, error) {
	if partition != "aws" {
		return nil, fmt.Errorf("the controller's IAM policy is pinned for the aws partition only, not %q", partition)
	}
	var doc cluster.PolicyDocument
	if err := json.Unmarshal(loadBalancerControllerPolicy, &doc); err != nil {
		return nil, fmt.Errorf("read the controller's IAM policy: %w", err)
	}
	return &doc, nil
}

// loadBalancerControllerValues are the values this program sets on the
// aws-load-balancer-controller chart (values.yaml of 3.5.0).
type loadBalancerControllerValues struct {
	// ClusterName is required by the chart; VpcID and Region are set
	// because pods cannot read them from the node's instance metadata.
	ClusterName  pulumi.StringInput `json:"clusterName"`
	VpcID        pulumi.StringInput `json:"vpcId"`
	Region       string             `json:"region"`
	ReplicaCount int                `json:"replicaCount"`
	// PodDisruptionBudget: at most one controller pod down at a time.
	PodDisruptionBudget       maxUnavailable                   `json:"podDisruptionBudget"`
	Resources                 chart.Resources                  `json:"resources"`
	TopologySpreadConstraints []chart.TopologySpreadConstraint `json:"topologySpreadConstraints"`
	// EnableCertManager has cert-manager issue the webhook's serving
	// certificate. Without it the chart generates a new CA on every render,
	// so every `pulumi up` would show the release as changed.
	EnableCertManager bool `json:"enableCertManager"`
	// EnableServiceMutatorWebhook is off: the chart registers it for every
	// Service in the cluster with failurePolicy Fail, so while the
	// controller is not running (first install, a region rebuild, a crash)
	// no Service of any release could be created. A LoadBalancer Service
	// names the controller itself: loadBalancerClass service.k8s.aws/nlb.
	EnableServiceMutatorWebhook bool `json:"enableServiceMutatorWebhook"`
	// DefaultTags go on every load balancer, target group and security
	// group the controller creates, so they are attributed like the rest.
	DefaultTags map[string]string `json:"defaultTags"`
}

type maxUnavailable struct {
	MaxUnavailable int `json:"maxUnavailable"`
}

// loadBalancerController is the controller's release, after cert-manager.
func loadBalancerController(a Args, certManager pulumi.Resource) (chart.Args, error) {
	policy, err := LoadBalancerControllerPolicy(a.Partition)
	if err != nil {
		return chart.Args{}, err
	}
	c := versions.AWSLoadBalancerController
	return chart.Args{
		Chart:     c,
		Namespace: LoadBalancerControllerNamespace,
		Values: loadBalancerControllerValues{
			ClusterName:         a.ClusterName,
			VpcID:               a.VpcID,
			Region:              a.Region,
			ReplicaCount:        LoadBalancerControllerReplicas,
			PodDisruptionBudget: maxUnavailable{MaxUnavailable: 1},
			Resources:           chart.Burstable(chart.ResourceList{CPU: "100m", Memory: "128Mi"}, chart.ResourceList{CPU: "500m", Memory: "512Mi"}),
			TopologySpreadConstraints: chart.ZoneSpread(map[string]string{
				"app.kubernetes.io/name":     c.Name,
				"app.kubernetes.io/instance": c.Name,
			}),
			EnableCertManager: true,
			DefaultTags:       a.Tags,
		},
		IRSA: &chart.IRSA{
			OIDC:           a.OIDC,
			Partition:      a.Partition,
			ServiceAccount: LoadBalancerControllerServiceAccount,
			Policy:         policy,
		},
		DependsOn: []pulumi.Resource{certManager},
		Tags:      a.Tags,
	}, nil
}
