// Package geodns is a region's public edge and its share of the global DNS
// (seed 003 "GeoDNS Configuration"): a public load balancer for the API
// with its certificate, a Route 53 health check of the region's endpoint,
// the region's records of each routing policy (geolocation, latency,
// weighted, failover), CloudWatch alarms on the health check, and, when
// enabled, the region's Cloudflare monitor and pool. Each stack owns its
// own region's records (set identifiers carry the region); the singletons
// owner also owns the geolocation default record and the Cloudflare load
// balancer.
package geodns

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "tars:geodns:Edge"

// Names and settings.
const (
	// IngressName is the public load balancer's Ingress (in the backend's namespace).
	IngressName = "tars-api-public"
	// IngressClass is the AWS Load Balancer Controller's class.
	IngressClass = "alb"
	// MetricsRegion is where Route 53 publishes health-check metrics,
	// whatever the stack's region: the alarms and their topic live there.
	MetricsRegion = "us-east-1"
	// PrimaryWeight and StandbyWeight weight the two regions' records of
	// the failover name: tars:topology.dnsPrimary's and the other's.
	PrimaryWeight = 100
	StandbyWeight = 0
	// TLSPolicy of the load balancer's listener: TLS 1.3 and 1.2 only.
	TLSPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
)

// Edge is the component.
type Edge struct {
	pulumi.ResourceState

	// Endpoint is the public load balancer's host name.
	Endpoint pulumi.StringOutput `pulumi:"endpoint"`
	// HealthCheckID is the region's Route 53 health check.
	HealthCheckID pulumi.StringOutput `pulumi:"healthCheckId"`
	// CloudflarePool is the region's Cloudflare pool ID ("" when disabled).
	CloudflarePool pulumi.StringOutput `pulumi:"cloudflarePool"`
	// ZoneID is the hosted zone's ID; the region's record of the failover
	// name (Args.FailoverName) has the region as set identifier.
	ZoneID pulumi.StringOutput `pulumi:"zoneId"`
}

// New creates the region's edge. Pass the cluster's Kubernetes provider in
// opts; the AWS resources use the stack's default provider (Route 53 is
// global) except the alarms (MetricsRegion).
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Edge, error) {
	args = args.WithDefaults()
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("geodns %s: invalid args: %w", name, err)
	}
	e := &Edge{}
	if err := ctx.RegisterComponentResource(TypeToken, name, e, opts...); err != nil {
		return nil, fmt.Errorf("geodns %s: register: %w", name, err)
	}
	parent := pulumi.Parent(e)
	zone, err := route53.LookupZone(ctx, &route53.LookupZoneArgs{Name: pulumi.StringRef(args.Zone), PrivateZone: pulumi.BoolRef(false)}, pulumi.Parent(e))
	if err != nil {
		return nil, fmt.Errorf("geodns %s: hosted zone %s (tars:dns.zone) not found: %w", name, args.Zone, err)
	}
	e.ZoneID = pulumi.String(zone.ZoneId).ToStringOutput()
	cert, err := e.newCertificate(ctx, name, args, zone.ZoneId, parent)
	if err != nil {
		return nil, fmt.Errorf("geodns %s: certificate: %w", name, err)
	}
	// The public load balancer in front of the API Service, health
	// checked on the API's /health.
	_, e.Endpoint, err = NewPublicIngress(ctx, name+"-public", PublicIngressArgs{
		Name: IngressName, Namespace: args.Backend.Namespace,
		Labels:         map[string]string{"app.kubernetes.io/part-of": "tars", "app.kubernetes.io/component": "edge"},
		CertificateArn: cert.CertificateArn, HealthCheckPath: args.HealthCheck.Path,
		Service: args.Backend.Service, Port: args.Backend.Port, Tags: args.Tags,
	}, parent, pulumi.DependsOn(args.DependsOn))
	if err != nil {
		return nil, fmt.Errorf("geodns %s: load balancer: %w", name, err)
	}
	hc, err := e.newRecords(ctx, name, args, zone.ZoneId, parent)
	if err != nil {
		return nil, fmt.Errorf("geodns %s: records: %w", name, err)
	}
	e.HealthCheckID = hc.ID().ToStringOutput()
	if err := e.newAlarms(ctx, name, args, hc, parent); err != nil {
		return nil, fmt.Errorf("geodns %s: alarms: %w", name, err)
	}
	e.CloudflarePool = pulumi.String("").ToStringOutput()
	if args.Cloudflare.Enabled {
		if err := e.newCloudflare(ctx, name, args, parent); err != nil {
			return nil, fmt.Errorf("geodns %s: cloudflare: %w", name, err)
		}
	}
	if err := ctx.RegisterResourceOutputs(e, pulumi.Map{
		"endpoint": e.Endpoint, "healthCheckId": e.HealthCheckID, "cloudflarePool": e.CloudflarePool, "zoneId": e.ZoneID,
	}); err != nil {
		return nil, fmt.Errorf("geodns %s: register outputs: %w", name, err)
	}
	return e, nil
}

// newCertificate requests the region's certificate (its own name and the
// global names) and validates it in the zone (NewCertificate).
func (e *Edge) newCertificate(ctx *pulumi.Context, name string, a Args, zoneID string, opts ...pulumi.ResourceOption) (*acm.CertificateValidation, error) {
	return NewCertificate(ctx, CertificateArgs{
		Name: name + "-api", RecordPrefix: name + "-validation-", ZoneID: zoneID,
		Domain: a.RegionName(a.Region), SharedNames: a.GlobalNames(), Tags: a.Tags,
	}, opts...)
}

// CertificateArgs is a DNS-validated ACM certificate.
type CertificateArgs struct {
	// Name of the certificate and its validation resources; RecordPrefix
	// + domain names each validation record.
	Name, RecordPrefix string
	// ZoneID is the public hosted zone the names are in.
	ZoneID string
	// Domain is this stack's own name; SharedNames are names the other
	// region's certificate also carries.
	Domain      string
	SharedNames []string
	Tags        map[string]string
}

// NewCertificate requests a certificate and validates it in the zone. The
// validation record of a shared name is the same for both regions'
// certificates (one account, one name): each stack may overwrite it with
// the same value and neither deletes it, so the two never pull it from
// under each other. The own name's record is this stack's alone.
func NewCertificate(ctx *pulumi.Context, a CertificateArgs, opts ...pulumi.ResourceOption) (*acm.CertificateValidation, error) {
	own := a.Domain
	cert, err := acm.NewCertificate(ctx, a.Name, &acm.CertificateArgs{
		DomainName:              pulumi.String(own),
		SubjectAlternativeNames: pulumi.ToStringArray(a.SharedNames),
		ValidationMethod:        pulumi.String("DNS"),
		Tags:                    pulumi.ToStringMap(a.Tags),
	}, opts...)
	if err != nil {
		return nil, err
	}
	var fqdns pulumi.StringArray
	for _, domain := range append([]string{own}, a.SharedNames...) {
		field := func(get func(acm.CertificateDomainValidationOption) *string) pulumi.StringOutput {
			return cert.DomainValidationOptions.ApplyT(func(vs []acm.CertificateDomainValidationOption) string {
				for _, v := range vs {
					if v.DomainName != nil && *v.DomainName == domain && get(v) != nil {
						return *get(v)
					}
				}
				return ""
			}).(pulumi.StringOutput)
		}
		recOpts := opts
		shared := domain != own
		if shared {
			recOpts = append(recOpts, pulumi.RetainOnDelete(true))
		}
		rec, err := route53.NewRecord(ctx, a.RecordPrefix+domain, &route53.RecordArgs{
			ZoneId:         pulumi.String(a.ZoneID),
			Name:           field(func(v acm.CertificateDomainValidationOption) *string { return v.ResourceRecordName }),
			Type:           field(func(v acm.CertificateDomainValidationOption) *string { return v.ResourceRecordType }),
			Records:        pulumi.StringArray{field(func(v acm.CertificateDomainValidationOption) *string { return v.ResourceRecordValue })},
			Ttl:            pulumi.Int(300),
			AllowOverwrite: pulumi.Bool(shared),
		}, recOpts...)
		if err != nil {
			return nil, err
		}
		fqdns = append(fqdns, rec.Fqdn)
	}
	return acm.NewCertificateValidation(ctx, a.Name, &acm.CertificateValidationArgs{
		CertificateArn:        cert.Arn,
		ValidationRecordFqdns: fqdns,
	}, opts...)
}

// newRecords creates the region's health check and its record of each
// routing policy, all answering with the load balancer by CNAME at the
// configured TTL (an alias would be cached for the load balancer's 60 s).
func (e *Edge) newRecords(ctx *pulumi.Context, name string, a Args, zoneID string, opts ...pulumi.ResourceOption) (*route53.HealthCheck, error) {
	h := a.HealthCheck
	hc, err := route53.NewHealthCheck(ctx, name+"-health", &route53.HealthCheckArgs{
		Type:             pulumi.String("HTTPS"),
		Fqdn:             pulumi.String(a.RegionName(a.Region)),
		Port:             pulumi.Int(443),
		ResourcePath:     pulumi.String(h.Path),
		EnableSni:        pulumi.Bool(true),
		RequestInterval:  pulumi.Int(h.IntervalSeconds),
		FailureThreshold: pulumi.Int(h.FailureThreshold),
		MeasureLatency:   pulumi.Bool(true),
		Regions:          pulumi.ToStringArray(h.Regions),
		Tags:             pulumi.ToStringMap(withName(a.Tags, "tars-api-"+a.Region)),
	}, opts...)
	if err != nil {
		return nil, err
	}
	cname := func(res, recName, setID string, withHealth bool, target pulumi.StringInput, policy func(*route53.RecordArgs), extra ...pulumi.ResourceOption) error {
		ra := &route53.RecordArgs{
			ZoneId: pulumi.String(zoneID), Name: pulumi.String(recName), Type: pulumi.String("CNAME"),
			Ttl: pulumi.Int(a.TTLSeconds), Records: pulumi.StringArray{target},
		}
		if setID != "" {
			ra.SetIdentifier = pulumi.String(setID)
		}
		if withHealth {
			ra.HealthCheckId = hc.ID()
		}
		if policy != nil {
			policy(ra)
		}
		_, err := route53.NewRecord(ctx, name+"-"+res, ra, append(slices.Clone(opts), extra...)...)
		return err
	}
	lb := e.Endpoint
	// The records of the region's own names are this stack's for good:
	// protected (tars:protect). The geolocation default moves with
	// singletonsOwner and is retained instead: a protected record could
	// not leave the old owner's program.
	owned := a.Keep.Stateful()
	// The region's own name: what the health check and Cloudflare reach.
	if err := cname("region", a.RegionName(a.Region), "", false, lb, nil, owned...); err != nil {
		return nil, err
	}
	for _, st := range a.Geolocation[a.Region] {
		if err := cname("geo-"+st, a.GlobalName(), a.Region+"-"+st, true, lb, func(ra *route53.RecordArgs) {
			ra.GeolocationRoutingPolicies = route53.RecordGeolocationRoutingPolicyArray{
				route53.RecordGeolocationRoutingPolicyArgs{Country: pulumi.String("US"), Subdivision: pulumi.String(st)}}
		}, owned...); err != nil {
			return nil, err
		}
	}
	if a.OwnsSingletons() {
		// Everyone else, and a state whose region is unhealthy: the failover
		// name, which answers with the healthy region. The record moves
		// with singletonsOwner: the new owner overwrites it (the old owner
		// may be gone, its record still in Route 53), and the old owner
		// forgets it without deleting it (its next run would otherwise
		// delete the record the new owner now serves).
		if err := cname("geo-default", a.GlobalName(), "default", false, pulumi.String(a.FailoverName()), func(ra *route53.RecordArgs) {
			ra.GeolocationRoutingPolicies = route53.RecordGeolocationRoutingPolicyArray{
				route53.RecordGeolocationRoutingPolicyArgs{Country: pulumi.String("*")}}
			ra.AllowOverwrite = pulumi.Bool(true)
		}, pulumi.RetainOnDelete(true)); err != nil {
			return nil, err
		}
	}
	// The failover name is weighted, not Route 53 failover routing: each
	// stack owns its region's record, and Route 53 refuses a second PRIMARY
	// (or SECONDARY) record of a name, so flipping dnsPrimary with two
	// stacks (two updates, in either order) would fail half-way. A weight
	// of 0 is answered only while every record of weight > 0 is unhealthy:
	// the same active/standby answer, and a flip is one in-place update per
	// stack, valid in any order and from the survivor alone.
	weight := StandbyWeight
	if a.DNSPrimary == a.Region {
		weight = PrimaryWeight
	}
	if err := cname("failover", a.FailoverName(), a.Region, true, lb, func(ra *route53.RecordArgs) {
		ra.WeightedRoutingPolicies = route53.RecordWeightedRoutingPolicyArray{route53.RecordWeightedRoutingPolicyArgs{Weight: pulumi.Int(weight)}}
	}, owned...); err != nil {
		return nil, err
	}
	if err := cname("latency", a.LatencyName(), a.Region, true, lb, func(ra *route53.RecordArgs) {
		ra.LatencyRoutingPolicies = route53.RecordLatencyRoutingPolicyArray{route53.RecordLatencyRoutingPolicyArgs{Region: pulumi.String(a.AwsRegion)}}
	}, owned...); err != nil {
		return nil, err
	}
	if err := cname("weighted", a.WeightedName(), a.Region, true, lb, func(ra *route53.RecordArgs) {
		ra.WeightedRoutingPolicies = route53.RecordWeightedRoutingPolicyArray{route53.RecordWeightedRoutingPolicyArgs{Weight: pulumi.Int(a.Weights[a.Region])}}
	}, owned...); err != nil {
		return nil, err
	}
	return hc, nil
}

// newAlarms: a CloudWatch alarm on the health check's status, in us-east-1
// where Route 53 publishes it, notifying the subscribers through SNS there.
// The topic is not KMS-encrypted: CloudWatch cannot publish to a topic
// under the AWS-managed SNS key, and the alarm carries no secret.
func (e *Edge) newAlarms(ctx *pulumi.Context, name string, a Args, hc *route53.HealthCheck, opts ...pulumi.ResourceOption) error {
	metrics, err := aws.NewProvider(ctx, name+"-route53-metrics", &aws.ProviderArgs{Region: pulumi.String(MetricsRegion)}, opts...)
	if err != nil {
		return err
	}
	in := append(opts, pulumi.Provider(metrics))
	topic, err := sns.NewTopic(ctx, name+"-health-alarms", &sns.TopicArgs{
		Name: pulumi.String("tars-api-health-" + a.Region),
		Tags: pulumi.ToStringMap(a.Tags),
	}, in...)
	if err != nil {
		return err
	}
	for i, s := range a.AlarmSubscribers {
		if _, err := sns.NewTopicSubscription(ctx, fmt.Sprintf("%s-health-alarms-%s-%d", name, s.Protocol, i), &sns.TopicSubscriptionArgs{
			Topic: topic.Arn, Protocol: pulumi.String(s.Protocol), Endpoint: pulumi.String(s.Endpoint),
		}, in...); err != nil {
			return err
		}
	}
	_, err = cloudwatch.NewMetricAlarm(ctx, name+"-health", &cloudwatch.MetricAlarmArgs{
		Name:               pulumi.String("tars-api-" + a.Region + "-unhealthy"),
		AlarmDescription:   pulumi.Sprintf("Route 53 health check of %s (HTTPS %s) reports the region's API down", a.RegionName(a.Region), a.HealthCheck.Path),
		Namespace:          pulumi.String("AWS/Route53"),
		MetricName:         pulumi.String("HealthCheckStatus"),
		Dimensions:         pulumi.StringMap{"HealthCheckId": hc.ID()},
		Statistic:          pulumi.String("Minimum"),
		Period:             pulumi.Int(60),
		EvaluationPeriods:  pulumi.Int(1),
		Threshold:          pulumi.Float64(1),
		ComparisonOperator: pulumi.String("LessThanThreshold"),
		// No data from the checkers is no evidence of health.
		TreatMissingData: pulumi.String("breaching"),
		AlarmActions:     pulumi.Array{topic.Arn},
		OkActions:        pulumi.Array{topic.Arn},
		Tags:             pulumi.ToStringMap(a.Tags),
	}, in...)
	return err
}

func withName(tags map[string]string, n string) map[string]string {
	out := map[string]string{"Name": n}
	for k, v := range tags {
		out[k] = v
	}
	return out
}
