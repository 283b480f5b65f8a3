package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/internal/podsecurity"
	"github.com/tars-platform/infra/tests/charttier"
	"github.com/tars-platform/infra/tests/harness"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// podWorkload is a pod template of an object the stack creates.
type podWorkload struct {
	Kind, Namespace, Name string
	Meta                  metav1.ObjectMeta
	Spec                  corev1.PodSpec
}

func (w podWorkload) String() string { return w.Kind + " " + w.Namespace + "/" + w.Name }

// podTemplates extracts every pod template (Pod, Deployment, StatefulSet,
// DaemonSet, ReplicaSet, Job, CronJob) of the objects.
func podTemplates(t *testing.T, objs []map[string]any) []podWorkload {
	t.Helper()
	var out []podWorkload
	for _, o := range objs {
		kind, _ := o["kind"].(string)
		var tmpl any
		switch kind {
		case "Pod":
			tmpl = map[string]any{"metadata": o["metadata"], "spec": o["spec"]}
		case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
			tmpl = get(o, "spec.template")
		case "CronJob":
			tmpl = get(o, "spec.jobTemplate.spec.template")
		default:
			continue
		}
		b, err := json.Marshal(tmpl)
		require.NoError(t, err)
		var pt corev1.PodTemplateSpec
		require.NoError(t, json.Unmarshal(b, &pt), "%s %v", kind, get(o, "metadata.name"))
		ns, _ := get(o, "metadata.namespace").(string)
		name, _ := get(o, "metadata.name").(string)
		out = append(out, podWorkload{Kind: kind, Namespace: ns, Name: name, Meta: pt.ObjectMeta, Spec: pt.Spec})
	}
	return out
}

// clusterMinor is the policy version the API server's "latest" means.
func clusterMinor(t *testing.T, version string) api.Version {
	t.Helper()
	v, err := api.ParseVersion("v" + version)
	require.NoError(t, err, "cluster version %q", version)
	return v
}

// violations evaluates a podWorkload at a level with the upstream evaluator.
func violations(t *testing.T, ev policy.Evaluator, w podWorkload, level api.Level, v api.Version) []string {
	t.Helper()
	var out []string
	for _, r := range ev.EvaluatePod(api.LevelVersion{Level: level, Version: v}, &w.Meta, &w.Spec) {
		if !r.Allowed {
			out = append(out, r.ForbiddenReason+": "+r.ForbiddenDetail)
		}
	}
	return out
}

// wantPodSecurity is the reviewed level of every namespace the program
// creates (the reason for each level below restricted is on the namespace).
var wantPodSecurity = map[string]string{
	"tars": "restricted", "tars-data": "restricted", "tars-postgres": "restricted",
	"cert-manager": "restricted", "cnpg-system": "restricted",
	"vpa-system": "restricted", "monitoring": "privileged", "kubecost": "privileged",
}

// TestPodSecurityEveryWorkloadPassesItsNamespace: every namespace the
// program creates enforces a Pod Security level (auditing and warning at
// restricted), the reviewed one; every workload of the stack, its own and
// every rendered chart's (CloudNativePG's instances as the operator makes
// them), passes its namespace's level by the upstream evaluator at the
// cluster's minor; and no namespace is looser than its workloads need: a
// level below restricted is needed by a workload the stricter level
// refuses, and the reason on the namespace names it.
func TestPodSecurityEveryWorkloadPassesItsNamespace(t *testing.T) {
	dir := chartsDir(t)
	ev, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	require.NoError(t, err)
	stricter := map[api.Level]api.Level{api.LevelBaseline: api.LevelRestricted, api.LevelPrivileged: api.LevelBaseline}
	// Both stacks as configured, and us-east with the GPU pool on (its
	// namespace nvidia-gpu is privileged).
	variants := []struct {
		stack string
		opts  []harness.Option
		extra map[string]string
	}{{"us-east", nil, nil}, {"us-west", nil, nil}, {"us-east", []harness.Option{gpuOn}, map[string]string{"nvidia-gpu": "privileged"}}}
	for _, variant := range variants {
		stack := variant.stack
		g := mustRun(t, stack, variant.opts...)
		ver, err := charttier.KubeVersion(g)
		require.NoError(t, err)
		v := clusterMinor(t, ver)
		objs, err := charttier.Objects(context.Background(), g, dir)
		require.NoError(t, err)
		objs = append(objs, cnpgInstances(t, objs)...)
		levels, reasons := map[string]api.Level{}, map[string]string{}
		got := map[string]string{}
		for _, o := range objs {
			if o["kind"] != "Namespace" {
				continue
			}
			name := fmt.Sprint(get(o, "metadata.name"))
			labels, _ := get(o, "metadata.labels").(map[string]any)
			enforce, _ := labels["pod-security.kubernetes.io/enforce"].(string)
			lvl, err := api.ParseLevel(enforce)
			if !assert.NoError(t, err, "%s: namespace %s enforces %q", stack, name, enforce) {
				continue
			}
			assert.Equal(t, "restricted", labels["pod-security.kubernetes.io/audit"], "%s: %s audits at restricted", stack, name)
			assert.Equal(t, "restricted", labels["pod-security.kubernetes.io/warn"], "%s: %s warns at restricted", stack, name)
			reason, _ := get(o, "metadata.annotations").(map[string]any)
			r, _ := reason["tars.io/pod-security-reason"].(string)
			if lvl == api.LevelRestricted {
				assert.Empty(t, r, "%s: %s is restricted and needs no reason", stack, name)
			} else {
				assert.NotEmpty(t, r, "%s: %s is %s without a reason", stack, name, lvl)
			}
			levels[name], reasons[name], got[name] = lvl, r, enforce
		}
		want := maps.Clone(wantPodSecurity)
		maps.Copy(want, variant.extra)
		assert.Equal(t, want, got, "%s: the namespaces and their levels", stack)
		needs := map[string][]string{}
		checked := 0
		for _, w := range podTemplates(t, objs) {
			if w.Namespace == "kube-system" {
				continue // EKS's own namespace: the program does not create it (see README)
			}
			lvl, ok := levels[w.Namespace]
			if !assert.True(t, ok, "%s: %s runs in a namespace the program does not label", stack, w) {
				continue
			}
			checked++
			assert.Empty(t, violations(t, ev, w, lvl, v), "%s: %s at its namespace's %s", stack, w, lvl)
			if s, ok := stricter[lvl]; ok && len(violations(t, ev, w, s, v)) > 0 {
				needs[w.Namespace] = append(needs[w.Namespace], w.Name)
			}
		}
		assert.Greater(t, checked, 40, "%s: workloads evaluated", stack)
		for ns, lvl := range levels {
			if lvl == api.LevelRestricted {
				continue
			}
			assert.NotEmpty(t, needs[ns], "%s: %s is %s but every workload passes %s: tighten it", stack, ns, lvl, stricter[lvl])
			for _, name := range needs[ns] {
				assert.Contains(t, reasons[ns], name, "%s: the reason of %s names %s, which needs %s", stack, ns, name, lvl)
			}
		}
		t.Logf("%s: %d workloads pass their namespace's level (v%s); below restricted: %v", stack, checked, ver, needs)
	}
}

// TestPodSecurityPolicyNeedsAReason: a level below restricted without a
// reason, or an unknown level, is refused by the chart block.
func TestPodSecurityPolicyNeedsAReason(t *testing.T) {
	for _, tc := range []struct {
		p    podsecurity.Policy
		want string
	}{
		{podsecurity.Policy{Level: podsecurity.Restricted}, ""},
		{podsecurity.Policy{Level: podsecurity.Baseline, Reason: "x needs y"}, ""},
		{podsecurity.Policy{Level: podsecurity.Baseline}, "needs a reason"},
		{podsecurity.Policy{Level: podsecurity.Privileged}, "needs a reason"},
		{podsecurity.Policy{}, "is not set"},
		{podsecurity.Policy{Level: "strict"}, `"strict": want restricted, baseline or privileged`},
	} {
		err := tc.p.Validate()
		if tc.want == "" {
			assert.NoError(t, err, "%+v", tc.p)
		} else {
			assert.ErrorContains(t, err, tc.want, "%+v", tc.p)
		}
	}
	assert.Equal(t, map[string]string{"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/audit": "restricted",
		"pod-security.kubernetes.io/warn": "restricted"}, podsecurity.Policy{Level: podsecurity.Baseline, Reason: "r"}.Labels())
}
