package dr

import (
	"fmt"
	"time"

	"github.com/tars-platform/infra/slo"
)

// Objectives are the recovery point and time objectives the platform
// promises, each derived from the stack's settings (README "DR drill").
type Objectives struct {
	// Detection: Route 53's checkers declare a region down (request
	// interval × failure threshold).
	Detection time.Duration `json:"detection"`
	// DNS: the worst case until every client resolves the healthy region
	// (detection + the records' TTL). Automatic: no command needed.
	DNS time.Duration `json:"dns"`
	// Cloudflare: the same through Cloudflare's monitor, when enabled.
	Cloudflare time.Duration `json:"cloudflare,omitempty"`
	// SwitchoverRPO: a planned switchover loses no committed write (the
	// target replays up to the old primary's shutdown checkpoint).
	SwitchoverRPO time.Duration `json:"switchoverRpo"`
	// FailoverRPO: a failover loses what the other region had not yet
	// received: the replication lag, which HighReplicationLag pages on
	// above slo.ReplicationLagTarget; 0 with crossRegionSynchronous
	// (remote_apply: a commit waits for the other region).
	FailoverRPO time.Duration `json:"failoverRpo"`
}

// ObjectivesOf derives the objectives from a stack's config.
func ObjectivesOf(c Config) Objectives {
	o := Objectives{Detection: c.DNS.Detection(), DNS: c.DNS.Route53WorstCase(), FailoverRPO: slo.ReplicationLagTarget}
	if c.DNS.Cloudflare.Enabled {
		o.Cloudflare = c.DNS.CloudflareWorstCase()
	}
	if c.CrossRegionSynchronous {
		o.FailoverRPO = 0
	}
	return o
}

// Lines describe the objectives for a person.
func (o Objectives) Lines() []string {
	lines := []string{
		fmt.Sprintf("DNS: a dead region is detected in %s and every client resolves the healthy one within %s (automatic; the seed's budget is %s)", o.Detection, o.DNS, slo.FailoverBudget),
	}
	if o.Cloudflare > 0 {
		lines = append(lines, fmt.Sprintf("Cloudflare: its monitor fails over within %s (automatic)", o.Cloudflare))
	}
	lines = append(lines, fmt.Sprintf("recovery point: switchover %s lost; failover up to %s (the replication lag; paged above %s)", o.SwitchoverRPO, o.FailoverRPO, slo.ReplicationLagTarget))
	if o.FailoverRPO == 0 {
		lines[len(lines)-1] = fmt.Sprintf("recovery point: switchover and failover 0 lost (tars:postgres.crossRegionSynchronous: every commit waits for the other region)")
	}
	return lines
}
