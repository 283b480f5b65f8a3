package rules

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/tars-platform/infra/slo"
)

// Type tokens and chart names the platform-settings rules read. The
// monitoring and data components install these; the rules pin down the
// settings they must carry (seed 000 "Monitoring Infrastructure", seed 003).
const (
	typeHelmRelease = "kubernetes:helm.sh/v3:Release"
	// Custom resources carry their apiVersion and kind in the type token.
	typeCNPGCluster    = "kubernetes:postgresql.cnpg.io/v1:Cluster"
	typeBarmanObjStore = "kubernetes:barmancloud.cnpg.io/v1:ObjectStore"
	typeConfigMap      = "kubernetes:core/v1:ConfigMap"
	typeHealthCheck    = "aws:route53/healthCheck:HealthCheck"
	typeRecord         = "aws:route53/record:Record"

	chartKubePrometheus = "kube-prometheus-stack"
	chartLoki           = "loki"
	// chartDCGMExporter runs with the GPU pool: the stack then renders the
	// GPU alerts (slo.Features.GPU).
	chartDCGMExporter = "dcgm-exporter"
)

// Defaults of the tunable thresholds: the seeds' numbers, read from the
// slo catalog (never restated here).
var (
	defaultPrometheusRetention  = model.Duration(slo.PrometheusRetention).String()
	defaultScrapeInterval       = model.Duration(slo.ScrapeInterval).String()
	defaultPrometheusReplicas   = slo.PrometheusReplicas
	defaultAlertmanagerReplicas = slo.AlertmanagerReplicas
	defaultLokiRetention        = model.Duration(slo.LokiRetention).String()
)

// productionServices are sampled at slo.ProductionTraceSampling.
var productionServices = func() []any {
	out := make([]any, len(slo.ProductionServices))
	for i, s := range slo.ProductionServices {
		out[i] = s
	}
	return out
}()

func schema(props map[string]map[string]any) *policyx.ConfigSchema {
	return &policyx.ConfigSchema{Properties: props}
}

func platformPolicies() []policyx.Policy {
	mandatory := policyx.EnforcementLevelMandatory
	return []policyx.Policy{
		resourcePolicy("prometheus-retention-and-ha",
			"Prometheus keeps at least 30 days, scrapes and evaluates every 15 s and runs at least 2 replicas; Alertmanager runs at least 3.",
			mandatory, schema(map[string]map[string]any{
				"minRetention":       {"type": "string", "default": defaultPrometheusRetention},
				"scrapeInterval":     {"type": "string", "default": defaultScrapeInterval},
				"evaluationInterval": {"type": "string", "default": defaultEvaluationInterval},
				"minReplicas":        {"type": "number", "default": defaultPrometheusReplicas},
				"minAlertmanagers":   {"type": "number", "default": defaultAlertmanagerReplicas},
			}), []string{typeHelmRelease}, prometheusSettings),
		resourcePolicy("loki-retention",
			"Loki keeps logs 720 h with the compactor's retention enabled.",
			mandatory, schema(map[string]map[string]any{"retention": {"type": "string", "default": defaultLokiRetention}}),
			[]string{typeHelmRelease}, lokiRetention),
		resourcePolicy("jaeger-production-sampling",
			"Jaeger samples the production services at 100 %.",
			mandatory, schema(map[string]map[string]any{"services": {"type": "array", "default": productionServices}}),
			[]string{typeConfigMap}, jaegerSampling),
		stackPolicy("dns-failover-budget",
			"GeoDNS failover fits seed 003's SLA: Route 53 detection (request interval × failure threshold) within 30 s and, with the TTL clients cache (60 s for a load balancer alias), within 90 s; a Cloudflare monitor's interval × consecutive failures within the same.",
			mandatory, failoverBudget),
	}
}

func chartIs(r policyx.AnalyzerResource, chart string) bool {
	c, _ := str(r.Properties, "chart")
	return c == chart
}

// promDuration parses Prometheus durations ("15s", "30d", "1w", "720h").
var promDurationRE = regexp.MustCompile(`^(\d+)(ms|s|m|h|d|w|y)$`)

func promDuration(s string) (time.Duration, bool) {
	m := promDurationRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{
		"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
		"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "y": 365 * 24 * time.Hour,
	}[m[2]]
	return time.Duration(n) * unit, true
}

func cfgString(cfg map[string]any, key string) string { s, _ := cfg[key].(string); return s }

func cfgNumber(cfg map[string]any, key string) float64 {
	switch v := cfg[key].(type) {
	case float64:
		return v
	case int:
		return float64(v)
	}
	return 0
}

func prometheusSettings(r policyx.AnalyzerResource, cfg map[string]any) []string {
	if !chartIs(r, chartKubePrometheus) {
		return nil
	}
	var out []string
	spec := "values.prometheus.prometheusSpec."
	minRet, _ := promDuration(cfgString(cfg, "minRetention"))
	ret, _ := str(r.Properties, spec+"retention")
	if d, ok := promDuration(ret); !ok || d < minRet {
		out = append(out, fmt.Sprintf("prometheusSpec.retention is %q, want at least %s", ret, cfgString(cfg, "minRetention")))
	}
	if si, _ := str(r.Properties, spec+"scrapeInterval"); si != cfgString(cfg, "scrapeInterval") {
		out = append(out, fmt.Sprintf("prometheusSpec.scrapeInterval is %q, want %s", si, cfgString(cfg, "scrapeInterval")))
	}
	if ei, _ := str(r.Properties, spec+"evaluationInterval"); ei != cfgString(cfg, "evaluationInterval") {
		out = append(out, fmt.Sprintf("prometheusSpec.evaluationInterval is %q, want %s", ei, cfgString(cfg, "evaluationInterval")))
	}
	if n, _ := num(r.Properties, spec+"replicas"); n < cfgNumber(cfg, "minReplicas") {
		out = append(out, fmt.Sprintf("prometheusSpec.replicas is %v, want at least %v", n, cfgNumber(cfg, "minReplicas")))
	}
	if n, _ := num(r.Properties, "values.alertmanager.alertmanagerSpec.replicas"); n < cfgNumber(cfg, "minAlertmanagers") {
		out = append(out, fmt.Sprintf("alertmanagerSpec.replicas is %v, want at least %v", n, cfgNumber(cfg, "minAlertmanagers")))
	}
	return out
}

func lokiRetention(r policyx.AnalyzerResource, cfg map[string]any) []string {
	if !chartIs(r, chartLoki) {
		return nil
	}
	var out []string
	want, _ := promDuration(cfgString(cfg, "retention"))
	got, _ := str(r.Properties, "values.loki.limits_config.retention_period")
	if d, ok := promDuration(got); !ok || d < want {
		out = append(out, fmt.Sprintf("loki.limits_config.retention_period is %q, want at least %s", got, cfgString(cfg, "retention")))
	}
	if on, _ := boolean(r.Properties, "values.loki.compactor.retention_enabled"); !on {
		out = append(out, "loki.compactor.retention_enabled is not true, so retention_period is never applied")
	}
	return out
}

// samplingStrategies is Jaeger's file-based sampling configuration.
type samplingStrategies struct {
	ServiceStrategies []struct {
		Service string  `json:"service"`
		Type    string  `json:"type"`
		Param   float64 `json:"param"`
	} `json:"service_strategies"`
}

func jaegerSampling(r policyx.AnalyzerResource, cfg map[string]any) []string {
	data := at(r.Properties, "data")
	if !data.IsMap() {
		return nil
	}
	doc0 := data.AsMap().Get("strategies.json")
	if !doc0.IsString() {
		return nil
	}
	raw := doc0.AsString()
	var doc samplingStrategies
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		return []string{fmt.Sprintf("strategies.json is not a Jaeger sampling document: %v", err)}
	}
	var out []string
	services, _ := cfg["services"].([]any)
	for _, svc := range services {
		found := false
		for _, s := range doc.ServiceStrategies {
			if s.Service != svc {
				continue
			}
			found = true
			if s.Type != "probabilistic" || s.Param < slo.ProductionTraceSampling {
				out = append(out, fmt.Sprintf("service %s is sampled %s %v, want probabilistic %v", svc, s.Type, s.Param, slo.ProductionTraceSampling))
			}
		}
		if !found {
			out = append(out, fmt.Sprintf("service %s has no sampling strategy, so it falls to the default rate; want 100 %%", svc))
		}
	}
	return out
}
