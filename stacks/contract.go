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
	OutPeeringConnectionID  = "peeringConnectionId"  // exported by the peering requester only
	OutPostgresBucket       = "postgresBucket"       // the region's WAL and backup bucket
	OutPostgresEndpoint     = "postgresEndpoint"     // host name of the internal replication endpoint
	OutPostgresCluster      = "postgresCluster"      // the region's Cluster, "" while it has none
	OutPostgresServerCA     = "postgresServerCA"     // the CA the endpoint's server certificate chains to (PEM)
	OutAPIEndpoint          = "apiEndpoint"          // the public load balancer's host name
	OutCloudflarePool       = "cloudflarePoolId"     // the region's Cloudflare pool, "" when disabled
	OutChromaBucket         = "chromadbBucket"       // the region's ChromaDB snapshot bucket
	// What `tarsctl dr` reads: the region's Route 53 health check, the
	// zone and the failover name (the region's record has the region as
	// set identifier), and the topology this update deployed.
	OutHealthCheckID   = "healthCheckId"
	OutDNSZoneID       = "dnsZoneId"
	OutDNSFailoverName = "dnsFailoverName"
	OutTopology        = "topology" // {singletonsOwner, postgresPrimary, dnsPrimary, promotionToken (bool)}
	// OutJWTSecret is the services' JWT signing key (a secret), generated
	// by the peering requester and read by the accepter: a token signed in
	// one region verifies in the other.
	OutJWTSecret = "jwtSecret"
)

// RegionOutputs are exported by every region stack.
var RegionOutputs = []string{
	OutRegion, OutAwsRegion, OutAccountID, OutVpcID, OutVpcCidr, OutPrivateRouteTableIDs,
	OutClusterName, OutClusterEndpoint, OutOIDCProviderArn, OutKubeconfig,
	OutPostgresBucket, OutPostgresEndpoint, OutPostgresCluster, OutPostgresServerCA, OutAPIEndpoint, OutCloudflarePool,
	OutChromaBucket, OutHealthCheckID, OutDNSZoneID, OutDNSFailoverName, OutTopology,
}

// RequesterOutputs are exported only by the peering requester.
var RequesterOutputs = []string{OutPeeringConnectionID, OutJWTSecret}

// PeerReads are the peer outputs a stack reads, by its peering role. The
// requester reads the peer's network to request the connection. The
// accepter finds the request in its own region by the two VPC blocks, so it
// deploys first and never waits on the other stack; it reads its peer only
// once the peer has requested the peering (so the peer stack exists). Both
// read the peer's database (PostgresPeerReads) for the distributed topology
// and its ChromaDB bucket (the restoring region), and the singletons owner
// reads the peer's Cloudflare pool.
var PeerReads = map[PeeringRole][]string{
	PeeringRequester: append([]string{OutRegion, OutAwsRegion, OutAccountID, OutVpcID, OutVpcCidr, OutCloudflarePool, OutChromaBucket}, PostgresPeerReads...),
	PeeringAccepter:  append([]string{OutCloudflarePool, OutChromaBucket, OutJWTSecret}, PostgresPeerReads...),
}

// PostgresPeerReads: where the peer's bucket and key are, its
// replication endpoint and the CA its certificate chains to.
var PostgresPeerReads = []string{OutAwsRegion, OutAccountID, OutPostgresBucket, OutPostgresEndpoint, OutPostgresCluster, OutPostgresServerCA}

// PeeringRole is which side of the VPC peering a stack owns.
type PeeringRole string

const (
	// PeeringRequester requests the connection and routes its side.
	PeeringRequester PeeringRole = "requester"
	// PeeringAccepter accepts it and routes its side.
	PeeringAccepter PeeringRole = "accepter"
)

// PeeringRole returns the stack's side of the peering: the region whose
// name sorts first requests. It is derived, not configured, so the two
// stack files cannot disagree, and a DR switchover (singletonsOwner,
// postgresPrimary, dnsPrimary) never moves it.
func (c Config) PeeringRole() PeeringRole {
	if c.Topology.Region < c.Topology.PeerRegion {
		return PeeringRequester
	}
	return PeeringAccepter
}
