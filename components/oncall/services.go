package oncall

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// EscalationRules turns the first levels of Escalation into PagerDuty
// rules: a rule's delay is the time until the next level; the last rule's
// is how long before the policy loops. targets holds the level's target
// (type and ID) by level name.
func EscalationRules(spec ServiceSpec, targets map[string]EscalationRule) ([]EscalationRule, error) {
	if spec.Levels < 1 || spec.Levels > len(Escalation) {
		return nil, fmt.Errorf("service %s: levels (%d) must be 1 to %d", spec.Name, spec.Levels, len(Escalation))
	}
	var rules []EscalationRule
	for i, l := range Escalation[:spec.Levels] {
		r, ok := targets[l.Name]
		if !ok {
			return nil, fmt.Errorf("service %s: no target for level %q", spec.Name, l.Name)
		}
		delay := spec.LastLevelRepeat
		if i+1 < spec.Levels {
			delay = Escalation[i+1].After - l.After
		}
		r.DelayMinutes = int(delay.Minutes())
		rules = append(rules, r)
	}
	return rules, nil
}

// newServices creates the rotation, one escalation policy per service and
// the services. It returns the services' IDs by name.
func (o *OnCall) newServices(ctx *pulumi.Context, name string, people People, prov *Provider) (map[string]pulumi.StringInput, error) {
	opts := []pulumi.ResourceOption{pulumi.Parent(o), pulumi.Provider(prov)}
	var sres []pulumi.StringInput
	for _, e := range people.Rotation {
		id, err := lookupUser(ctx, e, prov)
		if err != nil {
			return nil, err
		}
		sres = append(sres, pulumi.String(id))
	}
	var rotation Schedule
	if err := ctx.RegisterResource(scheduleType, name+"-rotation", ScheduleArgs{
		Name: RotationName, Description: "T.A.R.S. production on-call: weekly, handoff Monday 09:00 UTC (managed by Pulumi)",
		TimeZone: "UTC", Start: people.RotationStart, TurnSeconds: int(RotationTurn.Seconds()), UserIDs: sres,
	}.inputs(), &rotation, opts...); err != nil {
		return nil, fmt.Errorf("rotation: %w", err)
	}
	targets := map[string]EscalationRule{Escalation[0].Name: {TargetType: "schedule_reference", TargetID: rotation.ID()}}
	for _, p := range []struct{ level, email string }{
		{Escalation[1].Name, people.SRELead}, {Escalation[2].Name, people.EngineeringLead}, {Escalation[3].Name, people.CTO},
	} {
		id, err := lookupUser(ctx, p.email, prov)
		if err != nil {
			return nil, err
		}
		targets[p.level] = EscalationRule{TargetType: "user_reference", TargetID: pulumi.String(id)}
	}
	out := map[string]pulumi.StringInput{}
	for _, s := range Services {
		rules, err := EscalationRules(s, targets)
		if err != nil {
			return nil, err
		}
		var levels []string
		for _, l := range Escalation[:s.Levels] {
			levels = append(levels, fmt.Sprintf("%s after %s", l.Name, l.After))
		}
		var policy EscalationPolicy
		if err := ctx.RegisterResource(policyType, name+"-"+s.Name, EscalationPolicyArgs{
			Name: s.Name, Description: fmt.Sprintf("%s incidents: %s (seed 000)", s.Severity, strings.Join(levels, ", ")),
			NumLoops: 2, Rules: rules,
		}.inputs(), &policy, opts...); err != nil {
			return nil, fmt.Errorf("%s escalation policy: %w", s.Name, err)
		}
		var svc Service
		if err := ctx.RegisterResource(serviceType, name+"-"+s.Name, ServiceArgs{
			Name: s.Name, Description: fmt.Sprintf("T.A.R.S. production %s alerts from both regions' Alertmanagers", s.Severity),
			EscalationPolicy: policy.ID(), AcknowledgementTimeout: "null", AutoResolveTimeout: "null", Urgency: "high",
		}.inputs(), &svc, opts...); err != nil {
			return nil, fmt.Errorf("%s service: %w", s.Name, err)
		}
		out[s.Name] = svc.ID()
	}
	return out, nil
}
