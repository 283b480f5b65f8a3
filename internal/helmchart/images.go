package helmchart

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Image is a container image an object runs, and where it was found.
type Image struct {
	Ref   string // e.g. quay.io/jetstack/cert-manager-controller:v1.21.1
	Where string // e.g. "Deployment cert-manager/cert-manager: container cert-manager-controller"
}

// podSpecPaths are where workload kinds keep their pod spec.
var podSpecPaths = map[string][]string{
	"Pod":         {"spec"},
	"Deployment":  {"spec", "template", "spec"},
	"StatefulSet": {"spec", "template", "spec"},
	"DaemonSet":   {"spec", "template", "spec"},
	"ReplicaSet":  {"spec", "template", "spec"},
	"Job":         {"spec", "template", "spec"},
	"CronJob":     {"spec", "jobTemplate", "spec", "template", "spec"},
}

// customImageFields are custom resources whose operator starts pods from
// an image field: the operator's pods run it too.
var customImageFields = map[string][]string{
	"monitoring.coreos.com/Prometheus":   {"spec", "image"},
	"monitoring.coreos.com/Alertmanager": {"spec", "image"},
	"monitoring.coreos.com/ThanosRuler":  {"spec", "image"},
	"postgresql.cnpg.io/Cluster":         {"spec", "imageName"},
}

// imageFlag matches container arguments that hand another image to the
// controller (cert-manager's --acme-http01-solver-image=…,
// prometheus-operator's --prometheus-config-reloader=…): images the
// controller starts later, which a registry mirror must hold too.
var imageFlag = regexp.MustCompile(`^--?[a-z0-9-]*(image|reloader)[a-z0-9-]*=(\S+)$`)

// imageKey matches ConfigMap keys that hand an image to a controller
// through its environment (plugin-barman-cloud's SIDECAR_IMAGE, which it
// injects into every PostgreSQL pod).
var imageKey = regexp.MustCompile(`(^|_)IMAGE$`)

// Images returns every container image the objects run: the containers,
// init and ephemeral containers of every pod template, images named by
// operator custom resources, and images handed to controllers in their
// arguments.
func Images(objs []map[string]any) []Image {
	var out []Image
	for _, o := range objs {
		kind, _ := o["kind"].(string)
		apiVersion, _ := o["apiVersion"].(string)
		meta, _ := o["metadata"].(map[string]any)
		id := fmt.Sprintf("%s %v/%v", kind, meta["namespace"], meta["name"])
		group, _, _ := strings.Cut(apiVersion, "/")
		if path, ok := customImageFields[group+"/"+kind]; ok {
			if ref, ok := dig(o, path).(string); ok && ref != "" {
				out = append(out, Image{Ref: ref, Where: id + ": " + strings.Join(path, ".")})
			}
		}
		if kind == "ConfigMap" && apiVersion == "v1" {
			data, _ := o["data"].(map[string]any)
			for _, k := range slices.Sorted(maps.Keys(data)) {
				if ref, ok := data[k].(string); ok && imageKey.MatchString(k) && strings.Contains(ref, "/") {
					out = append(out, Image{Ref: ref, Where: id + ": data." + k})
				}
			}
			continue
		}
		path, ok := podSpecPaths[kind]
		if !ok {
			continue
		}
		spec, _ := dig(o, path).(map[string]any)
		for _, list := range []string{"initContainers", "containers", "ephemeralContainers"} {
			cs, _ := spec[list].([]any)
			for _, c := range cs {
				cm, _ := c.(map[string]any)
				where := fmt.Sprintf("%s: container %v", id, cm["name"])
				if ref, ok := cm["image"].(string); ok {
					out = append(out, Image{Ref: ref, Where: where})
				}
				args, _ := cm["args"].([]any)
				for _, a := range args {
					s, _ := a.(string)
					if m := imageFlag.FindStringSubmatch(s); m != nil && strings.Contains(m[2], "/") {
						out = append(out, Image{Ref: m[2], Where: where + " argument " + strings.SplitN(s, "=", 2)[0]})
					}
				}
			}
		}
	}
	return out
}

func dig(m map[string]any, path []string) any {
	var cur any = m
	for _, p := range path {
		cm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = cm[p]
	}
	return cur
}

// ImageRefs returns the distinct image references, sorted.
func ImageRefs(images []Image) []string {
	out := make([]string, 0, len(images))
	for _, i := range images {
		out = append(out, i.Ref)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// CheckPinned refuses an image reference that does not pin a version: no
// tag and no digest (which means latest), or the tag "latest".
func CheckPinned(ref string) error {
	if ref == "" {
		return fmt.Errorf("empty image reference")
	}
	if strings.Contains(ref, "@sha256:") {
		return nil
	}
	last := ref[strings.LastIndex(ref, "/")+1:]
	_, tag, ok := strings.Cut(last, ":")
	switch {
	case !ok || tag == "":
		return fmt.Errorf("image %q has no tag or digest: it runs whatever latest is", ref)
	case tag == "latest":
		return fmt.Errorf("image %q is tagged latest", ref)
	}
	return nil
}
