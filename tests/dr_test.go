package tests

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/geodns"
	"github.com/tars-platform/infra/dr"
	"github.com/tars-platform/infra/tests/drfake"
	"github.com/tars-platform/infra/tests/fakecloud"
)

// recStacks records every `pulumi up` dr runs and its steps.
type recStacks struct {
	dr.Stacks
	ups   []string
	steps []dr.Step
}

func (r *recStacks) Up(ctx context.Context, stack string, log io.Writer) ([]dr.Step, error) {
	steps, err := r.Stacks.Up(ctx, stack, log)
	r.ups = append(r.ups, stack)
	r.steps = append(r.steps, steps...)
	return steps, err
}

// drRun builds a plan with build and executes it, returning its output.
func drRun(t *testing.T, build func() (*dr.Plan, error), yes bool) (string, error) {
	t.Helper()
	p, err := build()
	require.NoError(t, err)
	var out strings.Builder
	err = p.Execute(context.Background(), &out, dr.Options{Yes: yes})
	t.Logf("%s", out.String())
	return out.String(), err
}

// TestDRSwitchoverFailoverRebuild drives `tarsctl dr` through the real
// Pulumi engine (the rig's CLI, file backend and stand-in providers), with
// drfake playing CloudNativePG and Route 53's checkers: a planned
// switchover us-east → us-west (refused while the target lags or is
// unhealthy; a failure of the promotion's update in the middle, resumed),
// a failover back to us-east with us-west gone (refused while it is
// healthy), and the rebuild of us-west (refused while its old primary has
// diverged). After each: the stack files, what each stack deployed, and
// reality tell one story — one Postgres primary, one DNS primary, one
// singletons owner — and nothing stateful was replaced.
func TestDRSwitchoverFailoverRebuild(t *testing.T) {
	if os.Getenv("TARS_SKIP_ENGINE") == "1" {
		t.Skip("TARS_SKIP_ENGINE=1")
	}
	t.Parallel()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	var logs strings.Builder
	rig := deployFirst(ctx, t, &logs)
	t.Logf("deployed both stacks in %s", time.Since(start).Round(time.Second))
	fake := drfake.New(filepath.Join(rig.Dir, "reality.json"), rig.Stack)
	stk := &recStacks{Stacks: dr.AutoStacks{Select: rig.Stack}}
	d := &dr.DR{Stacks: stk, Reality: fake, Regions: [2]string{"us-east", "us-west"},
		Wait: 20 * time.Second, Interval: 200 * time.Millisecond, Log: &logs}
	east, west := "us-east", "us-west"

	pg := func(r string) dr.Postgres {
		p, err := fake.Postgres(ctx, r)
		require.NoError(t, err, r)
		return p
	}
	cfg := func(r string) dr.Config {
		c, err := stk.Config(ctx, r)
		require.NoError(t, err, r)
		return c
	}
	deployed := func(r string) dr.Deployed {
		o, err := stk.Outputs(ctx, r)
		require.NoError(t, err, r)
		return o.Deployed
	}
	weight := func(r string) int64 {
		dns, err := fake.DNS(ctx, r)
		require.NoError(t, err, r)
		return dns.Weight
	}
	// oneStory: both stack files and both deployments name primary for
	// Postgres and DNS and owner for the singletons; reality has exactly
	// that primary and the other follows it.
	oneStory := func(when, primary, owner string) {
		t.Helper()
		for _, r := range d.Regions {
			c := cfg(r)
			assert.Equal(t, primary, c.Topology.PostgresPrimary, "%s: %s file postgresPrimary", when, r)
			assert.Equal(t, primary, c.Topology.DNSPrimary, "%s: %s file dnsPrimary", when, r)
			assert.Equal(t, owner, c.Topology.SingletonsOwner, "%s: %s file singletonsOwner", when, r)
			assert.Empty(t, c.PromotionToken, "%s: %s file promotion token", when, r)
			dep := deployed(r)
			assert.Equal(t, dr.Deployed{SingletonsOwner: owner, PostgresPrimary: primary, DNSPrimary: primary}, dep, "%s: %s deployed", when, r)
		}
		other := east
		if primary == east {
			other = west
		}
		assert.True(t, pg(primary).Primary, "%s: %s is the primary", when, primary)
		assert.False(t, pg(other).Primary, "%s: %s is not a primary", when, other)
		assert.Equal(t, "tars-pg-"+primary, pg(other).Following, "%s: %s follows", when, other)
		assert.Equal(t, int64(100), weight(primary), "%s: %s's failover record", when, primary)
		assert.Equal(t, int64(0), weight(other), "%s: %s's failover record", when, other)
		st, err := d.Status(ctx)
		require.NoError(t, err)
		assert.True(t, st.Agree(), "%s: status disagrees: %v", when, st.Disagreements)
		// The geolocation default record is in the owner's state only.
		for _, r := range d.Regions {
			s, err := rig.Stack(ctx, r)
			require.NoError(t, err)
			dep, err := s.Export(ctx)
			require.NoError(t, err)
			assert.Equal(t, r == owner, strings.Contains(string(dep.Deployment), "::"+r+"-edge-geo-default\""), "%s: %s's state holds the geolocation default record", when, r)
		}
		for _, r := range d.Regions {
			steps, err := stk.Preview(ctx, r)
			require.NoError(t, err)
			assert.Empty(t, steps, "%s: %s settled", when, r)
		}
	}
	oneStory("first deployment", east, east)
	st0, err := d.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, dr.Objectives{Detection: 30 * time.Second, DNS: 40 * time.Second, FailoverRPO: 5 * time.Second}, st0.Objectives,
		"the stack files' objectives: 10 s × 3 checks, TTL 10 s, lag paged above 5 s")

	// --- Failover to us-west: us-east (the primary, the singletons owner) is gone ---
	failover := func() (*dr.Plan, error) { return d.Failover(ctx, west, false) }
	out, err := drRun(t, failover, true)
	require.ErrorIs(t, err, dr.ErrRefused)
	assert.Contains(t, out, "us-east answers and is healthy: use `tarsctl dr switchover --to us-west`")
	eastUpdate, err := stk.LastUpdate(ctx, east)
	require.NoError(t, err)
	require.NoError(t, fake.Update(func(s *drfake.State) { s.Region(east).Unreachable = true; s.Region(west).Lag = 2 * time.Second }))
	out, err = drRun(t, failover, false)
	require.ErrorIs(t, err, dr.ErrNotConfirmed)
	assert.Contains(t, out, "Data-loss bound: 2s, the last measured replication lag of us-west")
	assert.Empty(t, stk.ups, "without --yes nothing runs")
	assert.Equal(t, east, cfg(west).Topology.PostgresPrimary, "without --yes no stack file changes")
	out, err = drRun(t, failover, true)
	require.NoError(t, err)
	assert.Equal(t, []string{west}, stk.ups, "the failover runs the survivor only")
	p := pg(west)
	assert.True(t, p.Primary)
	assert.Equal(t, 2, p.Timeline, "promotion starts a new timeline")
	assert.Empty(t, mustState(t, fake).Region(west).PromotedWith, "promoted without a token")
	assert.Equal(t, int64(100), weight(west))
	for _, r := range d.Regions {
		c := cfg(r)
		assert.Equal(t, []string{west, west, west}, []string{c.Topology.PostgresPrimary, c.Topology.DNSPrimary, c.Topology.SingletonsOwner}, "%s's stack file", r)
	}
	after, err := stk.LastUpdate(ctx, east)
	require.NoError(t, err)
	assert.Equal(t, eastUpdate, after, "the lost region's stack is not run")
	st, err := d.Status(ctx)
	require.NoError(t, err)
	assert.False(t, st.Agree(), "us-east is gone and its deployment is stale")
	var sb strings.Builder
	st.Print(&sb, time.Now())
	t.Logf("status after the failover:\n%s", sb.String())
	assert.Contains(t, sb.String(), "unreachable")
	assert.Contains(t, sb.String(), "us-east: the stack file says postgresPrimary us-west, its last update deployed us-east")

	// --- us-east comes back with its old primary: rebuild it ---
	require.NoError(t, fake.Update(func(s *drfake.State) { s.Region(east).Unreachable = false }))
	assert.True(t, pg(east).Primary, "the old primary survived: two primaries until the rebuild")
	rebuild := func(discard bool) func() (*dr.Plan, error) {
		return func() (*dr.Plan, error) { return d.Rebuild(ctx, east, discard) }
	}
	out, err = drRun(t, rebuild(false), true)
	require.ErrorIs(t, err, dr.ErrRefused)
	assert.Contains(t, out, "its timeline diverged from us-west's: pass --discard-diverged")
	assert.Len(t, stk.ups, 1)
	out, err = drRun(t, rebuild(true), true)
	require.NoError(t, err)
	// The stand-ins keep us-east's VPC, so no re-pairing run is needed
	// (both previews are empty: the step is skipped as done).
	assert.Equal(t, []string{west, east}, stk.ups, "the rebuild runs us-east")
	log := mustState(t, fake).Log
	assert.Contains(t, log, "us-east: deleted tars-pg-us-east")
	assert.Contains(t, log, "us-east: created tars-pg-us-east as replica")
	assert.Equal(t, 2, pg(east).Timeline, "the rebuilt replica is on the primary's timeline")
	oneStory("after the failover and the rebuild", west, west)
	rebuilt := len(stk.ups)

	// --- Switchover back to us-east ---
	switchover := func() (*dr.Plan, error) { return d.Switchover(ctx, east) }
	out, err = drRun(t, switchover, false)
	require.ErrorIs(t, err, dr.ErrNotConfirmed)
	titles := []string{"name us-east the Postgres primary", "demote us-west", "hand us-west's demotion token to us-east",
		"promote us-east", "name us-east the DNS primary", "DNS primary us-east", "DNS standby us-west", "verify writes"}
	last := -1
	for i, title := range titles {
		at := strings.Index(out, title)
		assert.Greater(t, at, last, "step %d %q in order", i+1, title)
		last = at
	}
	assert.Equal(t, west, cfg(east).Topology.PostgresPrimary, "without --yes nothing changes")

	// Refused: the target lags, then: its health check fails.
	require.NoError(t, fake.Update(func(s *drfake.State) { s.Region(east).Lag = 30 * time.Second }))
	out, err = drRun(t, switchover, true)
	require.ErrorIs(t, err, dr.ErrRefused)
	assert.Contains(t, out, "us-east lags 30s, over the 5s target")
	require.NoError(t, fake.Update(func(s *drfake.State) { s.Region(east).Lag = time.Second; s.Region(east).Unhealthy = true }))
	out, err = drRun(t, switchover, true)
	require.ErrorIs(t, err, dr.ErrRefused)
	assert.Contains(t, out, "of us-east is unhealthy")
	require.NoError(t, fake.Update(func(s *drfake.State) { s.Region(east).Unhealthy = false }))
	assert.Len(t, stk.ups, rebuilt, "a refused plan runs nothing")
	assert.Equal(t, west, cfg(west).Topology.PostgresPrimary, "a refused plan changes no stack file")

	// The promotion's update fails in the middle.
	require.NoError(t, fakecloud.ArmFault(rig.Cloud, "update", "kubernetes:postgresql.cnpg.io/v1:Cluster", "us-east-postgres-cluster"))
	_, err = drRun(t, switchover, true)
	var se *dr.StepError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 4, se.Step, "stops at the promotion")
	assert.Len(t, se.Done, 3)
	assert.Contains(t, err.Error(), "injected failure")
	assert.Contains(t, err.Error(), "to resume once the cause is fixed: tarsctl dr switchover --to us-east --yes")
	assert.Contains(t, err.Error(), "to roll back instead:")
	assert.Equal(t, []string{west, east}, stk.ups[rebuilt:])
	token := pg(west).DemotionToken
	require.NotEmpty(t, token, "us-west was demoted and issued its token")
	assert.False(t, pg(west).Primary)
	assert.False(t, pg(east).Primary, "no promotion yet: writes are stopped, never two primaries")
	assert.Equal(t, token, cfg(east).PromotionToken, "the token reached us-east's stack file")
	assert.Empty(t, cfg(west).PromotionToken)
	// Someone pastes a wrong token meanwhile: the resume puts the real one back.
	require.NoError(t, stk.Set(ctx, east, dr.KeyPromotionToken, drfake.Token("elsewhere", 7)))
	out, err = drRun(t, switchover, true)
	require.NoError(t, err)
	assert.Contains(t, out, "step 1/8 name us-east the Postgres primary in both stack files: already done, skipped")
	assert.Contains(t, out, "step 2/8 demote us-west (pulumi up -s us-west): already done, skipped")
	assert.Contains(t, out, "resuming: not required")
	assert.Contains(t, out, "step 3/8 hand us-west's demotion token to us-east: tars:postgres.promotionToken")
	assert.Equal(t, []string{west, east, east, east, west}, stk.ups[rebuilt:], "demote, promote (failed), promote, DNS primary, DNS standby")
	assert.Equal(t, token, mustState(t, fake).Region(east).PromotedWith, "us-east promoted with us-west's demotion token")
	assert.Equal(t, 3, pg(east).Timeline)
	assert.Empty(t, mustState(t, fake).Markers, "the marker rows were deleted")
	assert.Empty(t, dr.Stateful(stk.steps), "no update replaced or deleted anything stateful")
	oneStory("after the switchover", east, west)
	t.Logf("updates run: %v; engine tier DR: %s", stk.ups, time.Since(start).Round(time.Second))
}

func mustState(t *testing.T, f *drfake.Fake) *drfake.State {
	t.Helper()
	s, err := f.Load()
	require.NoError(t, err)
	return s
}

// TestDRPlanStopsAndExplains: the executor on its own — pre-checks gate
// everything, a step already done is skipped, a failing verification
// stops with what was done and how to resume or roll back.
func TestDRPlanStopsAndExplains(t *testing.T) {
	var ran []string
	step := func(name string, done bool, fail error) dr.Action {
		return dr.Action{Title: name, Changes: "changes " + name,
			Done:   func(context.Context) (bool, error) { return done, nil },
			Run:    func(context.Context) error { ran = append(ran, name); return nil },
			Verify: func(context.Context) error { return fail },
			Undo:   "undo " + name}
	}
	p := &dr.Plan{Command: "tarsctl dr x", Steps: []dr.Action{step("a", true, nil), step("b", false, nil), step("c", false, errors.New("boom")), step("d", false, nil)}}
	var out strings.Builder
	err := p.Execute(context.Background(), &out, dr.Options{Yes: true})
	var se *dr.StepError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, []string{"b", "c"}, ran)
	assert.Equal(t, 3, se.Step)
	assert.Equal(t, []string{"a (already done)", "b"}, se.Done)
	assert.Contains(t, err.Error(), "step 3 (c) failed: verify: boom")
	assert.Contains(t, err.Error(), "tarsctl dr x --yes")
	assert.Contains(t, err.Error(), "to roll back instead: undo c")

	ran = nil
	p.Checks = []dr.Check{{Name: "gate", Run: func(context.Context) (string, error) { return "", errors.New("no") }}}
	err = p.Execute(context.Background(), &out, dr.Options{Yes: true})
	require.ErrorIs(t, err, dr.ErrRefused)
	assert.Empty(t, ran, "a failed pre-check runs nothing")
	assert.Contains(t, out.String(), "FAIL gate: no")

	p.Checks = nil
	err = p.Execute(context.Background(), &out, dr.Options{})
	require.ErrorIs(t, err, dr.ErrNotConfirmed)
	assert.Empty(t, ran, "no --yes runs nothing")

	assert.ErrorContains(t, dr.Poll(context.Background(), 50*time.Millisecond, 10*time.Millisecond,
		func(context.Context) (bool, string, error) { return false, "still waiting", nil }), "not within 50ms: still waiting")
}

// planStacks is a dr.Stacks whose preview plans the given steps and whose
// updates are counted.
type planStacks struct {
	dr.Stacks
	plan []dr.Step
	ups  int
}

func (p *planStacks) Preview(context.Context, string) ([]dr.Step, error) { return p.plan, nil }
func (p *planStacks) Up(context.Context, string, io.Writer) ([]dr.Step, error) {
	p.ups++
	return p.plan, nil
}

// TestDRRefusesToReplaceStatefulResources: every `pulumi up` dr runs is
// previewed first, and a plan that replaces or deletes a stateful resource
// (the CNPG Cluster, a bucket, a StatefulSet…) is not run.
func TestDRRefusesToReplaceStatefulResources(t *testing.T) {
	for _, tc := range []struct {
		step   dr.Step
		refuse bool
	}{
		{dr.Step{Op: "replace", Type: "kubernetes:postgresql.cnpg.io/v1:Cluster", URN: "urn:pulumi:us-east::tars::x$kubernetes:postgresql.cnpg.io/v1:Cluster::us-east-postgres-cluster"}, true},
		{dr.Step{Op: "delete", Type: "aws:s3/bucketV2:BucketV2", URN: "urn:pulumi:us-east::tars::aws:s3/bucketV2:BucketV2::us-east-postgres-bucket"}, true},
		{dr.Step{Op: "create-replacement", Type: "kubernetes:apps/v1:StatefulSet", URN: "urn:pulumi:us-east::tars::kubernetes:apps/v1:StatefulSet::us-east-redis"}, true},
		{dr.Step{Op: "update", Type: "kubernetes:postgresql.cnpg.io/v1:Cluster", URN: "urn:pulumi:us-east::tars::kubernetes:postgresql.cnpg.io/v1:Cluster::us-east-postgres-cluster"}, false},
		{dr.Step{Op: "delete", Type: "aws:route53/record:Record", URN: "urn:pulumi:us-east::tars::aws:route53/record:Record::us-east-edge-geo-default"}, false},
	} {
		st := &planStacks{plan: []dr.Step{tc.step}}
		d := &dr.DR{Stacks: st, Regions: [2]string{"us-east", "us-west"}}
		err := d.Up(context.Background(), "us-east")
		if tc.refuse {
			assert.ErrorContains(t, err, "would replace or delete stateful resources", tc.step.String())
			assert.Zero(t, st.ups, "%s: not run", tc.step)
		} else {
			assert.NoError(t, err, tc.step.String())
			assert.Equal(t, 1, st.ups, tc.step.String())
		}
	}
}

// TestDRObjectivesFollowTheSettings: the promised recovery point and time
// move with the health check, the TTL, Cloudflare and the synchronous mode.
func TestDRObjectivesFollowTheSettings(t *testing.T) {
	base := dr.Config{DNS: geodns.Args{}.WithDefaults()}
	assert.Equal(t, dr.Objectives{Detection: 30 * time.Second, DNS: 40 * time.Second, FailoverRPO: 5 * time.Second}, dr.ObjectivesOf(base))
	slow := base
	slow.DNS.HealthCheck.IntervalSeconds, slow.DNS.HealthCheck.FailureThreshold, slow.DNS.TTLSeconds = 30, 1, 20
	assert.Equal(t, dr.Objectives{Detection: 30 * time.Second, DNS: 50 * time.Second, FailoverRPO: 5 * time.Second}, dr.ObjectivesOf(slow))
	sync := base
	sync.CrossRegionSynchronous = true
	assert.Zero(t, dr.ObjectivesOf(sync).FailoverRPO, "remote_apply loses nothing")
	assert.Contains(t, dr.ObjectivesOf(sync).Lines()[1], "switchover and failover 0 lost")
	cf := base
	cf.DNS.Cloudflare.Enabled = true
	assert.Equal(t, 30*time.Second, dr.ObjectivesOf(cf).Cloudflare, "15 s × 2 by default")
}
