package tests

import (
	"net/url"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	amtemplate "github.com/prometheus/alertmanager/template"
	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/alerting"
)

// TestPagerDutySummaryIsNeverEmpty renders the PagerDuty description of
// the loaded config with Alertmanager's own template engine for groups
// whose alerts have different summaries (no common summary), a common
// summary, and no region label: it always names the alert, the count and
// the region.
func TestPagerDutySummaryIsNeverEmpty(t *testing.T) {
	raw := testAlertmanagerYAML(t)
	cfg, err := amconfig.Load(raw)
	require.NoError(t, err)
	var description string
	for _, r := range cfg.Receivers {
		if r.Name == alerting.ReceiverPagerDutyCritical {
			require.Len(t, r.PagerdutyConfigs, 1)
			description = r.PagerdutyConfigs[0].Description
		}
	}
	require.NotEmpty(t, description)
	tmpl, err := amtemplate.FromGlobs(nil)
	require.NoError(t, err)
	tmpl.ExternalURL, err = url.Parse("http://127.0.0.1:9093") // Alertmanager sets its own
	require.NoError(t, err)
	alert := func(region, summary string) *types.Alert {
		ls := model.LabelSet{"alertname": "DatabaseDown", "severity": "P0", "instance": model.LabelValue(summary)}
		if region != "" {
			ls["region"] = model.LabelValue(region)
		}
		return &types.Alert{Alert: model.Alert{
			Labels: ls, Annotations: model.LabelSet{"summary": model.LabelValue(summary)},
			StartsAt: time.Now().Add(-time.Minute), EndsAt: time.Now().Add(time.Hour),
		}}
	}
	group := model.LabelSet{"alertname": "DatabaseDown", "severity": "P0"}
	for _, tc := range []struct {
		name   string
		alerts []*types.Alert
		want   string
	}{
		{"different summaries", []*types.Alert{alert("us-east", "primary down"), alert("us-east", "replica down")},
			"[P0] DatabaseDown: 2 firing in us-east"},
		{"one summary", []*types.Alert{alert("us-west", "primary down")},
			"[P0] DatabaseDown: 1 firing in us-west - primary down"},
		{"no region label", []*types.Alert{alert("", "primary down"), alert("", "replica down")},
			"[P0] DatabaseDown: 2 firing in an unknown region"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tmpl.ExecuteTextString(description, tmpl.Data(alerting.ReceiverPagerDutyCritical, group, tc.alerts...))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
