package tests

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/tests/charttier"
	"github.com/tars-platform/infra/tests/harness"
)

// TestSecurityJWTSecretIsGeneratedOnceForBothRegions: the services' JWT
// signing key is 64 generated characters (the checklist asks for 32+, the
// platform for 48+) in Secret tars-jwt in the services' namespace, a
// Pulumi secret everywhere; us-east (the peering requester) generates it
// and exports it as a secret, us-west writes the same value read from its
// peer (a token signed in one region verifies in the other), and writes
// none on its first run, before us-east exists.
func TestSecurityJWTSecretIsGeneratedOnceForBothRegions(t *testing.T) {
	east := mustRun(t, "us-east")
	gen := one(t, east, "random:index/randomPassword:RandomPassword", "us-east-jwt")
	assert.GreaterOrEqual(t, gen.Input("length"), 48.0)
	assert.Equal(t, 64.0, gen.Input("length"))
	sec := one(t, east, "kubernetes:core/v1:Secret", "us-east-jwt")
	assert.Equal(t, "tars-jwt", get(sec.PlainInputs(), "metadata.name"))
	assert.Equal(t, "tars", get(sec.PlainInputs(), "metadata.namespace"))
	// A Secret's data is always a Pulumi secret (the SDK marks it); that the
	// key is nowhere else in plain text is the engine tier's check.
	assert.Contains(t, sec.Dependencies, gen.URN, "the Secret holds the generated key")
	assert.Contains(t, east.Exports, "jwtSecret")

	west := mustRun(t, "us-west")
	_, generated := west.Find("random:index/randomPassword:RandomPassword", "us-west-jwt")
	assert.False(t, generated, "us-west does not generate its own")
	wsec := one(t, west, "kubernetes:core/v1:Secret", "us-west-jwt")
	assert.Equal(t, "mock-jwt-secret-of-the-peer-0123456789abcdefghijklmnopqrstuvwxyzABCDEF", get(wsec.PlainInputs(), "stringData.jwt-secret"), "the peer's value")
	assert.NotContains(t, west.Exports, "jwtSecret")

	first := mustRun(t, "us-west", harness.WithPeeringNotRequested())
	_, written := first.Find("kubernetes:core/v1:Secret", "us-west-jwt")
	assert.False(t, written, "no key before the requester has one")
}

// chartDefaultCredentials are the credentials the installed charts (and
// common images) ship as defaults; none may survive in what a stack
// renders.
var chartDefaultCredentials = []string{"admin", "prom-operator", "changeme", "password", "admin123", "myStrongPassword123!", "secret", "kubecost", "grafana"}

// credentialKey names a value that is a credential.
var credentialKey = regexp.MustCompile(`(?i)(pass(word)?|secret|token|api[-_]?key|credential)`)

// TestSecurityNoChartDefaultCredentialSurvives: across every object a
// stack renders (its own and every chart's), no Secret value, ConfigMap
// value or container environment variable whose name says credential
// holds a chart's default credential; every such literal value is one the
// stack's config provides (a Pulumi secret) or the program generates.
func TestSecurityNoChartDefaultCredentialSurvives(t *testing.T) {
	dir := chartsDir(t)
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		objs, err := charttier.Objects(context.Background(), g, dir)
		require.NoError(t, err)
		checked := 0
		see := func(where, key, value string) {
			if !credentialKey.MatchString(key) || value == "" {
				return
			}
			checked++
			for _, d := range chartDefaultCredentials {
				assert.NotEqual(t, d, strings.TrimSpace(value), "%s: %s %s is the chart default %q", stack, where, key, d)
			}
		}
		for _, o := range objs {
			kind := fmt.Sprint(o["kind"])
			id := fmt.Sprintf("%s %v/%v", kind, get(o, "metadata.namespace"), get(o, "metadata.name"))
			switch kind {
			case "Secret":
				for _, field := range []string{"stringData", "data"} {
					m, _ := o[field].(map[string]any)
					for k, v := range m {
						s := fmt.Sprint(v)
						if field == "data" {
							if b, err := base64.StdEncoding.DecodeString(s); err == nil {
								s = string(b)
							}
						}
						see(id, k, s)
					}
				}
			case "ConfigMap":
				m, _ := o["data"].(map[string]any)
				for k, v := range m {
					see(id, k, fmt.Sprint(v))
				}
			}
			for _, w := range podTemplates(t, []map[string]any{o}) {
				for _, c := range slices.Concat(w.Spec.InitContainers, w.Spec.Containers) {
					for _, e := range c.Env {
						see(id+" container "+c.Name, e.Name, e.Value)
					}
				}
			}
		}
		assert.Greater(t, checked, 5, "%s: credential-named values checked", stack)
		t.Logf("%s: %d credential-named values checked against %d chart defaults", stack, checked, len(chartDefaultCredentials))
	}
}

// TestSecurityFirewallAdmitsTheWorldOnlyOnTheLoadBalancers: every security
// group rule the program writes admits a listed range (the peer VPC), never
// 0.0.0.0/0; every internet-facing load balancer the stack renders listens
// on 443 with a certificate and the TLS policy, and on 80 only to redirect
// to 443; every other load balancer Service is internal and admits listed
// ranges only; the API endpoint's public access (when on) lists ranges.
func TestSecurityFirewallAdmitsTheWorldOnlyOnTheLoadBalancers(t *testing.T) {
	dir := chartsDir(t)
	world := func(v any) bool {
		for _, c := range asList(v) {
			if c == "0.0.0.0/0" || c == "::/0" {
				return true
			}
		}
		return false
	}
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		for _, typ := range []string{"aws:ec2/securityGroupRule:SecurityGroupRule", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"} {
			for _, r := range g.ByType(typ) {
				if r.Input("type") == "egress" {
					continue
				}
				assert.False(t, world(r.Input("cidrBlocks")) || r.Input("cidrIpv4") == "0.0.0.0/0", "%s: %s admits the world", stack, r.Name)
			}
		}
		for _, sg := range g.ByType("aws:ec2/securityGroup:SecurityGroup") {
			for _, in := range asList(sg.Input("ingress")) {
				assert.False(t, world(asMap(in)["cidrBlocks"]), "%s: security group %s admits the world", stack, sg.Name)
			}
		}
		objs, err := charttier.Objects(context.Background(), g, dir)
		require.NoError(t, err)
		public := 0
		for _, o := range objs {
			ann := asMap(get(o, "metadata.annotations"))
			id := fmt.Sprintf("%v %v/%v", o["kind"], get(o, "metadata.namespace"), get(o, "metadata.name"))
			switch o["kind"] {
			case "Ingress":
				if ann["alb.ingress.kubernetes.io/scheme"] != "internet-facing" {
					continue
				}
				public++
				assert.Equal(t, `[{"HTTP":80},{"HTTPS":443}]`, ann["alb.ingress.kubernetes.io/listen-ports"], "%s: %s", stack, id)
				assert.Equal(t, "443", ann["alb.ingress.kubernetes.io/ssl-redirect"], "%s: %s redirects 80", stack, id)
				assert.NotEmpty(t, ann["alb.ingress.kubernetes.io/certificate-arn"], "%s: %s", stack, id)
				assert.Equal(t, "ELBSecurityPolicy-TLS13-1-2-2021-06", ann["alb.ingress.kubernetes.io/ssl-policy"], "%s: %s", stack, id)
			case "Service":
				if get(o, "spec.type") != "LoadBalancer" {
					continue
				}
				assert.Equal(t, "internal", ann["service.beta.kubernetes.io/aws-load-balancer-scheme"], "%s: %s is internal", stack, id)
				ranges := get(o, "spec.loadBalancerSourceRanges")
				assert.NotEmpty(t, ranges, "%s: %s lists its source ranges", stack, id)
				assert.False(t, world(ranges), "%s: %s admits the world", stack, id)
			}
		}
		assert.Equal(t, 2, public, "%s: the API's and Grafana's load balancers", stack)
		eks := one(t, g, "aws:eks/cluster:Cluster", stack+"-eks")
		vpc := asMap(eks.PlainInputs()["vpcConfig"])
		assert.Equal(t, true, vpc["endpointPrivateAccess"], stack)
		if vpc["endpointPublicAccess"] == true {
			assert.NotEmpty(t, vpc["publicAccessCidrs"], stack)
			assert.False(t, world(vpc["publicAccessCidrs"]), stack)
		}
	}
}
