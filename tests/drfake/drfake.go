// Package drfake is the engine tier's stand-in for what the stand-in
// providers cannot know: what CloudNativePG does with the Cluster a stack
// deployed (promote, demote, issue and check demotion tokens, replicate)
// and what Route 53's health checkers see. It implements dr.Reality over a
// state file, reading each region's deployed Cluster spec and failover
// record from the stack's state in the rig's backend, and reconciling like
// the operator whenever it is read.
package drfake

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/tars-platform/infra/dr"
)

// Region is one region's simulated reality.
type Region struct {
	// Unreachable: its API server does not answer (the region is gone);
	// its health check fails too.
	Unreachable bool `json:"unreachable"`
	// Unhealthy: Route 53's checkers see its endpoint failing.
	Unhealthy bool `json:"unhealthy"`
	// Lag of its replica; NoLag: no lag is measured.
	Lag   time.Duration `json:"lag"`
	NoLag bool          `json:"noLag"`

	// What the simulated operator keeps.
	Role     string `json:"role"` // "", "primary", "replica"
	Token    string `json:"token,omitempty"`
	Timeline int    `json:"timeline"`
	// Waiting says why a promotion has not happened.
	Waiting string `json:"waiting,omitempty"`
	// PromotedWith is the token its last promotion used ("" = failover).
	PromotedWith string `json:"promotedWith,omitempty"`
	// DeletedSpec is the deployed spec when the Cluster was deleted: it
	// stays gone until an update deploys another.
	DeletedSpec string `json:"deletedSpec,omitempty"`
}

// State is the whole simulated reality.
type State struct {
	Regions map[string]*Region `json:"regions"`
	// Markers are the rows of the (one, replicated) database.
	Markers []string `json:"markers"`
	// Log lists what the simulated operator did, in order.
	Log []string `json:"log"`
}

// Deployed is what a region's stack state holds.
type Deployed struct {
	Cluster, Self, Primary, PromotionToken string
	HasReplica                             bool
	Weight                                 int64
	HealthCheckID                          string
	spec                                   string
}

// Fake implements dr.Reality.
type Fake struct {
	Path     string
	Deployed func(ctx context.Context, region string) (Deployed, error)
	mu       sync.Mutex
}

// New keeps the state in path and reads deployments through stack.
func New(path string, stack func(ctx context.Context, name string) (auto.Stack, error)) *Fake {
	return &Fake{Path: path, Deployed: func(ctx context.Context, region string) (Deployed, error) {
		st, err := stack(ctx, region)
		if err != nil {
			return Deployed{}, err
		}
		dep, err := st.Export(ctx)
		if err != nil {
			return Deployed{}, err
		}
		return ParseDeployment(region, dep.Deployment)
	}}
}

// ParseDeployment reads the Cluster spec and the failover record from a
// stack's exported state.
func ParseDeployment(region string, raw json.RawMessage) (Deployed, error) {
	var state struct {
		Resources []struct {
			URN     string         `json:"urn"`
			Type    string         `json:"type"`
			Outputs map[string]any `json:"outputs"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(raw, &state); err != nil {
		return Deployed{}, err
	}
	d := Deployed{Weight: -1}
	for _, r := range state.Resources {
		switch {
		case r.Type == "kubernetes:postgresql.cnpg.io/v1:Cluster":
			d.Cluster = str(r.Outputs, "metadata", "name")
			rep, ok := get(r.Outputs, "spec", "replica").(map[string]any)
			if ok {
				d.HasReplica = true
				d.Self, d.Primary, d.PromotionToken = str(rep, "self"), str(rep, "primary"), str(rep, "promotionToken")
			}
			b, _ := json.Marshal(get(r.Outputs, "spec"))
			d.spec = string(b)
		case r.Type == "aws:route53/record:Record" && strings.HasSuffix(r.URN, "::"+region+"-edge-failover"):
			if ps, ok := get(r.Outputs, "weightedRoutingPolicies").([]any); ok && len(ps) > 0 {
				if w, ok := get(ps[0], "weight").(float64); ok {
					d.Weight = int64(w)
				}
			}
			d.HealthCheckID = str(r.Outputs, "healthCheckId")
		}
	}
	return d, nil
}

func get(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
		// A secret output: {"4dabf18193072939515e22adb298388d": ..., "plaintext": "<json>"}.
		if sm, ok := v.(map[string]any); ok {
			if pt, ok := sm["plaintext"].(string); ok {
				var inner any
				if json.Unmarshal([]byte(pt), &inner) == nil {
					v = inner
				}
			}
		}
	}
	return v
}

func str(v any, path ...string) string { s, _ := get(v, path...).(string); return s }

// Load reads the state (empty when there is none yet).
func (f *Fake) Load() (*State, error) {
	s := &State{Regions: map[string]*Region{}}
	b, err := os.ReadFile(f.Path)
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("drfake %s: %w", f.Path, err)
	}
	if s.Regions == nil {
		s.Regions = map[string]*Region{}
	}
	return s, nil
}

func (f *Fake) save(s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(f.Path, b, 0o644)
}

// Update changes the simulated reality (a test's fault: a region gone,
// lag, a failing health check).
func (f *Fake) Update(fn func(*State)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.Load()
	if err != nil {
		return err
	}
	fn(s)
	return f.save(s)
}

// Region returns (creating) a region's state.
func (s *State) Region(r string) *Region {
	if s.Regions[r] == nil {
		s.Regions[r] = &Region{Lag: time.Second}
	}
	return s.Regions[r]
}

// Token is a demotion token in CloudNativePG's format (base64 JSON of the
// shutdown checkpoint), unique per region and timeline.
func Token(region string, timeline int) string {
	b, _ := json.Marshal(map[string]string{
		"latestCheckpointTimelineID":   fmt.Sprint(timeline),
		"redoWalFile":                  fmt.Sprintf("%08X000000000000000%d", timeline, len(region)),
		"databaseSystemIdentifier":     "7412345678901234567",
		"latestCheckpointREDOLocation": fmt.Sprintf("0/%X", 0x3000028+timeline),
		"timeOfLatestCheckpoint":       "Mon 30 Nov 2026 09:00:00 AM UTC",
		"operatorVersion":              "1.30.0",
		"demotedBy":                    region,
	})
	return base64.StdEncoding.EncodeToString(b)
}

// reconcile plays the operator for region r against its deployed spec and
// returns the deployment it saw.
func (f *Fake) reconcile(ctx context.Context, s *State, r string) (Deployed, error) {
	reg := s.Region(r)
	if reg.Unreachable {
		return Deployed{}, fmt.Errorf("%s: dial tcp: i/o timeout: %w", r, dr.ErrUnreachable)
	}
	d, err := f.Deployed(ctx, r)
	if err != nil {
		return Deployed{}, err
	}
	self := d.Cluster
	wantPrimary := !d.HasReplica || d.Primary == d.Self
	switch {
	case d.Cluster == "":
		reg.Role = ""
	case reg.DeletedSpec != "" && reg.DeletedSpec == d.spec:
		// Deleted; no update has deployed it again.
	case reg.Role == "":
		reg.DeletedSpec = ""
		reg.Timeline = max(reg.Timeline, 1)
		if wantPrimary {
			reg.Role = "primary"
		} else {
			// Bootstrapped from the primary's backups: its timeline.
			reg.Role = "replica"
			for _, o := range s.Regions {
				if o.Role == "primary" {
					reg.Timeline = o.Timeline
				}
			}
		}
		s.Log = append(s.Log, fmt.Sprintf("%s: created %s as %s", r, self, reg.Role))
	case reg.Role == "primary" && !wantPrimary:
		reg.Role, reg.Token = "replica", Token(r, reg.Timeline)
		s.Log = append(s.Log, fmt.Sprintf("%s: demoted %s, token issued", r, self))
	case reg.Role == "replica" && wantPrimary:
		issued := ""
		for name, o := range s.Regions {
			if name != r && o.Token != "" {
				issued = o.Token
			}
		}
		switch {
		case d.PromotionToken == "":
			reg.Role, reg.Waiting, reg.PromotedWith = "primary", "", ""
			reg.Timeline++
			s.Log = append(s.Log, fmt.Sprintf("%s: promoted %s without a token (failover)", r, self))
		case d.PromotionToken == issued:
			reg.Role, reg.Waiting, reg.PromotedWith = "primary", "", d.PromotionToken
			reg.Timeline++
			s.Log = append(s.Log, fmt.Sprintf("%s: promoted %s with the demotion token", r, self))
		default:
			reg.Waiting = "waiting for the promotion token's checkpoint, which no demoted primary issued"
		}
	}
	return d, nil
}

func (f *Fake) with(ctx context.Context, r string, fn func(s *State, reg *Region, d Deployed) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.Load()
	if err != nil {
		return err
	}
	d, err := f.reconcile(ctx, s, r)
	if err == nil {
		err = fn(s, s.Region(r), d)
	}
	if serr := f.save(s); err == nil {
		err = serr
	}
	return err
}

// following is the region whose Cluster a replica streams from.
func following(d Deployed) string { return strings.TrimPrefix(d.Primary, "tars-pg-") }

func (f *Fake) Postgres(ctx context.Context, r string) (dr.Postgres, error) {
	var p dr.Postgres
	err := f.with(ctx, r, func(s *State, reg *Region, d Deployed) error {
		if reg.Role == "" {
			return nil
		}
		p = dr.Postgres{Cluster: d.Cluster, Phase: dr.PhaseHealthy, Instances: 3, ReadyInstances: 3,
			Primary: reg.Role == "primary", DemotionToken: reg.Token, Timeline: reg.Timeline,
			LastBackup:          time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC),
			LastArchivedWALTime: time.Now().Add(-30 * time.Second)}
		if reg.Waiting != "" {
			p.Phase = "Waiting for the instances to become active"
		}
		if !p.Primary {
			p.Following = d.Primary
			p.Lag, p.LagKnown = reg.Lag, !reg.NoLag
		}
		return nil
	})
	return p, err
}

func (f *Fake) DNS(ctx context.Context, r string) (dr.DNS, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.Load()
	if err != nil {
		return dr.DNS{}, err
	}
	reg := s.Region(r)
	// Route 53 is global: it answers about a lost region too.
	d, err := f.Deployed(ctx, r)
	if err != nil {
		return dr.DNS{}, err
	}
	return dr.DNS{HealthCheckID: d.HealthCheckID, Healthy: !reg.Unreachable && !reg.Unhealthy, Weight: d.Weight}, nil
}

func (f *Fake) WriteMarker(ctx context.Context, r, id string) error {
	return f.with(ctx, r, func(s *State, reg *Region, _ Deployed) error {
		if reg.Role != "primary" {
			return fmt.Errorf("%s: cannot execute INSERT in a read-only transaction", r)
		}
		s.Markers = append(s.Markers, id)
		return nil
	})
}

func (f *Fake) ReadMarker(ctx context.Context, r, id string) (bool, error) {
	found := false
	err := f.with(ctx, r, func(s *State, reg *Region, d Deployed) error {
		switch reg.Role {
		case "primary":
			found = slices.Contains(s.Markers, id)
		case "replica":
			src := s.Region(following(d))
			found = !src.Unreachable && src.Role == "primary" && reg.Lag < time.Minute && slices.Contains(s.Markers, id)
		}
		return nil
	})
	return found, err
}

func (f *Fake) DeleteMarker(ctx context.Context, r, id string) error {
	return f.with(ctx, r, func(s *State, reg *Region, _ Deployed) error {
		s.Markers = slices.DeleteFunc(s.Markers, func(m string) bool { return m == id })
		return nil
	})
}

func (f *Fake) DeleteCluster(ctx context.Context, r string) error {
	return f.with(ctx, r, func(s *State, reg *Region, d Deployed) error {
		reg.Role, reg.Token, reg.Waiting, reg.DeletedSpec = "", "", "", d.spec
		s.Log = append(s.Log, fmt.Sprintf("%s: deleted %s", r, d.Cluster))
		return nil
	})
}

var _ dr.Reality = (*Fake)(nil)
