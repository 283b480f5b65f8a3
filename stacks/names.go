package stacks

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Renames records the components renamed after stacks were deployed: a
// component's kind ("redis", "postgres", … — the word after the region in
// its name; "cluster" for the region's cluster, named by the region alone)
// → its later names, oldest first, each the part after "<region>-". The
// component is registered under the last and aliased to every earlier one
// (its first name included), so the engine moves it, and every child whose
// name starts with the component's (DESIGN: child names derive from the
// component name) follows through the alias it inherits: nothing is
// replaced. Renaming a component is a row here, never an edit of the kind
// in the code.
type Renames map[string][]string

// Renamed are the renames of the deployed stacks: none yet.
var Renamed = Renames{}

// names are the component's names in the region, its current name last.
func (r Renames) names(region, kind string) []string {
	first := region + "-" + kind
	if kind == "cluster" {
		first = region
	}
	out := []string{first}
	for _, n := range r[kind] {
		out = append(out, region+"-"+n)
	}
	return out
}

// name is the logical name of the region's component of a kind.
func (c *Config) name(kind string) string {
	n := c.renames.names(c.Topology.Region, kind)
	return n[len(n)-1]
}

// aliases are the component's former names, as an option (none: no
// aliases).
func (c *Config) aliases(kind string) pulumi.ResourceOption {
	n := c.renames.names(c.Topology.Region, kind)
	var out []pulumi.Alias
	for _, former := range n[:len(n)-1] {
		out = append(out, pulumi.Alias{Name: pulumi.String(former)})
	}
	return pulumi.Aliases(out)
}
