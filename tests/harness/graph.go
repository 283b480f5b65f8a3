package harness

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/tars-platform/infra/verify"
)

// Resource is one registered resource as the engine would see it.
type Resource struct {
	Type     string // type token, e.g. "aws:eks/cluster:Cluster"
	Name     string // logical name
	URN      string
	Parent   string // parent URN ("" only for the root stack)
	Provider string // provider reference "<urn>::<id>", "" for the default provider
	Custom   bool   // false for component resources
	// Inputs as registered, secrets kept as secret property values.
	Inputs resource.PropertyMap
	// Dependencies are the URNs the resource depends on; PropertyDependencies
	// the URNs each input came from (how a policy ties an S3 encryption
	// config to its bucket when IDs are still unknown).
	Dependencies         []string
	PropertyDependencies map[string][]string
	// Options are the resource options of the registration request, as
	// the engine gets them (Dependencies above are its dependsOn, explicit
	// and from inputs alike).
	Options
	// Version and PluginDownloadURL: the provider plugin the resource
	// asks for (set on provider resources registered by type token).
	Version, PluginDownloadURL string
}

// Options are a resource's options (the JSON names are the SDK's).
type Options struct {
	// Protect: the engine refuses to delete or replace the resource.
	Protect bool `json:"protect,omitempty"`
	// RetainOnDelete: the engine leaves the cloud resource in place when
	// the resource leaves the program or the stack is destroyed.
	RetainOnDelete bool `json:"retainOnDelete,omitempty"`
	// DeleteBeforeReplace: a replacement deletes the old resource first.
	DeleteBeforeReplace bool `json:"deleteBeforeReplace,omitempty"`
	// IgnoreChanges and ReplaceOnChanges are property paths.
	IgnoreChanges    []string `json:"ignoreChanges,omitempty"`
	ReplaceOnChanges []string `json:"replaceOnChanges,omitempty"`
	// Aliases are the resource's former identities: an alias URN, or
	// "name=<old name>" (with ",type=…", ",parent=<urn>" or ",noParent")
	// for a spec.
	Aliases []string `json:"aliases,omitempty"`
}

// Graph is what one run of the program registered.
type Graph struct {
	Stack     string
	Config    *StackConfig
	Resources []Resource
	// Exports are the stack output names.
	Exports []string
	// Invokes are the data-source tokens the program called, in order, and
	// InvokeArgs their arguments.
	Invokes    []string
	InvokeArgs []map[string]any
	// ProgramTime is the wall time of the program run under mocks.
	ProgramTime time.Duration

	byURN map[string]int
}

func (g *Graph) index() {
	g.byURN = make(map[string]int, len(g.Resources))
	for i, r := range g.Resources {
		g.byURN[r.URN] = i
	}
}

// ByType returns the resources of a type token, in registration order.
func (g *Graph) ByType(typ string) []Resource {
	return g.Filter(func(r Resource) bool { return r.Type == typ })
}

// Filter returns the resources keep accepts, in registration order.
func (g *Graph) Filter(keep func(Resource) bool) []Resource {
	var out []Resource
	for _, r := range g.Resources {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// Find returns the resource of a type and logical name.
func (g *Graph) Find(typ, name string) (Resource, bool) {
	for _, r := range g.Resources {
		if r.Type == typ && r.Name == name {
			return r, true
		}
	}
	return Resource{}, false
}

// ByURN returns the resource with a URN.
func (g *Graph) ByURN(urn string) (Resource, bool) {
	i, ok := g.byURN[urn]
	if !ok {
		return Resource{}, false
	}
	return g.Resources[i], true
}

// Children returns the direct children of urn.
func (g *Graph) Children(urn string) []Resource {
	return g.Filter(func(r Resource) bool { return r.Parent == urn })
}

// Component returns the nearest component ancestor of r ("" when r sits
// directly under the stack).
func (g *Graph) Component(r Resource) Resource {
	for p := r.Parent; p != ""; {
		pr, ok := g.ByURN(p)
		if !ok {
			break
		}
		if !pr.Custom && pr.Type != "pulumi:pulumi:Stack" {
			return pr
		}
		p = pr.Parent
	}
	return Resource{}
}

// Upstream returns every URN urn depends on, directly or through the
// resources it depends on (the engine creates all of them first).
func (g *Graph) Upstream(urn string) map[string]bool {
	seen := map[string]bool{}
	queue := []string{urn}
	for len(queue) > 0 {
		r, ok := g.ByURN(queue[0])
		queue = queue[1:]
		if !ok {
			continue
		}
		for _, d := range r.Dependencies {
			if !seen[d] {
				seen[d] = true
				queue = append(queue, d)
			}
		}
	}
	return seen
}

// Counts returns the number of resources per type token.
func (g *Graph) Counts() map[string]int {
	out := map[string]int{}
	for _, r := range g.Resources {
		out[r.Type]++
	}
	return out
}

// Types returns the type tokens present, sorted.
func (g *Graph) Types() []string {
	var out []string
	for t := range g.Counts() {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// SecretMarker replaces secret values in JSONInputs.
const SecretMarker = "[secret]"

// UnknownMarker stands for a value only known after deployment.
const UnknownMarker = "[unknown]"

// JSONInputs returns the inputs as plain JSON values with secrets shown as
// SecretMarker: safe to print.
func (r Resource) JSONInputs() map[string]any { return plainMap(r.Inputs, false) }

// PlainInputs returns the inputs as plain JSON values with secrets revealed
// and unknowns dropped: what a provider would receive.
func (r Resource) PlainInputs() map[string]any { return plainMap(r.Inputs, true) }

// Input returns the plain value at a dotted path ("vpcConfig.subnetIds").
func (r Resource) Input(path string) any {
	var cur any = r.PlainInputs()
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// IsSecret reports whether the top-level input key is a secret.
func (r Resource) IsSecret(key string) bool {
	v, ok := r.Inputs[resource.PropertyKey(key)]
	return ok && (v.IsSecret() || (v.IsOutput() && v.OutputValue().Secret))
}

func plainMap(m resource.PropertyMap, reveal bool) map[string]any {
	out := make(map[string]any, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v, keep := plainValue(m[resource.PropertyKey(k)], reveal); keep {
			out[k] = v
		}
	}
	return out
}

func plainValue(v resource.PropertyValue, reveal bool) (any, bool) {
	switch {
	case v.IsSecret():
		if !reveal {
			return SecretMarker, true
		}
		return plainValue(v.SecretValue().Element, reveal)
	case v.IsOutput():
		o := v.OutputValue()
		if o.Secret && !reveal {
			return SecretMarker, true
		}
		if !o.Known {
			return UnknownMarker, !reveal
		}
		return plainValue(o.Element, reveal)
	case v.IsComputed():
		return UnknownMarker, !reveal
	case v.IsNull():
		return nil, true
	case v.IsObject():
		return plainMap(v.ObjectValue(), reveal), true
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, 0, len(arr))
		for _, e := range arr {
			if x, keep := plainValue(e, reveal); keep {
				out = append(out, x)
			}
		}
		return out, true
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN), true
	case v.IsAsset(), v.IsArchive():
		return "[asset]", true
	}
	return v.V, true
}

// Inventory is what `tarsctl verify` expects of the region the graph
// deploys: its Kubernetes objects and Helm releases, inputs as JSON values
// (secrets masked).
func (g *Graph) Inventory(region string) (verify.Inventory, error) {
	res := make([]verify.Resource, 0, len(g.Resources))
	for _, r := range g.Resources {
		res = append(res, verify.Resource{Type: r.Type, Name: r.Name, Inputs: r.JSONInputs()})
	}
	return verify.NewInventory(region, res)
}
