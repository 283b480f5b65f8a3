package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/tars-platform/infra/dr"
	"github.com/tars-platform/infra/tests/harness"
	"github.com/tars-platform/infra/verify"
)

const verifyUsage = `usage: tarsctl verify --stack NAME | --region both
                      [--stacks us-east,us-west] [--only ID,ID] [--skip ID,ID]
                      [--out DIR] [--resolver HOST:PORT]

Runs seed 003's validation checklist against the deployed region (or both,
with the cross-region checks): each check's progress on stderr, then the
table; the same report as DIR/<run id>.json and .md (default DIR: out/verify).
Exits 1 when any check fails. Read-only, except a Postgres marker row and a
Redis key carrying the run id, deleted before the check ends.

Checks: ` + "%s" + `
`

func verifyCommand(args []string, stdout io.Writer) error {
	usage := fmt.Sprintf(verifyUsage, strings.Join(checkIDs(), ", "))
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	stack := fs.String("stack", "", "the region stack to verify")
	region := fs.String("region", "", "the region to verify, or both")
	stacksFlag := fs.String("stacks", "us-east,us-west", "the two region stacks (Pulumi.<stack>.yaml; org/tars/<stack> on Pulumi Cloud)")
	only := fs.String("only", "", "run only these checks (comma-separated IDs)")
	skip := fs.String("skip", "", "leave these checks out (comma-separated IDs)")
	out := fs.String("out", filepath.Join("out", "verify"), "where the JSON and Markdown reports go")
	resolver := fs.String("resolver", "", "the DNS server to ask for the global name (default: the system's resolver)")
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Sprintf("verify: %v\n%s", err, usage)}
	}
	names := strings.Split(*stacksFlag, ",")
	if len(names) != 2 || names[0] == "" || names[1] == "" || names[0] == names[1] {
		return usageError{fmt.Sprintf("verify: --stacks %q: want two different stack names, e.g. us-east,us-west\n%s", *stacksFlag, usage)}
	}
	all := []string{path.Base(names[0]), path.Base(names[1])}
	stackOf := map[string]string{all[0]: names[0], all[1]: names[1]}
	target := *region
	if *stack != "" {
		if target != "" {
			return usageError{"verify: give --stack or --region, not both\n" + usage}
		}
		target = path.Base(*stack)
	}
	var run []string
	switch target {
	case "":
		return usageError{"verify: --stack NAME or --region both is required\n" + usage}
	case "both":
		run = all
	case all[0], all[1]:
		run = []string{target}
	default:
		return usageError{fmt.Sprintf("verify: %q is not one of the stacks %s (or both)\n%s", target, strings.Join(all, ", "), usage)}
	}
	checks, err := verify.Select(verify.Checks(), verify.Selection{Only: splitList(*only), Skip: splitList(*skip)})
	if err != nil {
		return usageError{"verify: " + err.Error() + "\n" + usage}
	}
	for _, r := range all {
		if _, err := os.Stat("Pulumi." + r + ".yaml"); err != nil {
			return fmt.Errorf("verify: no Pulumi.%s.yaml here (run tarsctl from the repository root)", r)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	stk := dr.AutoStacks{Select: func(ctx context.Context, name string) (auto.Stack, error) {
		return auto.SelectStackLocalSource(ctx, stackOf[name], ".")
	}}
	env := &verify.Env{
		RunID:    newRunID(time.Now()),
		Regions:  map[string]*verify.Region{},
		Peers:    map[string]*verify.Region{},
		Route53:  dr.NewLive(stk.Outputs),
		Resolver: newResolver(*resolver),
	}
	var described []string
	for _, r := range all {
		o, err := stk.Outputs(ctx, r)
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		g, err := harness.Run(r)
		if err != nil {
			return fmt.Errorf("verify: the program's graph for %s: %w", r, err)
		}
		inv, err := g.Inventory(r)
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		reg := &verify.Region{Name: r, Inventory: inv, Outputs: o}
		if !slices.Contains(run, r) {
			env.Peers[r] = reg // read (its outputs), never touched
		} else {
			c, err := verify.NewKubeCluster(o.Kubeconfig)
			if err != nil {
				return fmt.Errorf("verify: region %s: %w", r, err)
			}
			reg.Cluster = c
			env.Regions[r] = reg
		}
		// Both stacks export the topology they deployed; when they
		// disagree (a DR operation half done), say so in the report.
		for _, p := range []struct {
			got, want *string
			what      string
		}{
			{&env.PostgresPrimary, &o.Deployed.PostgresPrimary, "postgresPrimary"},
			{&env.DNSPrimary, &o.Deployed.DNSPrimary, "dnsPrimary"},
		} {
			switch {
			case *p.want == "":
			case *p.got == "":
				*p.got = *p.want
			case *p.got != *p.want:
				described = append(described, fmt.Sprintf("the stacks deployed different %s: %s and %s (tarsctl dr status)", p.what, *p.got, *p.want))
			}
		}
		if slices.Contains(run, r) {
			desc := fmt.Sprintf("%s: stack %s", r, stackOf[r])
			if u, err := stk.LastUpdate(ctx, r); err == nil && !u.End.IsZero() {
				desc += fmt.Sprintf(", last %s %s at %s", u.Kind, u.Result, u.End.UTC().Format("2006-01-02 15:04 UTC"))
			}
			described = append(described, desc)
		}
	}
	fmt.Fprintf(os.Stderr, "verify %s: %d checks, run %s\n", strings.Join(run, " + "), len(checks), env.RunID)
	rep := verify.Run(ctx, env, checks, os.Stderr)
	rep.Stacks = described
	if err := writeReports(rep, *out, stdout); err != nil {
		return err
	}
	if n := rep.Failed(); n > 0 {
		return fmt.Errorf("verify: %d check(s) failed", n)
	}
	return nil
}

// writeReports prints the table and writes DIR/<run id>.json and .md.
func writeReports(rep verify.Report, dir string, stdout io.Writer) error {
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	for ext, write := range map[string]func(io.Writer) error{"json": rep.WriteJSON, "md": rep.WriteMarkdown} {
		p := filepath.Join(dir, rep.RunID+"."+ext)
		f, err := os.Create(p)
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		err = write(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("verify: write %s: %w", p, err)
		}
	}
	_, err := fmt.Fprintf(stdout, "reports: %s.json, %s.md\n", filepath.Join(dir, rep.RunID), filepath.Join(dir, rep.RunID))
	return err
}

// newRunID is "verify-<UTC time>-<4 random hex>": what the run writes
// (the marker row, the Redis key) carries it.
func newRunID(now time.Time) string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return "verify-" + now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

// newResolver asks server (host:port) instead of the system's resolver
// when given.
func newResolver(server string) *net.Resolver {
	if server == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
}

func checkIDs() []string {
	var ids []string
	for _, c := range verify.Checks() {
		ids = append(ids, c.ID)
	}
	return ids
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
