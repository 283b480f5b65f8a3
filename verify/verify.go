// Package verify is `tarsctl verify`: seed 003's "Validation & Testing"
// checklist as one command against a deployed region (or both). Each check
// reads the region through its stack's kubeconfig output — the API
// server's service proxy and exec, never a public endpoint — and Route 53,
// compares what it observes with what the program deployed (the
// Inventory, built from the program's graph for the stack file), and
// reports a row: check, region, expected, observed, pass/fail/skip, time.
//
// Everything is read-only except the Postgres marker row and the Redis
// key, which carry the run id and are deleted before the check returns.
//
// Nothing below cmd/tarsctl imports this package, and the deployed
// program does not link it (TestImportDirection).
package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// Status is a check's verdict.
type Status string

const (
	Pass Status = "pass"
	Fail Status = "fail"
	// Skip: the check does not apply to this region (e.g. a replica
	// region's writes); the reason is the observed column.
	Skip Status = "skip"
)

// Scope says where a check runs.
type Scope int

const (
	// PerRegion checks run once for each region of the run.
	PerRegion Scope = iota
	// CrossRegion checks run once, and only when the run covers both
	// regions (--region both): Postgres replication from the primary to
	// the peer, the global name.
	CrossRegion
)

// Check is one item of the checklist.
type Check struct {
	// ID selects the check (--only, --skip): lower-case words joined by
	// dashes, e.g. "prometheus-targets".
	ID string
	// Expected is what a passing check observes, for the report's
	// expected column; Outcome.Expected overrides it when the expectation
	// depends on the inventory ("57 rule groups loaded").
	Expected string
	Scope    Scope
	// Timeout bounds Run (default DefaultTimeout). A check that runs out
	// of time fails with "no answer within <timeout>".
	Timeout time.Duration
	// Run observes. region is the region's name for a PerRegion check and
	// "" for a CrossRegion one. An error fails the check with the error as
	// the observation; Outcome.Problems fail it item by item.
	Run func(ctx context.Context, env *Env, region string) (Outcome, error)
}

// DefaultTimeout bounds a check that sets no Timeout.
const DefaultTimeout = 60 * time.Second

// Outcome is what a check observed.
type Outcome struct {
	// Expected overrides Check.Expected for this run, when set.
	Expected string
	// Observed is a one-line summary ("38 of 38 monitors have a target up").
	Observed string
	// Problems are the failing items, one line each ("ServiceMonitor
	// monitoring/loki: no active target"); any problem fails the check.
	Problems []string
	// Skipped, when set, is why the check does not apply; the check is
	// skipped (Problems must be empty).
	Skipped string
}

// Failf appends a problem and returns the outcome, for one-line exits.
func (o Outcome) Failf(format string, args ...any) Outcome {
	o.Problems = append(o.Problems, fmt.Sprintf(format, args...))
	return o
}

// Result is one row of the report.
type Result struct {
	Check    string   `json:"check"`
	Region   string   `json:"region"`
	Expected string   `json:"expected"`
	Observed string   `json:"observed"`
	Status   Status   `json:"status"`
	Seconds  float64  `json:"seconds"`
	Problems []string `json:"problems,omitempty"`
}

// Report is a whole run.
type Report struct {
	RunID    string    `json:"runId"`
	Regions  []string  `json:"regions"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Results  []Result  `json:"results"`
	// Stacks describe what was verified ("us-east: last update 2026-11-30
	// 09:12 UTC succeeded"), for the ticket.
	Stacks []string `json:"stacks,omitempty"`
}

// Failed counts the failing rows.
func (r Report) Failed() int {
	n := 0
	for _, res := range r.Results {
		if res.Status == Fail {
			n++
		}
	}
	return n
}

// Count returns how many rows have status s.
func (r Report) Count(s Status) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == s {
			n++
		}
	}
	return n
}

// Selection is --only and --skip: check IDs. Only empty means every check.
type Selection struct {
	Only, Skip []string
}

// Select returns the checks the selection keeps, in catalog order. An ID
// that names no check is an error listing the IDs there are.
func Select(checks []Check, sel Selection) ([]Check, error) {
	ids := make([]string, len(checks))
	for i, c := range checks {
		ids[i] = c.ID
	}
	for flag, list := range map[string][]string{"--only": sel.Only, "--skip": sel.Skip} {
		for _, id := range list {
			if !slices.Contains(ids, id) {
				sorted := slices.Clone(ids)
				sort.Strings(sorted)
				return nil, fmt.Errorf("%s %q: no such check; the checks are %s", flag, id, strings.Join(sorted, ", "))
			}
		}
	}
	var out []Check
	for _, c := range checks {
		if len(sel.Only) > 0 && !slices.Contains(sel.Only, c.ID) {
			continue
		}
		if slices.Contains(sel.Skip, c.ID) {
			continue
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("--only/--skip leave no check to run")
	}
	return out, nil
}

// Run runs the checks, one at a time, over the env's regions: each
// PerRegion check for every region in order, each CrossRegion check once
// when the env has two regions (skipped otherwise, saying why). It prints
// a progress line per check to progress (nil: none) and returns the
// report; it never stops early.
func Run(ctx context.Context, env *Env, checks []Check, progress io.Writer) Report {
	rep := Report{RunID: env.RunID, Regions: env.RegionNames(), Started: env.now()}
	type job struct {
		c      Check
		region string
	}
	var jobs []job
	for _, c := range checks {
		if c.Scope == CrossRegion {
			jobs = append(jobs, job{c, ""})
			continue
		}
		for _, r := range rep.Regions {
			jobs = append(jobs, job{c, r})
		}
	}
	for i, j := range jobs {
		res := runOne(ctx, env, j.c, j.region)
		rep.Results = append(rep.Results, res)
		if progress != nil {
			fmt.Fprintf(progress, "[%*d/%d] %-4s %-22s %-8s %6.1fs  %s\n", len(fmt.Sprint(len(jobs))), i+1, len(jobs),
				res.Status, res.Check, res.Region, res.Seconds, oneLine(res.Observed, 100))
		}
	}
	rep.Finished = env.now()
	return rep
}

// runOne runs one check within its timeout and turns what it returns
// (or a panic: a bug must not lose the rest of the report) into a row.
func runOne(ctx context.Context, env *Env, c Check, region string) (res Result) {
	res = Result{Check: c.ID, Region: region, Expected: c.Expected}
	if region == "" {
		res.Region = strings.Join(env.RegionNames(), "+")
	}
	if c.Scope == CrossRegion && len(env.Regions) < 2 {
		res.Status, res.Observed = Skip, "a cross-region check: run with --region both"
		return res
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	defer func() {
		res.Seconds = time.Since(start).Round(time.Millisecond).Seconds()
		if p := recover(); p != nil {
			res.Status, res.Observed = Fail, fmt.Sprintf("the check panicked: %v", p)
		}
	}()
	out, err := c.Run(cctx, env, region)
	if out.Expected != "" {
		res.Expected = out.Expected
	}
	switch {
	case err != nil && cctx.Err() == context.DeadlineExceeded && ctx.Err() == nil:
		res.Status, res.Observed = Fail, fmt.Sprintf("no answer within %s: %v", timeout, err)
	case err != nil:
		res.Status, res.Observed = Fail, err.Error()
	case len(out.Problems) > 0:
		res.Status, res.Observed, res.Problems = Fail, out.Observed, out.Problems
		if res.Observed == "" {
			res.Observed = out.Problems[0]
		}
	case out.Skipped != "":
		res.Status, res.Observed = Skip, out.Skipped
	default:
		res.Status, res.Observed = Pass, out.Observed
	}
	return res
}

// oneLine flattens s to one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
