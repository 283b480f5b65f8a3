package cluster

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/internal/check"
)

// PeeringTypeToken is the peering component's Pulumi type.
const PeeringTypeToken = "tars:cluster:Peering"

// PeeringArgs connects this region's VPC with the peer region's. The two
// stacks each own their side: the requester creates the connection and
// its routes, the accepter accepts it and creates its own routes. Neither
// calls the other region's API, so a surviving region is never blocked by
// a lost one. Exactly one of Request and Accept is set.
type PeeringArgs struct {
	// VpcID and VpcCidr are this region's VPC.
	VpcID   pulumi.StringInput
	VpcCidr string
	// RouteTables are this region's private route tables by AZ name; each
	// gets a route to PeerVpcCidr through the connection.
	RouteTables map[string]pulumi.StringInput
	// PeerVpcCidr is the peer region's VPC block.
	PeerVpcCidr string
	// Request: this side requests the connection to the peer's VPC.
	Request *PeeringRequest
	// Accept: this side accepts a connection the peer requested.
	Accept *PeeringAccept
	Tags   map[string]string
}

// PeeringRequest names the peer VPC a connection is requested to.
type PeeringRequest struct {
	PeerRegion    string // the peer's AWS region, e.g. "us-west-2"
	PeerAccountID string
	PeerVpcID     string
}

// PeeringAccept names the connection the peer requested.
type PeeringAccept struct {
	ConnectionID string // pcx-…
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
	switch {
	case (a.Request == nil) == (a.Accept == nil):
		p.Addf("request", "exactly one of request and accept must be set")
	case a.Request != nil:
		for field, v := range map[string]string{"request.peerRegion": a.Request.PeerRegion, "request.peerAccountId": a.Request.PeerAccountID, "request.peerVpcId": a.Request.PeerVpcID} {
			if v == "" {
				p.Addf(field, "is required")
			}
		}
	case !strings.HasPrefix(a.Accept.ConnectionID, "pcx-"):
		p.Addf("accept.connectionId", "(%q) must be a VPC peering connection ID (pcx-…)", a.Accept.ConnectionID)
	}
	return p.Err()
}

// Peering is this region's side of the cross-region VPC peering.
type Peering struct {
	pulumi.ResourceState

	ConnectionID pulumi.StringOutput `pulumi:"connectionId"`
}

// NewPeering creates this region's side of the peering: the request (or
// the acceptance) and a route in each private route table to the peer's
// VPC block. Which ports may cross is decided by each cluster's security
// group (Args.PeerPorts), not here.
func NewPeering(ctx *pulumi.Context, name string, args PeeringArgs, opts ...pulumi.ResourceOption) (*Peering, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("peering %s: invalid args: %w", name, err)
	}
	p := &Peering{}
	if err := ctx.RegisterComponentResource(PeeringTypeToken, name, p, opts...); err != nil {
		return nil, fmt.Errorf("peering %s: register: %w", name, err)
	}
	parent := pulumi.Parent(p)
	var conn pulumi.IDOutput
	var side pulumi.Resource
	if r := args.Request; r != nil {
		c, err := ec2.NewVpcPeeringConnection(ctx, name, &ec2.VpcPeeringConnectionArgs{
			VpcId:       args.VpcID,
			PeerVpcId:   pulumi.String(r.PeerVpcID),
			PeerRegion:  pulumi.String(r.PeerRegion),
			PeerOwnerId: pulumi.String(r.PeerAccountID),
			Tags:        tags(args.Tags, map[string]string{"Name": name}),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("peering %s: connection: %w", name, err)
		}
		conn, side = c.ID(), c
	} else {
		acc, err := ec2.NewVpcPeeringConnectionAccepter(ctx, name, &ec2.VpcPeeringConnectionAccepterArgs{
			VpcPeeringConnectionId: pulumi.String(args.Accept.ConnectionID),
			AutoAccept:             pulumi.Bool(true),
			Tags:                   tags(args.Tags, map[string]string{"Name": name}),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("peering %s: accepter: %w", name, err)
		}
		conn, side = pulumi.ID(args.Accept.ConnectionID).ToIDOutput(), acc
	}
	// A route to a connection still pending acceptance is a blackhole until
	// the peer accepts; AWS allows it, so the requester need not wait.
	for _, az := range sortedInputKeys(args.RouteTables) {
		if _, err := ec2.NewRoute(ctx, name+"-"+az, &ec2.RouteArgs{
			RouteTableId:           args.RouteTables[az],
			DestinationCidrBlock:   pulumi.String(args.PeerVpcCidr),
			VpcPeeringConnectionId: conn.ToStringOutput(),
		}, parent, pulumi.DependsOn([]pulumi.Resource{side})); err != nil {
			return nil, fmt.Errorf("peering %s: route in %s: %w", name, az, err)
		}
	}
	p.ConnectionID = conn.ToStringOutput()
	if err := ctx.RegisterResourceOutputs(p, pulumi.Map{"connectionId": p.ConnectionID}); err != nil {
		return nil, fmt.Errorf("peering %s: register outputs: %w", name, err)
	}
	return p, nil
}

// PeeringStatesLive are the states of a connection that is requested and
// not yet accepted, or accepted: the ones the accepter looks for.
var PeeringStatesLive = []string{"pending-acceptance", "active"}

// FindRequestedPeering looks up, in this region, the live peering
// connection requested from the peer VPC block to this one. It returns ""
// when the peer has not requested it yet, and an error when several are
// live (a stale request to delete by hand).
func FindRequestedPeering(ctx *pulumi.Context, vpcCidr, peerVpcCidr string, opts ...pulumi.InvokeOption) (string, error) {
	res, err := ec2.GetVpcPeeringConnections(ctx, &ec2.GetVpcPeeringConnectionsArgs{
		Filters: []ec2.GetVpcPeeringConnectionsFilter{
			{Name: "requester-vpc-info.cidr-block", Values: []string{peerVpcCidr}},
			{Name: "accepter-vpc-info.cidr-block", Values: []string{vpcCidr}},
			{Name: "status-code", Values: PeeringStatesLive},
		},
	}, opts...)
	if err != nil {
		return "", fmt.Errorf("look up the peering requested from %s: %w", peerVpcCidr, err)
	}
	switch len(res.Ids) {
	case 0:
		return "", nil
	case 1:
		return res.Ids[0], nil
	}
	return "", fmt.Errorf("several live peering connections from %s to %s: %v; delete the stale ones", peerVpcCidr, vpcCidr, res.Ids)
}

func sortedInputKeys(m map[string]pulumi.StringInput) []string {
	plain := make(map[string]string, len(m))
	for k := range m {
		plain[k] = ""
	}
	return sortedKeys(plain)
}
