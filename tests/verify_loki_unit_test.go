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

// lokiStreams renders GET /loki/api/v1/query_range for a log query (Loki
// HTTP API docs, "Query logs within a range of time": data.resultType
// "streams", result[].stream and .values [["<unix ns>", "<line>"]]).
func lokiStreams(lines ...string) string {
	result := []any{}
	if len(lines) > 0 {
		var values [][]string
		for i, l := range lines {
			values = append(values, []string{strconv.FormatInt(obsNow.Add(-time.Duration(i+1)*time.Minute).UnixNano(), 10), l})
		}
		result = append(result, map[string]any{
			"stream": map[string]string{"namespace": "tars", "pod": "tars-backend-7d9f8b6c5-x2x4q", "container": "backend", "app": "tars-backend", "job": "tars/tars-backend"},
			"values": values,
		})
	}
	b, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]any{
		"resultType": "streams", "result": result,
		"stats": map[string]any{"summary": map[string]any{"bytesProcessedPerSecond": 0, "linesProcessedPerSecond": 0, "totalBytesProcessed": 0, "totalLinesProcessed": len(lines), "execTime": 0.002}},
	}})
	return string(b)
}

// lokiEnv: the loki release and the public API's Ingress in namespace
// tars (the application namespace).
func lokiEnv(t *testing.T, body string) *verify.Env {
	s := apistandin.New(t)
	s.Service("monitoring", "loki-gateway", "80", obsAPI(map[string]http.Handler{
		"/loki/api/v1/query_range": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			assert.Equal(t, `{namespace="tars"}`, q.Get("query"))
			// The last 5 minutes.
			assert.Equal(t, strconv.FormatInt(obsNow.Add(-5*time.Minute).UnixNano(), 10), q.Get("start"))
			assert.Equal(t, strconv.FormatInt(obsNow.UnixNano(), 10), q.Get("end"))
			assert.NotEmpty(t, q.Get("limit"))
			obsJSON(200, body)(w, r)
		}),
	}))
	return obsEnv(t, s, obsRelease("loki", "monitoring", "loki", "18.11.0", nil),
		obsObject("kubernetes:networking.k8s.io/v1:Ingress", "tars", "tars-api-public", nil))
}

func TestVerifyLokiLogsPass(t *testing.T) {
	out, err := obsRun(t, verify.LokiLogs(), lokiEnv(t, lokiStreams(`{"level":"INFO","msg":"request served","status":200}`, `{"level":"INFO","msg":"ready"}`)))
	require.NoError(t, err)
	assert.Empty(t, out.Problems)
	assert.Equal(t, "Loki has log lines of namespace tars from the last 5m0s", out.Expected)
	assert.Equal(t, `2 lines (limit 10) in 1 streams for {namespace="tars"} in the last 5m0s; newest 1m0s ago`, out.Observed)
}

func TestVerifyLokiLogsNone(t *testing.T) {
	out, err := obsRun(t, verify.LokiLogs(), lokiEnv(t, lokiStreams()))
	require.NoError(t, err)
	require.Len(t, out.Problems, 1)
	assert.Equal(t, `Loki monitoring/loki-gateway:80: no log lines for {namespace="tars"} in the last 5m0s: is Alloy shipping, and is anything running in tars?`, out.Problems[0])
}

func TestVerifyLokiLogsErrors(t *testing.T) {
	// Loki answers a bad query with 400 and a plain-text message.
	s := apistandin.New(t)
	s.Service("monitoring", "loki-gateway", "80", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "parse error at line 1, col 2: syntax error", http.StatusBadRequest)
	}))
	env := obsEnv(t, s, obsRelease("loki", "monitoring", "loki", "18.11.0", nil),
		obsObject("kubernetes:networking.k8s.io/v1:Ingress", "tars", "tars-api-public", nil))
	_, err := obsRun(t, verify.LokiLogs(), env)
	assert.ErrorContains(t, err, "Loki monitoring/loki-gateway:80 /loki/api/v1/query_range: ")
	assert.ErrorContains(t, err, "parse error")

	// A matrix (a metric query's answer) is not what was asked.
	_, err = obsRun(t, verify.LokiLogs(), lokiEnv(t, `{"status":"success","data":{"resultType":"matrix","result":[]}}`))
	assert.ErrorContains(t, err, `result type "matrix", want streams`)

	// Without the API's Ingress the application namespace is unknown.
	_, err = obsRun(t, verify.LokiLogs(), obsEnv(t, apistandin.New(t), obsRelease("loki", "monitoring", "loki", "18.11.0", nil)))
	assert.ErrorContains(t, err, "cannot tell the application namespace")
}

// A release named otherwise is followed: "<release>-loki-gateway".
func TestVerifyLokiLogsRenamedRelease(t *testing.T) {
	s := apistandin.New(t)
	s.Service("logs", "central-loki-gateway", "8080", obsJSON(200, lokiStreams("x")))
	env := obsEnv(t, s, obsRelease("central", "logs", "loki", "18.11.0", map[string]any{"gateway": map[string]any{"service": map[string]any{"port": float64(8080)}}}),
		obsObject("kubernetes:networking.k8s.io/v1:Ingress", "tars", "tars-api-public", nil))
	out, err := obsRun(t, verify.LokiLogs(), env)
	require.NoError(t, err)
	assert.Empty(t, out.Problems)
}
