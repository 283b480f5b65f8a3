package verify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tars-platform/infra/components/geodns"
)

// What Route 53 holds for each region (components/geodns newRecords): an
// HTTPS health check of the region's own name, and the region's record of
// the failover name (stack output dnsFailoverName, set identifier: the
// region), a weighted CNAME to the region's load balancer (stack output
// apiEndpoint) carrying the health check, weight 100 for the DNS primary
// (tars:topology.dnsPrimary) and 0 for the other. A weight-0 record is
// answered only while every record of weight > 0 is unhealthy: Route 53's
// failover to the standby.

// Route53Health: the region's Route 53 health check is healthy and its
// record of the failover name has the weight its role calls for.
func Route53Health() Check {
	return Check{
		ID:       "route53-health",
		Expected: "the region's Route 53 health check is healthy and its failover record has its role's weight",
		Scope:    PerRegion,
		Timeout:  30 * time.Second,
		Run:      runRoute53Health,
	}
}

// dnsWeight is the weight of a region's failover record, 100 for the DNS
// primary and 0 for the standby, and the region's role.
func dnsWeight(env *Env, region string) (int64, string) {
	if region == env.DNSPrimary {
		return geodns.PrimaryWeight, "the DNS primary"
	}
	return geodns.StandbyWeight, "the standby (the DNS primary is " + env.DNSPrimary + ")"
}

func runRoute53Health(ctx context.Context, env *Env, region string) (Outcome, error) {
	r, err := env.Region(region)
	if err != nil {
		return Outcome{}, err
	}
	if env.Route53 == nil {
		return Outcome{}, fmt.Errorf("region %s: no Route 53 client to read the health check with", region)
	}
	if env.DNSPrimary == "" {
		return Outcome{}, fmt.Errorf("region %s: the DNS primary is not known (the stacks' topology output)", region)
	}
	name := r.Outputs.DNSFailoverName
	if name == "" {
		name = "the failover name"
	}
	want, role := dnsWeight(env, region)
	out := Outcome{Expected: fmt.Sprintf("health check healthy; %s's record of %s has weight %d, as %s", region, name, want, role)}
	d, err := env.Route53.DNS(ctx, region)
	if err != nil {
		return out, fmt.Errorf("read region %s's Route 53 health check and record of %s: %w", region, name, err)
	}
	check := "no health check"
	switch {
	case d.HealthCheckID == "":
		out = out.Failf("%s has no Route 53 health check (its stack exports no healthCheckId): nothing fails the name over", region)
	case !d.Healthy:
		check = "health check " + d.HealthCheckID + " unhealthy"
		out = out.Failf("Route 53 health check %s of %s is unhealthy (18%% or fewer of its checkers report success)", d.HealthCheckID, region)
	default:
		check = "health check " + d.HealthCheckID + " healthy"
	}
	weight := "no record"
	switch {
	case d.Weight < 0:
		out = out.Failf("%s has no weighted record of %s (set identifier %q)", region, name, region)
	case d.Weight != want:
		weight = fmt.Sprintf("weight %d", d.Weight)
		out = out.Failf("%s's record of %s has weight %d; as %s it must have %d", region, name, d.Weight, role, want)
	default:
		weight = fmt.Sprintf("weight %d", d.Weight)
	}
	out.Observed = check + ", " + weight
	return out, nil
}

// GlobalName: the failover name resolves to the DNS primary's load
// balancer and the primary's health check is healthy.
//
// The name resolved is the failover name (dnsFailoverName,
// api-failover.<zone>), not api.<zone> itself: api.<zone> is
// geolocation-routed (each state of a region to that region's load
// balancer, everyone else to the failover name), so what it answers
// depends on where the resolver is; the failover name is what it
// falls back to, and the answer Route 53's health checks steer.
func GlobalName() Check {
	return Check{
		ID:       "global-name",
		Expected: "the failover name resolves to the DNS primary's load balancer, whose health check is healthy",
		Scope:    CrossRegion,
		Timeout:  45 * time.Second,
		Run:      runGlobalName,
	}
}

// dnsTarget is a region's endpoint as the name may answer it.
type dnsTarget struct{ region, host string }

func runGlobalName(ctx context.Context, env *Env, _ string) (Outcome, error) {
	primary := env.DNSPrimary
	if primary == "" {
		return Outcome{}, fmt.Errorf("the DNS primary is not known (the stacks' topology output)")
	}
	pr, err := env.Region(primary)
	if err != nil {
		return Outcome{}, fmt.Errorf("the DNS primary: %w", err)
	}
	if env.Route53 == nil {
		return Outcome{}, fmt.Errorf("no Route 53 client to read the health checks with")
	}
	res := env.Resolver
	if res == nil {
		res = net.DefaultResolver
	}
	name := dnsName(pr.Outputs.DNSFailoverName)
	endpoint := dnsName(pr.Outputs.APIEndpoint)
	if name == "" || endpoint == "" {
		return Outcome{}, fmt.Errorf("%s's stack exports no dnsFailoverName or apiEndpoint: is the edge deployed?", primary)
	}
	out := Outcome{Expected: fmt.Sprintf("%s resolves to %s's endpoint %s, and %s's health check is healthy", name, primary, endpoint, primary)}

	// The regions' endpoints, the primary's first.
	targets := []dnsTarget{{region: primary, host: endpoint}}
	for _, n := range dnsOtherRegions(env, primary) {
		if o, err := env.Region(n); err == nil && o.Outputs.APIEndpoint != "" {
			targets = append(targets, dnsTarget{region: n, host: dnsName(o.Outputs.APIEndpoint)})
		}
	}

	// Fully qualified: no search domain of the local resolv.conf applies.
	cname, err := res.LookupCNAME(ctx, name+".")
	if err != nil {
		if dnsGaveUp(ctx, err) {
			return out, fmt.Errorf("resolve %s: %w", name, err)
		}
		out.Observed = name + " does not resolve"
		return out.Failf("%s does not resolve: %v", name, err), nil
	}
	addrs, err := res.LookupHost(ctx, name+".")
	if err != nil {
		if dnsGaveUp(ctx, err) {
			return out, fmt.Errorf("resolve %s: %w", name, err)
		}
		out.Observed = name + " has no address"
		return out.Failf("%s (CNAME %s) has no address: %v", name, dnsName(cname), err), nil
	}
	sort.Strings(addrs)
	cname = dnsName(cname)

	// Which region it answers: the CNAME target is a load balancer's
	// host name, or else an address of one (an ALB's answers rotate
	// among its nodes, so a shared address, not the same set, is the
	// same load balancer).
	answered := -1
	for i := range targets {
		if cname == targets[i].host {
			answered = i
			break
		}
	}
	if answered < 0 {
		for i := range targets {
			a, err := res.LookupHost(ctx, targets[i].host+".")
			if err != nil && dnsGaveUp(ctx, err) {
				return out, fmt.Errorf("resolve %s's endpoint %s: %w", targets[i].region, targets[i].host, err)
			}
			if dnsOverlap(addrs, a) {
				answered = i
				break
			}
		}
	}
	answer := fmt.Sprintf("%s → %s (%s)", name, cname, strings.Join(addrs, ", "))
	if cname == name {
		answer = fmt.Sprintf("%s → %s", name, strings.Join(addrs, ", "))
	}

	health := map[string]bool{}
	for _, t := range targets {
		d, err := env.Route53.DNS(ctx, t.region)
		if err != nil {
			return out, fmt.Errorf("read %s's Route 53 health check: %w", t.region, err)
		}
		health[t.region] = d.Healthy
	}

	switch {
	case answered == 0 && health[primary]:
		out.Observed = fmt.Sprintf("%s: %s's endpoint, health check healthy", answer, primary)
	case answered == 0:
		out.Observed = fmt.Sprintf("%s: %s's endpoint, health check unhealthy", answer, primary)
		out = out.Failf("%s's Route 53 health check is unhealthy; %s still answers its endpoint %s (no healthy region to fail over to)", primary, name, endpoint)
	case answered > 0 && !health[primary] && health[targets[answered].region]:
		other := targets[answered].region
		out.Observed = fmt.Sprintf("%s: %s's endpoint, failover in effect", answer, other)
		out = out.Failf("%s unhealthy; the global name answers %s's endpoint: failover in effect (%s answers %s instead of %s)", primary, other, name, targets[answered].host, endpoint)
	case answered > 0:
		other := targets[answered].region
		out.Observed = fmt.Sprintf("%s: %s's endpoint, not the DNS primary %s's", answer, other, primary)
		state := "healthy"
		if !health[primary] {
			state = "unhealthy"
		}
		out = out.Failf("%s answers %s's endpoint %s, but the DNS primary is %s (%s, endpoint %s): check the records' weights (route53-health)", name, other, targets[answered].host, primary, state, endpoint)
	default:
		var known []string
		for _, t := range targets {
			known = append(known, fmt.Sprintf("%s's %s", t.region, t.host))
		}
		out.Observed = answer + ": no region's endpoint"
		out = out.Failf("%s answers %s (%s), which is not %s", name, cname, strings.Join(addrs, ", "), strings.Join(known, " nor "))
		if !health[primary] {
			out = out.Failf("%s's Route 53 health check is unhealthy", primary)
		}
	}
	return out, nil
}

// dnsOtherRegions are the regions of the run and the peers other than the
// primary, sorted.
func dnsOtherRegions(env *Env, primary string) []string {
	var names []string
	for _, m := range []map[string]*Region{env.Regions, env.Peers} {
		for n := range m {
			if n != primary && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	return names
}

// dnsName is a host name as compared: lower case, no trailing dot.
func dnsName(s string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
}

func dnsOverlap(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// dnsGaveUp: the lookup ran out of time (the check's context, or the
// resolver's own deadline derived from it, which can fire a moment
// before the context reports it) rather than getting an answer.
func dnsGaveUp(ctx context.Context, err error) bool {
	var de *net.DNSError
	return ctx.Err() != nil || errors.As(err, &de) && de.IsTimeout
}
