package stacks

import (
	"fmt"
	"github.com/tars-platform/infra/components/gpu"
	"github.com/tars-platform/infra/internal/netpol"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/addons"
	"github.com/tars-platform/infra/components/alerting"
	"github.com/tars-platform/infra/components/apps"
	"github.com/tars-platform/infra/components/chromadb"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/components/costs"
	"github.com/tars-platform/infra/components/geodns"
	"github.com/tars-platform/infra/components/monitoring"
	"github.com/tars-platform/infra/components/oncall"
	"github.com/tars-platform/infra/components/postgres"
	"github.com/tars-platform/infra/components/redis"
	"github.com/tars-platform/infra/components/reports"
	"github.com/tars-platform/infra/slo"
)

// Cross-region ports: the peer VPC is admitted on these only. Postgres
// streaming replication is the first; later components add theirs.
var crossRegionPorts = []cluster.PeerPort{{Name: "postgres", Port: 5432}}

// Deploy is the region stack program: it loads and validates the config,
// then composes the region, its components named as Renamed says. main.go
// passes it to pulumi.Run; the test harness and `tarsctl plan` run it
// under mocks.
func Deploy(ctx *pulumi.Context) error { return DeployWith(Renamed)(ctx) }

// DeployWith is the program with a rename table (Renames): Deploy with
// Renamed, or a rename under test (the engine tier renames components of a
// deployed stack and previews).
func DeployWith(r Renames) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		cfg, err := Load(ctx)
		if err != nil {
			return err
		}
		cfg.renames = r
		return DeployRegion(ctx, cfg)
	}
}

// DeployRegion composes the region stack from a validated config.
func DeployRegion(ctx *pulumi.Context, cfg *Config) error {
	region := cfg.Topology.Region
	args := cfg.Cluster
	args.PeerCidr = cfg.Topology.PeerVpcCidr
	args.PeerPorts = crossRegionPorts
	args.Tags = cfg.tags()
	cl, err := cluster.New(ctx, cfg.name("cluster"), args, cfg.aliases("cluster"))
	if err != nil {
		return err
	}
	sources := networkSources(cl)
	adds, err := addons.New(ctx, cfg.name("addons"), addons.Args{
		ClusterName:  cl.ClusterName,
		VpcID:        cl.VpcID,
		Region:       cl.Region,
		OIDC:         cl.OIDC,
		Partition:    cl.Partition,
		Tags:         cfg.tags(),
		ControlPlane: sources.ControlPlane, MonitoringNamespace: alerting.DefaultNamespace,
	}, pulumi.Provider(cl.Provider), cfg.aliases("addons"))
	if err != nil {
		return err
	}
	mon, err := monitoring.New(ctx, cfg.name("monitoring"), monitoring.Args{
		Namespace:                alerting.DefaultNamespace,
		Sources:                  sources,
		AppNamespace:             cfg.DNS.Backend.Namespace,
		StorageClass:             cluster.DataStorageClassName,
		ScratchStorageClass:      cluster.StorageClassName,
		Keep:                     cfg.Keep,
		AlertmanagerConfigSecret: alerting.ConfigSecretName,
		Region:                   region,
		ClusterName:              cfg.Cluster.Name,
		AccountID:                cl.AccountID,
		AwsRegion:                cl.Region,
		Partition:                cl.Partition,
		OIDC:                     cl.OIDC,
		Tags:                     cfg.tags(),
	}, pulumi.Provider(cl.Provider), cfg.aliases("monitoring"))
	if err != nil {
		return err
	}
	if cfg.Cluster.GPU.Enabled {
		// The pool's device plugin and DCGM exporter (the pool itself is
		// the cluster's node group "gpu").
		if _, err := gpu.New(ctx, cfg.name("gpu"), gpu.Args{
			MonitoringNamespace: alerting.DefaultNamespace, MonitoringDependsOn: mon.Ready, Tags: cfg.tags(),
		}, pulumi.Provider(cl.Provider), cfg.aliases("gpu")); err != nil {
			return err
		}
	}
	appNS, err := apps.NewNamespace(ctx, cfg.name("apps"), cfg.DNS.Backend.Namespace, apps.Ingress{
		PublicLoadBalancers: sources.PublicLoadBalancers, APIPort: cfg.DNS.Backend.Port, MonitoringNamespace: alerting.DefaultNamespace,
	}, cfg.Keep, pulumi.Provider(cl.Provider), cfg.aliases("apps"))
	if err != nil {
		return err
	}
	redisArgs := cfg.Redis
	redisArgs.AppNamespaceDependsOn = []pulumi.Resource{appNS.Resource}
	redisArgs.MonitoringDependsOn = mon.Ready
	redisArgs.ZoneSubnets = cl.PrivateSubnetCIDRs
	redisArgs.CertManagerDependsOn = []pulumi.Resource{adds.CertManager.Helm}
	rc, err := redis.New(ctx, cfg.name("redis"), redisArgs, pulumi.Provider(cl.Provider), cfg.aliases("redis"))
	if err != nil {
		return err
	}
	peering, peer, err := deployPeering(ctx, cfg, cl)
	if err != nil {
		return err
	}
	if err := deployAlerting(ctx, cfg, cl, mon, peer); err != nil {
		return err
	}
	db, err := deployPostgres(ctx, cfg, cl, peer, []pulumi.Resource{adds.CertManager.Helm, adds.LoadBalancerController.Helm}, mon.Ready)
	if err != nil {
		return err
	}
	if err := deployGrafana(ctx, cfg, cl, mon, db, adds.LoadBalancerController.Helm); err != nil {
		return err
	}
	jwt, err := deployJWT(ctx, cfg, cl, peer, appNS)
	if err != nil {
		return err
	}
	edge, err := deployEdge(ctx, cfg, cl, peer, appNS, adds.LoadBalancerController.Helm)
	if err != nil {
		return err
	}
	vectors, err := deployChromaDB(ctx, cfg, cl, peer, appNS)
	if err != nil {
		return err
	}
	if _, err := costs.New(ctx, cfg.name("costs"), costs.Args{
		ClusterName: cfg.Cluster.Name, KubernetesVersion: cfg.Cluster.Version,
		AwsRegion: cl.Region, AccountID: cl.AccountID, Partition: cl.Partition, OIDC: cl.OIDC,
		MonitoringNamespace: alerting.DefaultNamespace, DependsOn: []pulumi.Resource{mon.Stack},
		ControlPlane: sources.ControlPlane,
		CertManager:  []pulumi.Resource{adds.CertManager.Helm},
		VPAs: costs.SeedVPAs(costs.SeedTargets{
			AppNamespace: cfg.DNS.Backend.Namespace,
			Postgres:     costs.Workload{APIVersion: "postgresql.cnpg.io/v1", Kind: "Cluster", Namespace: cfg.Postgres.Namespace, Name: postgres.ClusterName(region)},
			Redis:        costs.Workload{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: cfg.Redis.Namespace, Name: redis.StatefulSetName},
		}),
		VPADependsOn: []pulumi.Resource{appNS.Resource, rc.NamespaceResource, db.NamespaceResource},
		Kubecost:     costs.Kubecost{SlackWebhookURL: cfg.Alerting.SlackWebhookURL, StorageClass: cluster.StorageClassName},
		Tags:         cfg.tags(),
	}, pulumi.Provider(cl.Provider), cfg.aliases("costs")); err != nil {
		return err
	}
	if _, err := reports.New(ctx, cfg.name("reports"), reports.Args{
		Namespace: alerting.DefaultNamespace, Region: region,
		PrometheusURL: monitoring.QueryFrontendURL(alerting.DefaultNamespace), KubecostURL: costs.KubecostURL,
		SlackWebhookURL: cfg.Alerting.SlackWebhookURL,
		AccountID:       cl.AccountID, AwsRegion: cl.Region, Partition: cl.Partition, OIDC: cl.OIDC,
		DependsOn: []pulumi.Resource{mon.NamespaceResource},
		Keep:      cfg.Keep,
		Tags:      cfg.tags(),
	}, pulumi.Provider(cl.Provider), cfg.aliases("reports")); err != nil {
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
		OutPostgresBucket:       db.Bucket,
		OutPostgresEndpoint:     db.Endpoint,
		OutPostgresCluster:      pulumi.String(db.DatabaseName()),
		OutPostgresServerCA:     db.ServerCA,
		OutAPIEndpoint:          edge.Endpoint,
		OutCloudflarePool:       edge.CloudflarePool,
		OutChromaBucket:         vectors.Bucket,
		OutHealthCheckID:        edge.HealthCheckID,
		OutDNSZoneID:            edge.ZoneID,
		OutDNSFailoverName:      pulumi.String(cfg.DNS.WithDefaults().FailoverName()),
		OutTopology: pulumi.Map{
			"singletonsOwner": pulumi.String(cfg.Topology.SingletonsOwner),
			"postgresPrimary": pulumi.String(cfg.Topology.PostgresPrimary),
			"dnsPrimary":      pulumi.String(cfg.Topology.DNSPrimary),
			"promotionToken":  pulumi.Bool(cfg.Postgres.PromotionToken != ""),
		},
	}
	if cfg.PeeringRole() == PeeringRequester {
		exports[OutPeeringConnectionID] = peering.ConnectionID
		exports[OutJWTSecret] = jwt
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
// README). It also returns the peer stack, nil while the accepter has no
// request (the peer may not exist yet, and reading a stack that does not
// exist fails the run).
func deployPeering(ctx *pulumi.Context, cfg *Config, cl *cluster.Cluster) (*cluster.Peering, *peerStack, error) {
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
			return nil, nil, err
		}
		if id == "" {
			// A warning that cannot be logged is not worth failing the run over.
			_ = ctx.Log.Warn(fmt.Sprintf("no VPC peering requested from %s (%s) yet: run `pulumi up -s %s`, then this stack again to accept it", t.PeerRegion, t.PeerVpcCidr, t.PeerStack), nil)
			return nil, nil, nil
		}
		args.Accept = &cluster.PeeringAccept{ConnectionID: id}
		peer, err := newPeerStack(ctx, cfg)
		if err != nil {
			return nil, nil, err
		}
		p, err := cluster.NewPeering(ctx, name, args)
		return p, peer, err
	}
	peer, err := newPeerStack(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	net, err := peer.network()
	if err != nil {
		return nil, nil, err
	}
	switch {
	case net.Region != t.PeerRegion:
		return nil, nil, fmt.Errorf("peer stack %s is region %q, but %s.peerRegion is %q", t.PeerStack, net.Region, KeyTopology, t.PeerRegion)
	case net.VpcCidr != t.PeerVpcCidr:
		return nil, nil, fmt.Errorf("peer stack %s has VPC %s, but %s.peerVpcCidr is %s", t.PeerStack, net.VpcCidr, KeyTopology, t.PeerVpcCidr)
	case net.AwsRegion == cl.Region:
		return nil, nil, fmt.Errorf("peer stack %s runs in %s too; the two regions must differ", t.PeerStack, net.AwsRegion)
	}
	args.Request = &cluster.PeeringRequest{PeerRegion: net.AwsRegion, PeerAccountID: net.AccountID, PeerVpcID: net.VpcID}
	p, err := cluster.NewPeering(ctx, name, args)
	return p, peer, err
}

// deployPostgres creates the region's database. The distributed topology
// needs the peer's bucket, replication endpoint and whether it runs the
// database (stack outputs). When the peer has not exported them:
//   - the primary region runs a primary without a standby region, and
//     warns (a later `pulumi up` after the peer's adds the topology);
//   - the replica region on its first deployment (the peer has not even
//     requested the peering, so it has not run) creates its bucket, key
//     and endpoint, which the primary needs, but no database, and warns;
//   - otherwise the replica region stops: it has nothing to replicate from,
//     and the message names the stack to run first.
func deployPostgres(ctx *pulumi.Context, cfg *Config, cl *cluster.Cluster, peer *peerStack, deps, monitors []pulumi.Resource) (*postgres.Database, error) {
	t := cfg.Topology
	a := cfg.Postgres
	a.AccountID, a.Partition, a.OIDC = cl.AccountID, cl.Partition, cl.OIDC
	a.AppPassword, a.ReplicationPassword = cfg.PostgresAppPassword, cfg.PostgresReplicationPassword
	a.ServiceDatabases = []postgres.ServiceDatabase{{
		Name: monitoring.GrafanaDatabase, Password: cfg.Grafana.DBPassword, ConnectionLimit: monitoring.GrafanaDBConnections,
		ClientNamespace: alerting.DefaultNamespace, ClientPodLabels: monitoring.GrafanaPodLabels(),
	}}
	a.DependsOn, a.MonitoringDependsOn = deps, monitors
	a.Tags = cfg.tags()
	missing := fmt.Errorf("peer stack %s has not been deployed", t.PeerStack)
	if peer != nil {
		a.Peer, missing = peer.postgres()
	}
	switch {
	case a.IsPrimary() && a.Peer == nil:
		_ = ctx.Log.Warn(fmt.Sprintf("Postgres: %s runs the primary without a standby region (%v): run `pulumi up -s %s`, then this stack again to join the two regions", t.Region, missing, t.PeerStack), nil)
	case a.IsPrimary(), a.HasDatabase():
	case peer == nil:
		_ = ctx.Log.Warn(fmt.Sprintf("Postgres: no database in %s yet: it replicates from %s (tars:topology.postgresPrimary), whose stack has not been deployed; run `pulumi up -s %s`, then this stack again", t.Region, t.PostgresPrimary, t.PeerStack), nil)
	default:
		if missing == nil {
			missing = fmt.Errorf("peer stack %s runs no database yet (%s is empty)", t.PeerStack, OutPostgresCluster)
		}
		return nil, fmt.Errorf("stack %s: Postgres replicates from %s (tars:topology.postgresPrimary), but %v: run `pulumi up -s %s` first, then this stack", cfg.Stack, t.PostgresPrimary, missing, t.PeerStack)
	}
	a.Sources = networkSources(cl)
	return postgres.New(ctx, cfg.name("postgres"), a, pulumi.Provider(cl.Provider), cfg.aliases("postgres"))
}

// deployGrafana creates the region's Grafana on its database: the local
// primary in the primary region, the primary region's endpoint in the
// other (Grafana writes; a replica cannot take writes). The replica region
// before the primary region has deployed has no database to use: it warns
// and creates no Grafana until the next run.
func deployGrafana(ctx *pulumi.Context, cfg *Config, cl *cluster.Cluster, mon *monitoring.Monitoring, db *postgres.Database, controller pulumi.Resource) error {
	if db.PrimaryHost == "" {
		_ = ctx.Log.Warn(fmt.Sprintf("Grafana: no database to use in %s yet (the primary region %s has not deployed one): run `pulumi up -s %s`, then this stack again", cfg.Topology.Region, cfg.Topology.PostgresPrimary, cfg.Topology.PeerStack), nil)
		return nil
	}
	a := cfg.grafanaArgs(mon, db.PrimaryHost, postgres.Port)
	a.DependsOn = append([]pulumi.Resource{mon.Stack}, db.ServiceDatabases...)
	a.IngressDependsOn = []pulumi.Resource{controller}
	a.Tags = cfg.tags()
	_, err := monitoring.NewGrafana(ctx, cfg.name("grafana"), a, pulumi.Provider(cl.Provider), cfg.aliases("grafana"))
	return err
}

// grafanaArgs builds Grafana's args from config; mon is nil when only the
// config is validated.
func (c Config) grafanaArgs(mon *monitoring.Monitoring, dbHost string, dbPort int) monitoring.GrafanaArgs {
	a := monitoring.GrafanaArgs{
		Namespace:         alerting.DefaultNamespace,
		RootURL:           c.Grafana.RootURL,
		OAuth:             c.Grafana.OAuth,
		OAuthClientSecret: c.Grafana.OAuthClientSecret,
		AdminPassword:     c.Grafana.AdminPassword,
		DBPassword:        c.Grafana.DBPassword,
		DBHost:            dbHost,
		DBPort:            dbPort,
		Zone:              c.DNS.Zone,
		AllowedCidrs:      c.Grafana.AllowedCidrs,
	}
	if mon != nil {
		a.NamespaceResource = mon.NamespaceResource
	}
	return a
}

// deployJWT writes the services' JWT signing key into their namespace. The
// peering requester generates it (fixed across DR flips, like the peering
// roles) and exports it as a secret; the accepter writes the same value,
// read from its peer, so a token signed in one region verifies in the
// other. The accepter's first run (the requester not deployed yet) writes
// none and warns; its next run does.
func deployJWT(ctx *pulumi.Context, cfg *Config, cl *cluster.Cluster, peer *peerStack, ns *apps.Namespace) (pulumi.StringOutput, error) {
	args := apps.JWTArgs{Namespace: ns.Name}
	if cfg.PeeringRole() != PeeringRequester {
		if peer == nil {
			_ = ctx.Log.Warn(fmt.Sprintf("stack %s: no JWT secret yet: it comes from %s's stack, which has not been deployed; run `pulumi up -s %s` again after it", cfg.Stack, cfg.Topology.PeerStack, cfg.Stack), nil)
			return pulumi.StringOutput{}, nil
		}
		key, ok, err := peer.secretString(OutJWTSecret)
		if err != nil {
			return pulumi.StringOutput{}, err
		}
		if !ok {
			_ = ctx.Log.Warn(fmt.Sprintf("stack %s: no JWT secret yet: %s does not export %q; run `pulumi up -s %s` first", cfg.Stack, cfg.Topology.PeerStack, OutJWTSecret, cfg.Topology.PeerStack), nil)
			return pulumi.StringOutput{}, nil
		}
		args.Key = key
	}
	return apps.NewJWTSecret(ctx, cfg.name("jwt"), args, pulumi.Parent(ns), pulumi.DependsOn([]pulumi.Resource{ns.Resource}), cfg.aliases("jwt"))
}

// deployEdge creates the region's public edge
// and DNS. The singletons owner's Cloudflare load balancer needs the peer's
// pool (a stack output).
func deployEdge(ctx *pulumi.Context, cfg *Config, cl *cluster.Cluster, peer *peerStack, ns *apps.Namespace, controller pulumi.Resource) (*geodns.Edge, error) {
	a := cfg.DNS
	a.DependsOn = []pulumi.Resource{controller, ns.Resource}
	a.Tags = cfg.tags()
	if cfg.CloudflareAPIToken != nil {
		a.CloudflareAPIToken = *cfg.CloudflareAPIToken
	}
	if a.Cloudflare.Enabled && a.OwnsSingletons() {
		if peer == nil {
			return nil, fmt.Errorf("stack %s: the Cloudflare load balancer needs %s's pool, and %s's stack has not been deployed: run `pulumi up -s %s` first", cfg.Stack, a.PeerRegion, a.PeerRegion, cfg.Topology.PeerStack)
		}
		v, err := peer.read(OutCloudflarePool)
		if err != nil {
			return nil, err
		}
		a.PeerPool, _ = v.(string)
	}
	return geodns.New(ctx, cfg.name("edge"), a, pulumi.Provider(cl.Provider), cfg.aliases("edge"))
}

// deployAlerting creates the region's rules, dashboards and Alertmanager
// config, and with tars:pagerduty the on-call wiring whose keys it pages
// with. The stack that does not own the PagerDuty services (OwnsOnCall) adds its
// integrations to the owner's; on its first run, before the owner's stack
// exists (the accepter deploys first), it defers paging: P0 and P1 go to
// e-mail and Slack only, with a warning, until its next run.
func deployAlerting(ctx *pulumi.Context, cfg *Config, cl *cluster.Cluster, mon *monitoring.Monitoring, peer *peerStack) error {
	region := cfg.Topology.Region
	a := cfg.alertingArgs()
	a.DependsOn = mon.Ready
	switch {
	case !cfg.PagerDuty.Enabled:
	case !cfg.OwnsOnCall() && peer == nil:
		_ = ctx.Log.Warn(fmt.Sprintf("PagerDuty: the services are %s's, whose stack has not been deployed: %s's P0 and P1 alerts go to e-mail and Slack only until `pulumi up -s %s` and this stack again", cfg.Topology.PeerRegion, region, cfg.Topology.PeerStack), nil)
		a.PagingDeferred = true
		a.PagerDutyCriticalKey, a.PagerDutyHighKey = nil, nil
	default:
		oc, err := oncall.New(ctx, cfg.name("oncall"), cfg.oncallArgs(), cfg.aliases("oncall"))
		if err != nil {
			return err
		}
		a.PagerDutyCriticalKey = oc.Keys[slo.P0]
		a.PagerDutyHighKey = oc.Keys[slo.P1]
		a.PagerDutyModerateKey = oc.Keys[slo.P2]
	}
	_, err := alerting.New(ctx, cfg.name("alerting"), a, pulumi.Provider(cl.Provider), cfg.aliases("alerting"))
	return err
}

// deployChromaDB creates the region's vector store. The Postgres primary
// region (tars:topology.postgresPrimary) snapshots it; the other restores
// the primary's newest snapshot, which needs the peer's bucket (a stack
// output): until the peer exports it, no restore job (a warning).
func deployChromaDB(ctx *pulumi.Context, cfg *Config, cl *cluster.Cluster, peer *peerStack, ns *apps.Namespace) (*chromadb.ChromaDB, error) {
	t := cfg.Topology
	a := chromadb.Args{
		Namespace: cfg.DNS.Backend.Namespace, Region: t.Region, Role: chromadb.RoleSnapshot,
		StorageClass: cluster.DataStorageClassName,
		Keep:         cfg.Keep,
		AccountID:    cl.AccountID, AwsRegion: cl.Region, Partition: cl.Partition, OIDC: cl.OIDC,
		DependsOn: []pulumi.Resource{ns.Resource},
		Tags:      cfg.tags(),
	}
	if t.PostgresPrimary != t.Region {
		a.Role = chromadb.RoleRestore
		if peer != nil {
			p, err := peer.chromadb()
			if err != nil {
				_ = ctx.Log.Warn(fmt.Sprintf("ChromaDB: %v", err), nil)
			}
			a.Peer = p
		}
	}
	return chromadb.New(ctx, cfg.name("chromadb"), a, pulumi.Provider(cl.Provider), cfg.aliases("chromadb"))
}

// OwnsOnCall reports whether this stack creates the PagerDuty rotation,
// policies and services: the peering requester's (the region whose name
// sorts first), fixed like the peering roles. Not singletonsOwner: a DR
// switchover would delete the services in one stack and create new ones
// in the other, with new integration keys and without their incident
// history, while the old region may be unreachable. PagerDuty is not in
// either region; its services survive the loss of either.
func (c Config) OwnsOnCall() bool { return c.PeeringRole() == PeeringRequester }

// oncallArgs builds the on-call wiring's args from config.
func (c Config) oncallArgs() oncall.Args {
	a := oncall.Args{Region: c.Topology.Region, Owner: c.OwnsOnCall(), People: c.PagerDuty.People}
	if c.PagerDutyToken != nil {
		a.Token = *c.PagerDutyToken
	}
	return a
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
		GPU:                  c.Cluster.GPU.Enabled,
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

// networkSources are the blocks that reach pods from outside the pod
// network, by who sends from them (never a node subnet: pods have VPC
// addresses there).
func networkSources(cl *cluster.Cluster) netpol.Sources {
	return netpol.Sources{
		ControlPlane:          cl.ControlPlaneSources(),
		InternalLoadBalancers: cl.InternalLoadBalancerSources(),
		PublicLoadBalancers:   cl.PublicLoadBalancerSources(),
	}
}
