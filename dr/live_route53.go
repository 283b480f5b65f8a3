package dr

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// route53Region is where the AWS SDK sends Route 53's global API.
const route53Region = "us-east-1"

// route53Client returns the (one, cached) Route 53 client.
func (l *Live) route53Client(ctx context.Context) (*route53.Client, error) {
	l.r53mu.Lock()
	defer l.r53mu.Unlock()
	if l.r53 != nil {
		return l.r53, nil
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(route53Region)}
	if l.awsCreds != nil {
		opts = append(opts, config.WithCredentialsProvider(l.awsCreds))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("route 53: AWS configuration: %w", err)
	}
	l.r53 = route53.NewFromConfig(cfg, func(o *route53.Options) {
		if l.r53Endpoint != "" {
			o.BaseEndpoint = aws.String(l.r53Endpoint)
		}
	})
	return l.r53, nil
}

// Route53Healthy is Route 53's verdict on an endpoint from its checkers'
// reports: "If more than 18% of health checkers report that an endpoint is
// healthy, Route 53 considers it healthy. If 18% of health checkers or
// fewer report that an endpoint is healthy, Route 53 considers it
// unhealthy." (Amazon Route 53 Developer Guide, "How Amazon Route 53
// determines whether a health check is healthy",
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html).
// A checker reports healthy when its StatusReport.Status starts with
// "Success" (e.g. "Success: HTTP Status Code 200, OK"; a failing one
// starts with "Failure"). No reports at all is unhealthy.
func Route53Healthy(statuses []string) bool {
	healthy := 0
	for _, s := range statuses {
		if strings.HasPrefix(strings.TrimSpace(s), "Success") {
			healthy++
		}
	}
	// healthy/total > 18%, in integers.
	return len(statuses) > 0 && healthy*100 > 18*len(statuses)
}

// DNS reads the region's Route 53 health check (GetHealthCheckStatus:
// each checker's latest observation) and the weight of the region's
// record of the failover name (set identifier: the region).
func (l *Live) DNS(ctx context.Context, region string) (DNS, error) {
	out, err := l.regionOutputs(ctx, region)
	if err != nil {
		return DNS{}, err
	}
	d := DNS{HealthCheckID: out.HealthCheckID, Weight: -1}
	if out.HealthCheckID == "" && (out.DNSZoneID == "" || out.DNSFailoverName == "") {
		return d, nil // nothing of Route 53 deployed yet
	}
	c, err := l.route53Client(ctx)
	if err != nil {
		return DNS{}, fmt.Errorf("region %s: %w", region, err)
	}
	if out.HealthCheckID != "" {
		// The API is meant for diagnosis, not high query rates: dr asks
		// once per check, while it polls a step.
		res, err := c.GetHealthCheckStatus(ctx, &route53.GetHealthCheckStatusInput{HealthCheckId: aws.String(out.HealthCheckID)})
		if err != nil {
			return DNS{}, liveErr(fmt.Sprintf("region %s: Route 53 health check %s status", region, out.HealthCheckID), err)
		}
		statuses := make([]string, 0, len(res.HealthCheckObservations))
		for _, o := range res.HealthCheckObservations {
			if o.StatusReport != nil {
				statuses = append(statuses, aws.ToString(o.StatusReport.Status))
			} else {
				statuses = append(statuses, "")
			}
		}
		d.Healthy = Route53Healthy(statuses)
	}
	if out.DNSZoneID != "" && out.DNSFailoverName != "" {
		w, err := l.recordWeight(ctx, c, out.DNSZoneID, out.DNSFailoverName, region)
		if err != nil {
			return DNS{}, err
		}
		d.Weight = w
	}
	return d, nil
}

// route53Name is a record name as compared: no trailing dot, lower case
// (Route 53 answers names fully qualified, in lower case).
func route53Name(n string) string {
	return strings.ToLower(strings.TrimSuffix(n, "."))
}

// recordWeight lists the zone's record sets from the failover name's
// CNAME records on and returns the weight of the one whose set identifier
// is the region: -1 when there is none, or it has no weight.
func (l *Live) recordWeight(ctx context.Context, c *route53.Client, zoneID, name, region string) (int64, error) {
	want := route53Name(name)
	in := &route53.ListResourceRecordSetsInput{
		HostedZoneId:    aws.String(zoneID),
		StartRecordName: aws.String(name),
		StartRecordType: types.RRTypeCname,
	}
	// The name has two weighted records, one per region: the first page
	// (up to 300 record sets) holds them; a few more pages are followed
	// only while they still list this name.
	for page := 0; page < 10; page++ {
		res, err := c.ListResourceRecordSets(ctx, in)
		if err != nil {
			return 0, liveErr(fmt.Sprintf("region %s: Route 53 record sets of %s in zone %s", region, name, zoneID), err)
		}
		for _, rr := range res.ResourceRecordSets {
			if route53Name(aws.ToString(rr.Name)) != want {
				continue
			}
			if aws.ToString(rr.SetIdentifier) == region {
				if rr.Weight == nil {
					return -1, nil
				}
				return *rr.Weight, nil
			}
		}
		if !res.IsTruncated || route53Name(aws.ToString(res.NextRecordName)) != want {
			break
		}
		in.StartRecordName = res.NextRecordName
		in.StartRecordType = res.NextRecordType
		in.StartRecordIdentifier = res.NextRecordIdentifier
	}
	return -1, nil
}
