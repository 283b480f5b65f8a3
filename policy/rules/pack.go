// Package rules is the T.A.R.S. policy pack: the SLO settings the alerting
// must carry and the platform's security and reliability baseline. The
// rules are plain functions over policyx resources, so tests and `tarsctl
// plan` run them in-process, and policy/main.go serves the same pack to the
// Pulumi engine (`pulumi preview --policy-pack policy`).
package rules

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// PackName and PackVersion identify the pack to the engine.
const PackName = "tars-platform"

// PackVersion is bumped when a rule changes meaning.
var PackVersion = semver.MustParse("0.1.0")

// Pack returns the policy pack with every policy.
func Pack() (policyx.PolicyPack, error) {
	return policyx.NewPolicyPack(PackName, PackVersion, policyx.EnforcementLevelMandatory, Policies())
}

// Policies returns every policy of the pack, one file per group.
func Policies() []policyx.Policy {
	var out []policyx.Policy
	out = append(out, sloPolicies()...)
	out = append(out, securityPolicies()...)
	out = append(out, reliabilityPolicies()...)
	out = append(out, platformPolicies()...)
	out = append(out, metricsPolicies()...)
	out = append(out, postgresPolicies()...)
	out = append(out, costPolicies()...)
	out = append(out, statefulPolicies()...)
	out = append(out, stackPolicies()...)
	return out
}

// check is what a resource rule says about one resource: one message per
// violation, none when it complies.
type check func(r policyx.AnalyzerResource, cfg map[string]any) []string

// resourcePolicy builds a resource policy over the given type tokens.
func resourcePolicy(name, description string, level policyx.EnforcementLevel, schema *policyx.ConfigSchema, types []string, fn check) policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(name, policyx.ResourceValidationPolicyArgs{
		Description:      description,
		EnforcementLevel: level,
		ConfigSchema:     schema,
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			if len(types) > 0 && !slices.Contains(types, args.Resource.Type) {
				return nil
			}
			for _, msg := range fn(args.Resource, withDefaults(schema, args.Config)) {
				args.Manager.ReportViolation(msg, args.Resource.URN)
			}
			return nil
		},
	})
}

// finding is one stack-policy violation, optionally about one resource.
type finding struct {
	urn, msg string
}

// stackPolicy builds a policy over the whole stack.
func stackPolicy(name, description string, level policyx.EnforcementLevel, fn func(rs []policyx.AnalyzerResource) []finding) policyx.StackValidationPolicy {
	return policyx.NewStackValidationPolicy(name, policyx.StackValidationPolicyArgs{
		Description:      description,
		EnforcementLevel: level,
		ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
			for _, f := range fn(args.Resources) {
				args.Manager.ReportViolation(f.msg, f.urn)
			}
			return nil
		},
	})
}

// withDefaults fills the config a rule reads with its schema's defaults.
func withDefaults(schema *policyx.ConfigSchema, cfg map[string]any) map[string]any {
	out := map[string]any{}
	if schema != nil {
		for k, prop := range schema.Properties {
			if d, ok := prop["default"]; ok {
				out[k] = d
			}
		}
	}
	for k, v := range cfg {
		out[k] = v
	}
	return out
}

// Violation is one policy result of an in-process evaluation.
type Violation struct {
	Policy  string
	Level   policyx.EnforcementLevel
	URN     string
	Message string
}

func (v Violation) String() string {
	return fmt.Sprintf("[%s] %s: %s (%s)", LevelName(v.Level), v.Policy, v.Message, v.URN)
}

// LevelName spells an enforcement level as the CLI does.
func LevelName(l policyx.EnforcementLevel) string {
	switch l {
	case policyx.EnforcementLevelMandatory:
		return "mandatory"
	case policyx.EnforcementLevelAdvisory:
		return "advisory"
	case policyx.EnforcementLevelDisabled:
		return "disabled"
	}
	return "remediate"
}

type manager struct {
	policy string
	level  policyx.EnforcementLevel
	out    *[]Violation
}

func (m manager) ReportViolation(message, urn string) {
	*m.out = append(*m.out, Violation{Policy: m.policy, Level: m.level, URN: urn, Message: message})
}

// Evaluate runs every policy of pack over resources in-process, as the
// engine would during a preview: each resource policy on each resource, then
// each stack policy once. Results are sorted for stable output.
func Evaluate(ctx context.Context, pack policyx.PolicyPack, resources []policyx.AnalyzerResource) ([]Violation, error) {
	var out []Violation
	for _, p := range pack.Policies() {
		m := manager{policy: p.Name(), level: p.EnforcementLevel(), out: &out}
		switch pol := p.(type) {
		case policyx.ResourceValidationPolicy:
			for _, r := range resources {
				if err := pol.Validate(ctx, policyx.ResourceValidationArgs{Manager: m, Resource: r, Config: map[string]any{}}); err != nil {
					return nil, fmt.Errorf("policy %s on %s: %w", p.Name(), r.URN, err)
				}
			}
		case policyx.StackValidationPolicy:
			if err := pol.Validate(ctx, policyx.StackValidationArgs{Manager: m, Resources: resources}); err != nil {
				return nil, fmt.Errorf("policy %s: %w", p.Name(), err)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Policy != out[j].Policy {
			return out[i].Policy < out[j].Policy
		}
		return out[i].URN < out[j].URN
	})
	return out, nil
}
