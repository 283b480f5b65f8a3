package tests

import (
	"encoding/json"
	"github.com/tars-platform/infra/tests/apistandin"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/verify"
)

// jaegerStrategies is Jaeger's sampling file as the program writes it into the
// ConfigMap jaeger-sampling-strategies (components/monitoring/traces.go).
const jaegerStrategies = `{
  "default_strategy": {"type": "probabilistic", "param": 0.1},
  "service_strategies": [
    {"service": "tars-backend", "type": "probabilistic", "param": 1},
    {"service": "tars-rag-service", "type": "probabilistic", "param": 1},
    {"service": "tars-ui", "type": "probabilistic", "param": 0.5}
  ]
}`

// jaegerAnswer renders the query API's structuredResponse (jaeger v2
// jaegerquery/internal/http_handler.go: data, total, limit, offset,
// errors).
func jaegerAnswer(data any) string {
	b, _ := json.Marshal(map[string]any{"data": data, "total": 0, "limit": 0, "offset": 0, "errors": nil})
	return string(b)
}

// jaegerTrace is one trace of /api/traces in the UI model (traceID,
// spans, processes, warnings).
func jaegerTrace(service string) map[string]any {
	return map[string]any{
		"traceID": "5b8aa5a2d2c872e8321cf37308d69df2",
		"spans": []any{map[string]any{
			"traceID": "5b8aa5a2d2c872e8321cf37308d69df2", "spanID": "051581bf3cb55c13", "operationName": "GET /api/chat",
			"references": []any{}, "startTime": obsNow.Add(-10 * time.Minute).UnixMicro(), "duration": 120345,
			"tags": []any{map[string]any{"key": "http.status_code", "type": "int64", "value": 200}}, "logs": []any{}, "processID": "p1", "warnings": nil,
		}},
		"processes": map[string]any{"p1": map[string]any{"serviceName": service, "tags": []any{}}},
		"warnings":  nil,
	}
}

// jaegerEnv: Jaeger knows services (/api/services) and has a trace for
// those in traced.
func jaegerEnv(t *testing.T, services []string, traced ...string) *verify.Env {
	s := apistandin.New(t)
	s.Service("monitoring", "jaeger", "16686", obsAPI(map[string]http.Handler{
		"/api/services": obsJSON(200, jaegerAnswer(services)),
		"/api/traces": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			// The last hour, in microseconds; one trace is enough.
			assert.Equal(t, strconv.FormatInt(obsNow.Add(-time.Hour).UnixMicro(), 10), q.Get("start"))
			assert.Equal(t, strconv.FormatInt(obsNow.UnixMicro(), 10), q.Get("end"))
			assert.Equal(t, "1", q.Get("limit"))
			traces := []any{}
			for _, s := range traced {
				if s == q.Get("service") {
					traces = append(traces, jaegerTrace(s))
				}
			}
			obsJSON(200, jaegerAnswer(traces))(w, r)
		}),
	}))
	return obsEnv(t, s, obsRelease("jaeger", "monitoring", "jaeger", "4.11.1", nil),
		obsObject("kubernetes:core/v1:ConfigMap", "monitoring", "jaeger-sampling-strategies", map[string]any{"data": map[string]any{"strategies.json": jaegerStrategies}}))
}

func TestVerifyJaegerTracesPass(t *testing.T) {
	all := []string{"tars-backend", "tars-rag-service", "tars-ui"}
	out, err := obsRun(t, verify.JaegerTraces(), jaegerEnv(t, append([]string{"jaeger"}, all...), all...))
	require.NoError(t, err)
	assert.Empty(t, out.Problems)
	assert.Equal(t, "Jaeger has traces from the last 1h0m0s for each of 3 traced services (tars-backend, tars-rag-service, tars-ui)", out.Expected)
	assert.Equal(t, "3 of 3 services have a trace in the last 1h0m0s (Jaeger knows 4 services)", out.Observed)
}

func TestVerifyJaegerTracesMissing(t *testing.T) {
	// tars-ui has sent spans once, but none in the last hour;
	// tars-rag-service never has.
	out, err := obsRun(t, verify.JaegerTraces(), jaegerEnv(t, []string{"tars-backend", "tars-ui"}, "tars-backend"))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"service tars-rag-service: Jaeger monitoring/jaeger:16686 has never stored a span of it (not in /api/services)",
		"service tars-ui: no trace in the last 1h0m0s",
	}, out.Problems)
	assert.Equal(t, "1 of 3 services have a trace in the last 1h0m0s (Jaeger knows 2 services)", out.Observed)
}

func TestVerifyJaegerTracesErrors(t *testing.T) {
	// The query API's own error (storage down) is quoted.
	s := apistandin.New(t)
	s.Service("monitoring", "jaeger", "16686", obsJSON(500, `{"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":500,"msg":"search services failed: connection refused"}]}`))
	env := obsEnv(t, s, obsRelease("jaeger", "monitoring", "jaeger", "4.11.1", nil),
		obsObject("kubernetes:core/v1:ConfigMap", "monitoring", "jaeger-sampling-strategies", map[string]any{"data": map[string]any{"strategies.json": jaegerStrategies}}))
	_, err := obsRun(t, verify.JaegerTraces(), env)
	assert.ErrorContains(t, err, "Jaeger monitoring/jaeger:16686 /api/services: ")
	assert.ErrorContains(t, err, "search services failed")

	s = apistandin.New(t)
	s.Service("monitoring", "jaeger", "16686", obsJSON(200, `{"data":null,"errors":[{"code":500,"msg":"storage unavailable"}]}`))
	env.Regions["us-east"].Cluster = s.Cluster(t)
	_, err = obsRun(t, verify.JaegerTraces(), env)
	assert.ErrorContains(t, err, "Jaeger monitoring/jaeger:16686 /api/services: storage unavailable")

	// Without the sampling ConfigMap the traced services are unknown.
	_, err = obsRun(t, verify.JaegerTraces(), obsEnv(t, apistandin.New(t), obsRelease("jaeger", "monitoring", "jaeger", "4.11.1", nil)))
	assert.ErrorContains(t, err, "cannot tell which services are traced")
}
