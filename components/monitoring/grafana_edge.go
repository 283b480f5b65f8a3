package monitoring

import (
	"net/url"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
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
	_, lb, err := geodns.NewPublicIngress(ctx, name+"-public", geodns.PublicIngressArgs{
		Name: GrafanaIngress, Namespace: a.Namespace,
		Labels:         map[string]string{"app.kubernetes.io/name": "grafana", "app.kubernetes.io/part-of": "tars"},
		CertificateArn: cert.CertificateArn, HealthCheckPath: "/api/health",
		Service: GrafanaReleaseName, Port: GrafanaServicePort, InboundCidrs: a.AllowedCidrs, Tags: a.Tags,
	}, parent, pulumi.DependsOn(append([]pulumi.Resource{release}, a.IngressDependsOn...)))
	if err != nil {
		return err
	}
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
