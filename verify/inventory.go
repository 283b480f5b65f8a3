package verify

import (
	"fmt"
	"sort"
	"strings"
)

// Resource is one resource of the program's graph for a stack, as
// `tarsctl plan` registers it under mocks: its type token and inputs
// (secrets left out).
type Resource struct {
	Type   string
	Name   string // logical name, for messages
	Inputs map[string]any
}

// Object is a Kubernetes object the program creates itself.
type Object struct {
	APIVersion, Kind, Namespace, Name string
	// Body is the object as registered (metadata, spec, data, …).
	Body map[string]any
}

// Release is a Helm release the program installs.
type Release struct {
	Name, Namespace, Chart, Version string
	Values                          map[string]any
}

// Inventory is what the program deploys in one region: the expectations
// the checks hold the live cluster to. It comes from the program's graph
// for the stack file, so run verify with the stack file of the last
// `pulumi up`.
type Inventory struct {
	Region   string
	Objects  []Object
	Releases []Release
}

// NewInventory indexes a graph's Kubernetes objects and Helm releases. A
// Kubernetes resource without a name is an error (the program names every
// object; a generated name could not be found in the cluster).
func NewInventory(region string, resources []Resource) (Inventory, error) {
	inv := Inventory{Region: region}
	for _, r := range resources {
		group, version, kind, ok := kubernetesType(r.Type)
		if !ok {
			continue
		}
		switch {
		case group == "helm.sh" && kind == "Release":
			rel := Release{
				Name: str(r.Inputs["name"]), Namespace: str(r.Inputs["namespace"]),
				Chart: str(r.Inputs["chart"]), Version: str(r.Inputs["version"]),
			}
			rel.Values, _ = r.Inputs["values"].(map[string]any)
			if rel.Name == "" || rel.Namespace == "" || rel.Chart == "" {
				return Inventory{}, fmt.Errorf("inventory %s: Helm release %s has no name, namespace or chart", region, r.Name)
			}
			inv.Releases = append(inv.Releases, rel)
		case group == "yaml" || group == "kustomize" || group == "helm.sh":
			// Components (ConfigGroup, Chart): their objects are in the
			// graph themselves.
		default:
			meta, _ := r.Inputs["metadata"].(map[string]any)
			o := Object{Kind: kind, Namespace: str(meta["namespace"]), Name: str(meta["name"]), Body: r.Inputs}
			o.APIVersion = version
			if group != "core" {
				o.APIVersion = group + "/" + version
			}
			if o.Name == "" {
				return Inventory{}, fmt.Errorf("inventory %s: %s %s has no metadata.name", region, kind, r.Name)
			}
			inv.Objects = append(inv.Objects, o)
		}
	}
	sort.SliceStable(inv.Objects, func(i, j int) bool {
		a, b := inv.Objects[i], inv.Objects[j]
		return a.Kind+"/"+a.Namespace+"/"+a.Name < b.Kind+"/"+b.Namespace+"/"+b.Name
	})
	return inv, nil
}

// kubernetesType splits "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
// into its group, version and kind ("core" for the core group).
func kubernetesType(token string) (group, version, kind string, ok bool) {
	parts := strings.Split(token, ":")
	if len(parts) != 3 || parts[0] != "kubernetes" {
		return "", "", "", false
	}
	gv := strings.SplitN(parts[1], "/", 2)
	if len(gv) != 2 {
		return "", "", "", false
	}
	return gv[0], gv[1], parts[2], true
}

// Kind returns the program's objects of a kind, sorted by namespace and
// name.
func (inv Inventory) Kind(kind string) []Object {
	var out []Object
	for _, o := range inv.Objects {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// Object returns the program's object of a kind, namespace and name.
func (inv Inventory) Object(kind, namespace, name string) (Object, bool) {
	for _, o := range inv.Objects {
		if o.Kind == kind && o.Namespace == namespace && o.Name == name {
			return o, true
		}
	}
	return Object{}, false
}

// Release returns the release of a chart (the program installs each chart
// at most once per region).
func (inv Inventory) Release(chart string) (Release, bool) {
	for _, r := range inv.Releases {
		if r.Chart == chart {
			return r, true
		}
	}
	return Release{}, false
}

// Path reads a nested value of a map by dot-separated keys ("spec.groups").
func Path(m map[string]any, path string) any {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
