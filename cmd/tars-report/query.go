package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"text/template"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Querier runs one PromQL instant query. The program talks to Thanos
// through it; the tests swap in Prometheus's own engine.
type Querier interface {
	Query(ctx context.Context, query string, at time.Time) (model.Vector, error)
}

// promQuerier is the Prometheus HTTP API (Thanos query-frontend speaks it).
type promQuerier struct {
	api    v1.API
	log    *slog.Logger
	Warned []string
}

// queryTimeout bounds one query, on the server (timeout parameter) and the client.
const queryTimeout = 2 * time.Minute

func newPromQuerier(address string, log *slog.Logger) (*promQuerier, error) {
	c, err := api.NewClient(api.Config{Address: address, Client: &http.Client{Timeout: queryTimeout + 10*time.Second}})
	if err != nil {
		return nil, fmt.Errorf("prometheus client: %w", err)
	}
	return &promQuerier{api: v1.NewAPI(c), log: log}, nil
}

func (p *promQuerier) Query(ctx context.Context, query string, at time.Time) (model.Vector, error) {
	v, warnings, err := p.api.Query(ctx, query, at, v1.WithTimeout(queryTimeout))
	for _, w := range warnings {
		// Thanos answers partial responses with warnings: the numbers may
		// miss a store; the report says so.
		p.log.Warn("query warning", "query", query, "warning", w)
		p.Warned = append(p.Warned, w)
	}
	if err != nil {
		return nil, err
	}
	return asVector(v)
}

// asVector turns an instant query's result into a vector.
func asVector(v model.Value) (model.Vector, error) {
	switch r := v.(type) {
	case model.Vector:
		return r, nil
	case *model.Scalar:
		return model.Vector{{Metric: model.Metric{}, Value: r.Value, Timestamp: r.Timestamp}}, nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("unexpected result type %s", v.Type())
}

// finite is false for NaN and ±Inf: such a sample is treated as no data,
// so no NaN ever reaches the report.
func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// scalar runs a query that must return at most one series. ok is false
// when it returns none (or a NaN/Inf sample).
func scalar(ctx context.Context, q Querier, query string, at time.Time) (float64, bool, error) {
	v, err := q.Query(ctx, query, at)
	if err != nil {
		return 0, false, fmt.Errorf("query %s: %w", query, err)
	}
	switch len(v) {
	case 0:
		return 0, false, nil
	case 1:
		f := float64(v[0].Value)
		return f, finite(f), nil
	}
	return 0, false, fmt.Errorf("query %s: %d series, want at most one", query, len(v))
}

// promDuration renders a duration as PromQL reads it, whole days as days
// ("7d", not "1w"; "15s", "1h").
func promDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return model.Duration(d).String()
}

// renderWindow fills a catalog query template's {{.window}}.
func renderWindow(tmpl string, window time.Duration) (string, error) {
	t, err := template.New("q").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, map[string]string{"window": promDuration(window)}); err != nil {
		return "", err
	}
	return b.String(), nil
}
