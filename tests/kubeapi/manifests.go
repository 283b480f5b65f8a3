package kubeapi

import (
	"fmt"
	"sort"
	"strings"
)

// notObjects are kubernetes:* types that are not API objects: Helm releases
// and YAML/Kustomize groups expand into objects the chart owns.
var notObjects = []string{"kubernetes:helm.sh/", "kubernetes:yaml", "kubernetes:kustomize"}

// Resource is what the conversion needs of a recorded resource (the
// harness's graph provides it).
type Resource struct {
	URN, Type, Name string
	Custom          bool
	// Inputs as the provider receives them: plain JSON values, secrets revealed.
	Inputs map[string]any
}

// Manifest is one object the program would create.
type Manifest struct {
	URN    string
	Object map[string]any
}

// ID names the object as kind namespace/name.
func (m Manifest) ID() string {
	meta, _ := m.Object["metadata"].(map[string]any)
	return fmt.Sprintf("%v %v/%v", m.Object["kind"], meta["namespace"], meta["name"])
}

// Manifests turns every Kubernetes object of a graph into its manifest:
// apiVersion and kind from the type token ("kubernetes:storage.k8s.io/v1:StorageClass",
// "kubernetes:core/v1:ConfigMap" → v1, custom resources alike), the inputs
// as the body (secrets revealed, as the provider would send them), and the
// logical name when the program set no metadata.name (Pulumi would add a
// random suffix). Namespaces come first, so the objects in them can be
// admitted.
func Manifests(resources []Resource) ([]Manifest, error) {
	var out []Manifest
	for _, r := range resources {
		if !r.Custom || !strings.HasPrefix(r.Type, "kubernetes:") || skip(r.Type) {
			continue
		}
		parts := strings.Split(r.Type, ":")
		if len(parts) != 3 {
			return nil, fmt.Errorf("%s: type token %q is not kubernetes:<apiVersion>:<kind>", r.URN, r.Type)
		}
		apiVersion := strings.TrimPrefix(parts[1], "core/")
		obj := r.Inputs
		obj["apiVersion"], obj["kind"] = apiVersion, parts[2]
		meta, _ := obj["metadata"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
			obj["metadata"] = meta
		}
		if _, ok := meta["name"]; !ok {
			meta["name"] = r.Name
		}
		out = append(out, Manifest{URN: r.URN, Object: obj})
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Object["kind"] == "Namespace" && out[j].Object["kind"] != "Namespace"
	})
	return out, nil
}

func skip(typ string) bool {
	for _, p := range notObjects {
		if strings.HasPrefix(typ, p) {
			return true
		}
	}
	return false
}
