package tests

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/policy/rules"
	"github.com/tars-platform/infra/stacks"
	"github.com/tars-platform/infra/tests/harness"
)

const typeRecord = "aws:route53/record:Record"

// dnsRecords are a graph's routing records (not the certificate's
// validation records).
func dnsRecords(g *harness.Graph) []harness.Resource {
	return g.Filter(func(r harness.Resource) bool {
		return r.Type == typeRecord && !strings.Contains(r.Name, "-validation-")
	})
}

// TestGeoDNSBothStacksTogether: the two stacks' records form one coherent
// set: no two share a name, type and set identifier (so neither overwrites
// the other's), exactly one default geolocation record, weights summing to
// 100, every routing record but the default health checked, each US state
// in one region only.
func TestGeoDNSBothStacksTogether(t *testing.T) {
	seen := map[string]string{}
	defaults, weight := 0, 0
	states := map[string]string{}
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		hc := one(t, g, "aws:route53/healthCheck:HealthCheck", stack+"-edge-health")
		for _, r := range dnsRecords(g) {
			in := r.PlainInputs()
			key := fmt.Sprint(in["name"], " ", in["type"], " ", in["setIdentifier"])
			assert.NotContains(t, seen, key, "%s %s and %s", key, seen[key], r.URN)
			seen[key] = r.URN
			assert.Equal(t, "CNAME", in["type"], r.Name)
			if strings.Contains(r.Name, "-edge-") { // the API's records (Grafana's name is not failed over)
				assert.EqualValues(t, 10, in["ttl"], "%s: the TTL clients cache", r.Name)
			}
			geo, _ := in["geolocationRoutingPolicies"].([]any)
			isDefault := len(geo) == 1 && get(geo[0], "country") == "*"
			if isDefault {
				defaults++
				assert.Equal(t, []any{"api-failover.tars.example.com"}, in["records"], "the default answers with the failover name")
			}
			if in["setIdentifier"] != nil && !isDefault {
				assert.Contains(t, r.Dependencies, hc.URN, "%s has the region's health check", r.Name)
				assert.Contains(t, in, "healthCheckId", r.Name)
			}
			if len(geo) == 1 && !isDefault {
				st := get(geo[0], "subdivision").(string)
				assert.Equal(t, "US", get(geo[0], "country"))
				assert.NotContains(t, states, st, "%s routed by both regions", st)
				states[st] = stack
			}
			if w, ok := in["weightedRoutingPolicies"].([]any); ok && in["name"] != "api-failover.tars.example.com" {
				weight += int(get(w[0], "weight").(float64))
			}
		}
	}
	assert.Equal(t, 1, defaults, "exactly one default geolocation record")
	assert.Equal(t, 100, weight, "weights sum to 100")
	assert.Len(t, states, 51, "the 50 states and DC")
	assert.Equal(t, "us-east", states["NY"])
	assert.Equal(t, "us-west", states["CA"])
}

// TestGeoDNSPrimaryFollowsDNSPrimary: on the failover name the region
// named dnsPrimary weighs 100 and the other 0 (answered only while the
// primary is unhealthy), each stack its own record. Every mix of the two
// stacks' settings (a flip half-applied: one stack updated, the other not
// yet) is a record set Route 53 accepts: no failover routing, which allows
// one PRIMARY and one SECONDARY record per name, so two stacks could never
// flip it one after the other.
func TestGeoDNSPrimaryFollowsDNSPrimary(t *testing.T) {
	for _, stack := range Stacks {
		for _, primary := range Stacks {
			g := mustRun(t, stack, harness.WithConfig("tars:topology.dnsPrimary", primary))
			rec := one(t, g, typeRecord, stack+"-edge-failover")
			assert.Equal(t, "api-failover.tars.example.com", rec.Input("name"))
			assert.Equal(t, stack, rec.Input("setIdentifier"), "each stack its own record")
			for _, r := range dnsRecords(g) {
				assert.Nil(t, r.Input("failoverRoutingPolicies"), "%s: failover routing", r.Name)
			}
			want := 0.0
			if primary == stack {
				want = 100
			}
			assert.Equal(t, want, get(rec.Input("weightedRoutingPolicies").([]any)[0], "weight"), "%s with dnsPrimary %s", stack, primary)
		}
	}
}

// TestGeoDNSDefaultRecordMovesSafely: the geolocation default record
// follows singletonsOwner; the new owner overwrites it (the old owner may be
// gone with its record still in Route 53) and an owner that stops declaring
// it forgets it without deleting it (it is the new owner's now).
func TestGeoDNSDefaultRecordMovesSafely(t *testing.T) {
	for _, owner := range Stacks {
		g := mustRun(t, owner, harness.WithConfig("tars:topology.singletonsOwner", owner))
		rec := one(t, g, typeRecord, owner+"-edge-geo-default")
		assert.Equal(t, true, rec.Input("allowOverwrite"), owner)
		assert.True(t, rec.RetainOnDelete, owner)
	}
}

// TestGeoDNSHealthCheckAndAlarms: the seed's check (HTTPS /health every
// 10 s, 3 failures, several checker regions, latency measured) on the
// region's own name, and its alarm in us-east-1 notifying the subscribers.
func TestGeoDNSHealthCheckAndAlarms(t *testing.T) {
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		hc := one(t, g, "aws:route53/healthCheck:HealthCheck", stack+"-edge-health")
		in := hc.PlainInputs()
		for k, want := range map[string]any{"type": "HTTPS", "resourcePath": "/health", "requestInterval": 10.0, "failureThreshold": 3.0,
			"port": 443.0, "measureLatency": true, "enableSni": true, "fqdn": "api." + stack + ".tars.example.com"} {
			assert.Equal(t, want, in[k], "%s health check %s", stack, k)
		}
		assert.GreaterOrEqual(t, len(in["regions"].([]any)), 3)
		alarm := one(t, g, "aws:cloudwatch/metricAlarm:MetricAlarm", stack+"-edge-health")
		prov, ok := g.ByURN(alarm.Provider[:max(0, strings.LastIndex(alarm.Provider, "::"))])
		require.True(t, ok, "the alarm's provider")
		assert.Equal(t, "us-east-1", prov.Input("region"), "%s: Route 53 publishes health-check metrics in us-east-1 only", stack)
		assert.Equal(t, "AWS/Route53", alarm.Input("namespace"))
		assert.Equal(t, "HealthCheckStatus", alarm.Input("metricName"))
		assert.Equal(t, "LessThanThreshold", alarm.Input("comparisonOperator"))
		assert.Contains(t, alarm.Dependencies, hc.URN, "dimension HealthCheckId")
		topic := one(t, g, "aws:sns/topic:Topic", stack+"-edge-health-alarms")
		assert.Equal(t, alarm.Provider, topic.Provider, "the topic is in the alarm's region")
		assert.Contains(t, alarm.Dependencies, topic.URN, "alarm actions")
		sub := one(t, g, "aws:sns/topicSubscription:TopicSubscription", stack+"-edge-health-alarms-email-0")
		assert.Equal(t, "sre-oncall@tars.ai", sub.Input("endpoint"))
	}
}

// TestGeoDNSEdge: the public ALB in front of the configured Service with
// the region's certificate; the certificate covers the region's and the
// global names; the global names' validation records may be written by
// both stacks, the region's by its own only.
func TestGeoDNSEdge(t *testing.T) {
	g := mustRun(t, "us-west")
	ing := one(t, g, "kubernetes:networking.k8s.io/v1:Ingress", "us-west-edge-public")
	in := ing.PlainInputs()
	assert.Equal(t, "tars", get(in, "metadata.namespace"))
	assert.Equal(t, "alb", get(in, "spec.ingressClassName"))
	assert.Equal(t, map[string]any{"name": "tars-backend", "port": map[string]any{"number": 8000.0}}, get(in, "spec.defaultBackend.service"))
	ann := get(in, "metadata.annotations").(map[string]any)
	assert.Equal(t, "internet-facing", ann["alb.ingress.kubernetes.io/scheme"])
	assert.Equal(t, `[{"HTTP":80},{"HTTPS":443}]`, ann["alb.ingress.kubernetes.io/listen-ports"])
	assert.Equal(t, "443", ann["alb.ingress.kubernetes.io/ssl-redirect"], "80 only redirects")
	assert.Equal(t, "/health", ann["alb.ingress.kubernetes.io/healthcheck-path"])
	assert.NotEmpty(t, ann["alb.ingress.kubernetes.io/certificate-arn"])
	up := g.Upstream(ing.URN)
	assert.True(t, up[one(t, g, "kubernetes:helm.sh/v3:Release", "us-west-addons-aws-load-balancer-controller").URN], "the controller's webhook must be up first")
	assert.True(t, up[one(t, g, "kubernetes:core/v1:Namespace", "us-west-apps").URN], "its namespace")
	assert.True(t, up[one(t, g, "aws:acm/certificateValidation:CertificateValidation", "us-west-edge-api").URN], "a validated certificate")
	cert := one(t, g, "aws:acm/certificate:Certificate", "us-west-edge-api")
	assert.Equal(t, "api.us-west.tars.example.com", cert.Input("domainName"))
	assert.ElementsMatch(t, []any{"api.tars.example.com", "api-failover.tars.example.com", "api-latency.tars.example.com", "api-beta.tars.example.com"},
		cert.Input("subjectAlternativeNames"))
	for _, name := range []string{"api.tars.example.com", "api-failover.tars.example.com", "api-latency.tars.example.com", "api-beta.tars.example.com"} {
		rec := one(t, g, typeRecord, "us-west-edge-validation-"+name)
		assert.Equal(t, true, rec.Input("allowOverwrite"), "%s: shared with the other region's certificate", name)
		assert.True(t, rec.RetainOnDelete, "%s: neither stack deletes it from under the other", name)
	}
	own := one(t, g, typeRecord, "us-west-edge-validation-api.us-west.tars.example.com")
	assert.Equal(t, false, own.Input("allowOverwrite"))
	assert.False(t, own.RetainOnDelete, "the region's own record goes with its stack")
	assert.Contains(t, own.Input("name"), "api.us-west.tars.example.com")
}

// TestGeoDNSCloudflare: enabled, each stack has its monitor and pool; only
// the singletons owner has the load balancer, geo-steered with the other
// pool behind each and the secondary as fallback, proxied; the owner stops
// when the peer has not exported its pool.
func TestGeoDNSCloudflare(t *testing.T) {
	on := []harness.Option{
		harness.WithConfig("tars:dns.cloudflare", map[string]any{"enabled": true, "accountId": "acc", "zoneId": "zone", "hostname": "api.tars.example.com"}),
	}
	west := mustRun(t, "us-west", on...)
	mon := one(t, west, "cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor", "us-west-edge-monitor")
	assert.EqualValues(t, 15, mon.Input("interval"))
	assert.EqualValues(t, 2, mon.Input("consecutiveDown"))
	assert.Equal(t, "/health", mon.Input("path"))
	one(t, west, "cloudflare:index/loadBalancerPool:LoadBalancerPool", "us-west-edge-pool")
	assert.Empty(t, west.ByType("cloudflare:index/loadBalancer:LoadBalancer"), "only the singletons owner owns the load balancer")
	one(t, west, "pulumi:providers:cloudflare", "us-west-edge-cloudflare")

	peer, err := harness.PeerOutputs("us-east")
	require.NoError(t, err)
	peer[stacks.OutCloudflarePool] = "pool-us-west"
	east := mustRun(t, "us-east", append(on, harness.WithPeerOutputs(peer))...)
	lbs := east.ByType("cloudflare:index/loadBalancer:LoadBalancer")
	require.Len(t, lbs, 1)
	lb := lbs[0].PlainInputs()
	assert.Equal(t, "geo", lb["steeringPolicy"])
	assert.Equal(t, true, lb["proxied"])
	assert.Equal(t, "pool-us-west", lb["fallbackPool"], "the secondary region is the fallback")
	pools := lb["regionPools"].(map[string]any)
	assert.Equal(t, "pool-us-west", pools["WNAM"].([]any)[0])
	assert.Equal(t, "pool-us-west", pools["ENAM"].([]any)[1], "eastern North America falls back to us-west")
	paths := rules.FailoverPaths(east.PolicyResources())
	var cf []rules.FailoverPath
	for _, p := range paths {
		if p.Provider == rules.ProviderCloudflare {
			cf = append(cf, p)
		}
	}
	require.Len(t, cf, 1)
	assert.Equal(t, 30*time.Second, cf[0].Total(), "15 s × 2 failures, proxied")

	delete(peer, stacks.OutCloudflarePool)
	_, err = harness.Run("us-east", append(on, harness.WithPeerOutputs(peer))...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `peer stack us-west does not export "cloudflarePoolId"`)
}

// TestGeoDNSFailoverWorstCase: the figure tarsctl plan prints, from the
// graph: 10 s × 3 failures + 10 s TTL = 40 s, inside the 50 s target.
func TestGeoDNSFailoverWorstCase(t *testing.T) {
	for _, stack := range Stacks {
		var worst time.Duration
		n := 0
		for _, p := range rules.FailoverPaths(mustRun(t, stack).PolicyResources()) {
			require.Equal(t, rules.ProviderRoute53, p.Provider)
			worst = max(worst, p.Total())
			n++
		}
		assert.Equal(t, 40*time.Second, worst, stack)
		assert.LessOrEqual(t, worst, 50*time.Second, "the platform's target")
		assert.Greater(t, n, 3, "geolocation, failover, latency and weighted answers")
	}
}

// TestGeoDNSConfigErrors: bad tars:dns values name the key and say why.
func TestGeoDNSConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		opts []harness.Option
		want string
	}{
		{"weights", []harness.Option{harness.WithConfig("tars:dns.weights", map[string]any{"us-east": 80, "us-west": 30})},
			"tars:dns.weights (map[us-east:80 us-west:30]) sum to 110; they must sum to 100"},
		{"state in both halves", []harness.Option{harness.WithConfig("tars:dns.geolocation.us-west", []any{"CA", "NY"})},
			"tars:dns.geolocation.us-west has NY, which geolocation.us-east has too: a state goes to one region"},
		{"unknown state", []harness.Option{harness.WithConfig("tars:dns.geolocation.us-west", []any{"CA", "XX"})},
			`tars:dns.geolocation.us-west has "XX", which is not a US state code Route 53 knows`},
		{"ttl too long", []harness.Option{harness.WithConfig("tars:dns.ttlSeconds", 60)},
			"tars:dns.ttlSeconds (60) is too long: failover would take up to 1m30s (detection 30s + TTL 60 s), over the 50s target"},
		{"slow detection", []harness.Option{harness.WithConfig("tars:dns.healthCheck.intervalSeconds", 30)},
			"tars:dns.healthCheck detects a dead region in up to 1m30s (interval 30 s × 3 failures), over the seed's 30s"},
		{"cloudflare without token", []harness.Option{harness.WithoutConfig("tars:cloudflareApiToken"),
			harness.WithConfig("tars:dns.cloudflare", map[string]any{"enabled": true, "accountId": "a", "zoneId": "z", "hostname": "api.tars.example.com"})},
			"tars:cloudflareApiToken is not set, but tars:dns.cloudflare.enabled is true"},
		{"subscriber", []harness.Option{harness.WithConfig("tars:dns.alarmSubscribers", []any{map[string]any{"protocol": "sms", "endpoint": "+1555"}})},
			`tars:dns.alarmSubscribers[0].protocol ("sms") must be email or https`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runRecovering(t, "us-east", tc.opts...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
