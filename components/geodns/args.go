package geodns

import (
	"fmt"
	"github.com/tars-platform/infra/internal/keep"
	"maps"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/internal/check"
	"github.com/tars-platform/infra/slo"
)

// Defaults: seed 003 "GeoDNS Configuration".
const (
	DefaultAPIName = "api"
	// DefaultTTLSeconds: what resolvers may cache a region's answer for.
	// With the health checks' 30 s detection it keeps the worst case at
	// 40 s, inside the 50 s target (an alias to the load balancer would be
	// cached 60 s: the records are CNAMEs to it instead).
	DefaultTTLSeconds = 10
	// Health checks: "HTTPS /health every 10 s, timeout 5 s, 3 failures"
	// (Route 53's HTTPS checks time out after 4 s, below the seed's 5 s).
	DefaultHealthPath       = "/health"
	DefaultIntervalSeconds  = 10
	DefaultFailureThreshold = 3
	// Cloudflare's monitor: every 15 s, down after 2 consecutive failures.
	DefaultCloudflareIntervalSeconds = 15
	DefaultCloudflareConsecutiveDown = 2
	DefaultCloudflareTimeoutSeconds  = 5
)

// DefaultCheckerRegions: Route 53 needs at least three checker regions;
// these are the ones nearest the two regions.
var DefaultCheckerRegions = []string{"us-east-1", "us-west-1", "us-west-2"}

// checkerRegions are the regions Route 53 runs health checkers in.
var checkerRegions = []string{"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1"}

// USStates are the subdivisions Route 53 geolocation accepts for the US:
// the 50 states and DC (USPS codes).
var USStates = []string{
	"AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL", "IN", "KS", "KY", "LA",
	"MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE", "NH", "NJ", "NM", "NV", "NY", "OH", "OK",
	"OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA", "WI", "WV", "WY",
}

// Args configures the region's public edge and its DNS. Fields with json
// tags are exactly the stack config object tars:dns; both stack files
// carry the same object (each stack reads its own region's entries).
type Args struct {
	// Zone is the existing public hosted zone, looked up by name. Required.
	Zone string `json:"zone"`
	// APIName is the API's label: the global name is <apiName>.<zone>,
	// the region's own <apiName>.<region>.<zone>. Default "api".
	APIName string `json:"apiName,omitempty"`
	// Backend is the Service the public load balancer sends traffic to.
	Backend Backend `json:"backend"`
	// Geolocation maps each region to the US states (USPS codes) whose
	// resolvers get it. A state may be in one region only; states in
	// neither, and the rest of the world, get the default record.
	Geolocation map[string][]string `json:"geolocation"`
	// Weights are the weighted (beta) records' weights per region; they
	// must sum to 100. Seed: 80 east / 20 west.
	Weights map[string]int `json:"weights"`
	// TTLSeconds of the region's records. The worst-case failover
	// (interval × failureThreshold + TTL) must stay within 50 s. Default 10.
	TTLSeconds int `json:"ttlSeconds,omitempty"`
	// HealthCheck is the Route 53 health check of the region's endpoint.
	HealthCheck HealthCheck `json:"healthCheck"`
	// AlarmSubscribers receive the health-check alarms (SNS in us-east-1).
	AlarmSubscribers []Subscriber `json:"alarmSubscribers"`
	// Cloudflare, when enabled, adds a monitor and a pool per region and
	// one proxied load balancer owned by the singletons owner.
	Cloudflare Cloudflare `json:"cloudflare"`

	// Region, PeerRegion, DNSPrimary and SingletonsOwner come from
	// tars:topology; AwsRegion is the stack's. Required.
	Region          string `json:"-"`
	PeerRegion      string `json:"-"`
	DNSPrimary      string `json:"-"`
	SingletonsOwner string `json:"-"`
	AwsRegion       string `json:"-"`
	// CloudflareAPIToken is the Cloudflare API token (a Pulumi secret),
	// required when Cloudflare is enabled.
	CloudflareAPIToken pulumi.StringInput `json:"-"`
	// PeerPool is the peer region's Cloudflare pool ID (its stack output);
	// the singletons owner needs it for the load balancer.
	PeerPool string `json:"-"`
	// DependsOn: what provisions the load balancer (the AWS Load Balancer
	// Controller's release). Required.
	DependsOn []pulumi.Resource `json:"-"`
	// Tags go on the AWS resources.
	Tags map[string]string `json:"-"`
	// Keep protects the records this stack owns for good (its region's
	// names, not the singletons, which move with singletonsOwner).
	Keep keep.Keep `json:"-"`
}

// Backend names the API Service.
type Backend struct {
	Namespace string `json:"namespace"`
	Service   string `json:"service"`
	Port      int    `json:"port"`
}

// HealthCheck is the Route 53 health check.
type HealthCheck struct {
	// Path of the HTTPS check. Default /health.
	Path string `json:"path,omitempty"`
	// IntervalSeconds: 10 or 30 (Route 53's choices). Default 10.
	IntervalSeconds int `json:"intervalSeconds,omitempty"`
	// FailureThreshold: consecutive failures before unhealthy (1–10). Default 3.
	FailureThreshold int `json:"failureThreshold,omitempty"`
	// Regions the checkers run in, at least 3. Default us-east-1, us-west-1, us-west-2.
	Regions []string `json:"regions,omitempty"`
}

// Subscriber is an SNS subscription of the health-check alarms.
type Subscriber struct {
	// Protocol: email or https.
	Protocol string `json:"protocol"`
	Endpoint string `json:"endpoint"`
}

// Cloudflare is the optional Cloudflare load balancer.
type Cloudflare struct {
	Enabled bool `json:"enabled,omitempty"`
	// AccountID and ZoneID of the Cloudflare account and zone. Required when enabled.
	AccountID string `json:"accountId,omitempty"`
	ZoneID    string `json:"zoneId,omitempty"`
	// Hostname the load balancer answers, in the Cloudflare zone. Required when enabled.
	Hostname string `json:"hostname,omitempty"`
	// IntervalSeconds and ConsecutiveDown of the monitor: worst case
	// interval × consecutiveDown. Defaults 15 and 2.
	IntervalSeconds int `json:"intervalSeconds,omitempty"`
	ConsecutiveDown int `json:"consecutiveDown,omitempty"`
}

// WithDefaults fills zero fields.
func (a Args) WithDefaults() Args {
	check.Default(&a.APIName, DefaultAPIName)
	check.Default(&a.TTLSeconds, DefaultTTLSeconds)
	h := &a.HealthCheck
	check.Default(&h.Path, DefaultHealthPath)
	check.Default(&h.IntervalSeconds, DefaultIntervalSeconds)
	check.Default(&h.FailureThreshold, DefaultFailureThreshold)
	if len(h.Regions) == 0 {
		h.Regions = slices.Clone(DefaultCheckerRegions)
	}
	check.Default(&a.Cloudflare.IntervalSeconds, DefaultCloudflareIntervalSeconds)
	check.Default(&a.Cloudflare.ConsecutiveDown, DefaultCloudflareConsecutiveDown)
	return a
}

// ValidateConfig checks what the stack config decides.
func (a Args) ValidateConfig() error {
	var p check.Problems
	if !hostname(a.Zone) {
		p.Addf("zone", "(%q) must be the hosted zone's name, like tars.example.com", a.Zone)
	}
	if !check.DNSLabel(a.APIName, 63) {
		p.Addf("apiName", "(%q) must be a DNS label", a.APIName)
	}
	if !check.DNSLabel(a.Backend.Namespace, 63) || !check.DNSLabel(a.Backend.Service, 63) || a.Backend.Port < 1 || a.Backend.Port > 65535 {
		p.Addf("backend", "(%+v) must name the API Service: namespace, service and port", a.Backend)
	}
	regions := []string{a.Region, a.PeerRegion}
	owner := map[string]string{}
	for _, r := range slices.Sorted(maps.Keys(a.Geolocation)) {
		if !slices.Contains(regions, r) {
			p.Addf("geolocation."+r, "is not a region of this pair (%s, %s)", a.Region, a.PeerRegion)
			continue
		}
		for _, st := range a.Geolocation[r] {
			switch {
			case !slices.Contains(USStates, st):
				p.Addf("geolocation."+r, "has %q, which is not a US state code Route 53 knows (USPS codes such as NY)", st)
			case owner[st] != "" && owner[st] != r:
				p.Addf("geolocation."+r, "has %s, which geolocation.%s has too: a state goes to one region", st, owner[st])
			case owner[st] == r:
				p.Addf("geolocation."+r, "lists %s twice", st)
			default:
				owner[st] = r
			}
		}
	}
	for _, r := range regions {
		if len(a.Geolocation[r]) == 0 {
			p.Addf("geolocation."+r, "must list the US states routed to %s", r)
		}
	}
	sum := 0
	for _, r := range slices.Sorted(maps.Keys(a.Weights)) {
		if !slices.Contains(regions, r) {
			p.Addf("weights."+r, "is not a region of this pair (%s, %s)", a.Region, a.PeerRegion)
		}
		if a.Weights[r] < 0 || a.Weights[r] > 100 {
			p.Addf("weights."+r, "(%d) must be between 0 and 100", a.Weights[r])
		}
		sum += a.Weights[r]
	}
	if sum != 100 {
		p.Addf("weights", "(%v) sum to %d; they must sum to 100", a.Weights, sum)
	}
	h := a.HealthCheck
	if !strings.HasPrefix(h.Path, "/") {
		p.Addf("healthCheck.path", "(%q) must start with /", h.Path)
	}
	if h.IntervalSeconds != 10 && h.IntervalSeconds != 30 {
		p.Addf("healthCheck.intervalSeconds", "(%d) must be 10 or 30 (Route 53's request intervals)", h.IntervalSeconds)
	}
	if h.FailureThreshold < 1 || h.FailureThreshold > 10 {
		p.Addf("healthCheck.failureThreshold", "(%d) must be between 1 and 10", h.FailureThreshold)
	}
	if len(h.Regions) < 3 {
		p.Addf("healthCheck.regions", "(%v) must name at least 3 checker regions", h.Regions)
	}
	for _, r := range h.Regions {
		if !slices.Contains(checkerRegions, r) {
			p.Addf("healthCheck.regions", "has %q, not a Route 53 checker region (%s)", r, strings.Join(checkerRegions, ", "))
		}
	}
	if d := a.Detection(); d > slo.FailoverDetectionSLA {
		p.Addf("healthCheck", "detects a dead region in up to %s (interval %d s × %d failures), over the seed's %s", d, h.IntervalSeconds, h.FailureThreshold, slo.FailoverDetectionSLA)
	}
	if a.TTLSeconds < 1 {
		p.Addf("ttlSeconds", "(%d) must be at least 1", a.TTLSeconds)
	} else if w := a.Route53WorstCase(); w > slo.FailoverTarget {
		p.Addf("ttlSeconds", "(%d) is too long: failover would take up to %s (detection %s + TTL %d s), over the %s target", a.TTLSeconds, w, a.Detection(), a.TTLSeconds, slo.FailoverTarget)
	}
	for i, s := range a.AlarmSubscribers {
		path := fmt.Sprintf("alarmSubscribers[%d]", i)
		switch s.Protocol {
		case "email":
			if _, err := mail.ParseAddress(s.Endpoint); err != nil {
				p.Addf(path+".endpoint", "(%q) is not an e-mail address", s.Endpoint)
			}
		case "https":
			if u, err := url.Parse(s.Endpoint); err != nil || u.Scheme != "https" || u.Host == "" {
				p.Addf(path+".endpoint", "(%q) is not an https URL", s.Endpoint)
			}
		default:
			p.Addf(path+".protocol", "(%q) must be email or https", s.Protocol)
		}
	}
	if len(a.AlarmSubscribers) == 0 {
		p.Addf("alarmSubscribers", "must name who is told when a health check fails")
	}
	if cf := a.Cloudflare; cf.Enabled {
		for _, r := range regions {
			if CloudflareRegions[r] == "" {
				p.Addf("cloudflare", "is enabled, but region %s has no Cloudflare steering region (geodns.CloudflareRegions)", r)
			}
		}
		if cf.AccountID == "" || cf.ZoneID == "" {
			p.Addf("cloudflare", "is enabled: accountId and zoneId are required")
		}
		if !hostname(cf.Hostname) {
			p.Addf("cloudflare.hostname", "(%q) must be the name the load balancer answers", cf.Hostname)
		}
		if cf.IntervalSeconds < 10 || cf.IntervalSeconds > 3600 {
			p.Addf("cloudflare.intervalSeconds", "(%d) must be between 10 and 3600", cf.IntervalSeconds)
		}
		if cf.ConsecutiveDown < 1 {
			p.Addf("cloudflare.consecutiveDown", "(%d) must be at least 1", cf.ConsecutiveDown)
		}
		if w := a.CloudflareWorstCase(); w > slo.FailoverTarget {
			p.Addf("cloudflare", "fails over in up to %s (interval %d s × %d), over the %s target", w, cf.IntervalSeconds, cf.ConsecutiveDown, slo.FailoverTarget)
		}
	}
	return p.Err()
}

// Validate checks everything, including what the stacks fill in.
func (a Args) Validate() error {
	var p check.Problems
	p.Merge("", a.ValidateConfig())
	if a.Cloudflare.Enabled && a.CloudflareAPIToken == nil {
		p.Addf("cloudflareApiToken", "is required when Cloudflare is enabled")
	}
	if len(a.DependsOn) == 0 {
		p.Addf("dependsOn", "must name what provisions the load balancer")
	}
	return p.Err()
}

// Detection is how long the health checkers take to declare the region down.
func (a Args) Detection() time.Duration {
	return time.Duration(a.HealthCheck.IntervalSeconds) * time.Second * time.Duration(a.HealthCheck.FailureThreshold)
}

// Route53WorstCase is the worst-case failover through Route 53.
func (a Args) Route53WorstCase() time.Duration {
	return slo.Route53FailoverWorstCase(time.Duration(a.HealthCheck.IntervalSeconds)*time.Second, a.HealthCheck.FailureThreshold, time.Duration(a.TTLSeconds)*time.Second)
}

// CloudflareWorstCase is the worst-case failover through Cloudflare.
func (a Args) CloudflareWorstCase() time.Duration {
	return slo.CloudflareFailoverWorstCase(time.Duration(a.Cloudflare.IntervalSeconds)*time.Second, a.Cloudflare.ConsecutiveDown)
}

// Names.
func (a Args) GlobalName() string              { return a.APIName + "." + a.Zone }
func (a Args) FailoverName() string            { return a.APIName + "-failover." + a.Zone }
func (a Args) LatencyName() string             { return a.APIName + "-latency." + a.Zone }
func (a Args) WeightedName() string            { return a.APIName + "-beta." + a.Zone }
func (a Args) RegionName(region string) string { return a.APIName + "." + region + "." + a.Zone }

// GlobalNames are the names every region serves (its certificate covers them).
func (a Args) GlobalNames() []string {
	return []string{a.GlobalName(), a.FailoverName(), a.LatencyName(), a.WeightedName()}
}

// OwnsSingletons reports whether this stack owns the default record and the Cloudflare load balancer.
func (a Args) OwnsSingletons() bool { return a.SingletonsOwner == a.Region }

func hostname(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) < 2 || len(s) > 253 {
		return false
	}
	for _, l := range labels {
		if !check.DNSLabel(l, 63) {
			return false
		}
	}
	return true
}
