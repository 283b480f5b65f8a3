package dr

import (
	"context"
	"fmt"
	"github.com/tars-platform/infra/components/geodns"
)

// Switchover plans the planned move of the Postgres primary and the DNS
// primary to region to, with no data lost: the old primary is demoted by
// config and `pulumi up`, its demotion token promotes the target, then
// DNS follows and the writes are checked on both sides. The singletons
// stay where they are (they do not depend on which region is primary).
func (d *DR) Switchover(ctx context.Context, to string) (*Plan, error) {
	d.defaults()
	from, err := d.other(to)
	if err != nil {
		return nil, fmt.Errorf("--to: %w", err)
	}
	cfgs, agreeErr := d.agree(ctx)
	// A fresh start: the stack files still name the old primary. Later
	// (a resume) the start conditions no longer hold and are not checked.
	fresh := agreeErr == nil && cfgs[from].Topology.PostgresPrimary == from
	p := &Plan{Command: fmt.Sprintf("%s switchover --to %s", d.Command, to) + d.Flags}
	p.Notes = []string{
		fmt.Sprintf("Planned switchover of the Postgres primary and the DNS primary from %s to %s; no committed write is lost (the token makes %s replay everything %s wrote).", from, to, to, from),
		fmt.Sprintf("Writes stop from the demotion (step 2) until %s is promoted (step 4).", to),
	}
	p.Checks = []Check{
		{"the stack files agree", func(context.Context) (string, error) {
			if agreeErr != nil {
				return "", agreeErr
			}
			t := cfgs[from].Topology
			return fmt.Sprintf("singletonsOwner %s, postgresPrimary %s, dnsPrimary %s", t.SingletonsOwner, t.PostgresPrimary, t.DNSPrimary), nil
		}},
		{from + " is a healthy primary", func(ctx context.Context) (string, error) {
			if !fresh {
				return "resuming: not required", nil
			}
			pg, err := d.Reality.Postgres(ctx, from)
			if err != nil {
				return "", fmt.Errorf("%s: %w (if the region is gone, use `%s failover --to %s`)", from, err, d.Command, to)
			}
			if !pg.Primary || !pg.Healthy() {
				return "", fmt.Errorf("%s", pg)
			}
			return pg.String(), nil
		}},
		{to + " is a healthy replica within the lag target", func(ctx context.Context) (string, error) {
			if !fresh {
				return "resuming: not required", nil
			}
			pg, err := d.Reality.Postgres(ctx, to)
			if err != nil {
				return "", fmt.Errorf("%s: %w", to, err)
			}
			switch {
			case pg.Primary:
				return "", fmt.Errorf("%s is already a primary (%s) while the stack files name %s: two primaries; fix this by hand first", to, pg, from)
			case !pg.Healthy():
				return "", fmt.Errorf("%s is not healthy: %s", to, pg)
			case pg.Following != clusterName(from):
				return "", fmt.Errorf("%s replicates from %q, not %s", to, pg.Following, clusterName(from))
			case !pg.LagKnown:
				return "", fmt.Errorf("%s: no replication lag is measured (cnpg_pg_replication_lag): cannot tell it is caught up", to)
			case pg.Lag >= d.LagTarget:
				return "", fmt.Errorf("%s lags %s, over the %s target: wait for it to catch up", to, pg.Lag, d.LagTarget)
			}
			return pg.String(), nil
		}},
		d.healthCheckHealthy(to, "DNS would send everyone to a failing region"),
	}
	rollbackPG := fmt.Sprintf("set tars:topology.postgresPrimary back to %s in both stack files (`pulumi config set --path %s %s -s <stack>`) and `pulumi up -s %s`: %s becomes primary again (nothing was written on %s)", from, KeyPostgresPrimary, from, from, from, to)
	p.Steps = []Action{
		{
			Title:   fmt.Sprintf("name %s the Postgres primary in both stack files", to),
			Changes: fmt.Sprintf("%s = %s in Pulumi.%s.yaml and Pulumi.%s.yaml (pulumi config set --path)", KeyPostgresPrimary, to, from, to),
			Done:    func(ctx context.Context) (bool, error) { return d.bothSay(ctx, []string{KeyPostgresPrimary}, to) },
			Run:     func(ctx context.Context) error { return d.setBoth(ctx, []string{KeyPostgresPrimary}, to) },
			Undo:    fmt.Sprintf("set %s back to %s in both stack files", KeyPostgresPrimary, from),
		},
		{
			Title:   fmt.Sprintf("demote %s (pulumi up -s %s)", from, from),
			Changes: fmt.Sprintf("%s's Cluster spec.replica.primary becomes %s: CloudNativePG stops writes, archives the shutdown checkpoint and writes a demotion token", from, clusterName(to)),
			Done: func(ctx context.Context) (bool, error) {
				dep, err := d.deployed(ctx, from)
				return err == nil && dep.PostgresPrimary == to, err
			},
			Run: func(ctx context.Context) error { return d.Up(ctx, from) },
			Verify: func(ctx context.Context) error {
				return d.waitPostgres(ctx, from, "demotion and its token", func(p Postgres) bool { return !p.Primary && p.DemotionToken != "" })
			},
			Undo: rollbackPG,
		},
		{
			Title:   fmt.Sprintf("hand %s's demotion token to %s", from, to),
			Changes: fmt.Sprintf("%s = %s's .status.demotionToken in Pulumi.%s.yaml", KeyPromotionToken, clusterName(from), to),
			Done: func(ctx context.Context) (bool, error) {
				if pg, err := d.Reality.Postgres(ctx, to); err == nil && pg.Primary {
					return true, nil
				}
				old, err := d.Reality.Postgres(ctx, from)
				if err != nil {
					return false, err
				}
				c, err := d.Stacks.Config(ctx, to)
				return err == nil && old.DemotionToken != "" && c.PromotionToken == old.DemotionToken, err
			},
			Run: func(ctx context.Context) error {
				old, err := d.Reality.Postgres(ctx, from)
				if err != nil {
					return err
				}
				if old.DemotionToken == "" {
					return fmt.Errorf("%s has no demotion token (%s)", from, old)
				}
				return d.Stacks.Set(ctx, to, KeyPromotionToken, old.DemotionToken)
			},
			Undo: fmt.Sprintf("`pulumi config rm --path %s -s %s`, then: %s", KeyPromotionToken, to, rollbackPG),
		},
		{
			Title:   fmt.Sprintf("promote %s (pulumi up -s %s)", to, to),
			Changes: fmt.Sprintf("%s's Cluster gets spec.replica.primary %s and the token: CloudNativePG replays up to the token's checkpoint and promotes; %s then replicates from %s", to, clusterName(to), from, to),
			Done: func(ctx context.Context) (bool, error) {
				pg, err := d.Reality.Postgres(ctx, to)
				return err == nil && pg.Primary, err
			},
			Run: func(ctx context.Context) error { return d.Up(ctx, to) },
			Verify: func(ctx context.Context) error {
				if err := d.waitPostgres(ctx, to, "promotion", func(p Postgres) bool { return p.Primary && p.Healthy() }); err != nil {
					return err
				}
				return d.waitPostgres(ctx, from, "following "+clusterName(to), func(p Postgres) bool {
					return !p.Primary && p.Following == clusterName(to) && p.Healthy()
				})
			},
			Undo: fmt.Sprintf("a switchover back: `%s switchover --to %s --yes` once this one is resumed to the end (%s is primary now)", d.Command, from, to),
		},
		{
			Title:   fmt.Sprintf("name %s the DNS primary in both stack files and drop the token", to),
			Changes: fmt.Sprintf("%s = %s in both stack files; %s removed from Pulumi.%s.yaml", KeyDNSPrimary, to, KeyPromotionToken, to),
			Done: func(ctx context.Context) (bool, error) {
				ok, err := d.bothSay(ctx, []string{KeyDNSPrimary}, to)
				if err != nil || !ok {
					return false, err
				}
				c, err := d.Stacks.Config(ctx, to)
				return err == nil && c.PromotionToken == "", err
			},
			Run: func(ctx context.Context) error {
				if err := d.setBoth(ctx, []string{KeyDNSPrimary}, to); err != nil {
					return err
				}
				c, err := d.Stacks.Config(ctx, to)
				if err != nil || c.PromotionToken == "" {
					return err
				}
				return d.Stacks.Remove(ctx, to, KeyPromotionToken)
			},
		},
		{
			Title:   fmt.Sprintf("DNS primary %s (pulumi up -s %s)", to, to),
			Changes: fmt.Sprintf("%s's record of the failover name weighs 100; the token leaves its Cluster spec", to),
			Done: func(ctx context.Context) (bool, error) {
				dep, err := d.deployed(ctx, to)
				return err == nil && dep.DNSPrimary == to && !dep.PromotionToken, err
			},
			Run: func(ctx context.Context) error { return d.Up(ctx, to) },
			Verify: func(ctx context.Context) error {
				return d.waitDNS(ctx, to, geodns.PrimaryWeight, true)
			},
			Undo: fmt.Sprintf("set %s back to %s in both stack files and `pulumi up` both stacks", KeyDNSPrimary, from),
		},
		{
			Title:   fmt.Sprintf("DNS standby %s (pulumi up -s %s)", from, from),
			Changes: fmt.Sprintf("%s's record of the failover name weighs 0 (answered only while %s is unhealthy)", from, to),
			Done: func(ctx context.Context) (bool, error) {
				dep, err := d.deployed(ctx, from)
				return err == nil && dep.DNSPrimary == to, err
			},
			Run:    func(ctx context.Context) error { return d.Up(ctx, from) },
			Verify: func(ctx context.Context) error { return d.waitDNS(ctx, from, geodns.StandbyWeight, false) },
			Undo:   fmt.Sprintf("set %s back to %s in both stack files and `pulumi up` both stacks", KeyDNSPrimary, from),
		},
		{
			Title:   "verify writes",
			Changes: fmt.Sprintf("nothing but a marker row (written on %s, read on %s within %s, then deleted)", to, from, d.LagTarget),
			Run:     func(ctx context.Context) error { return d.verifyWrites(ctx, to, from, d.LagTarget) },
		},
	}
	return p, nil
}

// waitDNS polls a region's record weight (and, for the primary, its
// health) until it is what the stack deployed.
func (d *DR) waitDNS(ctx context.Context, r string, weight int64, healthy bool) error {
	return d.poll(ctx, func(ctx context.Context) (bool, string, error) {
		dns, err := d.Reality.DNS(ctx, r)
		if err != nil {
			return false, err.Error(), nil
		}
		ok := dns.Weight == weight && (!healthy || dns.Healthy)
		return ok, fmt.Sprintf("%s: record weight %d (want %d), health check healthy %t", r, dns.Weight, weight, dns.Healthy), nil
	})
}
