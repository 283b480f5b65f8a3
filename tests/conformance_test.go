package tests

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/internal/helmchart"
	"github.com/tars-platform/infra/tests/charttier"
	"github.com/tars-platform/infra/tests/harness"
	"github.com/tars-platform/infra/tests/kubeapi"
)

// The API server is started once per test binary, on first use, and
// stopped by TestMain.
var (
	apiOnce   sync.Once
	apiServer *kubeapi.Server
	apiErr    error
	apiCRDs   int
)

func TestMain(m *testing.M) {
	code := m.Run()
	if apiServer != nil {
		apiServer.Stop()
	}
	os.Exit(code)
}

// kubeAPI returns the shared server with the operators' CRDs installed. It
// fails the test when the servers cannot be built or started, and skips only
// when TARS_SKIP_CONFORMANCE=1.
func kubeAPI(t *testing.T) *kubeapi.Server {
	t.Helper()
	if os.Getenv(kubeapi.SkipEnv) == "1" {
		t.Skipf("%s=1: conformance tier skipped", kubeapi.SkipEnv)
	}
	apiOnce.Do(func() {
		start := time.Now()
		root, err := harness.ProjectDir()
		if err != nil {
			apiErr = err
			return
		}
		bins, err := kubeapi.EnsureBinaries(root)
		if err != nil {
			apiErr = err
			return
		}
		built := time.Since(start)
		apiServer, apiErr = kubeapi.Start(bins, 90*time.Second)
		if apiErr != nil {
			return
		}
		ready := time.Since(start)
		apiCRDs, apiErr = apiServer.InstallCRDs(context.Background())
		t.Logf("conformance servers: binaries %s, ready %s, %d CRDs installed %s",
			built.Round(time.Millisecond), ready.Round(time.Millisecond), apiCRDs, time.Since(start).Round(time.Millisecond))
	})
	require.NoError(t, apiErr, "conformance servers")
	return apiServer
}

// TestConformanceStacks applies every Kubernetes object of each real stack
// to the API server with server-side dry-run: namespaces for real first,
// then everything else with dryRun=All.
func TestConformanceStacks(t *testing.T) {
	t.Parallel() // slow and independent: runs beside the other slow tiers
	srv := kubeAPI(t)
	ctx := context.Background()
	for _, stack := range Stacks {
		t.Run(stack, func(t *testing.T) {
			// The CRDs the stack's charts ship, so the program's own custom
			// resources of those kinds are checked against them.
			rendered := renderStack(t, stack)
			_, err := installChartCRDs(ctx, srv, rendered.releases)
			require.NoError(t, err)
			manifests, err := charttier.ProgramManifests(rendered.graph)
			require.NoError(t, err)
			require.NotEmpty(t, manifests)
			kinds := map[string]int{}
			for _, m := range manifests {
				err := srv.Apply(ctx, m.Object, m.Object["kind"] != "Namespace")
				assert.NoError(t, err, "%s (%s)", m.ID(), m.URN)
				kinds[m.Object["kind"].(string)]++
			}
			t.Logf("%s: %d objects accepted by kube-apiserver %s: %v", stack, len(manifests), versions.KubeAPIServer, kinds)
		})
	}
}

// TestConformanceNegative proves the check can fail: the server rejects an
// invalid label value, a negative replica count and an unknown field in a
// custom resource's spec.
func TestConformanceNegative(t *testing.T) {
	srv := kubeAPI(t)
	ctx := context.Background()
	cases := []struct {
		name string
		obj  map[string]any
		want string
	}{
		{"invalid label value", map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "bad-label", "labels": map[string]any{"tier": "not a valid/label value!"}},
		}, "metadata.labels"},
		{"negative replicas", map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "negative"},
			"spec": map[string]any{"replicas": -1,
				"selector": map[string]any{"matchLabels": map[string]any{"app": "x"}},
				"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "x"}},
					"spec": map[string]any{"containers": []any{map[string]any{"name": "x", "image": "busybox:1.36"}}}}},
		}, "spec.replicas"},
		{"unknown field in a custom resource spec", map[string]any{
			"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
			"metadata": map[string]any{"name": "bogus"},
			"spec":     map[string]any{"groups": []any{}, "bogus": true},
		}, ".spec.bogus: field not declared in schema"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := srv.Apply(ctx, tc.obj, true)
			var rej *kubeapi.Rejection
			require.True(t, errors.As(err, &rej), "want a rejection, got %v", err)
			assert.Contains(t, rej.Reason, tc.want)
		})
	}
}

// TestConformanceOperatorObjectsAccepted: realistic objects of each
// operator whose CRDs are installed pass, so the negative test's
// rejections are about the defects, not about missing CRDs.
func TestConformanceOperatorObjectsAccepted(t *testing.T) {
	srv := kubeAPI(t)
	ctx := context.Background()
	objs := []map[string]any{
		{"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": map[string]any{"name": "ok"},
			"spec": map[string]any{"groups": []any{map[string]any{"name": "g", "rules": []any{map[string]any{
				"alert": "Up", "expr": "up == 0", "for": "1m", "labels": map[string]any{"severity": "P0"}}}}}}},
		{"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler", "metadata": map[string]any{"name": "ok"},
			"spec": map[string]any{"targetRef": map[string]any{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "redis"},
				"updatePolicy": map[string]any{"updateMode": "Initial"}}},
		{"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": map[string]any{"name": "ok"},
			"spec": map[string]any{"instances": 2, "storage": map[string]any{"size": "100Gi"},
				"plugins": []any{map[string]any{"name": "barman-cloud.cloudnative-pg.io", "isWALArchiver": true,
					"parameters": map[string]any{"barmanObjectName": "wal"}}}}},
		{"apiVersion": "barmancloud.cnpg.io/v1", "kind": "ObjectStore", "metadata": map[string]any{"name": "wal"},
			"spec": map[string]any{"retentionPolicy": "30d", "configuration": map[string]any{"destinationPath": "s3://tars-wal/",
				"s3Credentials": map[string]any{"inheritFromIAMRole": true}}}},
	}
	for _, o := range objs {
		assert.NoError(t, srv.Apply(ctx, o, true), "%s", o["kind"])
	}
}

// TestConformanceCRDVersionsMatchCharts: three independent facts agree
// for each operator whose CRDs the tiers install: the appVersion in the
// chart archive's own Chart.yaml (the mirror), the module version the CRD
// table pins (and the release that module's source declares), and the tag
// of the operator image the rendered chart runs.
func TestConformanceCRDVersionsMatchCharts(t *testing.T) {
	if os.Getenv(kubeapi.SkipEnv) == "1" {
		t.Skipf("%s=1", kubeapi.SkipEnv)
	}
	images := map[string]string{} // repository → tag, as rendered
	imgs, err := charttier.Images(context.Background(), renderStack(t, "us-east").graph, chartsDir(t))
	require.NoError(t, err)
	for _, img := range helmchart.ImageRefs(imgs) {
		ref, _, _ := strings.Cut(img, "@")
		if i := strings.LastIndex(ref, ":"); i > 0 {
			images[ref[:i]] = ref[i+1:]
		}
	}
	for _, src := range kubeapi.CRDSources {
		ch, err := helmchart.Load(chartsDir(t), charttier.Ref(src.Chart))
		require.NoError(t, err)
		app := strings.TrimPrefix(ch.Metadata.AppVersion, "v")
		assert.Equal(t, app, strings.TrimPrefix(src.ModuleVersion(), "v"), "%s's archive runs %s; the CRD table pins %s@%s", src.Chart.Name, app, src.Module, src.ModuleVersion())
		got, err := src.DeclaredVersion()
		require.NoError(t, err, src.Module)
		assert.Equal(t, app, got, "%s@%s declares release %s", src.Module, src.ModuleVersion(), got)
		tag, ok := images[src.Image]
		require.True(t, ok, "%s: no rendered image %s", src.Chart.Name, src.Image)
		assert.Equal(t, app, strings.TrimPrefix(tag, "v"), "%s renders %s:%s", src.Chart.Name, src.Image, tag)
		crds, err := src.CRDs()
		require.NoError(t, err)
		assert.NotEmpty(t, crds, src.Module)
	}
	for file, want := range map[string]string{
		"../tools/kubeserver/apiserver/go.mod": "k8s.io/kubernetes " + versions.KubeAPIServer,
		"../tools/kubeserver/etcd/go.mod":      "go.etcd.io/etcd/server/v3 " + versions.Etcd,
	} {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.Contains(t, string(b), want, file)
	}
	minor := regexp.MustCompile(`^v(\d+\.\d+)\.`).FindStringSubmatch(versions.KubeAPIServer)
	require.NotNil(t, minor)
	assert.Equal(t, versions.KubernetesDefault, minor[1], "the API server runs the clusters' Kubernetes minor")
	assert.True(t, strings.HasPrefix(versions.Etcd, "v3.5."))
}
