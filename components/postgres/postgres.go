// Package postgres is a region's PostgreSQL (seed 003 "PostgreSQL WAL
// Replication", as DESIGN.md changes it): the CloudNativePG operator and
// the Barman Cloud plugin, a Cluster of three instances spread over the
// zones with a synchronous quorum inside the region, WAL archived to the
// region's S3 bucket, a daily base backup kept 30 days, and the two
// regions' Clusters joined in CloudNativePG's distributed topology: the
// primary region is tars:topology.postgresPrimary, the other bootstraps
// from the primary's object store and streams from it over the VPC
// peering, with the archive as its fallback.
package postgres

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/chart"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/components/postgres/pgconf"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/internal/netpol"
	"github.com/tars-platform/infra/internal/podsecurity"
	"github.com/tars-platform/infra/slo"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "tars:postgres:Database"

// Names.
const (
	// OperatorNamespace holds the operator and the plugin (the plugin
	// must run in the operator's namespace).
	OperatorNamespace = "cnpg-system"
	// ReplicationUser is the role the other region streams with
	// (password, TLS, from the peer VPC only); CloudNativePG's own
	// streaming_replica authenticates with certificates of a CA each
	// region's operator generates, which the other region does not have.
	ReplicationUser = "tars_replicator"
	// AppSecret and ReplicationSecret hold the two roles' credentials
	// (kubernetes.io/basic-auth), from Pulumi secrets.
	AppSecret         = "tars-pg-app"
	ReplicationSecret = "tars-pg-replicator"
	// EndpointService is the internal NLB the other region streams from.
	EndpointService = "tars-pg-replication"
	// BackupName is the ScheduledBackup.
	BackupName = "tars-pg-daily"
	// BackupSchedule: "daily at 2 AM" (UTC), in CloudNativePG's six-field
	// cron (seconds first).
	BackupSchedule = "0 0 2 * * *"
	// OperatorReplicas: the operator and the plugin elect a leader; the
	// second replica takes over when a node is drained.
	OperatorReplicas = 2
	// MinPasswordLength of the two roles' passwords.
	MinPasswordLength = 16
)

// PodSecurity of the database namespace: restricted (CloudNativePG runs
// its instances as uid 26 with the runtime's seccomp profile, no
// capabilities and a read-only root file system).
var PodSecurity = podsecurity.Policy{Level: podsecurity.Restricted}

// Database is the component.
type Database struct {
	pulumi.ResourceState

	// ClusterName is this region's Cluster ("tars-pg-us-east").
	ClusterName pulumi.StringOutput `pulumi:"clusterName"`
	// Bucket is the region's WAL and backup bucket; KeyArn its KMS key.
	Bucket pulumi.StringOutput `pulumi:"bucket"`
	KeyArn pulumi.StringOutput `pulumi:"keyArn"`
	// Endpoint is the host name of the internal replication endpoint the
	// other region streams from.
	Endpoint pulumi.StringOutput `pulumi:"endpoint"`
	// ServerCA is this region's server CA certificate (PEM, public): what
	// the other region verifies this region's endpoint against.
	ServerCA pulumi.StringOutput `pulumi:"serverCA"`
	// ReadWriteService is host:port of the primary for the applications.
	ReadWriteService pulumi.StringOutput `pulumi:"readWriteService"`
	// PrimaryHost is the host name this region's services write to: the
	// local primary's service in the primary region, the other region's
	// endpoint in the replica region ("" while it has none).
	PrimaryHost string
	// ServiceDatabases are the Database objects, what a service using one
	// waits for (none while the region runs no database).
	ServiceDatabases []pulumi.Resource
	// NamespaceResource is the database's Namespace: what other objects
	// placed in it (its VPA) wait for.
	NamespaceResource pulumi.Resource
	// name is the Cluster's ("" while the region has none: the replica
	// region until the primary region runs the database).
	name string
}

// New creates the region's database. Pass the cluster's Kubernetes provider in opts.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Database, error) {
	args = args.WithDefaults()
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("postgres %s: invalid args: %w", name, err)
	}
	d := &Database{}
	if err := ctx.RegisterComponentResource(TypeToken, name, d, opts...); err != nil {
		return nil, fmt.Errorf("postgres %s: register: %w", name, err)
	}
	parent := pulumi.Parent(d)
	operator, err := d.newOperator(ctx, name, args)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", name, err)
	}
	bkt, err := d.newBucket(ctx, name, args, parent)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: bucket: %w", name, err)
	}
	self := ClusterName(args.Region)
	role, err := cluster.NewIRSARole(ctx, name+"-backup", args.OIDC, args.Partition, cluster.IRSAArgs{
		// CloudNativePG runs the instances (and the plugin's sidecar in
		// them) under a service account named after the Cluster.
		Namespace: args.Namespace, ServiceAccount: self,
		Policy: backupPolicy(args, bkt), Tags: args.Tags,
	}, d)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: backup role: %w", name, err)
	}
	ns, err := corev1.NewNamespace(ctx, name+"-namespace", &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(args.Namespace),
			Labels:      pulumi.ToStringMap(podsecurity.With(PodSecurity.Labels(), map[string]string{"app.kubernetes.io/part-of": "tars"})),
			Annotations: pulumi.ToStringMap(PodSecurity.Annotations())},
	}, append([]pulumi.ResourceOption{parent}, args.Keep.Data()...)...)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: namespace: %w", name, err)
	}
	d.NamespaceResource = ns
	inNS := []pulumi.ResourceOption{parent, pulumi.DependsOn([]pulumi.Resource{ns})}
	if err := d.newSecrets(ctx, name, args, inNS...); err != nil {
		return nil, fmt.Errorf("postgres %s: secrets: %w", name, err)
	}
	svc, err := d.newEndpoint(ctx, name, args, inNS...)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: replication endpoint: %w", name, err)
	}
	// The load balancer's host name, once the controller has provisioned it.
	d.Endpoint = svc.Status.ApplyT(func(st *corev1.ServiceStatus) string {
		if st == nil || st.LoadBalancer == nil || len(st.LoadBalancer.Ingress) == 0 || st.LoadBalancer.Ingress[0].Hostname == nil {
			return ""
		}
		return *st.LoadBalancer.Ingress[0].Hostname
	}).(pulumi.StringOutput)
	tlsSecrets := []pulumi.Resource{}
	serverCA, err := d.newServerCA(ctx, name, args, parent, inNS...)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: server CA: %w", name, err)
	}
	tlsSecrets = append(tlsSecrets, serverCA)
	if args.Peer != nil {
		peerCA, err := d.newPeerCA(ctx, name, args, inNS...)
		if err != nil {
			return nil, fmt.Errorf("postgres %s: peer CA: %w", name, err)
		}
		tlsSecrets = append(tlsSecrets, peerCA)
	}
	if err := d.newNetworkPolicy(ctx, name, args, inNS...); err != nil {
		return nil, fmt.Errorf("postgres %s: network policy: %w", name, err)
	}
	if err := netpol.New(ctx, name, args.Namespace, []netpol.Policy{netpol.DefaultDeny()}, inNS...); err != nil {
		return nil, fmt.Errorf("postgres %s: %w", name, err)
	}
	crOpts := append(inNS, pulumi.DependsOn([]pulumi.Resource{ns, operator.Helm}))
	if err := d.newObjectStores(ctx, name, args, bkt, crOpts...); err != nil {
		return nil, fmt.Errorf("postgres %s: object stores: %w", name, err)
	}
	if err := d.newPodMonitor(ctx, name, args, append(inNS, pulumi.DependsOn(append([]pulumi.Resource{ns}, args.MonitoringDependsOn...)))...); err != nil {
		return nil, fmt.Errorf("postgres %s: pod monitor: %w", name, err)
	}
	if args.HasDatabase() {
		spec, err := chart.ToValues(clusterSpecFor(args, role.Arn, d.Endpoint))
		if err != nil {
			return nil, fmt.Errorf("postgres %s: cluster spec: %w", name, err)
		}
		pg, err := apiextensions.NewCustomResource(ctx, name+"-cluster", &apiextensions.CustomResourceArgs{
			ApiVersion:  pulumi.String("postgresql.cnpg.io/v1"),
			Kind:        pulumi.String("Cluster"),
			Metadata:    &metav1.ObjectMetaArgs{Name: pulumi.String(self), Namespace: pulumi.String(args.Namespace), Labels: labels("database"), Annotations: clusterAnnotations(args)},
			OtherFields: kubernetes.UntypedArgs{"spec": spec},
		}, append(append(slices.Clone(crOpts), pulumi.DependsOn(tlsSecrets)), args.Keep.Data()...)...)
		if err != nil {
			return nil, fmt.Errorf("postgres %s: cluster: %w", name, err)
		}
		if err := d.newScheduledBackup(ctx, name, args, append(inNS, pulumi.DependsOn([]pulumi.Resource{pg}))...); err != nil {
			return nil, fmt.Errorf("postgres %s: scheduled backup: %w", name, err)
		}
		if err := d.newServiceDatabases(ctx, name, args, append(inNS, pulumi.DependsOn([]pulumi.Resource{pg}))...); err != nil {
			return nil, fmt.Errorf("postgres %s: service databases: %w", name, err)
		}
		d.name = self
	}
	d.ClusterName = pulumi.String(self).ToStringOutput()
	d.Bucket = pulumi.String(bkt.Name).ToStringOutput()
	d.KeyArn = bkt.KeyArn
	d.ReadWriteService = pulumi.Sprintf("%s-rw.%s.svc.cluster.local:%d", self, args.Namespace, Port)
	d.PrimaryHost = primaryHost(args)
	if err := ctx.RegisterResourceOutputs(d, pulumi.Map{
		"clusterName": d.ClusterName, "bucket": d.Bucket, "keyArn": d.KeyArn, "endpoint": d.Endpoint, "serverCA": d.ServerCA, "readWriteService": d.ReadWriteService,
	}); err != nil {
		return nil, fmt.Errorf("postgres %s: register outputs: %w", name, err)
	}
	return d, nil
}

// primaryHost: see Database.PrimaryHost.
func primaryHost(a Args) string {
	switch {
	case a.IsPrimary():
		return fmt.Sprintf("%s-rw.%s.svc.cluster.local", ClusterName(a.Region), a.Namespace)
	case a.Peer != nil:
		return a.Peer.Endpoint
	}
	return ""
}

// newServiceDatabases creates each service database (CloudNativePG's
// Database object; its owner is a managed role of the Cluster). Like the
// roles, they are reconciled on the primary and replicate from there.
func (d *Database) newServiceDatabases(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) error {
	for _, sd := range a.ServiceDatabases {
		db, err := apiextensions.NewCustomResource(ctx, name+"-db-"+sd.Name, &apiextensions.CustomResourceArgs{
			ApiVersion: pulumi.String("postgresql.cnpg.io/v1"),
			Kind:       pulumi.String("Database"),
			Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(ClusterName(a.Region) + "-" + sd.Name), Namespace: pulumi.String(a.Namespace), Labels: labels("database")},
			OtherFields: kubernetes.UntypedArgs{"spec": map[string]any{
				"name": sd.Name, "owner": sd.Name, "ensure": "present",
				"cluster": map[string]any{"name": ClusterName(a.Region)},
				// Deleting the object (the service removed from the
				// program) leaves the data in place.
				"databaseReclaimPolicy": "retain",
			}},
		}, opts...)
		if err != nil {
			return err
		}
		d.ServiceDatabases = append(d.ServiceDatabases, db)
	}
	return nil
}

// DatabaseName is this region's Cluster, "" when the region has none yet.
func (d *Database) DatabaseName() string { return d.name }

func labels(component string) pulumi.StringMap {
	return pulumi.StringMap{
		"app.kubernetes.io/name":      pulumi.String("postgres"),
		"app.kubernetes.io/component": pulumi.String(component),
		"app.kubernetes.io/part-of":   pulumi.String("tars"),
	}
}

// instanceLabels select this region's PostgreSQL pods (labels CloudNativePG sets).
func instanceLabels(a Args) map[string]string {
	return map[string]string{"cnpg.io/cluster": ClusterName(a.Region), "cnpg.io/podRole": "instance"}
}

// clusterSpecFor is the region's Cluster. roleArn is the backup role.
// endpoint is the replication endpoint's host name, a name of the server
// certificate.
func clusterSpecFor(a Args, roleArn pulumi.StringInput, endpoint pulumi.StringOutput) clusterSpec {
	self, peer := ClusterName(a.Region), ClusterName(a.PeerRegion)
	quantity := func(gib int) string { return strconv.Itoa(gib) + "Gi" }
	memory := strconv.Itoa(a.MemoryMB) + "Mi"
	archiver := true
	spec := clusterSpec{
		Instances: a.Instances,
		ImageName: versions.Postgres,
		// Minor upgrades and config changes that need a restart roll the
		// standbys, then switch over to one: no manual step, no failover.
		PrimaryUpdateStrategy: "unsupervised",
		PrimaryUpdateMethod:   "switchover",
		Storage:               storage{StorageClass: a.StorageClass, Size: quantity(a.StorageGiB)},
		WalStorage:            storage{StorageClass: a.StorageClass, Size: quantity(a.WalStorageGiB)},
		Resources: chart.Burstable(chart.ResourceList{CPU: a.CPURequest, Memory: memory},
			chart.ResourceList{CPU: a.CPULimit, Memory: memory}),
		// Never two instances on one node; spread over the zones.
		Affinity:       affinity{EnablePodAntiAffinity: true, TopologyKey: "kubernetes.io/hostname", PodAntiAffinityType: "required"},
		TopologySpread: chart.ZoneSpread(instanceLabels(a)),
		PostgreSQL: postgresConfig{
			Parameters: pgconf.Parameters(a.Sizing()),
			// The other region's designated primary streams with a
			// password over TLS, from the peer VPC only (the endpoint
			// preserves its address).
			PgHBA:       pgHBA(a),
			Synchronous: synchronousFor(a),
		},
		// A slot per local standby: the primary keeps the WAL they have
		// not received (bounded by max_slot_wal_keep_size).
		ReplicationSlots: replicationSlots{HighAvailability: enabledFlag{Enabled: true}, UpdateInterval: 30},
		Managed:          managed{Roles: managedRoles(a)},
		Plugins:          []plugin{{Name: PluginName, IsWALArchiver: &archiver, Parameters: map[string]string{"barmanObjectName": self}}},
		ServiceAccount: serviceAccountTemplate{Metadata: objectMeta{Annotations: map[string]pulumi.StringInput{
			"eks.amazonaws.com/role-arn": roleArn,
		}}},
		EnablePDB:    true,
		Certificates: certificates{ServerCASecret: ServerCASecret, ServerAltDNSNames: altDNSNames(endpoint)},
	}
	if a.Initialises() {
		spec.Bootstrap.InitDB = &initDB{Database: a.Database, Owner: a.Owner, Secret: localRef{Name: AppSecret},
			DataChecksums: true, Encoding: "UTF8", LocaleCType: "C.UTF-8", LocaleCollate: "C.UTF-8"}
	} else {
		// Once the database exists, a Cluster is only ever created from
		// the primary's latest base backup and WAL in the primary's bucket
		// (a rebuilt region, or a primary that lost every volume): no load
		// on the primary, no dependency on the link; then it streams.
		spec.Bootstrap.Recovery = &recovery{Source: ClusterName(a.Primary), Database: a.Database, Owner: a.Owner, Secret: localRef{Name: AppSecret}}
	}
	if a.Peer == nil {
		// The primary region before the other region has deployed: a
		// plain primary; the next `pulumi up` after the peer's adds the
		// topology (no restart).
		return spec
	}
	spec.ExternalClusters = []externalCluster{
		externalFor(a, a.Region, ""),
		externalFor(a, a.PeerRegion, a.Peer.Endpoint),
	}
	spec.Replica = &replica{Self: self, Primary: ClusterName(a.Primary), Source: peer}
	if a.IsPrimary() {
		spec.Replica.PromotionToken = a.PromotionToken
	}
	return spec
}

// managedRoles: the cross-region replication role and each service
// database's owner. CloudNativePG reconciles them on the primary only;
// they reach the other region with the data.
func managedRoles(a Args) []role {
	roles := []role{{
		Name: ReplicationUser, Ensure: "present", Login: true, Replication: true, ConnectionLimit: 4,
		PasswordSecret: localRef{Name: ReplicationSecret},
		Comment:        "streams to the other region's designated primary",
	}}
	for _, sd := range a.ServiceDatabases {
		roles = append(roles, role{
			Name: sd.Name, Ensure: "present", Login: true, ConnectionLimit: sd.ConnectionLimit,
			PasswordSecret: localRef{Name: ServiceSecret(sd.Name)},
			Comment:        "owns the " + sd.Name + " database",
		})
	}
	return roles
}

// pgHBA: the other region's designated primary streams with a password
// over TLS, from the peer VPC only (the endpoint preserves its address);
// the other region's services reach their own databases on the primary
// the same way (their writes go to the primary, wherever it runs).
func pgHBA(a Args) []string {
	rules := []string{fmt.Sprintf("hostssl replication %s %s scram-sha-256", ReplicationUser, a.PeerVpcCidr)}
	for _, sd := range a.ServiceDatabases {
		rules = append(rules, fmt.Sprintf("hostssl %s %s %s scram-sha-256", sd.Name, sd.Name, a.PeerVpcCidr))
	}
	return rules
}

// SkipEmptyArchiveCheckAnnotation turns off CloudNativePG's check that a
// new Cluster archives into an empty location.
const SkipEmptyArchiveCheckAnnotation = "cnpg.io/skipEmptyWalArchiveCheck"

// clusterAnnotations: a Cluster created by recovery archives into its
// region's bucket, which may already hold this same database's earlier
// archive (the region's previous Cluster, before it was lost or rebuilt),
// so the check that the location is empty would stop its archiving. A
// Cluster created by initdb keeps the check: a new database must never
// archive over an existing one.
func clusterAnnotations(a Args) pulumi.StringMap {
	if a.Initialises() {
		return nil
	}
	return pulumi.StringMap{SkipEmptyArchiveCheckAnnotation: pulumi.String("enabled")}
}

// externalFor is one region's entry of the distributed topology: its
// object store (bootstrap and archive fallback) and, for the other region,
// its replication endpoint. The own entry has no connection: nothing
// streams from itself.
func externalFor(a Args, region, endpoint string) externalCluster {
	name := ClusterName(region)
	ec := externalCluster{
		Name:   name,
		Plugin: plugin{Name: PluginName, Parameters: map[string]string{"barmanObjectName": name, "serverName": name}},
	}
	if endpoint != "" {
		ec.ConnectionParameters = map[string]string{
			"host": endpoint, "port": strconv.Itoa(Port), "user": ReplicationUser, "dbname": "postgres",
			// Encrypted and verified: the certificate chains to the peer's
			// server CA (PeerCASecret) and names the endpoint's host.
			"sslmode": PeerSSLMode,
			// The name the primary sees this region's designated primary
			// as: the cross-region synchronous mode lists it.
			"application_name": ClusterName(a.Region),
		}
		ec.Password = &secretKeyRef{Name: ReplicationSecret, Key: "password"}
		ec.SSLRootCert = &secretKeyRef{Name: PeerCASecret, Key: "ca.crt"}
	}
	return ec
}

// synchronousFor: by default a quorum of one local standby (ANY 1 of the
// other instances) must confirm every commit; with "preferred" durability
// the primary keeps accepting writes when no standby is left instead of
// blocking. Opt-in cross-region mode: the other region's designated
// primary first, then one local standby (FIRST 2), durability required.
func synchronousFor(a Args) synchronous {
	if a.CrossRegionSynchronous {
		return synchronous{Method: "first", Number: 2, DataDurability: "required", StandbyNamesPre: []string{ClusterName(a.PeerRegion)}}
	}
	return synchronous{Method: "any", Number: 1, DataDurability: "preferred"}
}

// newOperator installs the operator, then the plugin (its certificates
// come from cert-manager, and it registers with the operator).
func (d *Database) newOperator(ctx *pulumi.Context, name string, a Args) (*chart.Release, error) {
	parent := pulumi.Parent(d)
	op, err := chart.New(ctx, name+"-operator", operatorRelease(a), parent)
	if err != nil {
		return nil, err
	}
	plugin, err := chart.New(ctx, name+"-barman-cloud", pluginRelease(a, op), parent)
	if err != nil {
		return nil, err
	}
	return plugin, nil
}

// operatorValues are the values set on cloudnative-pg 0.29.0.
type operatorValues struct {
	ReplicaCount              int                              `json:"replicaCount"`
	Resources                 chart.Resources                  `json:"resources"`
	TopologySpreadConstraints []chart.TopologySpreadConstraint `json:"topologySpreadConstraints"`
	Monitoring                operatorMonitoring               `json:"monitoring"`
}

type operatorMonitoring struct {
	PodMonitorEnabled bool `json:"podMonitorEnabled"`
}

// operatorLabels select the CloudNativePG operator's pods.
var operatorLabels = map[string]string{"app.kubernetes.io/name": "cloudnative-pg", "app.kubernetes.io/instance": versions.CloudNativePG.Name}

func operatorRelease(a Args) chart.Args {
	return chart.Args{
		Chart:     versions.CloudNativePG,
		Namespace: OperatorNamespace,
		// The operator and the Barman Cloud plugin run restricted.
		PodSecurity: podsecurity.Policy{Level: podsecurity.Restricted},
		Values: operatorValues{
			ReplicaCount: OperatorReplicas,
			Resources:    chart.Burstable(chart.ResourceList{CPU: "100m", Memory: "256Mi"}, chart.ResourceList{CPU: "1", Memory: "512Mi"}),
			TopologySpreadConstraints: chart.ZoneSpread(map[string]string{
				"app.kubernetes.io/name": "cloudnative-pg", "app.kubernetes.io/instance": versions.CloudNativePG.Name,
			}),
			// The operator's own metrics (reconciles, webhook errors).
			Monitoring: operatorMonitoring{PodMonitorEnabled: true},
		},
		DependsOn: a.MonitoringDependsOn,
		Tags:      a.Tags,
		// The control plane to the operator's webhook (container port
		// 9443), Prometheus to its metrics (8080).
		NetworkPolicies: append(netpol.Webhook("webhook", a.Sources.ControlPlane, operatorLabels, 9443),
			netpol.Scrape("metrics", a.MonitoringNamespace, operatorLabels, 8080)),
	}
}

// pluginValues are the values set on plugin-barman-cloud 0.7.0.
type pluginValues struct {
	ReplicaCount              int                              `json:"replicaCount"`
	Resources                 chart.Resources                  `json:"resources"`
	TopologySpreadConstraints []chart.TopologySpreadConstraint `json:"topologySpreadConstraints"`
}

func pluginRelease(a Args, operator *chart.Release) chart.Args {
	return chart.Args{
		Chart:     versions.PluginBarmanCloud,
		Namespace: OperatorNamespace,
		// The operator's release created the namespace.
		NamespaceResource: operator.Helm,
		Values: pluginValues{
			ReplicaCount: OperatorReplicas,
			Resources:    chart.Burstable(chart.ResourceList{CPU: "50m", Memory: "128Mi"}, chart.ResourceList{CPU: "500m", Memory: "256Mi"}),
			TopologySpreadConstraints: chart.ZoneSpread(map[string]string{
				"app.kubernetes.io/name": "plugin-barman-cloud", "app.kubernetes.io/instance": versions.PluginBarmanCloud.Name,
			}),
		},
		DependsOn: append([]pulumi.Resource{operator.Helm}, a.DependsOn...),
		Tags:      a.Tags,
		// The plugin's gRPC port (9090): the operator, and the instances'
		// sidecars in the database's namespace.
		NetworkPolicies: []netpol.Policy{{Name: "plugin", PodLabels: map[string]string{
			"app.kubernetes.io/name": "plugin-barman-cloud", "app.kubernetes.io/instance": versions.PluginBarmanCloud.Name,
		}, Rules: []netpol.Rule{{From: []netpol.Peer{netpol.Pods("", operatorLabels), netpol.Pods(a.Namespace, map[string]string{"cnpg.io/cluster": ClusterName(a.Region)})}, Ports: []any{9090}}}}},
	}
}

// newSecrets writes the two roles' credentials from the Pulumi secrets.
func (d *Database) newSecrets(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) error {
	type roleSecret struct {
		suffix, name, user string
		password           pulumi.StringInput
	}
	secrets := []roleSecret{
		{"app", AppSecret, a.Owner, a.AppPassword},
		{"replicator", ReplicationSecret, ReplicationUser, a.ReplicationPassword},
	}
	for _, sd := range a.ServiceDatabases {
		secrets = append(secrets, roleSecret{"db-" + sd.Name, ServiceSecret(sd.Name), sd.Name, sd.Password})
	}
	for _, s := range secrets {
		field := s.suffix
		password := pulumi.ToSecret(s.password.ToStringOutput().ApplyT(func(v string) (string, error) {
			if len(v) < MinPasswordLength {
				return "", fmt.Errorf("postgres: the %s password is %d characters; it must be at least %d", field, len(v), MinPasswordLength)
			}
			return v, nil
		})).(pulumi.StringOutput)
		if _, err := corev1.NewSecret(ctx, name+"-"+s.suffix, &corev1.SecretArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(s.name), Namespace: pulumi.String(a.Namespace), Labels: labels("credentials")},
			Type:     pulumi.String("kubernetes.io/basic-auth"),
			StringData: pulumi.StringMap{
				"username": pulumi.String(s.user),
				"password": password,
			},
		}, opts...); err != nil {
			return err
		}
	}
	return nil
}

// newEndpoint is the internal NLB in front of this region's primary (or
// designated primary), reachable from the peer VPC only. It keeps the
// client's address, so pg_hba and the NetworkPolicy admit the peer VPC and
// nothing else; the load balancer checks the instance manager's port.
func (d *Database) newEndpoint(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) (*corev1.Service, error) {
	const lb = "service.beta.kubernetes.io/aws-load-balancer-"
	return corev1.NewService(ctx, name+"-replication", &corev1.ServiceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(EndpointService), Namespace: pulumi.String(a.Namespace), Labels: labels("replication-endpoint"),
			Annotations: pulumi.StringMap{
				lb + "type":                    pulumi.String("external"),
				lb + "scheme":                  pulumi.String("internal"),
				lb + "nlb-target-type":         pulumi.String("ip"),
				lb + "target-group-attributes": pulumi.String("preserve_client_ip.enabled=true"),
				lb + "attributes":              pulumi.String("load_balancing.cross_zone.enabled=true"),
				lb + "healthcheck-protocol":    pulumi.String("TCP"),
				lb + "healthcheck-port":        pulumi.String(strconv.Itoa(StatusPort)),
			},
		},
		Spec: &corev1.ServiceSpecArgs{
			Type:                     pulumi.String("LoadBalancer"),
			LoadBalancerClass:        pulumi.String("service.k8s.aws/nlb"),
			LoadBalancerSourceRanges: pulumi.ToStringArray([]string{a.PeerVpcCidr}),
			Selector: pulumi.StringMap{
				"cnpg.io/cluster":      pulumi.String(ClusterName(a.Region)),
				"cnpg.io/instanceRole": pulumi.String("primary"),
			},
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name: pulumi.String("postgres"), Port: pulumi.Int(Port), TargetPort: pulumi.Int(Port), Protocol: pulumi.String("TCP"),
			}},
		},
	}, opts...)
}

// newNetworkPolicy admits, to the instances: the application namespace,
// the other instances (replication, the instance manager), the operator,
// the metrics scraper, the peer VPC (replication through the endpoint) and
// this VPC on the status port only (the load balancer's health checks).
func (d *Database) newNetworkPolicy(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) error {
	tcp := func(ports ...int) networkingv1.NetworkPolicyPortArray {
		out := networkingv1.NetworkPolicyPortArray{}
		for _, p := range ports {
			out = append(out, networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(p)})
		}
		return out
	}
	nsSel := func(ns string) networkingv1.NetworkPolicyPeerArgs {
		return networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: &metav1.LabelSelectorArgs{
			MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(ns)}}}
	}
	cidr := func(c string) networkingv1.NetworkPolicyPeerArgs {
		return networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String(c)}}
	}
	rule := func(from networkingv1.NetworkPolicyPeerArgs, ports networkingv1.NetworkPolicyPortArray) networkingv1.NetworkPolicyIngressRuleArgs {
		return networkingv1.NetworkPolicyIngressRuleArgs{From: networkingv1.NetworkPolicyPeerArray{from}, Ports: ports}
	}
	instances := pulumi.StringMap{"cnpg.io/cluster": pulumi.String(ClusterName(a.Region))}
	ingress := networkingv1.NetworkPolicyIngressRuleArray{
		rule(nsSel(a.AppNamespace), tcp(Port)),
		rule(networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{MatchLabels: instances}}, tcp(Port, StatusPort)),
		rule(nsSel(OperatorNamespace), tcp(Port, StatusPort)),
		rule(nsSel(a.MonitoringNamespace), tcp(MetricsPort)),
		rule(cidr(a.PeerVpcCidr), tcp(Port)),
	}
	// The endpoint's health checks, from the internal load balancers' subnets.
	for _, c := range a.Sources.InternalLoadBalancers {
		ingress = append(ingress, rule(cidr(c), tcp(StatusPort)))
	}
	// Each service database's clients, by namespace and pod labels.
	for _, sd := range a.ServiceDatabases {
		peer := nsSel(sd.ClientNamespace)
		peer.PodSelector = &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(sd.ClientPodLabels)}
		ingress = append(ingress, rule(peer, tcp(Port)))
	}
	_, err := networkingv1.NewNetworkPolicy(ctx, name, &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(ClusterName(a.Region)), Namespace: pulumi.String(a.Namespace), Labels: labels("database")},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: metav1.LabelSelectorArgs{MatchLabels: instances},
			PolicyTypes: pulumi.ToStringArray([]string{"Ingress"}),
			Ingress:     ingress,
		},
	}, opts...)
	return err
}

// newObjectStores: this region's bucket (archive, backups, 30-day
// retention applied by the plugin) and the peer's, read for the bootstrap
// and the archive fallback, never pruned from here.
func (d *Database) newObjectStores(ctx *pulumi.Context, name string, a Args, own *cluster.PrivateBucket, opts ...pulumi.ResourceOption) error {
	stores := []struct {
		region, bucket, retention string
	}{{a.Region, own.Name, fmt.Sprintf("%dd", a.BackupRetentionDays)}}
	if a.Peer != nil {
		stores = append(stores, struct{ region, bucket, retention string }{a.PeerRegion, a.Peer.Bucket, ""})
	}
	for _, s := range stores {
		spec, err := chart.ToValues(objectStoreSpec{
			Configuration: storeConfiguration{
				DestinationPath: "s3://" + s.bucket + "/",
				S3Credentials:   s3Credentials{InheritFromIAMRole: true},
				// zstd: the smallest WAL on the wire and in the bucket for
				// little CPU; base backups gzip (the plugin's data
				// compressors have no zstd).
				Wal:  walConfig{Compression: "zstd", MaxParallel: 4},
				Data: dataConfig{Compression: "gzip", Jobs: 2},
			},
			RetentionPolicy: s.retention,
			Sidecar: sidecar{Resources: chart.Burstable(chart.ResourceList{CPU: "100m", Memory: "128Mi"},
				chart.ResourceList{CPU: "1", Memory: "512Mi"})},
		})
		if err != nil {
			return err
		}
		if _, err := apiextensions.NewCustomResource(ctx, name+"-store-"+s.region, &apiextensions.CustomResourceArgs{
			ApiVersion:  pulumi.String("barmancloud.cnpg.io/v1"),
			Kind:        pulumi.String("ObjectStore"),
			Metadata:    &metav1.ObjectMetaArgs{Name: pulumi.String(ClusterName(s.region)), Namespace: pulumi.String(a.Namespace), Labels: labels("object-store")},
			OtherFields: kubernetes.UntypedArgs{"spec": spec},
		}, opts...); err != nil {
			return err
		}
	}
	return nil
}

// newScheduledBackup takes a base backup daily at 02:00 UTC (and one at
// once, so the other region can bootstrap), from a standby when one is
// ready.
func (d *Database) newScheduledBackup(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) error {
	spec, err := chart.ToValues(scheduledBackupSpec{
		Schedule: BackupSchedule, Immediate: true,
		Cluster: localRef{Name: ClusterName(a.Region)},
		Method:  "plugin", PluginConfiguration: backupPlugin{Name: PluginName},
		Target:               "prefer-standby",
		BackupOwnerReference: "self",
	})
	if err != nil {
		return err
	}
	_, err = apiextensions.NewCustomResource(ctx, name+"-daily-backup", &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String("postgresql.cnpg.io/v1"),
		Kind:        pulumi.String("ScheduledBackup"),
		Metadata:    &metav1.ObjectMetaArgs{Name: pulumi.String(BackupName), Namespace: pulumi.String(a.Namespace), Labels: labels("backup")},
		OtherFields: kubernetes.UntypedArgs{"spec": spec},
	}, opts...)
	return err
}

// newPodMonitor has Prometheus scrape every instance's exporter, with the
// Cluster's name as the cluster label (the replication-lag and
// database-down alerts group by it).
func (d *Database) newPodMonitor(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) error {
	l := labels("metrics")
	l["release"] = pulumi.String(versions.KubePrometheusStack.Name)
	_, err := apiextensions.NewCustomResource(ctx, name+"-metrics", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("monitoring.coreos.com/v1"),
		Kind:       pulumi.String("PodMonitor"),
		Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(ClusterName(a.Region)), Namespace: pulumi.String(a.Namespace), Labels: l},
		OtherFields: kubernetes.UntypedArgs{"spec": map[string]any{
			"selector":          map[string]any{"matchLabels": map[string]any{"cnpg.io/cluster": ClusterName(a.Region), "cnpg.io/podRole": "instance"}},
			"namespaceSelector": map[string]any{"matchNames": []any{a.Namespace}},
			"podMetricsEndpoints": []any{map[string]any{
				"port": "metrics", "interval": slo.ScrapeInterval.String(),
				"relabelings": []any{map[string]any{
					"sourceLabels": []any{"__meta_kubernetes_pod_label_cnpg_io_cluster"}, "targetLabel": "cluster", "action": "replace",
				}},
			}},
		}},
	}, opts...)
	return err
}
