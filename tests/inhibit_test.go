package tests

import (
	"context"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/featurecontrol"
	"github.com/prometheus/alertmanager/inhibit"
	"github.com/prometheus/alertmanager/provider/mem"
	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/slo"
)

// firingLabels are the labels Prometheus sends for a catalog alert, with
// the region external label.
func firingLabels(t *testing.T, name, region string) model.LabelSet {
	t.Helper()
	for _, g := range slo.GroupsFor(slo.AllFeatures) {
		for _, a := range g.Alerts {
			if a.Name == name {
				ls := model.LabelSet{"alertname": model.LabelValue(name), "region": model.LabelValue(region)}
				for k, v := range a.Labels() {
					ls[model.LabelName(k)] = model.LabelValue(v)
				}
				return ls
			}
		}
	}
	t.Fatalf("no catalog alert %s", name)
	return nil
}

// TestInhibitionOneSignalPagesOnce runs Alertmanager's own inhibitor on the
// rendered config: with a 12 % 5xx rate every error-rate alert fires, and
// only CriticalErrorRate is left unmuted; an alert of another signal, the
// same alerts in the other region, and the more severe alert itself are
// never muted by a less severe one.
func TestInhibitionOneSignalPagesOnce(t *testing.T) {
	raw := testAlertmanagerYAML(t)
	cfg, err := amconfig.Load(raw)
	require.NoError(t, err)
	require.NotEmpty(t, cfg.InhibitRules)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	marker := types.NewMarker(prometheus.NewRegistry())
	alerts, err := mem.NewAlerts(ctx, marker, time.Hour, 0, nil, promslog.NewNopLogger(), prometheus.NewRegistry(), featurecontrol.NoopFlags{})
	require.NoError(t, err)
	defer alerts.Close()
	ih := inhibit.NewInhibitor(alerts, cfg.InhibitRules, marker, promslog.NewNopLogger())
	go ih.Run()
	defer ih.Stop()

	now := time.Now()
	put := func(ls model.LabelSet) {
		require.NoError(t, alerts.Put(ctx, &types.Alert{Alert: model.Alert{Labels: ls, StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour)}, UpdatedAt: now}))
	}
	errorRate := []string{"CriticalErrorRate", "HighErrorRate", "ElevatedErrorRate", "High5xxErrorRate"}
	for _, name := range errorRate {
		put(firingLabels(t, name, "us-east"))
	}
	put(firingLabels(t, "HighAPILatency", "us-east"))
	put(firingLabels(t, "RedisClusterStateNotOK", "us-east"))

	want := map[string]bool{"CriticalErrorRate": false, "HighErrorRate": true, "ElevatedErrorRate": true, "High5xxErrorRate": true, "HighAPILatency": false, "RedisClusterStateNotOK": false}
	// The inhibitor reads the alerts asynchronously: wait until it mutes the first target.
	deadline := time.Now().Add(5 * time.Second)
	for !ih.Mutes(ctx, firingLabels(t, "HighErrorRate", "us-east")) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for name, muted := range want {
		assert.Equal(t, muted, ih.Mutes(ctx, firingLabels(t, name, "us-east")), "%s muted", name)
	}
	// The other region's alerts are not muted by this region's.
	assert.False(t, ih.Mutes(ctx, firingLabels(t, "HighErrorRate", "us-west")), "us-west HighErrorRate muted by us-east")

	// us-west goes down whole: its per-service alerts (ServiceDown is P0
	// too) are silenced by RegionDown, us-east's are not.
	put(firingLabels(t, slo.RegionDownAlert, "us-west"))
	deadline = time.Now().Add(5 * time.Second)
	for !ih.Mutes(ctx, firingLabels(t, "ServiceDown", "us-west")) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for _, name := range []string{"ServiceDown", "DatabaseDown", "HighAPILatency", "HighErrorRate"} {
		assert.True(t, ih.Mutes(ctx, firingLabels(t, name, "us-west")), "us-west %s not muted by RegionDown", name)
	}
	assert.False(t, ih.Mutes(ctx, firingLabels(t, slo.RegionDownAlert, "us-west")), "RegionDown mutes itself")
	assert.False(t, ih.Mutes(ctx, firingLabels(t, "ServiceDown", "us-east")), "us-east ServiceDown muted by us-west's RegionDown")
}
