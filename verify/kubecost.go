package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
)

const kubecostAllocationTimeout = 60 * time.Second

// allocationQuery is the check's question: yesterday-to-now, per
// namespace (Kubecost/OpenCost allocation API docs: window, aggregate).
var allocationQuery = url.Values{"window": {"1d"}, "aggregate": {"namespace"}}

// costAPI is where the allocation API is answered, and under which path.
type costAPI struct {
	What string
	Svc  Service
	Path string
}

// costAllocationAPI finds the program's cost tool: Kubecost 3 (the
// default) or OpenCost.
//   - kubecost 3.2.1: the frontend Service (templates/frontend/_helpers.tpl
//     kubecost.frontend.fullname: "<release>-frontend", always from the
//     release name; frontend.service.port, default 9090), whose nginx
//     proxies /model/ to the aggregator (frontend-configmap.yaml,
//     "location /model/"); components/costs.KubecostURL is the same.
//   - opencost 2.5.17: the Service "<opencost.fullname>" port "http"
//     (opencost.exporter.apiPort, default 9003) serving /allocation.
func costAllocationAPI(inv Inventory) (costAPI, Release, error) {
	if rel, ok := inv.Release(chartKubecost); ok {
		return costAPI{What: "Kubecost", Path: "/model/allocation", Svc: Service{Namespace: rel.Namespace, Name: rel.Name + "-frontend",
			Port: obsPort(rel, "frontend.service.port", 9090)}}, rel, nil
	}
	if rel, ok := inv.Release(chartOpenCost); ok {
		return costAPI{What: "OpenCost", Path: "/allocation", Svc: Service{Namespace: rel.Namespace, Name: obsFullname(rel, chartOpenCost, 63),
			Port: obsPort(rel, "opencost.exporter.apiPort", 9003)}}, rel, nil
	}
	return costAPI{}, Release{}, fmt.Errorf("the program installs neither kubecost nor opencost in %s (the inventory has no such Helm release)", inv.Region)
}

// allocationResponse is the allocation API's answer (OpenCost API docs,
// "/allocation": {"code": 200, "data": [{"<namespace>": {…, "totalCost":
// n}, …}, …]}, one map per step of the window; Kubecost's /model/allocation
// answers the same).
type allocationResponse struct {
	Code    int                                   `json:"code"`
	Message string                                `json:"message"`
	Data    []map[string]*struct{ TotalCost any } `json:"data"`
}

func allocTotalCost(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	return 0
}

// KubecostAllocation: Kubecost (or OpenCost) answers an allocation query
// for the last day with at least one namespace that cost something.
func KubecostAllocation() Check {
	return Check{
		ID:       "kubecost-allocation",
		Expected: "Kubecost answers a 1d allocation query per namespace with ≥1 allocation costing > $0",
		Scope:    PerRegion,
		Timeout:  kubecostAllocationTimeout,
		Run:      runKubecostAllocation,
	}
}

func runKubecostAllocation(ctx context.Context, env *Env, region string) (Outcome, error) {
	r, ok := env.Regions[region]
	if !ok || r == nil || r.Cluster == nil {
		return Outcome{}, fmt.Errorf("region %q has no cluster to read in this run", region)
	}
	api, _, err := costAllocationAPI(r.Inventory)
	if err != nil {
		return Outcome{}, err
	}
	var resp allocationResponse
	if err := obsGetJSON(ctx, r.Cluster, api.What, api.Svc, api.Path, allocationQuery, &resp); err != nil {
		return Outcome{}, err
	}
	out := Outcome{Expected: fmt.Sprintf("%s answers %s?%s with code 200 and ≥1 allocation costing > $0", api.What, api.Path, allocationQuery.Encode())}
	if resp.Code != 200 {
		out.Observed = fmt.Sprintf("code %d", resp.Code)
		return out.Failf("%s %s %s: code %d: %s", api.What, api.Svc, api.Path, resp.Code, oneLine(resp.Message, 200)), nil
	}
	costs := map[string]float64{}
	for _, set := range resp.Data {
		for name, a := range set {
			if a == nil {
				continue
			}
			costs[name] += allocTotalCost(a.TotalCost)
		}
	}
	var names []string
	total := 0.0
	for n, c := range costs {
		total += c
		if c > 0 {
			names = append(names, n)
		}
	}
	sort.Slice(names, func(i, j int) bool { return costs[names[i]] > costs[names[j]] })
	if len(names) == 0 {
		out.Observed = fmt.Sprintf("%d allocations, none costing > $0", len(costs))
		return out.Failf("%s %s %s: %d allocations over 1d, none with totalCost > 0: is the agent collecting, and are prices set?", api.What, api.Svc, api.Path, len(costs)), nil
	}
	var top []string
	for _, n := range names[:min(3, len(names))] {
		top = append(top, fmt.Sprintf("%s $%.2f", n, costs[n]))
	}
	out.Observed = fmt.Sprintf("%d of %d allocations cost > $0, $%.2f over 1d; top: %s", len(names), len(costs), total, strings.Join(top, ", "))
	return out, nil
}
