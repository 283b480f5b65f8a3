package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/verify"
)

// twoRegions is an env of both regions without clusters (the runner's
// tests do not read them).
func twoRegions(names ...string) *verify.Env {
	env := &verify.Env{RunID: "verify-test", Regions: map[string]*verify.Region{}}
	for _, n := range names {
		env.Regions[n] = &verify.Region{Name: n}
	}
	return env
}

func fakeCheck(id string, scope verify.Scope, run func(ctx context.Context, region string) (verify.Outcome, error)) verify.Check {
	return verify.Check{ID: id, Expected: id + " expected", Scope: scope, Timeout: time.Second,
		Run: func(ctx context.Context, _ *verify.Env, region string) (verify.Outcome, error) {
			return run(ctx, region)
		}}
}

func TestVerifyRunRows(t *testing.T) {
	checks := []verify.Check{
		fakeCheck("passes", verify.PerRegion, func(_ context.Context, region string) (verify.Outcome, error) {
			return verify.Outcome{Observed: "fine in " + region}, nil
		}),
		fakeCheck("fails-in-west", verify.PerRegion, func(_ context.Context, region string) (verify.Outcome, error) {
			o := verify.Outcome{Observed: "2 of 3"}
			if region == "us-west" {
				o = o.Failf("thing %s/a is down", region)
			}
			return o, nil
		}),
		fakeCheck("errs", verify.PerRegion, func(_ context.Context, region string) (verify.Outcome, error) {
			return verify.Outcome{}, errors.New("Prometheus answered 503")
		}),
		fakeCheck("hangs", verify.PerRegion, func(ctx context.Context, region string) (verify.Outcome, error) {
			<-ctx.Done()
			return verify.Outcome{}, ctx.Err()
		}),
		fakeCheck("panics", verify.PerRegion, func(_ context.Context, region string) (verify.Outcome, error) {
			var m map[string]int
			m["x"]++
			return verify.Outcome{}, nil
		}),
		fakeCheck("skips", verify.PerRegion, func(_ context.Context, region string) (verify.Outcome, error) {
			return verify.Outcome{Skipped: "a replica region"}, nil
		}),
		fakeCheck("cross", verify.CrossRegion, func(_ context.Context, region string) (verify.Outcome, error) {
			return verify.Outcome{Observed: "region=" + region, Expected: "dynamic"}, nil
		}),
	}
	var progress bytes.Buffer
	start := time.Now()
	rep := verify.Run(context.Background(), twoRegions("us-west", "us-east"), checks, &progress)
	// One hanging check per region, each bounded by its 1 s timeout.
	assert.Less(t, time.Since(start), 5*time.Second)

	type row struct{ check, region, status, observed string }
	var got []row
	for _, r := range rep.Results {
		got = append(got, row{r.Check, r.Region, string(r.Status), r.Observed})
	}
	assert.Equal(t, []row{
		{"passes", "us-east", "pass", "fine in us-east"},
		{"passes", "us-west", "pass", "fine in us-west"},
		{"fails-in-west", "us-east", "pass", "2 of 3"},
		{"fails-in-west", "us-west", "fail", "2 of 3"},
		{"errs", "us-east", "fail", "Prometheus answered 503"},
		{"errs", "us-west", "fail", "Prometheus answered 503"},
		{"hangs", "us-east", "fail", "no answer within 1s: context deadline exceeded"},
		{"hangs", "us-west", "fail", "no answer within 1s: context deadline exceeded"},
		{"panics", "us-east", "fail", "the check panicked: assignment to entry in nil map"},
		{"panics", "us-west", "fail", "the check panicked: assignment to entry in nil map"},
		{"skips", "us-east", "skip", "a replica region"},
		{"skips", "us-west", "skip", "a replica region"},
		{"cross", "us-east+us-west", "pass", "region="},
	}, got)
	assert.Equal(t, []string{"thing us-west/a is down"}, rep.Results[3].Problems)
	assert.Equal(t, "dynamic", rep.Results[12].Expected, "an outcome's expectation replaces the check's")
	assert.Equal(t, "passes expected", rep.Results[0].Expected)
	assert.Equal(t, 7, rep.Failed())
	assert.Equal(t, 4, rep.Count(verify.Pass))
	assert.Equal(t, 2, rep.Count(verify.Skip))
	assert.GreaterOrEqual(t, rep.Results[6].Seconds, 1.0, "the hanging check ran until its timeout")

	lines := strings.Split(strings.TrimSpace(progress.String()), "\n")
	require.Len(t, lines, 13, "a progress line per check and region")
	assert.Regexp(t, `^\[ 1/13\] pass passes +us-east +\d+\.\ds  fine in us-east$`, lines[0])
	assert.Regexp(t, `^\[13/13\] pass cross +us-east\+us-west`, lines[12])
}

func TestVerifyRunCrossRegionNeedsBoth(t *testing.T) {
	ran := false
	rep := verify.Run(context.Background(), twoRegions("us-east"), []verify.Check{
		fakeCheck("cross", verify.CrossRegion, func(context.Context, string) (verify.Outcome, error) {
			ran = true
			return verify.Outcome{}, nil
		}),
	}, nil)
	require.Len(t, rep.Results, 1)
	assert.False(t, ran)
	assert.Equal(t, verify.Skip, rep.Results[0].Status)
	assert.Equal(t, "a cross-region check: run with --region both", rep.Results[0].Observed)
	assert.Equal(t, 0, rep.Failed())
}

func TestVerifySelect(t *testing.T) {
	all := verify.Checks()
	ids := func(cs []verify.Check) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	// The checklist, in the order it runs.
	assert.Equal(t, []string{"prometheus-targets", "prometheus-rules", "alerts", "thanos-blocks", "loki-logs",
		"jaeger-traces", "postgres-standbys", "postgres-replication", "redis-cluster", "route53-health",
		"global-name", "kubecost-allocation", "vpa-recommendations", "autoscaler-status"}, ids(all))
	for _, c := range all {
		assert.NotEmpty(t, c.Expected, "%s: an expectation for the report", c.ID)
		assert.Greater(t, c.Timeout, time.Duration(0), "%s: a bounded timeout of its own", c.ID)
		assert.LessOrEqual(t, c.Timeout, 3*time.Minute, c.ID)
	}

	got, err := verify.Select(all, verify.Selection{Only: []string{"redis-cluster", "alerts"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"alerts", "redis-cluster"}, ids(got), "catalog order, not flag order")
	got, err = verify.Select(all, verify.Selection{Skip: []string{"global-name", "postgres-replication"}})
	require.NoError(t, err)
	assert.Len(t, got, len(all)-2)
	assert.NotContains(t, ids(got), "global-name")

	_, err = verify.Select(all, verify.Selection{Only: []string{"redis"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `--only "redis": no such check; the checks are alerts, autoscaler-status,`)
	_, err = verify.Select(all, verify.Selection{Skip: []string{"dns"}})
	assert.ErrorContains(t, err, `--skip "dns": no such check`)
	_, err = verify.Select(all, verify.Selection{Only: []string{"alerts"}, Skip: []string{"alerts"}})
	assert.ErrorContains(t, err, "leave no check to run")
}

func sampleReport() verify.Report {
	t0 := time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)
	return verify.Report{
		RunID: "verify-20261130-140000-ab12", Regions: []string{"us-east", "us-west"},
		Started: t0, Finished: t0.Add(42 * time.Second),
		Stacks: []string{"us-east: stack us-east, last update succeeded at 2026-11-30 13:40 UTC"},
		Results: []verify.Result{
			{Check: "prometheus-targets", Region: "us-east", Expected: "each of 23 monitors has ≥1 target up", Observed: "23 of 23", Status: verify.Pass, Seconds: 0.4},
			{Check: "alerts", Region: "us-west", Expected: "no P0/P1 alert firing", Observed: "1 firing | P1", Status: verify.Fail, Seconds: 0.2,
				Problems: []string{"PostgresDown (P1) firing since 13:55 <tars-postgres>"}},
			{Check: "postgres-standbys", Region: "us-west", Expected: "standbys replay a marker within 5s", Observed: "a replica region", Status: verify.Skip, Seconds: 0.1},
		},
	}
}

func TestVerifyReportFormats(t *testing.T) {
	rep := sampleReport()
	var js bytes.Buffer
	require.NoError(t, rep.WriteJSON(&js))
	var back verify.Report
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	assert.Equal(t, rep, back, "the JSON report reads back whole")
	var generic map[string]any
	require.NoError(t, json.Unmarshal(js.Bytes(), &generic))
	first := generic["results"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{"check": "prometheus-targets", "region": "us-east", "expected": "each of 23 monitors has ≥1 target up",
		"observed": "23 of 23", "status": "pass", "seconds": 0.4}, first)

	var md bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&md))
	out := md.String()
	assert.True(t, strings.HasPrefix(out, "## tarsctl verify: FAILED: 1 passed, 1 failed, 1 skipped (run verify-20261130-140000-ab12, us-east + us-west, 42s)\n"), out)
	assert.Contains(t, out, "| Check | Region | Expected | Observed | Result | Time |\n|---|---|---|---|---|---|\n")
	assert.Contains(t, out, "| `alerts` | us-west | no P0/P1 alert firing | 1 firing \\| P1 | ❌ fail | 0.2 s |\n", "a | inside a cell is escaped")
	assert.Contains(t, out, "### Failures\n\n**alerts** (us-west)\n- PostgresDown (P1) firing since 13:55 &lt;tars-postgres&gt;\n")
	assert.Contains(t, out, "- us-east: stack us-east, last update succeeded at 2026-11-30 13:40 UTC\n")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| `") {
			assert.Equal(t, 7, strings.Count(line, "|")-strings.Count(line, `\|`), "one row per line, six cells: %s", line)
		}
	}

	var table bytes.Buffer
	require.NoError(t, rep.WriteTable(&table))
	lines := strings.Split(strings.TrimSpace(table.String()), "\n")
	require.Len(t, lines, 6)
	assert.Regexp(t, `^CHECK +REGION +EXPECTED +OBSERVED +RESULT +TIME$`, lines[0])
	assert.Regexp(t, `^alerts +us-west +no P0/P1 alert firing +1 firing \| P1 +FAIL +0\.2s$`, lines[2])
	assert.Contains(t, lines[3], "✗ PostgresDown (P1) firing since 13:55")
	assert.Equal(t, "FAILED: 1 passed, 1 failed, 1 skipped (run verify-20261130-140000-ab12, us-east + us-west, 42s)", lines[5])

	rep.Results = rep.Results[:1]
	table.Reset()
	require.NoError(t, rep.WriteTable(&table))
	assert.Contains(t, table.String(), "PASSED: 1 passed, 0 failed, 0 skipped")
}
