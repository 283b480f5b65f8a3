package cluster

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/internal/check"
)

// PeeringTypeToken is the peering component's Pulumi type.
const PeeringTypeToken = "tars:cluster:Peering"

// PeeringArgs connects this region's VPC with the peer region's. Exactly one
// stack (tars:topology.peeringOwner) creates it; the peer's facts come from
// its stack outputs.
type PeeringArgs struct {
	// VpcID and VpcCidr are this region's VPC.
	VpcID   pulumi.StringInput
	VpcCidr string
	// RouteTables are this region's private route tables by AZ name.
	RouteTables map[string]pulumi.StringInput
	// PeerRegion is the peer's AWS region, e.g. "us-west-2".
	PeerRegion    string
	PeerAccountID string
	PeerVpcID     string
	PeerVpcCidr   string
	// PeerRouteTables are the peer's private route tables by AZ name.
	PeerRouteTables map[string]string
	Tags            map[string]string
}

func (a PeeringArgs) validate() error {
	var p check.Problems
	local, errL := check.IPv4Prefix(a.VpcCidr)
	if errL != nil {
		p.Addf("vpcCidr", "(%q) %v", a.VpcCidr, errL)
	}
	peer, errP := check.IPv4Prefix(a.PeerVpcCidr)
	if errP != nil {
		p.Addf("peerVpcCidr", "(%q) %v", a.PeerVpcCidr, errP)
	}
	if errL == nil && errP == nil && local.Overlaps(peer) {
		p.Addf("peerVpcCidr", "(%s) overlaps vpcCidr (%s)", a.PeerVpcCidr, a.VpcCidr)
	}
	if a.VpcID == nil {
		p.Addf("vpcId", "is required")
	}
	if len(a.RouteTables) == 0 {
		p.Addf("routeTables", "must name this region's private route tables")
	}
	if len(a.PeerRouteTables) == 0 {
		p.Addf("peerRouteTables", "must name the peer region's private route tables")
	}
	for field, v := range map[string]string{"peerRegion": a.PeerRegion, "peerAccountId": a.PeerAccountID, "peerVpcId": a.PeerVpcID} {
		if v == "" {
			p.Addf(field, "is required")
		}
	}
	return p.Err()
}

// Peering is a cross-region VPC peering connection with routes on both sides.
type Peering struct {
	pulumi.ResourceState

	ConnectionID pulumi.StringOutput `pulumi:"connectionId"`
}

// NewPeering requests the peering from this region, accepts it in the peer
// region through a provider for that region, and routes each side's private
// subnets to the other's VPC block. Which ports may cross is decided by each
// cluster's security group (Args.PeerPorts), not here.
func NewPeering(ctx *pulumi.Context, name string, args PeeringArgs, opts ...pulumi.ResourceOption) (*Peering, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("peering %s: invalid args: %w", name, err)
	}
	p := &Peering{}
	if err := ctx.RegisterComponentResource(PeeringTypeToken, name, p, opts...); err != nil {
		return nil, fmt.Errorf("peering %s: register: %w", name, err)
	}
	parent := pulumi.Parent(p)
	peerProvider, err := aws.NewProvider(ctx, name+"-"+args.PeerRegion, &aws.ProviderArgs{
		Region: pulumi.String(args.PeerRegion),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("peering %s: peer provider: %w", name, err)
	}
	conn, err := ec2.NewVpcPeeringConnection(ctx, name, &ec2.VpcPeeringConnectionArgs{
		VpcId:       args.VpcID,
		PeerVpcId:   pulumi.String(args.PeerVpcID),
		PeerRegion:  pulumi.String(args.PeerRegion),
		PeerOwnerId: pulumi.String(args.PeerAccountID),
		Tags:        tags(args.Tags, map[string]string{"Name": name}),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("peering %s: connection: %w", name, err)
	}
	accept, err := ec2.NewVpcPeeringConnectionAccepter(ctx, name, &ec2.VpcPeeringConnectionAccepterArgs{
		VpcPeeringConnectionId: conn.ID(),
		AutoAccept:             pulumi.Bool(true),
		Tags:                   tags(args.Tags, map[string]string{"Name": name}),
	}, parent, pulumi.Provider(peerProvider))
	if err != nil {
		return nil, fmt.Errorf("peering %s: accepter: %w", name, err)
	}
	after := pulumi.DependsOn([]pulumi.Resource{accept})
	for _, az := range sortedInputKeys(args.RouteTables) {
		if _, err := ec2.NewRoute(ctx, name+"-"+az, &ec2.RouteArgs{
			RouteTableId:           args.RouteTables[az],
			DestinationCidrBlock:   pulumi.String(args.PeerVpcCidr),
			VpcPeeringConnectionId: conn.ID(),
		}, parent, after); err != nil {
			return nil, fmt.Errorf("peering %s: route in %s: %w", name, az, err)
		}
	}
	for _, az := range sortedKeys(args.PeerRouteTables) {
		if _, err := ec2.NewRoute(ctx, name+"-"+az, &ec2.RouteArgs{
			RouteTableId:           pulumi.String(args.PeerRouteTables[az]),
			DestinationCidrBlock:   pulumi.String(args.VpcCidr),
			VpcPeeringConnectionId: conn.ID(),
		}, parent, after, pulumi.Provider(peerProvider)); err != nil {
			return nil, fmt.Errorf("peering %s: peer route in %s: %w", name, az, err)
		}
	}
	p.ConnectionID = conn.ID().ToStringOutput()
	if err := ctx.RegisterResourceOutputs(p, pulumi.Map{"connectionId": p.ConnectionID}); err != nil {
		return nil, fmt.Errorf("peering %s: register outputs: %w", name, err)
	}
	return p, nil
}

func sortedInputKeys(m map[string]pulumi.StringInput) []string {
	plain := make(map[string]string, len(m))
	for k := range m {
		plain[k] = ""
	}
	return sortedKeys(plain)
}
