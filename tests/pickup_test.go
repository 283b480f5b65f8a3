package tests

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/tests/charttier"
	"gopkg.in/yaml.v3"
)

// Everything the program and the charts make for the monitoring stack is
// picked up: every PrometheusRule, ServiceMonitor and PodMonitor is
// selected by the Prometheus the chart renders (its label and namespace
// selectors, as prometheus-operator evaluates them), every dashboard
// ConfigMap carries the label the Grafana sidecar watches in a namespace it
// watches, and every data source uid a dashboard names is provisioned.

// labelSelects evaluates a Kubernetes label selector as prometheus-operator
// does for its *Selector fields: absent (nil) selects nothing, {} selects
// everything.
func labelSelects(sel any, labels map[string]any) (bool, error) {
	if sel == nil {
		return false, nil
	}
	m, ok := sel.(map[string]any)
	if !ok {
		return false, fmt.Errorf("selector %v is not an object", sel)
	}
	for k, v := range asMap(m["matchLabels"]) {
		if labels[k] != v {
			return false, nil
		}
	}
	for _, e := range asList(m["matchExpressions"]) {
		ex := asMap(e)
		key, op := fmt.Sprint(ex["key"]), fmt.Sprint(ex["operator"])
		val, has := labels[key]
		in := slices.Contains(asList(ex["values"]), val)
		switch op {
		case "In":
			if !has || !in {
				return false, nil
			}
		case "NotIn":
			if has && in {
				return false, nil
			}
		case "Exists":
			if !has {
				return false, nil
			}
		case "DoesNotExist":
			if has {
				return false, nil
			}
		default:
			return false, fmt.Errorf("selector operator %q", op)
		}
	}
	return true, nil
}

// pickup is one stack's objects, as they would exist in the cluster.
type pickup struct {
	objs       []map[string]any
	namespaces map[string]map[string]any // name → labels (with kubernetes.io/metadata.name)
}

func stackObjects(t *testing.T, stack string) pickup {
	t.Helper()
	rs := renderStack(t, stack)
	ms, err := charttier.ProgramManifests(rs.graph)
	require.NoError(t, err)
	p := pickup{namespaces: map[string]map[string]any{}}
	for _, m := range ms {
		p.objs = append(p.objs, m.Object)
	}
	for _, r := range rs.releases {
		p.objs = append(p.objs, charttier.Namespaced(r.Output.Objects, r.Namespace)...)
		p.namespaces[r.Namespace] = map[string]any{}
	}
	for _, o := range p.objs {
		if o["kind"] == "Namespace" {
			meta := asMap(o["metadata"])
			labels := map[string]any{}
			for k, v := range asMap(meta["labels"]) {
				labels[k] = v
			}
			p.namespaces[fmt.Sprint(meta["name"])] = labels
		}
	}
	for name, labels := range p.namespaces {
		labels["kubernetes.io/metadata.name"] = name
	}
	return p
}

func (p pickup) kind(kind string) []map[string]any {
	var out []map[string]any
	for _, o := range p.objs {
		if o["kind"] == kind {
			out = append(out, o)
		}
	}
	return out
}

// unselected lists the objects of kind that prom does not select through
// its selector and namespace selector fields (nil namespace selector: its
// own namespace only).
func (p pickup) unselected(t *testing.T, prom map[string]any, kind, field string) []string {
	t.Helper()
	spec := asMap(prom["spec"])
	promNS := fmt.Sprint(asMap(prom["metadata"])["namespace"])
	var out []string
	for _, o := range p.kind(kind) {
		meta := asMap(o["metadata"])
		ns := fmt.Sprint(meta["namespace"])
		okNS := ns == promNS
		if nsSel, set := spec[field+"NamespaceSelector"]; set && nsSel != nil {
			labels, known := p.namespaces[ns]
			require.True(t, known, "%s %s/%v: namespace %s is created by nothing in the stack", kind, ns, meta["name"], ns)
			var err error
			okNS, err = labelSelects(nsSel, labels)
			require.NoError(t, err)
		}
		okLabels, err := labelSelects(spec[field+"Selector"], asMap(meta["labels"]))
		require.NoError(t, err)
		if !okNS || !okLabels {
			out = append(out, fmt.Sprintf("%s %s/%v (labels %v; namespace selected %v, labels selected %v)", kind, ns, meta["name"], meta["labels"], okNS, okLabels))
		}
	}
	return out
}

// TestMonitoringEverythingIsPickedUp: per stack, every rule and monitor —
// the alerting component's rules, Redis's ServiceMonitor, Postgres's
// PodMonitor, and the charts' own — is loaded by the Prometheus the chart
// renders; dashboards reach Grafana and their data sources exist.
func TestMonitoringEverythingIsPickedUp(t *testing.T) {
	for _, stack := range Stacks {
		t.Run(stack, func(t *testing.T) {
			p := stackObjects(t, stack)
			proms := p.kind("Prometheus")
			require.Len(t, proms, 1)
			counts := map[string]int{}
			for _, c := range []struct{ kind, field string }{
				{"PrometheusRule", "rule"}, {"ServiceMonitor", "serviceMonitor"}, {"PodMonitor", "podMonitor"},
			} {
				assert.Empty(t, p.unselected(t, proms[0], c.kind, c.field), "%s objects Prometheus does not load", c.kind)
				counts[c.kind] = len(p.kind(c.kind))
			}
			for _, want := range []string{"PrometheusRule", "ServiceMonitor", "PodMonitor"} {
				assert.Positive(t, counts[want], want)
			}
			t.Logf("%s: %v selected by Prometheus", stack, counts)

			// Grafana's sidecars: the label and namespace they watch (from
			// the rendered Deployment's environment) and the data sources
			// they provision.
			var dashLabel, dashValue, dashNS, grafanaNS string
			for _, d := range p.kind("Deployment") {
				meta := asMap(d["metadata"])
				if asMap(meta["labels"])["app.kubernetes.io/name"] != "grafana" {
					continue
				}
				grafanaNS = fmt.Sprint(meta["namespace"])
				if env := containerEnv(d, "grafana-sc-dashboard"); env != nil {
					dashLabel, dashValue, dashNS = env["LABEL"], env["LABEL_VALUE"], env["NAMESPACE"]
				}
			}
			require.NotEmpty(t, dashLabel, "the Grafana dashboard sidecar and its label")
			// The data sources Grafana provisions: the provisioning file of
			// its own ConfigMap (its datasources sidecar is off).
			uids := map[string]bool{}
			for _, cm := range p.kind("ConfigMap") {
				if asMap(asMap(cm["metadata"])["labels"])["app.kubernetes.io/name"] != "grafana" {
					continue
				}
				for k, v := range asMap(cm["data"]) {
					if k != "datasources.yaml" {
						continue
					}
					var doc struct {
						Datasources []struct{ UID string } `yaml:"datasources"`
					}
					require.NoError(t, yaml.Unmarshal([]byte(fmt.Sprint(v)), &doc))
					for _, ds := range doc.Datasources {
						uids[ds.UID] = true
					}
				}
			}
			require.NotEmpty(t, uids, "provisioned data sources")
			dashboards := 0
			for _, cm := range p.kind("ConfigMap") {
				meta := asMap(cm["metadata"])
				if !strings.HasPrefix(fmt.Sprint(meta["name"]), "dashboard-") {
					continue
				}
				dashboards++
				labels := asMap(meta["labels"])
				assert.Equal(t, dashValue, fmt.Sprint(labels[dashLabel]), "%v carries the sidecar's label %s=%s", meta["name"], dashLabel, dashValue)
				if dashNS != "ALL" {
					want := grafanaNS
					if dashNS != "" && dashNS != "<nil>" {
						want = dashNS
					}
					assert.Contains(t, strings.Split(want, ","), fmt.Sprint(meta["namespace"]), "%v is in a namespace the sidecar watches", meta["name"])
				}
				for _, body := range asMap(cm["data"]) {
					var dash any
					require.NoError(t, json.Unmarshal([]byte(fmt.Sprint(body)), &dash))
					for _, uid := range datasourceUIDs(dash) {
						assert.True(t, uids[uid], "dashboard %v names data source %q, which is not provisioned (%v)", meta["name"], uid, uids)
					}
				}
			}
			assert.Positive(t, dashboards, "the alerting component's dashboards")
		})
	}
}

// datasourceUIDs collects every datasource.uid in a dashboard's JSON.
func datasourceUIDs(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if ds, ok := x["datasource"].(map[string]any); ok {
			if uid, ok := ds["uid"].(string); ok {
				out = append(out, uid)
			}
		}
		for _, c := range x {
			out = append(out, datasourceUIDs(c)...)
		}
	case []any:
		for _, c := range x {
			out = append(out, datasourceUIDs(c)...)
		}
	}
	return out
}

// TestMonitoringSelectorsCanFail: the evaluation refuses what
// prometheus-operator would not load.
func TestMonitoringSelectorsCanFail(t *testing.T) {
	prom := map[string]any{"metadata": map[string]any{"namespace": "monitoring"}, "spec": map[string]any{
		// What the chart renders with its *SelectorNilUsesHelmValues left on.
		"ruleSelector":          map[string]any{"matchLabels": map[string]any{"release": "kube-prometheus-stack"}},
		"ruleNamespaceSelector": map[string]any{},
		// Left nil: selects no ServiceMonitor at all.
	}}
	p := pickup{namespaces: map[string]map[string]any{"tars-data": {"kubernetes.io/metadata.name": "tars-data"}}, objs: []map[string]any{
		{"kind": "PrometheusRule", "metadata": map[string]any{"name": "tars", "namespace": "tars-data", "labels": map[string]any{"app": "tars"}}},
		{"kind": "PrometheusRule", "metadata": map[string]any{"name": "ok", "namespace": "tars-data", "labels": map[string]any{"release": "kube-prometheus-stack"}}},
		{"kind": "ServiceMonitor", "metadata": map[string]any{"name": "redis", "namespace": "tars-data"}},
	}}
	assert.Equal(t, []string{"PrometheusRule tars-data/tars (labels map[app:tars]; namespace selected true, labels selected false)"}, p.unselected(t, prom, "PrometheusRule", "rule"))
	assert.Len(t, p.unselected(t, prom, "ServiceMonitor", "serviceMonitor"), 1)
	ok, err := labelSelects(map[string]any{"matchExpressions": []any{map[string]any{"key": "tier", "operator": "NotIn", "values": []any{"test"}}}}, map[string]any{"tier": "test"})
	require.NoError(t, err)
	assert.False(t, ok)
}

// TestMonitoringAlertmanagerOneRouteTree: the Alertmanager the chart
// renders runs 3 replicas on the alerting component's configuration Secret,
// and no other Secret of the stack carries an alertmanager.yaml (the
// chart's default route tree is not rendered).
func TestMonitoringAlertmanagerOneRouteTree(t *testing.T) {
	for _, stack := range Stacks {
		p := stackObjects(t, stack)
		ams := p.kind("Alertmanager")
		require.Len(t, ams, 1, stack)
		spec := asMap(ams[0]["spec"])
		assert.EqualValues(t, 3, spec["replicas"], "%s: the seed's Alertmanager StatefulSet of 3", stack)
		assert.Equal(t, "alertmanager-tars", spec["configSecret"], stack)
		var holders []string
		for _, s := range p.kind("Secret") {
			data := asMap(s["stringData"])
			if data == nil {
				data = asMap(s["data"])
			}
			if _, ok := data["alertmanager.yaml"]; ok {
				holders = append(holders, fmt.Sprint(asMap(s["metadata"])["namespace"], "/", asMap(s["metadata"])["name"]))
			}
		}
		assert.Equal(t, []string{"monitoring/alertmanager-tars"}, holders, "%s: one route tree", stack)
	}
}
