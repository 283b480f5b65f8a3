package rules

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/tars-platform/infra/internal/costmodel"
	"github.com/tars-platform/infra/slo"
)

// platformRegions: the platform runs the same program in two regions
// (seed 003 "Multi-Region Deployment").
const platformRegions = 2

func costPolicies() []policyx.Policy {
	return []policyx.Policy{
		stackPolicy("monthly-cost-within-budget",
			fmt.Sprintf("Reports when the minimum monthly cost of the platform's %d regions, priced from this region's plan (node groups at their minimum size), exceeds the $%d monthly budget.", platformRegions, slo.MonthlyBudgetUSD),
			policyx.EnforcementLevelAdvisory, monthlyCost),
	}
}

// monthlyCost prices what the policy sees of the region: its AWS resources
// and the Kubernetes objects the program declares itself. It cannot see
// inside Helm releases, so the volumes charts claim are not counted: the
// figure is a lower bound (tarsctl cost renders the charts and prices them
// too). The other region runs the same program and is priced the same.
func monthlyCost(rs []policyx.AnalyzerResource) []finding {
	var resources []costmodel.Resource
	var objects []map[string]any
	at := "" // the finding is about the cluster whose nodes cost most
	for _, r := range rs {
		if r.Type == "aws:eks/cluster:Cluster" {
			at = r.URN
		}
		in := map[string]any{}
		for k, v := range r.Properties.All {
			in[k] = plain(v)
		}
		switch {
		case strings.HasPrefix(r.Type, "aws:"):
			resources = append(resources, costmodel.Resource{Type: r.Type, Name: r.Name, Inputs: in})
		case strings.HasPrefix(r.Type, "kubernetes:") && r.Type != typeHelmRelease && in["kind"] != nil:
			objects = append(objects, in)
		}
	}
	inv, err := costmodel.Collect(resources, objects)
	if err != nil {
		return []finding{{at, fmt.Sprintf("cannot price the plan: %v", err)}}
	}
	if inv.AwsRegion == "" {
		return nil // no subnets: not a region stack, nothing to price
	}
	e, err := costmodel.AWS.Estimate(inv.AwsRegion, inv)
	if err != nil {
		return []finding{{at, fmt.Sprintf("cannot price the plan: %v", err)}}
	}
	total := e.Min * platformRegions
	if total <= slo.MonthlyBudgetUSD {
		return nil
	}
	return []finding{{at, fmt.Sprintf("the minimum monthly cost of %d regions is at least $%.2f ($%.2f for this region's plan in %s, node groups at their minimum, chart volumes not counted; prices %s), over the $%d monthly budget: run `tarsctl cost --stack <both stacks>` for the full figure",
		platformRegions, total, e.Min, inv.AwsRegion, costmodel.AWS.Date, slo.MonthlyBudgetUSD)}}
}
