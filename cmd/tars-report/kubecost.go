package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// CostRow is one namespace's cost over the window.
type CostRow struct {
	Namespace string  `json:"namespace"`
	CPU       float64 `json:"cpu"`
	RAM       float64 `json:"ram"`
	GPU       float64 `json:"gpu"`
	PV        float64 `json:"pv"`
	Network   float64 `json:"network"`
	LB        float64 `json:"load_balancer"`
	Other     float64 `json:"shared_and_external"`
	Total     float64 `json:"total"`
}

// CostSection is Kubecost's cost by namespace (monthly report).
type CostSection struct {
	Window string    `json:"window"`
	Rows   []CostRow `json:"rows"`
	Total  float64   `json:"total"`
	Error  string    `json:"error,omitempty"`
}

// looseFloat decodes a number, null, or a numeric string; NaN, ±Inf and
// anything else non-numeric decode as 0 (Kubecost encodes NaN as null or
// "NaN" depending on the field and version).
type looseFloat float64

func (f *looseFloat) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !finite(v) {
		*f = 0
		return nil
	}
	*f = looseFloat(v)
	return nil
}

// allocation is the part of a Kubecost/OpenCost Allocation the report
// reads; everything else of the object is ignored.
type allocation struct {
	Name             string     `json:"name"`
	CPUCost          looseFloat `json:"cpuCost"`
	GPUCost          looseFloat `json:"gpuCost"`
	RAMCost          looseFloat `json:"ramCost"`
	PVCost           looseFloat `json:"pvCost"`
	NetworkCost      looseFloat `json:"networkCost"`
	LoadBalancerCost looseFloat `json:"loadBalancerCost"`
	SharedCost       looseFloat `json:"sharedCost"`
	ExternalCost     looseFloat `json:"externalCost"`
	TotalCost        looseFloat `json:"totalCost"`
}

// allocationResponse is GET /model/allocation: "data" is one set per step
// (one set with accumulate=true), each a map of aggregate name to allocation.
type allocationResponse struct {
	Code    int                     `json:"code"`
	Message string                  `json:"message"`
	Data    []map[string]allocation `json:"data"`
}

// decodeAllocation sums the sets of an allocation response by namespace.
func decodeAllocation(r io.Reader) ([]CostRow, float64, error) {
	var resp allocationResponse
	if err := json.NewDecoder(r).Decode(&resp); err != nil {
		return nil, 0, fmt.Errorf("decode allocation response: %w", err)
	}
	if resp.Code != 0 && resp.Code != http.StatusOK {
		return nil, 0, fmt.Errorf("allocation API code %d: %s", resp.Code, resp.Message)
	}
	byNS := map[string]*CostRow{}
	for _, set := range resp.Data {
		for key, a := range set {
			ns := key
			if ns == "" {
				ns = a.Name
			}
			row := byNS[ns]
			if row == nil {
				row = &CostRow{Namespace: ns}
				byNS[ns] = row
			}
			row.CPU += float64(a.CPUCost)
			row.RAM += float64(a.RAMCost)
			row.GPU += float64(a.GPUCost)
			row.PV += float64(a.PVCost)
			row.Network += float64(a.NetworkCost)
			row.LB += float64(a.LoadBalancerCost)
			row.Other += float64(a.SharedCost) + float64(a.ExternalCost)
			row.Total += float64(a.TotalCost)
		}
	}
	var rows []CostRow
	total := 0.0
	for _, r := range byNS {
		rows = append(rows, *r)
		total += r.Total
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Total != rows[j].Total {
			return rows[i].Total > rows[j].Total
		}
		return rows[i].Namespace < rows[j].Namespace
	})
	return rows, total, nil
}

// kubecostClient reads the Allocation API.
type kubecostClient struct {
	base string
	http *http.Client
}

// allocationURL asks for the report's exact window as an RFC3339 pair
// (not "30d", which Kubecost anchors at its own now), one accumulated set.
func allocationURL(base string, start, end time.Time) string {
	v := url.Values{}
	v.Set("window", start.UTC().Format(time.RFC3339)+","+end.UTC().Format(time.RFC3339))
	v.Set("aggregate", "namespace")
	v.Set("accumulate", "true")
	return base + "/model/allocation?" + v.Encode()
}

func (k kubecostClient) Costs(ctx context.Context, start, end time.Time) CostSection {
	sec := CostSection{Window: start.UTC().Format(time.RFC3339) + "," + end.UTC().Format(time.RFC3339)}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, allocationURL(k.base, start, end), nil)
	if err != nil {
		sec.Error = err.Error()
		return sec
	}
	resp, err := k.http.Do(req)
	if err != nil {
		sec.Error = err.Error()
		return sec
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		sec.Error = fmt.Sprintf("kubecost: %s: %s", resp.Status, strings.TrimSpace(string(body)))
		return sec
	}
	rows, total, err := decodeAllocation(resp.Body)
	if err != nil {
		sec.Error = err.Error()
		return sec
	}
	sec.Rows, sec.Total = rows, total
	return sec
}
