package tests

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/grafana/alloy/syntax/ast"
	"github.com/grafana/alloy/syntax/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/tests/harness"
	"sigs.k8s.io/yaml"
)

// The logs stack (issue #15) as the charts render it with the program's
// values: seed 003's numbers are literals here.

// lokiConfig is the configuration file the Loki chart renders.
func lokiConfig(t *testing.T, p pickup) map[string]any {
	t.Helper()
	var src string
	for _, kind := range []string{"ConfigMap", "Secret"} {
		for _, o := range p.kind(kind) {
			meta := asMap(o["metadata"])
			if meta["name"] == "loki" && meta["namespace"] == "monitoring" {
				for _, k := range []string{"data", "stringData"} {
					if v, ok := asMap(o[k])["config.yaml"]; ok {
						src = fmt.Sprint(v)
					}
				}
			}
		}
	}
	require.NotEmpty(t, src, "the rendered Loki config (monitoring/loki config.yaml)")
	var cfg map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(src), &cfg))
	return cfg
}

// TestLogsLokiCarriesTheSeedSettings: the rendered Loki configuration.
func TestLogsLokiCarriesTheSeedSettings(t *testing.T) {
	for _, stack := range Stacks {
		p := stackObjects(t, stack)
		cfg := lokiConfig(t, p)
		aws := map[string]string{"us-east": "us-east-1", "us-west": "us-west-2"}[stack]
		limits := asMap(cfg["limits_config"])
		assert.Equal(t, "720h", limits["retention_period"], "%s: seed 003 retention", stack)
		assert.EqualValues(t, 10, limits["ingestion_rate_mb"], "%s: 10 MB/s", stack)
		assert.EqualValues(t, 10000, limits["max_global_streams_per_user"], "%s: 10,000 streams", stack)
		assert.EqualValues(t, 32, limits["max_query_parallelism"], "%s: query parallelism 32", stack)
		compactor := asMap(cfg["compactor"])
		assert.Equal(t, true, compactor["retention_enabled"], "%s: the compactor enforces retention", stack)
		assert.Equal(t, "s3", compactor["delete_request_store"], stack)
		assert.Equal(t, "snappy", get(cfg, "ingester.chunk_encoding"), "%s: compressed chunks", stack)
		assert.Equal(t, "24h", get(cfg, "query_range.results_cache.cache.embedded_cache.ttl"), "%s: cache TTL 24h", stack)
		assert.Equal(t, true, get(cfg, "query_range.cache_results"), stack)
		assert.EqualValues(t, 3, get(cfg, "common.replication_factor"), stack)
		assert.Equal(t, false, cfg["auth_enabled"], stack)
		assert.Equal(t, "tars-loki-"+harness.MockAccountID+"-"+aws, get(cfg, "common.storage.s3.bucketnames"), stack)
		assert.Equal(t, "s3", get(cfg, "schema_config.configs").([]any)[0].(map[string]any)["object_store"], stack)

		// The ruler reads the sidecar's files and sends to a rendered
		// Alertmanager Service.
		ruler := asMap(cfg["ruler"])
		assert.Equal(t, "local", get(ruler, "storage.type"), stack)
		assert.Equal(t, "/rules", get(ruler, "storage.local.directory"), stack)
		am := fmt.Sprint(ruler["alertmanager_url"])
		host := strings.Split(strings.TrimPrefix(am, "http://"), ".")[0]
		svc := p.named(t, "Service", host)
		assert.Contains(t, fmt.Sprint(asMap(svc["spec"])["ports"]), "port:9093", "%s: %s", stack, am)

		sts := p.named(t, "StatefulSet", "loki")
		assert.EqualValues(t, 3, asMap(sts["spec"])["replicas"], stack)
		claims := asList(asMap(sts["spec"])["volumeClaimTemplates"])
		require.Len(t, claims, 1, stack)
		assert.Equal(t, "50Gi", get(claims[0], "spec.resources.requests.storage"), "%s: seed 003's 50Gi", stack)
		assert.Equal(t, "gp3-encrypted-retain", get(claims[0], "spec.storageClassName"), "%s: the Retain class", stack)
		env := containerEnv(sts, "loki-sc-rules")
		folder, label, ns := env["FOLDER"], env["LABEL"], env["NAMESPACE"]
		assert.Equal(t, "/rules/fake", folder, "%s: the single tenant's rule directory", stack)
		assert.Equal(t, "loki_rule", label, stack)
		assert.Equal(t, "ALL", ns, stack)
		assert.Equal(t, "loki", podSpec(sts)["serviceAccountName"], "%s: the IRSA service account", stack)
	}
}

// TestLogsLokiBucket: the chunk bucket is private, encrypted, TLS-only and
// kept; Loki's role (trusted by its service account) may delete (the
// compactor applies the retention).
func TestLogsLokiBucket(t *testing.T) {
	g := mustRun(t, "us-west")
	b := one(t, g, "aws:s3/bucketV2:BucketV2", "us-west-monitoring-loki")
	assert.Equal(t, "tars-loki-"+harness.MockAccountID+"-us-west-2", b.Input("bucket"))
	assert.True(t, b.RetainOnDelete)
	pab := one(t, g, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "us-west-monitoring-loki")
	assert.Equal(t, true, pab.Input("restrictPublicBuckets"))
	assert.Contains(t, fmt.Sprint(one(t, g, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "us-west-monitoring-loki").Input("rules")), "aws:kms")
	assert.Contains(t, fmt.Sprint(one(t, g, "aws:s3/bucketPolicy:BucketPolicy", "us-west-monitoring-loki").Input("policy")), `"aws:SecureTransport":"false"`)
	assert.Contains(t, fmt.Sprint(one(t, g, "aws:iam/rolePolicy:RolePolicy", "us-west-monitoring-loki-irsa").Input("policy")), "s3:DeleteObject")
	assert.Contains(t, fmt.Sprint(one(t, g, "aws:iam/role:Role", "us-west-monitoring-loki-irsa").Input("assumeRolePolicy")), "system:serviceaccount:monitoring:loki")
}

// TestLogsRulesReachTheRuler: the log alerts' ConfigMap carries the
// sidecar's label and a rule file whose expressions are LogQL the check
// understands, with the region label.
func TestLogsRulesReachTheRuler(t *testing.T) {
	for _, stack := range Stacks {
		p := stackObjects(t, stack)
		cm := p.named(t, "ConfigMap", "tars-log-alerts")
		assert.Equal(t, "1", asMap(asMap(cm["metadata"])["labels"])["loki_rule"], stack)
		var file struct {
			Groups []struct {
				Name  string
				Rules []struct {
					Alert, Expr string
					Labels      map[string]string
				}
			}
		}
		require.NoError(t, yaml.Unmarshal([]byte(fmt.Sprint(asMap(cm["data"])["tars-log-alerts.yaml"])), &file))
		require.Len(t, file.Groups, 1)
		var names []string
		for _, r := range file.Groups[0].Rules {
			names = append(names, r.Alert)
			_, _, err := parseLogQL(r.Expr)
			assert.NoError(t, err, r.Expr)
			assert.Equal(t, stack, r.Labels["region"], r.Alert)
			assert.NotEmpty(t, r.Labels["severity"], r.Alert)
		}
		assert.ElementsMatch(t, []string{"HighErrorLogRate", "RAGQueryFailures", "AuthenticationFailures", "DatabaseConnectionErrors"}, names)
	}
}

// TestLogsAlloyShipsTheSeedPipeline: the Alloy DaemonSet's configuration,
// as the chart renders it, parses with Alloy's own parser and pushes to
// the rendered Loki gateway with the region label.
func TestLogsAlloyShipsTheSeedPipeline(t *testing.T) {
	for _, stack := range Stacks {
		p := stackObjects(t, stack)
		p.named(t, "DaemonSet", "alloy")
		cm := p.named(t, "ConfigMap", "alloy")
		text := fmt.Sprint(asMap(cm["data"])["config.alloy"])
		f, err := parser.ParseFile("config.alloy", []byte(text))
		require.NoError(t, err, text)
		var write, process *ast.BlockStmt
		for _, st := range f.Body {
			if b, ok := st.(*ast.BlockStmt); ok {
				switch b.GetBlockName() {
				case "loki.write":
					write = b
				case "loki.process":
					process = b
				}
			}
		}
		require.NotNil(t, write, "%s: loki.write", stack)
		require.NotNil(t, process, "%s: loki.process", stack)
		var url, region string
		var stages []string
		ast.Walk(walker(func(n ast.Node) {
			if a, ok := n.(*ast.AttributeStmt); ok {
				if lit, ok := a.Value.(*ast.LiteralExpr); ok {
					v, _ := strconv.Unquote(lit.Value)
					switch a.Name.Name {
					case "url":
						url = v
					}
				}
				if obj, ok := a.Value.(*ast.ObjectExpr); ok && a.Name.Name == "external_labels" {
					for _, fld := range obj.Fields {
						if lit, ok := fld.Value.(*ast.LiteralExpr); ok && strings.Trim(fld.Name.Name, `"`) == "region" {
							region, _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
		}), write)
		for _, st := range process.Body {
			if b, ok := st.(*ast.BlockStmt); ok {
				stages = append(stages, b.GetBlockName())
			}
		}
		assert.Equal(t, stack, region, stack)
		assert.Equal(t, "http://loki-gateway.monitoring.svc.cluster.local/loki/api/v1/push", url, stack)
		gw := p.named(t, "Service", "loki-gateway")
		assert.Contains(t, fmt.Sprint(asMap(gw["spec"])["ports"]), "port:80", stack)
		assert.Equal(t, []string{"stage.regex", "stage.json", "stage.labels", "stage.timestamp", "stage.drop", "stage.match"}, stages,
			"%s: seed 003's stages (regex, JSON, labels, drop DEBUG in production, the RAG metric)", stack)
		for _, sm := range p.kind("ServiceMonitor") {
			if asMap(sm["metadata"])["name"] == "alloy" {
				return
			}
		}
		t.Errorf("%s: Alloy's metrics (the log-derived RAG histogram) are not scraped", stack)
	}
}

// walker adapts a func to ast.Visitor.
type walker func(ast.Node)

func (w walker) Visit(n ast.Node) ast.Visitor {
	if n != nil {
		w(n)
	}
	return w
}
