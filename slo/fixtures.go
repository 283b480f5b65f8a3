package slo

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Fixture is synthetic Prometheus data in promqltest `load` notation, one
// series per line, one sample a minute for FixtureDuration. Every alert
// carries one fixture on which it must fire and one on which it must stay
// silent; the tests evaluate the rendered rules on them with Prometheus's
// own rule engine.
type Fixture []string

// FixtureStep and FixtureDuration shape every fixture: long enough for the
// longest window an alert reads (1h rates, 30m holds) with room to spare.
const (
	FixtureStep     = time.Minute
	FixtureDuration = 3 * time.Hour
)

const fixtureSamples = int(FixtureDuration / FixtureStep)

// Load renders the fixture as a promqltest input.
func (f Fixture) Load() string {
	return "load 1m\n  " + strings.Join(f, "\n  ") + "\n"
}

// Join concatenates fixtures.
func Join(fs ...Fixture) Fixture {
	var out Fixture
	for _, f := range fs {
		out = append(out, f...)
	}
	return out
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Gauge is a series that holds value v throughout.
func Gauge(series string, v float64) Fixture {
	return Fixture{fmt.Sprintf("%s %sx%d", series, num(v), fixtureSamples)}
}

// Ramp is a gauge starting at start that grows by perMinute each minute.
func Ramp(series string, start, perMinute float64) Fixture {
	return Fixture{fmt.Sprintf("%s %s+%sx%d", series, num(start), num(perMinute), fixtureSamples)}
}

// Counter is a counter growing at perSecond.
func Counter(series string, perSecond float64) Fixture {
	return Ramp(series, 0, perSecond*60)
}

// Ratio is an error counter and a total counter, the errors a given
// fraction of the total, at perSecond total events.
func Ratio(errSeries, totalSeries string, ratio, perSecond float64) Fixture {
	return Join(Counter(errSeries, perSecond*ratio), Counter(totalSeries, perSecond))
}

// buckets are the histogram bucket bounds fixtures use (seconds); the SLO
// latency bounds (0.1, 0.25, 5) are among them.
var buckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 1, 2.5, 5, 8, 10, 15, 30}

// Latency is a histogram (name without _bucket) with labels sel ("" or
// `job="tars"`) where every observation takes seconds, at perSecond.
func Latency(name, sel string, seconds, perSecond float64) Fixture {
	lbl := func(extra string) string {
		parts := []string{}
		if sel != "" {
			parts = append(parts, sel)
		}
		if extra != "" {
			parts = append(parts, extra)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	var f Fixture
	for _, le := range buckets {
		rate := 0.0
		if seconds <= le {
			rate = perSecond
		}
		f = append(f, Counter(name+"_bucket"+lbl(fmt.Sprintf(`le="%s"`, num(le))), rate)...)
	}
	f = append(f, Counter(name+"_bucket"+lbl(`le="+Inf"`), perSecond)...)
	f = append(f, Counter(name+"_count"+lbl(""), perSecond)...)
	f = append(f, Counter(name+"_sum"+lbl(""), perSecond*seconds)...)
	return f
}

// SlowShare is a histogram where a share of observations (slow) take slow
// seconds and the rest fast seconds, at perSecond in total.
func SlowShare(name, sel string, fast, slowSeconds, slow, perSecond float64) Fixture {
	a := Latency(name, sel, fast, perSecond*(1-slow))
	b := Latency(name, sel, slowSeconds, perSecond*slow)
	// Same series in both: add the per-minute increments.
	out := make(Fixture, len(a))
	for i := range a {
		out[i] = sumRamps(a[i], b[i])
	}
	return out
}

// sumRamps adds two "series start+stepxN" lines of the same series.
func sumRamps(a, b string) string {
	sa := strings.LastIndex(a, " ")
	sb := strings.LastIndex(b, " ")
	var s1, d1, s2, d2 float64
	var n int
	fmt.Sscanf(strings.ReplaceAll(a[sa+1:], "+", " "), "%g %gx%d", &s1, &d1, &n)
	fmt.Sscanf(strings.ReplaceAll(b[sb+1:], "+", " "), "%g %gx%d", &s2, &d2, &n)
	return fmt.Sprintf("%s %s+%sx%d", a[:sa], num(s1+s2), num(d1+d2), fixtureSamples)
}

// coverageFixture is the services' requests at perSecond and the server
// spans the spanmetrics connector counts for a share coverage of them.
func coverageFixture(coverage, perSecond float64) Fixture {
	return Join(
		Counter(`traces_span_metrics_calls_total{service_name="tars-orchestration-agent",span_name="POST /missions",span_kind="SPAN_KIND_SERVER",status_code="STATUS_CODE_UNSET"}`, coverage*perSecond),
		Counter(`http_requests_total{job="tars",status="200"}`, perSecond),
	)
}

// RedisMembers is the Redis Cluster's size (components/redis: 3 masters ×
// (1 + 1 replica); TestRedisGraphCarriesTheSeedSettings ties them together).
const RedisMembers = 6

// redisMembersUp is the exporters of n members answering (the others'
// pods, and with them their series, gone).
func redisMembersUp(n int) Fixture {
	var f Fixture
	for i := range n {
		f = append(f, Gauge(fmt.Sprintf(`redis_up{pod="redis-%d"}`, i), 1)...)
	}
	return f
}
