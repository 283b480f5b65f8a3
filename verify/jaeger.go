package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tars-platform/infra/components/monitoring"
)

// jaegerLookback: each traced service must have a trace from the last
// hour.
const jaegerLookback = time.Hour

const jaegerTracesTimeout = 45 * time.Second

// jaegerQueryService is the jaeger chart's Service (templates/jaeger/
// jaeger-service.yaml: "<jaeger.fullname>", port "http-query" 16686, the
// query API and UI of the v2 binary).
func jaegerQueryService(rel Release) Service {
	return Service{Namespace: rel.Namespace, Name: obsFullname(rel, chartJaeger, 63), Port: strconv.Itoa(monitoring.JaegerQueryPort)}
}

// tracedServices are the services the program configures tracing for:
// the per-service strategies of Jaeger's sampling file, the ConfigMap
// monitoring.JaegerSamplingConfigMap in Jaeger's namespace
// (components/monitoring/traces.go: seed 003's production services and
// the UI).
func tracedServices(inv Inventory, namespace string) ([]string, error) {
	cm, ok := inv.Object("ConfigMap", namespace, monitoring.JaegerSamplingConfigMap)
	if !ok {
		return nil, fmt.Errorf("cannot tell which services are traced: the inventory of %s has no ConfigMap %s/%s (Jaeger's sampling strategies)", inv.Region, namespace, monitoring.JaegerSamplingConfigMap)
	}
	data, _ := cm.Body["data"].(map[string]any)
	raw := str(data["strategies.json"])
	var f struct {
		ServiceStrategies []struct {
			Service string `json:"service"`
		} `json:"service_strategies"`
	}
	if err := json.Unmarshal([]byte(raw), &f); err != nil {
		return nil, fmt.Errorf("ConfigMap %s/%s strategies.json: %v", namespace, monitoring.JaegerSamplingConfigMap, err)
	}
	var out []string
	for _, s := range f.ServiceStrategies {
		if s.Service != "" && !slices.Contains(out, s.Service) {
			out = append(out, s.Service)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("ConfigMap %s/%s strategies.json names no service", namespace, monitoring.JaegerSamplingConfigMap)
	}
	sort.Strings(out)
	return out, nil
}

// jaegerResponse is the query API's envelope (jaeger v2.19
// cmd/jaeger/internal/extension/jaegerquery/internal/http_handler.go:
// structuredResponse {data, total, limit, offset, errors}).
type jaegerResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	} `json:"errors"`
}

func jaegerGet(ctx context.Context, c Cluster, svc Service, p string, q url.Values, v any) error {
	var resp jaegerResponse
	if err := obsGetJSON(ctx, c, "Jaeger", svc, p, q, &resp); err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		var msgs []string
		for _, e := range resp.Errors {
			msgs = append(msgs, e.Msg)
		}
		return fmt.Errorf("Jaeger %s %s: %s", svc, p, strings.Join(msgs, "; "))
	}
	if len(resp.Data) == 0 || string(resp.Data) == "null" {
		return nil
	}
	if err := json.Unmarshal(resp.Data, v); err != nil {
		return fmt.Errorf("Jaeger %s %s: unexpected data (%v): %s", svc, p, err, oneLine(string(resp.Data), 200))
	}
	return nil
}

// JaegerTraces: Jaeger has a trace from the last hour for every service
// the program configures tracing for.
func JaegerTraces() Check {
	return Check{
		ID:       "jaeger-traces",
		Expected: "Jaeger has traces from the last 1h for every traced service",
		Scope:    PerRegion,
		Timeout:  jaegerTracesTimeout,
		Run:      runJaegerTraces,
	}
}

// runJaegerTraces asks the query API (/api/services, then per service
// /api/traces?service=S&start=…&end=…&limit=1; start and end in Unix
// microseconds, query_parser.go; lookback is the UI's and is sent for
// readers of the log).
func runJaegerTraces(ctx context.Context, env *Env, region string) (Outcome, error) {
	r, rel, err := obsRelease(env, region, chartJaeger)
	if err != nil {
		return Outcome{}, err
	}
	want, err := tracedServices(r.Inventory, rel.Namespace)
	if err != nil {
		return Outcome{}, err
	}
	svc := jaegerQueryService(rel)
	var known []string
	if err := jaegerGet(ctx, r.Cluster, svc, "/api/services", nil, &known); err != nil {
		return Outcome{}, err
	}
	now := env.now()
	out := Outcome{Expected: fmt.Sprintf("Jaeger has traces from the last %s for each of %d traced services (%s)", jaegerLookback, len(want), strings.Join(want, ", "))}
	traced := 0
	for _, s := range want {
		if !slices.Contains(known, s) {
			out = out.Failf("service %s: Jaeger %s has never stored a span of it (not in /api/services)", s, svc)
			continue
		}
		q := url.Values{
			"service":  {s},
			"start":    {strconv.FormatInt(now.Add(-jaegerLookback).UnixMicro(), 10)},
			"end":      {strconv.FormatInt(now.UnixMicro(), 10)},
			"lookback": {"1h"},
			"limit":    {"1"},
		}
		var traces []struct {
			TraceID string            `json:"traceID"`
			Spans   []json.RawMessage `json:"spans"`
		}
		if err := jaegerGet(ctx, r.Cluster, svc, "/api/traces", q, &traces); err != nil {
			return Outcome{}, fmt.Errorf("service %s: %w", s, err)
		}
		if len(traces) == 0 {
			out = out.Failf("service %s: no trace in the last %s", s, jaegerLookback)
			continue
		}
		traced++
	}
	out.Observed = fmt.Sprintf("%d of %d services have a trace in the last %s (Jaeger knows %d services)", traced, len(want), jaegerLookback, len(known))
	return out, nil
}
