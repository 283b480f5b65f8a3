package tests

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/dr"
	"github.com/tars-platform/infra/verify"
	"golang.org/x/net/dns/dnsmessage"
)

// dnsFakeRoute53 is Route 53 as dr.Live reads it, per region.
type dnsFakeRoute53 struct {
	dns  map[string]dr.DNS
	errs map[string]error
}

func (f dnsFakeRoute53) DNS(_ context.Context, region string) (dr.DNS, error) {
	if err := f.errs[region]; err != nil {
		return dr.DNS{}, err
	}
	d, ok := f.dns[region]
	if !ok {
		return dr.DNS{Weight: -1}, nil
	}
	return d, nil
}

// dnsZone is what the loopback DNS server answers: CNAMEs and A records
// by fully qualified, lower-case name. The end-to-end test repoints it
// while its server runs.
type dnsZone struct {
	mu    sync.Mutex
	cname map[string]string
	a     map[string][]string
	// rotate answers one address of a name per query, round robin, as
	// a load balancer's answers change from one query to the next.
	rotate  bool
	queries int
}

// dnsFQDN is s fully qualified and in lower case, as the zone keys names.
func dnsFQDN(s string) string { return strings.ToLower(strings.TrimSuffix(s, ".")) + "." }

// point makes name a CNAME to target.
func (z *dnsZone) point(name, target string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.cname[dnsFQDN(name)] = dnsFQDN(target)
}

// dnsServe runs a DNS server on 127.0.0.1 (UDP, a random port) answering
// from zone in the wire format (RFC 1035, golang.org/x/net/dns/dnsmessage)
// the way a recursive resolver answers a stub: the CNAME chain followed by
// the records of the type asked for at its end; NXDOMAIN for a name it
// does not know, an empty answer (NODATA) for a type the name lacks. It
// returns a resolver that asks it and nothing else.
func dnsServe(t *testing.T, zone *dnsZone) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp, ok := zone.answer(buf[:n]); ok {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	t.Cleanup(func() { _ = pc.Close(); wg.Wait() })
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

func (z *dnsZone) answer(query []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	name := strings.ToLower(q.Name.String())
	_, isCNAME := z.cname[name]
	_, isA := z.a[name]
	rcode := dnsmessage.RCodeSuccess
	if !isCNAME && !isA {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true,
		RecursionDesired: h.RecursionDesired, RecursionAvailable: true, RCode: rcode})
	b.EnableCompression()
	_ = b.StartQuestions()
	_ = b.Question(q)
	_ = b.StartAnswers()
	rh := func(n string, typ dnsmessage.Type) dnsmessage.ResourceHeader {
		return dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(n), Type: typ, Class: dnsmessage.ClassINET, TTL: 10}
	}
	cur := name
	for range 8 {
		target, ok := z.cname[cur]
		if !ok {
			break
		}
		_ = b.CNAMEResource(rh(cur, dnsmessage.TypeCNAME), dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(target)})
		cur = target
		if q.Type == dnsmessage.TypeCNAME {
			break
		}
	}
	if q.Type == dnsmessage.TypeA {
		ips := z.a[cur]
		if z.rotate && len(ips) > 0 {
			ips = ips[z.queries%len(ips) : z.queries%len(ips)+1]
			z.queries++
		}
		for _, ip := range ips {
			_ = b.AResource(rh(cur, dnsmessage.TypeA), dnsmessage.AResource{A: netip.MustParseAddr(ip).As4()})
		}
	}
	resp, err := b.Finish()
	return resp, err == nil
}

const (
	dnsFailover = "api-failover.tars.example.com"
	dnsEastLB   = "k8s-tars-tarsapip-5f3a9c2e1d-1436512789.us-east-1.elb.amazonaws.com"
	dnsWestLB   = "k8s-tars-tarsapip-0b7d4e6f2a-2108473952.us-west-2.elb.amazonaws.com"
)

// dnsZoneTo is the zone with the failover name a CNAME to target, and
// both load balancers' addresses (an ALB answers one per zone it serves).
func dnsZoneTo(target string) *dnsZone {
	z := &dnsZone{cname: map[string]string{}, a: map[string][]string{
		dnsEastLB + ".": {"3.210.14.7", "44.195.2.101", "54.164.88.230"},
		dnsWestLB + ".": {"35.160.12.9", "44.231.77.15", "52.26.140.3"},
	}}
	if target != "" {
		z.cname[dnsFailover+"."] = target + "."
	}
	return z
}

// dnsEnv is a run of both regions, us-east the DNS primary.
func dnsEnv(r53 verify.Route53, res verify.Resolver) *verify.Env {
	region := func(name, lb string) *verify.Region {
		return &verify.Region{Name: name, Outputs: dr.Outputs{Region: name, HealthCheckID: "hc-" + name,
			DNSZoneID: "Z0123456789ABCDEFGHIJ", DNSFailoverName: dnsFailover, APIEndpoint: lb}}
	}
	return &verify.Env{RunID: "verify-test", DNSPrimary: "us-east", PostgresPrimary: "us-east", Route53: r53, Resolver: res,
		Regions: map[string]*verify.Region{"us-east": region("us-east", dnsEastLB), "us-west": region("us-west", dnsWestLB)}}
}

func dnsHealthy(east, west bool) dnsFakeRoute53 {
	return dnsFakeRoute53{dns: map[string]dr.DNS{
		"us-east": {HealthCheckID: "hc-us-east", Healthy: east, Weight: 100},
		"us-west": {HealthCheckID: "hc-us-west", Healthy: west, Weight: 0},
	}}
}

func dnsRun(t *testing.T, env *verify.Env, c verify.Check) []verify.Result {
	t.Helper()
	return verify.Run(context.Background(), env, []verify.Check{c}, nil).Results
}

func TestVerifyRoute53HealthPass(t *testing.T) {
	res := dnsRun(t, dnsEnv(dnsHealthy(true, true), nil), verify.Route53Health())
	require.Len(t, res, 2)
	assert.Equal(t, verify.Pass, res[0].Status, "%+v", res[0])
	assert.Equal(t, "us-east", res[0].Region)
	assert.Equal(t, "health check hc-us-east healthy, weight 100", res[0].Observed)
	assert.Equal(t, "health check healthy; us-east's record of api-failover.tars.example.com has weight 100, as the DNS primary", res[0].Expected)
	assert.Equal(t, verify.Pass, res[1].Status, "%+v", res[1])
	assert.Equal(t, "health check hc-us-west healthy, weight 0", res[1].Observed)
	assert.Equal(t, "health check healthy; us-west's record of api-failover.tars.example.com has weight 0, as the standby (the DNS primary is us-east)", res[1].Expected)
	c := verify.Route53Health()
	assert.Equal(t, verify.PerRegion, c.Scope)
	assert.GreaterOrEqual(t, c.Timeout.Seconds(), 30.0)
	assert.LessOrEqual(t, c.Timeout.Seconds(), 60.0)
}

func TestVerifyRoute53HealthFail(t *testing.T) {
	for _, tc := range []struct {
		name     string
		east     dr.DNS
		problems []string
	}{
		{"unhealthy", dr.DNS{HealthCheckID: "hc-us-east", Healthy: false, Weight: 100},
			[]string{"Route 53 health check hc-us-east of us-east is unhealthy (18% or fewer of its checkers report success)"}},
		{"no record", dr.DNS{HealthCheckID: "hc-us-east", Healthy: true, Weight: -1},
			[]string{`us-east has no weighted record of api-failover.tars.example.com (set identifier "us-east")`}},
		{"standby weight on the primary", dr.DNS{HealthCheckID: "hc-us-east", Healthy: true, Weight: 0},
			[]string{"us-east's record of api-failover.tars.example.com has weight 0; as the DNS primary it must have 100"}},
		{"no health check", dr.DNS{Weight: 100},
			[]string{"us-east has no Route 53 health check (its stack exports no healthCheckId): nothing fails the name over"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r53 := dnsHealthy(true, true)
			r53.dns["us-east"] = tc.east
			res := dnsRun(t, dnsEnv(r53, nil), verify.Route53Health())
			require.Len(t, res, 2)
			assert.Equal(t, verify.Fail, res[0].Status)
			assert.Equal(t, tc.problems, res[0].Problems)
			assert.Equal(t, verify.Pass, res[1].Status)
		})
	}
	// The standby with the primary's weight (a half-done flip).
	r53 := dnsHealthy(true, true)
	r53.dns["us-west"] = dr.DNS{HealthCheckID: "hc-us-west", Healthy: true, Weight: 100}
	res := dnsRun(t, dnsEnv(r53, nil), verify.Route53Health())
	assert.Equal(t, verify.Fail, res[1].Status)
	assert.Equal(t, []string{"us-west's record of api-failover.tars.example.com has weight 100; as the standby (the DNS primary is us-east) it must have 0"}, res[1].Problems)
	assert.Equal(t, "health check hc-us-west healthy, weight 100", res[1].Observed)
}

func TestVerifyRoute53HealthError(t *testing.T) {
	r53 := dnsHealthy(true, true)
	r53.errs = map[string]error{"us-west": errors.New("AccessDenied: not authorized to perform route53:GetHealthCheckStatus")}
	res := dnsRun(t, dnsEnv(r53, nil), verify.Route53Health())
	assert.Equal(t, verify.Pass, res[0].Status)
	assert.Equal(t, verify.Fail, res[1].Status)
	assert.Equal(t, "read region us-west's Route 53 health check and record of api-failover.tars.example.com: AccessDenied: not authorized to perform route53:GetHealthCheckStatus", res[1].Observed)
}

func TestVerifyGlobalNamePass(t *testing.T) {
	env := dnsEnv(dnsHealthy(true, true), dnsServe(t, dnsZoneTo(dnsEastLB)))
	res := dnsRun(t, env, verify.GlobalName())
	require.Len(t, res, 1)
	assert.Equal(t, verify.Pass, res[0].Status, "%+v", res[0])
	assert.Equal(t, "us-east+us-west", res[0].Region)
	assert.Equal(t, "api-failover.tars.example.com → "+dnsEastLB+" (3.210.14.7, 44.195.2.101, 54.164.88.230): us-east's endpoint, health check healthy", res[0].Observed)
	assert.Equal(t, "api-failover.tars.example.com resolves to us-east's endpoint "+dnsEastLB+", and us-east's health check is healthy", res[0].Expected)
	c := verify.GlobalName()
	assert.Equal(t, verify.CrossRegion, c.Scope)
	assert.GreaterOrEqual(t, c.Timeout.Seconds(), 30.0)
	assert.LessOrEqual(t, c.Timeout.Seconds(), 60.0)
}

func TestVerifyGlobalNameByAddress(t *testing.T) {
	// An alias A record: the name answers the load balancer's addresses
	// itself, no CNAME (one of them: answers rotate).
	z := dnsZoneTo("")
	z.a[dnsFailover+"."] = []string{"44.195.2.101"}
	res := dnsRun(t, dnsEnv(dnsHealthy(true, true), dnsServe(t, z)), verify.GlobalName())
	assert.Equal(t, verify.Pass, res[0].Status, "%+v", res[0])
	assert.Equal(t, "api-failover.tars.example.com → 44.195.2.101: us-east's endpoint, health check healthy", res[0].Observed)

	z.a[dnsFailover+"."] = []string{"52.26.140.3"}
	res = dnsRun(t, dnsEnv(dnsHealthy(true, true), dnsServe(t, z)), verify.GlobalName())
	assert.Equal(t, verify.Fail, res[0].Status)
}

func TestVerifyGlobalNameRotatingAddresses(t *testing.T) {
	// The name's addresses and the endpoint's, asked one after the other,
	// need not overlap: the CNAME names the load balancer.
	z := dnsZoneTo(dnsEastLB)
	z.rotate = true
	res := dnsRun(t, dnsEnv(dnsHealthy(true, true), dnsServe(t, z)), verify.GlobalName())
	assert.Equal(t, verify.Pass, res[0].Status, "%+v", res[0])
}

func TestVerifyGlobalNameWrongEndpoint(t *testing.T) {
	env := dnsEnv(dnsHealthy(true, true), dnsServe(t, dnsZoneTo(dnsWestLB)))
	res := dnsRun(t, env, verify.GlobalName())
	assert.Equal(t, verify.Fail, res[0].Status)
	assert.Equal(t, []string{"api-failover.tars.example.com answers us-west's endpoint " + dnsWestLB +
		", but the DNS primary is us-east (healthy, endpoint " + dnsEastLB + "): check the records' weights (route53-health)"}, res[0].Problems)
}

func TestVerifyGlobalNameFailoverInEffect(t *testing.T) {
	env := dnsEnv(dnsHealthy(false, true), dnsServe(t, dnsZoneTo(dnsWestLB)))
	res := dnsRun(t, env, verify.GlobalName())
	assert.Equal(t, verify.Fail, res[0].Status)
	require.Len(t, res[0].Problems, 1)
	assert.True(t, strings.HasPrefix(res[0].Problems[0], "us-east unhealthy; the global name answers us-west's endpoint: failover in effect"), res[0].Problems[0])
	assert.Contains(t, res[0].Observed, "us-west's endpoint, failover in effect")
	t.Logf("%+v", res[0])
}

func TestVerifyGlobalNamePrimaryUnhealthy(t *testing.T) {
	// Both unhealthy: Route 53 answers every record (the primary's).
	env := dnsEnv(dnsHealthy(false, false), dnsServe(t, dnsZoneTo(dnsEastLB)))
	res := dnsRun(t, env, verify.GlobalName())
	assert.Equal(t, verify.Fail, res[0].Status)
	assert.Equal(t, []string{"us-east's Route 53 health check is unhealthy; api-failover.tars.example.com still answers its endpoint " + dnsEastLB + " (no healthy region to fail over to)"}, res[0].Problems)
}

func TestVerifyGlobalNameElsewhere(t *testing.T) {
	z := dnsZoneTo("parked.example.net")
	z.a["parked.example.net."] = []string{"192.0.2.80"}
	res := dnsRun(t, dnsEnv(dnsHealthy(true, true), dnsServe(t, z)), verify.GlobalName())
	assert.Equal(t, verify.Fail, res[0].Status)
	assert.Equal(t, []string{"api-failover.tars.example.com answers parked.example.net (192.0.2.80), which is not us-east's " + dnsEastLB + " nor us-west's " + dnsWestLB}, res[0].Problems)
}

func TestVerifyGlobalNameNXDOMAIN(t *testing.T) {
	res := dnsRun(t, dnsEnv(dnsHealthy(true, true), dnsServe(t, dnsZoneTo(""))), verify.GlobalName())
	assert.Equal(t, verify.Fail, res[0].Status)
	require.Len(t, res[0].Problems, 1)
	assert.Contains(t, res[0].Problems[0], "api-failover.tars.example.com does not resolve: ")
	assert.Contains(t, res[0].Problems[0], "no such host")
	assert.Equal(t, "api-failover.tars.example.com does not resolve", res[0].Observed)
	t.Logf("%+v", res[0])

	// A CNAME to a name that does not exist (a deleted load balancer).
	res = dnsRun(t, dnsEnv(dnsHealthy(true, true), dnsServe(t, dnsZoneTo("k8s-gone.us-east-1.elb.amazonaws.com"))), verify.GlobalName())
	assert.Equal(t, verify.Fail, res[0].Status, "%+v", res[0])
	t.Logf("%+v", res[0])
}

func TestVerifyGlobalNameOneRegion(t *testing.T) {
	env := dnsEnv(dnsHealthy(true, true), dnsServe(t, dnsZoneTo(dnsEastLB)))
	delete(env.Regions, "us-west")
	res := dnsRun(t, env, verify.GlobalName())
	assert.Equal(t, verify.Skip, res[0].Status)
}

func TestVerifyGlobalNamePeerEndpoint(t *testing.T) {
	// A run of us-west alone reads the DNS primary's outputs as a peer.
	env := dnsEnv(dnsHealthy(true, true), dnsServe(t, dnsZoneTo(dnsEastLB)))
	env.Peers = map[string]*verify.Region{"us-east": env.Regions["us-east"]}
	delete(env.Regions, "us-east")
	out, err := verify.GlobalName().Run(context.Background(), env, "")
	require.NoError(t, err)
	assert.Empty(t, out.Problems)
}

func TestVerifyGlobalNameRoute53Error(t *testing.T) {
	r53 := dnsHealthy(true, true)
	r53.errs = map[string]error{"us-east": errors.New("throttled")}
	res := dnsRun(t, dnsEnv(r53, dnsServe(t, dnsZoneTo(dnsEastLB))), verify.GlobalName())
	assert.Equal(t, verify.Fail, res[0].Status)
	assert.Equal(t, "read us-east's Route 53 health check: throttled", res[0].Observed)
}

func TestVerifyGlobalNameTimeout(t *testing.T) {
	// A server that never answers: the lookup gives up with the check's
	// context, and the check reports it as an error, not a problem.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = pc.Close() })
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = verify.GlobalName().Run(ctx, dnsEnv(dnsHealthy(true, true), res), "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "resolve api-failover.tars.example.com")
}
