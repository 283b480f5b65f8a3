package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/tests/harness"
)

// The Cluster Autoscaler (issue #16, first part): seed 003's settings as
// literals, on the rendered chart.

// TestCostsAutoscalerCarriesTheSeedSettings: the rendered Deployment runs
// the control plane's minor with every seed flag and discovers the node
// groups the cluster tags; its metrics are scraped under the job the
// catalog's alerts read.
func TestCostsAutoscalerCarriesTheSeedSettings(t *testing.T) {
	for _, stack := range Stacks {
		p := stackObjects(t, stack)
		d := p.namedIn(t, "Deployment", "kube-system", "cluster-autoscaler-aws-cluster-autoscaler")
		ctr := asMap(asList(podSpec(d)["containers"])[0])
		img := fmt.Sprint(ctr["image"])
		assert.Equal(t, "registry.k8s.io/autoscaling/cluster-autoscaler:v1.34.5", img, "%s: the 1.34 control plane's minor", stack)
		var flags []string
		for _, c := range asList(ctr["command"]) {
			flags = append(flags, fmt.Sprint(c))
		}
		for _, a := range asList(ctr["args"]) {
			flags = append(flags, fmt.Sprint(a))
		}
		for _, want := range []string{
			"--max-node-provision-time=15m", "--new-pod-scale-up-delay=0s", "--scale-down-enabled=true",
			"--scale-down-delay-after-add=10m", "--scale-down-unneeded-time=10m", "--scale-down-utilization-threshold=0.5",
			"--max-graceful-termination-sec=600", "--cloud-provider=aws",
			"--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/tars-" + stack,
		} {
			assert.Contains(t, flags, want, "%s: %v", stack, flags)
		}
		// The catalog's ClusterAutoscaler* alerts read this job.
		p.namedIn(t, "Service", "kube-system", "cluster-autoscaler-aws-cluster-autoscaler")
		found := false
		for _, sm := range p.kind("ServiceMonitor") {
			if strings.Contains(fmt.Sprint(asMap(sm["metadata"])["name"]), "cluster-autoscaler") {
				found = true
			}
		}
		assert.True(t, found, "%s: the autoscaler is scraped", stack)

		// The node group carries the tags it discovers and the seed's 3–20.
		g := renderStack(t, stack).graph
		ng := one(t, g, "aws:eks/nodeGroup:NodeGroup", stack+"-general")
		tags := asMap(ng.Input("tags"))
		assert.Equal(t, "true", tags["k8s.io/cluster-autoscaler/enabled"], stack)
		assert.Equal(t, "owned", tags["k8s.io/cluster-autoscaler/tars-"+stack], stack)
		assert.EqualValues(t, 3, ng.Input("scalingConfig.minSize"), stack)
		assert.EqualValues(t, 20, ng.Input("scalingConfig.maxSize"), stack)
	}
}

// TestCostsAutoscalerRoleScalesOnlyItsGroups: the IRSA role reads
// anywhere but changes sizes and terminates instances only in groups
// tagged as this cluster's, and is trusted by the autoscaler's account only.
func TestCostsAutoscalerRoleScalesOnlyItsGroups(t *testing.T) {
	g := mustRun(t, "us-east")
	var doc struct {
		Statement []struct {
			Sid       string
			Action    []string
			Resource  []string
			Condition map[string]map[string]any
		}
	}
	require.NoError(t, json.Unmarshal([]byte(fmt.Sprint(one(t, g, "aws:iam/rolePolicy:RolePolicy", "us-east-costs-cluster-autoscaler-irsa").Input("policy"))), &doc))
	writes := map[string]bool{"autoscaling:SetDesiredCapacity": true, "autoscaling:TerminateInstanceInAutoScalingGroup": true}
	seen := 0
	for _, s := range doc.Statement {
		for _, a := range s.Action {
			if !writes[a] {
				assert.True(t, strings.Contains(a, ":Describe") || strings.Contains(a, ":Get"), "%s: %s is read-only", s.Sid, a)
				continue
			}
			seen++
			assert.Equal(t, "owned", fmt.Sprint(s.Condition["StringEquals"]["aws:ResourceTag/k8s.io/cluster-autoscaler/tars-us-east"]), "%s: %s only on the cluster's groups", s.Sid, a)
		}
	}
	assert.Equal(t, 2, seen, "both write actions are granted, conditioned")
	trust := fmt.Sprint(one(t, g, "aws:iam/role:Role", "us-east-costs-cluster-autoscaler-irsa").Input("assumeRolePolicy"))
	assert.Contains(t, trust, "system:serviceaccount:kube-system:cluster-autoscaler")
}

// TestCostsAutoscalerNeedsAMatchingImage: a control-plane minor without a
// pinned autoscaler image is a config error naming the key.
func TestCostsAutoscalerNeedsAMatchingImage(t *testing.T) {
	_, err := harness.Run("us-east", harness.WithConfig("tars:cluster.version", "1.33"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `tars:cluster.version ("1.33") has no Cluster Autoscaler image pinned`)
}
