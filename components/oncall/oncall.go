// Package oncall is the platform's PagerDuty side (seed 000 "On-Call
// Rotation", "PagerDuty"): the weekly rotation of the on-call SREs, the
// three services tars-production-critical/high/moderate (P0/P1/P2) with
// their escalation (on-call SRE at once, SRE lead after 30 minutes,
// engineering lead after 1 hour, CTO after 2 hours for P0), and per region
// one Events API v2 integration per service whose key feeds that region's
// Alertmanager receivers. The services, policies and rotation are
// singletons: one stack creates them (stacks.Config.OwnsOnCall, fixed
// across DR flips); the other finds the services by name and adds its own
// integrations.
package oncall

import (
	"fmt"
	"net/mail"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/internal/check"
	"github.com/tars-platform/infra/slo"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "tars:oncall:OnCall"

// Seed 000 settings.
const (
	// RotationTurn: "Rotation: Weekly (Monday 9:00 UTC)".
	RotationTurn = 7 * 24 * time.Hour
	// RotationSize: "Team Size: 4 SREs".
	RotationSize = 4
	// RotationName is the on-call schedule.
	RotationName = "tars-production-sre"
)

// Level is one escalation level: who, and how long after the incident
// opened they are notified.
type Level struct {
	Name  string
	After time.Duration
}

// Escalation is seed 000's "Escalation Policy": Level 1 at once, Level 2
// after 30 minutes, Level 3 after 1 hour, Level 4 after 2 hours (P0 only).
var Escalation = []Level{
	{"on-call SRE", 0}, {"SRE lead", 30 * time.Minute}, {"engineering lead", time.Hour}, {"CTO", 2 * time.Hour},
}

// ServiceSpec is one PagerDuty service: the severity it receives and how
// many escalation levels it climbs.
type ServiceSpec struct {
	Name     string
	Severity slo.Severity
	Levels   int
	// LastLevelRepeat: the last level is notified again after this while
	// nobody acknowledges (PagerDuty loops the policy).
	LastLevelRepeat time.Duration
}

// Services: seed 000 "Services". P0 climbs to the CTO; P1 to the
// engineering lead ("On-call SRE + Lead", escalate in 30 minutes); P2 stays
// with the on-call SRE ("P2: On-call SRE", 2 hours to respond).
var Services = []ServiceSpec{
	{Name: "tars-production-critical", Severity: slo.P0, Levels: 4, LastLevelRepeat: 30 * time.Minute},
	{Name: "tars-production-high", Severity: slo.P1, Levels: 3, LastLevelRepeat: 30 * time.Minute},
	{Name: "tars-production-moderate", Severity: slo.P2, Levels: 1, LastLevelRepeat: 2 * time.Hour},
}

// People are the PagerDuty users the program references by email (stack
// config tars:pagerduty; they exist in PagerDuty already).
type People struct {
	// Rotation is the on-call SREs, in rotation order (seed: 4).
	Rotation []string `json:"rotation"`
	// RotationStart is the first handoff, a Monday 09:00 UTC (RFC 3339).
	RotationStart   string `json:"rotationStart"`
	SRELead         string `json:"sreLead"`
	EngineeringLead string `json:"engineeringLead"`
	CTO             string `json:"cto"`
}

// Args configures the on-call wiring of one region.
type Args struct {
	// Region is the logical region; it names the integrations. Required.
	Region string
	// Owner: this stack creates the rotation, policies and services.
	Owner bool
	// People are required for the owner.
	People People
	// Token is the PagerDuty API token (a secret). Required.
	Token pulumi.StringInput
}

// Validate reports every problem, with tars:pagerduty's spelling.
func (a Args) Validate() error {
	var p check.Problems
	if !check.DNSLabel(a.Region, 20) {
		p.Addf("region", "(%q) must be a short lower-case name like us-east", a.Region)
	}
	if a.Token == nil {
		p.Addf("token", "is required (tars:pagerdutyToken)")
	}
	if !a.Owner {
		return p.Err()
	}
	if len(a.People.Rotation) != RotationSize {
		p.Addf("rotation", "has %d people; seed 000's rotation is %d SREs", len(a.People.Rotation), RotationSize)
	}
	seen := map[string]bool{}
	for i, e := range a.People.Rotation {
		if !isEmail(e) {
			p.Addf(fmt.Sprintf("rotation[%d]", i), "(%q) must be the email of a PagerDuty user", e)
		}
		if seen[e] {
			p.Addf(fmt.Sprintf("rotation[%d]", i), "(%q) is listed twice", e)
		}
		seen[e] = true
	}
	for _, f := range []struct{ key, v string }{{"sreLead", a.People.SRELead}, {"engineeringLead", a.People.EngineeringLead}, {"cto", a.People.CTO}} {
		if !isEmail(f.v) {
			p.Addf(f.key, "(%q) must be the email of a PagerDuty user", f.v)
		}
	}
	start, err := time.Parse(time.RFC3339, a.People.RotationStart)
	switch {
	case err != nil:
		p.Addf("rotationStart", "(%q) must be an RFC 3339 time like 2026-01-05T09:00:00Z", a.People.RotationStart)
	case start.UTC().Weekday() != time.Monday || start.UTC().Hour() != 9 || start.UTC().Minute() != 0:
		p.Addf("rotationStart", "(%q) must be a Monday 09:00 UTC: the seed's weekly handoff", a.People.RotationStart)
	}
	return p.Err()
}

func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// OnCall is the region's PagerDuty wiring.
type OnCall struct {
	pulumi.ResourceState
	// Keys are the Events API v2 routing keys of this region's
	// integrations, by severity (secrets).
	Keys map[slo.Severity]pulumi.StringOutput
}

// New creates the on-call wiring. It uses its own PagerDuty provider.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*OnCall, error) {
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("oncall %s: %w", name, err)
	}
	o := &OnCall{Keys: map[slo.Severity]pulumi.StringOutput{}}
	if err := ctx.RegisterComponentResource(TypeToken, name, o, opts...); err != nil {
		return nil, fmt.Errorf("oncall %s: register: %w", name, err)
	}
	prov, err := newProvider(ctx, name+"-pagerduty", args.Token, pulumi.Parent(o))
	if err != nil {
		return nil, fmt.Errorf("oncall %s: provider: %w", name, err)
	}
	var services map[string]pulumi.StringInput
	if args.Owner {
		services, err = o.newServices(ctx, name, args.People, prov)
	} else {
		services, err = findServices(ctx, prov)
	}
	if err != nil {
		return nil, fmt.Errorf("oncall %s: %w", name, err)
	}
	outs := pulumi.Map{}
	for _, s := range Services {
		in, err := newIntegration(ctx, name+"-"+s.Name, "alertmanager-"+args.Region, services[s.Name], pulumi.Parent(o), pulumi.Provider(prov))
		if err != nil {
			return nil, fmt.Errorf("oncall %s: %s integration: %w", name, s.Name, err)
		}
		o.Keys[s.Severity] = in.IntegrationKey
		outs[s.Name] = in.IntegrationKey
	}
	if err := ctx.RegisterResourceOutputs(o, outs); err != nil {
		return nil, fmt.Errorf("oncall %s: register outputs: %w", name, err)
	}
	return o, nil
}

// findServices looks the owner's services up by name.
func findServices(ctx *pulumi.Context, prov *Provider) (map[string]pulumi.StringInput, error) {
	out := map[string]pulumi.StringInput{}
	for _, s := range Services {
		id, err := lookupService(ctx, s.Name, prov)
		if err != nil {
			return nil, fmt.Errorf("%w (the other region's stack creates it: run it first)", err)
		}
		out[s.Name] = pulumi.String(id)
	}
	return out, nil
}
