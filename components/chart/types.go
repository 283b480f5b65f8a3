package chart

import "strings"

// Value types that most charts share, spelt as Kubernetes and the charts
// spell them, so each component's values struct reuses them instead of
// writing maps.

// Resources is a container's requests and limits.
type Resources struct {
	Requests ResourceList `json:"requests"`
	Limits   ResourceList `json:"limits"`
}

// ResourceList is an amount of CPU ("100m") and memory ("128Mi").
type ResourceList struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// Burstable returns requests with higher limits.
func Burstable(request, limit ResourceList) Resources {
	return Resources{Requests: request, Limits: limit}
}

// TopologySpreadConstraint is a pod's spread over a topology domain.
type TopologySpreadConstraint struct {
	MaxSkew           int           `json:"maxSkew"`
	TopologyKey       string        `json:"topologyKey"`
	WhenUnsatisfiable string        `json:"whenUnsatisfiable"`
	LabelSelector     LabelSelector `json:"labelSelector"`
}

// LabelSelector selects pods by labels.
type LabelSelector struct {
	MatchLabels map[string]string `json:"matchLabels"`
}

// ZoneLabel is the well-known label of a node's availability zone.
const ZoneLabel = "topology.kubernetes.io/zone"

// ZoneSpread spreads the pods matching podLabels evenly over the zones
// (skew at most 1), preferring but not requiring it: a controller with two
// replicas keeps running when a zone has no room. podLabels must be labels
// the chart puts on the pods; the chart tier checks that they select them.
func ZoneSpread(podLabels map[string]string) []TopologySpreadConstraint {
	return []TopologySpreadConstraint{{
		MaxSkew:           1,
		TopologyKey:       ZoneLabel,
		WhenUnsatisfiable: "ScheduleAnyway",
		LabelSelector:     LabelSelector{MatchLabels: podLabels},
	}}
}

// Toleration is a pod's toleration of a node taint.
type Toleration struct {
	Key      string `json:"key"`
	Operator string `json:"operator"`
	Value    string `json:"value,omitempty"`
	Effect   string `json:"effect"`
}

// Image is a chart's image.repository and image.tag.
type Image struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
}

// ImageOf splits a pinned "repository:tag" (components/versions).
func ImageOf(ref string) Image {
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return Image{Repository: ref}
	}
	return Image{Repository: ref[:i], Tag: ref[i+1:]}
}
