package tests

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/policy/rules"
	"github.com/tars-platform/infra/tests/harness"
)

// The three policies of issue #25 ("Nothing stateful is lost by a mistake").
const (
	polProtected   = "stateful-resources-protected"
	polRetained    = "data-claims-retained"
	polForceDelete = "buckets-never-force-destroy"
)

var statefulPolicyNames = []string{polProtected, polRetained, polForceDelete}

// protect sets the protect option as the engine reports it to policies.
func protect(r policyx.AnalyzerResource, on bool) policyx.AnalyzerResource {
	r.Options.Protect = on
	return r
}

// classes are the stack's two StorageClasses: the default one deletes its
// volumes, the other retains them.
func classes() []policyx.AnalyzerResource {
	return []policyx.AnalyzerResource{
		fixture("kubernetes:storage.k8s.io/v1:StorageClass", "gp3-encrypted", map[string]any{
			"metadata":      map[string]any{"name": "gp3-encrypted", "annotations": map[string]any{"storageclass.kubernetes.io/is-default-class": "true"}},
			"reclaimPolicy": "Delete",
		}),
		fixture("kubernetes:storage.k8s.io/v1:StorageClass", "gp3-encrypted-retain", map[string]any{
			"metadata":      map[string]any{"name": "gp3-encrypted-retain"},
			"reclaimPolicy": "Retain",
		}),
	}
}

func bucket(name string, props map[string]any) policyx.AnalyzerResource {
	return fixture("aws:s3/bucketV2:BucketV2", name, props)
}

func claimSet(name, ns, class string) policyx.AnalyzerResource {
	spec := map[string]any{"accessModes": []any{"ReadWriteOnce"}, "resources": map[string]any{"requests": map[string]any{"storage": "20Gi"}}}
	if class != "" {
		spec["storageClassName"] = class
	}
	return fixture("kubernetes:apps/v1:StatefulSet", name, map[string]any{
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"volumeClaimTemplates": []any{map[string]any{"metadata": map[string]any{"name": "data"}, "spec": spec}}},
	})
}

func namespace(logical, name string) policyx.AnalyzerResource {
	return fixture("kubernetes:core/v1:Namespace", logical, map[string]any{"metadata": map[string]any{"name": name}})
}

func record(name string) policyx.AnalyzerResource {
	return fixture("aws:route53/record:Record", name, map[string]any{"name": "api.tars.example.com", "type": "A"})
}

func kmsKey(name string, days int) policyx.AnalyzerResource {
	return fixture("aws:kms/key:Key", name, map[string]any{"enableKeyRotation": true, "deletionWindowInDays": days})
}

func pgCluster(storage, wal string) policyx.AnalyzerResource {
	spec := map[string]any{"instances": 3, "storage": map[string]any{"size": "100Gi", "storageClass": storage}}
	if wal != "-" {
		w := map[string]any{"size": "20Gi"}
		if wal != "" {
			w["storageClass"] = wal
		}
		spec["walStorage"] = w
	}
	return fixture("kubernetes:postgresql.cnpg.io/v1:Cluster", "us-east-postgres-cluster", map[string]any{
		"metadata": map[string]any{"name": "tars-pg-us-east", "namespace": "tars-postgres"}, "spec": spec,
	})
}

func release(name, chart string, values map[string]any) policyx.AnalyzerResource {
	return fixture("kubernetes:helm.sh/v3:Release", name, map[string]any{"chart": chart, "namespace": "monitoring", "values": values})
}

func lokiOn(class string) policyx.AnalyzerResource {
	return release("us-east-monitoring-loki", "loki", map[string]any{"singleBinary": map[string]any{
		"persistence": map[string]any{"enabled": true, "size": "50Gi", "storageClass": class}}})
}

func withAll(rs ...policyx.AnalyzerResource) []policyx.AnalyzerResource {
	return append(classes(), rs...)
}

// TestPolicyStatefulFailAndPass: each of the three policies fails on a bad
// fixture, naming what is wrong, and passes on the good one.
func TestPolicyStatefulFailAndPass(t *testing.T) {
	computedClass := fixture("kubernetes:core/v1:PersistentVolumeClaim", "computed", map[string]any{
		"metadata": map[string]any{"name": "computed", "namespace": "tars"},
		"spec":     map[string]any{"storageClassName": resource.MakeComputed(resource.NewStringProperty(""))},
	})
	cases := []struct {
		name, policy string
		fail, pass   []policyx.AnalyzerResource
		want         []string
	}{
		{"unprotected bucket", polProtected,
			[]policyx.AnalyzerResource{protect(bucket("us-east-reports", nil), false)},
			[]policyx.AnalyzerResource{protect(bucket("us-east-reports", nil), true)},
			[]string{"aws:s3/bucketV2:BucketV2 us-east-reports is stateful (an S3 bucket", "set tars:protect: true in the stack file"}},
		{"unprotected StatefulSet with claims", polProtected,
			withAll(protect(claimSet("us-east-redis", "tars-data", "gp3-encrypted-retain"), false), protect(namespace("ns", "tars-data"), true)),
			withAll(protect(claimSet("us-east-redis", "tars-data", "gp3-encrypted-retain"), true), protect(namespace("ns", "tars-data"), true),
				// A StatefulSet without claims holds nothing.
				statefulSet("stateless", container("app", true, true))),
			[]string{"kubernetes:apps/v1:StatefulSet us-east-redis is stateful (a StatefulSet with volume claim templates owns data volumes) but not protected"}},
		{"unprotected data namespace", polProtected,
			withAll(protect(claimSet("us-east-redis", "tars-data", "gp3-encrypted-retain"), true), namespace("us-east-redis-namespace", "tars-data")),
			withAll(protect(claimSet("us-east-redis", "tars-data", "gp3-encrypted-retain"), true), protect(namespace("us-east-redis-namespace", "tars-data"), true),
				// A namespace without data claims is not stateful.
				namespace("us-east-addons-cert-manager-namespace", "cert-manager")),
			[]string{"kubernetes:core/v1:Namespace us-east-redis-namespace is stateful (deleting a namespace deletes every volume claim in it)"}},
		{"namespace of a chart's data claim", polProtected,
			withAll(lokiOn("gp3-encrypted-retain"), namespace("us-east-monitoring-namespace", "monitoring")),
			withAll(lokiOn("gp3-encrypted-retain"), protect(namespace("us-east-monitoring-namespace", "monitoring"), true)),
			[]string{"Namespace us-east-monitoring-namespace is stateful"}},
		{"unprotected own record", polProtected,
			[]policyx.AnalyzerResource{protect(record("us-east-edge-failover"), false), protect(record("us-east-edge-geo-TX"), true)},
			[]policyx.AnalyzerResource{protect(record("us-east-edge-failover"), true), protect(record("us-east-edge-geo-TX"), true),
				// The geo default moves between stacks; validation records are rebuilt at will.
				record("us-east-edge-geo-default"), record("us-east-edge-validation-api.tars.example.com")},
			[]string{"aws:route53/record:Record us-east-edge-failover is stateful (the region's own DNS records"}},
		{"unprotected geo record", polProtected,
			[]policyx.AnalyzerResource{record("us-east-edge-geo-TX"), record("us-east-edge-geo-default")},
			[]policyx.AnalyzerResource{protect(record("us-east-edge-geo-TX"), true), record("us-east-edge-geo-default")},
			[]string{"us-east-edge-geo-TX is stateful"}},
		{"KMS key deletion window 7 days", polProtected,
			[]policyx.AnalyzerResource{protect(kmsKey("us-east-reports-key", 7), true)},
			[]policyx.AnalyzerResource{protect(kmsKey("us-east-reports-key", 30), true)},
			[]string{"KMS key us-east-reports-key has deletionWindowInDays 7, want 30"}},
		{"unprotected KMS key", polProtected,
			[]policyx.AnalyzerResource{kmsKey("us-east-secrets", 30)},
			[]policyx.AnalyzerResource{protect(kmsKey("us-east-secrets", 30), true)},
			[]string{"aws:kms/key:Key us-east-secrets is stateful (a KMS key"}},
		{"CNPG Cluster on the Delete class", polRetained,
			withAll(pgCluster("gp3-encrypted", "gp3-encrypted-retain")),
			withAll(pgCluster("gp3-encrypted-retain", "gp3-encrypted-retain")),
			[]string{"kubernetes:postgresql.cnpg.io/v1:Cluster us-east-postgres-cluster claim spec.storage.storageClass is on StorageClass gp3-encrypted with reclaimPolicy Delete"}},
		{"CNPG WAL on the default class", polRetained,
			withAll(pgCluster("gp3-encrypted-retain", "")),
			withAll(pgCluster("gp3-encrypted-retain", "-")),
			[]string{"claim spec.walStorage.storageClass is on StorageClass gp3-encrypted with reclaimPolicy Delete"}},
		{"Loki release on the Delete class", polRetained,
			withAll(lokiOn("gp3-encrypted")),
			withAll(lokiOn("gp3-encrypted-retain"),
				// Scratch: the compactor's work area and Kubecost's database.
				release("us-east-monitoring-thanos", "thanos", map[string]any{"compact": map[string]any{"persistence": map[string]any{"enabled": true, "storageClass": "gp3-encrypted"}}}),
				release("us-east-costs-kubecost", "kubecost", map[string]any{"global": map[string]any{"defaultStorageClass": "gp3-encrypted"}}),
				// Unknown during a preview: checked on `pulumi up`.
				computedClass),
			[]string{"kubernetes:helm.sh/v3:Release us-east-monitoring-loki claim values.singleBinary.persistence.storageClass is on StorageClass gp3-encrypted with reclaimPolicy Delete"}},
		{"Prometheus release on the Delete class", polRetained,
			withAll(release("us-east-monitoring-kube-prometheus-stack", "kube-prometheus-stack", map[string]any{"prometheus": map[string]any{"prometheusSpec": map[string]any{
				"storageSpec": map[string]any{"volumeClaimTemplate": map[string]any{"spec": map[string]any{"storageClassName": "gp3-encrypted"}}}}}})),
			withAll(release("us-east-monitoring-kube-prometheus-stack", "kube-prometheus-stack", map[string]any{"prometheus": map[string]any{"prometheusSpec": map[string]any{
				"storageSpec": map[string]any{"volumeClaimTemplate": map[string]any{"spec": map[string]any{"storageClassName": "gp3-encrypted-retain"}}}}}})),
			[]string{"claim values.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName is on StorageClass gp3-encrypted with reclaimPolicy Delete"}},
		{"Grafana volume turned on, on the Delete class", polRetained,
			withAll(release("us-east-grafana-release", "grafana", map[string]any{"persistence": map[string]any{"enabled": true, "storageClassName": "gp3-encrypted"}})),
			withAll(release("us-east-grafana-release", "grafana", map[string]any{"persistence": map[string]any{"enabled": false}})),
			[]string{"us-east-grafana-release claim values.persistence.storageClassName is on StorageClass gp3-encrypted with reclaimPolicy Delete"}},
		{"claim on a class the stack does not define", polRetained,
			withAll(claimSet("us-east-chromadb", "tars", "gp2")),
			withAll(claimSet("us-east-chromadb", "tars", "gp3-encrypted-retain")),
			[]string{`kubernetes:apps/v1:StatefulSet us-east-chromadb claim spec.volumeClaimTemplates[0] names StorageClass "gp2", which the stack does not define`}},
		{"class without reclaimPolicy deletes", polRetained,
			[]policyx.AnalyzerResource{fixture("kubernetes:storage.k8s.io/v1:StorageClass", "plain", map[string]any{"metadata": map[string]any{"name": "plain"}}), claimSet("us-east-redis", "tars-data", "plain")},
			[]policyx.AnalyzerResource{fixture("kubernetes:storage.k8s.io/v1:StorageClass", "plain", map[string]any{"metadata": map[string]any{"name": "plain"}, "reclaimPolicy": "Retain"}), claimSet("us-east-redis", "tars-data", "plain")},
			[]string{"is on StorageClass plain with reclaimPolicy Delete"}},
		{"forceDestroy", polForceDelete,
			[]policyx.AnalyzerResource{bucket("us-east-reports", map[string]any{"forceDestroy": true})},
			[]policyx.AnalyzerResource{bucket("us-east-reports", map[string]any{"forceDestroy": false}), bucket("us-east-plain", nil)},
			[]string{"bucket us-east-reports sets forceDestroy"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := evaluate(t, tc.policy, tc.fail...)
			require.NotEmpty(t, got, "the failing case passed")
			var msgs []string
			for _, v := range got {
				assert.Equal(t, policyx.EnforcementLevelMandatory, v.Level)
				msgs = append(msgs, v.Message)
			}
			for _, w := range tc.want {
				assert.Contains(t, strings.Join(msgs, "\n"), w)
			}
			assert.Empty(t, evaluate(t, tc.policy, tc.pass...), "the passing case failed")
		})
	}
}

// TestPolicyStatefulDescriptions: the three policies are mandatory, each
// with its own sentence.
func TestPolicyStatefulDescriptions(t *testing.T) {
	seen := map[string]string{}
	for _, p := range rules.Policies() {
		if !slices.Contains(statefulPolicyNames, p.Name()) {
			continue
		}
		assert.Equal(t, policyx.EnforcementLevelMandatory, p.EnforcementLevel(), p.Name())
		assert.NotContains(t, seen, p.Description(), "%s repeats %s's description", p.Name(), seen[p.Description()])
		seen[p.Description()] = p.Name()
	}
	assert.Len(t, seen, len(statefulPolicyNames))
}

// statefulExpected are the stateful resources each real stack must list
// (logical names after the region prefix), by type.
var statefulExpected = map[string][]string{
	"aws:s3/bucketV2:BucketV2":                 {"postgres-wal", "monitoring-thanos", "monitoring-loki", "chromadb-snapshots", "reports"},
	"aws:kms/key:Key":                          {"secrets", "postgres-wal-key", "monitoring-thanos-key", "monitoring-loki-key", "chromadb-snapshots-key", "reports-key"},
	"aws:eks/cluster:Cluster":                  {"eks"},
	"kubernetes:postgresql.cnpg.io/v1:Cluster": {"postgres-cluster"},
	"kubernetes:apps/v1:StatefulSet":           {"redis", "chromadb"},
	"kubernetes:core/v1:Namespace":             {"redis-namespace", "postgres-namespace", "monitoring-namespace"},
	"aws:route53/record:Record":                {"edge-region", "edge-failover", "edge-latency", "edge-weighted"},
}

// claimsExpected are the data claims each real stack must find, as
// "<logical name after the prefix> <path>".
var claimsExpected = []string{
	"redis spec.volumeClaimTemplates[0]",
	"chromadb spec.volumeClaimTemplates[0]",
	"postgres-cluster spec.storage.storageClass",
	"postgres-cluster spec.walStorage.storageClass",
	"monitoring-kube-prometheus-stack values.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName",
	"monitoring-kube-prometheus-stack values.alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec.storageClassName",
	"monitoring-loki values.singleBinary.persistence.storageClass",
	"monitoring-opensearch values.persistence.storageClass",
}

// TestPolicyStatefulRealStacks: both real stacks pass the three policies;
// the stateful resources and data claims of each are printed and hold the
// expected ones.
func TestPolicyStatefulRealStacks(t *testing.T) {
	for _, stack := range Stacks {
		t.Run(stack, func(t *testing.T) {
			rs := mustRun(t, stack).PolicyResources()
			for _, p := range statefulPolicyNames {
				for _, v := range evaluate(t, p, rs...) {
					t.Errorf("%s: %s", stack, v)
				}
			}
			have := map[string]bool{}
			for _, s := range rules.StatefulResources(rs) {
				r := s.Resource
				t.Logf("%s stateful: %-42s %-60s protect=%t", stack, r.Type, r.Name, r.Options.Protect)
				have[r.Type+" "+r.Name] = true
			}
			for typ, names := range statefulExpected {
				for _, n := range names {
					assert.True(t, have[typ+" "+stack+"-"+n], "%s: %s %s-%s is not in the stateful list", stack, typ, stack, n)
				}
			}
			assert.True(t, have["aws:route53/record:Record "+stack+"-edge-geo-TX"] || have["aws:route53/record:Record "+stack+"-edge-geo-CA"], "%s: no geo record listed", stack)
			assert.False(t, have["aws:route53/record:Record "+stack+"-edge-geo-default"], "the geo default moves between stacks")
			for k := range have {
				assert.NotContains(t, k, "-validation-", "ACM validation records are not stateful")
			}
			claims := map[string]bool{}
			for _, c := range rules.DataClaims(rs) {
				t.Logf("%s data claim: %s %s %s class=%q namespace=%s", stack, c.Resource.Type, c.Resource.Name, c.Path, c.Class, c.Namespace)
				claims[strings.TrimPrefix(c.Resource.Name, stack+"-")+" "+c.Path] = true
			}
			for _, c := range claimsExpected {
				assert.True(t, claims[c], "%s: data claim %s not found", stack, c)
			}
			assert.False(t, claims["monitoring-thanos values.compact.persistence.storageClass"], "the compactor is scratch")
		})
	}
}

// TestPolicyStatefulProtectOff: a real stack run with tars:protect false
// fails stateful-resources-protected once for each stateful resource,
// naming it.
func TestPolicyStatefulProtectOff(t *testing.T) {
	for _, stack := range Stacks {
		t.Run(stack, func(t *testing.T) {
			rs := mustRun(t, stack, harness.WithConfig("tars:protect", false)).PolicyResources()
			stateful := rules.StatefulResources(rs)
			require.GreaterOrEqual(t, len(stateful), 20, "the stateful list is too short to be the real one")
			got := map[string]string{}
			for _, v := range evaluate(t, polProtected, rs...) {
				got[v.URN] = v.Message
			}
			for _, s := range stateful {
				r := s.Resource
				msg, ok := got[r.URN]
				if assert.True(t, ok, "%s %s %s is unprotected and passed", stack, r.Type, r.Name) {
					assert.Contains(t, msg, fmt.Sprintf("%s %s is stateful (%s) but not protected", r.Type, r.Name, s.Why))
				}
				delete(got, r.URN)
			}
			assert.Empty(t, got, "violations about resources that are not stateful")
		})
	}
}

// TestPolicyStatefulClaimMovedToDelete: the real us-east graph with one
// data claim moved to the Delete class fails data-claims-retained on
// exactly that resource.
func TestPolicyStatefulClaimMovedToDelete(t *testing.T) {
	for _, tc := range []struct {
		typ, name, want string
		edit            func(p map[string]any)
	}{
		{"kubernetes:apps/v1:StatefulSet", "us-east-redis", "kubernetes:apps/v1:StatefulSet us-east-redis claim spec.volumeClaimTemplates[0] is on StorageClass gp3-encrypted with reclaimPolicy Delete",
			func(p map[string]any) {
				vct := p["spec"].(map[string]any)["volumeClaimTemplates"].([]any)[0].(map[string]any)
				vct["spec"].(map[string]any)["storageClassName"] = "gp3-encrypted"
			}},
		{"kubernetes:apps/v1:StatefulSet", "us-east-chromadb", "us-east-chromadb claim spec.volumeClaimTemplates[0] is on StorageClass gp3-encrypted with reclaimPolicy Delete",
			func(p map[string]any) {
				vct := p["spec"].(map[string]any)["volumeClaimTemplates"].([]any)[0].(map[string]any)
				delete(vct["spec"].(map[string]any), "storageClassName") // the default class
			}},
		{"kubernetes:postgresql.cnpg.io/v1:Cluster", "us-east-postgres-cluster", "claim spec.walStorage.storageClass is on StorageClass gp3-encrypted with reclaimPolicy Delete",
			func(p map[string]any) {
				p["spec"].(map[string]any)["walStorage"].(map[string]any)["storageClass"] = "gp3-encrypted"
			}},
		{"kubernetes:helm.sh/v3:Release", "us-east-monitoring-opensearch", "claim values.persistence.storageClass is on StorageClass gp3-encrypted with reclaimPolicy Delete",
			func(p map[string]any) {
				p["values"].(map[string]any)["persistence"].(map[string]any)["storageClass"] = "gp3-encrypted"
			}},
		{"kubernetes:helm.sh/v3:Release", "us-east-monitoring-kube-prometheus-stack", "values.alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec.storageClassName names StorageClass \"gp2\", which the stack does not define",
			func(p map[string]any) {
				s := p["values"].(map[string]any)["alertmanager"].(map[string]any)["alertmanagerSpec"].(map[string]any)["storage"].(map[string]any)
				s["volumeClaimTemplate"].(map[string]any)["spec"].(map[string]any)["storageClassName"] = "gp2"
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := mustRun(t, "us-east").PolicyResources()
			assert.Empty(t, evaluate(t, polRetained, rs...), "the real stack passes")
			urn := editPolicyResource(t, rs, tc.typ, tc.name, tc.edit)
			vs := evaluate(t, polRetained, rs...)
			require.Len(t, vs, 1, "%v", vs)
			assert.Equal(t, urn, vs[0].URN)
			assert.Contains(t, vs[0].Message, tc.want)
		})
	}
}

// TestPolicyStatefulKindsReviewed: every entry of the reviewed lists says
// why, and the exemptions are the scratch claims the issue names.
func TestPolicyStatefulKindsReviewed(t *testing.T) {
	var types []string
	for _, k := range rules.StatefulKinds {
		assert.NotEmpty(t, k.Why, k.Type)
		assert.NotEmpty(t, k.Which, k.Type)
		types = append(types, k.Type)
	}
	sort.Strings(types)
	assert.Equal(t, []string{
		"aws:eks/cluster:Cluster", "aws:kms/key:Key", "aws:route53/record:Record", "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2",
		"kubernetes:apps/v1:StatefulSet", "kubernetes:core/v1:Namespace", "kubernetes:postgresql.cnpg.io/v1:Cluster",
	}, types)
	var charts []string
	for _, s := range rules.ScratchClaims {
		assert.NotEmpty(t, s.Why, s.Chart)
		charts = append(charts, s.Chart)
	}
	sort.Strings(charts)
	assert.Equal(t, []string{"cost-analyzer", "kubecost", "thanos"}, charts)
}
