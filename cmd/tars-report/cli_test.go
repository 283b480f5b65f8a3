package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeS3 records the objects PUT to it (path-style: /bucket/key).
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string]string
	types   map[string]string
}

func newFakeS3(t *testing.T) (*fakeS3, *httptest.Server) {
	f := &fakeS3{objects: map[string]string{}, types: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut {
			http.Error(w, "only PUT", http.StatusMethodNotAllowed)
			return
		}
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.objects[r.URL.Path] = string(b)
		f.types[r.URL.Path] = r.Header.Get("Content-Type")
		f.mu.Unlock()
		w.Header().Set("ETag", `"etag"`)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

// fakeSlack records the messages posted to its webhook path.
type fakeSlack struct {
	mu     sync.Mutex
	texts  []string
	status int
}

func newFakeSlack(t *testing.T, status int) (*fakeSlack, *httptest.Server) {
	f := &fakeSlack{status: status}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/services/T000/B000/SECRETTOKEN" {
			http.NotFound(w, r)
			return
		}
		var msg struct{ Text string }
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.texts = append(f.texts, msg.Text)
		f.mu.Unlock()
		if f.status != http.StatusOK {
			http.Error(w, "no_service", f.status)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func webhookFile(t *testing.T, url string) string {
	p := filepath.Join(t.TempDir(), "webhook-url")
	if err := os.WriteFile(p, []byte(url+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// awsTestEnv keeps the SDK off the machine's profiles and IMDS.
func awsTestEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
}

func noEnv(string) string { return "" }

// The whole program over HTTP: the Prometheus API client against an API
// server answering from Prometheus's engine, the S3 SDK against a
// path-style endpoint, the Slack webhook, and (monthly) Kubecost.
func TestEndToEndOverHTTP(t *testing.T) {
	awsTestEnv(t)
	prom := promAPI(t, newEngineQuerier(t, dailySeries()))
	kubecost := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"code":200,"data":[{"tars":{"name":"tars","cpuCost":10,"ramCost":5,"totalCost":15.5},"__idle__":{"name":"__idle__","totalCost":4.5}}]}`)
	}))
	t.Cleanup(kubecost.Close)

	for _, period := range []string{"daily", "monthly"} {
		t.Run(period, func(t *testing.T) {
			s3, s3srv := newFakeS3(t)
			slack, slackSrv := newFakeSlack(t, http.StatusOK)
			secret := slackSrv.URL + "/services/T000/B000/SECRETTOKEN"
			var stdout, stderr bytes.Buffer
			args := []string{
				"--period", period, "--prometheus", prom.URL, "--region", "us-east",
				"--bucket", "tars-reports", "--s3-endpoint", s3srv.URL, "--aws-region", "us-east-1",
				"--slack-webhook-file", webhookFile(t, secret), "--at", "1970-01-02T00:00:00Z",
			}
			if period == "monthly" {
				args = append(args, "--kubecost", kubecost.URL)
			}
			began := time.Now()
			code := run(context.Background(), args, noEnv, &stdout, &stderr, time.Now())
			t.Logf("%s run took %s", period, time.Since(began).Round(time.Millisecond))
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr.String())
			}
			md := "/tars-reports/slo-reports/" + period + "/us-east/1970-01-02.md"
			js := "/tars-reports/slo-reports/" + period + "/us-east/1970-01-02.json"
			if len(s3.objects) != 2 || s3.objects[md] == "" || s3.objects[js] == "" {
				t.Fatalf("S3 objects: %v", keys(s3.objects))
			}
			if !strings.HasPrefix(s3.types[md], "text/markdown") || s3.types[js] != "application/json" {
				t.Errorf("content types %v", s3.types)
			}
			if period == "daily" && !strings.Contains(s3.objects[md], "| 5xx error rate | 99 % | 99.5 % | met | 50 % | 288000 |") {
				t.Errorf("stored markdown:\n%s", s3.objects[md])
			}
			if period == "monthly" && !strings.Contains(s3.objects[md], "| `__idle__` | 0.00 | 0.00 | 0.00 | 0.00 | 0.00 | 0.00 | 0.00 | 4.50 |") {
				t.Errorf("stored markdown lacks the cost table:\n%s", s3.objects[md])
			}
			if !strings.Contains(s3.objects[js], `"markdown_key": "slo-reports/`+period+`/us-east/1970-01-02.md"`) {
				t.Errorf("JSON does not say where it is")
			}
			if len(slack.texts) != 1 {
				t.Fatalf("slack got %d messages", len(slack.texts))
			}
			msg := slack.texts[0]
			for _, want := range []string{"5xx error rate: met", "budget left", "WebSocket reconnection failures: *BREACHED*", "s3://tars-reports/slo-reports/" + period + "/us-east/1970-01-02.md"} {
				if !strings.Contains(msg, want) {
					t.Errorf("slack message lacks %q:\n%s", want, msg)
				}
			}
			leaks(t, secret, stdout.String()+stderr.String())
			if testing.Verbose() {
				t.Logf("stderr:\n%s", stderr.String())
			}
		})
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// leaks fails if the webhook URL or its secret path is in out.
func leaks(t *testing.T, secret, out string) {
	t.Helper()
	for _, s := range []string{secret, "SECRETTOKEN", "/services/T000"} {
		if strings.Contains(out, s) {
			t.Errorf("output contains the webhook (%q):\n%s", s, out)
		}
	}
}

// A failing or unreachable webhook fails the run without printing the URL.
func TestSlackFailureDoesNotLeakTheWebhook(t *testing.T) {
	awsTestEnv(t)
	prom := promAPI(t, newEngineQuerier(t, dailySeries()))
	_, s3srv := newFakeS3(t)
	_, failing := newFakeSlack(t, http.StatusNotFound)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for name, secret := range map[string]string{
		"404":         failing.URL + "/services/T000/B000/SECRETTOKEN",
		"unreachable": closed.URL + "/services/T000/B000/SECRETTOKEN",
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{
				"--period", "daily", "--prometheus", prom.URL, "--region", "us-east",
				"--bucket", "tars-reports", "--s3-endpoint", s3srv.URL, "--aws-region", "us-east-1",
				"--slack-webhook-file", webhookFile(t, secret), "--at", "1970-01-02T00:00:00Z",
			}, noEnv, &stdout, &stderr, time.Now())
			if code != 1 || !strings.Contains(stderr.String(), "slack") {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
			}
			leaks(t, secret, stdout.String()+stderr.String())
			if testing.Verbose() {
				t.Logf("stderr:\n%s", stderr.String())
			}
		})
	}
}

func TestSlackNotifier(t *testing.T) {
	slack, srv := newFakeSlack(t, http.StatusOK)
	n := newSlackNotifier(webhook{url: srv.URL + "/services/T000/B000/SECRETTOKEN"})
	if err := n.Notify(context.Background(), "*hello*"); err != nil {
		t.Fatal(err)
	}
	if len(slack.texts) != 1 || slack.texts[0] != "*hello*" {
		t.Errorf("texts %q", slack.texts)
	}
	// the webhook formats as redacted wherever it is printed
	var buf bytes.Buffer
	hook := webhook{url: srv.URL + "/services/T000/B000/SECRETTOKEN"}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		buf.WriteString(fmt.Sprintf(f, hook))
		buf.WriteString(fmt.Sprintf(f, struct{ H webhook }{hook}))
	}
	leaks(t, hook.url, buf.String())
}

func TestDryRunPrintsAndStoresNothing(t *testing.T) {
	prom := promAPI(t, newEngineQuerier(t, dailySeries()))
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--period", "daily", "--prometheus", prom.URL, "--region", "us-west", "--dry-run", "--at", "1970-01-02T00:00:00Z"},
		noEnv, &stdout, &stderr, time.Now())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "# T.A.R.S. daily SLO report — us-west") || !strings.Contains(stdout.String(), "Report: not stored (dry run)") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "slo-reports/daily/us-west/1970-01-02.md") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

type memStore struct{ puts [][3]string }

func (m *memStore) Put(_ context.Context, bucket, key, contentType string, _ []byte) error {
	m.puts = append(m.puts, [3]string{bucket, key, contentType})
	return nil
}

func TestS3KeyLayout(t *testing.T) {
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct{ prefix, period, region, ext, want string }{
		{"slo-reports", "weekly", "us-west", "md", "slo-reports/weekly/us-west/2026-11-30.md"},
		{"a/b", "monthly", "us-east", "json", "a/b/monthly/us-east/2026-11-30.json"},
		{"", "daily", "us-east", "md", "daily/us-east/2026-11-30.md"},
	} {
		if got := reportKey(c.prefix, c.period, c.region, at, c.ext); got != c.want {
			t.Errorf("reportKey(%q, %q, %q) = %q, want %q", c.prefix, c.period, c.region, got, c.want)
		}
	}
	// the end date is the UTC date of --at, whatever the zone it was given in
	if got := reportKey("p", "daily", "us-east", time.Date(2026, 11, 30, 1, 0, 0, 0, time.FixedZone("x", 3*3600)), "md"); got != "p/daily/us-east/2026-11-29.md" {
		t.Errorf("UTC date: %s", got)
	}
	m := &memStore{}
	r := &Report{Period: "daily", Region: "us-east", End: at}
	if err := store(context.Background(), m, config{Bucket: "b", Prefix: "slo-reports"}, r); err != nil {
		t.Fatal(err)
	}
	want := [][3]string{
		{"b", "slo-reports/daily/us-east/2026-11-30.md", "text/markdown; charset=utf-8"},
		{"b", "slo-reports/daily/us-east/2026-11-30.json", "application/json"},
	}
	if len(m.puts) != 2 || m.puts[0] != want[0] || m.puts[1] != want[1] {
		t.Errorf("puts %v", m.puts)
	}
}

func TestKubecostAllocation(t *testing.T) {
	const body = `{"code":200,"status":"success","data":[
	  {"tars":{"name":"tars","properties":{"cluster":"us-east","namespace":"tars"},"window":{"start":"2026-10-31T00:00:00Z","end":"2026-11-30T00:00:00Z"},
	           "cpuCost":120.5,"gpuCost":0,"ramCost":60.25,"pvCost":10,"networkCost":null,"loadBalancerCost":18,"sharedCost":0,"externalCost":0,"totalCost":208.75,"cpuEfficiency":"NaN"},
	   "kube-system":{"name":"kube-system","cpuCost":5,"ramCost":"NaN","totalCost":5},
	   "__idle__":{"name":"__idle__","cpuCost":40,"ramCost":20,"totalCost":60}},
	  {"tars":{"name":"tars","cpuCost":1,"totalCost":1.25}}]}`
	var gotQuery string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/model/allocation" {
			http.NotFound(w, r)
			return
		}
		gotQuery = r.URL.RawQuery
		_, _ = io.WriteString(w, body)
	}))
	defer srv.Close()
	start := time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)
	end := start.Add(30 * day)
	sec := kubecostClient{base: srv.URL, http: srv.Client()}.Costs(context.Background(), start, end)
	if sec.Error != "" {
		t.Fatal(sec.Error)
	}
	if gotQuery != "accumulate=true&aggregate=namespace&window=2026-10-31T00%3A00%3A00Z%2C2026-11-30T00%3A00%3A00Z" {
		t.Errorf("query %s", gotQuery)
	}
	want := []CostRow{
		{Namespace: "tars", CPU: 121.5, RAM: 60.25, PV: 10, LB: 18, Total: 210},
		{Namespace: "__idle__", CPU: 40, RAM: 20, Total: 60},
		{Namespace: "kube-system", CPU: 5, Total: 5},
	}
	if len(sec.Rows) != len(want) {
		t.Fatalf("rows %+v", sec.Rows)
	}
	for i := range want {
		if sec.Rows[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, sec.Rows[i], want[i])
		}
	}
	if sec.Total != 275 {
		t.Errorf("total %v, want 275", sec.Total)
	}

	for name, bad := range map[string]string{
		"api error": `{"code":500,"message":"boom"}`,
		"not json":  `<html>`,
	} {
		if _, _, err := decodeAllocation(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestFlagValidation(t *testing.T) {
	now := time.Date(2026, 11, 30, 0, 0, 30, 0, time.UTC)
	hook := webhookFile(t, "https://hooks.slack.com/services/x")
	base := []string{"--prometheus", "http://thanos-query-frontend.monitoring:10902", "--region", "us-east", "--bucket", "b", "--slack-webhook-file", hook}
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"bad period", append([]string{"--period", "hourly"}, base...), nil, []string{`--period: "hourly" is not one of daily, weekly, monthly`}},
		{"no period", base, nil, []string{"--period: is required"}},
		{"bad period from env", base, map[string]string{"TARS_REPORT_PERIOD": "yearly"}, []string{`--period (from TARS_REPORT_PERIOD): "yearly"`}},
		{"monthly needs kubecost", append([]string{"--period", "monthly"}, base...), nil, []string{"--kubecost: is required for --period monthly"}},
		{"bad urls and time", []string{"--period", "daily", "--prometheus", "thanos:9090", "--region", "US East", "--at", "yesterday", "--dry-run"}, nil,
			[]string{`--prometheus: "thanos:9090" is not an http(s) URL`, `--region: "US East"`, `--at: "yesterday" is not an RFC3339 time`}},
		{"store and post need their flags", []string{"--period", "daily", "--prometheus", "http://p:1", "--region", "us-east"}, nil,
			[]string{"--bucket: is required", "--slack-webhook-file: is required"}},
		{"missing webhook file", []string{"--period", "daily", "--prometheus", "http://p:1", "--region", "us-east", "--bucket", "b", "--slack-webhook-file", "/nonexistent/url"}, nil,
			[]string{"--slack-webhook-file: stat /nonexistent/url"}},
		{"future at", append([]string{"--period", "daily", "--at", "2027-01-01T00:00:00Z"}, base...), nil, []string{"--at: 2027-01-01T00:00:00Z is in the future"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			getenv := func(k string) string { return c.env[k] }
			_, err := parseConfig(c.args, getenv, now, io.Discard)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}

	// env fallbacks fill what flags leave out; --at defaults to now, to the minute
	c, err := parseConfig([]string{"--region", "us-west"}, func(k string) string {
		return map[string]string{"TARS_REPORT_PERIOD": "weekly", "TARS_REPORT_PROMETHEUS": "http://thanos-query-frontend.monitoring:10902/", "TARS_REPORT_DRY_RUN": "true"}[k]
	}, now, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Period.Name != "weekly" || c.Period.Window != 7*day || !c.DryRun || c.Prometheus != "http://thanos-query-frontend.monitoring:10902" ||
		!c.At.Equal(now.Truncate(time.Minute)) || c.Prefix != "slo-reports" {
		t.Errorf("config %+v", c)
	}

	// run exits 2 on bad flags and names the flag
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"--period", "fortnightly"}, noEnv, io.Discard, &stderr, now); code != 2 || !strings.Contains(stderr.String(), "--period") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}
