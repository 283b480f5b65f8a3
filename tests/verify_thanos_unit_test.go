package tests

import (
	"encoding/json"
	"github.com/tars-platform/infra/tests/apistandin"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/verify"
)

// thanosBlocks renders the store gateway's GET /api/v1/blocks?view=loaded
// (thanos v0.42 pkg/api/blocks: the API envelope around BlocksInfo
// {label, blocks: [metadata.Meta], refreshedAt, err}; times in ms).
func thanosBlocks(maxTimes ...time.Time) string {
	blocks := []any{}
	for i, mt := range maxTimes {
		blocks = append(blocks, map[string]any{
			"ulid":    []string{"01JDQ3ZB1X5M8Y2C4V6N7P9R0S", "01JDQ9Q4K2W3E5R6T7Y8U9I0OP", "01JDQF0A1S2D3F4G5H6J7K8L9M"}[i%3],
			"minTime": mt.Add(-2 * time.Hour).UnixMilli(), "maxTime": mt.UnixMilli(),
			"stats":      map[string]any{"numSamples": 1234567, "numSeries": 4321, "numChunks": 9876},
			"compaction": map[string]any{"level": 1, "sources": []string{"01JDQ3ZB1X5M8Y2C4V6N7P9R0S"}},
			"version":    1,
			"thanos": map[string]any{
				"labels":     map[string]string{"prometheus": "monitoring/kube-prometheus-stack-prometheus", "prometheus_replica": "prometheus-kube-prometheus-stack-prometheus-0", "region": "us-east"},
				"downsample": map[string]any{"resolution": 0}, "source": "sidecar", "segment_files": []string{"000001"},
			},
		})
	}
	b, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]any{
		"label": "", "blocks": blocks, "refreshedAt": "2026-11-30T13:58:00.5Z", "err": nil,
	}})
	return string(b)
}

func thanosEnv(t *testing.T, body string) *verify.Env {
	s := apistandin.New(t)
	s.Service("monitoring", "thanos-store-gateway-headless", "10902", obsAPI(map[string]http.Handler{
		"/api/v1/blocks": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			assert.Equal(t, "loaded", r.URL.Query().Get("view"))
			obsJSON(200, body)(w, r)
		}),
	}))
	return obsEnv(t, s, obsRelease("thanos", "monitoring", "thanos", "1.24.1", nil))
}

func TestVerifyThanosBlocksPass(t *testing.T) {
	env := thanosEnv(t, thanosBlocks(obsNow.Add(-30*time.Hour), obsNow.Add(-(4*time.Hour-time.Minute)), obsNow.Add(-6*time.Hour)))
	out, err := obsRun(t, verify.ThanosBlocks(), env)
	require.NoError(t, err)
	assert.Empty(t, out.Problems)
	assert.Equal(t, "3 blocks loaded; newest 01JDQ9Q4K2W3E5R6T7Y8U9I0OP ends 2026-11-30T10:01:00Z (3h59m0s ago)", out.Observed)
}

func TestVerifyThanosBlocksStale(t *testing.T) {
	env := thanosEnv(t, thanosBlocks(obsNow.Add(-30*time.Hour), obsNow.Add(-4*time.Hour)))
	out, err := obsRun(t, verify.ThanosBlocks(), env)
	require.NoError(t, err)
	require.Len(t, out.Problems, 1)
	assert.Equal(t, "Thanos store gateway monitoring/thanos-store-gateway-headless:10902: newest block 01JDQ9Q4K2W3E5R6T7Y8U9I0OP ends 2026-11-30T10:00:00Z, 4h0m0s ago (limit 4h0m0s): are the sidecars uploading?", out.Problems[0])
}

func TestVerifyThanosBlocksNone(t *testing.T) {
	out, err := obsRun(t, verify.ThanosBlocks(), thanosEnv(t, thanosBlocks()))
	require.NoError(t, err)
	require.Len(t, out.Problems, 1)
	assert.Contains(t, out.Problems[0], "no blocks loaded")
}

func TestVerifyThanosBlocksErrors(t *testing.T) {
	for body, want := range map[string]string{
		`{"status":"success"}`:                     "the answer has no data",
		`{"status":"success","data":{"blocks":3}}`: "unexpected data",
		`404 page not found`:                       "the answer is not the API's JSON",
	} {
		_, err := obsRun(t, verify.ThanosBlocks(), thanosEnv(t, body))
		assert.ErrorContains(t, err, "Thanos store gateway monitoring/thanos-store-gateway-headless:10902 /api/v1/blocks: "+want)
	}
	// No Thanos release: an error naming the chart.
	s := apistandin.New(t)
	_, err := obsRun(t, verify.ThanosBlocks(), obsEnv(t, s, kpsRelease()))
	assert.ErrorContains(t, err, "installs no thanos chart")
}
