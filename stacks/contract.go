package stacks

// The output contract between the two region stacks. Every region stack
// exports RegionOutputs; a stack reads its peer's outputs only through
// peerStack.read, which refuses any name not listed in PeerReads. Renaming
// or dropping an output breaks the peer stack, so the contract test runs
// both real stacks and checks that each exports what the other reads.
const (
	OutRegion               = "region"               // logical region, e.g. "us-east"
	OutAwsRegion            = "awsRegion"            // e.g. "us-east-1"
	OutAccountID            = "accountId"            // AWS account of the region's resources
	OutVpcID                = "vpcId"                //
	OutVpcCidr              = "vpcCidr"              //
	OutPrivateRouteTableIDs = "privateRouteTableIds" // map AZ name → route table ID
	OutClusterName          = "clusterName"          //
	OutClusterEndpoint      = "clusterEndpoint"      //
	OutOIDCProviderArn      = "oidcProviderArn"      //
	OutKubeconfig           = "kubeconfig"           // secret
	OutPeeringConnectionID  = "peeringConnectionId"  // exported by the singletons owner only
)

// RegionOutputs are exported by every region stack.
var RegionOutputs = []string{
	OutRegion, OutAwsRegion, OutAccountID, OutVpcID, OutVpcCidr, OutPrivateRouteTableIDs,
	OutClusterName, OutClusterEndpoint, OutOIDCProviderArn, OutKubeconfig,
}

// OwnerOutputs are exported only by the stack that owns the cross-region singletons.
var OwnerOutputs = []string{OutPeeringConnectionID}

// PeerReads are the peer outputs a stack reads, by the role that reads
// them. The singletons owner reads the peer's network to build the peering.
var PeerReads = map[Role][]string{
	RoleSingletonsOwner: {OutRegion, OutAwsRegion, OutAccountID, OutVpcID, OutVpcCidr, OutPrivateRouteTableIDs},
	RoleMember:          {},
}

// Role is what a stack does for the pair.
type Role string

const (
	// RoleSingletonsOwner creates the cross-region singletons and reads its peer.
	RoleSingletonsOwner Role = "singletons-owner"
	// RoleMember creates only its own region. It references nothing of the
	// owner, so it can be deployed first (see README: deploy order).
	RoleMember Role = "member"
)

// Role returns the stack's role for the pair.
func (c Config) Role() Role {
	if c.OwnsSingletons() {
		return RoleSingletonsOwner
	}
	return RoleMember
}
