package tests

import (
	"context"
	"github.com/tars-platform/infra/tests/apistandin"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/verify"
)

// asNow is the tests' clock.
var asNow = time.Date(2026, 11, 30, 14, 22, 15, 0, time.UTC)

// asStamp is a time in the autoscaler's last-updated layout
// (clusterstate/utils/status.go ConfigMapLastUpdateFormat @
// cluster-autoscaler-1.34.5: "2006-01-02 15:04:05.999999999 -0700 MST").
func asStamp(ago time.Duration) string {
	return asNow.Add(-ago).Format("2006-01-02 15:04:05.999999999 -0700 MST")
}

// asStatusYAML is data.status as cluster-autoscaler 1.34.5 writes it:
// api.ClusterAutoscalerStatus (clusterstate/api/types.go) marshalled with
// gopkg.in/yaml.v2 by clusterstate/utils/status.go WriteStatusConfigMap;
// the shape of upstream's own fixture, clusterstate/utils/status_test.yaml,
// for the program's one EKS node group (min 3, max 20).
func asStatusYAML(written, clusterHealth, groupHealth, groupScaleUp string) string {
	s := `time: ` + written + `
autoscalerStatus: Running
clusterWide:
  health:
    status: ` + clusterHealth + `
    nodeCounts:
      registered:
        total: 3
        ready: 3
        notStarted: 0
      longUnregistered: 0
      unregistered: 0
    lastProbeTime: "2026-11-30T14:22:03.123456789Z"
    lastTransitionTime: "2026-11-30T09:14:40.551220119Z"
  scaleUp:
    status: NoActivity
    lastProbeTime: "2026-11-30T14:22:03.123456789Z"
    lastTransitionTime: "2026-11-30T09:15:01.002131765Z"
  scaleDown:
    status: NoCandidates
    lastProbeTime: "2026-11-30T14:22:03.123456789Z"
    lastTransitionTime: "2026-11-30T09:15:01.002131765Z"
nodeGroups:
- name: eks-tars-us-east-general-20261130091020447100000001-8cc9a7b2-4e7a-1d52-b6a1-0b1f2c3d4e5f
  health:
    status: ` + groupHealth + `
    nodeCounts:
      registered:
        total: 3
        ready: 1
        notStarted: 0
        unready:
          total: 2
          resourceUnready: 0
      longUnregistered: 0
      unregistered: 0
    cloudProviderTarget: 3
    minSize: 3
    maxSize: 20
    lastProbeTime: "2026-11-30T14:22:03.123456789Z"
    lastTransitionTime: "2026-11-30T09:14:40.551220119Z"
  scaleUp:
    status: ` + groupScaleUp + `
`
	if groupScaleUp == "Backoff" {
		s += `    backoffInfo:
      errorCode: InsufficientInstanceCapacity
      errorMessage: 'We currently do not have sufficient m6i.2xlarge capacity in the Availability Zone you requested (us-east-1a).'
`
	}
	s += `    lastProbeTime: "2026-11-30T14:22:03.123456789Z"
    lastTransitionTime: "2026-11-30T09:15:01.002131765Z"
  scaleDown:
    status: NoCandidates
    lastProbeTime: "2026-11-30T14:22:03.123456789Z"
    lastTransitionTime: "2026-11-30T09:15:01.002131765Z"
`
	return s
}

// asConfigMap is the status ConfigMap: data.status and the last-updated
// annotation (clusterstate/utils/status.go WriteStatusConfigMap).
func asConfigMap(ns, name, written, status string) map[string]any {
	meta := map[string]any{"namespace": ns, "name": name, "resourceVersion": "184467"}
	if written != "" {
		meta["annotations"] = map[string]any{"cluster-autoscaler.kubernetes.io/last-updated": written}
	}
	return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": map[string]any{"status": status}}
}

// asInventory is the region's cluster-autoscaler release as
// components/costs installs it (extraArgs as the chart's flags).
func asInventory(t *testing.T, extraArgs map[string]any) verify.Inventory {
	t.Helper()
	args := map[string]any{"expander": "least-waste", "scale-down-unneeded-time": "10m", "v": "2"}
	for k, v := range extraArgs {
		args[k] = v
	}
	inv, err := verify.NewInventory("us-east", []verify.Resource{{
		Type: "kubernetes:helm.sh/v3:Release", Name: "costs-cluster-autoscaler",
		Inputs: map[string]any{
			"name": "cluster-autoscaler", "namespace": "kube-system", "chart": "cluster-autoscaler", "version": "9.59.0",
			"values": map[string]any{"cloudProvider": "aws", "awsRegion": "us-east-1", "extraArgs": args},
		},
	}})
	require.NoError(t, err)
	return inv
}

func asRun(t *testing.T, s *apistandin.Server, inv verify.Inventory) verify.Result {
	t.Helper()
	env := &verify.Env{RunID: "verify-test", Now: func() time.Time { return asNow }, Regions: map[string]*verify.Region{
		"us-east": {Name: "us-east", Cluster: s.Cluster(t), Inventory: inv},
	}}
	rep := verify.Run(context.Background(), env, []verify.Check{verify.AutoscalerStatus()}, nil)
	require.Len(t, rep.Results, 1)
	return rep.Results[0]
}

func TestVerifyAutoscalerStatusHealthy(t *testing.T) {
	s := apistandin.New(t)
	w := asStamp(12 * time.Second)
	s.Objects("configmaps/v1", asConfigMap("kube-system", "cluster-autoscaler-status", w, asStatusYAML(w, "Healthy", "Healthy", "NoActivity")))
	res := asRun(t, s, asInventory(t, nil))
	assert.Equal(t, verify.Pass, res.Status, "%+v", res)
	assert.Equal(t, "Running, cluster-wide Healthy, 1 of 1 node groups Healthy, written 12s ago", res.Observed)
	assert.Equal(t, "ConfigMap kube-system/cluster-autoscaler-status: Running, cluster-wide and every node group Healthy, written within 5m0s", res.Expected)
	c := verify.AutoscalerStatus()
	assert.Equal(t, "autoscaler-status", c.ID)
	assert.Equal(t, verify.PerRegion, c.Scope)
	assert.GreaterOrEqual(t, c.Timeout.Seconds(), 30.0)
	assert.LessOrEqual(t, c.Timeout.Seconds(), 60.0)
}

func TestVerifyAutoscalerStatusStale(t *testing.T) {
	s := apistandin.New(t)
	w := asStamp(17 * time.Minute)
	s.Objects("configmaps/v1", asConfigMap("kube-system", "cluster-autoscaler-status", w, asStatusYAML(w, "Healthy", "Healthy", "NoActivity")))
	res := asRun(t, s, asInventory(t, nil))
	assert.Equal(t, verify.Fail, res.Status)
	assert.Equal(t, []string{"the status was last written 2026-11-30T14:05:15Z (17m0s ago, more than 5m0s): the autoscaler is not running its loop (stopped, crash-looping or without a leader)"}, res.Problems)

	// Just inside the 5 minutes: current.
	s = apistandin.New(t)
	w = asStamp(4*time.Minute + 59*time.Second)
	s.Objects("configmaps/v1", asConfigMap("kube-system", "cluster-autoscaler-status", w, asStatusYAML(w, "Healthy", "Healthy", "NoActivity")))
	assert.Equal(t, verify.Pass, asRun(t, s, asInventory(t, nil)).Status)
}

func TestVerifyAutoscalerStatusNoTime(t *testing.T) {
	s := apistandin.New(t)
	st := strings.Replace(asStatusYAML("x", "Healthy", "Healthy", "NoActivity"), "time: x\n", "", 1)
	s.Objects("configmaps/v1", asConfigMap("kube-system", "cluster-autoscaler-status", "", st))
	res := asRun(t, s, asInventory(t, nil))
	assert.Equal(t, verify.Fail, res.Status)
	assert.Equal(t, []string{"the status carries no time (annotation cluster-autoscaler.kubernetes.io/last-updated): cannot tell whether it is current"}, res.Problems)
}

func TestVerifyAutoscalerStatusUnhealthy(t *testing.T) {
	s := apistandin.New(t)
	w := asStamp(8 * time.Second)
	s.Objects("configmaps/v1", asConfigMap("kube-system", "cluster-autoscaler-status", w, asStatusYAML(w, "Unhealthy", "Unhealthy", "Backoff")))
	res := asRun(t, s, asInventory(t, nil))
	assert.Equal(t, verify.Fail, res.Status)
	assert.Equal(t, "Running, cluster-wide Unhealthy, 0 of 1 node groups Healthy, written 8s ago", res.Observed)
	assert.Equal(t, []string{
		"cluster-wide health is Unhealthy (3 of 3 registered nodes ready)",
		"node group eks-tars-us-east-general-20261130091020447100000001-8cc9a7b2-4e7a-1d52-b6a1-0b1f2c3d4e5f: health Unhealthy (1 of 3 registered nodes ready, 2 unready; target 3 (min 3, max 20))",
		"node group eks-tars-us-east-general-20261130091020447100000001-8cc9a7b2-4e7a-1d52-b6a1-0b1f2c3d4e5f: scale-up in backoff after a failed scale-up " +
			"(InsufficientInstanceCapacity: We currently do not have sufficient m6i.2xlarge capacity in the Availability Zone you requested (us-east-1a).)",
	}, res.Problems)
}

func TestVerifyAutoscalerStatusInitializing(t *testing.T) {
	// What NewStatusMapRecorder writes at start-up
	// (EmptyClusterAutoscalerStatus), before the first loop.
	s := apistandin.New(t)
	w := asStamp(3 * time.Second)
	s.Objects("configmaps/v1", asConfigMap("kube-system", "cluster-autoscaler-status", w, "time: "+w+"\nautoscalerStatus: Initializing\n"))
	res := asRun(t, s, asInventory(t, nil))
	assert.Equal(t, verify.Fail, res.Status)
	assert.Equal(t, []string{"the autoscaler is Initializing, not Running", "cluster-wide health is <unknown> (0 of 0 registered nodes ready)"}, res.Problems)
}

func TestVerifyAutoscalerStatusMissing(t *testing.T) {
	s := apistandin.New(t)
	s.Objects("configmaps/v1", asConfigMap("kube-system", "something-else", asStamp(time.Second), "x"))
	res := asRun(t, s, asInventory(t, nil))
	assert.Equal(t, verify.Fail, res.Status)
	assert.Equal(t, "no ConfigMap kube-system/cluster-autoscaler-status", res.Observed)
	assert.Equal(t, []string{"ConfigMap kube-system/cluster-autoscaler-status not found: the autoscaler has not written its status (is it running?)"}, res.Problems)
}

func TestVerifyAutoscalerStatusOtherName(t *testing.T) {
	s := apistandin.New(t)
	w := asStamp(20 * time.Second)
	s.Objects("configmaps/v1", asConfigMap("kube-system", "ca-status", w, asStatusYAML(w, "Healthy", "Healthy", "NoActivity")))
	res := asRun(t, s, asInventory(t, map[string]any{"status-config-map-name": "ca-status"}))
	assert.Equal(t, verify.Pass, res.Status, "%+v", res)

	res = asRun(t, s, asInventory(t, map[string]any{"write-status-configmap": false}))
	assert.Equal(t, verify.Fail, res.Status)
	assert.Contains(t, res.Problems[0], "write-status-configmap false")
}

// The text status of autoscalers before 1.30 (clusterstate/api/utils.go
// GetReadableString @ cluster-autoscaler-1.29.0, under
// "Cluster-autoscaler status at <time>:").
func asStatusText(written, health string) string {
	return "Cluster-autoscaler status at " + written + `:
Cluster-wide:
  Health:      ` + health + ` (ready=3 unready=0 (resourceUnready=0) notStarted=0 longNotStarted=0 registered=3 longUnregistered=0)
               LastProbeTime:      2026-11-30 14:22:03.123456789 +0000 UTC m=+18304.511093817
               LastTransitionTime: 2026-11-30 09:14:40.551220119 +0000 UTC m=+10.938835126
  ScaleUp:     NoActivity (ready=3 registered=3)
               LastProbeTime:      2026-11-30 14:22:03.123456789 +0000 UTC m=+18304.511093817
               LastTransitionTime: 2026-11-30 09:15:01.002131765 +0000 UTC m=+31.389746772
  ScaleDown:   NoCandidates (candidates=0)
               LastProbeTime:      2026-11-30 14:22:03.123456789 +0000 UTC m=+18304.511093817
               LastTransitionTime: 2026-11-30 09:15:01.002131765 +0000 UTC m=+31.389746772

NodeGroups:
  Name:        eks-general-8cc9a7b2
  Health:      ` + health + ` (ready=3 unready=0 (resourceUnready=0) notStarted=0 longNotStarted=0 registered=3 longUnregistered=0 cloudProviderTarget=3 (minSize=3, maxSize=20))
               LastProbeTime:      2026-11-30 14:22:03.123456789 +0000 UTC m=+18304.511093817
               LastTransitionTime: 2026-11-30 09:14:40.551220119 +0000 UTC m=+10.938835126
  ScaleUp:     NoActivity (ready=3 cloudProviderTarget=3)
               LastProbeTime:      2026-11-30 14:22:03.123456789 +0000 UTC m=+18304.511093817
               LastTransitionTime: 2026-11-30 09:15:01.002131765 +0000 UTC m=+31.389746772
  ScaleDown:   NoCandidates (candidates=0)
               LastProbeTime:      2026-11-30 14:22:03.123456789 +0000 UTC m=+18304.511093817
               LastTransitionTime: 2026-11-30 09:15:01.002131765 +0000 UTC m=+31.389746772

`
}

func TestVerifyAutoscalerStatusTextFormat(t *testing.T) {
	s := apistandin.New(t)
	w := asStamp(30 * time.Second)
	s.Objects("configmaps/v1", asConfigMap("kube-system", "cluster-autoscaler-status", w, asStatusText(w, "Healthy")))
	res := asRun(t, s, asInventory(t, nil))
	assert.Equal(t, verify.Pass, res.Status, "%+v", res)
	assert.Equal(t, "Running, cluster-wide Healthy, 1 of 1 node groups Healthy, written 30s ago", res.Observed)

	s = apistandin.New(t)
	s.Objects("configmaps/v1", asConfigMap("kube-system", "cluster-autoscaler-status", w, asStatusText(w, "Unhealthy")))
	res = asRun(t, s, asInventory(t, nil))
	assert.Equal(t, verify.Fail, res.Status)
	require.Len(t, res.Problems, 2)
	assert.Equal(t, "cluster-wide health is Unhealthy (ready=3 unready=0 (resourceUnready=0) notStarted=0 longNotStarted=0 registered=3 longUnregistered=0)", res.Problems[0])
	assert.True(t, strings.HasPrefix(res.Problems[1], "node group eks-general-8cc9a7b2: health Unhealthy"), res.Problems[1])
}

func TestVerifyAutoscalerStatusGarbage(t *testing.T) {
	for _, data := range []string{"", "{not yaml", "hello: world", "clusterWide: [1, 2]", "nodeGroups: [{health: 3}]", "Cluster-autoscaler status at now:\nnothing"} {
		s := apistandin.New(t)
		s.Objects("configmaps/v1", asConfigMap("kube-system", "cluster-autoscaler-status", asStamp(time.Second), data))
		res := asRun(t, s, asInventory(t, nil))
		assert.Equal(t, verify.Fail, res.Status, "%q: %+v", data, res)
		assert.NotContains(t, res.Observed, "panicked", data)
	}
}

func TestVerifyAutoscalerStatusNotInstalled(t *testing.T) {
	s := apistandin.New(t)
	inv, err := verify.NewInventory("us-east", nil)
	require.NoError(t, err)
	res := asRun(t, s, inv)
	assert.Equal(t, verify.Skip, res.Status)
}
