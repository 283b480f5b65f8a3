package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/tars-platform/infra/slo"
)

// The metrics stack's long-term storage and Grafana (seed 000 "Metrics
// Collection": 90 days long-term with Thanos; "Grafana": 2 replicas with a
// PostgreSQL backend).

const (
	chartThanos  = "thanos"
	chartGrafana = "grafana"
)

var (
	defaultLongTermRetention  = model.Duration(slo.LongTermRetention).String()
	defaultGrafanaReplicas    = slo.GrafanaReplicas
	defaultEvaluationInterval = model.Duration(slo.EvaluationInterval).String()
)

func metricsPolicies() []policyx.Policy {
	mandatory := policyx.EnforcementLevelMandatory
	return []policyx.Policy{
		stackPolicy("metrics-long-term-storage",
			"Every Prometheus ships its blocks to object storage with the Thanos sidecar and labels its replicas; the stack runs Thanos query deduplicating on that label and a compactor keeping every resolution at least 90 days.",
			mandatory, longTermStorage),
		resourcePolicy("grafana-ha-database",
			"Grafana runs at least 2 replicas on a PostgreSQL database, with the admin password from a Secret (never a chart value).",
			mandatory, schema(map[string]map[string]any{"minReplicas": {"type": "number", "default": defaultGrafanaReplicas}}),
			[]string{typeHelmRelease}, grafanaHA),
	}
}

// flagValue is the value of --name=value among args ("" when absent).
func flagValue(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

func longTermStorage(rs []policyx.AnalyzerResource) []finding {
	min, _ := promDuration(defaultLongTermRetention)
	var out []finding
	var replicaLabels []string
	proms := 0
	for _, r := range rs {
		if r.Type != typeHelmRelease || !chartIs(r, chartKubePrometheus) {
			continue
		}
		proms++
		spec := keys(r.Properties, "values", "prometheus", "prometheusSpec")
		if !spec.IsMap() {
			out = append(out, finding{r.URN, "kube-prometheus-stack sets no prometheusSpec: no Thanos sidecar"})
			continue
		}
		osc := keys(spec.AsMap(), "thanos", "objectStorageConfig")
		name := keys(spec.AsMap(), "thanos", "objectStorageConfig", "existingSecret", "name")
		inline := keys(spec.AsMap(), "thanos", "objectStorageConfig", "secret")
		if !osc.IsMap() || (!name.IsString() || name.AsString() == "") && !inline.IsMap() {
			out = append(out, finding{r.URN, "prometheusSpec.thanos.objectStorageConfig is not set: no block leaves the Prometheus volume, so nothing outlives its 30 days"})
		}
		label := keys(spec.AsMap(), "replicaExternalLabelName")
		if !label.IsString() || label.AsString() == "" {
			out = append(out, finding{r.URN, "prometheusSpec.replicaExternalLabelName is not set: Thanos cannot tell the replicas apart to deduplicate them"})
		} else {
			replicaLabels = append(replicaLabels, label.AsString())
		}
	}
	if proms == 0 {
		return out
	}
	var thanos []policyx.AnalyzerResource
	for _, r := range rs {
		if r.Type == typeHelmRelease && chartIs(r, chartThanos) {
			thanos = append(thanos, r)
		}
	}
	if len(thanos) == 0 {
		return append(out, finding{"", "the stack runs Prometheus but no Thanos release: no long-term storage and no deduplicated query"})
	}
	for _, r := range thanos {
		v := keys(r.Properties, "values")
		if !v.IsMap() {
			out = append(out, finding{r.URN, "the Thanos release sets no values"})
			continue
		}
		vm := v.AsMap()
		dedup := append(valueStrings(keys(vm, "additionalReplicaLabels")), valueStrings(keys(vm, "query", "replicaLabels"))...)
		for _, l := range replicaLabels {
			if !slices.Contains(dedup, l) {
				out = append(out, finding{r.URN, fmt.Sprintf("Thanos query does not deduplicate on the Prometheus replica label %q (additionalReplicaLabels or query.replicaLabels)", l)})
			}
		}
		if e := keys(vm, "compact", "enabled"); !e.IsBool() || !e.AsBool() {
			out = append(out, finding{r.URN, "the Thanos compactor is not enabled: nothing applies the long-term retention"})
			continue
		}
		args := valueStrings(keys(vm, "compact", "extraArgs"))
		for _, res := range []string{"raw", "5m", "1h"} {
			flag := "retention.resolution-" + res
			got := flagValue(args, flag)
			// Thanos's default (0d) keeps data forever.
			if d, ok := promDuration(got); got != "" && (!ok || (d > 0 && d < min)) {
				out = append(out, finding{r.URN, fmt.Sprintf("the compactor's --%s is %q, want at least %s", flag, got, defaultLongTermRetention)})
			}
		}
	}
	return out
}

func grafanaHA(r policyx.AnalyzerResource, cfg map[string]any) []string {
	if !chartIs(r, chartGrafana) {
		return nil
	}
	var out []string
	v := keys(r.Properties, "values")
	var vm property.Map
	if v.IsMap() {
		vm = v.AsMap()
	}
	if n := keys(vm, "replicas"); !n.IsNumber() || n.AsNumber() < cfgNumber(cfg, "minReplicas") {
		out = append(out, fmt.Sprintf("replicas is %v, want at least %v", plain(n), cfgNumber(cfg, "minReplicas")))
	}
	if t := keys(vm, "grafana.ini", "database", "type"); !t.IsString() || t.AsString() != "postgres" {
		out = append(out, fmt.Sprintf("grafana.ini database.type is %v, want postgres (replicas on SQLite do not share state)", plain(t)))
	}
	if p := keys(vm, "adminPassword"); !p.IsNull() {
		out = append(out, "adminPassword is a chart value: use admin.existingSecret")
	}
	if s := keys(vm, "admin", "existingSecret"); !s.IsString() || s.AsString() == "" {
		out = append(out, "admin.existingSecret is not set: the chart would generate or default the admin password")
	}
	return out
}
