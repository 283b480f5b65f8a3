package tests

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/chart"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/internal/helmchart"
	"github.com/tars-platform/infra/internal/podsecurity"
	"github.com/tars-platform/infra/tests/charttier"
	"github.com/tars-platform/infra/tests/harness"
	"helm.sh/helm/v3/pkg/repo"
)

// blockValues is a values struct of the kind components write.
type blockValues struct {
	ReplicaCount int                `json:"replicaCount"`
	Optional     string             `json:"optional,omitempty"`
	Skipped      string             `json:"-"`
	Nested       *blockNested       `json:"nested,omitempty"`
	Labels       map[string]string  `json:"labels"`
	Tolerations  []string           `json:"tolerations"`
	VpcID        pulumi.StringInput `json:"vpcId"`
	Password     pulumi.StringInput `json:"password,omitempty"`
}

type blockNested struct {
	Enabled bool `json:"enabled"`
}

func testOIDC() cluster.OIDC {
	return cluster.OIDC{
		ProviderArn: pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC").ToStringOutput(),
		IssuerURL:   pulumi.String("https://oidc.eks.us-east-1.amazonaws.com/id/ABC").ToStringOutput(),
	}
}

// runBlock runs chart.New alone under the harness.
func runBlock(t *testing.T, args chart.Args) (*harness.Graph, error) {
	t.Helper()
	return runRecovering(t, "us-east", harness.WithProgram(func(ctx *pulumi.Context) error {
		_, err := chart.New(ctx, "blk", args)
		return err
	}))
}

// TestChartBlockRelease: typed values become the release's values as
// encoding/json would write them (a nil list is left out, not null),
// outputs of other resources included and
// secrets still secret; the release is pinned, waits for its namespace,
// and with IRSA the service account's name and role annotation are set.
func TestChartBlockRelease(t *testing.T) {
	g, err := runBlock(t, chart.Args{
		Chart:       versions.CertManager,
		Namespace:   "blk",
		PodSecurity: podsecurity.Policy{Level: podsecurity.Baseline, Reason: "blk needs it"},
		Values: blockValues{
			ReplicaCount: 2, Skipped: "never", Labels: map[string]string{"a": "b"},
			VpcID:    pulumi.String("vpc-1").ToStringOutput(),
			Password: pulumi.ToSecret(pulumi.String("hunter2")).(pulumi.StringOutput),
		},
		IRSA: &chart.IRSA{
			OIDC: testOIDC(), Partition: "aws", ServiceAccount: "blk-sa",
			ManagedPolicies: []string{"AmazonS3ReadOnlyAccess"},
		},
	})
	require.NoError(t, err)
	rel := one(t, g, charttier.ReleaseType, "blk")
	in := rel.PlainInputs()
	assert.Equal(t, "cert-manager", in["name"], "release name defaults to the chart name")
	assert.Equal(t, "v1.21.1", in["version"])
	assert.Equal(t, "https://charts.jetstack.io", in["repositoryOpts"].(map[string]any)["repo"])
	assert.Equal(t, map[string]any{
		"replicaCount": 2.0, "labels": map[string]any{"a": "b"}, "vpcId": "vpc-1", "password": "hunter2",
		"serviceAccount": map[string]any{
			"create": true, "name": "blk-sa",
			"annotations": map[string]any{"eks.amazonaws.com/role-arn": harness.MockRoleArn("blk-irsa")},
		},
	}, in["values"])
	shown := rel.JSONInputs()["values"].(map[string]any)
	assert.Equal(t, harness.SecretMarker, shown["password"], "a secret value stays a Pulumi secret inside the values")
	ns := one(t, g, "kubernetes:core/v1:Namespace", "blk-namespace")
	assert.Contains(t, rel.Dependencies, ns.URN)
	assert.Equal(t, "baseline", get(ns.PlainInputs(), "metadata.labels").(map[string]any)["pod-security.kubernetes.io/enforce"], "the namespace carries its Pod Security level")
	assert.Equal(t, "blk needs it", get(ns.PlainInputs(), "metadata.annotations").(map[string]any)["tars.io/pod-security-reason"])
	role := one(t, g, "aws:iam/role:Role", "blk-irsa")
	assert.Contains(t, role.PlainInputs()["assumeRolePolicy"], `"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub":"system:serviceaccount:blk:blk-sa"`)

	// A built-in namespace is never created, a shared one is waited for.
	g, err = runBlock(t, chart.Args{Chart: versions.CertManager, Namespace: "kube-system"})
	require.NoError(t, err)
	assert.Empty(t, g.ByType("kubernetes:core/v1:Namespace"))
}

// TestChartBlockArgsValidated: bad args are refused before anything is
// registered, with every problem named; nothing panics.
func TestChartBlockArgsValidated(t *testing.T) {
	type badValues struct {
		NoTag string
	}
	type funcValues struct {
		Hook func() `json:"hook"`
	}
	type clash struct {
		ServiceAccount map[string]string `json:"serviceAccount"`
	}
	wildcard := cluster.NewPolicy(cluster.PolicyStatement{Sid: "All", Action: []string{"s3:*"}, Resource: []string{"*"}})
	cases := []struct {
		name string
		args chart.Args
		want []string
	}{
		{"no chart", chart.Args{Namespace: "x"}, []string{`chart blk: invalid args: chart ({Name: Repository: Version: AppVersion:}) must name a pinned chart`}},
		{"bad names", chart.Args{Chart: versions.CertManager, Namespace: "Bad_NS", ReleaseName: strings.Repeat("r", 54), Timeout: 10 * time.Second}, []string{
			`releaseName ("` + strings.Repeat("r", 54) + `") must be a DNS label of at most 53 characters`,
			`namespace ("Bad_NS") must be a Kubernetes namespace name`,
			`timeout (10s) must be at least 1m`,
		}},
		{"irsa incomplete", chart.Args{Chart: versions.CertManager, Namespace: "x", IRSA: &chart.IRSA{ServiceAccount: "Bad SA"}}, []string{
			"irsa.partition is required", `irsa.serviceAccount ("Bad SA") must be a Kubernetes service account name`,
			"irsa.policy is required unless irsa.managedPolicies are given",
		}},
		{"irsa wildcard", chart.Args{Chart: versions.CertManager, Namespace: "x", IRSA: &chart.IRSA{OIDC: testOIDC(), Partition: "aws", ServiceAccount: "sa",
			Policy: &wildcard}}, []string{`irsa.policy policy statement All allows wildcard action "s3:*"; name each action`}},
		{"field without json tag", chart.Args{Chart: versions.CertManager, Namespace: "x", Values: badValues{NoTag: "x"}}, []string{
			"chart blk: values.NoTag: field has no json tag naming its chart key",
		}},
		{"func value", chart.Args{Chart: versions.CertManager, Namespace: "x", Values: funcValues{Hook: func() {}}}, []string{
			"chart blk: values.hook: a func() cannot be a chart value",
		}},
		{"values not a struct", chart.Args{Chart: versions.CertManager, Namespace: "x", Values: 3}, []string{
			"chart blk: values must be a struct or a map, not int",
		}},
		// The Go SDK expands a component dependency into the children it
		// has registered so far, concurrently with their registration: the
		// release could be installed before them (CI saw the controller's
		// release not waiting for cert-manager).
		{"depends on a component", chart.Args{Chart: versions.CertManager, Namespace: "x", DependsOn: []pulumi.Resource{&chart.Release{}},
			NamespaceResource: &chart.Release{}}, []string{
			"dependsOn[0] (*chart.Release) is not a custom resource: depend on what it creates",
			"namespaceResource (*chart.Release) is not a custom resource",
		}},
		{"irsa name clash", chart.Args{Chart: versions.CertManager, Namespace: "x",
			Values: clash{ServiceAccount: map[string]string{"name": "other"}},
			IRSA:   &chart.IRSA{OIDC: testOIDC(), Partition: "aws", ServiceAccount: "sa", ManagedPolicies: []string{"AmazonS3ReadOnlyAccess"}}}, []string{
			"irsa: values.serviceAccount.name is set by the component and by the chart block",
		}},
		{"namespace without pod security", chart.Args{Chart: versions.CertManager, Namespace: "x", PodSecurity: podsecurity.Policy{Level: "none"}}, []string{
			`podSecurity of namespace x, which the block creates: pod security level "none": want restricted, baseline or privileged`,
		}},
		{"privileged without a reason", chart.Args{Chart: versions.CertManager, Namespace: "x", PodSecurity: podsecurity.Policy{Level: podsecurity.Privileged}}, []string{
			"podSecurity of namespace x, which the block creates: pod security level privileged needs a reason",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.args.PodSecurity.Level == "" {
				tc.args.PodSecurity = podsecurity.Policy{Level: podsecurity.Restricted}
			}
			g, err := runBlock(t, tc.args)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Empty(t, g.Resources, "nothing is registered")
		})
	}
}

// TestChartsPullFromARepository runs the pull against a Helm repository
// served on loopback from the mirror's archives (what `tarsctl charts pull
// --repository` does against an internal mirror): every pinned archive
// arrives, verified; a second pull keeps them; a chart the repository
// lacks fails with its name.
func TestChartsPullFromARepository(t *testing.T) {
	src := chartsDir(t)
	repoDir := t.TempDir()
	for _, c := range versions.Charts {
		b, err := os.ReadFile(filepath.Join(src, c.Archive()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(repoDir, c.Archive()), b, 0o644))
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(repoDir))) // 127.0.0.1
	defer srv.Close()
	idx, err := repo.IndexDirectory(repoDir, srv.URL)
	require.NoError(t, err)
	require.NoError(t, idx.WriteFile(filepath.Join(repoDir, "index.yaml"), 0o644))

	dest := t.TempDir()
	start := time.Now()
	for _, c := range versions.Charts {
		res, err := helmchart.Pull(charttier.Ref(c), dest, srv.URL)
		require.NoError(t, err, c.Archive())
		assert.False(t, res.Present)
		_, err = helmchart.Load(dest, charttier.Ref(c))
		assert.NoError(t, err)
	}
	t.Logf("pulled %d archives from a loopback repository in %s", len(versions.Charts), time.Since(start).Round(time.Millisecond))
	res, err := helmchart.Pull(charttier.Ref(versions.CertManager), dest, srv.URL)
	require.NoError(t, err)
	assert.True(t, res.Present, "a valid archive is kept")

	missing := charttier.Ref(versions.CertManager)
	missing.Version = "v0.0.1"
	_, err = helmchart.Pull(missing, t.TempDir(), srv.URL)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cert-manager v0.0.1")
}
