// Package netpol builds the program's Kubernetes NetworkPolicies: the
// default-deny of ingress every namespace the program creates carries, and
// the allows each server needs, as typed rules. Ingress only: egress stays
// open. Kubelet probes come from the node itself, which NetworkPolicy
// (the EKS VPC CNI's agent) does not filter, so no rule admits them.
package netpol

import (
	"fmt"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DefaultDenyName is the name of every namespace's default-deny policy.
const DefaultDenyName = "default-deny-ingress"

// NamespaceLabel is set by the API server on every namespace to its name.
const NamespaceLabel = "kubernetes.io/metadata.name"

// Peer is a source of traffic: pods (Pods) in a namespace (Namespace; empty
// means the policy's own), every pod of a namespace (Pods nil), or an
// address block (CIDR).
type Peer struct {
	Namespace string
	Pods      map[string]string
	CIDR      string
}

// Namespace is every pod of the namespace.
func Namespace(ns string) Peer { return Peer{Namespace: ns} }

// Pods are the pods with these labels in namespace ns ("" for the policy's own).
func Pods(ns string, labels map[string]string) Peer { return Peer{Namespace: ns, Pods: labels} }

// CIDR is an IPv4 block.
func CIDR(c string) Peer { return Peer{CIDR: c} }

// CIDRs are IPv4 blocks, one peer each.
func CIDRs(cs []string) []Peer {
	var out []Peer
	for _, c := range cs {
		out = append(out, CIDR(c))
	}
	return out
}

// Sources are the address blocks that reach pods from outside the pod
// network. With the VPC CNI pods have VPC addresses, so a rule must never
// admit a block where pods run (the whole VPC, a node subnet): it would
// admit every pod of the cluster. The cluster component plans these
// subnets apart from the node subnets (cluster.SubnetPlan.Infra, .Public).
type Sources struct {
	// ControlPlane: the EKS control plane's network interfaces, which call
	// the admission webhooks.
	ControlPlane []string
	// InternalLoadBalancers: the internal load balancers' interfaces,
	// which reach their targets (type ip) and health-check them.
	InternalLoadBalancers []string
	// PublicLoadBalancers: the internet-facing load balancers' interfaces.
	PublicLoadBalancers []string
}

// Rule admits From on Ports (TCP; an int or a named container port; none:
// every port).
type Rule struct {
	From  []Peer
	Ports []any
}

// Policy admits the Rules to the pods with PodLabels (nil: every pod) of
// its namespace.
type Policy struct {
	Name      string
	PodLabels map[string]string
	Rules     []Rule
}

func (p Peer) args() networkingv1.NetworkPolicyPeerArgs {
	if p.CIDR != "" {
		return networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String(p.CIDR)}}
	}
	out := networkingv1.NetworkPolicyPeerArgs{}
	if p.Namespace != "" {
		out.NamespaceSelector = &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{NamespaceLabel: pulumi.String(p.Namespace)}}
	}
	if p.Pods != nil || out.NamespaceSelector == nil {
		out.PodSelector = &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(p.Pods)}
	}
	return out
}

func port(p any) (networkingv1.NetworkPolicyPortArgs, error) {
	out := networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP")}
	switch v := p.(type) {
	case int:
		out.Port = pulumi.Int(v)
	case string:
		out.Port = pulumi.String(v)
	default:
		return out, fmt.Errorf("port %v (%T) is neither a number nor a name", p, p)
	}
	return out, nil
}

// Args is the policy's NetworkPolicy in namespace ns.
func (p Policy) Args(ns string) (*networkingv1.NetworkPolicyArgs, error) {
	ingress := networkingv1.NetworkPolicyIngressRuleArray{}
	for _, r := range p.Rules {
		from := networkingv1.NetworkPolicyPeerArray{}
		for _, f := range r.From {
			from = append(from, f.args())
		}
		ports := networkingv1.NetworkPolicyPortArray{}
		for _, q := range r.Ports {
			pa, err := port(q)
			if err != nil {
				return nil, err
			}
			ports = append(ports, pa)
		}
		ingress = append(ingress, networkingv1.NetworkPolicyIngressRuleArgs{From: from, Ports: ports})
	}
	return &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(p.Name), Namespace: pulumi.String(ns),
			Labels: pulumi.StringMap{"app.kubernetes.io/part-of": pulumi.String("tars")}},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(p.PodLabels)},
			PolicyTypes: pulumi.ToStringArray([]string{"Ingress"}),
			Ingress:     ingress,
		},
	}, nil
}

// DefaultDeny selects every pod of the namespace for ingress and admits
// nothing: only what another policy allows reaches a pod.
func DefaultDeny() Policy { return Policy{Name: DefaultDenyName} }

// New creates the policies in namespace ns, each named name+"-"+its name.
func New(ctx *pulumi.Context, name, ns string, policies []Policy, opts ...pulumi.ResourceOption) error {
	for _, p := range policies {
		args, err := p.Args(ns)
		if err != nil {
			return fmt.Errorf("network policy %s/%s: %w", ns, p.Name, err)
		}
		if _, err := networkingv1.NewNetworkPolicy(ctx, name+"-"+p.Name, args, opts...); err != nil {
			return fmt.Errorf("network policy %s/%s: %w", ns, p.Name, err)
		}
	}
	return nil
}

// PrometheusLabels are the labels of the kube-prometheus-stack Prometheus
// pods (the operator's StatefulSet of the Prometheus resource), the
// scraper of every metrics port.
var PrometheusLabels = map[string]string{
	"app.kubernetes.io/name":      "prometheus",
	"operator.prometheus.io/name": "kube-prometheus-stack-prometheus",
}

// Prometheus is the scraper in the monitoring namespace ns.
func Prometheus(ns string) Peer { return Pods(ns, PrometheusLabels) }

// Scrape admits Prometheus (in namespace monitoring) to the pods with
// labels on the metrics ports.
func Scrape(name, monitoring string, labels map[string]string, ports ...any) Policy {
	return Policy{Name: name, PodLabels: labels, Rules: []Rule{{From: []Peer{Prometheus(monitoring)}, Ports: ports}}}
}

// Webhook admits the EKS control plane, which reaches webhooks from its
// cross-account network interfaces (Sources.ControlPlane), to the pods with
// labels on the webhook's container port. Nothing when controlPlane is empty.
func Webhook(name string, controlPlane []string, labels map[string]string, port any) []Policy {
	if len(controlPlane) == 0 {
		return nil
	}
	return []Policy{{Name: name, PodLabels: labels, Rules: []Rule{{From: CIDRs(controlPlane), Ports: []any{port}}}}}
}
