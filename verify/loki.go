package verify

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/tars-platform/infra/components/geodns"
)

// lokiWindow: Loki must have lines of the application namespace from the
// last 5 minutes (issue #24).
const lokiWindow = 5 * time.Minute

// lokiLimit bounds the lines asked for: one is enough to pass.
const lokiLimit = 10

const lokiLogsTimeout = 30 * time.Second

// lokiGatewayService is the loki chart's gateway (nginx in front of the
// read path; Alloy pushes to it and Grafana reads through it,
// components/monitoring datasources.go): templates/gateway/service.yaml
// names it loki.resourceName with component "gateway", that is
// "<loki.fullname>-gateway", port gateway.service.port (default 80).
func lokiGatewayService(rel Release) Service {
	return Service{Namespace: rel.Namespace, Name: obsFullname(rel, chartLoki, 63) + "-gateway", Port: obsPort(rel, "gateway.service.port", 80)}
}

// obsAppNamespace is the services' namespace: the public API's Ingress
// (geodns.IngressName) lives in it — it is the stack's
// dns.backend.namespace, the same value stacks passes to the apps
// namespace, monitoring's AppNamespace and the VPAs.
func obsAppNamespace(inv Inventory) (string, error) {
	for _, o := range inv.Kind("Ingress") {
		if o.Name == geodns.IngressName {
			return o.Namespace, nil
		}
	}
	return "", fmt.Errorf("cannot tell the application namespace: the inventory of %s has no Ingress %s (the public API's, in the services' namespace)", inv.Region, geodns.IngressName)
}

// lokiStreams is query_range's data for a log query (Loki HTTP API docs,
// "Query logs within a range of time": resultType "streams", result[] of
// {stream, values: [[<ns timestamp string>, <line>], …]}).
type lokiStreams struct {
	ResultType string `json:"resultType"`
	Result     []struct {
		Stream map[string]string `json:"stream"`
		Values [][]string        `json:"values"`
	} `json:"result"`
}

// LokiLogs: Loki returns log lines of the application namespace from the
// last 5 minutes, so Alloy ships and Loki ingests.
func LokiLogs() Check {
	return Check{
		ID:       "loki-logs",
		Expected: "Loki has log lines of the application namespace from the last 5m",
		Scope:    PerRegion,
		Timeout:  lokiLogsTimeout,
		Run:      runLokiLogs,
	}
}

func runLokiLogs(ctx context.Context, env *Env, region string) (Outcome, error) {
	r, rel, err := obsRelease(env, region, chartLoki)
	if err != nil {
		return Outcome{}, err
	}
	ns, err := obsAppNamespace(r.Inventory)
	if err != nil {
		return Outcome{}, err
	}
	svc := lokiGatewayService(rel)
	now := env.now()
	query := fmt.Sprintf("{namespace=%q}", ns)
	q := url.Values{
		"query":     {query},
		"start":     {strconv.FormatInt(now.Add(-lokiWindow).UnixNano(), 10)},
		"end":       {strconv.FormatInt(now.UnixNano(), 10)},
		"limit":     {strconv.Itoa(lokiLimit)},
		"direction": {"backward"},
	}
	var data lokiStreams
	if err := promGet(ctx, r.Cluster, "Loki", svc, "/loki/api/v1/query_range", q, &data); err != nil {
		return Outcome{}, err
	}
	if data.ResultType != "streams" {
		return Outcome{}, fmt.Errorf("Loki %s /loki/api/v1/query_range %s: result type %q, want streams", svc, query, data.ResultType)
	}
	lines, newest := 0, int64(0)
	for _, s := range data.Result {
		for _, v := range s.Values {
			if len(v) < 2 {
				continue
			}
			lines++
			if ts, err := strconv.ParseInt(v[0], 10, 64); err == nil && ts > newest {
				newest = ts
			}
		}
	}
	out := Outcome{Expected: fmt.Sprintf("Loki has log lines of namespace %s from the last %s", ns, lokiWindow)}
	if lines == 0 {
		out.Observed = fmt.Sprintf("no lines for %s in the last %s", query, lokiWindow)
		return out.Failf("Loki %s: no log lines for %s in the last %s: is Alloy shipping, and is anything running in %s?", svc, query, lokiWindow, ns), nil
	}
	out.Observed = fmt.Sprintf("%d lines (limit %d) in %d streams for %s in the last %s; newest %s ago", lines, lokiLimit, len(data.Result), query, lokiWindow,
		now.Sub(time.Unix(0, newest)).Round(time.Second))
	return out, nil
}
