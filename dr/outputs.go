package dr

import (
	"context"
	"errors"
)

// ErrUnreachable wraps every error of a region that cannot be reached
// (its API server or its AWS region): the failover's "the other region is
// gone".
var ErrUnreachable = errors.New("region unreachable")

// Outputs are what a region's stack exported on its last `pulumi up`
// (stacks/contract.go), as dr reads them.
type Outputs struct {
	Region    string
	AwsRegion string
	// Kubeconfig of the region's cluster (a secret output; never printed).
	Kubeconfig string
	// PostgresCluster is the region's Cluster name, "" while it has none.
	PostgresCluster string
	// HealthCheckID, DNSZoneID and DNSFailoverName find the region's
	// Route 53 health check and its record of the failover name (set
	// identifier: the region).
	HealthCheckID, DNSZoneID, DNSFailoverName string
	// APIEndpoint is the public load balancer's host name, where the
	// failover name points when the region is the DNS primary;
	// PostgresEndpoint the host name of its replication endpoint.
	APIEndpoint, PostgresEndpoint string
	// Deployed is the topology the last update deployed.
	Deployed Deployed
}

// Deployed is the topology a stack's last update deployed (its
// "topology" output), which the stack file may since have changed.
type Deployed struct {
	SingletonsOwner string `json:"singletonsOwner"`
	PostgresPrimary string `json:"postgresPrimary"`
	DNSPrimary      string `json:"dnsPrimary"`
	// PromotionToken: a promotion token was deployed with the Cluster.
	PromotionToken bool `json:"promotionToken"`
}

// OutputsSource returns a region's outputs (the Automation API in
// tarsctl, the rig's backend in the tests).
type OutputsSource func(ctx context.Context, region string) (Outputs, error)
