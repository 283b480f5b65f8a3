package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// vpaGVR is the VerticalPodAutoscaler resource the VPA chart's CRD serves
// (vertical-pod-autoscaler 0.11.0, VPA 1.7.1).
var vpaGVR = schema.GroupVersionResource{Group: "autoscaling.k8s.io", Version: "v1", Resource: "verticalpodautoscalers"}

// VPARecommendations: every VerticalPodAutoscaler the program creates in
// the region (components/costs: seed 003's six) exists and has a
// recommendation, status.recommendation.containerRecommendations.
//
// The recommender writes the status (kubernetes/autoscaler
// vertical-pod-autoscaler/pkg/recommender/model/vpa.go @
// vertical-pod-autoscaler-1.7.1, updateConditionsLocked): with no pod
// matching the target it sets NoPodsMatched True and
// RecommendationProvided False, both with reason NoPodsMatched and message
// "No pods match this VPA object"; once it has a recommendation,
// RecommendationProvided True. A VPA without one is reported with its
// conditions, so "no pods" (the application is not deployed yet) reads
// differently from a recommender that has not looked at it at all.
func VPARecommendations() Check {
	return Check{
		ID:       "vpa-recommendations",
		Expected: "every VPA the program creates has a recommendation",
		Scope:    PerRegion,
		Timeout:  30 * time.Second,
		Run:      runVPARecommendations,
	}
}

func runVPARecommendations(ctx context.Context, env *Env, region string) (Outcome, error) {
	r, err := env.Region(region)
	if err != nil {
		return Outcome{}, err
	}
	if r.Cluster == nil {
		return Outcome{}, fmt.Errorf("region %s: no cluster to read", region)
	}
	want := r.Inventory.Kind("VerticalPodAutoscaler")
	if len(want) == 0 {
		return Outcome{Skipped: fmt.Sprintf("the program creates no VerticalPodAutoscaler in %s", region)}, nil
	}
	out := Outcome{Expected: fmt.Sprintf("%d of %d VPAs recommend", len(want), len(want))}
	recommending, missing := 0, 0
	for _, o := range want {
		obj, err := r.Cluster.Get(ctx, vpaGVR, o.Namespace, o.Name)
		if errors.Is(err, ErrNotFound) {
			missing++
			out = out.Failf("VerticalPodAutoscaler %s/%s: not in the cluster", o.Namespace, o.Name)
			continue
		}
		if err != nil {
			return out, fmt.Errorf("read VerticalPodAutoscaler %s/%s: %w", o.Namespace, o.Name, err)
		}
		if n := vpaContainerRecommendations(obj); n > 0 {
			recommending++
			continue
		}
		out = out.Failf("VerticalPodAutoscaler %s/%s (%s): no recommendation; %s", o.Namespace, o.Name, vpaTarget(obj, o), vpaConditions(obj))
	}
	out.Observed = fmt.Sprintf("%d of %d VPAs recommend", recommending, len(want))
	if missing == len(want) {
		out.Observed += fmt.Sprintf("; none of the %d is in the cluster (is the VerticalPodAutoscaler CRD installed?)", len(want))
	}
	return out, nil
}

// vpaContainerRecommendations counts the containers the VPA recommends a
// target for.
func vpaContainerRecommendations(obj map[string]any) int {
	recs, _ := Path(obj, "status.recommendation.containerRecommendations").([]any)
	n := 0
	for _, rec := range recs {
		m, _ := rec.(map[string]any)
		if target, _ := m["target"].(map[string]any); len(target) > 0 {
			n++
		}
	}
	return n
}

// vpaTarget names the VPA's target ("Deployment tars-backend"), from the
// cluster's object, or the program's when the cluster's has none.
func vpaTarget(obj map[string]any, o Object) string {
	ref, _ := Path(obj, "spec.targetRef").(map[string]any)
	if ref == nil {
		ref, _ = Path(o.Body, "spec.targetRef").(map[string]any)
	}
	kind, name := str(ref["kind"]), str(ref["name"])
	if kind == "" && name == "" {
		return "no target"
	}
	return "target " + strings.TrimSpace(kind+" "+name)
}

// vpaConditions quotes the status conditions ("conditions: NoPodsMatched
// True (NoPodsMatched: No pods match this VPA object), …"), or says there
// is no status.
func vpaConditions(obj map[string]any) string {
	conds, _ := Path(obj, "status.conditions").([]any)
	var parts []string
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m == nil {
			continue
		}
		s := strings.TrimSpace(str(m["type"]) + " " + str(m["status"]))
		reason, msg := str(m["reason"]), str(m["message"])
		switch {
		case reason != "" && msg != "":
			s += " (" + reason + ": " + msg + ")"
		case reason != "" || msg != "":
			s += " (" + reason + msg + ")"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "no status conditions: the recommender has not processed it (is the VPA recommender running?)"
	}
	return "conditions: " + strings.Join(parts, ", ")
}
