// Command tarsctl is the operator CLI of the T.A.R.S. platform program.
//
//	tarsctl plan --stack us-east [--format text|json] [--out DIR]
//	tarsctl images --stack us-east [--charts-dir DIR]
//	tarsctl objects --stack us-east [--charts-dir DIR]
//	tarsctl preview|up --stack us-east [--dir DIR]
//	tarsctl charts pull [--dir DIR] [--repository URL]
//	tarsctl cost --stack us-east[,us-west] [--charts-dir DIR]
//	tarsctl dr status|switchover|failover|rebuild|simulate ...
//
// plan runs the Pulumi program offline, under mocks, with the stack's real
// config (no cloud credentials, no Pulumi CLI), prints what `pulumi up`
// would register and the policy pack's results, and exits non-zero on a
// mandatory policy violation. images lists every container image the stack
// runs. charts pull fetches the pinned chart archives. cost prices the
// planned graph per month and compares it with the seed's budgets.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/tars-platform/infra/policy/rules"
	"github.com/tars-platform/infra/slo"
	"github.com/tars-platform/infra/tests/harness"
)

const usage = `usage: tarsctl plan --stack NAME [--format text|json] [--out DIR]
       tarsctl images --stack NAME [--charts-dir DIR]
       tarsctl objects --stack NAME [--charts-dir DIR]
       tarsctl preview --stack NAME [--dir DIR]
       tarsctl up --stack NAME [--dir DIR]
       tarsctl charts pull [--dir DIR] [--repository URL]
       tarsctl cost --stack NAME[,NAME] [--charts-dir DIR]
       tarsctl dr status|switchover|failover|rebuild [flags]   (tarsctl dr for its usage)
       tarsctl verify --stack NAME | --region both [--only IDS] [--skip IDS] [--out DIR]

Commands:
  plan         run the program offline under mocks with the stack's config and
               print the resource tree (text) or the graph (json)
  images       list every container image the stack runs (its own objects and
               every chart it installs, rendered offline), one per line, sorted
  objects      list every Kubernetes object the stack creates (its own and its
               charts', rendered offline): namespace, kind and name per line
  preview, up  run the stack through the real Pulumi engine offline: the CLI
               built from pkg/v3, the stand-in providers, a file backend in DIR
               (default <user cache>/tars/engine) kept between calls; prints
               the engine's own output (up us-west before us-east, as for real)
  charts pull  download the pinned chart archives (<name>-<version>.tgz) into
               the chart directory ($TARS_CHARTS_DIR, default <user cache>/tars/charts)
  cost         the monthly cost of each stack's planned graph (node groups at
               their minimum and maximum size) from the price table, and the
               stacks together against the seed's daily and monthly budgets
  dr           disaster recovery: status of both regions (stack files, deployed
               stacks, reality), and switchover, failover and rebuild as
               planned, verified, resumable steps; nothing changes without --yes
  verify       the post-deploy checklist against the live region (or both):
               targets, rules, alerts, logs, traces, Postgres replication,
               the Redis Cluster, DNS, Thanos, Kubecost, VPA, the autoscaler;
               a table, JSON and Markdown report; exit 1 on any failure
`

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tarsctl:", err)
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"missing command"}
	}
	switch args[0] {
	case "plan":
		return plan(args[1:], stdout)
	case "images":
		return images(args[1:], stdout)
	case "objects":
		return objects(args[1:], stdout)
	case "preview", "up":
		return enginePreview(args[0], args[1:], stdout)
	case "charts":
		if len(args) < 2 || args[1] != "pull" {
			return usageError{"charts: want `charts pull`"}
		}
		return chartsPull(args[2:], stdout)
	case "cost":
		return cost(args[1:], stdout)
	case "dr":
		return drCommand(args[1:], stdout)
	case "verify":
		return verifyCommand(args[1:], stdout)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

func plan(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	stack := fs.String("stack", "", "stack name (a Pulumi.<stack>.yaml must exist)")
	format := fs.String("format", "text", "output format: text or json")
	out := fs.String("out", "", "write the plan to DIR/<stack>.txt or .json instead of stdout")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *stack == "" {
		return usageError{"plan: --stack is required"}
	}
	if *format != "text" && *format != "json" {
		return usageError{fmt.Sprintf("plan: --format %q: want text or json", *format)}
	}
	g, err := harness.Run(*stack)
	if err != nil {
		return err
	}
	pack, err := rules.Pack()
	if err != nil {
		return fmt.Errorf("policy pack: %w", err)
	}
	violations, err := rules.Evaluate(context.Background(), pack, g.PolicyResources())
	if err != nil {
		return err
	}
	p := planResult{graph: g, policies: len(pack.Policies()), violations: violations}
	if err := p.write(*format, *out, *stack, stdout); err != nil {
		return err
	}
	if n := p.mandatory(); n > 0 {
		return fmt.Errorf("plan %s: %d mandatory policy violation(s)", *stack, n)
	}
	return nil
}

// planResult is a plan and its policy results.
type planResult struct {
	graph      *harness.Graph
	policies   int
	violations []rules.Violation
}

func (p planResult) mandatory() int {
	n := 0
	for _, v := range p.violations {
		if v.Level == policyx.EnforcementLevelMandatory {
			n++
		}
	}
	return n
}

func (p planResult) write(format, out, stack string, stdout io.Writer) error {
	g := p.graph
	if out == "" {
		return p.render(format, stdout)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	ext := map[string]string{"text": "txt", "json": "json"}[format]
	path := filepath.Join(out, stack+"."+ext)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := p.render(format, f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = fmt.Fprintf(stdout, "wrote %s (%d resources, program %s)\n", path, len(g.Resources), g.ProgramTime.Round(1e6))
	return err
}

// jsonPlan is the graph plus the policy results.
type jsonPlan struct {
	harness.JSONPlan
	Violations []jsonViolation `json:"violations"`
}

type jsonViolation struct {
	Policy  string `json:"policy"`
	Level   string `json:"level"`
	URN     string `json:"urn"`
	Message string `json:"message"`
}

func (p planResult) render(format string, w io.Writer) error {
	if format == "json" {
		out := jsonPlan{JSONPlan: p.graph.JSON(), Violations: []jsonViolation{}}
		for _, v := range p.violations {
			out.Violations = append(out.Violations, jsonViolation{v.Policy, rules.LevelName(v.Level), v.URN, v.Message})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	var b bytes.Buffer
	if err := p.graph.WriteText(&b); err != nil {
		return err
	}
	writeFailover(&b, rules.FailoverPaths(p.graph.PolicyResources()))
	fmt.Fprintf(&b, "\nPolicies: %d checked, %d violation(s), %d mandatory\n", p.policies, len(p.violations), p.mandatory())
	for _, v := range p.violations {
		fmt.Fprintf(&b, "  %s\n", v)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeFailover prints, per DNS provider, the worst-case failover of the
// stack's answers against the seed's SLA and the platform's target.
func writeFailover(w io.Writer, paths []rules.FailoverPath) {
	if len(paths) == 0 {
		return
	}
	fmt.Fprintf(w, "\nFailover, worst case (target %v, SLA: detection %v, total %v):\n", slo.FailoverTarget, slo.FailoverDetectionSLA, slo.FailoverBudget)
	for _, provider := range []string{rules.ProviderRoute53, rules.ProviderCloudflare} {
		var worst *rules.FailoverPath
		n := 0
		for i, p := range paths {
			if p.Provider != provider {
				continue
			}
			n++
			if worst == nil || p.Total() > worst.Total() {
				worst = &paths[i]
			}
		}
		if worst == nil {
			fmt.Fprintf(w, "  %-10s  not used\n", provider)
			continue
		}
		verdict := "within target"
		switch {
		case worst.Detection > slo.FailoverDetectionSLA || worst.Total() > slo.FailoverBudget:
			verdict = "OVER THE SLA"
		case worst.Total() > slo.FailoverTarget:
			verdict = "over target"
		}
		fmt.Fprintf(w, "  %-10s  %v (%s; %d answer(s), worst %s): %s\n", provider, worst.Total(), worst.How, n, worst.Name, verdict)
	}
}
