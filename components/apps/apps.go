// Package apps is what the platform prepares for the T.A.R.S. services:
// their namespace, which the data stores admit by name and the public
// edge's Ingress lives in. The services themselves are deployed by their
// own pipelines.
package apps

import (
	"fmt"
	"github.com/tars-platform/infra/internal/keep"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/internal/check"
	"github.com/tars-platform/infra/internal/netpol"
	"github.com/tars-platform/infra/internal/podsecurity"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "tars:apps:Namespace"

// Namespace is the services' namespace.
type Namespace struct {
	pulumi.ResourceState

	Name pulumi.StringOutput `pulumi:"name"`
	// Resource is the Namespace itself: what objects in it depend on.
	Resource *corev1.Namespace
}

// PodSecurity of the services' namespace: restricted. Everything the
// program runs there (ChromaDB and its sync jobs) passes it, and the
// application's pods must too.
var PodSecurity = podsecurity.Policy{Level: podsecurity.Restricted}

// Ingress is what reaches the services' pods besides each other.
type Ingress struct {
	// PublicLoadBalancers are the internet-facing load balancers' subnets:
	// the API's load balancer (target type ip) reaches it from them, on
	// APIPort (the backend Service's port, equal to its target port).
	PublicLoadBalancers []string
	APIPort             int
	// MonitoringNamespace is Prometheus's and the OTel collector's.
	MonitoringNamespace string
}

// policies: the namespace's default-deny; the services to each other;
// Prometheus to every port (the services' metrics ports are theirs); the
// load balancer to the API port.
func (in Ingress) policies() []netpol.Policy {
	out := []netpol.Policy{netpol.DefaultDeny(),
		{Name: "same-namespace", Rules: []netpol.Rule{{From: []netpol.Peer{netpol.Pods("", map[string]string{})}}}}}
	if in.MonitoringNamespace != "" {
		out = append(out, netpol.Policy{Name: "prometheus", Rules: []netpol.Rule{{From: []netpol.Peer{netpol.Prometheus(in.MonitoringNamespace)}}}})
	}
	if len(in.PublicLoadBalancers) > 0 && in.APIPort > 0 {
		out = append(out, netpol.Policy{Name: "load-balancer", Rules: []netpol.Rule{{From: netpol.CIDRs(in.PublicLoadBalancers), Ports: []any{in.APIPort}}}})
	}
	return out
}

// NewNamespace creates the services' namespace with Pod Security admission
// at PodSecurity. It holds ChromaDB's claim, so deleting it deletes data:
// it is protected as k says and retained on delete. Pass the cluster's
// Kubernetes provider in opts.
func NewNamespace(ctx *pulumi.Context, name, namespace string, in Ingress, k keep.Keep, opts ...pulumi.ResourceOption) (*Namespace, error) {
	if !check.DNSLabel(namespace, 63) {
		return nil, fmt.Errorf("apps %s: namespace (%q) must be a Kubernetes namespace name", name, namespace)
	}
	n := &Namespace{}
	if err := ctx.RegisterComponentResource(TypeToken, name, n, opts...); err != nil {
		return nil, fmt.Errorf("apps %s: register: %w", name, err)
	}
	ns, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(namespace),
			Labels:      pulumi.ToStringMap(podsecurity.With(PodSecurity.Labels(), map[string]string{"app.kubernetes.io/part-of": "tars"})),
			Annotations: pulumi.ToStringMap(PodSecurity.Annotations()),
		},
	}, append([]pulumi.ResourceOption{pulumi.Parent(n)}, k.Data()...)...)
	if err != nil {
		return nil, fmt.Errorf("apps %s: namespace: %w", name, err)
	}
	n.Resource = ns
	if err := netpol.New(ctx, name, namespace, in.policies(), pulumi.Parent(n), pulumi.DependsOn([]pulumi.Resource{ns})); err != nil {
		return nil, fmt.Errorf("apps %s: %w", name, err)
	}
	n.Name = ns.Metadata.Name().Elem()
	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{"name": n.Name}); err != nil {
		return nil, fmt.Errorf("apps %s: register outputs: %w", name, err)
	}
	return n, nil
}
