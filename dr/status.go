package dr

import (
	"context"
	"fmt"
	"github.com/tars-platform/infra/components/geodns"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// RegionStatus is one region as `tarsctl dr status` shows it: its stack
// file, what its last update deployed, and what is really running.
type RegionStatus struct {
	Region     string    `json:"region"`
	LastUpdate Update    `json:"lastUpdate"`
	Config     Config    `json:"config"`
	Deployed   *Deployed `json:"deployed,omitempty"`
	Postgres   *Postgres `json:"postgres,omitempty"`
	DNS        *DNS      `json:"dns,omitempty"`
	// Errors reading each part (an unreachable region is not an error of
	// the command).
	Errors []string `json:"errors,omitempty"`
}

// Status is both regions and whether config and reality agree.
type Status struct {
	Regions []RegionStatus `json:"regions"`
	// Disagreements lists every way the stack files, the deployed
	// stacks and reality differ; empty means they agree.
	Disagreements []string `json:"disagreements"`
	// Objectives the first region's stack file promises.
	Objectives Objectives `json:"objectives"`
}

// Agree: config, deployment and reality tell the same story.
func (s Status) Agree() bool { return len(s.Disagreements) == 0 }

// Status reads both regions.
func (d *DR) Status(ctx context.Context) (Status, error) {
	d.defaults()
	var st Status
	for _, r := range d.Regions {
		rs := RegionStatus{Region: r}
		c, err := d.Stacks.Config(ctx, r)
		if err != nil {
			return Status{}, err
		}
		rs.Config = c
		if u, err := d.Stacks.LastUpdate(ctx, r); err != nil {
			rs.Errors = append(rs.Errors, err.Error())
		} else {
			rs.LastUpdate = u
		}
		if o, err := d.Stacks.Outputs(ctx, r); err != nil {
			rs.Errors = append(rs.Errors, err.Error())
		} else {
			rs.Deployed = &o.Deployed
		}
		if pg, err := d.Reality.Postgres(ctx, r); err != nil {
			rs.Errors = append(rs.Errors, "postgres: "+err.Error())
		} else {
			rs.Postgres = &pg
		}
		if dns, err := d.Reality.DNS(ctx, r); err != nil {
			rs.Errors = append(rs.Errors, "dns: "+err.Error())
		} else {
			rs.DNS = &dns
		}
		st.Regions = append(st.Regions, rs)
	}
	st.Disagreements = d.disagreements(st.Regions)
	st.Objectives = ObjectivesOf(st.Regions[0].Config)
	return st, nil
}

func (d *DR) disagreements(rs []RegionStatus) []string {
	var out []string
	a, b := rs[0], rs[1]
	ta, tb := a.Config.Topology, b.Config.Topology
	for _, f := range []struct{ key, x, y string }{
		{"singletonsOwner", ta.SingletonsOwner, tb.SingletonsOwner},
		{"postgresPrimary", ta.PostgresPrimary, tb.PostgresPrimary},
		{"dnsPrimary", ta.DNSPrimary, tb.DNSPrimary},
	} {
		if f.x != f.y {
			out = append(out, fmt.Sprintf("stack files: tars:topology.%s is %s in %s and %s in %s", f.key, f.x, a.Region, f.y, b.Region))
		}
	}
	for _, r := range rs {
		t := r.Config.Topology
		if r.Deployed != nil {
			for _, f := range []struct{ key, file, dep string }{
				{"singletonsOwner", t.SingletonsOwner, r.Deployed.SingletonsOwner},
				{"postgresPrimary", t.PostgresPrimary, r.Deployed.PostgresPrimary},
				{"dnsPrimary", t.DNSPrimary, r.Deployed.DNSPrimary},
			} {
				if f.file != f.dep {
					out = append(out, fmt.Sprintf("%s: the stack file says %s %s, its last update deployed %s (pulumi up -s %s pending)", r.Region, f.key, f.file, f.dep, r.Region))
				}
			}
			if r.Deployed.PromotionToken && r.Postgres != nil && r.Postgres.Primary {
				out = append(out, fmt.Sprintf("%s: promoted, but its Cluster still carries the promotion token: remove %s and pulumi up -s %s", r.Region, KeyPromotionToken, r.Region))
			}
		}
		if pg := r.Postgres; pg != nil && pg.Cluster != "" {
			wantPrimary := t.PostgresPrimary == r.Region
			switch {
			case pg.Primary != wantPrimary:
				out = append(out, fmt.Sprintf("%s: the stack file names %s the Postgres primary, but %s is %s", r.Region, t.PostgresPrimary, pg.Cluster, roleOf(*pg)))
			case !pg.Primary && pg.Following != clusterName(t.PostgresPrimary):
				out = append(out, fmt.Sprintf("%s: %s replicates from %q, not %s", r.Region, pg.Cluster, pg.Following, clusterName(t.PostgresPrimary)))
			}
		}
		if dns := r.DNS; dns != nil {
			want := int64(geodns.StandbyWeight)
			if t.DNSPrimary == r.Region {
				want = geodns.PrimaryWeight
			}
			if dns.Weight != want {
				out = append(out, fmt.Sprintf("%s: the stack file names %s the DNS primary, but its record weighs %d (want %d)", r.Region, t.DNSPrimary, dns.Weight, want))
			}
			if t.DNSPrimary == r.Region && !dns.Healthy {
				out = append(out, fmt.Sprintf("%s: the DNS primary's health check %s is unhealthy: Route 53 answers with the other region", r.Region, dns.HealthCheckID))
			}
		}
	}
	primaries := 0
	for _, r := range rs {
		if r.Postgres != nil && r.Postgres.Primary && r.Postgres.Cluster != "" {
			primaries++
		}
	}
	if primaries > 1 {
		out = append(out, "both regions run a Postgres primary (split brain): stop the writers of the one the stack files do not name")
	}
	return out
}

func roleOf(p Postgres) string {
	if p.Primary {
		return "a primary"
	}
	return "a replica of " + p.Following
}

// Print writes the status as a table, then the disagreements.
func (s Status) Print(w io.Writer, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(label string, f func(RegionStatus) string) {
		cells := []string{label}
		for _, r := range s.Regions {
			cells = append(cells, f(r))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	row("", func(r RegionStatus) string { return r.Region })
	row("last update", func(r RegionStatus) string {
		if r.LastUpdate.Kind == "" {
			return "never"
		}
		return fmt.Sprintf("%s %s, %s ago", r.LastUpdate.Kind, r.LastUpdate.Result, ago(now, r.LastUpdate.End))
	})
	row("config: postgres/dns/singletons", func(r RegionStatus) string {
		t := r.Config.Topology
		return t.PostgresPrimary + " / " + t.DNSPrimary + " / " + t.SingletonsOwner
	})
	row("deployed: postgres/dns/singletons", func(r RegionStatus) string {
		if r.Deployed == nil {
			return "-"
		}
		return r.Deployed.PostgresPrimary + " / " + r.Deployed.DNSPrimary + " / " + r.Deployed.SingletonsOwner
	})
	row("postgres", func(r RegionStatus) string {
		if r.Postgres == nil {
			return "unreachable"
		}
		if r.Postgres.Cluster == "" {
			return "no Cluster"
		}
		return roleOf(*r.Postgres) + ", " + r.Postgres.Phase
	})
	row("instances ready", func(r RegionStatus) string {
		if r.Postgres == nil {
			return "-"
		}
		return fmt.Sprintf("%d/%d (timeline %d)", r.Postgres.ReadyInstances, r.Postgres.Instances, r.Postgres.Timeline)
	})
	row("replication lag", func(r RegionStatus) string {
		switch {
		case r.Postgres == nil:
			return "-"
		case r.Postgres.Primary:
			return "primary"
		case !r.Postgres.LagKnown:
			return "unknown"
		}
		return r.Postgres.Lag.String()
	})
	row("newest base backup", func(r RegionStatus) string {
		if r.Postgres == nil || r.Postgres.LastBackup.IsZero() {
			return "-"
		}
		return r.Postgres.LastBackup.UTC().Format(time.RFC3339) + " (" + ago(now, r.Postgres.LastBackup) + " ago)"
	})
	row("newest WAL archived", func(r RegionStatus) string {
		switch {
		case r.Postgres == nil || r.Postgres.LastArchivedWALTime.IsZero():
			return "-"
		case r.Postgres.LastArchivedWAL == "":
			// CloudNativePG 1.30 reports when, not which segment.
			return r.Postgres.LastArchivedWALTime.UTC().Format(time.RFC3339) + " (" + ago(now, r.Postgres.LastArchivedWALTime) + " ago)"
		}
		return r.Postgres.LastArchivedWAL + " (" + ago(now, r.Postgres.LastArchivedWALTime) + " ago)"
	})
	row("dns record weight", func(r RegionStatus) string {
		if r.DNS == nil {
			return "-"
		}
		return fmt.Sprint(r.DNS.Weight)
	})
	row("health check", func(r RegionStatus) string {
		if r.DNS == nil {
			return "unreachable"
		}
		if r.DNS.Healthy {
			return "healthy"
		}
		return "UNHEALTHY"
	})
	_ = tw.Flush()
	for _, r := range s.Regions {
		for _, e := range r.Errors {
			fmt.Fprintf(w, "%s: %s\n", r.Region, e)
		}
	}
	fmt.Fprintln(w, "objectives:")
	for _, l := range s.Objectives.Lines() {
		fmt.Fprintf(w, "  %s\n", l)
	}
	if s.Agree() {
		fmt.Fprintln(w, "config and reality agree")
		return
	}
	fmt.Fprintln(w, "config and reality DISAGREE:")
	for _, d := range s.Disagreements {
		fmt.Fprintf(w, "  - %s\n", d)
	}
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return now.Sub(t).Round(time.Second).String()
}
