package oncall

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/versions"
)

// The Pulumi PagerDuty provider's Go SDK is refused by the module proxy
// here at every version, so its resources are registered by type token.
// This file is the whole wrapper: typed arguments whose pulumi tags are the
// provider schema's input names (tests/testdata/pagerduty-schema.json, the
// schema of versions.PagerDutyProvider; a test checks every input sent
// against it), and typed outputs.
const (
	providerType    = "pulumi:providers:pagerduty"
	serviceType     = "pagerduty:index/service:Service"
	policyType      = "pagerduty:index/escalationPolicy:EscalationPolicy"
	scheduleType    = "pagerduty:index/schedule:Schedule"
	integrationType = "pagerduty:index/serviceIntegration:ServiceIntegration"
	getUserToken    = "pagerduty:index/getUser:getUser"
	getServiceToken = "pagerduty:index/getService:getService"
)

// Provider is the PagerDuty provider instance.
type Provider struct {
	pulumi.ProviderResourceState
}

// newProvider registers the provider at the pinned version, with where its
// plugin comes from, so `pulumi up` installs exactly that one.
func newProvider(ctx *pulumi.Context, name string, token pulumi.StringInput, opts ...pulumi.ResourceOption) (*Provider, error) {
	var p Provider
	opts = append(opts, pulumi.Version(versions.PagerDutyProvider), pulumi.PluginDownloadURL(versions.PagerDutyPluginURL),
		pulumi.AdditionalSecretOutputs([]string{"token"}))
	err := ctx.RegisterResource(providerType, name, pulumi.Map{"token": pulumi.ToSecret(token)}, &p, opts...)
	return &p, err
}

// Service is pagerduty:index/service:Service.
type Service struct {
	pulumi.CustomResourceState
	Name pulumi.StringOutput `pulumi:"name"`
}

// ServiceArgs are the inputs sent for a service.
type ServiceArgs struct {
	Name        string
	Description string
	// EscalationPolicy is the policy's ID.
	EscalationPolicy pulumi.StringInput
	// AcknowledgementTimeout and AutoResolveTimeout are seconds as a
	// string, "null" for never.
	AcknowledgementTimeout, AutoResolveTimeout string
	// Urgency of every incident: "high" follows the escalation rules.
	Urgency string
}

func (a ServiceArgs) inputs() pulumi.Map {
	return pulumi.Map{
		"name": pulumi.String(a.Name), "description": pulumi.String(a.Description),
		"escalationPolicy":       a.EscalationPolicy,
		"acknowledgementTimeout": pulumi.String(a.AcknowledgementTimeout),
		"autoResolveTimeout":     pulumi.String(a.AutoResolveTimeout),
		"incidentUrgencyRule":    pulumi.Map{"type": pulumi.String("constant"), "urgency": pulumi.String(a.Urgency)},
	}
}

// EscalationPolicy is pagerduty:index/escalationPolicy:EscalationPolicy.
type EscalationPolicy struct {
	pulumi.CustomResourceState
}

// EscalationRule is one level: who is notified, and how long before the
// next level is.
type EscalationRule struct {
	DelayMinutes int
	// TargetType is "schedule_reference" or "user_reference".
	TargetType string
	TargetID   pulumi.StringInput
}

// EscalationPolicyArgs are the inputs sent for a policy.
type EscalationPolicyArgs struct {
	Name, Description string
	NumLoops          int
	Rules             []EscalationRule
}

func (a EscalationPolicyArgs) inputs() pulumi.Map {
	rules := pulumi.Array{}
	for _, r := range a.Rules {
		rules = append(rules, pulumi.Map{
			"escalationDelayInMinutes": pulumi.Int(r.DelayMinutes),
			"targets":                  pulumi.Array{pulumi.Map{"type": pulumi.String(r.TargetType), "id": r.TargetID}},
		})
	}
	return pulumi.Map{"name": pulumi.String(a.Name), "description": pulumi.String(a.Description), "numLoops": pulumi.Int(a.NumLoops), "rules": rules}
}

// Schedule is pagerduty:index/schedule:Schedule.
type Schedule struct {
	pulumi.CustomResourceState
}

// ScheduleArgs are the inputs sent for a one-layer rotation.
type ScheduleArgs struct {
	Name, Description, TimeZone string
	// Start is when the layer starts and the rotation's first handoff
	// (RFC 3339); TurnSeconds each member's turn.
	Start       string
	TurnSeconds int
	UserIDs     []pulumi.StringInput
}

func (a ScheduleArgs) inputs() pulumi.Map {
	users := pulumi.Array{}
	for _, u := range a.UserIDs {
		users = append(users, u)
	}
	return pulumi.Map{
		"name": pulumi.String(a.Name), "description": pulumi.String(a.Description), "timeZone": pulumi.String(a.TimeZone),
		"layers": pulumi.Array{pulumi.Map{
			"name": pulumi.String(a.Name), "start": pulumi.String(a.Start), "rotationVirtualStart": pulumi.String(a.Start),
			"rotationTurnLengthSeconds": pulumi.Int(a.TurnSeconds), "users": users,
		}},
	}
}

// ServiceIntegration is pagerduty:index/serviceIntegration:ServiceIntegration;
// IntegrationKey is the Events API v2 routing key (a secret).
type ServiceIntegration struct {
	pulumi.CustomResourceState
	IntegrationKey pulumi.StringOutput `pulumi:"integrationKey"`
}

// eventsV2 is the integration type Alertmanager's pagerduty_configs
// routing_key speaks.
const eventsV2 = "events_api_v2_inbound_integration"

func newIntegration(ctx *pulumi.Context, name, label string, service pulumi.StringInput, opts ...pulumi.ResourceOption) (*ServiceIntegration, error) {
	var r ServiceIntegration
	opts = append(opts, pulumi.AdditionalSecretOutputs([]string{"integrationKey"}))
	err := ctx.RegisterResource(integrationType, name, pulumi.Map{
		"name": pulumi.String(label), "service": service, "type": pulumi.String(eventsV2),
	}, &r, opts...)
	return &r, err
}

// lookupUser finds a PagerDuty user by email: the people exist in
// PagerDuty already; the program only references them.
func lookupUser(ctx *pulumi.Context, email string, p *Provider) (string, error) {
	var out struct {
		ID string `pulumi:"id"`
	}
	if err := ctx.Invoke(getUserToken, map[string]any{"email": email}, &out, pulumi.Provider(p)); err != nil {
		return "", fmt.Errorf("PagerDuty user %s: %w", email, err)
	}
	return out.ID, nil
}

// lookupService finds a service the peer region's stack created.
func lookupService(ctx *pulumi.Context, name string, p *Provider) (string, error) {
	var out struct {
		ID string `pulumi:"id"`
	}
	if err := ctx.Invoke(getServiceToken, map[string]any{"name": name}, &out, pulumi.Provider(p)); err != nil {
		return "", fmt.Errorf("PagerDuty service %s: %w", name, err)
	}
	return out.ID, nil
}
