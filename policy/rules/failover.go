package rules

import (
	"fmt"
	"slices"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/tars-platform/infra/slo"
)

// The GeoDNS failover time (seed 003: failover < 90 s, detection < 30 s),
// computed from the stack's own health checks, records and monitors.

const (
	typeCloudflareMonitor = "cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor"
	// ProviderRoute53 and ProviderCloudflare name the failover paths.
	ProviderRoute53    = "route53"
	ProviderCloudflare = "cloudflare"
)

// FailoverPath is how long one answer can keep clients on a dead region:
// until the checks declare it down (Detection), plus what resolvers may
// still serve from cache (Cache).
type FailoverPath struct {
	Provider  string
	URN, Name string
	Detection time.Duration
	Cache     time.Duration
	// How spells the computation out.
	How string
}

// Total is the worst case of the path.
func (p FailoverPath) Total() time.Duration { return p.Detection + p.Cache }

// FailoverPaths returns every health-checked Route 53 record (request
// interval × failure threshold + the TTL its answer is cached for: its own,
// or the load balancer's 60 s for an alias) and every Cloudflare monitor
// (interval × consecutive failures; the proxied answer is Cloudflare's own
// address, never stale).
func FailoverPaths(rs []policyx.AnalyzerResource) []FailoverPath {
	var out []FailoverPath
	for _, hc := range rs {
		switch hc.Type {
		case typeHealthCheck:
			interval, okI := num(hc.Properties, "requestInterval")
			threshold, okT := num(hc.Properties, "failureThreshold")
			if !okI || !okT {
				continue
			}
			for _, rec := range rs {
				if rec.Type != typeRecord || !slices.Contains(rec.PropertyDependencies["healthCheckId"], hc.URN) {
					continue
				}
				ttl, _ := num(rec.Properties, "ttl")
				cache := time.Duration(ttl) * time.Second
				how := fmt.Sprintf("request interval %v s × failure threshold %v + TTL %v s", interval, threshold, ttl)
				if len(mapList(rec.Properties, "aliases")) > 0 {
					cache = slo.LoadBalancerAliasTTL
					how = fmt.Sprintf("request interval %v s × failure threshold %v + the load balancer alias's %v", interval, threshold, slo.LoadBalancerAliasTTL)
				}
				name, _ := str(rec.Properties, "name")
				out = append(out, FailoverPath{Provider: ProviderRoute53, URN: rec.URN, Name: name,
					Detection: slo.Route53FailoverWorstCase(time.Duration(interval)*time.Second, int(threshold), 0), Cache: cache, How: how})
			}
		case typeCloudflareMonitor:
			interval, _ := num(hc.Properties, "interval")
			down, ok := num(hc.Properties, "consecutiveDown")
			if !ok {
				down = 1
			}
			out = append(out, FailoverPath{Provider: ProviderCloudflare, URN: hc.URN, Name: hc.Name,
				Detection: slo.CloudflareFailoverWorstCase(time.Duration(interval)*time.Second, int(down)),
				How:       fmt.Sprintf("monitor interval %v s × %v consecutive failures, proxied", interval, down)})
		}
	}
	return out
}

// failoverBudget fails every path whose detection exceeds the seed's 30 s
// or whose worst case exceeds its 90 s.
func failoverBudget(rs []policyx.AnalyzerResource) []finding {
	var out []finding
	for _, hc := range rs {
		if hc.Type != typeHealthCheck {
			continue
		}
		_, okI := num(hc.Properties, "requestInterval")
		_, okT := num(hc.Properties, "failureThreshold")
		if !okI || !okT {
			out = append(out, finding{hc.URN, "health check must set requestInterval and failureThreshold"})
		}
	}
	for _, p := range FailoverPaths(rs) {
		if p.Detection > slo.FailoverDetectionSLA {
			out = append(out, finding{p.URN, fmt.Sprintf("%s %s: a dead region is detected after up to %v s (%s), over the %v s detection SLA",
				p.Provider, p.Name, p.Detection.Seconds(), p.How, slo.FailoverDetectionSLA.Seconds())})
		}
		if p.Total() > slo.FailoverBudget {
			out = append(out, finding{p.URN, fmt.Sprintf("failover takes up to %v s (%s), over the %v s budget",
				p.Total().Seconds(), p.How, slo.FailoverBudget.Seconds())})
		}
	}
	return out
}
