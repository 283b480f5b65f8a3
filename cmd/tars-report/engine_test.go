package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/storage"
)

// engineQuerier runs the program's queries on Prometheus's own engine
// over promqltest's synthetic series (which start at the Unix epoch).
type engineQuerier struct {
	eng *promql.Engine
	st  storage.Queryable
	mu  sync.Mutex
	ran []string
}

func newEngineQuerier(t testing.TB, load string) *engineQuerier {
	t.Helper()
	st := promqltest.LoadedStorage(t, load)
	t.Cleanup(func() { _ = st.Close() })
	eng := promql.NewEngine(promql.EngineOpts{
		MaxSamples:               200_000_000,
		Timeout:                  5 * time.Minute,
		LookbackDelta:            5 * time.Minute,
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
	})
	return &engineQuerier{eng: eng, st: st}
}

func (e *engineQuerier) Query(ctx context.Context, query string, at time.Time) (model.Vector, error) {
	e.mu.Lock()
	e.ran = append(e.ran, query)
	e.mu.Unlock()
	q, err := e.eng.NewInstantQuery(ctx, e.st, nil, query, at)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		out := make(model.Vector, 0, len(v))
		for _, s := range v {
			if s.H != nil {
				return nil, fmt.Errorf("native histogram sample in %s", query)
			}
			m := model.Metric{}
			s.Metric.Range(func(l labels.Label) { m[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
			out = append(out, &model.Sample{Metric: m, Value: model.SampleValue(s.F), Timestamp: model.Time(s.T)})
		}
		return out, nil
	case promql.Scalar:
		return model.Vector{{Metric: model.Metric{}, Value: model.SampleValue(v.V), Timestamp: model.Time(v.T)}}, nil
	}
	return nil, fmt.Errorf("unexpected result %T", res.Value)
}

// promAPI serves the Prometheus HTTP API's /api/v1/query from the engine,
// as Thanos query-frontend answers it.
func promAPI(t testing.TB, e *engineQuerier) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ts, err := strconv.ParseFloat(r.Form.Get("time"), 64)
		if err != nil {
			http.Error(w, "bad time", http.StatusBadRequest)
			return
		}
		at := time.UnixMilli(int64(ts * 1000)).UTC()
		w.Header().Set("Content-Type", "application/json")
		v, err := e.Query(r.Context(), r.Form.Get("query"), at)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"status": "error", "errorType": "bad_data", "error": err.Error()})
			return
		}
		if v == nil {
			v = model.Vector{}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": v}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// seg is a run of n one-minute (or one-step) increments of per each.
type seg struct {
	per float64
	n   int
}

// counter renders a promqltest series that starts at base and grows by
// each segment in turn (integers keep the sums exact).
func counter(base float64, segs ...seg) string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	var parts []string
	v := base
	for i, s := range segs {
		if i == 0 {
			parts = append(parts, fmt.Sprintf("%s+%sx%d", f(v), f(s.per), s.n))
			v += s.per * float64(s.n)
			continue
		}
		v += s.per
		parts = append(parts, fmt.Sprintf("%s+%sx%d", f(v), f(s.per), s.n-1))
		v += s.per * float64(s.n-1)
	}
	return strings.Join(parts, " ")
}

// loadText is a promqltest load block at a step.
func loadText(step string, series map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "load %s\n", step)
	for name, values := range series {
		fmt.Fprintf(&b, "  %s %s\n", name, values)
	}
	return b.String()
}

var epoch = time.Unix(0, 0).UTC()
