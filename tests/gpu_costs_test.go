package tests

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/internal/costmodel"
	"github.com/tars-platform/infra/tests/charttier"
	"github.com/tars-platform/infra/tests/harness"
)

// The GPU node pool's cost (issue #23, part 4): `tarsctl cost` prices the
// pool like any node group, at its minimum and its maximum, with its root
// volumes; Kubecost prices its GPUs at seed 003's Tesla T4 rate.

// gpuLines prices a stack's plan as `tarsctl cost` does and returns its
// lines by item.
func gpuLines(t *testing.T, g *harness.Graph) (map[string]costmodel.Line, costmodel.Estimate, costmodel.Inventory) {
	t.Helper()
	e, inv, err := charttier.Cost(context.Background(), g, chartsDir(t), costmodel.AWS)
	require.NoError(t, err)
	lines := map[string]costmodel.Line{}
	for _, l := range e.Lines {
		lines[l.Item] = l
	}
	return lines, e, inv
}

// TestGPUCostsPoolAtMinAndMax: us-east with the pool on (0 to 2
// g4dn.xlarge, 200 GiB each) costs nothing more at its minimum and, at its
// maximum, two g4dn.xlarge at AWS's on-demand list price ($0.526/h in
// us-east-1) for 730 hours plus two 200 GiB gp3 root volumes ($0.08 per
// GB-month):
//
//	nodes us-east-gpu          0 | 2 × 0.526 × 730 = 767.96
//	node volumes us-east-gpu   0 | 2 × 200 × 0.08  =  32.00
func TestGPUCostsPoolAtMinAndMax(t *testing.T) {
	const (
		g4dnXlargeHour = 0.526 // aws.amazon.com/ec2/pricing/on-demand, Linux, us-east-1
		gp3GBMonth     = 0.08  // aws.amazon.com/ebs/pricing, gp3, us-east-1
		hours          = 730.0
		maxNodes       = 2
		diskGiB        = 200
	)
	g := mustRun(t, "us-east", harness.WithConfig("tars:cluster.gpu.enabled", true), harness.WithConfig("tars:cluster.gpu.maxSize", maxNodes))
	ng := one(t, g, "aws:eks/nodeGroup:NodeGroup", "us-east-gpu")
	assert.Equal(t, []any{"g4dn.xlarge"}, ng.Input("instanceTypes"))
	assert.EqualValues(t, 0, ng.Input("scalingConfig.minSize"))
	assert.EqualValues(t, maxNodes, ng.Input("scalingConfig.maxSize"))

	on, e, inv := gpuLines(t, g)
	var pool *costmodel.NodeGroup
	for i, n := range inv.NodeGroups {
		if n.Name == "us-east-gpu" {
			pool = &inv.NodeGroups[i]
		}
	}
	require.NotNil(t, pool, "the GPU pool is in the inventory: %+v", inv.NodeGroups)
	assert.Equal(t, []string{"g4dn.xlarge"}, pool.InstanceTypes)
	assert.Equal(t, 0, pool.Min)
	assert.Equal(t, maxNodes, pool.Max)
	assert.Equal(t, float64(diskGiB), pool.DiskGiB, "the launch template's root volume")

	for _, l := range e.Lines {
		if strings.Contains(l.Item, "gpu") {
			t.Logf("%s\t%s\t%.2f\t%.2f", l.Item, l.Quantity, l.Min, l.Max)
		}
	}
	nodes, ok := on["nodes us-east-gpu"]
	require.True(t, ok, "a line for the GPU nodes: %v", e.Lines)
	assert.Equal(t, 0.0, nodes.Min, "min size 0 costs nothing")
	assert.InDelta(t, maxNodes*g4dnXlargeHour*hours, nodes.Max, 0.005)
	assert.InDelta(t, 767.96, nodes.Max, 0.005)
	assert.Contains(t, nodes.Quantity, "g4dn.xlarge")
	vols, ok := on["node volumes us-east-gpu"]
	require.True(t, ok, "a line for the GPU nodes' root volumes: %v", e.Lines)
	assert.Equal(t, 0.0, vols.Min)
	assert.InDelta(t, maxNodes*diskGiB*gp3GBMonth, vols.Max, 0.005)
	assert.InDelta(t, 32.00, vols.Max, 0.005)

	// The pool off: no g4dn anywhere. The pool's two lines are the only
	// new ones, and the nodes' cost grows by $0 at the minimum and by the
	// two lines above at the maximum.
	off, _, _ := gpuLines(t, mustRun(t, "us-east"))
	for item, l := range off {
		assert.NotContains(t, item, "gpu", "pool off: %s", item)
		assert.NotContains(t, l.Quantity, "g4dn", "pool off: %s %s", item, l.Quantity)
	}
	var added []string
	for item := range on {
		if _, ok := off[item]; !ok {
			added = append(added, item)
		}
	}
	assert.ElementsMatch(t, []string{"nodes us-east-gpu", "node volumes us-east-gpu"}, added)
	nodeCost := func(lines map[string]costmodel.Line) (min, max float64) {
		for item, l := range lines {
			if strings.HasPrefix(item, "nodes ") || strings.HasPrefix(item, "node volumes ") {
				min, max = min+l.Min, max+l.Max
			}
		}
		return min, max
	}
	onMin, onMax := nodeCost(on)
	offMin, offMax := nodeCost(off)
	assert.InDelta(t, offMin, onMin, 0.005, "the pool at 0 adds $0")
	assert.InDelta(t, offMax+maxNodes*g4dnXlargeHour*hours+maxNodes*diskGiB*gp3GBMonth, onMax, 0.01)
}

// TestGPUCostsEverySizeIsPriced: every size the pool accepts has a list
// price in both regions, so `tarsctl cost` never fails on a valid pool.
func TestGPUCostsEverySizeIsPriced(t *testing.T) {
	for _, region := range []string{"us-east-1", "us-west-2"} {
		p, ok := costmodel.AWS.Regions[region]
		require.True(t, ok, region)
		for size := range cluster.GPUsPerInstance {
			assert.Greater(t, p.InstanceHour[size], 0.0, "%s: %s", region, size)
		}
		assert.Equal(t, 0.526, p.InstanceHour["g4dn.xlarge"], "%s: AWS's g4dn.xlarge list price", region)
	}
}

// TestGPUCostsBadPoolConfig: a size that is not a g4dn is named by its
// config path.
func TestGPUCostsBadPoolConfig(t *testing.T) {
	_, err := harness.Run("us-east", harness.WithConfig("tars:cluster.gpu.enabled", true),
		harness.WithConfig("tars:cluster.gpu.instanceTypes", []any{"m5.xlarge"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tars:cluster.gpu.instanceTypes[0]")
	assert.Contains(t, err.Error(), "m5.xlarge")
}

// TestGPUCostsKubecostPricesTheT4: seed 003's $0.95 per GPU-hour reaches
// Kubecost as the monthly figure its custom pricing takes (× 730 hours),
// in the release values of a stack with the pool on and in the rendered
// pricing ConfigMap.
func TestGPUCostsKubecostPricesTheT4(t *testing.T) {
	const t4Hour = 0.95 // seed 003, Tesla T4
	want := strconv.FormatFloat(t4Hour*730, 'f', -1, 64)
	require.Equal(t, "693.5", want)

	g := mustRun(t, "us-east", harness.WithConfig("tars:cluster.gpu.enabled", true))
	rel := one(t, g, "kubernetes:helm.sh/v3:Release", "us-east-costs-kubecost")
	assert.Equal(t, want, fmt.Sprint(rel.Input("values.finopsagent.agent.kubecost.customPrices.GPU")))
	assert.Equal(t, true, rel.Input("values.finopsagent.agent.kubecost.customPrices.enabled"))

	p := stackObjects(t, "us-east")
	prices := asMap(p.namedIn(t, "ConfigMap", "kubecost", "pricing-configs")["data"])
	assert.Equal(t, want, prices["GPU"])
	assert.Equal(t, "true", prices["customPricesEnabled"], "Kubecost reads the custom prices")
}
