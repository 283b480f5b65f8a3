// Package dr is `tarsctl dr`: disaster recovery as ordered, verified,
// resumable steps over the two region stacks. It changes the stacks only
// through Pulumi (the Automation API: config set/rm on the stack files,
// preview, up, refresh) and reads what the regions are really doing
// through Reality (the CloudNativePG Cluster's status, Route 53).
//
// Nothing here is imported by the deployed program.
package dr

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/tars-platform/infra/components/geodns"
	"github.com/tars-platform/infra/stacks"
)

// The stack config keys dr edits (path keys of `pulumi config set --path`).
const (
	KeySingletonsOwner = stacks.KeyTopology + ".singletonsOwner"
	KeyPostgresPrimary = stacks.KeyTopology + ".postgresPrimary"
	KeyDNSPrimary      = stacks.KeyTopology + ".dnsPrimary"
	KeyPromotionToken  = stacks.KeyPostgres + ".promotionToken"
)

// StatefulTypes hold data or identity that a replacement or deletion
// would lose. dr refuses to `up` a stack whose preview replaces or
// deletes one of them.
var StatefulTypes = []string{
	"aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:kms/key:Key", "aws:s3/bucketV2:BucketV2",
	"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "kubernetes:postgresql.cnpg.io/v1:Cluster",
	"kubernetes:apps/v1:StatefulSet", "kubernetes:core/v1:PersistentVolumeClaim", "kubernetes:core/v1:Namespace",
	"kubernetes:helm.sh/v3:Release", "random:index/randomPassword:RandomPassword",
	// PagerDuty's services keep the incident history; their integrations'
	// keys are what Alertmanager pages with.
	"pagerduty:index/service:Service", "pagerduty:index/escalationPolicy:EscalationPolicy",
	"pagerduty:index/schedule:Schedule", "pagerduty:index/serviceIntegration:ServiceIntegration",
}

// Destructive reports whether a step operation loses what it acts on.
func Destructive(op string) bool {
	return slices.Contains([]string{"replace", "create-replacement", "delete-replaced", "delete"}, op)
}

// Step is one planned step of a preview or an update (other than "same").
type Step struct{ Op, Type, URN string }

func (s Step) String() string {
	return s.Op + " " + s.Type + " " + s.URN[strings.LastIndex(s.URN, "::")+2:]
}

// Stateful returns the steps that replace or delete a stateful resource.
func Stateful(steps []Step) []Step {
	var out []Step
	for _, s := range steps {
		if Destructive(s.Op) && slices.Contains(StatefulTypes, s.Type) {
			out = append(out, s)
		}
	}
	return out
}

// Config is the part of a stack file dr reads.
type Config struct {
	Topology       stacks.Topology
	PromotionToken string
	// CrossRegionSynchronous is tars:postgres.crossRegionSynchronous.
	CrossRegionSynchronous bool
	// DNS is tars:dns with its defaults (the health check, the TTL).
	DNS geodns.Args
}

// Update is a stack's last update.
type Update struct {
	Kind, Result string
	End          time.Time
}

// Stacks drives the region stacks; a stack is named after its region
// (Pulumi.<region>.yaml).
type Stacks interface {
	Config(ctx context.Context, stack string) (Config, error)
	// Set and Remove edit the stack file through Pulumi's config API
	// (path keys).
	Set(ctx context.Context, stack, key, value string) error
	Remove(ctx context.Context, stack, key string) error
	Preview(ctx context.Context, stack string) ([]Step, error)
	Up(ctx context.Context, stack string, log io.Writer) ([]Step, error)
	Refresh(ctx context.Context, stack string, log io.Writer) error
	Outputs(ctx context.Context, stack string) (Outputs, error)
	// LastUpdate is the newest entry of the stack's history (zero when
	// it has none).
	LastUpdate(ctx context.Context, stack string) (Update, error)
}

// AutoStacks is Stacks over the Automation API: Select returns the
// workspace stack of a name (tarsctl: the repository's project and the
// user's backend; the engine tier: its rig).
type AutoStacks struct {
	Select func(ctx context.Context, stack string) (auto.Stack, error)
}

func (a AutoStacks) stack(ctx context.Context, name string) (auto.Stack, error) {
	st, err := a.Select(ctx, name)
	if err != nil {
		return auto.Stack{}, fmt.Errorf("stack %s: %w", name, err)
	}
	return st, nil
}

// Config reads tars:topology and tars:postgres.promotionToken.
func (a AutoStacks) Config(ctx context.Context, name string) (Config, error) {
	st, err := a.stack(ctx, name)
	if err != nil {
		return Config{}, err
	}
	all, err := st.GetAllConfig(ctx)
	if err != nil {
		return Config{}, fmt.Errorf("stack %s: read config: %w", name, err)
	}
	var c Config
	topo, ok := all[stacks.KeyTopology]
	if !ok {
		return Config{}, fmt.Errorf("stack %s: %s is not set", name, stacks.KeyTopology)
	}
	if err := json.Unmarshal([]byte(topo.Value), &c.Topology); err != nil {
		return Config{}, fmt.Errorf("stack %s: %s: %w", name, stacks.KeyTopology, err)
	}
	if pg, ok := all[stacks.KeyPostgres]; ok {
		var v struct {
			PromotionToken         string `json:"promotionToken"`
			CrossRegionSynchronous bool   `json:"crossRegionSynchronous"`
		}
		if err := json.Unmarshal([]byte(pg.Value), &v); err != nil {
			return Config{}, fmt.Errorf("stack %s: %s: %w", name, stacks.KeyPostgres, err)
		}
		c.PromotionToken, c.CrossRegionSynchronous = v.PromotionToken, v.CrossRegionSynchronous
	}
	if dns, ok := all[stacks.KeyDNS]; ok {
		if err := json.Unmarshal([]byte(dns.Value), &c.DNS); err != nil {
			return Config{}, fmt.Errorf("stack %s: %s: %w", name, stacks.KeyDNS, err)
		}
	}
	c.DNS = c.DNS.WithDefaults()
	return c, nil
}

func (a AutoStacks) Set(ctx context.Context, name, key, value string) error {
	st, err := a.stack(ctx, name)
	if err != nil {
		return err
	}
	if err := st.SetConfigWithOptions(ctx, key, auto.ConfigValue{Value: value}, &auto.ConfigOptions{Path: true}); err != nil {
		return fmt.Errorf("stack %s: config set %s: %w", name, key, err)
	}
	return nil
}

func (a AutoStacks) Remove(ctx context.Context, name, key string) error {
	st, err := a.stack(ctx, name)
	if err != nil {
		return err
	}
	if err := st.RemoveConfigWithOptions(ctx, key, &auto.ConfigOptions{Path: true}); err != nil {
		return fmt.Errorf("stack %s: config rm %s: %w", name, key, err)
	}
	return nil
}

// collect gathers the non-"same" steps of an operation's events.
func collect() (chan events.EngineEvent, func() []Step) {
	ch := make(chan events.EngineEvent)
	var steps []Step
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range ch {
			if e.ResourcePreEvent != nil {
				m := e.ResourcePreEvent.Metadata
				if op := string(m.Op); op != "same" && op != "read" {
					steps = append(steps, Step{op, m.Type, m.URN})
				}
			}
		}
	}()
	return ch, func() []Step { <-done; return steps }
}

func (a AutoStacks) Preview(ctx context.Context, name string) ([]Step, error) {
	st, err := a.stack(ctx, name)
	if err != nil {
		return nil, err
	}
	ch, wait := collect()
	var log strings.Builder
	_, err = st.Preview(ctx, optpreview.EventStreams(ch), optpreview.ProgressStreams(&log))
	steps := wait()
	if err != nil {
		return nil, fmt.Errorf("stack %s: preview: %w\n%s", name, err, tail(log.String(), 40))
	}
	return steps, nil
}

func (a AutoStacks) Up(ctx context.Context, name string, log io.Writer) ([]Step, error) {
	st, err := a.stack(ctx, name)
	if err != nil {
		return nil, err
	}
	ch, wait := collect()
	_, err = st.Up(ctx, optup.EventStreams(ch), optup.ProgressStreams(log))
	steps := wait()
	if err != nil {
		return steps, fmt.Errorf("stack %s: up: %w", name, err)
	}
	return steps, nil
}

func (a AutoStacks) Refresh(ctx context.Context, name string, log io.Writer) error {
	st, err := a.stack(ctx, name)
	if err != nil {
		return err
	}
	if _, err := st.Refresh(ctx, optrefresh.ProgressStreams(log)); err != nil {
		return fmt.Errorf("stack %s: refresh: %w", name, err)
	}
	return nil
}

func (a AutoStacks) Outputs(ctx context.Context, name string) (Outputs, error) {
	st, err := a.stack(ctx, name)
	if err != nil {
		return Outputs{}, err
	}
	outs, err := st.Outputs(ctx)
	if err != nil {
		return Outputs{}, fmt.Errorf("stack %s: outputs: %w", name, err)
	}
	return ParseOutputs(name, outs)
}

// ParseOutputs reads the contract outputs dr needs.
func ParseOutputs(name string, outs auto.OutputMap) (Outputs, error) {
	s := func(k string) string { v, _ := outs[k].Value.(string); return v }
	o := Outputs{
		Region: s(stacks.OutRegion), AwsRegion: s(stacks.OutAwsRegion), Kubeconfig: s(stacks.OutKubeconfig),
		PostgresCluster: s(stacks.OutPostgresCluster), HealthCheckID: s(stacks.OutHealthCheckID),
		DNSZoneID: s(stacks.OutDNSZoneID), DNSFailoverName: s(stacks.OutDNSFailoverName),
		APIEndpoint: s(stacks.OutAPIEndpoint), PostgresEndpoint: s(stacks.OutPostgresEndpoint),
	}
	if o.Region == "" {
		return Outputs{}, fmt.Errorf("stack %s has no outputs: it has not been deployed (pulumi up -s %s)", name, name)
	}
	if t, ok := outs[stacks.OutTopology]; ok {
		b, err := json.Marshal(t.Value)
		if err == nil {
			err = json.Unmarshal(b, &o.Deployed)
		}
		if err != nil {
			return Outputs{}, fmt.Errorf("stack %s: output %s: %w", name, stacks.OutTopology, err)
		}
	}
	return o, nil
}

func (a AutoStacks) LastUpdate(ctx context.Context, name string) (Update, error) {
	st, err := a.stack(ctx, name)
	if err != nil {
		return Update{}, err
	}
	h, err := st.History(ctx, 1, 1)
	if err != nil {
		return Update{}, fmt.Errorf("stack %s: history: %w", name, err)
	}
	if len(h) == 0 {
		return Update{}, nil
	}
	u := Update{Kind: h[0].Kind, Result: h[0].Result}
	if h[0].EndTime != nil {
		u.End, _ = time.Parse(time.RFC3339, *h[0].EndTime)
		if u.End.IsZero() {
			u.End, _ = time.Parse("2006-01-02 15:04:05 -0700 MST", *h[0].EndTime)
		}
	}
	return u, nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
