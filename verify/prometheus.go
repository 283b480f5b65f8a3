package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/tars-platform/infra/components/alerting"
	"github.com/tars-platform/infra/slo"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The metrics checks read Prometheus's HTTP API (prometheus.io/docs,
// "HTTP API") on the kube-prometheus-stack Service, through the API
// server's service proxy: the scrape targets, the loaded rule groups and
// the alerts.

// Timeouts of the metrics checks: a list of the monitors or rules plus one
// API call each; Prometheus answers these from memory.
const (
	prometheusTargetsTimeout = 60 * time.Second
	prometheusRulesTimeout   = 60 * time.Second
	alertsTimeout            = 30 * time.Second
)

// Charts the checks find their Services by (Release.Chart in the
// inventory; components/versions).
const (
	chartKubePrometheusStack = "kube-prometheus-stack"
	chartThanos              = "thanos"
	chartLoki                = "loki"
	chartJaeger              = "jaeger"
	chartKubecost            = "kubecost"
	chartOpenCost            = "opencost"
)

// prometheus-operator's custom resources.
var (
	serviceMonitorGVR = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}
	podMonitorGVR     = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "podmonitors"}
	prometheusRuleGVR = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "prometheusrules"}
)

// Helm's ownership annotations: Helm 3 writes them on every object of a
// release (pkg/action: "meta.helm.sh/release-name", "-namespace").
const (
	helmReleaseNameAnnotation      = "meta.helm.sh/release-name"
	helmReleaseNamespaceAnnotation = "meta.helm.sh/release-namespace"
)

// obsRelease returns the inventory's release of a chart, or an error that
// says the program does not install it in the region.
func obsRelease(env *Env, region, chart string) (*Region, Release, error) {
	r, ok := env.Regions[region]
	if !ok || r == nil {
		return nil, Release{}, fmt.Errorf("region %q is not part of this run", region)
	}
	if r.Cluster == nil {
		return nil, Release{}, fmt.Errorf("region %s: no cluster to read", region)
	}
	rel, ok := r.Inventory.Release(chart)
	if !ok {
		return r, Release{}, fmt.Errorf("the program installs no %s chart in %s (the inventory has no such Helm release)", chart, region)
	}
	return r, rel, nil
}

// obsFullname is the "<chart>.fullname" template of Helm's scaffold, which
// kube-prometheus-stack (templates/_helpers.tpl, truncated to 26), thanos,
// loki, jaeger and opencost (truncated to 63) all use: fullnameOverride
// when set; else the release name when it contains the chart's name
// (nameOverride or the chart's own); else "<release>-<name>".
func obsFullname(rel Release, chart string, max int) string {
	var s string
	if o := str(rel.Values["fullnameOverride"]); o != "" {
		s = o
	} else {
		name := chart
		if n := str(rel.Values["nameOverride"]); n != "" {
			name = n
		}
		s = rel.Name
		if !strings.Contains(rel.Name, name) {
			s = rel.Name + "-" + name
		}
	}
	if len(s) > max {
		s = s[:max]
	}
	return strings.TrimSuffix(s, "-")
}

// obsPort is a numeric value of the release's values at a dotted path (a
// Service port), or def when the program does not set it.
func obsPort(rel Release, path string, def int) string {
	switch v := Path(rel.Values, path).(type) {
	case float64:
		return strconv.Itoa(int(v))
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.Itoa(int(v))
	}
	return strconv.Itoa(def)
}

// prometheusService is kube-prometheus-stack's Prometheus Service:
// templates/prometheus/service.yaml names it
// "<kube-prometheus-stack.fullname>-prometheus" (fullname truncated to 26
// characters) with prometheus.service.port (default 9090).
func prometheusService(rel Release) Service {
	return Service{Namespace: rel.Namespace, Name: obsFullname(rel, chartKubePrometheusStack, 26) + "-prometheus", Port: obsPort(rel, "prometheus.service.port", 9090)}
}

// promEnvelope is the Prometheus HTTP API's answer (docs "Format
// overview"); Thanos's API uses the same (pkg/api: response).
type promEnvelope struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
}

// obsGetJSON GETs path from a Service and decodes the JSON answer into v;
// errors say what was asked of whom.
func obsGetJSON(ctx context.Context, c Cluster, what string, svc Service, p string, q url.Values, v any) error {
	body, err := c.ServiceGet(ctx, svc, p, q)
	if err != nil {
		return fmt.Errorf("%s %s %s: %w", what, svc, p, err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s %s %s: the answer is not the API's JSON (%v): %s", what, svc, p, err, oneLine(string(body), 200))
	}
	return nil
}

// promGet GETs a Prometheus-style API path and decodes its data into v;
// an answer whose status is not "success" is an error.
func promGet(ctx context.Context, c Cluster, what string, svc Service, p string, q url.Values, v any) error {
	var env promEnvelope
	if err := obsGetJSON(ctx, c, what, svc, p, q, &env); err != nil {
		return err
	}
	if env.Status != "success" {
		return fmt.Errorf("%s %s %s: status %q: %s %s", what, svc, p, env.Status, env.ErrorType, env.Error)
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return fmt.Errorf("%s %s %s: the answer has no data", what, svc, p)
	}
	if err := json.Unmarshal(env.Data, v); err != nil {
		return fmt.Errorf("%s %s %s: unexpected data (%v): %s", what, svc, p, err, oneLine(string(env.Data), 200))
	}
	return nil
}

// promMonitor is a ServiceMonitor or PodMonitor the check expects targets of.
type promMonitor struct {
	Kind, Namespace, Name string
	// Source: "the program" or "release NS/NAME".
	Source string
}

func (m promMonitor) String() string { return m.Kind + " " + m.Namespace + "/" + m.Name }

// scrapePoolPrefix is the prefix of the scrape pools (job names)
// prometheus-operator generates for a monitor's endpoints:
// "serviceMonitor/NS/NAME/I" and "podMonitor/NS/NAME/I" for endpoint I
// (pkg/prometheus/promcfg.go, v0.93: generateServiceMonitorConfig,
// generatePodMonitorConfig).
func (m promMonitor) scrapePoolPrefix() string {
	return strings.ToLower(m.Kind[:1]) + m.Kind[1:] + "/" + m.Namespace + "/" + m.Name + "/"
}

// promTarget is one of /api/v1/targets' activeTargets.
type promTarget struct {
	Labels     map[string]string `json:"labels"`
	ScrapePool string            `json:"scrapePool"`
	ScrapeURL  string            `json:"scrapeUrl"`
	LastError  string            `json:"lastError"`
	Health     string            `json:"health"`
}

// PrometheusTargets: every ServiceMonitor and PodMonitor the program
// creates, and every one its Helm releases create, has at least one active
// target that is up.
func PrometheusTargets() Check {
	return Check{
		ID:       "prometheus-targets",
		Expected: "every ServiceMonitor and PodMonitor of the program and its charts has ≥1 target up",
		Scope:    PerRegion,
		Timeout:  prometheusTargetsTimeout,
		Run:      runPrometheusTargets,
	}
}

func runPrometheusTargets(ctx context.Context, env *Env, region string) (Outcome, error) {
	r, rel, err := obsRelease(env, region, chartKubePrometheusStack)
	if err != nil {
		return Outcome{}, err
	}
	var out Outcome
	monitors, missing, err := expectedMonitors(ctx, r)
	if err != nil {
		return Outcome{}, err
	}
	for _, m := range missing {
		out = out.Failf("%s (created by the program): not in the cluster", m)
	}
	svc := prometheusService(rel)
	var data struct {
		ActiveTargets []promTarget `json:"activeTargets"`
	}
	if err := promGet(ctx, r.Cluster, "Prometheus", svc, "/api/v1/targets", url.Values{"state": {"active"}}, &data); err != nil {
		return Outcome{}, err
	}
	all := append(append([]promMonitor{}, monitors...), missing...)
	out.Expected = fmt.Sprintf("each of %d monitors (%d the program's, %d its charts') has ≥1 target up", len(all), countSource(all, "the program"), len(all)-countSource(all, "the program"))
	up := 0
	for _, m := range monitors {
		var n, healthy int
		firstErr := ""
		prefix := m.scrapePoolPrefix()
		for _, t := range data.ActiveTargets {
			if !strings.HasPrefix(t.ScrapePool, prefix) {
				continue
			}
			n++
			if t.Health == "up" {
				healthy++
			} else if firstErr == "" {
				firstErr = t.LastError
				if firstErr == "" {
					firstErr = "health " + strconv.Quote(t.Health)
				}
				firstErr = t.ScrapeURL + ": " + firstErr
			}
		}
		switch {
		case n == 0:
			out = out.Failf("%s (%s): no active target (scrape pool %s*)", m, m.Source, prefix)
		case healthy == 0:
			out = out.Failf("%s (%s): %d targets, all down; first error: %s", m, m.Source, n, firstErr)
		default:
			up++
		}
	}
	out.Observed = fmt.Sprintf("%d of %d monitors have a target up (%d active targets in %s)", up, len(all), len(data.ActiveTargets), svc)
	return out, nil
}

func countSource(ms []promMonitor, source string) int {
	n := 0
	for _, m := range ms {
		if m.Source == source {
			n++
		}
	}
	return n
}

// expectedMonitors lists the cluster's ServiceMonitors and PodMonitors and
// returns those the program creates (its inventory) or its Helm releases
// do (Helm's ownership annotations name one of the inventory's releases),
// and the program's that are not in the cluster.
func expectedMonitors(ctx context.Context, r *Region) (found, missing []promMonitor, err error) {
	releases := map[string]Release{}
	for _, rel := range r.Inventory.Releases {
		releases[rel.Namespace+"/"+rel.Name] = rel
	}
	for _, k := range []struct {
		kind string
		gvr  schema.GroupVersionResource
	}{{"ServiceMonitor", serviceMonitorGVR}, {"PodMonitor", podMonitorGVR}} {
		objs, err := r.Cluster.List(ctx, k.gvr, "")
		if err != nil {
			return nil, nil, fmt.Errorf("%ss: %w", k.kind, err)
		}
		inCluster := map[string]bool{}
		for _, o := range objs {
			meta, _ := o["metadata"].(map[string]any)
			ns, name := str(meta["namespace"]), str(meta["name"])
			inCluster[ns+"/"+name] = true
			ann, _ := meta["annotations"].(map[string]any)
			relKey := str(ann[helmReleaseNamespaceAnnotation]) + "/" + str(ann[helmReleaseNameAnnotation])
			if _, ok := releases[relKey]; ok {
				if _, own := r.Inventory.Object(k.kind, ns, name); !own {
					found = append(found, promMonitor{Kind: k.kind, Namespace: ns, Name: name, Source: "release " + relKey})
				}
			}
		}
		for _, o := range r.Inventory.Kind(k.kind) {
			m := promMonitor{Kind: k.kind, Namespace: o.Namespace, Name: o.Name, Source: "the program"}
			if inCluster[o.Namespace+"/"+o.Name] {
				found = append(found, m)
			} else {
				missing = append(missing, m)
			}
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].String() < found[j].String() })
	return found, missing, nil
}

// promRuleGroup is one of /api/v1/rules' groups.
type promRuleGroup struct {
	Name  string `json:"name"`
	File  string `json:"file"`
	Rules []struct {
		Name      string `json:"name"`
		Health    string `json:"health"`
		LastError string `json:"lastError"`
		Type      string `json:"type"`
	} `json:"rules"`
}

// PrometheusRules: every group of every PrometheusRule the program creates
// is loaded by Prometheus, from that PrometheusRule's file, and its rules
// evaluate without error.
func PrometheusRules() Check {
	return Check{
		ID:       "prometheus-rules",
		Expected: "every rule group of the program's PrometheusRules is loaded and healthy",
		Scope:    PerRegion,
		Timeout:  prometheusRulesTimeout,
		Run:      runPrometheusRules,
	}
}

// ruleFileName is the file prometheus-operator writes a PrometheusRule
// to in the rule-files ConfigMaps it mounts under /etc/prometheus/rules:
// "<namespace>-<name>-<uid>.yaml" (pkg/operator/rules.go, v0.93:
// selectRules, "Generate a truly unique identifier for each
// PrometheusRule resource").
func ruleFileName(namespace, name, uid string) string {
	return fmt.Sprintf("%s-%s-%s.yaml", namespace, name, uid)
}

func runPrometheusRules(ctx context.Context, env *Env, region string) (Outcome, error) {
	r, rel, err := obsRelease(env, region, chartKubePrometheusStack)
	if err != nil {
		return Outcome{}, err
	}
	rules := r.Inventory.Kind("PrometheusRule")
	var out Outcome
	if len(rules) == 0 {
		out.Skipped = "the program creates no PrometheusRule in " + region
		return out, nil
	}
	objs, err := r.Cluster.List(ctx, prometheusRuleGVR, "")
	if err != nil {
		return Outcome{}, fmt.Errorf("PrometheusRules: %w", err)
	}
	uids := map[string]string{}
	for _, o := range objs {
		meta, _ := o["metadata"].(map[string]any)
		uids[str(meta["namespace"])+"/"+str(meta["name"])] = str(meta["uid"])
	}
	svc := prometheusService(rel)
	var data struct {
		Groups []promRuleGroup `json:"groups"`
	}
	if err := promGet(ctx, r.Cluster, "Prometheus", svc, "/api/v1/rules", nil, &data); err != nil {
		return Outcome{}, err
	}
	byName := map[string][]promRuleGroup{}
	for _, g := range data.Groups {
		byName[g.Name] = append(byName[g.Name], g)
	}
	want, loaded := 0, 0
	for _, pr := range rules {
		groups, _ := Path(pr.Body, "spec.groups").([]any)
		uid, inCluster := uids[pr.Namespace+"/"+pr.Name]
		var missing []string
		for _, g := range groups {
			name := str(Path(obsMap(g), "name"))
			if name == "" {
				continue
			}
			want++
			if !inCluster {
				continue
			}
			file := ruleFileName(pr.Namespace, pr.Name, uid)
			var match *promRuleGroup
			var elsewhere []string
			for i, lg := range byName[name] {
				if path.Base(lg.File) == file {
					match = &byName[name][i]
					break
				}
				elsewhere = append(elsewhere, lg.File)
			}
			if match == nil {
				if len(elsewhere) > 0 {
					missing = append(missing, fmt.Sprintf("%s (loaded only from %s)", name, strings.Join(elsewhere, ", ")))
				} else {
					missing = append(missing, name)
				}
				continue
			}
			loaded++
			for _, rule := range match.Rules {
				if rule.Health != "ok" {
					msg := fmt.Sprintf("PrometheusRule %s/%s group %s: rule %s health %q", pr.Namespace, pr.Name, name, rule.Name, rule.Health)
					if rule.LastError != "" {
						msg += ": " + strconv.Quote(rule.LastError)
					}
					out.Problems = append(out.Problems, msg)
				}
			}
		}
		switch {
		case !inCluster:
			out = out.Failf("PrometheusRule %s/%s: not in the cluster (%d groups not loaded)", pr.Namespace, pr.Name, len(groups))
		case len(missing) > 0:
			out = out.Failf("PrometheusRule %s/%s: %d of %d groups not loaded from %s: %s", pr.Namespace, pr.Name, len(missing), len(groups),
				ruleFileName(pr.Namespace, pr.Name, uid), strings.Join(missing, "; "))
		}
	}
	out.Expected = fmt.Sprintf("all %d rule groups of the program's %d PrometheusRules loaded, every rule healthy", want, len(rules))
	out.Observed = fmt.Sprintf("%d of %d groups loaded (Prometheus %s has %d groups in all)", loaded, want, svc, len(data.Groups))
	return out, nil
}

func obsMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// alertRank orders severities, most severe first: the plan's P0–P4 in
// slo.Severities' order, and the charts' critical, warning and info at the
// severity the program's Alertmanager routes them with
// (alerting.ChartSeverities).
var alertRank = func() map[string]int {
	rank := map[string]int{}
	for i, s := range slo.Severities {
		rank[string(s.Severity)] = i
	}
	for chart, s := range alerting.ChartSeverities {
		rank[chart] = rank[string(s)]
	}
	return rank
}()

// alertThreshold: "no alert firing above P2" — ranks below P2's fail.
var alertThreshold = alertRank[string(slo.P2)]

// watchdogAlert always fires (kube-prometheus-stack's dead man's switch).
const watchdogAlert = "Watchdog"

// promAlert is one of /api/v1/alerts' alerts.
type promAlert struct {
	Labels   map[string]string `json:"labels"`
	State    string            `json:"state"`
	ActiveAt string            `json:"activeAt"`
}

// Alerts: no alert more severe than P2 is firing (Watchdog aside; pending
// alerts do not count).
func Alerts() Check {
	return Check{
		ID:       "alerts",
		Expected: "no alert above P2 (P0, P1, critical) firing, Watchdog aside",
		Scope:    PerRegion,
		Timeout:  alertsTimeout,
		Run:      runAlerts,
	}
}

func runAlerts(ctx context.Context, env *Env, region string) (Outcome, error) {
	r, rel, err := obsRelease(env, region, chartKubePrometheusStack)
	if err != nil {
		return Outcome{}, err
	}
	svc := prometheusService(rel)
	var data struct {
		Alerts []promAlert `json:"alerts"`
	}
	if err := promGet(ctx, r.Cluster, "Prometheus", svc, "/api/v1/alerts", nil, &data); err != nil {
		return Outcome{}, err
	}
	var out Outcome
	counts := map[string]int{}
	firing := 0
	for _, a := range data.Alerts {
		if a.State != "firing" {
			continue
		}
		firing++
		sev := a.Labels["severity"]
		key := sev
		if _, ok := alertRank[sev]; !ok {
			key = "other"
		}
		if a.Labels["alertname"] == watchdogAlert {
			key = watchdogAlert
		}
		counts[key]++
		rank, known := alertRank[sev]
		if a.Labels["alertname"] == watchdogAlert || !known || rank >= alertThreshold {
			continue
		}
		out = out.Failf("%s %s firing since %s%s", sev, a.Labels["alertname"], a.ActiveAt, alertWhere(a.Labels))
	}
	sort.Strings(out.Problems)
	var parts []string
	for _, s := range []string{"P0", "P1", "critical", "P2", "P3", "warning", "P4", "info", "other", watchdogAlert} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, counts[s]))
		}
	}
	summary := "none"
	if len(parts) > 0 {
		summary = strings.Join(parts, ", ")
	}
	out.Observed = fmt.Sprintf("%d firing (%s); %d above P2", firing, summary, len(out.Problems))
	return out, nil
}

// alertWhere quotes the labels that say where an alert fires.
func alertWhere(l map[string]string) string {
	var parts []string
	for _, k := range []string{"namespace", "service", "job", "pod", "instance"} {
		if v := l[k]; v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
