package tests

import (
	"context"
	"fmt"
	"github.com/tars-platform/infra/tests/apistandin"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/verify"
	"sigs.k8s.io/yaml"
)

// The seed's six VPAs as components/costs creates them (SeedVPAs): each in
// its target's namespace.
var vpaSeed = []struct{ ns, name, kind, target string }{
	{"tars", "tars-backend", "Deployment", "tars-backend"},
	{"tars", "tars-ui", "Deployment", "tars-ui"},
	{"postgres", "postgres-primary", "Cluster", "tars-us-east"},
	{"redis", "redis-cluster", "StatefulSet", "redis-cluster"},
	{"tars", "chromadb", "StatefulSet", "chromadb"},
	{"tars", "ollama", "Deployment", "ollama"},
}

func vpaInventory(t *testing.T) verify.Inventory {
	t.Helper()
	var rs []verify.Resource
	for _, v := range vpaSeed {
		rs = append(rs, verify.Resource{
			Type: "kubernetes:autoscaling.k8s.io/v1:VerticalPodAutoscaler", Name: "costs-vpa-" + v.name,
			Inputs: map[string]any{
				"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler",
				"metadata": map[string]any{"namespace": v.ns, "name": v.name},
				"spec": map[string]any{
					"targetRef":    map[string]any{"apiVersion": "apps/v1", "kind": v.kind, "name": v.target},
					"updatePolicy": map[string]any{"updateMode": "Initial"},
				},
			},
		})
	}
	// Not a VPA: left alone.
	rs = append(rs, verify.Resource{Type: "kubernetes:core/v1:Namespace", Name: "ns-tars", Inputs: map[string]any{"metadata": map[string]any{"name": "tars"}}})
	inv, err := verify.NewInventory("us-east", rs)
	require.NoError(t, err)
	require.Len(t, inv.Kind("VerticalPodAutoscaler"), 6)
	return inv
}

// The statuses, in the VPA 1.7.1 API's shape (kubernetes/autoscaler
// vertical-pod-autoscaler/pkg/apis/autoscaling.k8s.io/v1/types.go @
// vertical-pod-autoscaler-1.7.1: VerticalPodAutoscalerStatus,
// RecommendedContainerResources, VerticalPodAutoscalerCondition) with the
// conditions the recommender sets (pkg/recommender/model/vpa.go,
// updateConditionsLocked).
const (
	// A recommendation: RecommendationProvided True, one container's
	// target, bounds and uncapped target.
	vpaRecommending = `
conditions:
- lastTransitionTime: "2026-11-30T09:20:11Z"
  status: "True"
  type: RecommendationProvided
recommendation:
  containerRecommendations:
  - containerName: app
    lowerBound:
      cpu: 500m
      memory: 512Mi
    target:
      cpu: 587m
      memory: "1102117711"
    uncappedTarget:
      cpu: 587m
      memory: "1102117711"
    upperBound:
      cpu: "4"
      memory: 8Gi
`
	// No pod matches the target (the workload is not deployed): no
	// recommendation, and both conditions with the recommender's reason
	// and message.
	vpaNoPods = `
conditions:
- lastTransitionTime: "2026-11-30T09:20:11Z"
  message: No pods match this VPA object
  reason: NoPodsMatched
  status: "True"
  type: NoPodsMatched
- lastTransitionTime: "2026-11-30T09:20:11Z"
  message: No pods match this VPA object
  reason: NoPodsMatched
  status: "False"
  type: RecommendationProvided
`
)

// vpaObject is the cluster's VPA with a status given as YAML ("" for none).
func vpaObject(t *testing.T, ns, name, statusYAML string) map[string]any {
	t.Helper()
	o := map[string]any{
		"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler",
		"metadata": map[string]any{"namespace": ns, "name": name, "generation": 1},
		"spec":     map[string]any{"targetRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": name}},
	}
	if statusYAML != "" {
		var st map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(statusYAML), &st))
		o["status"] = st
	}
	return o
}

func vpaEnv(t *testing.T, s *apistandin.Server, inv verify.Inventory) *verify.Env {
	t.Helper()
	return &verify.Env{RunID: "verify-test", Regions: map[string]*verify.Region{
		"us-east": {Name: "us-east", Cluster: s.Cluster(t), Inventory: inv},
	}}
}

func vpaRun(t *testing.T, env *verify.Env) verify.Result {
	t.Helper()
	rep := verify.Run(context.Background(), env, []verify.Check{verify.VPARecommendations()}, nil)
	require.Len(t, rep.Results, 1)
	return rep.Results[0]
}

func TestVerifyVPARecommendationsPass(t *testing.T) {
	s := apistandin.New(t)
	for _, v := range vpaSeed {
		s.Objects("verticalpodautoscalers.autoscaling.k8s.io/v1", vpaObject(t, v.ns, v.name, vpaRecommending))
	}
	res := vpaRun(t, vpaEnv(t, s, vpaInventory(t)))
	assert.Equal(t, verify.Pass, res.Status, "%+v", res)
	assert.Equal(t, "6 of 6 VPAs recommend", res.Expected)
	assert.Equal(t, "6 of 6 VPAs recommend", res.Observed)
	assert.Empty(t, res.Problems)
	require.NotEmpty(t, s.Requests)
	assert.Regexp(t, `^GET /apis/autoscaling.k8s.io/v1/namespaces/postgres/verticalpodautoscalers/postgres-primary(\?|$)`, s.Requests[0])
	c := verify.VPARecommendations()
	assert.Equal(t, verify.PerRegion, c.Scope)
	assert.GreaterOrEqual(t, c.Timeout.Seconds(), 30.0)
	assert.LessOrEqual(t, c.Timeout.Seconds(), 60.0)
}

func TestVerifyVPARecommendationsFail(t *testing.T) {
	s := apistandin.New(t)
	for _, v := range vpaSeed {
		switch v.name {
		case "tars-backend":
			s.Objects("verticalpodautoscalers.autoscaling.k8s.io/v1", vpaObject(t, v.ns, v.name, vpaNoPods))
		case "chromadb":
			// Created, never looked at by a recommender.
			s.Objects("verticalpodautoscalers.autoscaling.k8s.io/v1", vpaObject(t, v.ns, v.name, ""))
		case "ollama":
			// Missing.
		default:
			s.Objects("verticalpodautoscalers.autoscaling.k8s.io/v1", vpaObject(t, v.ns, v.name, vpaRecommending))
		}
	}
	res := vpaRun(t, vpaEnv(t, s, vpaInventory(t)))
	assert.Equal(t, verify.Fail, res.Status)
	assert.Equal(t, "6 of 6 VPAs recommend", res.Expected)
	assert.Equal(t, "3 of 6 VPAs recommend", res.Observed)
	assert.Equal(t, []string{
		"VerticalPodAutoscaler tars/chromadb (target Deployment chromadb): no recommendation; no status conditions: the recommender has not processed it (is the VPA recommender running?)",
		"VerticalPodAutoscaler tars/ollama: not in the cluster",
		"VerticalPodAutoscaler tars/tars-backend (target Deployment tars-backend): no recommendation; conditions: " +
			"NoPodsMatched True (NoPodsMatched: No pods match this VPA object), RecommendationProvided False (NoPodsMatched: No pods match this VPA object)",
	}, res.Problems)
}

func TestVerifyVPARecommendationsCRDMissing(t *testing.T) {
	// No VerticalPodAutoscaler resource served: every Get is a 404.
	s := apistandin.New(t)
	res := vpaRun(t, vpaEnv(t, s, vpaInventory(t)))
	assert.Equal(t, verify.Fail, res.Status)
	assert.Len(t, res.Problems, 6)
	assert.Equal(t, "0 of 6 VPAs recommend; none of the 6 is in the cluster (is the VerticalPodAutoscaler CRD installed?)", res.Observed)
}

func TestVerifyVPARecommendationsOddData(t *testing.T) {
	s := apistandin.New(t)
	odd := []map[string]any{
		{"recommendation": "soon"},
		{"recommendation": map[string]any{"containerRecommendations": []any{"x", nil, map[string]any{"containerName": "app"}}}},
		{"conditions": []any{"RecommendationProvided", nil, map[string]any{"type": 3}}},
	}
	for i, v := range vpaSeed {
		o := vpaObject(t, v.ns, v.name, vpaRecommending)
		if i < len(odd) {
			o["status"] = odd[i]
		}
		if i == len(odd) {
			o["spec"] = "nonsense"
		}
		s.Objects("verticalpodautoscalers.autoscaling.k8s.io/v1", o)
	}
	res := vpaRun(t, vpaEnv(t, s, vpaInventory(t)))
	assert.Equal(t, verify.Fail, res.Status, "%+v", res)
	assert.Equal(t, "3 of 6 VPAs recommend", res.Observed)
	assert.Len(t, res.Problems, 3)
}

func TestVerifyVPARecommendationsNone(t *testing.T) {
	s := apistandin.New(t)
	inv, err := verify.NewInventory("us-east", nil)
	require.NoError(t, err)
	res := vpaRun(t, vpaEnv(t, s, inv))
	assert.Equal(t, verify.Skip, res.Status)
	assert.Equal(t, "the program creates no VerticalPodAutoscaler in us-east", res.Observed)
}

func TestVerifyVPARecommendationsAPIError(t *testing.T) {
	s := apistandin.New(t)
	env := vpaEnv(t, s, vpaInventory(t))
	s.Close()
	res := vpaRun(t, env)
	assert.Equal(t, verify.Fail, res.Status)
	assert.Contains(t, res.Observed, fmt.Sprintf("read VerticalPodAutoscaler %s/%s", vpaSeed[2].ns, vpaSeed[2].name))
}
