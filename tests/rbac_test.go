package tests

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/tests/charttier"
	"github.com/tars-platform/infra/tests/harness"
)

// chartWildcardRoles are the ClusterRoles (and Roles) the charts grant with
// a wildcard verb, resource or API group, each reviewed: the component
// cannot work without it (an operator owning its own API group, a
// controller that must read every kind).
var chartWildcardRoles = map[string]string{
	"kube-prometheus-stack-operator":                        "the Prometheus operator owns the monitoring.coreos.com kinds (every verb on its own CRDs) and the StatefulSets, Secrets and ConfigMaps of the Prometheus and Alertmanager it runs; the verbs are wildcards, the resources are listed",
	"vpa-vertical-pod-autoscaler-admission-controller":      "reads the scale subresource of whatever a VPA targets, in any API group (custom controllers included); read-only",
	"vpa-vertical-pod-autoscaler-recommender-target-reader": "reads the scale subresource of whatever a VPA targets, in any API group; read-only",
	"vpa-vertical-pod-autoscaler-updater-target-reader":     "reads the scale subresource of whatever a VPA targets, in any API group; read-only",
}

// wildcards lists a role's rules that use "*" in verbs, resources or
// apiGroups.
func wildcards(o map[string]any) []string {
	var out []string
	rules, _ := o["rules"].([]any)
	for i, r := range rules {
		rm, _ := r.(map[string]any)
		for _, field := range []string{"verbs", "resources", "apiGroups"} {
			vs, _ := rm[field].([]any)
			for _, v := range vs {
				if v == "*" {
					out = append(out, fmt.Sprintf("rules[%d].%s", i, field))
				}
			}
		}
	}
	return out
}

// TestRBACLeastPrivilege: across every object a stack renders, nothing is
// bound to cluster-admin (administrators get it through EKS access entries
// for the configured roles, and the cluster reads no aws-auth ConfigMap:
// authentication mode API); no Role or ClusterRole the program writes
// itself uses a wildcard; a chart's wildcard role is listed with its
// reason, and a listed role that no longer uses one is removed from the
// list.
func TestRBACLeastPrivilege(t *testing.T) {
	dir := chartsDir(t)
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		own, err := charttier.ProgramManifests(g)
		require.NoError(t, err)
		ownIDs := map[string]bool{}
		for _, m := range own {
			ownIDs[m.ID()] = true
		}
		objs, err := charttier.Objects(context.Background(), g, dir)
		require.NoError(t, err)
		seenWildcard := map[string]bool{}
		var chartRoles []string
		for _, o := range objs {
			kind := fmt.Sprint(o["kind"])
			name := fmt.Sprint(get(o, "metadata.name"))
			id := fmt.Sprintf("%s %v/%v", kind, get(o, "metadata.namespace"), name)
			switch kind {
			case "ClusterRoleBinding", "RoleBinding":
				assert.NotEqual(t, "cluster-admin", get(o, "roleRef.name"), "%s: %s binds cluster-admin", stack, id)
			case "ConfigMap":
				assert.False(t, name == "aws-auth" && get(o, "metadata.namespace") == "kube-system", "%s: an aws-auth ConfigMap", stack)
			case "ClusterRole", "Role":
				w := wildcards(o)
				if len(w) == 0 {
					continue
				}
				if ownIDs[id] {
					t.Errorf("%s: the program's own %s uses a wildcard: %v", stack, id, w)
					continue
				}
				seenWildcard[name] = true
				chartRoles = append(chartRoles, fmt.Sprintf("%s %v", id, w))
				_, ok := chartWildcardRoles[name]
				assert.True(t, ok, "%s: chart role %s uses a wildcard (%v) and is not reviewed in chartWildcardRoles", stack, id, w)
			}
		}
		for name := range chartWildcardRoles {
			assert.True(t, seenWildcard[name], "%s: %s is listed in chartWildcardRoles but no longer uses a wildcard: drop it", stack, name)
		}
		sort.Strings(chartRoles)
		t.Logf("%s: chart roles with wildcards:\n%s", stack, strings.Join(chartRoles, "\n"))

		// Administrators: EKS access entries, authentication mode API.
		eks := one(t, g, "aws:eks/cluster:Cluster", stack+"-eks")
		assert.Equal(t, "API", get(eks.PlainInputs(), "accessConfig.authenticationMode"), "%s: access entries only, no aws-auth ConfigMap", stack)
		var admins []string
		for _, r := range g.ByType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation") {
			if strings.HasSuffix(fmt.Sprint(r.Input("policyArn")), "/AmazonEKSClusterAdminPolicy") {
				admins = append(admins, fmt.Sprint(r.Input("principalArn")))
			}
		}
		assert.Equal(t, []string{"arn:aws:iam::" + harness.MockAccountID + ":role/tars-platform-admin"}, admins,
			"%s: cluster-admin only for tars:cluster.admins", stack)
	}
}
