package tests

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/tests/charttier"
	"github.com/tars-platform/infra/verify"
)

// errRecorded is what a recorder (e2eRecorder) answers every proxied GET.
var errRecorded = errors.New("recorded, not answered")

// TestVerifyEndpoints: the Services the observability checks of `tarsctl
// verify` talk to (Prometheus, the Thanos store gateway, Loki's gateway,
// Jaeger's query API, Kubecost's frontend), derived from each stack's
// inventory by the charts' naming conventions, are Services the charts
// render for that stack, in that namespace, with that port.
func TestVerifyEndpoints(t *testing.T) {
	checks := []verify.Check{verify.PrometheusTargets(), verify.PrometheusRules(), verify.Alerts(), verify.ThanosBlocks(),
		verify.LokiLogs(), verify.JaegerTraces(), verify.KubecostAllocation()}
	for _, stack := range Stacks {
		t.Run(stack, func(t *testing.T) {
			rs := renderStack(t, stack)
			inv, err := rs.graph.Inventory(stack)
			require.NoError(t, err)
			// Every rendered Service, by namespace/name.
			services := map[string]map[string]any{}
			for _, r := range rs.releases {
				for _, o := range charttier.Namespaced(r.Output.All(), r.Namespace) {
					if o["kind"] != "Service" {
						continue
					}
					meta, _ := o["metadata"].(map[string]any)
					services[fmt.Sprint(meta["namespace"], "/", meta["name"])] = o
				}
			}
			for _, c := range checks {
				t.Run(c.ID, func(t *testing.T) {
					rec := &e2eRecorder{}
					env := &verify.Env{RunID: "verify-endpoints", Regions: map[string]*verify.Region{stack: {Name: stack, Cluster: rec, Inventory: inv}}}
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					_, err := c.Run(ctx, env, stack)
					require.ErrorIs(t, err, errRecorded, "the check fails before it asks a Service: %v", err)
					require.Len(t, rec.asked, 1)
					svc := rec.asked[0]
					obj, ok := services[svc.Namespace+"/"+svc.Name]
					require.True(t, ok, "%s asks Service %s, which no chart of %s renders", c.ID, svc, stack)
					assert.True(t, hasServicePort(obj, svc.Port), "%s asks Service %s, whose ports are %v", c.ID, svc, dig(obj, "spec")["ports"])
					t.Logf("%s → %s", c.ID, svc)
				})
			}
		})
	}
}

// hasServicePort: the Service has a port of that number or name.
func hasServicePort(svc map[string]any, port string) bool {
	ports, _ := dig(svc, "spec")["ports"].([]any)
	for _, p := range ports {
		pm, _ := p.(map[string]any)
		if pm["name"] == port {
			return true
		}
		switch n := pm["port"].(type) {
		case float64:
			if strconv.Itoa(int(n)) == port {
				return true
			}
		case int64:
			if strconv.FormatInt(n, 10) == port {
				return true
			}
		case int:
			if strconv.Itoa(n) == port {
				return true
			}
		case string:
			if strings.TrimSpace(n) == port {
				return true
			}
		}
	}
	return false
}

// TestMonitorsScrapeOnlyWhatEKSServes: no chart of either stack renders a
// ServiceMonitor (or its Service, or the chart's "is it down" alert) for a
// control-plane part EKS keeps out of the cluster — kube-controller-manager,
// kube-scheduler, etcd — or for kube-proxy, whose EKS add-on serves
// metrics on 127.0.0.1 only. Such a monitor never has a target up, so
// `tarsctl verify`'s prometheus-targets would fail every real run, and
// its alert (absent(up{job=…})) would fire forever.
func TestMonitorsScrapeOnlyWhatEKSServes(t *testing.T) {
	unreachable := []string{"kube-controller-manager", "kube-scheduler", "kube-etcd", "kube-proxy"}
	alerts := []string{"KubeControllerManagerDown", "KubeSchedulerDown", "KubeProxyDown", "etcdMembersDown", "etcdInsufficientMembers"}
	for _, stack := range Stacks {
		monitors := 0
		for _, r := range renderStack(t, stack).releases {
			for _, o := range charttier.Namespaced(r.Output.All(), r.Namespace) {
				meta, _ := o["metadata"].(map[string]any)
				name := fmt.Sprint(meta["name"])
				switch o["kind"] {
				case "ServiceMonitor", "Service", "Endpoints":
					if o["kind"] == "ServiceMonitor" {
						monitors++
					}
					for _, u := range unreachable {
						assert.False(t, strings.HasSuffix(name, "-"+u), "%s: release %s renders %s %s/%s, which EKS gives no target", stack, r.Name, o["kind"], meta["namespace"], name)
					}
				case "PrometheusRule":
					groups, _ := dig(o, "spec")["groups"].([]any)
					for _, g := range groups {
						rules, _ := g.(map[string]any)["rules"].([]any)
						for _, rule := range rules {
							alert, _ := rule.(map[string]any)["alert"].(string)
							assert.NotContains(t, alerts, alert, "%s: release %s renders alert %s, which would fire forever on EKS", stack, r.Name, alert)
						}
					}
				}
			}
		}
		assert.Greater(t, monitors, 10, "%s: the charts' ServiceMonitors were read", stack)
	}
}
