package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/alerting"
	"github.com/tars-platform/infra/tests/harness"
)

// The on-call wiring (issue #18): PagerDuty by type token, checked
// against the provider's published schema, and the seed's escalation.

// pdSchema is the trimmed schema of pulumi-pagerduty v4.34.0
// (tests/testdata/pagerduty-schema.json names its source and commit).
type pdSchema struct {
	Source   string `json:"source"`
	Version  string `json:"version"`
	Provider struct {
		InputProperties map[string]pdProp `json:"inputProperties"`
	} `json:"provider"`
	Resources map[string]struct {
		InputProperties map[string]pdProp `json:"inputProperties"`
		RequiredInputs  []string          `json:"requiredInputs"`
	} `json:"resources"`
	Functions map[string]struct {
		Inputs struct {
			Properties map[string]pdProp `json:"properties"`
			Required   []string          `json:"required"`
		} `json:"inputs"`
	} `json:"functions"`
	Types map[string]struct {
		Type       string            `json:"type"`
		Properties map[string]pdProp `json:"properties"`
		Required   []string          `json:"required"`
	} `json:"types"`
}

type pdProp struct {
	Type  string  `json:"type"`
	Ref   string  `json:"$ref"`
	Items *pdProp `json:"items"`
}

func loadPagerDutySchema(t *testing.T) pdSchema {
	t.Helper()
	raw, err := os.ReadFile("testdata/pagerduty-schema.json")
	require.NoError(t, err)
	var s pdSchema
	require.NoError(t, json.Unmarshal(raw, &s))
	require.Contains(t, s.Source, "github.com/pulumi/pulumi-pagerduty")
	return s
}

// checkValue reports where v does not have the schema type of p.
func (s pdSchema) checkValue(path string, p pdProp, v any) []string {
	if p.Ref != "" {
		name := strings.TrimPrefix(p.Ref, "#/types/")
		typ, ok := s.Types[name]
		if !ok {
			return []string{path + ": unknown type " + p.Ref}
		}
		return s.checkObject(path, typ.Properties, typ.Required, v)
	}
	switch p.Type {
	case "string":
		if _, ok := v.(string); !ok {
			return []string{fmt.Sprintf("%s: %T %v, the schema says string", path, v, v)}
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			return []string{fmt.Sprintf("%s: %T %v, the schema says integer", path, v, v)}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return []string{fmt.Sprintf("%s: %T %v, the schema says boolean", path, v, v)}
		}
	case "array":
		l, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, the schema says array", path, v)}
		}
		var out []string
		for i, x := range l {
			out = append(out, s.checkValue(fmt.Sprintf("%s[%d]", path, i), *p.Items, x)...)
		}
		return out
	default:
		return []string{path + ": schema type " + p.Type + " not handled by the test"}
	}
	return nil
}

func (s pdSchema) checkObject(path string, props map[string]pdProp, required []string, v any) []string {
	m, ok := v.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: %T, the schema says object", path, v)}
	}
	var out []string
	for k, x := range m {
		p, ok := props[k]
		if !ok {
			out = append(out, fmt.Sprintf("%s.%s: not an input of the provider", path, k))
			continue
		}
		out = append(out, s.checkValue(path+"."+k, p, x)...)
	}
	for _, r := range required {
		if _, ok := m[r]; !ok {
			out = append(out, fmt.Sprintf("%s.%s: required by the provider, not sent", path, r))
		}
	}
	return out
}

// TestOnCallInputsMatchTheProviderSchema: every input the program sends to
// a PagerDuty resource, the provider and every data source exists in the
// provider's published schema with its type, and every required one is
// sent; the provider asks for the pinned plugin and where to get it.
func TestOnCallInputsMatchTheProviderSchema(t *testing.T) {
	s := loadPagerDutySchema(t)
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		n := 0
		for _, r := range g.Resources {
			switch {
			case r.Type == "pulumi:providers:pagerduty":
				n++
				assert.Equal(t, "4.34.0", r.Version, "the pinned plugin")
				assert.Equal(t, "github://api.github.com/pulumi/pulumi-pagerduty", r.PluginDownloadURL)
				assert.True(t, r.IsSecret("token"), "the API token stays a secret")
				assert.Empty(t, s.checkObject(r.Name, s.Provider.InputProperties, nil, r.PlainInputs()))
			case strings.HasPrefix(r.Type, "pagerduty:"):
				n++
				res, ok := s.Resources[r.Type]
				require.True(t, ok, "%s is not a resource of the provider", r.Type)
				assert.Empty(t, s.checkObject(r.Name, res.InputProperties, res.RequiredInputs, r.PlainInputs()), "%s %s", r.Type, r.Name)
				assert.NotEmpty(t, r.Provider, "%s uses the explicit PagerDuty provider", r.Name)
			}
		}
		assert.GreaterOrEqual(t, n, 4, stack)
		invokes := 0
		for i, tok := range g.Invokes {
			if !strings.HasPrefix(tok, "pagerduty:") {
				continue
			}
			invokes++
			fn, ok := s.Functions[tok]
			require.True(t, ok, "%s is not a function of the provider", tok)
			assert.Empty(t, s.checkObject(tok, fn.Inputs.Properties, fn.Inputs.Required, g.InvokeArgs[i]))
		}
		assert.Positive(t, invokes, stack)
	}
}

// TestOnCallSchemaCheckCatchesMistakes: the checker refuses an unknown
// input, a wrong type and a missing required input (so the test above
// can fail).
func TestOnCallSchemaCheckCatchesMistakes(t *testing.T) {
	s := loadPagerDutySchema(t)
	res := s.Resources["pagerduty:index/escalationPolicy:EscalationPolicy"]
	bad := map[string]any{"name": "x", "numLoops": "2", "rules": []any{map[string]any{"escalationDelay": 30.0, "targets": []any{map[string]any{"id": "P1"}}}}}
	problems := strings.Join(s.checkObject("policy", res.InputProperties, res.RequiredInputs, bad), "\n")
	assert.Contains(t, problems, "policy.numLoops: string 2, the schema says integer")
	assert.Contains(t, problems, "policy.rules[0].escalationDelay: not an input")
	assert.Contains(t, problems, "policy.rules[0].escalationDelayInMinutes: required")
}

// pdRules returns an escalation policy's rules as (minutes after the
// incident opened, target type, target id).
type pdLevel struct {
	At         time.Duration
	TargetType string
	TargetID   string
}

func pdLevels(t *testing.T, r harness.Resource) []pdLevel {
	var out []pdLevel
	at := time.Duration(0)
	for _, rule := range asList(r.PlainInputs()["rules"]) {
		target := asMap(asList(asMap(rule)["targets"])[0])
		out = append(out, pdLevel{at, fmt.Sprint(target["type"]), fmt.Sprint(target["id"])})
		at += time.Duration(asMap(rule)["escalationDelayInMinutes"].(float64)) * time.Minute
	}
	return out
}

// TestOnCallEscalationFollowsTheSeed: seed 000's levels as literals: the
// on-call SRE at once, the SRE lead after 30 minutes, the engineering lead
// after 1 hour, the CTO after 2 hours for P0 only; the weekly rotation of
// four SREs handing off on Monday 09:00 UTC. Only the singletons owner
// creates them; the other region adds its own integrations to the same
// services.
func TestOnCallEscalationFollowsTheSeed(t *testing.T) {
	g := mustRun(t, "us-east")
	sched := one(t, g, "pagerduty:index/schedule:Schedule", "us-east-oncall-rotation").PlainInputs()
	layer := asMap(asList(sched["layers"])[0])
	assert.EqualValues(t, 7*24*3600, layer["rotationTurnLengthSeconds"])
	assert.Len(t, asList(layer["users"]), 4)
	start, err := time.Parse(time.RFC3339, fmt.Sprint(layer["start"]))
	require.NoError(t, err)
	assert.Equal(t, time.Monday, start.Weekday())
	assert.Equal(t, 9, start.UTC().Hour())
	assert.Equal(t, "UTC", sched["timeZone"])

	user := func(email string) string {
		for i, tok := range g.Invokes {
			if tok == "pagerduty:index/getUser:getUser" && g.InvokeArgs[i]["email"] == email {
				return harness.MockPagerDutyID("PU", email)
			}
		}
		t.Fatalf("%s was never looked up", email)
		return ""
	}
	rotation := harness.MockID("pagerduty:index/schedule:Schedule", "us-east-oncall-rotation")
	oncallSRE := pdLevel{0, "schedule_reference", rotation}
	lead := pdLevel{30 * time.Minute, "user_reference", user("sre-lead@tars.ai")}
	eng := pdLevel{time.Hour, "user_reference", user("engineering-lead@tars.ai")}
	cto := pdLevel{2 * time.Hour, "user_reference", user("cto@tars.ai")}
	for _, c := range []struct {
		service string
		levels  []pdLevel
	}{
		{"tars-production-critical", []pdLevel{oncallSRE, lead, eng, cto}},
		{"tars-production-high", []pdLevel{oncallSRE, lead, eng}},
		{"tars-production-moderate", []pdLevel{oncallSRE}},
	} {
		policy := one(t, g, "pagerduty:index/escalationPolicy:EscalationPolicy", "us-east-oncall-"+c.service)
		assert.Equal(t, c.levels, pdLevels(t, policy), c.service)
		svc := one(t, g, "pagerduty:index/service:Service", "us-east-oncall-"+c.service).PlainInputs()
		assert.Equal(t, c.service, svc["name"])
		assert.Equal(t, harness.MockID("pagerduty:index/escalationPolicy:EscalationPolicy", "us-east-oncall-"+c.service), svc["escalationPolicy"])
		in := one(t, g, "pagerduty:index/serviceIntegration:ServiceIntegration", "us-east-oncall-"+c.service).PlainInputs()
		assert.Equal(t, "events_api_v2_inbound_integration", in["type"])
		assert.Equal(t, harness.MockID("pagerduty:index/service:Service", "us-east-oncall-"+c.service), in["service"])
	}

	west := mustRun(t, "us-west")
	for _, typ := range []string{"pagerduty:index/service:Service", "pagerduty:index/escalationPolicy:EscalationPolicy", "pagerduty:index/schedule:Schedule"} {
		assert.Empty(t, west.ByType(typ), "only the singletons owner creates %s", typ)
	}
	for _, name := range []string{"tars-production-critical", "tars-production-high", "tars-production-moderate"} {
		in := one(t, west, "pagerduty:index/serviceIntegration:ServiceIntegration", "us-west-oncall-"+name).PlainInputs()
		assert.Equal(t, harness.MockPagerDutyID("PS", name), in["service"], "the owner's service, found by name")
		assert.Equal(t, "alertmanager-us-west", in["name"])
	}
}

// alertmanagerYAMLOf is the rendered alertmanager.yaml of a graph.
func alertmanagerYAMLOf(t *testing.T, g *harness.Graph) (string, harness.Resource) {
	r := one(t, g, "kubernetes:core/v1:Secret", g.Stack+"-alerting-alertmanager")
	raw := fmt.Sprint(get(r.PlainInputs(), "stringData."+strings.ReplaceAll(alerting.ConfigSecretKey, ".", `\.`)))
	return raw, r
}

// TestOnCallKeysFeedAlertmanager: enabled, each region's Alertmanager
// pages with its own integrations' keys (P2 to the moderate service too),
// still inside a Pulumi secret; disabled, the hand-set secrets do and
// there is no PagerDuty resource and no P2 service.
func TestOnCallKeysFeedAlertmanager(t *testing.T) {
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		raw, secret := alertmanagerYAMLOf(t, g)
		assert.True(t, secret.IsSecret("stringData"), "the config stays a Pulumi secret")
		cfg, err := amconfig.Load(raw)
		require.NoError(t, err)
		keys := map[string]string{}
		for _, r := range cfg.Receivers {
			for _, pd := range r.PagerdutyConfigs {
				keys[r.Name] = string(pd.RoutingKey)
			}
		}
		for receiver, service := range map[string]string{
			alerting.ReceiverPagerDutyCritical: "tars-production-critical", alerting.ReceiverPagerDutyHigh: "tars-production-high",
			alerting.ReceiverPagerDutyModerate: "tars-production-moderate",
		} {
			name := stack + "-oncall-" + service
			assert.Equal(t, harness.MockIntegrationKey(name), keys[receiver], "%s: %s pages %s", stack, receiver, service)
		}
		route := cfg.Route.Routes
		p2 := slices.IndexFunc(route, func(r *amconfig.Route) bool { return r.Receiver == alerting.ReceiverPagerDutyModerate })
		require.GreaterOrEqual(t, p2, 0)
		require.Len(t, route[p2].Matchers, 1)
		assert.Equal(t, `severity="P2"`, route[p2].Matchers[0].String())
		assert.True(t, route[p2].Continue, "P2 still reaches Slack")

		off := mustRun(t, stack, harness.WithConfig("tars:pagerduty.enabled", false))
		for _, r := range off.Resources {
			assert.False(t, strings.Contains(r.Type, "pagerduty"), "disabled: %s %s", r.Type, r.Name)
		}
		raw, _ = alertmanagerYAMLOf(t, off)
		cfg, err = amconfig.Load(raw)
		require.NoError(t, err)
		for _, r := range cfg.Receivers {
			assert.NotEqual(t, alerting.ReceiverPagerDutyModerate, r.Name, "no P2 service without the on-call wiring")
			if r.Name == alerting.ReceiverPagerDutyCritical {
				assert.Equal(t, harness.SecretPlaceholder("tars:pagerdutyCriticalRoutingKey"), string(r.PagerdutyConfigs[0].RoutingKey))
			}
		}
	}
}

// TestOnCallConfigErrors: bad tars:pagerduty names the key.
func TestOnCallConfigErrors(t *testing.T) {
	for _, c := range []struct {
		opt  harness.Option
		want string
	}{
		{harness.WithConfig("tars:pagerduty.people.rotation", []any{"a@tars.ai", "b@tars.ai", "c@tars.ai"}), "tars:pagerduty.people.rotation has 3 people; seed 000's rotation is 4 SREs"},
		{harness.WithConfig("tars:pagerduty.people.cto", "cto"), `tars:pagerduty.people.cto ("cto") must be the email of a PagerDuty user`},
		{harness.WithConfig("tars:pagerduty.people.rotationStart", "2026-01-06T09:00:00Z"), "must be a Monday 09:00 UTC"},
		{harness.WithConfig("tars:pagerduty.people.rotation", []any{"a@tars.ai", "a@tars.ai", "c@tars.ai", "d@tars.ai"}), "is listed twice"},
		{harness.WithConfig("tars:pagerduty.enabeld", true), `tars:pagerduty has unknown field "enabeld"`},
	} {
		_, err := runRecovering(t, "us-east", c.opt)
		require.Error(t, err, c.want)
		assert.Contains(t, err.Error(), c.want)
	}
}

// TestOnCallWaitsForTheOwner: the accepter deploys first, before the
// stack owning the PagerDuty services exists: it creates no on-call
// resource and its Alertmanager (still a valid config) sends P0 and P1 to
// e-mail and Slack only, until its next run.
func TestOnCallWaitsForTheOwner(t *testing.T) {
	g := mustRun(t, "us-west", harness.WithPeeringNotRequested())
	for _, r := range g.Resources {
		assert.False(t, strings.Contains(r.Type, "pagerduty") || r.Type == "tars:oncall:OnCall", "%s %s", r.Type, r.Name)
	}
	raw, _ := alertmanagerYAMLOf(t, g)
	cfg, err := amconfig.Load(raw)
	require.NoError(t, err)
	var receivers []string
	for _, r := range cfg.Receivers {
		receivers = append(receivers, r.Name)
		assert.Empty(t, r.PagerdutyConfigs, r.Name)
	}
	assert.Contains(t, receivers, alerting.ReceiverEmail)
	assert.Contains(t, receivers, alerting.ReceiverSlack)
}
