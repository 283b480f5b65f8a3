package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/costs"
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

// TestCostsVPAObjectsFollowTheSeedTable: the six objects of seed 003's
// table with the seed's bounds as literals, on the workloads this program
// names them after, in the modes the README explains.
func TestCostsVPAObjectsFollowTheSeedTable(t *testing.T) {
	type row struct {
		ns, kind, target, mode, controlled string
		min, max                           [2]string
	}
	for _, stack := range Stacks {
		want := map[string]row{
			"tars-backend":     {"tars", "Deployment", "tars-backend", "Auto", "", [2]string{"500m", "512Mi"}, [2]string{"4000m", "8Gi"}},
			"tars-ui":          {"tars", "Deployment", "tars-ui", "Auto", "", [2]string{"100m", "128Mi"}, [2]string{"1000m", "2Gi"}},
			"postgres-primary": {"tars-postgres", "Cluster", "tars-pg-" + stack, "Off", "", [2]string{"1000m", "2Gi"}, [2]string{"8000m", "16Gi"}},
			"redis-cluster":    {"tars-data", "StatefulSet", "redis", "Initial", "RequestsOnly", [2]string{"250m", "512Mi"}, [2]string{"2000m", "4Gi"}},
			"chromadb":         {"tars", "StatefulSet", "chromadb", "Initial", "", [2]string{"500m", "1Gi"}, [2]string{"4000m", "16Gi"}},
			"ollama":           {"tars", "Deployment", "ollama", "Initial", "", [2]string{"1000m", "4Gi"}, [2]string{"8000m", "32Gi"}},
		}
		p := stackObjects(t, stack)
		vpas := p.kind("VerticalPodAutoscaler")
		require.Len(t, vpas, 6, stack)
		for _, v := range vpas {
			meta := asMap(v["metadata"])
			name := fmt.Sprint(meta["name"])
			w, ok := want[name]
			require.True(t, ok, "%s: unexpected VPA %s", stack, name)
			spec := asMap(v["spec"])
			ref := asMap(spec["targetRef"])
			assert.Equal(t, w.ns, meta["namespace"], "%s %s", stack, name)
			assert.Equal(t, w.kind, ref["kind"], "%s %s", stack, name)
			assert.Equal(t, w.target, ref["name"], "%s %s", stack, name)
			assert.Equal(t, w.mode, asMap(spec["updatePolicy"])["updateMode"], "%s %s", stack, name)
			pol := asMap(asList(asMap(spec["resourcePolicy"])["containerPolicies"])[0])
			assert.Equal(t, "*", pol["containerName"])
			assert.Equal(t, map[string]any{"cpu": w.min[0], "memory": w.min[1]}, pol["minAllowed"], "%s %s", stack, name)
			assert.Equal(t, map[string]any{"cpu": w.max[0], "memory": w.max[1]}, pol["maxAllowed"], "%s %s", stack, name)
			if w.controlled != "" {
				assert.Equal(t, w.controlled, pol["controlledValues"], "%s %s", stack, name)
			} else {
				assert.NotContains(t, pol, "controlledValues", "%s %s", stack, name)
			}
		}
		// The VPA itself: recommender, updater and admission controller ×2,
		// the webhook's certificate from cert-manager, not certgen Jobs.
		for _, d := range []string{"vpa-vertical-pod-autoscaler-recommender", "vpa-vertical-pod-autoscaler-updater", "vpa-vertical-pod-autoscaler-admission-controller"} {
			dep := p.namedIn(t, "Deployment", "vpa-system", d)
			assert.EqualValues(t, 2, asMap(dep["spec"])["replicas"], "%s %s", stack, d)
		}
		issued := false
		for _, c := range p.kind("Certificate") {
			if asMap(c["metadata"])["namespace"] == "vpa-system" {
				issued = true
			}
		}
		assert.True(t, issued, "%s: cert-manager issues the admission controller's certificate", stack)
		for _, j := range p.kind("Job") {
			assert.NotContains(t, fmt.Sprint(asMap(j["metadata"])["name"]), "vertical-pod-autoscaler", "%s: no certgen job", stack)
		}
	}
}

// TestCostsVPARefusesBadRows: a row that breaks the table's rules is an
// error naming the object and the field.
func TestCostsVPARefusesBadRows(t *testing.T) {
	base := func() costs.VPA {
		return costs.SeedVPAs(costs.SeedTargets{AppNamespace: "tars",
			Postgres: costs.Workload{APIVersion: "postgresql.cnpg.io/v1", Kind: "Cluster", Namespace: "tars-postgres", Name: "tars-pg-us-east"},
			Redis:    costs.Workload{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: "tars-data", Name: "redis"},
		})[0]
	}
	for name, tc := range map[string]struct {
		edit func(*costs.VPA)
		want string
	}{
		"min above max":      {func(v *costs.VPA) { v.Min.Memory = "16Gi" }, "min.memory (16Gi) is above max.memory (8Gi)"},
		"cpu min above max":  {func(v *costs.VPA) { v.Min.CPU = "5" }, "min.cpu (5) is above max.cpu (4000m)"},
		"not a quantity":     {func(v *costs.VPA) { v.Max.CPU = "four" }, `max.cpu ("four") is not a quantity`},
		"unknown mode":       {func(v *costs.VPA) { v.Mode = "Sometimes" }, `mode ("Sometimes") must be Off, Initial, Recreate or Auto`},
		"stateful evicted":   {func(v *costs.VPA) { v.Target.Stateful = true }, "mode (Auto) evicts running pods; Deployment tars-backend is stateful"},
		"stateful recreated": {func(v *costs.VPA) { v.Target.Stateful, v.Mode = true, costs.ModeRecreate }, "mode (Recreate) evicts running pods"},
	} {
		t.Run(name, func(t *testing.T) {
			v := base()
			require.NoError(t, v.Validate())
			tc.edit(&v)
			err := v.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestCostsKubecostCarriesTheSeedPricesAndBudgets: the rendered Kubecost
// holds seed 003's prices (hourly × 730 = the monthly figures Kubecost
// takes, computed by hand), the region's cluster, the two budgets to the
// alerting webhook, no Prometheus of its own, and is scraped by the
// metrics stack's.
func TestCostsKubecostCarriesTheSeedPricesAndBudgets(t *testing.T) {
	for _, stack := range Stacks {
		p := stackObjects(t, stack)
		prices := asMap(p.namedIn(t, "ConfigMap", "kubecost", "pricing-configs")["data"])
		// 0.031611 × 730, 0.004237 × 730, 0.95 × 730, 0.00014 × 730; egress per GB.
		for k, want := range map[string]string{"CPU": "23.07603", "RAM": "3.09301", "GPU": "693.5", "storage": "0.1022", "internetNetworkEgress": "0.01"} {
			assert.Equal(t, want, prices[k], "%s: %s", stack, k)
		}
		var alerts struct {
			GlobalSlackWebhookURL string `json:"globalSlackWebhookUrl"`
			Alerts                []struct {
				Type, Window, Aggregation, Filter string
				Threshold                         float64
			}
		}
		raw := fmt.Sprint(asMap(p.namedIn(t, "ConfigMap", "kubecost", "alert-configs")["data"])["alerts.json"])
		require.NoError(t, json.Unmarshal([]byte(strings.Trim(raw, "'")), &alerts), raw)
		webhook := harness.SecretPlaceholder("tars:slackWebhookUrl")
		assert.Equal(t, webhook, alerts.GlobalSlackWebhookURL, stack)
		require.Len(t, alerts.Alerts, 1, stack)
		a := alerts.Alerts[0]
		assert.Equal(t, "budget", a.Type)
		assert.Equal(t, 50.0, a.Threshold, "%s: $50/day", stack)
		assert.Equal(t, "1d", a.Window)
		assert.Equal(t, "cluster", a.Aggregation)
		assert.Equal(t, "tars-"+stack, a.Filter)

		var budgets []struct {
			Name, Interval string
			SpendLimit     float64
			Values         struct{ Cluster []string }
			Actions        []struct {
				Percentage    int
				SlackWebhooks []string
			}
		}
		require.NoError(t, json.Unmarshal([]byte(fmt.Sprint(asMap(p.namedIn(t, "ConfigMap", "kubecost", "budgets-configs")["data"])["budgets.json"])), &budgets))
		require.Len(t, budgets, 1, stack)
		b := budgets[0]
		assert.Equal(t, "monthly", b.Interval)
		assert.Equal(t, 1000.0, b.SpendLimit, "%s: $1000/month", stack)
		assert.Equal(t, []string{"tars-" + stack}, b.Values.Cluster)
		require.Len(t, b.Actions, 2)
		assert.Equal(t, 80, b.Actions[0].Percentage)
		assert.Equal(t, 100, b.Actions[1].Percentage)
		for _, act := range b.Actions {
			assert.Equal(t, []string{webhook}, act.SlackWebhooks)
		}

		// The region's cluster name is Kubecost's cluster ID.
		agent := p.namedIn(t, "Deployment", "kubecost", "kubecost-finopsagent")
		assert.Contains(t, fmt.Sprint(podSpec(agent)), "tars-"+stack, stack)
		// No second Prometheus: nothing in kubecost runs a Prometheus image.
		for _, kind := range []string{"Deployment", "StatefulSet", "DaemonSet"} {
			for _, w := range p.kind(kind) {
				if asMap(w["metadata"])["namespace"] != "kubecost" {
					continue
				}
				for _, c := range asList(podSpec(w)["containers"]) {
					assert.NotContains(t, fmt.Sprint(asMap(c)["image"]), "prometheus", "%s: %s", stack, asMap(w["metadata"])["name"])
				}
			}
		}
		// The metrics stack's Prometheus scrapes Kubecost.
		monitors := 0
		for _, sm := range p.kind("ServiceMonitor") {
			meta := asMap(sm["metadata"])
			if meta["namespace"] == "kubecost" {
				monitors++
				assert.Equal(t, "kube-prometheus-stack", asMap(meta["labels"])["release"], "%s: %s", stack, meta["name"])
			}
		}
		assert.GreaterOrEqual(t, monitors, 3, "%s: aggregator, its database, the agent, network costs", stack)

		// The webhook stays a Pulumi secret in the release's values.
		rel := one(t, renderStack(t, stack).graph, "kubernetes:helm.sh/v3:Release", stack+"-costs-kubecost")
		js, err := json.Marshal(rel.JSONInputs())
		require.NoError(t, err)
		assert.NotContains(t, string(js), webhook, "%s: the webhook is not in plain text", stack)
		assert.Contains(t, string(js), harness.SecretMarker, stack)
	}
}

// TestCostsBadKubecostArgs: every missing or wrong input is named.
func TestCostsBadKubecostArgs(t *testing.T) {
	err := costs.Args{
		ClusterName: "tars-us-east", KubernetesVersion: "1.34", AwsRegion: "us-east-1", AccountID: "1", Partition: "aws",
		MonitoringNamespace: "monitoring",
		Kubecost:            costs.Kubecost{Prices: costs.Prices{CPUCoreHour: -1}},
	}.Validate()
	require.Error(t, err)
	for _, want := range []string{
		"certManager is required",
		"kubecost.slackWebhookUrl is required",
		`kubecost.storageClass ("") must be a StorageClass name`,
		"kubecost.prices.cpuCoreHour (-1) must be a positive price in USD",
		"kubecost.prices.ramGbHour (0) must be a positive price in USD",
	} {
		assert.Contains(t, err.Error(), want)
	}
}
