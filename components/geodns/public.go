package geodns

import (
	"maps"
	"slices"
	"strings"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PublicIngressArgs is an internet-facing Application Load Balancer (the
// AWS Load Balancer Controller's) in front of one Service: HTTPS only on
// 443 with a certificate, TLSPolicy, IP targets.
type PublicIngressArgs struct {
	// Name and Namespace of the Ingress; Labels on it.
	Name, Namespace string
	Labels          map[string]string
	// CertificateArn is the validated certificate's ARN.
	CertificateArn pulumi.StringInput
	// HealthCheckPath the load balancer checks the targets on.
	HealthCheckPath string
	// Service and Port are the backend.
	Service string
	Port    int
	// InboundCidrs may reach the load balancer; empty leaves the
	// controller's default (anywhere).
	InboundCidrs []string
	// Tags go on the load balancer.
	Tags map[string]string
}

// NewPublicIngress creates the Ingress and returns it with the load
// balancer's host name ("" until the controller has provisioned it).
func NewPublicIngress(ctx *pulumi.Context, name string, a PublicIngressArgs, opts ...pulumi.ResourceOption) (*networkingv1.Ingress, pulumi.StringOutput, error) {
	const alb = "alb.ingress.kubernetes.io/"
	annotations := pulumi.StringMap{
		alb + "scheme":      pulumi.String("internet-facing"),
		alb + "target-type": pulumi.String("ip"),
		// 443 only, and 80 answering with a redirect to 443: the load
		// balancer's security group admits the world on these two ports.
		alb + "listen-ports":     pulumi.String(`[{"HTTP":80},{"HTTPS":443}]`),
		alb + "ssl-redirect":     pulumi.String("443"),
		alb + "certificate-arn":  a.CertificateArn,
		alb + "ssl-policy":       pulumi.String(TLSPolicy),
		alb + "healthcheck-path": pulumi.String(a.HealthCheckPath),
		alb + "tags":             pulumi.String(ALBTags(a.Tags)),
	}
	if len(a.InboundCidrs) > 0 {
		annotations[alb+"inbound-cidrs"] = pulumi.String(strings.Join(a.InboundCidrs, ","))
	}
	ing, err := networkingv1.NewIngress(ctx, name, &networkingv1.IngressArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(a.Name), Namespace: pulumi.String(a.Namespace),
			Labels: pulumi.ToStringMap(a.Labels), Annotations: annotations,
		},
		Spec: &networkingv1.IngressSpecArgs{
			IngressClassName: pulumi.String(IngressClass),
			DefaultBackend: &networkingv1.IngressBackendArgs{Service: &networkingv1.IngressServiceBackendArgs{
				Name: pulumi.String(a.Service),
				Port: &networkingv1.ServiceBackendPortArgs{Number: pulumi.Int(a.Port)},
			}},
		},
	}, opts...)
	if err != nil {
		return nil, pulumi.StringOutput{}, err
	}
	host := ing.Status.ApplyT(func(st *networkingv1.IngressStatus) string {
		if st == nil || st.LoadBalancer == nil || len(st.LoadBalancer.Ingress) == 0 || st.LoadBalancer.Ingress[0].Hostname == nil {
			return ""
		}
		return *st.LoadBalancer.Ingress[0].Hostname
	}).(pulumi.StringOutput)
	return ing, host, nil
}

// ALBTags renders tags as the load balancer controller's tags annotation.
func ALBTags(tags map[string]string) string {
	out := ""
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		if out != "" {
			out += ","
		}
		out += k + "=" + tags[k]
	}
	return out
}
