// Package addons installs the cluster add-ons that come as Helm charts
// through the shared chart block: cert-manager (its CRDs and webhook serve
// every later chart that asks for certificates: the Barman Cloud plugin,
// the load balancer controller's webhook) and the AWS Load Balancer
// Controller (the region's public edge), with its IRSA role.
package addons

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/chart"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/internal/check"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "tars:addons:Addons"

// Args configures the region's chart-installed add-ons.
type Args struct {
	// ClusterName is the EKS cluster's name (the controller tags and finds
	// its load balancers by it). Required.
	ClusterName pulumi.StringInput
	// VpcID is the cluster's VPC. Set explicitly because pods cannot reach
	// the node's instance metadata to discover it. Required.
	VpcID pulumi.StringInput
	// Region is the AWS region, e.g. us-east-1. Required.
	Region string
	// OIDC and Partition come from the cluster, for the IRSA role.
	OIDC      cluster.OIDC
	Partition string
	// Tags go on the IAM role and on every AWS resource the controller
	// creates (load balancers, target groups, security groups).
	Tags map[string]string
	// ControlPlane are the blocks the control plane reaches the webhooks
	// from (netpol.Sources). Empty admits nothing to them.
	ControlPlane []string
	// MonitoringNamespace is Prometheus's namespace (the scraper admitted
	// to the metrics ports). Default "monitoring".
	MonitoringNamespace string
}

// Validate reports every problem with the args, by field.
func (a Args) Validate() error {
	var p check.Problems
	if a.ClusterName == nil {
		p.Addf("clusterName", "is required")
	}
	if a.VpcID == nil {
		p.Addf("vpcId", "is required")
	}
	if a.Region == "" {
		p.Addf("region", "is required")
	}
	if a.Partition == "" {
		p.Addf("partition", "is required")
	}
	return p.Err()
}

// Addons are the chart-installed add-ons of one region.
type Addons struct {
	pulumi.ResourceState

	// CertManager is the cert-manager release; depend on it before
	// creating Certificates or Issuers, or installing a chart that does.
	CertManager *chart.Release
	// LoadBalancerController is the AWS Load Balancer Controller release;
	// depend on it before creating an Ingress or a LoadBalancer Service.
	LoadBalancerController *chart.Release

	LoadBalancerControllerRoleArn pulumi.StringOutput `pulumi:"loadBalancerControllerRoleArn"`
}

// New installs the add-ons. Pass the cluster's Kubernetes provider in opts.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Addons, error) {
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("addons %s: invalid args: %w", name, err)
	}
	a := &Addons{}
	if err := ctx.RegisterComponentResource(TypeToken, name, a, opts...); err != nil {
		return nil, fmt.Errorf("addons %s: register: %w", name, err)
	}
	cm, err := chart.New(ctx, name+"-cert-manager", certManager(args), pulumi.Parent(a))
	if err != nil {
		return nil, fmt.Errorf("addons %s: %w", name, err)
	}
	a.CertManager = cm
	lbcArgs, err := loadBalancerController(args, cm.Helm)
	if err != nil {
		return nil, fmt.Errorf("addons %s: aws-load-balancer-controller: %w", name, err)
	}
	lbc, err := chart.New(ctx, name+"-aws-load-balancer-controller", lbcArgs, pulumi.Parent(a))
	if err != nil {
		return nil, fmt.Errorf("addons %s: %w", name, err)
	}
	a.LoadBalancerController = lbc
	a.LoadBalancerControllerRoleArn = lbc.RoleArn
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{
		"loadBalancerControllerRoleArn": a.LoadBalancerControllerRoleArn,
	}); err != nil {
		return nil, fmt.Errorf("addons %s: register outputs: %w", name, err)
	}
	return a, nil
}
