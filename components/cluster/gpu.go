package cluster

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tars-platform/infra/internal/check"
)

// The optional GPU node group for Ollama (seed 003, "(Optional) GPU nodes
// for Ollama"): NVIDIA T4 instances (EC2 g4dn) on the EKS-optimised NVIDIA
// AMI, tainted so only pods that ask for a GPU land there, scaled by the
// Cluster Autoscaler from zero.
const (
	// GPUNodeGroupName is the pool's managed node group.
	GPUNodeGroupName = "gpu"
	// GPUAMIType is the EKS-optimised Amazon Linux 2023 AMI with the NVIDIA
	// driver and container toolkit (Amazon Linux 2 AMIs end with 1.32).
	GPUAMIType = "AL2023_x86_64_NVIDIA"
	// GPUResource is the extended resource the NVIDIA device plugin
	// advertises, and the taint key (NoSchedule) on the pool's nodes.
	GPUResource = "nvidia.com/gpu"
	// GPUPresentLabel marks the pool's nodes; the device plugin and the
	// DCGM exporter run only there (the device plugin chart's own
	// affinity accepts it too).
	GPUPresentLabel = "nvidia.com/gpu.present"
	// AcceleratorLabel is the label the Cluster Autoscaler's AWS provider
	// reads to know a node has GPUs (it then waits for the device plugin
	// before counting the node's GPUs as ready).
	AcceleratorLabel = "k8s.amazonaws.com/accelerator"
	// AcceleratorT4 is its value for the T4.
	AcceleratorT4 = "nvidia-tesla-t4"
	// DefaultGPUInstanceType is one T4, 4 vCPU, 16 GiB.
	DefaultGPUInstanceType = "g4dn.xlarge"
	// DefaultGPUMaxSize bounds the pool.
	DefaultGPUMaxSize = 2
	// DefaultGPUDiskSizeGiB holds the AMI, images and model files.
	DefaultGPUDiskSizeGiB = 200
)

// GPUsPerInstance are the T4s of each g4dn size (AWS EC2 accelerated
// computing instances, G4dn).
var GPUsPerInstance = map[string]int{
	"g4dn.xlarge": 1, "g4dn.2xlarge": 1, "g4dn.4xlarge": 1, "g4dn.8xlarge": 1,
	"g4dn.16xlarge": 1, "g4dn.12xlarge": 4, "g4dn.metal": 8,
}

// GPUPool configures the GPU node group: tars:cluster.gpu.
type GPUPool struct {
	// Enabled creates the node group; the stack then installs the NVIDIA
	// device plugin and the DCGM exporter and renders the GPU alerts and
	// panels. Default false: no GPU anything.
	Enabled bool `json:"enabled,omitempty"`
	// InstanceTypes are g4dn sizes, first preferred, all with the same
	// number of GPUs (the autoscaler's template has one count). Default
	// [DefaultGPUInstanceType].
	InstanceTypes []string `json:"instanceTypes,omitempty"`
	// MinSize: default 0, so the pool costs nothing while no pod asks for a
	// GPU. MaxSize: default DefaultGPUMaxSize.
	MinSize int `json:"minSize,omitempty"`
	MaxSize int `json:"maxSize,omitempty"`
	// CapacityType is ON_DEMAND or SPOT. Default DefaultCapacityType.
	CapacityType string `json:"capacityType,omitempty"`
	// DiskSizeGiB of the root volume. Default DefaultGPUDiskSizeGiB.
	DiskSizeGiB int `json:"diskSizeGiB,omitempty"`
}

// WithDefaults fills zero fields.
func (g GPUPool) WithDefaults() GPUPool {
	if len(g.InstanceTypes) == 0 {
		g.InstanceTypes = []string{DefaultGPUInstanceType}
	}
	check.Default(&g.MaxSize, DefaultGPUMaxSize)
	check.Default(&g.CapacityType, DefaultCapacityType)
	check.Default(&g.DiskSizeGiB, DefaultGPUDiskSizeGiB)
	return g
}

// GPUs is the number of GPUs on each of the pool's nodes.
func (g GPUPool) GPUs() int { return GPUsPerInstance[g.WithDefaults().InstanceTypes[0]] }

// validate checks a defaulted, enabled pool.
func (g GPUPool) validate(p *check.Problems) {
	if !g.Enabled {
		return
	}
	s := p.At("gpu")
	sizes := slices.Sorted(maps.Keys(GPUsPerInstance))
	for i, t := range g.InstanceTypes {
		n, ok := GPUsPerInstance[t]
		if !ok {
			s.Addf(fmt.Sprintf("instanceTypes[%d]", i), "(%q) is not a g4dn (NVIDIA T4) size: one of %s", t, strings.Join(sizes, ", "))
			continue
		}
		if first := GPUsPerInstance[g.InstanceTypes[0]]; first != 0 && n != first {
			s.Addf(fmt.Sprintf("instanceTypes[%d]", i), "(%q) has %d GPUs, %q has %d: all sizes of the pool need the same count", t, n, g.InstanceTypes[0], first)
		}
	}
	g.nodeGroup().validateSizing(s)
}

// nodeGroup is the pool as a managed node group: the NVIDIA AMI, the
// taint, the labels, and the autoscaler's node-template tags, which let it
// build a node from a group at zero (labels, taint and GPU count, as the
// Cluster Autoscaler's AWS provider reads k8s.io/cluster-autoscaler/node-template/*).
func (g GPUPool) nodeGroup() NodeGroup {
	g = g.WithDefaults()
	labels := map[string]string{GPUPresentLabel: "true", AcceleratorLabel: AcceleratorT4}
	tmpl := map[string]string{
		templateTagPrefix + "taint/" + GPUResource:     "true:NoSchedule",
		templateTagPrefix + "resources/" + GPUResource: fmt.Sprint(g.GPUs()),
	}
	for k, v := range labels {
		tmpl[templateTagPrefix+"label/"+k] = v
	}
	return NodeGroup{
		Name: GPUNodeGroupName, InstanceTypes: g.InstanceTypes, CapacityType: g.CapacityType,
		MinSize: g.MinSize, MaxSize: g.MaxSize, DesiredSize: g.MinSize, DiskSizeGiB: g.DiskSizeGiB,
		Labels:       labels,
		amiType:      GPUAMIType,
		taints:       []taint{{Key: GPUResource, Value: "true", Effect: "NO_SCHEDULE"}},
		templateTags: tmpl,
	}
}

// taint is a managed node group taint (EKS spelling of the effect).
type taint struct{ Key, Value, Effect string }
