package tests

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/util/teststorage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/slo"
)

// The log alerts (seed 003 "Log Queries Configured"), checked as LogQL
// (logql_test.go says how): they parse, and each fires on its firing logs
// and stays silent on its healthy logs.

// logWindow is how long the synthetic logs run; the alerts are evaluated
// every minute after the first 10.
const logWindow = 40 * time.Minute

// loadLogs writes a log fixture as one series per stream and line.
func loadLogs(t *testing.T, f slo.LogFixture, start time.Time) *teststorage.TestStorage {
	t.Helper()
	st := teststorage.New(t)
	app := st.Appender(context.Background())
	for _, l := range f {
		require.Positive(t, l.Every, "a fixture line needs a period")
		kv := []string{logLineLabel, l.Line}
		for k, v := range l.Labels {
			kv = append(kv, k, v)
		}
		ls := labels.FromStrings(kv...)
		for at := time.Duration(0); at < logWindow; at += l.Every {
			_, err := app.Append(0, ls, start.Add(at).UnixMilli(), 1)
			require.NoError(t, err)
		}
	}
	require.NoError(t, app.Commit())
	return st
}

// evalLogAlert evaluates the alert's condition every minute from minute 10
// and returns the times it held (the log alerts have no `for`).
func evalLogAlert(t *testing.T, a slo.LogAlert, f slo.LogFixture) []time.Duration {
	t.Helper()
	start := time.Unix(1_700_000_000, 0)
	st := loadLogs(t, f, start)
	pq, _, err := parseLogQL(a.Expr())
	require.NoError(t, err, a.Expr())
	eng := promql.NewEngine(promql.EngineOpts{MaxSamples: 10_000_000, Timeout: time.Minute})
	var held []time.Duration
	for at := 10 * time.Minute; at <= logWindow; at += time.Minute {
		q, err := eng.NewInstantQuery(context.Background(), st, nil, pq, start.Add(at))
		require.NoError(t, err)
		res := q.Exec(context.Background())
		require.NoError(t, res.Err)
		v, err := res.Vector()
		require.NoError(t, err)
		if len(v) > 0 {
			held = append(held, at)
			for _, s := range v {
				assert.NotEmpty(t, s.Metric.Get("component"), "%s: the alert names the component", a.Name)
				assert.Empty(t, s.Metric.Get(logLineLabel), "%s: aggregated over lines", a.Name)
			}
		}
	}
	return held
}

// TestLogAlertsCarryTheSeed: the four conditions with the seed's
// thresholds over 5 minutes, each with severity, runbook and dashboard.
func TestLogAlertsCarryTheSeed(t *testing.T) {
	want := map[string]float64{"HighErrorLogRate": 10, "RAGQueryFailures": 1, "AuthenticationFailures": 5, "DatabaseConnectionErrors": 2}
	got := map[string]float64{}
	for _, a := range slo.LogAlerts() {
		got[a.Name] = a.Threshold
		assert.Equal(t, slo.Above, a.Op, a.Name)
		assert.Contains(t, a.Query, "[5m]", a.Name)
		assert.Contains(t, a.Query, `namespace="tars"`, a.Name)
		for k, v := range map[string]string{"severity": string(a.Severity), "runbook": a.Runbook, "dashboard": a.Dashboard, "team": a.Team, "summary": a.Summary} {
			assert.NotEmpty(t, v, "%s: %s", a.Name, k)
		}
		_, ok := slo.Target(a.Severity)
		assert.True(t, ok, "%s: severity %s is a catalog severity", a.Name, a.Severity)
	}
	assert.Equal(t, want, got)
	groups := slo.LokiRuleGroups()
	require.Len(t, groups, 1)
	assert.Len(t, groups[0].Rules, 4)
	for _, r := range groups[0].Rules {
		assert.NotEmpty(t, r.Annotations["runbook_url"], r.Alert)
	}
}

// TestLogAlertsFireAndStaySilent: each log alert fires on its firing logs
// within its first evaluations and never on its healthy logs.
func TestLogAlertsFireAndStaySilent(t *testing.T) {
	for _, a := range slo.LogAlerts() {
		t.Run(a.Name, func(t *testing.T) {
			fired := evalLogAlert(t, a, a.FiringLogs)
			require.NotEmpty(t, fired, "%s never fired on its firing logs: %s", a.Name, a.Expr())
			assert.Equal(t, 10*time.Minute, fired[0], "fires at the first evaluation with a full window")
			assert.Empty(t, evalLogAlert(t, a, a.HealthyLogs), "%s fired on its healthy logs: %s", a.Name, a.Expr())
		})
	}
}

// TestLogQLCheckRefusesWhatItDoesNotUnderstand: broken expressions and
// LogQL outside the checked subset are refused.
func TestLogQLCheckRefusesWhatItDoesNotUnderstand(t *testing.T) {
	for _, a := range slo.LogAlerts() {
		pq, _, err := parseLogQL(a.Expr())
		require.NoError(t, err, a.Expr())
		if strings.Contains(a.Query, "|~") {
			assert.Contains(t, pq, logLineLabel+"=~", "%s: line filters become __line__ matchers", a.Name)
		} else {
			assert.NotContains(t, pq, logLineLabel, a.Name)
		}
	}
	for _, bad := range []string{
		`sum(count_over_time({namespace="tars"} |~ "(?i)(connection refused" [5m])) > 2`, // a broken regex
		`sum(count_over_time({namespace="tars"} [5m]) > 2`,                               // unbalanced
		`sum(count_over_time(up[5m])) > 2`,                                               // a metric, not a stream
		`sum({namespace="tars"}) > 2`,                                                    // no range aggregation
		`sum(count_over_time({namespace="tars"} | json [5m])) > 2`,                       // a parser stage
		`sum(count_over_time({namespace="tars"} |= [5m])) > 2`,                           // a filter without a string
		`sum(max_over_time({namespace="tars"}[5m])) > 2`,                                 // not a log range function
		`sum(count_over_time({} [5m])) > 2`,                                              // an empty selector
	} {
		_, _, err := parseLogQL(bad)
		assert.Error(t, err, bad)
	}
	// The translation keeps what the filter means: case-insensitive,
	// unanchored, RE2.
	a := slo.LogAlert{Alert: slo.Alert{Query: `sum by (namespace, component) (count_over_time({namespace="tars"} |~ "(?i)rag query failed" [5m]))`, Op: slo.Above, Threshold: 0}}
	fix := slo.LogFixture{
		{Labels: map[string]string{"namespace": "tars", "component": "rag"}, Line: "2026-11-30 ERROR RAG Query FAILED: timeout", Every: time.Minute},
		{Labels: map[string]string{"namespace": "tars", "component": "api"}, Line: "rag query ok", Every: time.Minute},
	}
	assert.NotEmpty(t, evalLogAlert(t, a, fix[:1]), "the mixed-case line matches")
	assert.Empty(t, evalLogAlert(t, a, fix[1:]), "a line without the message does not")
}
