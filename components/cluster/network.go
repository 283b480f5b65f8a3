package cluster

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// network is what the control plane and node groups need from the VPC.
type network struct {
	vpc            *ec2.Vpc
	privateSubnets pulumi.StringArray
	publicSubnets  pulumi.StringArray
	infraSubnets   pulumi.StringArray
	// privateRouteTables by AZ name: peering adds its routes here.
	privateRouteTables map[string]*ec2.RouteTable
}

// Subnet role tags: the AWS Load Balancer Controller and the in-tree service
// controller pick subnets by them.
const (
	tagELB         = "kubernetes.io/role/elb"
	tagInternalELB = "kubernetes.io/role/internal-elb"
)

// clusterTag marks a subnet as usable by the named cluster.
func clusterTag(clusterName string) string { return "kubernetes.io/cluster/" + clusterName }

// newNetwork builds the VPC: per AZ a public subnet (internet-facing load
// balancers, NAT), a private subnet (nodes and pods) and an infrastructure
// subnet (the control plane's interfaces, internal load balancers; routed
// like the private one), private egress through NAT gateways,
// one per AZ unless args.NatGateways is NatSingle. Child names carry the AZ
// name, never a list position, so adding an AZ touches nothing existing.
func (c *Cluster) newNetwork(ctx *pulumi.Context, name string, a Args) (*network, error) {
	plan, err := PlanSubnets(validatedPrefix(a.VpcCidr), len(c.AvailabilityZones))
	if err != nil {
		return nil, err
	}
	c.PrivateSubnetCIDRs = map[string]string{}
	c.PublicSubnetCIDRs = map[string]string{}
	c.InfraSubnetCIDRs = map[string]string{}
	for i, az := range c.AvailabilityZones {
		c.PrivateSubnetCIDRs[az] = plan[i].Private.String()
		c.PublicSubnetCIDRs[az] = plan[i].Public.String()
		c.InfraSubnetCIDRs[az] = plan[i].Infra.String()
	}
	parent := pulumi.Parent(c)
	vpc, err := ec2.NewVpc(ctx, name+"-vpc", &ec2.VpcArgs{
		CidrBlock:          pulumi.String(a.VpcCidr),
		EnableDnsHostnames: pulumi.Bool(true), // EKS private endpoint resolution needs both
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               tags(a.Tags, map[string]string{"Name": a.nameTag(name)}),
	}, parent)
	if err != nil {
		return nil, err
	}
	if err := c.newFlowLogs(ctx, name, a, vpc); err != nil {
		return nil, err
	}
	igw, err := ec2.NewInternetGateway(ctx, name+"-igw", &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  tags(a.Tags, map[string]string{"Name": a.nameTag(name)}),
	}, parent)
	if err != nil {
		return nil, err
	}
	publicRT, err := ec2.NewRouteTable(ctx, name+"-public", &ec2.RouteTableArgs{
		VpcId: vpc.ID(),
		Tags:  tags(a.Tags, map[string]string{"Name": a.nameTag(name + "-public")}),
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := ec2.NewRoute(ctx, name+"-public-default", &ec2.RouteArgs{
		RouteTableId:         publicRT.ID(),
		DestinationCidrBlock: pulumi.String("0.0.0.0/0"),
		GatewayId:            igw.ID(),
	}, parent); err != nil {
		return nil, err
	}

	n := &network{vpc: vpc, privateRouteTables: map[string]*ec2.RouteTable{}}
	var nat *ec2.NatGateway
	for i, az := range c.AvailabilityZones {
		pub, err := newSubnet(ctx, name+"-public-"+az, az, plan[i].Public.String(), tagELB, vpc, publicRT, a, parent)
		if err != nil {
			return nil, err
		}
		// One NAT per AZ, or only the first AZ's when a single NAT is asked for.
		if a.NatGateways == NatPerAZ || nat == nil {
			if nat, err = newNAT(ctx, name+"-nat-"+az, a, pub, igw, parent); err != nil {
				return nil, err
			}
		}
		rt, err := ec2.NewRouteTable(ctx, name+"-private-"+az, &ec2.RouteTableArgs{
			VpcId: vpc.ID(),
			Tags:  tags(a.Tags, map[string]string{"Name": a.nameTag(name + "-private-" + az)}),
		}, parent)
		if err != nil {
			return nil, err
		}
		if _, err := ec2.NewRoute(ctx, name+"-private-"+az+"-default", &ec2.RouteArgs{
			RouteTableId:         rt.ID(),
			DestinationCidrBlock: pulumi.String("0.0.0.0/0"),
			NatGatewayId:         nat.ID(),
		}, parent); err != nil {
			return nil, err
		}
		priv, err := newSubnet(ctx, name+"-private-"+az, az, plan[i].Private.String(), "", vpc, rt, a, parent)
		if err != nil {
			return nil, err
		}
		infra, err := newSubnet(ctx, name+"-infra-"+az, az, plan[i].Infra.String(), tagInternalELB, vpc, rt, a, parent)
		if err != nil {
			return nil, err
		}
		n.infraSubnets = append(n.infraSubnets, infra.ID())
		n.publicSubnets = append(n.publicSubnets, pub.ID())
		n.privateSubnets = append(n.privateSubnets, priv.ID())
		n.privateRouteTables[az] = rt
	}

	rtIDs := pulumi.StringMap{}
	for az, rt := range n.privateRouteTables {
		rtIDs[az] = rt.ID().ToStringOutput()
	}
	c.VpcID = vpc.ID().ToStringOutput()
	c.VpcCidr = vpc.CidrBlock
	c.PrivateSubnetIDs = n.privateSubnets.ToStringArrayOutput()
	c.PublicSubnetIDs = n.publicSubnets.ToStringArrayOutput()
	c.PrivateRouteTableIDs = rtIDs.ToStringMapOutput()
	return n, nil
}

// newNAT allocates an Elastic IP and a NAT gateway in a public subnet.
func newNAT(ctx *pulumi.Context, name string, a Args, subnet *ec2.Subnet, igw *ec2.InternetGateway, parent pulumi.ResourceOption) (*ec2.NatGateway, error) {
	eip, err := ec2.NewEip(ctx, name, &ec2.EipArgs{
		Domain: pulumi.String("vpc"),
		Tags:   tags(a.Tags, map[string]string{"Name": a.nameTag(name)}),
	}, parent)
	if err != nil {
		return nil, err
	}
	return ec2.NewNatGateway(ctx, name, &ec2.NatGatewayArgs{
		AllocationId: eip.ID(),
		SubnetId:     subnet.ID(),
		Tags:         tags(a.Tags, map[string]string{"Name": a.nameTag(name)}),
	}, parent, pulumi.DependsOn([]pulumi.Resource{igw})) // a NAT needs the IGW attached first
}

// newSubnet creates a subnet tagged for the cluster and, unless roleTag is
// "", for load balancers of one kind, associated with a route table.
func newSubnet(ctx *pulumi.Context, name, az, cidr, roleTag string, vpc *ec2.Vpc, rt *ec2.RouteTable, a Args, parent pulumi.ResourceOption) (*ec2.Subnet, error) {
	t := map[string]string{"Name": a.nameTag(name), clusterTag(a.Name): "shared"}
	if roleTag != "" {
		t[roleTag] = "1"
	}
	subnet, err := ec2.NewSubnet(ctx, name, &ec2.SubnetArgs{
		VpcId:            vpc.ID(),
		AvailabilityZone: pulumi.String(az),
		CidrBlock:        pulumi.String(cidr),
		Tags:             tags(a.Tags, t),
	}, parent)
	if err != nil {
		return nil, err
	}
	_, err = ec2.NewRouteTableAssociation(ctx, name, &ec2.RouteTableAssociationArgs{
		SubnetId: subnet.ID(), RouteTableId: rt.ID(),
	}, parent)
	return subnet, err
}
