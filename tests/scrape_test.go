package tests

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/slo"
)

// scraped passes every series of a fixture through Prometheus's text
// exposition parser as a scrape would, so what the rules read is what a
// scrape stores: the family's TYPE comes from the series (a _bucket series
// with le: histogram; a quantile label: summary; _total: counter; else
// gauge), and the parser's label handling applies (Prometheus 3 stores a
// classic histogram's le="5" as le="5.0", a summary's quantile likewise).
// The sample values are kept as written.
func scraped(t *testing.T, f slo.Fixture) slo.Fixture {
	t.Helper()
	out := make(slo.Fixture, 0, len(f))
	for _, line := range f {
		series, values := splitSeries(line)
		lbls, err := parser.ParseMetric(series)
		require.NoError(t, err, "fixture series %q", series)
		name := lbls.Get(model.MetricNameLabel)
		family, typ := name, "gauge"
		switch {
		case strings.HasSuffix(name, "_bucket") && lbls.Has(model.BucketLabel):
			family, typ = strings.TrimSuffix(name, "_bucket"), "histogram"
		case lbls.Has(model.QuantileLabel):
			typ = "summary"
		case strings.HasSuffix(name, "_total"):
			typ = "counter"
		}
		text := fmt.Sprintf("# TYPE %s %s\n%s 1\n", family, typ, exposition(lbls))
		p := textparse.NewPromParser([]byte(text), labels.NewSymbolTable(), false)
		var got labels.Labels
		for {
			e, err := p.Next()
			if err != nil {
				break // io.EOF after the one sample
			}
			if e == textparse.EntrySeries {
				p.Labels(&got)
			}
		}
		require.False(t, got.IsEmpty(), "the exposition parser read no sample from %q", text)
		out = append(out, exposition(got)+" "+values)
	}
	return out
}

// splitSeries cuts a fixture line into its series and its values.
func splitSeries(line string) (series, values string) {
	end := strings.Index(line, " ")
	if i := strings.Index(line, "{"); i >= 0 && i < end {
		end = strings.Index(line, "}") + 1
	}
	return line[:end], strings.TrimSpace(line[end:])
}

// exposition writes labels as name{k="v",...}.
func exposition(l labels.Labels) string {
	var parts []string
	l.Range(func(lb labels.Label) {
		if lb.Name != model.MetricNameLabel {
			parts = append(parts, lb.Name+"="+strconv.Quote(lb.Value))
		}
	})
	if len(parts) == 0 {
		return l.Get(model.MetricNameLabel)
	}
	return l.Get(model.MetricNameLabel) + "{" + strings.Join(parts, ",") + "}"
}

// TestScrapeNormalisesHistogramBuckets: the fixture path stores what a
// Prometheus 3 scrape stores.
func TestScrapeNormalisesHistogramBuckets(t *testing.T) {
	got := scraped(t, slo.Fixture{
		`http_request_duration_seconds_bucket{job="tars",le="5"} 0+60x10`,
		`rpc_duration_seconds{quantile="0.5"} 1x10`,
		`http_requests_total{code="200"} 0+1x10`,
		`up 1x10`,
	})
	assert.Equal(t, slo.Fixture{
		`http_request_duration_seconds_bucket{job="tars",le="5.0"} 0+60x10`,
		`rpc_duration_seconds{quantile="0.5"} 1x10`,
		`http_requests_total{code="200"} 0+1x10`,
		`up 1x10`,
	}, got)
}
