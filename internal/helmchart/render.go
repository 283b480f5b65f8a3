package helmchart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
)

// Input is one release to render, as the Release resource installs it.
type Input struct {
	Chart       *chart.Chart
	ReleaseName string
	Namespace   string
	Values      map[string]any
	// KubeVersion is the cluster's Kubernetes version ("1.34").
	KubeVersion string
	// APIVersions are the API versions ("group/version" and
	// "group/version/Kind") that other releases' CRDs add to the cluster
	// before this one is installed; Helm's built-in set is always there.
	APIVersions []string
}

// Object is one rendered Kubernetes object.
type Object struct {
	// Source is the template it came from ("cert-manager/templates/…"),
	// or the crds/ file.
	Source string
	// Hook is the Helm hook annotation ("pre-install,pre-upgrade"), "" for
	// ordinary objects.
	Hook string
	Body map[string]any
}

// Kind, Name, Namespace and APIVersion read the object's identity.
func (o Object) Kind() string       { s, _ := o.Body["kind"].(string); return s }
func (o Object) APIVersion() string { s, _ := o.Body["apiVersion"].(string); return s }
func (o Object) Name() string       { return o.meta("name") }
func (o Object) Namespace() string  { return o.meta("namespace") }

func (o Object) meta(key string) string {
	m, _ := o.Body["metadata"].(map[string]any)
	s, _ := m[key].(string)
	return s
}

// ID names the object as kind namespace/name.
func (o Object) ID() string { return fmt.Sprintf("%s %s/%s", o.Kind(), o.Namespace(), o.Name()) }

// Rendered is what installing a release creates, in Helm's install order.
type Rendered struct {
	// CRDs from the charts' crds/ folders (Helm installs them first and
	// never upgrades them) and CRDs rendered from templates.
	CRDs []Object
	// Objects are the templates' objects other than CRDs, hooks excluded.
	Objects []Object
	// Hooks are the objects that install and upgrade hooks create (test
	// hooks excluded: `pulumi up` never runs them).
	Hooks []Object
}

// All returns CRDs, objects and hooks.
func (r *Rendered) All() []Object {
	return slices.Concat(r.CRDs, r.Objects, r.Hooks)
}

// Render renders a release offline as `helm install` would, with the
// Kubernetes version and API versions given: values are merged with the
// chart's defaults, dependencies enabled by their conditions, hooks
// separated. Schema validation is left to Schema so each check reports on
// its own. The chart is modified (its disabled dependencies removed); load
// a fresh copy for each render.
func Render(ctx context.Context, in Input) (*Rendered, error) {
	kv, err := chartutil.ParseKubeVersion(in.KubeVersion)
	if err != nil {
		return nil, fmt.Errorf("kubernetes version %q: %w", in.KubeVersion, err)
	}
	inst := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	inst.ClientOnly = true
	inst.DryRun = true
	inst.DryRunOption = "client"
	inst.Replace = true
	inst.ReleaseName = in.ReleaseName
	inst.Namespace = in.Namespace
	inst.KubeVersion = kv
	inst.APIVersions = in.APIVersions
	inst.SkipSchemaValidation = true
	inst.DisableOpenAPIValidation = true
	rel, err := inst.RunWithContext(ctx, in.Chart, copyValues(in.Values))
	if err != nil {
		return nil, fmt.Errorf("render %s %s as release %s in %s: %w", in.Chart.Name(), in.Chart.Metadata.Version, in.ReleaseName, in.Namespace, err)
	}
	out := &Rendered{}
	// After the run the chart holds only the enabled dependencies: their
	// crds/ folders are what Helm installs.
	for _, crd := range in.Chart.CRDObjects() {
		objs, err := decode(crd.Filename, crd.File.Data)
		if err != nil {
			return nil, err
		}
		out.CRDs = append(out.CRDs, objs...)
	}
	if err := out.addManifest(rel.Manifest); err != nil {
		return nil, err
	}
	for _, h := range rel.Hooks {
		if isTestHook(h) {
			continue
		}
		objs, err := decode(h.Path, []byte(h.Manifest))
		if err != nil {
			return nil, err
		}
		for i := range objs {
			objs[i].Hook = hookEvents(h)
		}
		out.Hooks = append(out.Hooks, objs...)
	}
	return out, nil
}

func (r *Rendered) addManifest(manifest string) error {
	files := releaseutil.SplitManifests(manifest)
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))
	for _, k := range keys {
		content := files[k]
		source := ""
		if first, _, ok := strings.Cut(content, "\n"); ok && strings.HasPrefix(first, "# Source: ") {
			source = strings.TrimPrefix(first, "# Source: ")
		}
		objs, err := decode(source, []byte(content))
		if err != nil {
			return err
		}
		for _, o := range objs {
			if o.Kind() == "CustomResourceDefinition" {
				r.CRDs = append(r.CRDs, o)
			} else {
				r.Objects = append(r.Objects, o)
			}
		}
	}
	return nil
}

func isTestHook(h *release.Hook) bool {
	for _, e := range h.Events {
		if e != release.HookTest {
			return false
		}
	}
	return len(h.Events) > 0
}

func hookEvents(h *release.Hook) string {
	names := make([]string, len(h.Events))
	for i, e := range h.Events {
		names[i] = e.String()
	}
	return strings.Join(names, ",")
}

// decode reads every YAML document of a rendered file.
func decode(source string, data []byte) ([]Object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []Object
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		if len(doc) == 0 {
			continue
		}
		if doc["kind"] == "List" && doc["apiVersion"] == "v1" {
			// Helm's client applies a List's items one by one.
			items, _ := doc["items"].([]any)
			for _, it := range items {
				if m, ok := it.(map[string]any); ok && len(m) > 0 {
					out = append(out, Object{Source: source, Body: m})
				}
			}
			continue
		}
		out = append(out, Object{Source: source, Body: doc})
	}
}

// Schema validates values, merged with the chart's defaults as Helm merges
// them, against the chart's values.schema.json files (the parent's and
// every enabled dependency's). A chart without a schema accepts anything.
func Schema(ch *chart.Chart, values map[string]any) error {
	vals := copyValues(values)
	if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
		return err
	}
	merged, err := chartutil.CoalesceValues(ch, vals)
	if err != nil {
		return err
	}
	return chartutil.ValidateAgainstSchema(ch, merged)
}

// HasSchema reports whether the chart or a dependency ships a schema.
func HasSchema(ch *chart.Chart) bool {
	if len(ch.Schema) > 0 {
		return true
	}
	return slices.ContainsFunc(ch.Dependencies(), HasSchema)
}

// copyValues deep-copies a values tree: Helm writes into the map it is given.
func copyValues(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, e := range v {
		out[k] = copyValue(e)
	}
	return out
}

func copyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return copyValues(t)
	case []any:
		l := make([]any, len(t))
		for i, e := range t {
			l[i] = copyValue(e)
		}
		return l
	}
	return v
}

// CRDAPIVersions are the API versions a set of CRDs serves, as Helm's
// Capabilities.APIVersions spells them: "group/version" and
// "group/version/Kind".
func CRDAPIVersions(crds []Object) []string {
	var out []string
	for _, c := range crds {
		spec, _ := c.Body["spec"].(map[string]any)
		group, _ := spec["group"].(string)
		names, _ := spec["names"].(map[string]any)
		kind, _ := names["kind"].(string)
		vs, _ := spec["versions"].([]any)
		for _, v := range vs {
			vm, _ := v.(map[string]any)
			name, _ := vm["name"].(string)
			if served, ok := vm["served"].(bool); ok && !served {
				continue
			}
			out = append(out, group+"/"+name, group+"/"+name+"/"+kind)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
