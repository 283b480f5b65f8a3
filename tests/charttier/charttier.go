// Package charttier renders every Helm release of a recorded stack graph
// from the pinned archives, exactly as each Release resource would install
// it: its chart and version, release name, namespace and recorded values,
// the cluster's Kubernetes version, and the API versions of the CRDs that
// the releases it depends on install first. The chart tier tests and
// `tarsctl images` build on it.
package charttier

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/internal/costmodel"
	"github.com/tars-platform/infra/internal/helmchart"
	"github.com/tars-platform/infra/tests/harness"
	"github.com/tars-platform/infra/tests/kubeapi"
	"helm.sh/helm/v3/pkg/chart"
)

// ReleaseType is the type token of a Helm release.
const ReleaseType = "kubernetes:helm.sh/v3:Release"

// Release is one Helm release of a graph, as its resource records it.
type Release struct {
	URN, Name   string // the resource's URN and logical name
	Chart       string
	Version     string
	Repository  string
	ReleaseName string
	Namespace   string
	Values      map[string]any
	// Pin is the components/versions chart the release installs.
	Pin versions.Chart
	// After are the URNs of the releases it transitively depends on.
	After []string
}

// Ref is the release's pinned chart for helmchart.
func (r Release) Ref() helmchart.Ref { return Ref(r.Pin) }

// Ref converts a pin.
func Ref(c versions.Chart) helmchart.Ref {
	return helmchart.Ref{Name: c.Name, Version: c.Version, Repository: c.Repository, AppVersion: c.AppVersion}
}

// Releases returns the graph's releases, each after the releases it
// depends on. A release of a chart or version not pinned in
// components/versions is an error.
func Releases(g *harness.Graph) ([]Release, error) {
	var out []Release
	for _, r := range g.ByType(ReleaseType) {
		in := r.PlainInputs()
		str := func(k string) string { s, _ := in[k].(string); return s }
		rel := Release{
			URN: r.URN, Name: r.Name, Chart: str("chart"), Version: str("version"),
			ReleaseName: str("name"), Namespace: str("namespace"),
		}
		if opts, ok := in["repositoryOpts"].(map[string]any); ok {
			rel.Repository, _ = opts["repo"].(string)
		}
		rel.Values, _ = in["values"].(map[string]any)
		if rel.Values == nil {
			rel.Values = map[string]any{}
		}
		i := slices.IndexFunc(versions.Charts, func(c versions.Chart) bool { return c.Name == rel.Chart && c.Version == rel.Version })
		if i < 0 {
			return nil, fmt.Errorf("release %s installs chart %s %s, which components/versions does not pin", r.Name, rel.Chart, rel.Version)
		}
		rel.Pin = versions.Charts[i]
		out = append(out, rel)
	}
	for i := range out {
		out[i].After = dependsOn(g, out[i].URN, out)
	}
	return order(out)
}

// dependsOn returns the releases urn depends on, transitively.
func dependsOn(g *harness.Graph, urn string, releases []Release) []string {
	up := g.Upstream(urn)
	var out []string
	for _, r := range releases {
		if up[r.URN] {
			out = append(out, r.URN)
		}
	}
	slices.Sort(out)
	return out
}

// order sorts releases so each comes after those it depends on.
func order(rs []Release) ([]Release, error) {
	done := map[string]bool{}
	var out []Release
	for len(out) < len(rs) {
		progress := false
		for _, r := range rs {
			if done[r.URN] {
				continue
			}
			ready := true
			for _, a := range r.After {
				ready = ready && done[a]
			}
			if ready {
				done[r.URN] = true
				out = append(out, r)
				progress = true
			}
		}
		if !progress {
			return nil, fmt.Errorf("releases depend on each other in a cycle")
		}
	}
	return out, nil
}

// KubeVersion is the Kubernetes version of the graph's EKS cluster.
func KubeVersion(g *harness.Graph) (string, error) {
	clusters := g.ByType("aws:eks/cluster:Cluster")
	if len(clusters) != 1 {
		return "", fmt.Errorf("want one EKS cluster in the %s graph, found %d", g.Stack, len(clusters))
	}
	v, _ := clusters[0].Input("version").(string)
	if v == "" {
		return "", fmt.Errorf("the EKS cluster of %s has no version", g.Stack)
	}
	return v, nil
}

// Rendered is one release rendered.
type Rendered struct {
	Release
	Loaded      *chart.Chart // the archive as loaded (Render removed its disabled dependencies)
	APIVersions []string     // added for the CRDs of the releases it depends on
	Output      *helmchart.Rendered
	Took        time.Duration
}

// Render renders every release of the graph from the archives in dir, in
// dependency order.
func Render(ctx context.Context, g *harness.Graph, dir string) ([]Rendered, error) {
	rels, err := Releases(g)
	if err != nil {
		return nil, err
	}
	kube, err := KubeVersion(g)
	if err != nil {
		return nil, err
	}
	crds := map[string][]helmchart.Object{}
	var out []Rendered
	for _, r := range rels {
		start := time.Now()
		ch, err := helmchart.Load(dir, r.Ref())
		if err != nil {
			return nil, fmt.Errorf("release %s: %w", r.Name, err)
		}
		var deps []helmchart.Object
		for _, a := range r.After {
			deps = append(deps, crds[a]...)
		}
		apis := helmchart.CRDAPIVersions(deps)
		res, err := helmchart.Render(ctx, helmchart.Input{
			Chart: ch, ReleaseName: r.ReleaseName, Namespace: r.Namespace, Values: r.Values,
			KubeVersion: kube, APIVersions: apis,
		})
		if err != nil {
			return nil, fmt.Errorf("release %s: %w", r.Name, err)
		}
		crds[r.URN] = res.CRDs
		out = append(out, Rendered{Release: r, Loaded: ch, APIVersions: apis, Output: res, Took: time.Since(start)})
	}
	return out, nil
}

// Namespaced fills in the release namespace on rendered objects that name
// none, as Helm does when it installs them; cluster-scoped kinds are left
// alone by the API server, which ignores the field for them.
func Namespaced(objs []helmchart.Object, namespace string) []map[string]any {
	out := make([]map[string]any, 0, len(objs))
	for _, o := range objs {
		body := o.Body
		meta, _ := body["metadata"].(map[string]any)
		if meta != nil {
			if ns, _ := meta["namespace"].(string); strings.TrimSpace(ns) == "" {
				meta["namespace"] = namespace
			}
		}
		out = append(out, body)
	}
	return out
}

// ProgramManifests are the Kubernetes objects the program creates itself
// (not through a chart), as the conformance tier applies them.
func ProgramManifests(g *harness.Graph) ([]kubeapi.Manifest, error) {
	var rs []kubeapi.Resource
	for _, r := range g.Resources {
		rs = append(rs, kubeapi.Resource{URN: r.URN, Type: r.Type, Name: r.Name, Custom: r.Custom, Inputs: r.PlainInputs()})
	}
	return kubeapi.Manifests(rs)
}

// Objects are every Kubernetes object the stack creates: its own and
// every rendered release's.
func Objects(ctx context.Context, g *harness.Graph, dir string) ([]map[string]any, error) {
	ms, err := ProgramManifests(g)
	if err != nil {
		return nil, err
	}
	objs := make([]map[string]any, len(ms))
	for i, m := range ms {
		objs[i] = m.Object
	}
	rendered, err := Render(ctx, g, dir)
	if err != nil {
		return nil, err
	}
	for _, r := range rendered {
		objs = append(objs, Namespaced(r.Output.All(), r.Namespace)...)
	}
	return objs, nil
}

// Images lists every container image the stack runs: its own objects'
// and every rendered release's, sorted and distinct.
func Images(ctx context.Context, g *harness.Graph, dir string) ([]helmchart.Image, error) {
	objs, err := Objects(ctx, g, dir)
	if err != nil {
		return nil, err
	}
	return helmchart.Images(objs), nil
}

// Cost prices the stack's planned graph from the table: its AWS resources
// and every volume its objects (its own and the charts') claim.
func Cost(ctx context.Context, g *harness.Graph, dir string, table costmodel.Table) (costmodel.Estimate, costmodel.Inventory, error) {
	objs, err := Objects(ctx, g, dir)
	if err != nil {
		return costmodel.Estimate{}, costmodel.Inventory{}, err
	}
	rs := make([]costmodel.Resource, 0, len(g.Resources))
	for _, r := range g.Resources {
		if r.Custom {
			rs = append(rs, costmodel.Resource{Type: r.Type, Name: r.Name, Inputs: r.PlainInputs()})
		}
	}
	inv, err := costmodel.Collect(rs, objs)
	if err != nil {
		return costmodel.Estimate{}, inv, fmt.Errorf("stack %s: %w", g.Stack, err)
	}
	e, err := table.Estimate(inv.AwsRegion, inv)
	if err != nil {
		return e, inv, fmt.Errorf("stack %s: %w", g.Stack, err)
	}
	return e, inv, nil
}

// ObjectRef names one Kubernetes object: what a runbook's kubectl command
// may point at.
type ObjectRef struct {
	Namespace string // empty for cluster-scoped objects
	Kind      string
	Name      string
}

func (o ObjectRef) String() string {
	ns := o.Namespace
	if ns == "" {
		ns = "-"
	}
	return ns + " " + o.Kind + " " + o.Name
}

// Refs lists the objects by namespace, kind and name, sorted and distinct.
func Refs(objs []map[string]any) []ObjectRef {
	seen := map[ObjectRef]bool{}
	var out []ObjectRef
	for _, o := range objs {
		meta, _ := o["metadata"].(map[string]any)
		kind, _ := o["kind"].(string)
		name, _ := meta["name"].(string)
		ns, _ := meta["namespace"].(string)
		r := ObjectRef{Namespace: ns, Kind: kind, Name: name}
		if kind == "" || name == "" || seen[r] {
			continue
		}
		seen[r] = true
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
