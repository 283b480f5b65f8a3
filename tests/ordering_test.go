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
