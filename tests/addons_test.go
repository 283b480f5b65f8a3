package tests

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/internal/helmchart"
	"github.com/tars-platform/infra/tests/charttier"
	"github.com/tars-platform/infra/tests/harness"
)

// releaseOf returns the rendered release of a chart in a stack.
func releaseOf(t *testing.T, stack, chartName string) charttier.Rendered {
	t.Helper()
	for _, r := range renderStack(t, stack).releases {
		if r.Pin.Name == chartName {
			return r
		}
	}
	t.Fatalf("%s installs no %s release", stack, chartName)
	return charttier.Rendered{}
}

// rendered returns the rendered objects of a release of a kind.
func rendered(r charttier.Rendered, kind string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, o := range charttier.Namespaced(r.Output.All(), r.Namespace) {
		if o["kind"] == kind {
			out[dig(o, "metadata")["name"].(string)] = o
		}
	}
	return out
}

func replicas(o map[string]any) any { return dig(o, "spec")["replicas"] }

// containerArgs returns the args of a workload's first container.
func containerArgs(o map[string]any) []string {
	cs, _ := dig(o, "spec", "template", "spec")["containers"].([]any)
	if len(cs) == 0 {
		return nil
	}
	return strs(cs[0].(map[string]any)["args"])
}

// TestAddonsCertManagerRendersHA: in both stacks cert-manager installs its
// six CRDs (kept on uninstall) and runs controller, webhook and cainjector
// twice each, each covered by a disruption budget.
func TestAddonsCertManagerRendersHA(t *testing.T) {
	for _, stack := range Stacks {
		r := releaseOf(t, stack, "cert-manager")
		assert.Equal(t, "cert-manager", r.Namespace)
		assert.Equal(t, "cert-manager", r.ReleaseName)
		assert.Len(t, r.Output.CRDs, 6, "cert-manager CRDs")
		for _, c := range r.Output.CRDs {
			assert.Equal(t, "keep", dig(c.Body, "metadata", "annotations")["helm.sh/resource-policy"], c.Name())
		}
		deps := rendered(r, "Deployment")
		require.ElementsMatch(t, []string{"cert-manager", "cert-manager-webhook", "cert-manager-cainjector"}, slices.Collect(maps.Keys(deps)))
		for name, d := range deps {
			assert.EqualValues(t, 2, replicas(d), "%s %s replicas", stack, name)
		}
		assert.Len(t, rendered(r, "PodDisruptionBudget"), 3)
	}
}

// TestAddonsLoadBalancerController: two replicas told the cluster, VPC and
// region (pods cannot read them from instance metadata), a webhook
// certificate from cert-manager, a disruption budget, and a release that
// waits for cert-manager.
func TestAddonsLoadBalancerController(t *testing.T) {
	want := map[string]struct{ cluster, region string }{
		"us-east": {"tars-us-east", "us-east-1"},
		"us-west": {"tars-us-west", "us-west-2"},
	}
	for _, stack := range Stacks {
		r := releaseOf(t, stack, "aws-load-balancer-controller")
		assert.Equal(t, "kube-system", r.Namespace)
		d := rendered(r, "Deployment")["aws-load-balancer-controller"]
		require.NotNil(t, d)
		assert.EqualValues(t, 2, replicas(d))
		vpc := harness.MockID("aws:ec2/vpc:Vpc", stack+"-vpc")
		args := containerArgs(d)
		for _, a := range []string{"--cluster-name=" + want[stack].cluster, "--aws-vpc-id=" + vpc, "--aws-region=" + want[stack].region} {
			assert.Contains(t, args, a, "%s controller args", stack)
		}
		assert.Len(t, rendered(r, "PodDisruptionBudget"), 1)
		assert.NotEmpty(t, rendered(r, "Certificate"), "webhook certificate from cert-manager")
		for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
			for name, w := range rendered(r, kind) {
				assert.Contains(t, dig(w, "metadata", "annotations"), "cert-manager.io/inject-ca-from", "%s %s", kind, name)
			}
		}
		assert.Contains(t, r.After, releaseOf(t, stack, "cert-manager").URN, "the controller's release waits for cert-manager")
	}
}

// upstreamPolicyBlob is the git blob id of docs/install/iam_policy.json in
// kubernetes-sigs/aws-load-balancer-controller at v3.5.0.
const upstreamPolicyBlob = "761d0e733c41089c91ea009dd29faf71918085e5"

// TestAddonsLoadBalancerControllerPolicyIsUpstream: the embedded policy
// file is byte for byte the upstream one (its git blob id), and the role's
// inline policy is that document, scoped conditions included.
func TestAddonsLoadBalancerControllerPolicyIsUpstream(t *testing.T) {
	b, err := os.ReadFile("../components/addons/iam/aws-load-balancer-controller-v3.5.0.json")
	require.NoError(t, err)
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	assert.Equal(t, upstreamPolicyBlob, hex.EncodeToString(h.Sum(nil)), "embedded policy differs from upstream v3.5.0")

	var upstream map[string]any
	require.NoError(t, json.Unmarshal(b, &upstream))
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		pol := one(t, g, "aws:iam/rolePolicy:RolePolicy", stack+"-addons-aws-load-balancer-controller-irsa")
		doc := policyJSON(t, pol, "policy")
		st := statements(t, doc)
		assert.Len(t, st, len(upstream["Statement"].([]any)))
		var conds []string
		for _, s := range st {
			for _, a := range strs(s["Action"]) {
				assert.NotContains(t, a, "*")
			}
			if c, ok := s["Condition"]; ok {
				cj, _ := json.Marshal(c)
				conds = append(conds, string(cj))
			}
		}
		assert.Contains(t, conds, `{"Null":{"aws:RequestTag/elbv2.k8s.aws/cluster":"false"},"StringEquals":{"ec2:CreateAction":"CreateSecurityGroup"}}`)
		assert.Contains(t, conds, `{"Null":{"aws:RequestTag/elbv2.k8s.aws/cluster":"false"},"StringEquals":{"elasticloadbalancing:CreateAction":["CreateTargetGroup","CreateLoadBalancer"]}}`)
		assert.Contains(t, conds, `{"StringEquals":{"iam:AWSServiceName":"elasticloadbalancing.amazonaws.com"}}`)
		role := one(t, g, "aws:iam/role:Role", stack+"-addons-aws-load-balancer-controller-irsa")
		trust := statements(t, policyJSON(t, role, "assumeRolePolicy"))[0]
		sub := ""
		for k, v := range trust["Condition"].(map[string]any)["StringEquals"].(map[string]any) {
			if strings.HasSuffix(k, ":sub") {
				sub = v.(string)
			}
		}
		assert.Equal(t, "system:serviceaccount:kube-system:aws-load-balancer-controller", sub)
	}
}

// TestAddonsReleaseShape: every release of both stacks installs its pinned
// chart version from its repository, into its namespace (created by the
// block, or by the component that shares it, unless built in), without re-resolving dependencies, with a
// bounded wait and history.
func TestAddonsReleaseShape(t *testing.T) {
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		rels := g.ByType(charttier.ReleaseType)
		require.Len(t, rels, 15, "%s releases: cert-manager, the load balancer controller, kube-prometheus-stack, thanos, loki, alloy, opensearch, jaeger, otel-collector, cluster-autoscaler, vertical-pod-autoscaler, kubecost, grafana, cloudnative-pg, plugin-barman-cloud", stack)
		for _, r := range rels {
			in := r.PlainInputs()
			assert.Equal(t, false, in["dependencyUpdate"], r.Name)
			assert.Equal(t, false, in["createNamespace"], r.Name)
			assert.EqualValues(t, 600, in["timeout"], r.Name)
			assert.EqualValues(t, 10, in["maxHistory"], r.Name)
			assert.Equal(t, true, in["cleanupOnFail"], r.Name)
			assert.NotEmpty(t, in["version"], r.Name)
			ns := in["namespace"].(string)
			var created []harness.Resource
			for _, n := range g.ByType("kubernetes:core/v1:Namespace") {
				if n.Input("metadata.name") == ns {
					created = append(created, n)
				}
			}
			if ns == "kube-system" {
				assert.Empty(t, created, "%s: kube-system is never created", r.Name)
				continue
			}
			require.Len(t, created, 1, "%s: exactly one resource creates namespace %s", r.Name, ns)
			assert.True(t, g.Upstream(r.URN)[created[0].URN], "%s waits for its namespace (directly, or through the release that created it)", r.Name)
		}
	}
}

// TestImagesOfEachStack is what `tarsctl images` prints: the program's
// own images and every chart's, sorted, distinct and pinned.
func TestImagesOfEachStack(t *testing.T) {
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		imgs, err := charttier.Images(t.Context(), g, chartsDir(t))
		require.NoError(t, err)
		refs := helmchart.ImageRefs(imgs)
		assert.True(t, slices.IsSorted(refs))
		for _, want := range []string{
			"redis:7.4.2", "oliver006/redis_exporter:v1.67.0",
			"quay.io/jetstack/cert-manager-controller:v1.21.1", "quay.io/jetstack/cert-manager-webhook:v1.21.1",
			"quay.io/jetstack/cert-manager-cainjector:v1.21.1", "quay.io/jetstack/cert-manager-startupapicheck:v1.21.1",
			// handed to the controller as --acme-http01-solver-image
			"quay.io/jetstack/cert-manager-acmesolver:v1.21.1",
			"public.ecr.aws/eks/aws-load-balancer-controller:v3.5.0",
			// the Cluster's imageName, started by the operator
			"ghcr.io/cloudnative-pg/postgresql:18.4-system-trixie",
			// handed to the plugin through its ConfigMap; it injects it into every PostgreSQL pod
			"ghcr.io/cloudnative-pg/plugin-barman-cloud-sidecar:v0.13.0",
		} {
			assert.Contains(t, refs, want, stack)
		}
		for _, ref := range refs {
			assert.NoError(t, helmchart.CheckPinned(ref))
		}
	}
	assert.Error(t, helmchart.CheckPinned("redis"))
	assert.Error(t, helmchart.CheckPinned("quay.io/prometheus/prometheus:latest"))
	assert.Error(t, helmchart.CheckPinned("localhost:5000/redis"), "a registry port is not a tag")
	assert.NoError(t, helmchart.CheckPinned("localhost:5000/redis:7.4.2"))
	assert.NoError(t, helmchart.CheckPinned("redis@sha256:0123"))
}
