package dr

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/tars-platform/infra/slo"
)

// DR plans the commands over the two region stacks.
type DR struct {
	Stacks  Stacks
	Reality Reality
	// Regions are the two region stacks (their stack files'
	// tars:topology.region).
	Regions [2]string
	// LagTarget: a switchover starts only with the target's replication
	// lag under it. Default slo.ReplicationLagTarget (seed 003: < 5 s).
	LagTarget time.Duration
	// Wait bounds each verification (demotion, promotion, replication,
	// DNS); Interval is how often it looks. Defaults 10 min and 5 s.
	Wait, Interval time.Duration
	// Command prefixes the resume hints ("tarsctl dr"); Flags follow them
	// (e.g. " --offline --dir DIR").
	Command, Flags string
	// Log receives the engine's output of each update.
	Log io.Writer
}

func (d *DR) defaults() {
	if d.LagTarget == 0 {
		d.LagTarget = slo.ReplicationLagTarget
	}
	if d.Wait == 0 {
		d.Wait = 10 * time.Minute
	}
	if d.Interval == 0 {
		d.Interval = 5 * time.Second
	}
	if d.Command == "" {
		d.Command = "tarsctl dr"
	}
	if d.Log == nil {
		d.Log = io.Discard
	}
}

// other is the region that is not r; an unknown region is an error naming
// the two.
func (d *DR) other(r string) (string, error) {
	switch r {
	case d.Regions[0]:
		return d.Regions[1], nil
	case d.Regions[1]:
		return d.Regions[0], nil
	}
	return "", fmt.Errorf("unknown region %q: want %s or %s", r, d.Regions[0], d.Regions[1])
}

// Up previews the stack and refuses when the update would replace or
// delete anything stateful; otherwise it runs `pulumi up`.
func (d *DR) Up(ctx context.Context, stack string) error {
	d.defaults()
	steps, err := d.Stacks.Preview(ctx, stack)
	if err != nil {
		return err
	}
	if bad := Stateful(steps); len(bad) > 0 {
		var lines []string
		for _, s := range bad {
			lines = append(lines, s.String())
		}
		return fmt.Errorf("refusing `pulumi up -s %s`: its preview would replace or delete stateful resources:\n  %s", stack, strings.Join(lines, "\n  "))
	}
	_, err = d.Stacks.Up(ctx, stack, d.Log)
	return err
}

// agree checks that both stack files carry the same shared topology and
// returns it.
func (d *DR) agree(ctx context.Context) (map[string]Config, error) {
	cfgs := map[string]Config{}
	for _, r := range d.Regions {
		c, err := d.Stacks.Config(ctx, r)
		if err != nil {
			return nil, err
		}
		if c.Topology.Region != r {
			return nil, fmt.Errorf("stack %s: tars:topology.region is %q, want %q", r, c.Topology.Region, r)
		}
		cfgs[r] = c
	}
	a, b := cfgs[d.Regions[0]].Topology, cfgs[d.Regions[1]].Topology
	var diffs []string
	for _, f := range []struct{ key, x, y string }{
		{"singletonsOwner", a.SingletonsOwner, b.SingletonsOwner},
		{"postgresPrimary", a.PostgresPrimary, b.PostgresPrimary},
		{"dnsPrimary", a.DNSPrimary, b.DNSPrimary},
	} {
		if f.x != f.y {
			diffs = append(diffs, fmt.Sprintf("tars:topology.%s is %s in %s and %s in %s", f.key, f.x, d.Regions[0], f.y, d.Regions[1]))
		}
	}
	if len(diffs) > 0 {
		return cfgs, fmt.Errorf("the stack files disagree: %s", strings.Join(diffs, "; "))
	}
	return cfgs, nil
}

// setBoth sets key to value in both stack files (where it differs).
func (d *DR) setBoth(ctx context.Context, keys []string, value string) error {
	for _, r := range d.Regions {
		c, err := d.Stacks.Config(ctx, r)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if topologyField(c, k) == value {
				continue
			}
			if err := d.Stacks.Set(ctx, r, k, value); err != nil {
				return err
			}
		}
	}
	return nil
}

func topologyField(c Config, key string) string {
	switch key {
	case KeySingletonsOwner:
		return c.Topology.SingletonsOwner
	case KeyPostgresPrimary:
		return c.Topology.PostgresPrimary
	case KeyDNSPrimary:
		return c.Topology.DNSPrimary
	}
	return ""
}

// bothSay reports whether both stack files set every key to value.
func (d *DR) bothSay(ctx context.Context, keys []string, value string) (bool, error) {
	for _, r := range d.Regions {
		c, err := d.Stacks.Config(ctx, r)
		if err != nil {
			return false, err
		}
		for _, k := range keys {
			if topologyField(c, k) != value {
				return false, nil
			}
		}
	}
	return true, nil
}

func (d *DR) deployed(ctx context.Context, r string) (Deployed, error) {
	o, err := d.Stacks.Outputs(ctx, r)
	return o.Deployed, err
}

func (d *DR) poll(ctx context.Context, f func(ctx context.Context) (bool, string, error)) error {
	return Poll(ctx, d.Wait, d.Interval, f)
}

// waitPostgres polls a region's Cluster until want accepts it.
func (d *DR) waitPostgres(ctx context.Context, r, what string, want func(Postgres) bool) error {
	return d.poll(ctx, func(ctx context.Context) (bool, string, error) {
		p, err := d.Reality.Postgres(ctx, r)
		if err != nil {
			return false, err.Error(), nil
		}
		return want(p), fmt.Sprintf("%s: waiting for %s; %s", r, what, p), nil
	})
}

func (p Postgres) String() string {
	if p.Cluster == "" {
		return "no Cluster"
	}
	role := "primary"
	if !p.Primary {
		role = "replica of " + p.Following
	}
	s := fmt.Sprintf("%s %s, %q, %d/%d ready, timeline %d", p.Cluster, role, p.Phase, p.ReadyInstances, p.Instances, p.Timeline)
	if p.LagKnown {
		s += fmt.Sprintf(", lag %s", p.Lag)
	}
	if p.DemotionToken != "" {
		s += ", demotion token issued"
	}
	return s
}

func clusterName(region string) string { return "tars-pg-" + region }

// verifyWrites writes a marker on the primary region and waits until it
// reads back there and, when follower is set, on the follower's replica
// within bound; the marker is deleted afterwards.
func (d *DR) verifyWrites(ctx context.Context, primary, follower string, bound time.Duration) error {
	id := newMarkerID()
	if err := d.Reality.WriteMarker(ctx, primary, id); err != nil {
		return fmt.Errorf("write a marker row on %s: %w", primary, err)
	}
	defer func() { _ = d.Reality.DeleteMarker(context.WithoutCancel(ctx), primary, id) }()
	if ok, err := d.Reality.ReadMarker(ctx, primary, id); err != nil || !ok {
		return fmt.Errorf("the marker row written on %s does not read back there (err %v)", primary, err)
	}
	if follower == "" {
		return nil
	}
	return Poll(ctx, bound, min(d.Interval, time.Second), func(ctx context.Context) (bool, string, error) {
		ok, err := d.Reality.ReadMarker(ctx, follower, id)
		if err != nil {
			return false, err.Error(), nil
		}
		return ok, fmt.Sprintf("marker %s written on %s not yet on %s", id, primary, follower), nil
	})
}

func newMarkerID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("dr-%d-%s", time.Now().Unix(), hex.EncodeToString(b))
}

// unreachable reports whether err says a region cannot be reached.
func unreachable(err error) bool { return errors.Is(err, ErrUnreachable) }

func contains(rs [2]string, r string) bool { return slices.Contains(rs[:], r) }

// healthCheckHealthy is the pre-check that region r's Route 53 health
// check passes; why says what an unhealthy one would mean.
func (d *DR) healthCheckHealthy(r, why string) Check {
	return Check{r + "'s health check is healthy", func(ctx context.Context) (string, error) {
		dns, err := d.Reality.DNS(ctx, r)
		if err != nil {
			return "", fmt.Errorf("%s: %w", r, err)
		}
		if !dns.Healthy {
			return "", fmt.Errorf("Route 53 health check %s of %s is unhealthy: %s", dns.HealthCheckID, r, why)
		}
		return fmt.Sprintf("health check %s healthy", dns.HealthCheckID), nil
	}}
}
