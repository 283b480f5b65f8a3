// Package redis is the region's Redis Cluster (seed 003): six members,
// three masters with one replica each, formed by an idempotent Job, spread
// across zones and nodes, persisted with AOF and RDB on encrypted volumes,
// speaking only TLS (clients, bus, replication) with certificates a
// cert-manager CA Issuer signs with a CA held in the stack (tls.go).
package redis

import (
	"fmt"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/internal/netpol"
	"github.com/tars-platform/infra/internal/podsecurity"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "tars:redis:Cluster"

// StatefulSetName is the members' StatefulSet (what a VPA targets).
const StatefulSetName = appName

// Object names inside the namespace.
const (
	appName       = "redis"
	secretName    = "redis-auth"
	configName    = "redis-config"
	scriptsName   = "redis-scripts"
	clientService = "redis"
	passwordKey   = "password"
)

// PodSecurity of the Redis namespace: restricted (the members, the
// formation Job and the rejoin CronJob run as non-root with the runtime's
// seccomp profile and no capabilities).
var PodSecurity = podsecurity.Policy{Level: podsecurity.Restricted}

// Cluster is the component.
type Cluster struct {
	pulumi.ResourceState

	Namespace pulumi.StringOutput `pulumi:"namespace"`
	// NamespaceResource is the cluster's Namespace: what other objects
	// placed in it (its VPA) wait for.
	NamespaceResource pulumi.Resource
	ClientService     pulumi.StringOutput `pulumi:"clientService"`
	// Endpoint is host:port for clients in the application namespace.
	Endpoint pulumi.StringOutput `pulumi:"endpoint"`
	// Password is the cluster password (a Pulumi secret).
	Password pulumi.StringOutput `pulumi:"password"`
	// CACert is the CA certificate (PEM) the members' certificate chains
	// to: what clients trust (also ConfigMap CAConfigMapName in the
	// application namespace).
	CACert pulumi.StringOutput `pulumi:"caCert"`
}

func appLabels(component string) pulumi.StringMap {
	return pulumi.StringMap{
		"app.kubernetes.io/name":      pulumi.String(appName),
		"app.kubernetes.io/component": pulumi.String(component),
		"app.kubernetes.io/part-of":   pulumi.String("tars"),
	}
}

// New creates the Redis Cluster. Pass the cluster's Kubernetes provider in opts.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Cluster, error) {
	args = args.WithDefaults()
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("redis %s: invalid args: %w", name, err)
	}
	if len(args.MonitoringDependsOn) == 0 {
		return nil, fmt.Errorf("redis %s: invalid args: monitoringDependsOn must name what installs the ServiceMonitor CRD", name)
	}
	if len(args.CertManagerDependsOn) == 0 {
		return nil, fmt.Errorf("redis %s: invalid args: certManagerDependsOn must name cert-manager's release (it installs the Issuer and Certificate CRDs and issues the members' TLS certificate)", name)
	}
	c := &Cluster{}
	if err := ctx.RegisterComponentResource(TypeToken, name, c, opts...); err != nil {
		return nil, fmt.Errorf("redis %s: register: %w", name, err)
	}
	parent := pulumi.Parent(c)
	ns, err := corev1.NewNamespace(ctx, name+"-namespace", &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(args.Namespace),
			Labels:      pulumi.ToStringMap(podsecurity.With(PodSecurity.Labels(), map[string]string{"app.kubernetes.io/part-of": "tars"})),
			Annotations: pulumi.ToStringMap(PodSecurity.Annotations())},
	}, append([]pulumi.ResourceOption{parent}, args.Keep.Data()...)...)
	if err != nil {
		return nil, fmt.Errorf("redis %s: namespace: %w", name, err)
	}
	inNS := pulumi.DependsOn([]pulumi.Resource{ns})
	// Only what the Redis policy admits reaches the namespace's pods.
	if err := netpol.New(ctx, name, args.Namespace, []netpol.Policy{netpol.DefaultDeny()}, parent, inNS); err != nil {
		return nil, fmt.Errorf("redis %s: %w", name, err)
	}
	password := args.Password
	if password == nil {
		gen, err := random.NewRandomPassword(ctx, name+"-password", &random.RandomPasswordArgs{Length: pulumi.Int(32), Special: pulumi.Bool(false)}, parent)
		if err != nil {
			return nil, fmt.Errorf("redis %s: password: %w", name, err)
		}
		password = gen.Result
	}
	c.Password = pulumi.ToSecret(password.ToStringOutput()).(pulumi.StringOutput)
	if err := c.newConfig(ctx, name, args, parent, inNS); err != nil {
		return nil, fmt.Errorf("redis %s: config: %w", name, err)
	}
	if err := c.newServices(ctx, name, args, parent, inNS); err != nil {
		return nil, fmt.Errorf("redis %s: services: %w", name, err)
	}
	cert, err := c.newTLS(ctx, name, args, parent, inNS,
		pulumi.DependsOn(append([]pulumi.Resource{ns}, args.CertManagerDependsOn...)), pulumi.DependsOn(args.AppNamespaceDependsOn))
	if err != nil {
		return nil, fmt.Errorf("redis %s: tls: %w", name, err)
	}
	sts, err := c.newStatefulSet(ctx, name, args, append([]pulumi.ResourceOption{parent, pulumi.DependsOn([]pulumi.Resource{ns, cert})}, args.Keep.Stateful()...)...)
	if err != nil {
		return nil, fmt.Errorf("redis %s: statefulset: %w", name, err)
	}
	if err := c.newGuards(ctx, name, args, parent, inNS); err != nil {
		return nil, fmt.Errorf("redis %s: disruption budget and network policy: %w", name, err)
	}
	if err := c.newFormationJob(ctx, name, args, parent, pulumi.DependsOn([]pulumi.Resource{sts})); err != nil {
		return nil, fmt.Errorf("redis %s: cluster-create job: %w", name, err)
	}
	if err := c.newServiceMonitor(ctx, name, args, parent, pulumi.DependsOn(append([]pulumi.Resource{ns}, args.MonitoringDependsOn...))); err != nil {
		return nil, fmt.Errorf("redis %s: service monitor: %w", name, err)
	}
	c.Namespace = ns.Metadata.Name().Elem()
	c.NamespaceResource = ns
	c.ClientService = pulumi.String(clientService).ToStringOutput()
	c.Endpoint = pulumi.Sprintf("%s.%s.svc.cluster.local:%d", clientService, args.Namespace, Port)
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"namespace": c.Namespace, "clientService": c.ClientService, "endpoint": c.Endpoint, "password": c.Password, "caCert": c.CACert,
	}); err != nil {
		return nil, fmt.Errorf("redis %s: register outputs: %w", name, err)
	}
	return c, nil
}

// newConfig creates the auth Secret, redis.conf and the formation script.
func (c *Cluster) newConfig(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) error {
	if _, err := corev1.NewSecret(ctx, name+"-auth", &corev1.SecretArgs{
		Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(secretName), Namespace: pulumi.String(a.Namespace), Labels: appLabels("auth")},
		StringData: pulumi.StringMap{passwordKey: c.Password},
	}, opts...); err != nil {
		return err
	}
	if _, err := corev1.NewConfigMap(ctx, name+"-config", &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(configName), Namespace: pulumi.String(a.Namespace), Labels: appLabels("config")},
		Data:     pulumi.StringMap{"redis.conf": pulumi.String(a.RedisConfig().Render())},
	}, opts...); err != nil {
		return err
	}
	_, err := corev1.NewConfigMap(ctx, name+"-scripts", &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(scriptsName), Namespace: pulumi.String(a.Namespace), Labels: appLabels("scripts")},
		Data:     pulumi.StringMap{"cluster-create.sh": pulumi.String(ClusterCreateScript)},
	}, opts...)
	return err
}

// newServices creates the headless Service (stable member names, the
// cluster bus, the exporter) and the client Service.
func (c *Cluster) newServices(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) error {
	port := func(n string, p int) corev1.ServicePortArgs {
		return corev1.ServicePortArgs{Name: pulumi.String(n), Port: pulumi.Int(p), TargetPort: pulumi.Int(p), Protocol: pulumi.String("TCP")}
	}
	if _, err := corev1.NewService(ctx, name+"-headless", &corev1.ServiceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(a.headlessService()), Namespace: pulumi.String(a.Namespace), Labels: appLabels("server")},
		Spec: &corev1.ServiceSpecArgs{
			ClusterIP: pulumi.String("None"),
			// Members must resolve each other before they are ready, or the
			// cluster never forms.
			PublishNotReadyAddresses: pulumi.Bool(true),
			Selector:                 appLabels("server"),
			Ports:                    corev1.ServicePortArray{port("redis", Port), port("bus", BusPort), port("metrics", ExporterPort)},
		},
	}, opts...); err != nil {
		return err
	}
	_, err := corev1.NewService(ctx, name+"-client", &corev1.ServiceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(clientService), Namespace: pulumi.String(a.Namespace), Labels: appLabels("client")},
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: appLabels("server"),
			Ports:    corev1.ServicePortArray{port("redis", Port)},
		},
	}, opts...)
	return err
}

// memberHosts lists every member as host:port for the formation Job.
func (a Args) memberHosts() string {
	hosts := make([]string, a.Nodes)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("%s:%d", a.Hostname(i), Port)
	}
	return strings.Join(hosts, " ")
}
