package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// The Cluster Autoscaler's status ConfigMap (kubernetes/autoscaler
// cluster-autoscaler @ cluster-autoscaler-1.34.5, the image the program
// pins; chart 9.59.0's default 1.35.0 writes the same):
//   - its name is --status-config-map-name, default
//     "cluster-autoscaler-status" (the chart's Role grants exactly that
//     name), in --namespace, which the chart sets to the release's
//     namespace (for clusterapi in kubeconfig-incluster mode,
//     clusterAPIConfigMapsNamespace, default kube-system);
//   - clusterstate/utils/status.go WriteStatusConfigMap writes
//     data.status, api.ClusterAutoscalerStatus marshalled as YAML
//     (autoscalerStatus Running/Initializing, clusterWide.health.status
//     Healthy/Unhealthy, nodeGroups[].health.status, …), and the time in
//     the annotation cluster-autoscaler.kubernetes.io/last-updated in the
//     layout "2006-01-02 15:04:05.999999999 -0700 MST", at the end of
//     every loop (core/static_autoscaler.go RunOnce; --scan-interval,
//     default 10 s, config/const.go).
//
// Before 1.30 data.status was text (clusterstate/api/utils.go
// GetReadableString @ cluster-autoscaler-1.29.0): "Cluster-autoscaler
// status at <time>:\nCluster-wide:\n  Health:      Healthy (ready=3 …)";
// that is read too.
const (
	autoscalerChart            = "cluster-autoscaler"
	autoscalerStatusDefault    = "cluster-autoscaler-status"
	autoscalerLastUpdatedKey   = "cluster-autoscaler.kubernetes.io/last-updated"
	autoscalerLastUpdateLayout = "2006-01-02 15:04:05.999999999 -0700 MST"
	// AutoscalerStatusMaxAge: a status older than this means the
	// autoscaler has not completed a loop for 30 of its 10 s scan
	// intervals (stopped, crash-looping, or no leader).
	AutoscalerStatusMaxAge = 5 * time.Minute
	autoscalerHealthy      = "Healthy"
	autoscalerRunning      = "Running"
)

var caConfigMapGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// AutoscalerStatus: the Cluster Autoscaler's status ConfigMap says
// Running, the cluster and every node group Healthy, and was written in
// the last 5 minutes.
func AutoscalerStatus() Check {
	return Check{
		ID:       "autoscaler-status",
		Expected: fmt.Sprintf("the cluster autoscaler's status says Healthy, written within %s", AutoscalerStatusMaxAge),
		Scope:    PerRegion,
		Timeout:  30 * time.Second,
		Run:      runAutoscalerStatus,
	}
}

// caStatus is the part of api.ClusterAutoscalerStatus the check reads
// (clusterstate/api/types.go @ cluster-autoscaler-1.34.5).
type caStatus struct {
	Time             string `json:"time"`
	AutoscalerStatus string `json:"autoscalerStatus"`
	Message          string `json:"message"`
	ClusterWide      struct {
		Health caHealth `json:"health"`
	} `json:"clusterWide"`
	NodeGroups []caNodeGroup `json:"nodeGroups"`
}

type caNodeGroup struct {
	Name    string   `json:"name"`
	Health  caHealth `json:"health"`
	ScaleUp struct {
		Status      string `json:"status"`
		BackoffInfo struct {
			ErrorCode    string `json:"errorCode"`
			ErrorMessage string `json:"errorMessage"`
		} `json:"backoffInfo"`
	} `json:"scaleUp"`
}

type caHealth struct {
	Status     string `json:"status"`
	NodeCounts struct {
		Registered struct {
			Total      int `json:"total"`
			Ready      int `json:"ready"`
			NotStarted int `json:"notStarted"`
			Unready    struct {
				Total int `json:"total"`
			} `json:"unready"`
		} `json:"registered"`
		LongUnregistered int `json:"longUnregistered"`
		Unregistered     int `json:"unregistered"`
	} `json:"nodeCounts"`
	CloudProviderTarget *int `json:"cloudProviderTarget"`
	MinSize             *int `json:"minSize"`
	MaxSize             *int `json:"maxSize"`
	// detail is the text format's parenthesis ("ready=3 unready=0 …").
	detail string
}

// counts says what the node counts are, for a problem.
func (h caHealth) counts() string {
	if h.detail != "" {
		return h.detail
	}
	c := h.NodeCounts
	s := fmt.Sprintf("%d of %d registered nodes ready", c.Registered.Ready, c.Registered.Total)
	if c.Registered.Unready.Total > 0 {
		s += fmt.Sprintf(", %d unready", c.Registered.Unready.Total)
	}
	if c.Registered.NotStarted > 0 {
		s += fmt.Sprintf(", %d not started", c.Registered.NotStarted)
	}
	if c.Unregistered > 0 || c.LongUnregistered > 0 {
		s += fmt.Sprintf(", %d unregistered (%d for long)", c.Unregistered, c.LongUnregistered)
	}
	if h.CloudProviderTarget != nil {
		s += fmt.Sprintf("; target %d", *h.CloudProviderTarget)
		if h.MinSize != nil && h.MaxSize != nil {
			s += fmt.Sprintf(" (min %d, max %d)", *h.MinSize, *h.MaxSize)
		}
	}
	return s
}

func runAutoscalerStatus(ctx context.Context, env *Env, region string) (Outcome, error) {
	r, err := env.Region(region)
	if err != nil {
		return Outcome{}, err
	}
	if r.Cluster == nil {
		return Outcome{}, fmt.Errorf("region %s: no cluster to read", region)
	}
	rel, ok := r.Inventory.Release(autoscalerChart)
	if !ok {
		return Outcome{Skipped: fmt.Sprintf("the program installs no cluster-autoscaler in %s", region)}, nil
	}
	ns, name, write := autoscalerStatusLocation(rel)
	out := Outcome{Expected: fmt.Sprintf("ConfigMap %s/%s: Running, cluster-wide and every node group Healthy, written within %s", ns, name, AutoscalerStatusMaxAge)}
	if !write {
		return out.Failf("the cluster-autoscaler release sets write-status-configmap false: it writes no status to check"), nil
	}
	cm, err := r.Cluster.Get(ctx, caConfigMapGVR, ns, name)
	if errors.Is(err, ErrNotFound) {
		out.Observed = fmt.Sprintf("no ConfigMap %s/%s", ns, name)
		return out.Failf("ConfigMap %s/%s not found: the autoscaler has not written its status (is it running?)", ns, name), nil
	}
	if err != nil {
		return out, fmt.Errorf("read the autoscaler's status ConfigMap %s/%s: %w", ns, name, err)
	}
	raw, _ := Path(cm, "data.status").(string)
	if strings.TrimSpace(raw) == "" {
		out.Observed = "no data.status"
		return out.Failf("ConfigMap %s/%s has no data.status", ns, name), nil
	}
	st, err := parseAutoscalerStatus(raw)
	if err != nil {
		out.Observed = "unreadable status"
		return out.Failf("ConfigMap %s/%s: %v", ns, name, err), nil
	}

	// When it was written: the annotation, else the status's own time.
	var age string
	stamp, _ := Path(cm, "metadata.annotations."+autoscalerLastUpdatedKey).(string)
	if stamp == "" {
		stamp = st.Time
	}
	if stamp == "" {
		out = out.Failf("the status carries no time (annotation %s): cannot tell whether it is current", autoscalerLastUpdatedKey)
	} else if at, err := time.Parse(autoscalerLastUpdateLayout, stamp); err != nil {
		out = out.Failf("the status's time %q is not in the autoscaler's layout (%s)", stamp, autoscalerLastUpdateLayout)
	} else {
		d := env.now().Sub(at)
		if d < 0 {
			d = 0 // the clocks differ a little
		}
		age = ", written " + d.Round(time.Second).String() + " ago"
		if d > AutoscalerStatusMaxAge {
			out = out.Failf("the status was last written %s (%s ago, more than %s): the autoscaler is not running its loop (stopped, crash-looping or without a leader)",
				at.UTC().Format(time.RFC3339), d.Round(time.Second), AutoscalerStatusMaxAge)
		}
	}

	if st.AutoscalerStatus != "" && st.AutoscalerStatus != autoscalerRunning {
		msg := ""
		if st.Message != "" {
			msg = ": " + st.Message
		}
		out = out.Failf("the autoscaler is %s, not %s%s", st.AutoscalerStatus, autoscalerRunning, msg)
	}
	cw := st.ClusterWide.Health
	if cw.Status != autoscalerHealthy {
		out = out.Failf("cluster-wide health is %s (%s)", caOrUnknown(cw.Status), cw.counts())
	}
	healthy := 0
	for _, g := range st.NodeGroups {
		if g.Health.Status == autoscalerHealthy {
			healthy++
		} else {
			out = out.Failf("node group %s: health %s (%s)", caOrUnknown(g.Name), caOrUnknown(g.Health.Status), g.Health.counts())
		}
		if g.ScaleUp.Status == "Backoff" {
			why := strings.Trim(g.ScaleUp.BackoffInfo.ErrorCode+": "+g.ScaleUp.BackoffInfo.ErrorMessage, ": ")
			if why == "" {
				why = "no reason given"
			}
			out = out.Failf("node group %s: scale-up in backoff after a failed scale-up (%s)", caOrUnknown(g.Name), why)
		}
	}
	state := st.AutoscalerStatus
	if state == "" {
		state = "status"
	}
	out.Observed = fmt.Sprintf("%s, cluster-wide %s, %d of %d node groups Healthy%s", state, caOrUnknown(cw.Status), healthy, len(st.NodeGroups), age)
	return out, nil
}

// autoscalerStatusLocation is where the release's autoscaler writes its
// status: the chart (templates/deployment.yaml @ cluster-autoscaler-chart-9.59.0)
// passes --namespace=<release namespace> (clusterAPIConfigMapsNamespace,
// default kube-system, for clusterapi in kubeconfig-incluster mode) and
// extraArgs as flags; the flags' defaults (config/flags/flags.go) are
// write-status-configmap true, status-config-map-name
// cluster-autoscaler-status.
func autoscalerStatusLocation(rel Release) (namespace, name string, write bool) {
	namespace, name, write = rel.Namespace, autoscalerStatusDefault, true
	if str(rel.Values["cloudProvider"]) == "clusterapi" && str(rel.Values["clusterAPIMode"]) == "kubeconfig-incluster" {
		namespace = str(rel.Values["clusterAPIConfigMapsNamespace"])
		if namespace == "" {
			namespace = "kube-system"
		}
	}
	args, _ := rel.Values["extraArgs"].(map[string]any)
	if n, ok := args["status-config-map-name"].(string); ok && strings.TrimSpace(n) != "" {
		name = strings.TrimSpace(n)
	}
	if v, ok := args["write-status-configmap"]; ok && strings.EqualFold(fmt.Sprint(v), "false") {
		write = false
	}
	return namespace, name, write
}

// parseAutoscalerStatus reads data.status in either format.
func parseAutoscalerStatus(raw string) (caStatus, error) {
	if strings.HasPrefix(strings.TrimSpace(raw), "Cluster-autoscaler status at ") {
		return parseAutoscalerStatusText(raw)
	}
	var st caStatus
	if err := yaml.Unmarshal([]byte(raw), &st); err != nil {
		return caStatus{}, fmt.Errorf("data.status is not the autoscaler's YAML status: %v", err)
	}
	if st.AutoscalerStatus == "" && st.ClusterWide.Health.Status == "" && len(st.NodeGroups) == 0 {
		return caStatus{}, fmt.Errorf("data.status has neither autoscalerStatus nor clusterWide.health: %q", caFirstLine(raw))
	}
	return st, nil
}

// parseAutoscalerStatusText reads the text status of autoscalers before
// 1.30:
//
//	Cluster-autoscaler status at 2023-11-24 04:28:19.546750398 +0000 UTC:
//	Cluster-wide:
//	  Health:      Healthy (ready=3 unready=0 notStarted=0 longNotStarted=0 registered=3 longUnregistered=0)
//	               LastProbeTime:      …
//	  ScaleUp:     NoActivity (ready=3 registered=3)
//	  …
//
//	NodeGroups:
//	  Name:        eks-workers-…
//	  Health:      Healthy (ready=3 … cloudProviderTarget=3 (minSize=3, maxSize=20))
//	  ScaleUp:     Backoff (…)
func parseAutoscalerStatusText(raw string) (caStatus, error) {
	var st caStatus
	lines := strings.Split(raw, "\n")
	head := strings.TrimSpace(lines[0])
	st.Time = strings.TrimSuffix(strings.TrimPrefix(head, "Cluster-autoscaler status at "), ":")
	st.AutoscalerStatus = autoscalerRunning // the text format has no such field
	section := ""
	var group *caNodeGroup
	for _, l := range lines[1:] {
		t := strings.TrimSpace(l)
		switch {
		case t == "Cluster-wide:":
			section = "cluster"
		case t == "NodeGroups:":
			section = "groups"
		case strings.HasPrefix(t, "Name:") && section == "groups":
			st.NodeGroups = append(st.NodeGroups, caNodeGroup{Name: strings.TrimSpace(strings.TrimPrefix(t, "Name:"))})
			group = &st.NodeGroups[len(st.NodeGroups)-1]
		case strings.HasPrefix(t, "Health:"):
			status, detail := textCondition(strings.TrimPrefix(t, "Health:"))
			h := caHealth{Status: status, detail: detail}
			if section == "cluster" {
				st.ClusterWide.Health = h
			} else if group != nil {
				group.Health = h
			}
		case strings.HasPrefix(t, "ScaleUp:") && group != nil:
			status, detail := textCondition(strings.TrimPrefix(t, "ScaleUp:"))
			group.ScaleUp.Status = status
			group.ScaleUp.BackoffInfo.ErrorMessage = detail
		}
	}
	if st.ClusterWide.Health.Status == "" {
		return caStatus{}, fmt.Errorf("data.status (text) has no Cluster-wide Health line: %q", caFirstLine(raw))
	}
	return st, nil
}

// textCondition splits " Healthy (ready=3 …)" into its status and detail.
func textCondition(s string) (status, detail string) {
	s = strings.TrimSpace(s)
	status, detail, _ = strings.Cut(s, " ")
	detail = strings.TrimSpace(detail)
	detail = strings.TrimSuffix(strings.TrimPrefix(detail, "("), ")")
	return status, detail
}

func caOrUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

func caFirstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return oneLine(l, 80)
}
