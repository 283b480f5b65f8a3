package tests

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/policy/rules"
	"github.com/tars-platform/infra/tests/charttier"
	"github.com/tars-platform/infra/tests/harness"
)

// gpuOn turns the GPU pool on (it is off in both stack files).
var gpuOn = harness.WithConfig("tars:cluster.gpu.enabled", true)

// TestGPUPoolOffByDefault: neither stack has a GPU node group, the NVIDIA
// charts or their namespace.
func TestGPUPoolOffByDefault(t *testing.T) {
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		_, found := g.Find("aws:eks/nodeGroup:NodeGroup", stack+"-gpu")
		assert.False(t, found, "%s: no GPU node group", stack)
		for _, r := range g.ByType("kubernetes:helm.sh/v3:Release") {
			assert.NotContains(t, []string{"nvidia-device-plugin", "dcgm-exporter"}, r.Input("chart"), stack)
		}
		assert.Empty(t, g.ByType("tars:gpu:Stack"), stack)
	}
}

// TestGPUPoolNodeGroup: with tars:cluster.gpu.enabled, a managed node group
// of T4 instances (g4dn.xlarge) on the EKS NVIDIA AMI, 0 to 2 nodes, in the
// private subnets, tainted nvidia.com/gpu=true:NoSchedule and labelled; its
// Auto Scaling group carries the autoscaler's discovery tags and the
// node-template tags that let it scale the group up from zero.
func TestGPUPoolNodeGroup(t *testing.T) {
	g := mustRun(t, "us-east", gpuOn)
	ng := one(t, g, "aws:eks/nodeGroup:NodeGroup", "us-east-gpu")
	general := one(t, g, "aws:eks/nodeGroup:NodeGroup", "us-east-general")
	assert.Equal(t, "gpu", ng.Input("nodeGroupName"))
	assert.Equal(t, "AL2023_x86_64_NVIDIA", ng.Input("amiType"))
	assert.Equal(t, []any{"g4dn.xlarge"}, ng.Input("instanceTypes"))
	assert.EqualValues(t, 0, ng.Input("scalingConfig.minSize"), "costs nothing idle")
	assert.EqualValues(t, 2, ng.Input("scalingConfig.maxSize"))
	assert.EqualValues(t, 0, ng.Input("scalingConfig.desiredSize"))
	assert.Equal(t, []any{map[string]any{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}}, ng.Input("taints"))
	assert.Equal(t, map[string]any{"nvidia.com/gpu.present": "true", "k8s.amazonaws.com/accelerator": "nvidia-tesla-t4"}, ng.Input("labels"))
	assert.ElementsMatch(t, strs(general.Input("subnetIds")), strs(ng.Input("subnetIds")), "the private subnets, as the general group")
	assert.Nil(t, general.Input("amiType"), "the general group keeps EKS's default AMI")
	assert.Nil(t, general.Input("taints"))

	got := map[string]string{}
	for _, tag := range g.ByType("aws:autoscaling/tag:Tag") {
		if !strings.HasPrefix(tag.Input("autoscalingGroupName").(string), "eks-us-east-gpu-") {
			continue
		}
		kv := tag.Input("tag").(map[string]any)
		got[kv["key"].(string)] = kv["value"].(string)
		assert.Equal(t, false, kv["propagateAtLaunch"])
	}
	assert.Equal(t, map[string]string{
		"k8s.io/cluster-autoscaler/enabled":                                           "true",
		"k8s.io/cluster-autoscaler/tars-us-east":                                      "owned",
		"k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu":                "true:NoSchedule",
		"k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu":            "1",
		"k8s.io/cluster-autoscaler/node-template/label/nvidia.com/gpu.present":        "true",
		"k8s.io/cluster-autoscaler/node-template/label/k8s.amazonaws.com/accelerator": "nvidia-tesla-t4",
	}, got)

	// Sizes from config; a 4-GPU size advertises 4 to the autoscaler.
	big := mustRun(t, "us-east", gpuOn, harness.WithConfig("tars:cluster.gpu.instanceTypes", []any{"g4dn.12xlarge"}),
		harness.WithConfig("tars:cluster.gpu.minSize", 1), harness.WithConfig("tars:cluster.gpu.maxSize", 3))
	ng = one(t, big, "aws:eks/nodeGroup:NodeGroup", "us-east-gpu")
	assert.Equal(t, []any{"g4dn.12xlarge"}, ng.Input("instanceTypes"))
	assert.EqualValues(t, 1, ng.Input("scalingConfig.minSize"))
	assert.EqualValues(t, 3, ng.Input("scalingConfig.maxSize"))
	res := one(t, big, "aws:autoscaling/tag:Tag", "us-east-gpu-ca-template-resources-nvidia-com-gpu")
	assert.Equal(t, "4", res.Input("tag.value"))
}

// TestGPUPoolConfigErrors: a non-GPU size, a mix of GPU counts, or bounds
// that cannot hold stop the update naming the key.
func TestGPUPoolConfigErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		opts []harness.Option
		want string
	}{
		"not a GPU size": {[]harness.Option{harness.WithConfig("tars:cluster.gpu.instanceTypes", []any{"m5.xlarge"})},
			`tars:cluster.gpu.instanceTypes[0] ("m5.xlarge") is not a g4dn (NVIDIA T4) size`},
		"mixed GPU counts": {[]harness.Option{harness.WithConfig("tars:cluster.gpu.instanceTypes", []any{"g4dn.xlarge", "g4dn.12xlarge"})},
			`tars:cluster.gpu.instanceTypes[1] ("g4dn.12xlarge") has 4 GPUs, "g4dn.xlarge" has 1`},
		"max below min": {[]harness.Option{harness.WithConfig("tars:cluster.gpu.minSize", 3), harness.WithConfig("tars:cluster.gpu.maxSize", 2)},
			"tars:cluster.gpu.maxSize (2) is below minSize (3)"},
		"negative min": {[]harness.Option{harness.WithConfig("tars:cluster.gpu.minSize", -1)},
			"tars:cluster.gpu.minSize (-1) must not be negative"},
		"unknown key": {[]harness.Option{harness.WithConfig("tars:cluster.gpu.gpus", 2)},
			`unknown field "gpus"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := runRecovering(t, "us-east", append([]harness.Option{gpuOn}, tc.opts...)...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestGPUChartsRenderOnGPUNodesOnly: the chart tier renders the device
// plugin and the DCGM exporter with the program's values: both DaemonSets
// select the pool's label and tolerate its taint, in the privileged
// namespace nvidia-gpu with its default-deny; the exporter's
// ServiceMonitor exists for the metrics stack; no feature-discovery parts.
func TestGPUChartsRenderOnGPUNodesOnly(t *testing.T) {
	g := mustRun(t, "us-east", gpuOn)
	objs, err := charttier.Objects(context.Background(), g, chartsDir(t))
	require.NoError(t, err)
	var daemonSets []string
	monitors := 0
	for _, o := range objs {
		ns := fmt.Sprint(get(o, "metadata.namespace"))
		switch {
		case o["kind"] == "DaemonSet" && ns == "nvidia-gpu":
			name := fmt.Sprint(get(o, "metadata.name"))
			daemonSets = append(daemonSets, name)
			spec := get(o, "spec.template.spec").(map[string]any)
			want := map[string]any{"nvidia.com/gpu.present": "true"}
			if name == "nvidia-device-plugin-mps-control-daemon" {
				// The chart always renders it; it also needs a label the
				// pool's nodes do not have (MPS sharing is off).
				want["nvidia.com/mps.capable"] = "true"
			}
			assert.Equal(t, want, spec["nodeSelector"], name)
			assert.Contains(t, spec["tolerations"], map[string]any{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}, name)
			for _, c := range spec["containers"].([]any) {
				assert.NotNil(t, get(c, "resources.limits.memory"), "%s: limits", name)
				img := fmt.Sprint(get(c, "image"))
				switch name {
				case "nvidia-device-plugin":
					assert.Equal(t, "nvcr.io/nvidia/k8s-device-plugin:v0.20.0", img)
				case "dcgm-exporter":
					assert.Equal(t, "nvcr.io/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless", img)
				}
			}
		case o["kind"] == "ServiceMonitor" && ns == "nvidia-gpu":
			monitors++
			assert.Equal(t, "15s", get(o, "spec.endpoints").([]any)[0].(map[string]any)["interval"])
		case o["kind"] == "Namespace" && get(o, "metadata.name") == "nvidia-gpu":
			assert.Equal(t, "privileged", get(o, `metadata.labels.pod-security\.kubernetes\.io/enforce`))
		}
	}
	slices.Sort(daemonSets)
	assert.Equal(t, []string{"dcgm-exporter", "nvidia-device-plugin", "nvidia-device-plugin-mps-control-daemon"}, daemonSets, "no node or GPU feature discovery")
	assert.Equal(t, 1, monitors, "the exporter's ServiceMonitor")

	// Network: Prometheus scrapes the exporter; nothing else reaches it.
	pols, nss := netObjects(t, append(objs, cnpgInstances(t, objs)...))
	workloads := netWorkloadPods(t, objs)
	dcgm := pods("nvidia-gpu", "app.kubernetes.io/name", "dcgm-exporter")
	ok, _ := evalFlow(t, "us-east", netFlow{"Prometheus scrapes the DCGM exporter", nProm, dcgm, 9400}, workloads, pols, nss)
	assert.True(t, ok)
	for _, from := range []netEnd{nApp, nGrafana, nInfra} {
		ok, by := evalFlow(t, "us-east", netFlow{"to the DCGM exporter", from, dcgm, 9400}, workloads, pols, nss)
		assert.False(t, ok, "%s reaches the exporter through %v", from, by)
	}
}

// TestSchedulingGPUPool: the real scheduler and controllers with the pool
// on (us-east, 6 general nodes and 1 GPU node: a Node with the pool's
// label, taint and nvidia.com/gpu capacity): the device plugin and the
// exporter run on the GPU node and nowhere else, a pod that asks for a GPU
// (and tolerates the taint) is placed there, and no other workload is.
func TestSchedulingGPUPool(t *testing.T) {
	t.Parallel()
	const stack = "us-east"
	rs := renderStackVariant(t, stack, "gpu", []harness.Option{gpuOn})
	groups := nodeGroups(t, rs.graph)
	require.Len(t, groups, 2)
	nodes := nodesFor(groups, regionOf(t, rs.graph), func(g nodeGroup) int {
		if g.name == "gpu" {
			return 1
		}
		return 6
	})
	var gpuNode string
	for _, n := range nodes {
		if strings.HasPrefix(n.name, "gpu-") {
			gpuNode = n.name
		}
	}
	require.NotEmpty(t, gpuNode)
	c := startSchedClusterFor(t, stack, func() renderedStack { return rs }, nodes)
	c.nodeless = map[string]bool{"DaemonSet nvidia-gpu/nvidia-device-plugin-mps-control-daemon": true}
	// A model server as the services' pipeline would run it: restricted
	// (the namespace enforces it), one GPU, tolerating the taint.
	require.NoError(t, c.srv.Create(context.Background(), "/api/v1/namespaces/tars/pods", map[string]any{
		"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "ollama"},
		"spec": map[string]any{
			"securityContext": map[string]any{"runAsNonRoot": true, "runAsUser": 1000, "seccompProfile": map[string]any{"type": "RuntimeDefault"}},
			"tolerations":     []any{map[string]any{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}},
			"containers": []any{map[string]any{"name": "ollama", "image": "ollama/ollama:0.12.3",
				"securityContext": map[string]any{"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []any{"ALL"}}},
				"resources": map[string]any{"requests": map[string]any{"cpu": "1", "memory": "4Gi"},
					"limits": map[string]any{"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": "1"}}}},
		},
	}))
	pods, problems := c.settle(t, 3*time.Minute, true)
	require.Empty(t, problems, "every pod bound")
	onGPU := map[string]int{}
	for _, p := range pods {
		switch {
		case p.ns == "nvidia-gpu":
			assert.Equal(t, gpuNode, p.node, "%s/%s runs on the GPU node only", p.ns, p.name)
			onGPU[p.owner]++
		case p.name == "ollama":
			assert.Equal(t, gpuNode, p.node, "the GPU pod is placed on the GPU node")
		case p.node == gpuNode && !strings.HasPrefix(p.owner, "DaemonSet"):
			t.Errorf("%s/%s (%s) landed on the GPU node", p.ns, p.name, p.owner)
		}
	}
	assert.Equal(t, map[string]int{"DaemonSet nvidia-gpu/nvidia-device-plugin": 1, "DaemonSet nvidia-gpu/dcgm-exporter": 1}, onGPU,
		"one device plugin and one exporter, no MPS daemon (the node is not MPS-capable)")
	t.Logf("%d pods bound on %d nodes; on %s: %v", len(pods), len(nodes), gpuNode, onGPU)
}

// TestGPUPolicyPackChecksTheGPUAlerts: a stack with the pool on passes the
// policy pack, and slo-alerts-match-catalog then holds the GPU alerts to
// the catalog: a GPU stack whose PrometheusRules lost HighGPUTemperature
// fails it.
func TestGPUPolicyPackChecksTheGPUAlerts(t *testing.T) {
	pack, err := rules.Pack()
	require.NoError(t, err)
	g := mustRun(t, "us-east", gpuOn)
	res := g.PolicyResources()
	vs, err := rules.Evaluate(context.Background(), pack, res)
	require.NoError(t, err)
	for _, v := range vs {
		assert.NotEqual(t, policyx.EnforcementLevelMandatory, v.Level, "%s", v)
	}
	// Drop the GPU alerts' rule group from the rendered PrometheusRule.
	dropped := false
	for _, r := range res {
		if r.Type != "kubernetes:monitoring.coreos.com/v1:PrometheusRule" || alertRule(resource.ToResourcePropertyMap(r.Properties).Mappable(), "HighGPUTemperature") == nil {
			continue
		}
		editPolicyResource(t, res, r.Type, r.Name, func(p map[string]any) {
			spec := p["spec"].(map[string]any)
			var groups []any
			for _, gr := range spec["groups"].([]any) {
				if !strings.Contains(fmt.Sprint(gr), "HighGPUTemperature") {
					groups = append(groups, gr)
				}
			}
			spec["groups"] = groups
		})
		dropped = true
	}
	require.True(t, dropped, "the GPU stack renders HighGPUTemperature")
	vs, err = rules.Evaluate(context.Background(), pack, res)
	require.NoError(t, err)
	var msgs []string
	for _, v := range vs {
		if v.Policy == "slo-alerts-match-catalog" {
			msgs = append(msgs, v.Message)
		}
	}
	assert.Contains(t, strings.Join(msgs, "\n"), "alert HighGPUTemperature (tars_system_alerts) is missing from the PrometheusRules")
}
