package tests

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/alerting"
	"github.com/tars-platform/infra/slo"
	"github.com/tars-platform/infra/tests/harness"
)

// testCredentials are well-formed credentials for the rendered config.
var testCredentials = alerting.Credentials{
	PagerDutyCriticalKey: "pd-critical-key", PagerDutyHighKey: "pd-high-key",
	SlackWebhookURL: "https://hooks.slack.com/services/T0/B0/x", SMTPPassword: "hunter2",
	DeadMansSwitchURL: "https://hc-ping.com/00000000-0000-0000-0000-000000000000",
}

// testAlertmanagerYAML renders alertmanager.yaml with testNotify and
// testCredentials.
func testAlertmanagerYAML(t *testing.T) string {
	t.Helper()
	raw, err := alerting.AlertmanagerConfig(testNotify, testCredentials)
	require.NoError(t, err)
	return raw
}

var testNotify = alerting.Notify{SlackChannel: "#tars-alerts", SMTPSmarthost: "smtp.tars.ai:587", SMTPFrom: "am@tars.ai", SMTPUsername: "am", EmailTo: "oncall@tars.ai"}

// TestAlertmanagerConfigRefusesBadCredentials: a Slack URL that is not an
// https URL (Alertmanager and the operator would refuse the whole config, so
// no Alertmanager would run) or an empty routing key is an error naming the
// config key and not showing the secret.
func TestAlertmanagerConfigRefusesBadCredentials(t *testing.T) {
	good := testCredentials
	for _, tc := range []struct {
		name, wantKey string
		edit          func(*alerting.Credentials)
	}{
		{"slack URL without scheme", "tars:slackWebhookUrl", func(c *alerting.Credentials) { c.SlackWebhookURL = "hooks.slack.com/services/T0/B0/secret-part" }},
		{"slack URL over http", "tars:slackWebhookUrl", func(c *alerting.Credentials) { c.SlackWebhookURL = "http://hooks.slack.com/services/T0/B0/secret-part" }},
		{"empty critical key", "tars:pagerdutyCriticalRoutingKey", func(c *alerting.Credentials) { c.PagerDutyCriticalKey = " " }},
		{"empty high key", "tars:pagerdutyHighRoutingKey", func(c *alerting.Credentials) { c.PagerDutyHighKey = "" }},
		{"dead-man's switch not a URL", "tars:deadMansSwitchUrl", func(c *alerting.Credentials) { c.DeadMansSwitchURL = "secret-part" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			_, err := alerting.AlertmanagerConfig(testNotify, c)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantKey)
			assert.NotContains(t, err.Error(), "secret-part")
		})
	}
}

// TestAlertmanagerConfigRoutesEachSeverity loads the rendered config with
// Alertmanager's own loader and walks its routing tree for each severity.
func TestAlertmanagerConfigRoutesEachSeverity(t *testing.T) {
	raw := testAlertmanagerYAML(t)
	cfg, err := amconfig.Load(raw)
	require.NoError(t, err, raw)
	assert.Equal(t, []model.LabelName{"alertname", "severity"}, cfg.Route.GroupBy)
	// Seed 000 "Alertmanager": group_wait 30s, group_interval 5m, repeat_interval 4h.
	assert.Equal(t, model.Duration(30*time.Second), *cfg.Route.GroupWait)
	assert.Equal(t, model.Duration(5*time.Minute), *cfg.Route.GroupInterval)
	assert.Equal(t, model.Duration(4*time.Hour), *cfg.Route.RepeatInterval)

	root := dispatch.NewRoute(cfg.Route, nil)
	want := map[slo.Severity][]string{
		slo.P0: {alerting.ReceiverPagerDutyCritical, alerting.ReceiverEmail, alerting.ReceiverSlack},
		slo.P1: {alerting.ReceiverPagerDutyHigh, alerting.ReceiverEmail, alerting.ReceiverSlack},
		slo.P2: {alerting.ReceiverSlack},
		slo.P3: {alerting.ReceiverSlack},
		slo.P4: {alerting.ReceiverNull},
	}
	for sev, receivers := range want {
		var got []string
		for _, r := range root.Match(model.LabelSet{"alertname": "HighErrorRate", "severity": model.LabelValue(sev)}) {
			got = append(got, r.RouteOpts.Receiver)
		}
		assert.Equal(t, receivers, got, "severity %s", sev)
	}
	// The charts' default rules: critical pages like P1, warning reaches
	// Slack, info nowhere; the Watchdog goes to the dead-man's switch only,
	// re-sent every minute.
	for _, tc := range []struct {
		labels    model.LabelSet
		receivers []string
	}{
		{model.LabelSet{"alertname": "KubePodCrashLooping", "severity": "critical"}, []string{alerting.ReceiverPagerDutyHigh, alerting.ReceiverEmail, alerting.ReceiverSlack}},
		{model.LabelSet{"alertname": "KubeMemoryOvercommit", "severity": "warning"}, []string{alerting.ReceiverSlack}},
		{model.LabelSet{"alertname": "InfoInhibitor", "severity": "none"}, []string{alerting.ReceiverNull}},
		{model.LabelSet{"alertname": "Watchdog", "severity": "none"}, []string{alerting.ReceiverDeadMansSwitch}},
	} {
		var got []string
		for _, r := range root.Match(tc.labels) {
			got = append(got, r.RouteOpts.Receiver)
			if r.RouteOpts.Receiver == alerting.ReceiverDeadMansSwitch {
				assert.Equal(t, time.Minute, r.RouteOpts.RepeatInterval, "Watchdog repeat")
			}
		}
		assert.Equal(t, tc.receivers, got, "%v", tc.labels)
	}
	for _, r := range cfg.Receivers {
		if r.Name == alerting.ReceiverDeadMansSwitch {
			require.Len(t, r.WebhookConfigs, 1)
			assert.Equal(t, "https://hc-ping.com/00000000-0000-0000-0000-000000000000", string(r.WebhookConfigs[0].URL))
		}
	}
	// Every catalog alert (GPU ones included) reaches PagerDuty exactly when its severity pages.
	for _, a := range slo.AlertsFor(slo.AllFeatures) {
		tgt, _ := slo.Target(a.Severity)
		pages := false
		for _, r := range root.Match(model.LabelSet{"alertname": model.LabelValue(a.Name), "severity": model.LabelValue(a.Severity)}) {
			pages = pages || strings.HasPrefix(r.RouteOpts.Receiver, "pagerduty")
		}
		assert.Equal(t, tgt.Pages, pages, a.Name)
	}
	// The credentials landed where Alertmanager reads them.
	pd := cfg.Receivers[0].PagerdutyConfigs[0]
	assert.Equal(t, "pd-critical-key", string(pd.RoutingKey))
	assert.Equal(t, "hunter2", string(cfg.Global.SMTPAuthPassword))
}

// TestDashboardsAreWellFormed: the six plan dashboards and the 13-panel RAG
// dashboard, with the seeds' refresh intervals, unique panel ids, panels on
// the 24-column grid without overlap, and queries that parse as PromQL.
func TestDashboardsAreWellFormed(t *testing.T) {
	refresh := map[string]string{"tars-overview": "5s", "tars-evaluation": "10s", "tars-database": "15s", "tars-agents": "10s", "tars-infra": "15s", "tars-tracing": "20s", "tars-rag": "10s"}
	require.Len(t, alerting.Dashboards, len(refresh))
	queries := 0
	for _, d := range alerting.Dashboards {
		t.Run(d.UID, func(t *testing.T) {
			assert.Equal(t, refresh[d.UID], d.Refresh)
			js, err := d.JSON()
			require.NoError(t, err)
			var doc struct {
				UID     string `json:"uid"`
				Refresh string `json:"refresh"`
				Panels  []struct {
					ID            int                      `json:"id"`
					Title         string                   `json:"title"`
					MaxDataPoints int                      `json:"maxDataPoints"`
					GridPos       struct{ X, Y, W, H int } `json:"gridPos"`
					Targets       []struct {
						Expr string `json:"expr"`
					} `json:"targets"`
				} `json:"panels"`
			}
			require.NoError(t, json.Unmarshal([]byte(js), &doc))
			assert.Equal(t, d.UID, doc.UID)
			assert.Equal(t, d.Refresh, doc.Refresh)
			require.Len(t, doc.Panels, len(d.Panels))
			ids := map[int]bool{}
			type cell struct{ x, y int }
			used := map[cell]string{}
			for _, p := range doc.Panels {
				assert.False(t, ids[p.ID], "duplicate panel id %d", p.ID)
				assert.Equal(t, 1000, p.MaxDataPoints, "%s: seed 000's max data points", p.Title)
				ids[p.ID] = true
				assert.Positive(t, p.GridPos.W)
				assert.Positive(t, p.GridPos.H)
				assert.LessOrEqual(t, p.GridPos.X+p.GridPos.W, 24, p.Title)
				for x := p.GridPos.X; x < p.GridPos.X+p.GridPos.W; x++ {
					for y := p.GridPos.Y; y < p.GridPos.Y+p.GridPos.H; y++ {
						if prev, taken := used[cell{x, y}]; taken {
							t.Fatalf("%s overlaps %s at (%d,%d)", p.Title, prev, x, y)
						}
						used[cell{x, y}] = p.Title
					}
				}
				require.NotEmpty(t, p.Targets, p.Title)
				for _, tg := range p.Targets {
					_, err := parser.ParseExpr(tg.Expr)
					assert.NoError(t, err, "%s: %s", p.Title, tg.Expr)
					queries++
				}
			}
		})
	}
	rag := alerting.Dashboards[slices.IndexFunc(alerting.Dashboards, func(d alerting.Dashboard) bool { return d.UID == "tars-rag" })]
	assert.Len(t, rag.Panels, 13, "Phase 7's RAG dashboard has 13 panels")
	// The Evaluation dashboard reads the pre-aggregated recording rules.
	eval := alerting.Dashboards[slices.IndexFunc(alerting.Dashboards, func(d alerting.Dashboard) bool { return d.UID == "tars-evaluation" })]
	recorded := map[string]bool{}
	for _, r := range slo.DashboardRecordings().Rules {
		recorded[r.Record] = true
	}
	for _, p := range eval.Panels {
		expr, err := parser.ParseExpr(p.Queries[0].Expr)
		require.NoError(t, err)
		found := false
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok && recorded[vs.Name] {
				found = true
			}
			return nil
		})
		assert.True(t, found, "%s does not read a recording rule", p.Title)
	}
	t.Logf("%d dashboards, %d PromQL queries parsed", len(alerting.Dashboards), queries)
}

// TestAlertingGraph: in the real stack, one PrometheusRule per rule group
// carrying the operator's selector label and the region label, the
// Alertmanager config in a secret, the dashboards labelled for the sidecar.
func TestAlertingGraph(t *testing.T) {
	// The offline placeholder is not a URL; Alertmanager's loader checks.
	g := mustRun(t, "us-west", harness.WithSecretConfig("tars:slackWebhookUrl", "https://hooks.slack.com/services/T0/B0/x"))
	groups, err := slo.AllRuleGroups(context.Background())
	require.NoError(t, err)
	rules := g.ByType("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
	require.Len(t, rules, len(groups))
	alerts := 0
	for _, r := range rules {
		assert.Equal(t, "kube-prometheus-stack", r.Input("metadata.labels").(map[string]any)["release"])
		assert.Equal(t, "monitoring", r.Input("metadata.namespace"))
		for _, grp := range r.Input("spec.groups").([]any) {
			for _, rule := range grp.(map[string]any)["rules"].([]any) {
				m := rule.(map[string]any)
				if _, ok := m["alert"]; ok {
					alerts++
					assert.Equal(t, "us-west", m["labels"].(map[string]any)["region"])
				}
			}
		}
	}
	// The stack runs without the GPU pool: the default features' alerts.
	assert.Equal(t, len(slo.AlertsFor(slo.Features{}))+3*len(slo.RatioSLOs()), alerts, "catalog alerts + page/ticket + absent per ratio SLO")
	sec := one(t, g, "kubernetes:core/v1:Secret", "us-west-alerting-alertmanager")
	assert.True(t, sec.IsSecret("stringData"), "alertmanager.yaml stays a Pulumi secret")
	am := sec.PlainInputs()["stringData"].(map[string]any)["alertmanager.yaml"].(string)
	_, err = amconfig.Load(am)
	require.NoError(t, err)
	// The on-call wiring's key (tars:pagerduty.enabled in the stack file).
	assert.Contains(t, am, harness.MockIntegrationKey("us-west-oncall-tars-production-critical"))
	cms := g.Filter(func(r harness.Resource) bool {
		return r.Type == "kubernetes:core/v1:ConfigMap" && g.Component(r).Name == "us-west-alerting" && r.Name != "us-west-alerting-log-rules"
	})
	require.Len(t, cms, len(alerting.Dashboards))
	for _, cm := range cms {
		assert.Equal(t, "1", cm.Input("metadata.labels").(map[string]any)["grafana_dashboard"], cm.Name)
	}
}

func TestAlertingArgsValidated(t *testing.T) {
	g, err := harness.Run("us-east", harness.WithProgram(func(ctx *pulumi.Context) error {
		_, err := alerting.New(ctx, "bad", alerting.Args{Region: "us-east", Notify: alerting.Notify{SlackChannel: "alerts", SMTPSmarthost: "smtp", EmailTo: "nobody"}})
		return err
	}))
	require.Error(t, err)
	for _, want := range []string{
		`alerting bad: invalid args: slackChannel ("alerts") must be a Slack channel like #tars-alerts`,
		`smtpSmarthost ("smtp") must be host:port`,
		`emailTo ("nobody") must be an e-mail address`,
		"pagerdutyCriticalRoutingKey is required (a Pulumi secret)",
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Empty(t, g.Resources)
}
