package dr

import (
	"context"
	"fmt"
	"github.com/tars-platform/infra/components/geodns"
)

// Failover plans the promotion of region to when the other region is gone:
// the Postgres primary, the DNS primary and the singletons move to it in
// both stack files, only its stack is run, and it promotes without a
// token. What the lost primary had not yet streamed is lost: the last
// measured lag, stated in the plan. force skips the check that the other
// region is really gone.
func (d *DR) Failover(ctx context.Context, to string, force bool) (*Plan, error) {
	d.defaults()
	lost, err := d.other(to)
	if err != nil {
		return nil, fmt.Errorf("--to: %w", err)
	}
	all := []string{KeyPostgresPrimary, KeyDNSPrimary, KeySingletonsOwner}
	cfgs, agreeErr := d.agree(ctx)
	fresh := agreeErr == nil && cfgs[to].Topology.PostgresPrimary == lost
	p := &Plan{Command: fmt.Sprintf("%s failover --to %s", d.Command, to) + d.Flags}
	if force {
		p.Command += " --force"
	}
	bound := "unknown (no replication lag measured on " + to + ")"
	if pg, err := d.Reality.Postgres(ctx, to); err == nil && pg.LagKnown {
		bound = pg.Lag.String()
	}
	p.Notes = []string{
		fmt.Sprintf("Unplanned failover to %s: %s is treated as gone and its stack is not run.", to, lost),
		fmt.Sprintf("Data-loss bound: %s, the last measured replication lag of %s: writes %s committed within it before it failed are lost.", bound, to, lost),
		fmt.Sprintf("When %s is back: `%s rebuild --region %s` brings it back as a replica of %s.", lost, d.Command, lost, to),
	}
	p.Checks = []Check{
		{"the stack files agree", func(context.Context) (string, error) {
			if agreeErr != nil {
				return "", agreeErr
			}
			return "yes", nil
		}},
		{lost + " is gone", func(ctx context.Context) (string, error) {
			if !fresh {
				return "resuming: not required", nil
			}
			pg, pgErr := d.Reality.Postgres(ctx, lost)
			dns, dnsErr := d.Reality.DNS(ctx, lost)
			switch {
			case pgErr != nil && unreachable(pgErr):
				return fmt.Sprintf("its cluster does not answer: %v", pgErr), nil
			case dnsErr == nil && !dns.Healthy:
				return fmt.Sprintf("its Route 53 health check %s is unhealthy", dns.HealthCheckID), nil
			case pgErr == nil && !pg.Healthy():
				return fmt.Sprintf("its Cluster is unhealthy: %s", pg), nil
			case force:
				return fmt.Sprintf("%s still answers and looks healthy; --force given", lost), nil
			}
			return "", fmt.Errorf("%s answers and is healthy: use `%s switchover --to %s` (no data lost), or --force if it is not serving", lost, d.Command, to)
		}},
		{to + " has a healthy Cluster", func(ctx context.Context) (string, error) {
			pg, err := d.Reality.Postgres(ctx, to)
			if err != nil {
				return "", fmt.Errorf("%s: %w", to, err)
			}
			if !pg.Healthy() {
				return "", fmt.Errorf("%s", pg)
			}
			if fresh && pg.Primary {
				return "", fmt.Errorf("%s is already a primary (%s) while the stack files name %s: fix this by hand first", to, pg, lost)
			}
			return pg.String(), nil
		}},
		d.healthCheckHealthy(to, "no region would serve"),
	}
	p.Steps = []Action{
		{
			Title:   fmt.Sprintf("name %s the Postgres primary, DNS primary and singletons owner in both stack files", to),
			Changes: fmt.Sprintf("postgresPrimary, dnsPrimary and singletonsOwner = %s in Pulumi.%s.yaml and Pulumi.%s.yaml (the lost region's file too, so its rebuild follows)", to, to, lost),
			Done:    func(ctx context.Context) (bool, error) { return d.bothSay(ctx, all, to) },
			Run:     func(ctx context.Context) error { return d.setBoth(ctx, all, to) },
			Undo:    fmt.Sprintf("set the three keys back to %s in both stack files (nothing has run yet)", lost),
		},
		{
			Title:   fmt.Sprintf("promote %s without a token (pulumi up -s %s)", to, to),
			Changes: fmt.Sprintf("%s's Cluster becomes primary at once; its record of the failover name weighs 100; it takes over the geolocation default record (and the Cloudflare load balancer)", to),
			Done: func(ctx context.Context) (bool, error) {
				dep, err := d.deployed(ctx, to)
				if err != nil || dep.PostgresPrimary != to || dep.DNSPrimary != to || dep.SingletonsOwner != to {
					return false, err
				}
				pg, err := d.Reality.Postgres(ctx, to)
				return err == nil && pg.Primary, err
			},
			Run: func(ctx context.Context) error { return d.Up(ctx, to) },
			Verify: func(ctx context.Context) error {
				if err := d.waitPostgres(ctx, to, "promotion", func(p Postgres) bool { return p.Primary && p.Healthy() }); err != nil {
					return err
				}
				return d.waitDNS(ctx, to, geodns.PrimaryWeight, true)
			},
			Undo: fmt.Sprintf("none that keeps %s's new writes: once %s is back, `%s rebuild --region %s`, then a switchover if you want it primary again", to, lost, d.Command, lost),
		},
		{
			Title:   "verify writes",
			Changes: fmt.Sprintf("nothing but a marker row (written and read on %s, then deleted)", to),
			Run:     func(ctx context.Context) error { return d.verifyWrites(ctx, to, "", 0) },
		},
	}
	return p, nil
}
