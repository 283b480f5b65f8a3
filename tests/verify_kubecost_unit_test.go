package tests

import (
	"encoding/json"
	"github.com/tars-platform/infra/tests/apistandin"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/verify"
)

// allocation is one namespace's allocation (OpenCost API docs,
// "/allocation"; Kubecost's /model/allocation is the same model).
func kcAllocation(name string, total float64) map[string]any {
	return map[string]any{
		"name": name, "properties": map[string]any{"cluster": "tars-us-east", "namespace": name},
		"window": map[string]any{"start": "2026-11-29T14:00:00Z", "end": "2026-11-30T14:00:00Z"},
		"start":  "2026-11-29T14:00:00Z", "end": "2026-11-30T14:00:00Z", "minutes": 1440,
		"cpuCores": 0.25, "cpuCost": total * 0.6, "ramBytes": 536870912, "ramCost": total * 0.4,
		"pvCost": 0, "networkCost": 0, "loadBalancerCost": 0, "sharedCost": 0, "externalCost": 0, "totalCost": total, "totalEfficiency": 0.4,
	}
}

func kcAllocations(sets ...map[string]any) string {
	b, _ := json.Marshal(map[string]any{"code": 200, "data": sets})
	return string(b)
}

func kubecostEnv(t *testing.T, h http.Handler) *verify.Env {
	s := apistandin.New(t)
	s.Service("kubecost", "kubecost-frontend", "9090", obsAPI(map[string]http.Handler{
		"/model/allocation": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			assert.Equal(t, "1d", r.URL.Query().Get("window"))
			assert.Equal(t, "namespace", r.URL.Query().Get("aggregate"))
			h.ServeHTTP(w, r)
		}),
	}))
	return obsEnv(t, s, obsRelease("kubecost", "kubecost", "kubecost", "3.2.1", nil))
}

func TestVerifyKubecostAllocationPass(t *testing.T) {
	env := kubecostEnv(t, obsJSON(200, kcAllocations(map[string]any{
		"__idle__": kcAllocation("__idle__", 3.5), "monitoring": kcAllocation("monitoring", 12.25), "tars": kcAllocation("tars", 4), "kube-system": kcAllocation("kube-system", 1),
	})))
	out, err := obsRun(t, verify.KubecostAllocation(), env)
	require.NoError(t, err)
	assert.Empty(t, out.Problems)
	assert.Equal(t, "4 of 4 allocations cost > $0, $20.75 over 1d; top: monitoring $12.25, tars $4.00, __idle__ $3.50", out.Observed)
}

func TestVerifyKubecostAllocationFail(t *testing.T) {
	for name, tc := range map[string]struct {
		body, want string
	}{
		"zero cost": {kcAllocations(map[string]any{"tars": kcAllocation("tars", 0)}), "1 allocations over 1d, none with totalCost > 0"},
		"empty set": {kcAllocations(map[string]any{}), "0 allocations over 1d, none with totalCost > 0"},
		"null set":  {`{"code":200,"data":[null]}`, "0 allocations over 1d"},
		"no data":   {`{"code":200,"data":[]}`, "0 allocations over 1d"},
		"code 500":  {`{"code":500,"message":"error computing allocation for 1d: no data"}`, "code 500: error computing allocation"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := obsRun(t, verify.KubecostAllocation(), kubecostEnv(t, obsJSON(200, tc.body)))
			require.NoError(t, err)
			require.Len(t, out.Problems, 1)
			assert.Contains(t, out.Problems[0], "Kubecost kubecost/kubecost-frontend:9090 /model/allocation: ")
			assert.Contains(t, out.Problems[0], tc.want)
		})
	}
}

func TestVerifyKubecostAllocationErrors(t *testing.T) {
	// The aggregator failing behind the frontend: an HTTP 500.
	_, err := obsRun(t, verify.KubecostAllocation(), kubecostEnv(t, obsJSON(500, `{"code":500,"message":"aggregator not ready"}`)))
	assert.ErrorContains(t, err, "Kubecost kubecost/kubecost-frontend:9090 /model/allocation: ")
	assert.ErrorContains(t, err, "aggregator not ready")
	_, err = obsRun(t, verify.KubecostAllocation(), kubecostEnv(t, obsJSON(200, `<html>loading</html>`)))
	assert.ErrorContains(t, err, "not the API's JSON")
	_, err = obsRun(t, verify.KubecostAllocation(), obsEnv(t, apistandin.New(t), kpsRelease()))
	assert.ErrorContains(t, err, "neither kubecost nor opencost")
}

// OpenCost instead of Kubecost: its API Service and /allocation.
func TestVerifyKubecostAllocationOpenCost(t *testing.T) {
	s := apistandin.New(t)
	s.Service("opencost", "opencost", "9003", obsAPI(map[string]http.Handler{"/allocation": obsJSON(200, kcAllocations(map[string]any{"tars": kcAllocation("tars", 2)}))}))
	out, err := obsRun(t, verify.KubecostAllocation(), obsEnv(t, s, obsRelease("opencost", "opencost", "opencost", "2.5.17", nil)))
	require.NoError(t, err)
	assert.Empty(t, out.Problems)
	assert.Contains(t, out.Expected, "OpenCost answers /allocation?aggregate=namespace&window=1d")
}
