package harness

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"strings"
)

// PolicyResources turns the graph into the resources a policy pack sees
// during a preview: every resource with its inputs (secrets kept secret),
// parent and property dependencies. Component resources are included, as
// the engine includes them.
func (g *Graph) PolicyResources() []policyx.AnalyzerResource {
	out := make([]policyx.AnalyzerResource, 0, len(g.Resources))
	for _, r := range g.Resources {
		out = append(out, policyx.AnalyzerResource{
			Type:                 r.Type,
			Name:                 r.Name,
			URN:                  r.URN,
			Parent:               r.Parent,
			Properties:           resource.FromResourcePropertyMap(r.Inputs),
			Dependencies:         r.Dependencies,
			PropertyDependencies: r.PropertyDependencies,
			// What the engine's analyzer request carries of the options.
			Options: pulumi.ResourceOptions{
				Protect:             r.Protect,
				DeleteBeforeReplace: r.DeleteBeforeReplace,
				IgnoreChanges:       r.IgnoreChanges,
				Aliases:             aliasURNs(r.Aliases),
			},
		})
	}
	return out
}

// aliasURNs are the aliases given as URNs (the engine sends the analyzer
// alias URNs; a spec is resolved to one by the engine).
func aliasURNs(aliases []string) []pulumi.Alias {
	var out []pulumi.Alias
	for _, a := range aliases {
		if strings.HasPrefix(a, "urn:") {
			out = append(out, pulumi.Alias{URN: pulumi.URN(a)})
		}
	}
	return out
}
