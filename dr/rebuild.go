package dr

import (
	"context"
	"fmt"
	"github.com/tars-platform/infra/components/geodns"
	"strings"
)

// Rebuild plans bringing a lost region back as a replica of the survivor:
// `pulumi up` of its stack (a new Cluster restores the survivor's latest
// base backup and streams), then the runs that re-pair the two stacks
// (the peering, the stack references) until neither has changes, then
// replication and DNS are verified. A Cluster that survived as a primary
// has diverged: with discardDiverged it is deleted first (its claims go
// with it; their volumes, on the Retain class, stay Released until an SRE
// deletes them), otherwise the plan refuses.
func (d *DR) Rebuild(ctx context.Context, region string, discardDiverged bool) (*Plan, error) {
	d.defaults()
	survivor, err := d.other(region)
	if err != nil {
		return nil, fmt.Errorf("--region: %w", err)
	}
	cfgs, agreeErr := d.agree(ctx)
	p := &Plan{Command: fmt.Sprintf("%s rebuild --region %s", d.Command, region) + d.Flags}
	if discardDiverged {
		p.Command += " --discard-diverged"
	}
	p.Notes = []string{fmt.Sprintf("Rebuild %s as a replica of %s; %s keeps serving throughout.", region, survivor, survivor)}
	old, oldErr := d.Reality.Postgres(ctx, region)
	diverged := oldErr == nil && old.Cluster != "" && old.Primary
	p.Checks = []Check{
		{"the stack files agree and name " + survivor + " the Postgres primary", func(context.Context) (string, error) {
			if agreeErr != nil {
				return "", agreeErr
			}
			if pp := cfgs[region].Topology.PostgresPrimary; pp != survivor {
				return "", fmt.Errorf("the stack files name %s the Postgres primary: run `%s failover --to %s` first", pp, d.Command, survivor)
			}
			return "yes", nil
		}},
		{survivor + " is a healthy primary", func(ctx context.Context) (string, error) {
			pg, err := d.Reality.Postgres(ctx, survivor)
			if err != nil {
				return "", fmt.Errorf("%s: %w", survivor, err)
			}
			if !pg.Primary || !pg.Healthy() {
				return "", fmt.Errorf("%s", pg)
			}
			return pg.String(), nil
		}},
		{region + "'s old Cluster has not diverged", func(context.Context) (string, error) {
			switch {
			case agreeErr == nil && cfgs[region].Topology.PostgresPrimary == region:
				return "", fmt.Errorf("%s is the Postgres primary the stack files name: it is not a lost region", region)
			case oldErr != nil && unreachable(oldErr):
				return "the region's cluster does not answer yet: everything is created anew", nil
			case oldErr != nil:
				return "", oldErr
			case !diverged:
				return old.String(), nil
			case discardDiverged:
				return fmt.Sprintf("%s survived as a primary (timeline %d): it will be deleted (--discard-diverged)", old.Cluster, old.Timeline), nil
			}
			return "", fmt.Errorf("%s survived as a primary (timeline %d); its timeline diverged from %s's: pass --discard-diverged to delete it (its claims go with it; the volumes stay Released on the Retain class; copy what it alone holds first) and rebuild it from %s's backups", old.Cluster, old.Timeline, survivor, survivor)
		}},
	}
	if diverged && discardDiverged {
		p.Steps = append(p.Steps, Action{
			Title:   fmt.Sprintf("delete %s's diverged Cluster and refresh its stack", region),
			Changes: fmt.Sprintf("deletes Cluster %s and its claims (the volumes stay, Released); `pulumi refresh -s %s` forgets it", old.Cluster, region),
			Done: func(ctx context.Context) (bool, error) {
				pg, err := d.Reality.Postgres(ctx, region)
				return err == nil && (pg.Cluster == "" || !pg.Primary), err
			},
			Run: func(ctx context.Context) error {
				if err := d.Reality.DeleteCluster(ctx, region); err != nil {
					return err
				}
				return d.Stacks.Refresh(ctx, region, d.Log)
			},
		})
	}
	settled := func(ctx context.Context) (bool, []string, error) {
		var pending []string
		for _, r := range []string{region, survivor} {
			steps, err := d.Stacks.Preview(ctx, r)
			if err != nil {
				return false, nil, err
			}
			if len(steps) > 0 {
				pending = append(pending, fmt.Sprintf("%s: %d changes", r, len(steps)))
			}
		}
		return len(pending) == 0, pending, nil
	}
	p.Steps = append(p.Steps,
		Action{
			Title:   fmt.Sprintf("rebuild %s (pulumi up -s %s)", region, region),
			Changes: fmt.Sprintf("creates what %s lacks; its Cluster restores %s's latest base backup and WAL and streams from it", region, survivor),
			Done: func(ctx context.Context) (bool, error) {
				pg, err := d.Reality.Postgres(ctx, region)
				if err != nil || pg.Primary || pg.Following != clusterName(survivor) {
					return false, nil
				}
				steps, err := d.Stacks.Preview(ctx, region)
				return err == nil && len(steps) == 0, err
			},
			Run: func(ctx context.Context) error { return d.Up(ctx, region) },
			Verify: func(ctx context.Context) error {
				return d.waitPostgres(ctx, region, "a healthy replica of "+clusterName(survivor), func(p Postgres) bool {
					return p.Cluster != "" && !p.Primary && p.Following == clusterName(survivor) && p.Healthy()
				})
			},
			Undo: fmt.Sprintf("`pulumi destroy -s %s` removes the rebuilt region again (%s is untouched)", region, survivor),
		},
		Action{
			Title:   "re-pair the stacks until neither has changes",
			Changes: fmt.Sprintf("`pulumi up -s %s` (the new VPC's peering, the new outputs), then each stack whose preview still plans changes, at most twice", survivor),
			Done: func(ctx context.Context) (bool, error) {
				ok, _, err := settled(ctx)
				return ok, err
			},
			Run: func(ctx context.Context) error {
				if err := d.Up(ctx, survivor); err != nil {
					return err
				}
				for round := 0; round < 2; round++ {
					for _, r := range []string{region, survivor} {
						steps, err := d.Stacks.Preview(ctx, r)
						if err != nil {
							return err
						}
						if len(steps) > 0 {
							if err := d.Up(ctx, r); err != nil {
								return err
							}
						}
					}
				}
				return nil
			},
			Verify: func(ctx context.Context) error {
				ok, pending, err := settled(ctx)
				if err == nil && !ok {
					err = fmt.Errorf("the stacks still plan changes after two rounds (a perpetual diff?): %s", strings.Join(pending, "; "))
				}
				return err
			},
		},
		Action{
			Title:   "verify replication and DNS",
			Changes: fmt.Sprintf("nothing but a marker row (written on %s, read on %s within %s, then deleted)", survivor, region, d.LagTarget),
			Run: func(ctx context.Context) error {
				if err := d.waitPostgres(ctx, region, "lag under "+d.LagTarget.String(), func(p Postgres) bool {
					return p.LagKnown && p.Lag < d.LagTarget
				}); err != nil {
					return err
				}
				if err := d.verifyWrites(ctx, survivor, region, d.LagTarget); err != nil {
					return err
				}
				dep, err := d.deployed(ctx, region)
				if err != nil {
					return err
				}
				want := int64(geodns.StandbyWeight)
				if dep.DNSPrimary == region {
					want = geodns.PrimaryWeight
				}
				return d.waitDNS(ctx, region, want, true)
			},
		},
	)
	return p, nil
}
