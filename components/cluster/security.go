package cluster

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// newPeerIngress admits the peer region's VPC block on the cluster security
// group (which managed node groups use), one TCP port per PeerPort and
// nothing else.
func (c *Cluster) newPeerIngress(ctx *pulumi.Context, name string, a Args, cluster *eks.Cluster) error {
	if a.PeerCidr == "" {
		return nil
	}
	sg := cluster.VpcConfig.ClusterSecurityGroupId().Elem()
	for _, p := range a.PeerPorts {
		if _, err := ec2.NewSecurityGroupRule(ctx, name+"-peer-"+p.Name, &ec2.SecurityGroupRuleArgs{
			Type:            pulumi.String("ingress"),
			SecurityGroupId: sg,
			Protocol:        pulumi.String("tcp"),
			FromPort:        pulumi.Int(p.Port),
			ToPort:          pulumi.Int(p.Port),
			CidrBlocks:      pulumi.StringArray{pulumi.String(a.PeerCidr)},
			Description:     pulumi.Sprintf("%s from the peer region", p.Name),
		}, pulumi.Parent(c)); err != nil {
			return err
		}
	}
	return nil
}
