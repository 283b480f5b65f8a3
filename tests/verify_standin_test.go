package tests

import (
	"context"
	"encoding/json"
	"github.com/tars-platform/infra/tests/apistandin"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/verify"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestVerifyAPIServerStandIn(t *testing.T) {
	s := apistandin.New(t)
	s.Service("monitoring", "prom", "9090", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"path": r.URL.Path, "q": r.URL.Query().Get("query")})
	}))
	s.Objects("configmaps/v1", map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"namespace": "kube-system", "name": "a"}})
	c := s.Cluster(t)
	ctx := context.Background()
	body, err := c.ServiceGet(ctx, verify.Service{Namespace: "monitoring", Name: "prom", Port: "9090"}, "/api/v1/query", url.Values{"query": {"up == 1"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"path":"/api/v1/query","q":"up == 1"}`, string(body))
	_, err = c.ServiceGet(ctx, verify.Service{Namespace: "monitoring", Name: "nothing", Port: "80"}, "/", nil)
	assert.ErrorContains(t, err, "no endpoints available")
	cm := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	l, err := c.List(ctx, cm, "")
	require.NoError(t, err)
	assert.Len(t, l, 1)
	o, err := c.Get(ctx, cm, "kube-system", "a")
	require.NoError(t, err)
	assert.Equal(t, "ConfigMap", o["kind"])
	_, err = c.Get(ctx, cm, "kube-system", "b")
	assert.ErrorIs(t, err, verify.ErrNotFound)
	_, err = c.List(ctx, schema.GroupVersionResource{Group: "autoscaling.k8s.io", Version: "v1", Resource: "verticalpodautoscalers"}, "")
	assert.ErrorIs(t, err, verify.ErrNotFound)
}
