package harness

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
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
		})
	}
	return out
}
