package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/tars-platform/infra/dr"
	"github.com/tars-platform/infra/tests/drfake"
	"github.com/tars-platform/infra/tests/engine"
)

const drUsage = `usage: tarsctl dr status [--json]
       tarsctl dr switchover --to REGION [--yes]
       tarsctl dr failover --to REGION [--yes] [--force]
       tarsctl dr rebuild --region REGION [--yes] [--discard-diverged]
       tarsctl dr simulate --region REGION [--gone|--back] [--lag D] [--unhealthy|--healthy]   (--offline only)
common flags: [--stacks us-east,us-west (or org/tars/us-east,...)] [--wait 10m] [--offline [--dir DIR]]

Every command prints its plan and pre-checks and changes nothing without --yes.
The stacks are driven with the Automation API from the repository root (the
Pulumi CLI on PATH, logged in to the stacks' backend); reality is read with the
stacks' kubeconfig outputs (client-go) and Route 53 (the AWS SDK's default
credentials). The engine's output of each update goes to stderr.
--offline runs against the engine tier instead (tarsctl up's backend in DIR,
the stand-in providers, CloudNativePG and Route 53 simulated): a DR drill on a
machine without a cloud; 'simulate' breaks or heals a region there.
`

func drCommand(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"dr: want status, switchover, failover, rebuild or simulate\n" + drUsage}
	}
	sub := args[0]
	fs := flag.NewFlagSet("dr "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	stacksFlag := fs.String("stacks", "us-east,us-west", "the two region stacks (Pulumi.<stack>.yaml)")
	wait := fs.Duration("wait", 10*time.Minute, "how long each verification waits")
	offline := fs.Bool("offline", false, "drive the engine tier's offline stacks (a drill)")
	dir := fs.String("dir", "", "--offline: the engine backend directory (default <user cache>/tars/engine)")
	yes := fs.Bool("yes", false, "carry the plan out")
	to := fs.String("to", "", "switchover, failover: the region to make primary")
	region := fs.String("region", "", "rebuild, simulate: the region")
	force := fs.Bool("force", false, "failover: even though the other region still answers")
	discard := fs.Bool("discard-diverged", false, "rebuild: delete a Cluster that survived as a primary")
	asJSON := fs.Bool("json", false, "status: print JSON")
	gone := fs.Bool("gone", false, "simulate: the region stops answering")
	back := fs.Bool("back", false, "simulate: the region answers again")
	lag := fs.Duration("lag", -1, "simulate: the region's replication lag")
	unhealthy := fs.Bool("unhealthy", false, "simulate: its Route 53 health check fails")
	healthy := fs.Bool("healthy", false, "simulate: its Route 53 health check passes")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{fmt.Sprintf("dr %s: %v\n%s", sub, err, drUsage)}
	}
	// A stack is named after its region; on Pulumi Cloud pass
	// org/tars/us-east: the region is the last part.
	names := strings.Split(*stacksFlag, ",")
	if len(names) != 2 || names[0] == "" || names[1] == "" || names[0] == names[1] {
		return usageError{fmt.Sprintf("dr: --stacks %q: want two different stack names, e.g. us-east,us-west", *stacksFlag)}
	}
	regions := []string{path.Base(names[0]), path.Base(names[1])}
	stackOf := map[string]string{regions[0]: names[0], regions[1]: names[1]}
	for _, r := range regions {
		if _, err := os.Stat("Pulumi." + r + ".yaml"); err != nil {
			return fmt.Errorf("dr: no Pulumi.%s.yaml here (run tarsctl from the repository root)", r)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Hour)
	defer cancel()

	d := &dr.DR{Regions: [2]string{regions[0], regions[1]}, Wait: *wait, Log: os.Stderr}
	var fake *drfake.Fake
	if *offline {
		abs, err := engineDir(*dir)
		if err != nil {
			return err
		}
		// The drill edits the stack files in DIR/work, not the repository's.
		rig, err := engine.Open(".", abs)
		if err != nil {
			return fmt.Errorf("dr --offline: %w", err)
		}
		d.Stacks = dr.AutoStacks{Select: rig.Stack}
		fake = drfake.New(filepath.Join(abs, "reality.json"), rig.Stack)
		d.Reality = fake
		d.Flags = " --offline --dir " + abs
		d.Interval = 500 * time.Millisecond
	} else {
		stk := dr.AutoStacks{Select: func(ctx context.Context, name string) (auto.Stack, error) {
			return auto.SelectStackLocalSource(ctx, stackOf[name], ".")
		}}
		d.Stacks = stk
		d.Reality = dr.NewLive(stk.Outputs)
	}

	var plan *dr.Plan
	var err error
	switch sub {
	case "status":
		st, err := d.Status(ctx)
		if err != nil {
			return fmt.Errorf("dr status: %w", err)
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(st); err != nil {
				return err
			}
		} else {
			st.Print(stdout, time.Now())
		}
		if !st.Agree() {
			return errors.New("dr status: config and reality disagree")
		}
		return nil
	case "switchover":
		if *to == "" {
			return usageError{"dr switchover: --to is required\n" + drUsage}
		}
		plan, err = d.Switchover(ctx, *to)
	case "failover":
		if *to == "" {
			return usageError{"dr failover: --to is required\n" + drUsage}
		}
		plan, err = d.Failover(ctx, *to, *force)
	case "rebuild":
		if *region == "" {
			return usageError{"dr rebuild: --region is required\n" + drUsage}
		}
		plan, err = d.Rebuild(ctx, *region, *discard)
	case "simulate":
		if fake == nil {
			return usageError{"dr simulate: only with --offline (it changes the simulated reality of the drill)"}
		}
		if *region != regions[0] && *region != regions[1] {
			return usageError{fmt.Sprintf("dr simulate: --region %q: want %s or %s", *region, regions[0], regions[1])}
		}
		if err := fake.Update(func(s *drfake.State) {
			r := s.Region(*region)
			switch {
			case *gone:
				r.Unreachable = true
			case *back:
				r.Unreachable = false
			}
			if *lag >= 0 {
				r.Lag = *lag
			}
			if *unhealthy {
				r.Unhealthy = true
			}
			if *healthy {
				r.Unhealthy = false
			}
		}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "simulated %s: updated %s\n", *region, fake.Path)
		return nil
	default:
		return usageError{fmt.Sprintf("dr: unknown command %q\n%s", sub, drUsage)}
	}
	if err != nil {
		return fmt.Errorf("dr %s: %w", sub, err)
	}
	err = plan.Execute(ctx, stdout, dr.Options{Yes: *yes})
	if errors.Is(err, dr.ErrNotConfirmed) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dr %s: %w", sub, err)
	}
	return nil
}
