package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/addons"
	"github.com/tars-platform/infra/components/alerting"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/components/monitoring"
	"github.com/tars-platform/infra/components/redis"
)

// Cross-region ports: the peer VPC is admitted on these only. Postgres
// streaming replication is the first; later components add theirs.
var crossRegionPorts = []cluster.PeerPort{{Name: "postgres", Port: 5432}}

// Deploy is the region stack program: it loads and validates the config,
// then composes the region. main.go passes it to pulumi.Run; the test harness
// and `tarsctl plan` run it under mocks.
func Deploy(ctx *pulumi.Context) error {
	cfg, err := Load(ctx)
	if err != nil {
		return err
	}
	return DeployRegion(ctx, cfg)
}

// DeployRegion composes the region stack from a validated config.
func DeployRegion(ctx *pulumi.Context, cfg *Config) error {
	region := cfg.Topology.Region
	args := cfg.Cluster
	args.PeerCidr = cfg.Topology.PeerVpcCidr
	args.PeerPorts = crossRegionPorts
	args.Tags = cfg.tags()
	cl, err := cluster.New(ctx, region, args)
	if err != nil {
		return err
	}
	if _, err := addons.New(ctx, region+"-addons", addons.Args{
		ClusterName: cl.ClusterName,
		VpcID:       cl.VpcID,
		Region:      cl.Region,
		OIDC:        cl.OIDC,
		Partition:   cl.Partition,
		Tags:        cfg.tags(),
	}, pulumi.Provider(cl.Provider)); err != nil {
		return err
	}
	mon, err := monitoring.New(ctx, region+"-monitoring", monitoring.Args{
		Namespace:                alerting.DefaultNamespace,
		StorageClass:             cluster.StorageClassName,
		AlertmanagerConfigSecret: alerting.ConfigSecretName,
		Region:                   region,
	}, pulumi.Provider(cl.Provider))
	if err != nil {
		return err
	}
	alertingArgs := cfg.alertingArgs()
	alertingArgs.DependsOn = mon.Ready
	if _, err := alerting.New(ctx, region+"-alerting", alertingArgs, pulumi.Provider(cl.Provider)); err != nil {
		return err
	}
	redisArgs := cfg.Redis
	redisArgs.MonitoringDependsOn = mon.Ready
	redisArgs.ZoneSubnets = cl.PrivateSubnetCIDRs
	if _, err := redis.New(ctx, region+"-redis", redisArgs, pulumi.Provider(cl.Provider)); err != nil {
		return err
	}
	exports := pulumi.Map{
		OutRegion:               pulumi.String(region),
		OutAwsRegion:            pulumi.String(cl.Region),
		OutAccountID:            pulumi.String(cl.AccountID),
		OutVpcID:                cl.VpcID,
		OutVpcCidr:              cl.VpcCidr,
		OutPrivateRouteTableIDs: cl.PrivateRouteTableIDs,
		OutClusterName:          cl.ClusterName,
		OutClusterEndpoint:      cl.Endpoint,
		OutOIDCProviderArn:      cl.OIDCProviderArn,
		OutKubeconfig:           cl.Kubeconfig,
	}
	peering, err := deployPeering(ctx, cfg, cl)
	if err != nil {
		return err
	}
	if cfg.PeeringRole() == PeeringRequester {
		exports[OutPeeringConnectionID] = peering.ConnectionID
	}
	for k, v := range exports {
		ctx.Export(k, v)
	}
	return nil
}

// deployPeering builds this stack's side of the cross-region VPC peering
// (stacks/contract.go: PeeringRole). The requester checks that the peer
// stack is the region the config names and requests the connection; the
// accepter accepts it once the requester has run, and until then warns
// and creates nothing, returning nil (the first deployment runs it again;
// README).
func deployPeering(ctx *pulumi.Context, cfg *Config, cl *cluster.Cluster) (*cluster.Peering, error) {
	t := cfg.Topology
	routes := map[string]pulumi.StringInput{}
	for _, az := range cl.AvailabilityZones {
		routes[az] = cl.PrivateRouteTableIDs.MapIndex(pulumi.String(az))
	}
	args := cluster.PeeringArgs{
		VpcID:       cl.VpcID,
		VpcCidr:     cfg.Cluster.VpcCidr,
		RouteTables: routes,
		PeerVpcCidr: t.PeerVpcCidr,
		Tags:        cfg.tags(),
	}
	name := t.Region + "-to-" + t.PeerRegion
	if cfg.PeeringRole() == PeeringAccepter {
		id, err := cluster.FindRequestedPeering(ctx, cfg.Cluster.VpcCidr, t.PeerVpcCidr)
		if err != nil {
			return nil, err
		}
		if id == "" {
			// A warning that cannot be logged is not worth failing the run over.
			_ = ctx.Log.Warn(fmt.Sprintf("no VPC peering requested from %s (%s) yet: run `pulumi up -s %s`, then this stack again to accept it", t.PeerRegion, t.PeerVpcCidr, t.PeerStack), nil)
			return nil, nil
		}
		args.Accept = &cluster.PeeringAccept{ConnectionID: id}
		return cluster.NewPeering(ctx, name, args)
	}
	peer, err := newPeerStack(ctx, cfg)
	if err != nil {
		return nil, err
	}
	net, err := peer.network()
	if err != nil {
		return nil, err
	}
	switch {
	case net.Region != t.PeerRegion:
		return nil, fmt.Errorf("peer stack %s is region %q, but %s.peerRegion is %q", t.PeerStack, net.Region, KeyTopology, t.PeerRegion)
	case net.VpcCidr != t.PeerVpcCidr:
		return nil, fmt.Errorf("peer stack %s has VPC %s, but %s.peerVpcCidr is %s", t.PeerStack, net.VpcCidr, KeyTopology, t.PeerVpcCidr)
	case net.AwsRegion == cl.Region:
		return nil, fmt.Errorf("peer stack %s runs in %s too; the two regions must differ", t.PeerStack, net.AwsRegion)
	}
	args.Request = &cluster.PeeringRequest{PeerRegion: net.AwsRegion, PeerAccountID: net.AccountID, PeerVpcID: net.VpcID}
	return cluster.NewPeering(ctx, name, args)
}

// alertingArgs builds the alerting component's args from config.
func (c Config) alertingArgs() alerting.Args {
	return alerting.Args{
		Region:               c.Topology.Region,
		Notify:               c.Alerting.Notify,
		PagerDutyCriticalKey: c.Alerting.PagerDutyCriticalKey,
		PagerDutyHighKey:     c.Alerting.PagerDutyHighKey,
		SlackWebhookURL:      c.Alerting.SlackWebhookURL,
		DeadMansSwitchURL:    c.Alerting.DeadMansSwitchURL,
		SMTPPassword:         c.Alerting.SMTPPassword,
	}.WithDefaults()
}

// tags are put on every AWS resource of the stack.
func (c Config) tags() map[string]string {
	return map[string]string{
		"project":    "tars",
		"region":     c.Topology.Region,
		"stack":      c.Stack,
		"managed-by": "pulumi",
	}
}
