package helmchart

import (
	"fmt"
	"maps"
	"slices"

	"helm.sh/helm/v3/pkg/chart"
)

// Defaults is the chart's full default values tree: its values.yaml, and
// under each dependency's key (its alias, else its name) that dependency's
// own defaults with the parent's overrides on top; every chart's `global`
// defaults are merged into the root's.
func Defaults(ch *chart.Chart) map[string]any {
	out := copyValues(ch.Values)
	globals, _ := out["global"].(map[string]any)
	for _, sub := range ch.Dependencies() {
		key := sub.Name()
		for _, d := range ch.Metadata.Dependencies {
			if d.Name == sub.Name() && d.Alias != "" {
				key = d.Alias
			}
		}
		subDefaults := Defaults(sub)
		if g, ok := subDefaults["global"].(map[string]any); ok {
			if globals == nil {
				globals = map[string]any{}
			}
			globals = overlay(g, globals)
		}
		delete(subDefaults, "global")
		parent, _ := out[key].(map[string]any)
		out[key] = overlay(subDefaults, parent)
	}
	if globals != nil {
		out["global"] = globals
	}
	return out
}

// overlay returns base with top's keys on top, recursively for maps.
func overlay(base, top map[string]any) map[string]any {
	out := copyValues(base)
	for k, v := range top {
		if bm, ok := out[k].(map[string]any); ok {
			if tm, ok := v.(map[string]any); ok {
				out[k] = overlay(bm, tm)
				continue
			}
		}
		out[k] = copyValue(v)
	}
	return out
}

// KeyProblem is a value the chart does not know.
type KeyProblem struct {
	Path string // dotted key path, e.g. "serviceAccount.name"
	Msg  string
}

func (p KeyProblem) String() string { return p.Path + " " + p.Msg }

// UnknownKeys walks the values the program sets against the chart's
// defaults and returns every key the defaults do not have, and every value
// of another shape than its default (a map where the default is a
// non-empty map, and the reverse). Below a key whose default is null, an
// empty map or an empty list, anything goes: the chart passes such a value
// through whole (resources, nodeSelector, annotations …).
func UnknownKeys(defaults, values map[string]any) []KeyProblem {
	var out []KeyProblem
	walkKeys(defaults, values, "", &out)
	slices.SortFunc(out, func(a, b KeyProblem) int {
		switch {
		case a.Path < b.Path:
			return -1
		case a.Path > b.Path:
			return 1
		}
		return 0
	})
	return out
}

func walkKeys(defaults, values map[string]any, prefix string, out *[]KeyProblem) {
	for _, k := range slices.Sorted(maps.Keys(values)) {
		v := values[k]
		path := prefix + k
		d, ok := defaults[k]
		if !ok {
			*out = append(*out, KeyProblem{path, "is not a key of the chart's values"})
			continue
		}
		dm, dIsMap := d.(map[string]any)
		vm, vIsMap := v.(map[string]any)
		switch {
		case d == nil, dIsMap && len(dm) == 0, isEmptyList(d):
			// passed through whole
		case dIsMap && vIsMap:
			walkKeys(dm, vm, path+".", out)
		case dIsMap && v != nil:
			*out = append(*out, KeyProblem{path, fmt.Sprintf("is a map in the chart's values, the program sets %T", v)})
		case vIsMap && !dIsMap:
			*out = append(*out, KeyProblem{path, fmt.Sprintf("is %T in the chart's values, the program sets a map", d)})
		}
	}
}

func isEmptyList(v any) bool {
	l, ok := v.([]any)
	return ok && len(l) == 0
}
