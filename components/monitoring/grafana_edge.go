package monitoring

import (
	"net/url"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/geodns"
)

// Grafana's public edge.
const (
	// GrafanaServicePort is the chart's Service port.
	GrafanaServicePort = 80
	// GrafanaIngress is the Ingress (in the monitoring namespace).
	GrafanaIngress = "grafana"
	// GrafanaRecordTTL of the CNAME to the load balancer, in seconds.
	GrafanaRecordTTL = 60
)

// DefaultGrafanaAllowedCidrs: the login is OAuth with allowed domains, so
// the load balancer is open unless tars:grafana.allowedCidrs narrows it
// (to the VPN's egress ranges, for instance).
var DefaultGrafanaAllowedCidrs = []string{"0.0.0.0/0"}

// newEdge makes Grafana reachable at RootURL: a certificate validated in
// the zone, an internet-facing Application Load Balancer (HTTPS only,
// TLS 1.2+, the allowed ranges) in front of the Service, and the name's
// CNAME to it. The OAuth redirect URL is RootURL/login/generic_oauth.
func (g *Grafana) newEdge(ctx *pulumi.Context, name string, a GrafanaArgs, release pulumi.Resource) error {
	host := grafanaHost(a.RootURL)
	parent := pulumi.Parent(g)
	zone, err := route53.LookupZone(ctx, &route53.LookupZoneArgs{Name: pulumi.StringRef(a.Zone), PrivateZone: pulumi.BoolRef(false)}, parent)
	if err != nil {
		return err
	}
	cert, err := geodns.NewCertificate(ctx, geodns.CertificateArgs{
		Name: name + "-cert", RecordPrefix: name + "-validation-", ZoneID: zone.ZoneId, Domain: host, Tags: a.Tags,
	}, parent)
	if err != nil {
		return err
	}
	const alb = "alb.ingress.kubernetes.io/"
	ing, err := networkingv1.NewIngress(ctx, name+"-public", &networkingv1.IngressArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(GrafanaIngress), Namespace: pulumi.String(a.Namespace),
			Labels: pulumi.StringMap{"app.kubernetes.io/name": pulumi.String("grafana"), "app.kubernetes.io/part-of": pulumi.String("tars")},
			Annotations: pulumi.StringMap{
				alb + "scheme":           pulumi.String("internet-facing"),
				alb + "target-type":      pulumi.String("ip"),
				alb + "listen-ports":     pulumi.String(`[{"HTTPS":443}]`),
				alb + "certificate-arn":  cert.CertificateArn,
				alb + "ssl-policy":       pulumi.String(geodns.TLSPolicy),
				alb + "healthcheck-path": pulumi.String("/api/health"),
				alb + "inbound-cidrs":    pulumi.String(strings.Join(a.AllowedCidrs, ",")),
				alb + "tags":             pulumi.String(geodns.ALBTags(a.Tags)),
			},
		},
		Spec: &networkingv1.IngressSpecArgs{
			IngressClassName: pulumi.String(geodns.IngressClass),
			DefaultBackend: &networkingv1.IngressBackendArgs{Service: &networkingv1.IngressServiceBackendArgs{
				Name: pulumi.String(GrafanaReleaseName),
				Port: &networkingv1.ServiceBackendPortArgs{Number: pulumi.Int(GrafanaServicePort)},
			}},
		},
	}, parent, pulumi.DependsOn(append([]pulumi.Resource{release}, a.IngressDependsOn...)))
	if err != nil {
		return err
	}
	lb := ing.Status.ApplyT(func(st *networkingv1.IngressStatus) string {
		if st == nil || st.LoadBalancer == nil || len(st.LoadBalancer.Ingress) == 0 || st.LoadBalancer.Ingress[0].Hostname == nil {
			return ""
		}
		return *st.LoadBalancer.Ingress[0].Hostname
	}).(pulumi.StringOutput)
	_, err = route53.NewRecord(ctx, name+"-record", &route53.RecordArgs{
		ZoneId: pulumi.String(zone.ZoneId), Name: pulumi.String(host), Type: pulumi.String("CNAME"),
		Ttl: pulumi.Int(GrafanaRecordTTL), Records: pulumi.StringArray{lb},
	}, parent)
	return err
}

// grafanaHost is RootURL's host name.
func grafanaHost(rootURL string) string {
	u, err := url.Parse(rootURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
