// Package costs is the region's cost tooling (seed 003 "Cost
// Optimization Framework"): the Cluster Autoscaler, scaling the node
// groups it discovers by their tags between their minimum and maximum
// size with the seed's timings; the Vertical Pod Autoscaler with the
// seed's objects from one typed table (SeedVPAs); and Kubecost with the
// seed's prices and budgets, reading the metrics stack's Prometheus.
package costs

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/chart"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/components/monitoring"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/internal/check"
	"github.com/tars-platform/infra/slo"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "tars:costs:Costs"

// Cluster Autoscaler names and the seed's settings ("Cluster Autoscaler").
const (
	// AutoscalerRelease: the chart names its Deployment and Service
	// <release>-aws-cluster-autoscaler, which is the scrape job the
	// catalog's alerts read (slo.ClusterAutoscalerJob).
	AutoscalerRelease        = "cluster-autoscaler"
	AutoscalerNamespace      = "kube-system"
	AutoscalerServiceAccount = "cluster-autoscaler"
	// MaxNodeProvisionTime: "Max provision time: 15 minutes".
	MaxNodeProvisionTime = 15 * time.Minute
	// NewPodScaleUpDelay: "New pod delay: 0s".
	NewPodScaleUpDelay = 0 * time.Second
	// ScaleDownDelayAfterAdd and ScaleDownUnneededTime: 10 minutes each.
	ScaleDownDelayAfterAdd = 10 * time.Minute
	ScaleDownUnneededTime  = 10 * time.Minute
	// MaxGracefulTermination: "Graceful termination: 600s".
	MaxGracefulTermination = 600 * time.Second
)

// Args configures the cost tooling of one region.
type Args struct {
	// ClusterName is the EKS cluster (its node groups carry the discovery
	// tags). Required.
	ClusterName string
	// KubernetesVersion is the control plane's minor ("1.34"); the
	// autoscaler image must match it. Required.
	KubernetesVersion string
	// AwsRegion, AccountID, Partition and OIDC come from the cluster. Required.
	AwsRegion, AccountID, Partition string
	OIDC                            cluster.OIDC
	// MonitoringNamespace is where Prometheus's ServiceMonitors live. Required.
	MonitoringNamespace string
	// ControlPlane are the blocks the control plane reaches the VPA's
	// admission webhook from (netpol.Sources). Empty admits nothing to it.
	ControlPlane []string
	// DependsOn: what installs the ServiceMonitor CRD. Custom resources only.
	DependsOn []pulumi.Resource
	// CertManager is the cert-manager release: it issues the VPA admission
	// controller's serving certificate. Required.
	CertManager []pulumi.Resource
	// VPAs are the VerticalPodAutoscaler objects (SeedVPAs).
	VPAs []VPA
	// VPADependsOn are the namespaces the VPAs' targets live in.
	VPADependsOn []pulumi.Resource
	// Kubecost configures Kubecost.
	Kubecost Kubecost
	Tags     map[string]string
}

// Validate reports every problem, by field.
func (a Args) Validate() error {
	var p check.Problems
	for _, f := range []struct{ field, v string }{
		{"clusterName", a.ClusterName}, {"awsRegion", a.AwsRegion}, {"accountId", a.AccountID}, {"partition", a.Partition},
	} {
		if f.v == "" {
			p.Addf(f.field, "is required")
		}
	}
	if _, err := versions.AutoscalerImage(a.KubernetesVersion); err != nil {
		p.Addf("kubernetesVersion", "%v", err)
	}
	if !check.DNSLabel(a.MonitoringNamespace, 63) {
		p.Addf("monitoringNamespace", "(%q) must be a namespace name", a.MonitoringNamespace)
	}
	if len(a.CertManager) == 0 {
		p.Addf("certManager", "is required: it issues the VPA admission controller's certificate")
	}
	p.Merge("", validateVPAs(a.VPAs))
	if a.Kubecost.SlackWebhookURL == nil {
		p.Addf("kubecost.slackWebhookUrl", "is required: the budget alerts go there")
	}
	if !check.DNSLabel(a.Kubecost.StorageClass, 63) {
		p.Addf("kubecost.storageClass", "(%q) must be a StorageClass name", a.Kubecost.StorageClass)
	}
	if a.Kubecost.Prices != (Prices{}) {
		p.Merge("kubecost.prices.", a.Kubecost.Prices.Validate())
	}
	return p.Err()
}

// Costs is the component.
type Costs struct {
	pulumi.ResourceState

	// AutoscalerRoleArn is the Cluster Autoscaler's IAM role.
	AutoscalerRoleArn pulumi.StringOutput `pulumi:"autoscalerRoleArn"`
}

// New creates the cost tooling. Pass the cluster's Kubernetes provider in opts.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Costs, error) {
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("costs %s: invalid args: %w", name, err)
	}
	c := &Costs{}
	if err := ctx.RegisterComponentResource(TypeToken, name, c, opts...); err != nil {
		return nil, fmt.Errorf("costs %s: register: %w", name, err)
	}
	ca, err := autoscalerRelease(args)
	if err != nil {
		return nil, fmt.Errorf("costs %s: %w", name, err)
	}
	rel, err := chart.New(ctx, name+"-cluster-autoscaler", ca, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("costs %s: %w", name, err)
	}
	c.AutoscalerRoleArn = rel.RoleArn
	vpa, err := chart.New(ctx, name+"-vpa", vpaRelease(args), pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("costs %s: %w", name, err)
	}
	if _, err := chart.New(ctx, name+"-kubecost", kubecostRelease(args), pulumi.Parent(c)); err != nil {
		return nil, fmt.Errorf("costs %s: %w", name, err)
	}
	for _, v := range args.VPAs {
		if _, err := apiextensions.NewCustomResource(ctx, name+"-vpa-"+v.Name, &apiextensions.CustomResourceArgs{
			ApiVersion: pulumi.String(vpaAPIVersion), Kind: pulumi.String("VerticalPodAutoscaler"),
			Metadata:    vpaMetadata(v),
			OtherFields: kubernetes.UntypedArgs{"spec": v.manifest()},
		}, pulumi.Parent(c), pulumi.DependsOn(append([]pulumi.Resource{vpa.Helm}, args.VPADependsOn...))); err != nil {
			return nil, fmt.Errorf("costs %s: vpa %s: %w", name, v, err)
		}
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"autoscalerRoleArn": c.AutoscalerRoleArn}); err != nil {
		return nil, fmt.Errorf("costs %s: register outputs: %w", name, err)
	}
	return c, nil
}

// AutoscalerPolicy is the Cluster Autoscaler's IAM policy (the AWS
// provider's documented minimum): read the groups, instance types and
// launch templates anywhere; change the size of, or terminate instances
// in, only the groups tagged as this cluster's.
func AutoscalerPolicy(clusterName string) *cluster.PolicyDocument {
	return &cluster.PolicyDocument{Version: "2012-10-17", Statement: []cluster.PolicyStatement{
		{Sid: "Discover", Effect: "Allow", Resource: []string{"*"}, Action: []string{
			"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
			"autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities", "autoscaling:DescribeTags",
			"ec2:DescribeImages", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions",
			"ec2:GetInstanceTypesFromInstanceRequirements", "eks:DescribeNodegroup",
		}},
		{Sid: "ScaleOwnGroups", Effect: "Allow", Resource: []string{"*"},
			Action: []string{"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"},
			Condition: map[string]map[string]cluster.ConditionValue{
				"StringEquals": {"aws:ResourceTag/" + cluster.AutoscalerOwnerTag(clusterName): {"owned"}},
			}},
	}}
}

// autoscalerValues are the values set on cluster-autoscaler 9.59.0.
type autoscalerValues struct {
	CloudProvider  string            `json:"cloudProvider"`
	AwsRegion      string            `json:"awsRegion"`
	AutoDiscovery  autoDiscovery     `json:"autoDiscovery"`
	Image          image             `json:"image"`
	ExtraArgs      map[string]string `json:"extraArgs"`
	Resources      chart.Resources   `json:"resources"`
	ServiceMonitor serviceMonitor    `json:"serviceMonitor"`
}

type autoDiscovery struct {
	ClusterName string `json:"clusterName"`
}

type image struct {
	Tag string `json:"tag"`
}

type serviceMonitor struct {
	Enabled   bool              `json:"enabled"`
	Namespace string            `json:"namespace"`
	Selector  map[string]string `json:"selector"`
}

// duration renders a flag duration the way Go and the autoscaler parse it
// ("15m", "0s").
func duration(d time.Duration) string { return model.Duration(d).String() }

func autoscalerRelease(a Args) (chart.Args, error) {
	img, err := versions.AutoscalerImage(a.KubernetesVersion)
	if err != nil {
		return chart.Args{}, err
	}
	return chart.Args{
		Chart: versions.ClusterAutoscaler, ReleaseName: AutoscalerRelease, Namespace: AutoscalerNamespace,
		DependsOn: a.DependsOn,
		IRSA: &chart.IRSA{
			OIDC: a.OIDC, Partition: a.Partition, ServiceAccount: AutoscalerServiceAccount,
			Policy: AutoscalerPolicy(a.ClusterName), ServiceAccountPath: []string{"rbac", "serviceAccount"},
		},
		Tags: a.Tags,
		Values: autoscalerValues{
			CloudProvider: "aws",
			AwsRegion:     a.AwsRegion,
			// Discovers the node groups by the two tags the cluster
			// component puts on them (k8s.io/cluster-autoscaler/enabled and
			// k8s.io/cluster-autoscaler/<cluster>); each group's min and max
			// (3 and 20 by default) bound the scaling.
			AutoDiscovery: autoDiscovery{ClusterName: a.ClusterName},
			Image:         image{Tag: img},
			ExtraArgs: map[string]string{
				"max-node-provision-time":          duration(MaxNodeProvisionTime),
				"new-pod-scale-up-delay":           duration(NewPodScaleUpDelay),
				"scale-down-enabled":               "true",
				"scale-down-delay-after-add":       duration(ScaleDownDelayAfterAdd),
				"scale-down-unneeded-time":         duration(ScaleDownUnneededTime),
				"scale-down-utilization-threshold": fmt.Sprint(slo.AutoscalerUtilizationDown),
				"max-graceful-termination-sec":     fmt.Sprint(int(MaxGracefulTermination.Seconds())),
				// One group per zone would be balanced; with one group over
				// three zones, keep the zones even as it grows.
				"balance-similar-node-groups": "true",
				"expander":                    "least-waste",
				// Nodes whose pods use emptyDir (most charts) may still be
				// scaled down; the volumes are scratch space.
				"skip-nodes-with-local-storage": "false",
				"logtostderr":                   "true",
				"stderrthreshold":               "info",
				"v":                             "2",
			},
			Resources: chart.Burstable(chart.ResourceList{CPU: "100m", Memory: "300Mi"}, chart.ResourceList{CPU: "500m", Memory: "600Mi"}),
			// The metrics stack's Prometheus selects every ServiceMonitor;
			// the release label is the kube-prometheus-stack convention.
			ServiceMonitor: serviceMonitor{Enabled: true, Namespace: a.MonitoringNamespace, Selector: map[string]string{"release": monitoring.ReleaseName}},
		},
	}, nil
}
