package harness

import (
	"encoding/json"
	"fmt"
	"github.com/tars-platform/infra/stacks"
	"io"
	"reflect"
	"slices"
	"strings"
)

// JSONResource is one resource of the plan's JSON form.
type JSONResource struct {
	Type   string         `json:"type"`
	Name   string         `json:"name"`
	URN    string         `json:"urn"`
	Parent string         `json:"parent"`
	Custom bool           `json:"custom"`
	Inputs map[string]any `json:"inputs"`
	// Options are the resource options the program set (none: omitted).
	Options *JSONOptions `json:"options,omitempty"`
}

// JSONOptions are a resource's options in the plan's JSON form, with the
// URNs it depends on.
type JSONOptions struct {
	Options
	DependsOn []string `json:"dependsOn,omitempty"`
}

// JSONPlan is the plan's JSON form: the graph for tools, secrets shown as
// SecretMarker.
type JSONPlan struct {
	Stack     string         `json:"stack"`
	Resources []JSONResource `json:"resources"`
	Exports   []string       `json:"exports"`
	ProgramMS int64          `json:"programMs"`
}

// JSON returns the plan's JSON form.
func (g *Graph) JSON() JSONPlan {
	p := JSONPlan{Stack: g.Stack, Exports: g.Exports, ProgramMS: g.ProgramTime.Milliseconds()}
	for _, r := range g.Resources {
		jr := JSONResource{
			Type: r.Type, Name: r.Name, URN: r.URN, Parent: r.Parent, Custom: r.Custom, Inputs: r.JSONInputs(),
		}
		o := JSONOptions{Options: r.Options, DependsOn: nonEmpty(r.Dependencies)}
		if !reflect.ValueOf(o).IsZero() {
			jr.Options = &o
		}
		p.Resources = append(p.Resources, jr)
	}
	return p
}

// WriteJSON writes the plan's JSON form, indented.
func (g *Graph) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(g.JSON())
}

// OptionList is the resource's options as the plan's tree shows them:
// protect, retainOnDelete, deleteBeforeReplace, ignoreChanges=[paths],
// replaceOnChanges=[paths], aliases=[…] and dependsOn=N (how many
// resources it waits for; the JSON form lists them).
func (r Resource) OptionList() []string {
	var out []string
	for _, f := range []struct {
		on   bool
		name string
	}{{r.Protect, "protect"}, {r.RetainOnDelete, "retainOnDelete"}, {r.DeleteBeforeReplace, "deleteBeforeReplace"}} {
		if f.on {
			out = append(out, f.name)
		}
	}
	for _, f := range []struct {
		name string
		v    []string
	}{{"ignoreChanges", r.IgnoreChanges}, {"replaceOnChanges", r.ReplaceOnChanges}, {"aliases", r.Aliases}} {
		if len(f.v) > 0 {
			out = append(out, f.name+"=["+strings.Join(f.v, " ")+"]")
		}
	}
	if n := len(r.Dependencies); n > 0 {
		out = append(out, fmt.Sprintf("dependsOn=%d", n))
	}
	return out
}

// Protected are the resources the program protects (Protect), by type
// and name: what a destroy of the stack is refused for.
func (g *Graph) Protected() []Resource {
	out := g.Filter(func(r Resource) bool { return r.Protect })
	slices.SortFunc(out, func(x, y Resource) int {
		if c := strings.Compare(x.Type, y.Type); c != 0 {
			return c
		}
		return strings.Compare(x.Name, y.Name)
	})
	return out
}

// WriteText writes the resource tree grouped by component (each resource
// with its options), the protected resources, the counts per type, the
// total and the program time.
func (g *Graph) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Stack %s\n\n", g.Stack)
	for _, root := range g.Resources {
		if root.Type == "pulumi:pulumi:Stack" || (root.Parent != "" && g.hasResource(root.Parent) && !g.isStack(root.Parent)) {
			continue
		}
		g.writeTree(&b, root, 0)
	}
	protected := g.Protected()
	fmt.Fprintf(&b, "\nProtected (a destroy, or a change that deletes or replaces one, is refused): %d\n", len(protected))
	for _, r := range protected {
		retained := ""
		if r.RetainOnDelete {
			retained = "  (retained on delete)"
		}
		fmt.Fprintf(&b, "  %s  %s%s\n", r.Type, r.Name, retained)
	}
	counts := g.Counts()
	b.WriteString("\nResources by type:\n")
	for _, t := range g.Types() {
		fmt.Fprintf(&b, "%5d  %s\n", counts[t], t)
	}
	custom, components := 0, 0
	for _, r := range g.Resources {
		if r.Custom {
			custom++
		} else {
			components++
		}
	}
	fmt.Fprintf(&b, "\nTotal: %d resources (%d custom, %d components)\n", len(g.Resources), custom, components)
	if len(g.Exports) > 0 {
		fmt.Fprintf(&b, "Exports: %s\n", strings.Join(g.Exports, ", "))
	}
	if missing := g.missingSecrets(); len(missing) > 0 {
		fmt.Fprintf(&b, "\n%d secret(s) the program reads are not in Pulumi.%s.yaml: planned here with offline placeholders, but `pulumi up` refuses the stack until each is set:\n",
			len(missing), g.Stack)
		for _, key := range missing {
			fmt.Fprintf(&b, "  pulumi config set --secret --stack %s %s '<value>'\n", g.Stack, key)
		}
	}
	fmt.Fprintf(&b, "Program time: %s\n", g.ProgramTime.Round(1e6))
	_, err := io.WriteString(w, b.String())
	return err
}

func (g *Graph) hasResource(urn string) bool { _, ok := g.byURN[urn]; return ok }

func (g *Graph) isStack(urn string) bool {
	r, ok := g.ByURN(urn)
	return ok && r.Type == "pulumi:pulumi:Stack"
}

func (g *Graph) writeTree(b *strings.Builder, r Resource, depth int) {
	kind := ""
	if !r.Custom {
		kind = " [component]"
	}
	opts := ""
	if o := r.OptionList(); len(o) > 0 {
		opts = "  {" + strings.Join(o, ", ") + "}"
	}
	fmt.Fprintf(b, "%s%s  %s%s%s\n", strings.Repeat("  ", depth), r.Type, r.Name, kind, opts)
	children := g.Children(r.URN)
	// Components first, then by type and name, so the tree reads the same every run.
	slices.SortStableFunc(children, func(x, y Resource) int {
		if x.Custom != y.Custom {
			if !x.Custom {
				return -1
			}
			return 1
		}
		if c := strings.Compare(x.Type, y.Type); c != 0 {
			return c
		}
		return strings.Compare(x.Name, y.Name)
	})
	for _, c := range children {
		g.writeTree(b, c, depth+1)
	}
}

// missingSecrets are the declared secrets the stack file does not set and
// the program reads with this config (stacks.UnreadSecrets).
func (g *Graph) missingSecrets() []string {
	if g.Config == nil {
		return nil
	}
	unread := stacks.UnreadSecrets(g.Config.Values)
	var out []string
	for _, k := range g.Config.Placeholders {
		if !slices.Contains(unread, k) {
			out = append(out, k)
		}
	}
	return out
}

// nonEmpty is nil for an empty list (omitted from the JSON form).
func nonEmpty(v []string) []string {
	if len(v) == 0 {
		return nil
	}
	return v
}
