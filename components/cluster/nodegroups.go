package cluster

import (
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// nodePolicies are the AWS managed policies of the node role. The VPC CNI's
// policy is not here: the vpc-cni add-on gets it through its own IRSA role.
var nodePolicies = []string{"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly"}

// AutoscalerTags returns the ASG tags the Cluster Autoscaler's
// --node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/<cluster>
// looks for (seed 003, "Node Group Auto-discovery").
func AutoscalerTags(clusterName string) map[string]string {
	return map[string]string{
		"k8s.io/cluster-autoscaler/enabled": "true",
		AutoscalerOwnerTag(clusterName):     "owned",
	}
}

// AutoscalerOwnerTag is the tag that marks a node group as this cluster's;
// the autoscaler's role may scale only groups carrying it.
func AutoscalerOwnerTag(clusterName string) string { return "k8s.io/cluster-autoscaler/" + clusterName }

// newNodeGroups creates the node role and one managed node group per
// args.NodeGroups entry, each on its own launch template (IMDSv2 only,
// encrypted gp3 root volume), in the private subnets. after are the add-ons
// that must exist before nodes join (vpc-cni, kube-proxy).
func (c *Cluster) newNodeGroups(ctx *pulumi.Context, name string, a Args, cluster *eks.Cluster, net *network, after []pulumi.Resource) ([]pulumi.Resource, error) {
	role, attached, err := newServiceRole(ctx, name+"-node", "ec2.amazonaws.com",
		"EKS nodes of "+a.Name, c.Partition, nodePolicies, a.Tags, c)
	if err != nil {
		return nil, err
	}
	deps := append(append([]pulumi.Resource{}, after...), attached...)
	// No access entry for the node role: EKS creates the EC2_LINUX entry of a
	// managed node group's role itself, and a second one would conflict.
	c.NodeRoleArn = role.Arn

	var groups []pulumi.Resource
	all := a.NodeGroups
	if a.GPU.Enabled {
		all = append(slices.Clone(all), a.GPU.nodeGroup())
	}
	for _, g := range all {
		ng, err := c.newNodeGroup(ctx, name+"-"+g.Name, a, g, cluster, role, net, deps)
		if err != nil {
			return nil, err
		}
		groups = append(groups, ng)
	}
	return groups, nil
}

func (c *Cluster) newNodeGroup(ctx *pulumi.Context, name string, a Args, g NodeGroup, cluster *eks.Cluster, role *iam.Role, net *network, deps []pulumi.Resource) (*eks.NodeGroup, error) {
	parent := pulumi.Parent(c)
	lt, err := ec2.NewLaunchTemplate(ctx, name, &ec2.LaunchTemplateArgs{
		Description: pulumi.Sprintf("EKS %s node group %s", a.Name, g.Name),
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{&ec2.LaunchTemplateBlockDeviceMappingArgs{
			DeviceName: pulumi.String("/dev/xvda"),
			Ebs: &ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
				VolumeSize:          pulumi.Int(g.DiskSizeGiB),
				VolumeType:          pulumi.String("gp3"),
				Encrypted:           pulumi.String("true"),
				DeleteOnTermination: pulumi.String("true"),
			},
		}},
		MetadataOptions: &ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint: pulumi.String("enabled"),
			HttpTokens:   pulumi.String("required"), // IMDSv2 only
			// One hop: the node itself reaches IMDS, a pod (one hop further,
			// through its network namespace) does not, so no pod can take the
			// node role's credentials. Pods get AWS credentials through IRSA;
			// components that would discover the region or VPC from IMDS are
			// told them (the load balancer controller's region and vpcId).
			HttpPutResponseHopLimit: pulumi.Int(NodeMetadataHopLimit),
		},
		TagSpecifications: ec2.LaunchTemplateTagSpecificationArray{&ec2.LaunchTemplateTagSpecificationArgs{
			ResourceType: pulumi.String("instance"),
			Tags:         tags(a.Tags, map[string]string{"Name": a.nameTag(name)}),
		}},
		UpdateDefaultVersion: pulumi.Bool(true),
		Tags:                 tags(a.Tags, nil),
	}, parent)
	if err != nil {
		return nil, err
	}
	ng, err := eks.NewNodeGroup(ctx, name, &eks.NodeGroupArgs{
		ClusterName:   cluster.Name,
		NodeGroupName: pulumi.String(g.Name),
		NodeRoleArn:   role.Arn,
		SubnetIds:     net.privateSubnets,
		InstanceTypes: pulumi.ToStringArray(g.InstanceTypes),
		CapacityType:  pulumi.String(g.CapacityType),
		Labels:        pulumi.ToStringMap(g.Labels),
		AmiType:       amiType(g),
		Taints:        taints(g),
		ScalingConfig: &eks.NodeGroupScalingConfigArgs{
			MinSize:     pulumi.Int(g.MinSize),
			MaxSize:     pulumi.Int(g.MaxSize),
			DesiredSize: pulumi.Int(g.DesiredSize),
		},
		UpdateConfig: &eks.NodeGroupUpdateConfigArgs{MaxUnavailable: pulumi.Int(1)},
		LaunchTemplate: &eks.NodeGroupLaunchTemplateArgs{
			Id:      lt.ID(),
			Version: pulumi.Sprintf("%d", lt.LatestVersion),
		},
		Tags: tags(a.Tags, AutoscalerTags(a.Name)),
	}, parent, pulumi.DependsOn(deps),
		// The Cluster Autoscaler owns the desired size once the group exists.
		pulumi.IgnoreChanges([]string{"scalingConfig.desiredSize"}))
	if err != nil {
		return nil, err
	}
	// EKS does not copy node-group tags to the Auto Scaling group, and the
	// Cluster Autoscaler discovers groups by ASG tags, so set them there too.
	asg := ng.Resources.Index(pulumi.Int(0)).AutoscalingGroups().Index(pulumi.Int(0)).Name().Elem()
	asgTags := map[string]string{}
	for k, v := range AutoscalerTags(a.Name) {
		asgTags[k] = v
	}
	for k, v := range g.templateTags {
		asgTags[k] = v
	}
	for _, k := range sortedKeys(asgTags) {
		if _, err := autoscaling.NewTag(ctx, name+"-"+tagSuffix(k, a.Name), &autoscaling.TagArgs{
			AutoscalingGroupName: asg,
			Tag: &autoscaling.TagTagArgs{
				Key:               pulumi.String(k),
				Value:             pulumi.String(asgTags[k]),
				PropagateAtLaunch: pulumi.Bool(false),
			},
		}, parent); err != nil {
			return nil, err
		}
	}
	return ng, nil
}

// amiType is the group's AMI type, nil for EKS's default.
func amiType(g NodeGroup) pulumi.StringPtrInput {
	if g.amiType == "" {
		return nil
	}
	return pulumi.String(g.amiType)
}

func taints(g NodeGroup) eks.NodeGroupTaintArray {
	var out eks.NodeGroupTaintArray
	for _, t := range g.taints {
		out = append(out, eks.NodeGroupTaintArgs{Key: pulumi.String(t.Key), Value: pulumi.String(t.Value), Effect: pulumi.String(t.Effect)})
	}
	return out
}

// tagSuffix names an ASG tag resource: "ca-enabled", "ca-owner", or for a
// node-template tag "ca-template-" and its kind and name
// ("ca-template-taint-nvidia-com-gpu").
func tagSuffix(key, clusterName string) string {
	switch {
	case key == "k8s.io/cluster-autoscaler/"+clusterName:
		return "ca-owner"
	case strings.HasPrefix(key, templateTagPrefix):
		return "ca-template-" + strings.NewReplacer("/", "-", ".", "-").Replace(strings.TrimPrefix(key, templateTagPrefix))
	}
	return "ca-enabled"
}

// templateTagPrefix starts the autoscaler's node-template tags.
const templateTagPrefix = "k8s.io/cluster-autoscaler/node-template/"
