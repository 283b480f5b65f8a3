package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/tars-platform/infra/internal/helmchart"
)

// TestOrderingCustomResourcesAfterTheirCRDs walks the recorded graph's
// dependency edges: every custom resource the program creates waits,
// directly or through what it waits for, for the release that installs
// its CRD (as the chart tier renders it), and every object in a namespace
// the program creates waits for that namespace. On a fresh cluster
// anything else fails the first `pulumi up` halfway.
func TestOrderingCustomResourcesAfterTheirCRDs(t *testing.T) {
	for _, stack := range Stacks {
		rs := renderStack(t, stack)
		g := rs.graph
		installs := map[string]string{} // group/version/Kind → release URN
		for _, r := range rs.releases {
			for _, v := range helmchart.CRDAPIVersions(r.Output.CRDs) {
				installs[v] = r.URN
			}
		}
		namespaces := map[string]string{} // name → Namespace URN
		for _, n := range g.ByType("kubernetes:core/v1:Namespace") {
			namespaces[fmt.Sprint(n.Input("metadata.name"))] = n.URN
		}
		custom, namespaced := 0, 0
		for _, r := range g.Resources {
			parts := strings.Split(r.Type, ":")
			if !r.Custom || len(parts) != 3 || parts[0] != "kubernetes" || strings.HasPrefix(parts[1], "helm.sh/") || parts[1] == "yaml" {
				continue
			}
			up := g.Upstream(r.URN)
			gv := strings.TrimPrefix(parts[1], "core/")
			if group, _, ok := strings.Cut(gv, "/"); ok && strings.Contains(group, ".") && !strings.HasSuffix(group, ".k8s.io") {
				custom++
				src, known := installs[gv+"/"+parts[2]]
				if assert.True(t, known, "%s %s: no release of the stack installs the CRD of %s/%s", stack, r.Name, gv, parts[2]) {
					assert.True(t, up[src], "%s %s (%s) does not wait for %s, which installs its CRD", stack, r.Name, parts[2], src)
				}
			}
			if ns, _ := r.Input("metadata.namespace").(string); namespaces[ns] != "" {
				namespaced++
				assert.True(t, up[namespaces[ns]], "%s %s (%s) in namespace %s does not wait for the namespace", stack, r.Name, parts[2], ns)
			}
		}
		assert.Positive(t, custom, "%s: no custom resources checked", stack)
		assert.Positive(t, namespaced, "%s: no namespaced objects checked", stack)
		t.Logf("%s: %d custom resources wait for their CRD's release, %d namespaced objects for their namespace", stack, custom, namespaced)
	}
}

// TestOrderingObjectsAfterTheWebhooksThatAdmitThem: a webhook a chart
// registers with failurePolicy Fail refuses every object it intercepts
// until its server runs. Every object the program creates that one of the
// stack's webhooks intercepts (by its rules, namespace selector and object
// selector) must wait for the release that registers it; otherwise the
// first `pulumi up` fails whenever the object's turn comes before the
// webhook's pods are ready.
func TestOrderingObjectsAfterTheWebhooksThatAdmitThem(t *testing.T) {
	for _, stack := range Stacks {
		rs := renderStack(t, stack)
		g := rs.graph
		nsLabels := map[string]map[string]any{}
		for _, n := range g.ByType("kubernetes:core/v1:Namespace") {
			name := fmt.Sprint(n.Input("metadata.name"))
			labels := map[string]any{"kubernetes.io/metadata.name": name}
			for k, v := range asMap(n.Input("metadata.labels")) {
				labels[k] = v
			}
			nsLabels[name] = labels
		}
		type webhook struct {
			release, name string
			body          map[string]any
		}
		var hooks []webhook
		for _, r := range rs.releases {
			for _, o := range append(r.Output.Objects, r.Output.Hooks...) {
				if o.Kind() != "MutatingWebhookConfiguration" && o.Kind() != "ValidatingWebhookConfiguration" {
					continue
				}
				for _, w := range asList(o.Body["webhooks"]) {
					wm := asMap(w)
					if fp, _ := wm["failurePolicy"].(string); fp == "" || fp == "Fail" {
						hooks = append(hooks, webhook{release: r.URN, name: fmt.Sprint(wm["name"]), body: wm})
					}
				}
			}
		}
		assert.NotEmpty(t, hooks, "%s: no failing webhooks rendered", stack)
		checked := 0
		for _, r := range g.Resources {
			parts := strings.Split(r.Type, ":")
			if !r.Custom || len(parts) != 3 || parts[0] != "kubernetes" || strings.HasPrefix(parts[1], "helm.sh/") || parts[1] == "yaml" {
				continue
			}
			gv := strings.TrimPrefix(parts[1], "core/")
			group, version, ok := strings.Cut(gv, "/")
			if !ok {
				group, version = "", gv
			}
			ns, _ := r.Input("metadata.namespace").(string)
			labels := asMap(r.Input("metadata.labels"))
			up := g.Upstream(r.URN)
			for _, h := range hooks {
				if !webhookIntercepts(h.body, group, version, plural(parts[2]), ns, nsLabels, labels) {
					continue
				}
				checked++
				assert.True(t, up[h.release], "%s %s (%s) is admitted by webhook %s but does not wait for %s, which registers it",
					stack, r.Name, parts[2], h.name, h.release)
			}
		}
		t.Logf("%s: %d failing webhooks; %d object/webhook pairs wait for the webhook's release", stack, len(hooks), checked)
	}
}

// webhookIntercepts says whether a webhook's rules and selectors match the
// creation of an object (group, version, resource) in namespace ns ("" for
// cluster-scoped) with labels.
func webhookIntercepts(w map[string]any, group, version, resource, ns string, nsLabels map[string]map[string]any, labels map[string]any) bool {
	ruleMatch := false
	for _, r := range asList(w["rules"]) {
		rm := asMap(r)
		if anyOf(rm["operations"], "CREATE") && anyOf(rm["apiGroups"], group) && anyOf(rm["apiVersions"], version) && anyOf(rm["resources"], resource) {
			scope, _ := rm["scope"].(string)
			if scope == "" || scope == "*" || (scope == "Namespaced") == (ns != "") {
				ruleMatch = true
			}
		}
	}
	if !ruleMatch {
		return false
	}
	if ns != "" {
		nl := nsLabels[ns]
		if nl == nil {
			nl = map[string]any{"kubernetes.io/metadata.name": ns}
		}
		if !selectorMatches(asMap(w["namespaceSelector"]), nl) {
			return false
		}
	}
	return selectorMatches(asMap(w["objectSelector"]), labels)
}

func anyOf(list any, want string) bool {
	for _, v := range asList(list) {
		if s := fmt.Sprint(v); s == "*" || s == want {
			return true
		}
	}
	return false
}

// selectorMatches evaluates a label selector (matchLabels and
// matchExpressions); an empty or absent selector matches everything.
func selectorMatches(sel map[string]any, labels map[string]any) bool {
	for k, v := range asMap(sel["matchLabels"]) {
		if fmt.Sprint(labels[k]) != fmt.Sprint(v) {
			return false
		}
	}
	for _, e := range asList(sel["matchExpressions"]) {
		em := asMap(e)
		key := fmt.Sprint(em["key"])
		val, has := labels[key]
		in := anyOfExact(em["values"], fmt.Sprint(val))
		switch em["operator"] {
		case "In":
			if !has || !in {
				return false
			}
		case "NotIn":
			if has && in {
				return false
			}
		case "Exists":
			if !has {
				return false
			}
		case "DoesNotExist":
			if has {
				return false
			}
		}
	}
	return true
}

func anyOfExact(list any, want string) bool {
	for _, v := range asList(list) {
		if fmt.Sprint(v) == want {
			return true
		}
	}
	return false
}

// plural is the REST resource of a kind, by the API's own rules for the
// kinds the program creates.
func plural(kind string) string {
	k := strings.ToLower(kind)
	switch {
	case strings.HasSuffix(k, "y"):
		return strings.TrimSuffix(k, "y") + "ies"
	case strings.HasSuffix(k, "s"):
		return k + "es"
	}
	return k + "s"
}
