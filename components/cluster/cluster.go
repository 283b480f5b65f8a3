// Package cluster is the region's compute foundation: the VPC over three AZs,
// the EKS cluster with encrypted secrets and IRSA, its managed node groups and
// add-ons, the default StorageClass and the Kubernetes provider every later
// component deploys through. It also holds the IRSA helper and the
// cross-region VPC peering component.
package cluster

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "tars:cluster:Cluster"

// Cluster is a region's VPC, EKS cluster and Kubernetes provider.
type Cluster struct {
	pulumi.ResourceState

	VpcID                  pulumi.StringOutput      `pulumi:"vpcId"`
	VpcCidr                pulumi.StringOutput      `pulumi:"vpcCidr"`
	PrivateSubnetIDs       pulumi.StringArrayOutput `pulumi:"privateSubnetIds"`
	PublicSubnetIDs        pulumi.StringArrayOutput `pulumi:"publicSubnetIds"`
	PrivateRouteTableIDs   pulumi.StringMapOutput   `pulumi:"privateRouteTableIds"` // keyed by AZ name
	ClusterName            pulumi.StringOutput      `pulumi:"clusterName"`
	Endpoint               pulumi.StringOutput      `pulumi:"endpoint"`
	ClusterSecurityGroupID pulumi.StringOutput      `pulumi:"clusterSecurityGroupId"`
	OIDCProviderArn        pulumi.StringOutput      `pulumi:"oidcProviderArn"`
	OIDCIssuerURL          pulumi.StringOutput      `pulumi:"oidcIssuerUrl"`
	NodeRoleArn            pulumi.StringOutput      `pulumi:"nodeRoleArn"`
	SecretsKeyArn          pulumi.StringOutput      `pulumi:"secretsKeyArn"`
	Kubeconfig             pulumi.StringOutput      `pulumi:"kubeconfig"` // a Pulumi secret
	StorageClassName       pulumi.StringOutput      `pulumi:"storageClassName"`
	DataStorageClassName   pulumi.StringOutput      `pulumi:"dataStorageClassName"`

	// Provider deploys into this cluster; hand it to every component that
	// creates Kubernetes objects.
	Provider *kubernetes.Provider
	// OIDC lets other components create IRSA roles trusted by this cluster.
	OIDC OIDC
	// Account facts resolved once at plan time.
	Region, AccountID, Partition string
	// AvailabilityZones the VPC spans, in subnet-plan order.
	AvailabilityZones []string
	// PrivateSubnetCIDRs are the private subnets' blocks by AZ name: the VPC
	// CNI gives pods addresses from their node's subnet, so a pod's address
	// tells its zone.
	PrivateSubnetCIDRs map[string]string
	// PublicSubnetCIDRs by AZ name: where the internet-facing load
	// balancers reach their targets (type ip) from.
	PublicSubnetCIDRs map[string]string
	// InfraSubnetCIDRs by AZ name: where the EKS control plane calls the
	// webhooks from, and the internal load balancers reach their targets
	// from. No pod has one of these addresses.
	InfraSubnetCIDRs map[string]string
}

// ControlPlaneSources are the blocks the control plane reaches pods from
// (admission webhooks), in AZ order.
func (c *Cluster) ControlPlaneSources() []string { return c.inAZOrder(c.InfraSubnetCIDRs) }

// InternalLoadBalancerSources are the blocks an internal load balancer
// reaches its targets (and health-checks them) from, in AZ order.
func (c *Cluster) InternalLoadBalancerSources() []string { return c.inAZOrder(c.InfraSubnetCIDRs) }

// PublicLoadBalancerSources are the blocks an internet-facing load balancer
// reaches its targets from, in AZ order.
func (c *Cluster) PublicLoadBalancerSources() []string { return c.inAZOrder(c.PublicSubnetCIDRs) }

func (c *Cluster) inAZOrder(m map[string]string) []string {
	var out []string
	for _, az := range c.AvailabilityZones {
		out = append(out, m[az])
	}
	return out
}

// New creates a region cluster. Args are defaulted, then validated before
// anything is registered.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Cluster, error) {
	args = args.WithDefaults()
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("cluster %s: invalid args: %w", name, err)
	}
	c := &Cluster{}
	if err := ctx.RegisterComponentResource(TypeToken, name, c, opts...); err != nil {
		return nil, fmt.Errorf("cluster %s: register: %w", name, err)
	}
	args.component = name
	callerArn, err := c.lookupAccount(ctx, args.AvailabilityZones)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", name, err)
	}
	if err := checkCallerIsAdmin(callerArn, args.Admins, c.Partition, c.AccountID); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", name, err)
	}
	net, err := c.newNetwork(ctx, name, args)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: network: %w", name, err)
	}
	cp, err := c.newControlPlane(ctx, name, args, net)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: control plane: %w", name, err)
	}
	if err := c.newPeerIngress(ctx, name, args, cp.cluster); err != nil {
		return nil, fmt.Errorf("cluster %s: peer ingress: %w", name, err)
	}
	early, err := c.newAddons(ctx, name, args, cp.cluster, beforeNodes, nil)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: add-ons: %w", name, err)
	}
	groups, err := c.newNodeGroups(ctx, name, args, cp.cluster, net, early)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: node groups: %w", name, err)
	}
	if _, err := c.newAddons(ctx, name, args, cp.cluster, afterNodes, groups); err != nil {
		return nil, fmt.Errorf("cluster %s: add-ons: %w", name, err)
	}
	if err := c.newKubernetes(ctx, name, args, cp, groups); err != nil {
		return nil, fmt.Errorf("cluster %s: kubernetes: %w", name, err)
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"vpcId":                  c.VpcID,
		"vpcCidr":                c.VpcCidr,
		"privateSubnetIds":       c.PrivateSubnetIDs,
		"publicSubnetIds":        c.PublicSubnetIDs,
		"privateRouteTableIds":   c.PrivateRouteTableIDs,
		"clusterName":            c.ClusterName,
		"endpoint":               c.Endpoint,
		"clusterSecurityGroupId": c.ClusterSecurityGroupID,
		"oidcProviderArn":        c.OIDCProviderArn,
		"oidcIssuerUrl":          c.OIDCIssuerURL,
		"nodeRoleArn":            c.NodeRoleArn,
		"secretsKeyArn":          c.SecretsKeyArn,
		"kubeconfig":             c.Kubeconfig,
		"storageClassName":       c.StorageClassName,
		"dataStorageClassName":   c.DataStorageClassName,
	}); err != nil {
		return nil, fmt.Errorf("cluster %s: register outputs: %w", name, err)
	}
	return c, nil
}

// lookupAccount resolves the region, account, partition and the first n
// available AZs (those that need no opt-in, so Local Zones are never
// picked); it returns the ARN of the identity running the program.
func (c *Cluster) lookupAccount(ctx *pulumi.Context, n int) (string, error) {
	region, err := aws.GetRegion(ctx, &aws.GetRegionArgs{}, pulumi.Parent(c))
	if err != nil {
		return "", fmt.Errorf("look up region: %w", err)
	}
	caller, err := aws.GetCallerIdentity(ctx, &aws.GetCallerIdentityArgs{}, pulumi.Parent(c))
	if err != nil {
		return "", fmt.Errorf("look up account: %w", err)
	}
	partition, err := aws.GetPartition(ctx, &aws.GetPartitionArgs{}, pulumi.Parent(c))
	if err != nil {
		return "", fmt.Errorf("look up partition: %w", err)
	}
	state := "available"
	zones, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{
		State: &state,
		Filters: []aws.GetAvailabilityZonesFilter{
			{Name: "opt-in-status", Values: []string{"opt-in-not-required"}},
		},
	}, pulumi.Parent(c))
	if err != nil {
		return "", fmt.Errorf("look up availability zones: %w", err)
	}
	names := slices.Clone(zones.Names)
	slices.Sort(names)
	if len(names) < n {
		return "", fmt.Errorf("region %s offers %d availability zones %v, availabilityZones asks for %d", region.Name, len(names), names, n)
	}
	c.Region, c.AccountID, c.Partition, c.AvailabilityZones = region.Name, caller.AccountId, partition.Partition, names[:n]
	return caller.Arn, nil
}

// tags merges the caller's tags with resource-specific ones.
// nameTag is the Name tag of the child of a logical name: the EKS
// cluster's name in place of the component's, so renaming the component
// (stacks.Renames) changes no tag; "us-east-private-us-east-1a" of cluster
// tars-us-east is "tars-us-east-private-us-east-1a".
func (a Args) nameTag(logical string) string {
	return a.Name + strings.TrimPrefix(logical, a.component)
}

func tags(base map[string]string, extra map[string]string) pulumi.StringMap {
	out := pulumi.StringMap{}
	for k, v := range base {
		out[k] = pulumi.String(v)
	}
	for k, v := range extra {
		out[k] = pulumi.String(v)
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
