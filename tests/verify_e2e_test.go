package tests

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/geodns"
	"github.com/tars-platform/infra/components/postgres"
	"github.com/tars-platform/infra/components/redis"
	"github.com/tars-platform/infra/dr"
	"github.com/tars-platform/infra/tests/apistandin"
	"github.com/tars-platform/infra/tests/charttier"
	"github.com/tars-platform/infra/tests/harness"
	"github.com/tars-platform/infra/tests/pgserver"
	"github.com/tars-platform/infra/verify"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestVerifyBothRegionsEndToEnd runs the whole `tarsctl verify` checklist
// (verify.Checks(), through verify.Run) over both real stacks at once, as
// `tarsctl verify --region both` does, each region's cluster being:
//   - for the service proxy, lists and gets, an API server stand-in
//     (tests/apistandin, through verify.KubeCluster) serving what a
//     healthy deployed region serves, derived from the region's
//     inventory (the program's graph) and its rendered charts: every
//     ServiceMonitor, PodMonitor and PrometheusRule of the program and of
//     the charts (Helm's ownership annotations on the charts'), the VPAs
//     with a recommendation, the CloudNativePG Cluster with its status,
//     the autoscaler's status ConfigMap; and behind the Services the
//     checks ask for (found by asking the checks, and required to be
//     Services the charts render), Prometheus (a target up for every
//     monitor, every rule group from its PrometheusRule's file, only
//     Watchdog firing), the Thanos store gateway, Loki, Jaeger and
//     Kubecost;
//   - for exec, the real servers: six redis-server members per region
//     formed by the component's script, and a PostgreSQL primary with two
//     streaming standbys (us-east's Cluster; us-west's replica Cluster's
//     designated primary is one of the standbys).
//
// Route 53 is a fake with both health checks healthy and the weights of
// the topology, DNS a loopback server answering the failover name with a
// CNAME to the DNS primary's endpoint.
//
// Every row passes but the one that does not apply (postgres-standbys in
// the replica region); the marker rows and the Redis keys are gone
// afterwards. Then one thing per check family is broken and only that
// check rerun: it fails naming what is broken.
//
// TARS_VERIFY_SAMPLE=path writes the healthy run's Markdown report there
// (the README's sample report).
func TestVerifyBothRegionsEndToEnd(t *testing.T) {
	t.Parallel()
	start := time.Now()

	// The real-server tiers first. The Redis tier skips with
	// TARS_SKIP_REDIS=1 (startMembers; checked here too, before the charts
	// are rendered); the PostgreSQL tier has no skip: it needs Debian's
	// postgresql (startPGTier).
	if os.Getenv(redisSkipEnv) == "1" {
		t.Skipf("%s=1", redisSkipEnv)
	}
	members := map[string][]member{}
	for _, stack := range Stacks {
		inv, err := renderStack(t, stack).graph.Inventory(stack)
		require.NoError(t, err)
		sts := e2eRedisStatefulSet(t, inv)
		n, ok := sts.replicas()
		require.True(t, ok, "%s: the Redis StatefulSet's replicas", stack)
		require.Equal(t, 6, n, "%s: the tier's script forms 3 masters + 3 replicas", stack)
		members[stack] = startMembers(t, n) // skips when TARS_SKIP_REDIS=1
	}
	// The component's cluster-create script forms each region's members
	// (both at once: each waits for its cluster to converge).
	formed := time.Now()
	type formation struct {
		out string
		err error
	}
	results := make([]formation, len(Stacks))
	var wg sync.WaitGroup
	for i, stack := range Stacks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i].out, results[i].err = script(t, members[stack])
		}()
	}
	wg.Wait()
	for i, stack := range Stacks {
		require.NoError(t, results[i].err, "%s: cluster-create.sh failed:\n%s", stack, results[i].out)
	}
	t.Logf("charts rendered and redis members started in %s, clusters formed in %s", formed.Sub(start).Round(time.Millisecond), time.Since(formed).Round(time.Millisecond))
	tier := startPGTier(t)

	// The regions.
	zone := &dnsZone{cname: map[string]string{}, a: map[string][]string{}}
	r53 := &e2eRoute53{dns: map[string]dr.DNS{}}
	env := &verify.Env{
		RunID:   fmt.Sprintf("verify-e2e-%d", time.Now().UnixNano()%1_000_000),
		Regions: map[string]*verify.Region{},
		Poll:    100 * time.Millisecond,
		Route53: r53,
	}
	regions := map[string]*e2eRegion{}
	var stackLines []string
	for i, stack := range Stacks {
		r := e2eNewRegion(t, stack, members[stack], tier)
		regions[stack] = r
		env.Regions[stack] = &verify.Region{Name: stack, Cluster: r.cl, Inventory: r.inv, Outputs: r.outputs}
		// Each load balancer answers a few addresses (one per zone).
		ep := dnsFQDN(r.outputs.APIEndpoint)
		for z := range 3 {
			zone.a[ep] = append(zone.a[ep], fmt.Sprintf("198.51.100.%d", 10*(i+1)+z))
		}
		stackLines = append(stackLines, fmt.Sprintf("%s: the program's graph for Pulumi.%s.yaml (%d resources, %d Kubernetes objects, %d Helm releases rendered); "+
			"cluster: API server stand-in + real redis-server and PostgreSQL tiers on loopback (test run)",
			stack, stack, len(r.graph.Resources), len(r.inv.Objects), len(r.releases)))
	}
	east, west := regions["us-east"], regions["us-west"]
	// The topology the stacks deployed (their topology output).
	env.PostgresPrimary, env.DNSPrimary = east.outputs.Deployed.PostgresPrimary, east.outputs.Deployed.DNSPrimary
	require.Equal(t, "us-east", env.PostgresPrimary)
	require.Equal(t, "us-east", env.DNSPrimary)
	require.Equal(t, east.outputs.Deployed, west.outputs.Deployed, "both stacks deployed the same topology")
	for _, stack := range Stacks {
		weight := int64(geodns.StandbyWeight)
		if stack == env.DNSPrimary {
			weight = geodns.PrimaryWeight
		}
		r53.set(stack, dr.DNS{HealthCheckID: regions[stack].outputs.HealthCheckID, Healthy: true, Weight: weight})
	}
	require.Equal(t, east.outputs.DNSFailoverName, west.outputs.DNSFailoverName)
	zone.point(east.outputs.DNSFailoverName, env.Regions[env.DNSPrimary].Outputs.APIEndpoint)
	env.Resolver = dnsServe(t, zone)
	t.Logf("setup (tiers, graphs, rendered charts, stand-ins): %s", time.Since(start).Round(time.Millisecond))

	// The whole checklist.
	ctx := context.Background()
	var progress bytes.Buffer
	rep := verify.Run(ctx, env, verify.Checks(), &progress)
	rep.Stacks = stackLines
	t.Logf("progress:\n%s", progress.String())
	var table bytes.Buffer
	require.NoError(t, rep.WriteTable(&table))
	t.Logf("report:\n%s", table.String())

	// The rows: every check for each region in catalog order, the
	// cross-region checks once.
	var want, got []string
	for _, c := range verify.Checks() {
		if c.Scope == verify.CrossRegion {
			want = append(want, c.ID+" us-east+us-west")
			continue
		}
		for _, stack := range Stacks {
			want = append(want, c.ID+" "+stack)
		}
	}
	require.Len(t, verify.Checks(), 14)
	require.Len(t, want, 26)
	skips := map[string]string{}
	for _, res := range rep.Results {
		got = append(got, res.Check+" "+res.Region)
		switch res.Status {
		case verify.Skip:
			skips[res.Check+" "+res.Region] = res.Observed
		case verify.Fail:
			t.Errorf("%s %s failed: %s %q", res.Check, res.Region, res.Observed, res.Problems)
		}
	}
	assert.Equal(t, want, got)
	assert.Equal(t, map[string]string{
		"postgres-standbys us-west": "us-west is a replica cluster: its writes come from us-east; see postgres-replication",
	}, skips, "only the checks that do not apply skip")
	assert.Zero(t, rep.Failed())
	assert.Equal(t, 25, rep.Count(verify.Pass))
	assert.Equal(t, []string{"us-east", "us-west"}, rep.Regions)

	// What the passing rows saw is what was served.
	for _, stack := range Stacks {
		r := regions[stack]
		res := e2eRow(t, rep.Results, "prometheus-targets", stack)
		assert.True(t, strings.HasPrefix(res.Observed, fmt.Sprintf("%d of %d monitors have a target up", len(r.monitors), len(r.monitors))), res.Observed)
		res = e2eRow(t, rep.Results, "prometheus-rules", stack)
		assert.Equal(t, fmt.Sprintf("all %d rule groups of the program's %d PrometheusRules loaded, every rule healthy", r.programGroups, len(r.inv.Kind("PrometheusRule"))), res.Expected)
		res = e2eRow(t, rep.Results, "vpa-recommendations", stack)
		assert.Equal(t, fmt.Sprintf("%d of %d VPAs recommend", len(r.vpas), len(r.vpas)), res.Observed)
		res = e2eRow(t, rep.Results, "redis-cluster", stack)
		assert.Equal(t, "6 members, cluster_state ok, 16384/16384 slots, 3 masters + 3 replicas; key set via redis-0, read via redis-3", res.Observed)
		assertRedisKeyGone(t, r.members)
	}
	assert.Regexp(t, `^marker written on us-east tars-pg-us-east-1 visible on us-west tars-pg-us-west-1 \(designated primary\) after \d+\.\d\d s \(target 5s\)$`,
		e2eRow(t, rep.Results, "postgres-replication", "us-east+us-west").Observed)
	assertMarkersGone(t, tier)
	// The replica region is only read: its designated primary's psql ran
	// the marker read and nothing else.
	read, err := dr.ReadMarkerSQL(env.RunID + verify.ReplicationMarkerSuffix)
	require.NoError(t, err)
	westPG := west.cl.execsOf(dr.PostgresContainer)
	require.NotEmpty(t, westPG)
	for _, e := range westPG {
		assert.Equal(t, "tars-postgres/tars-pg-us-west-1[postgres]: "+read, e)
	}

	// The report renders: Markdown for the ticket.
	var md bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&md))
	assert.True(t, strings.HasPrefix(md.String(), "## tarsctl verify: PASSED: 25 passed, 0 failed, 1 skipped (run "+env.RunID+", us-east + us-west, "), md.String())
	rows := 0
	for _, l := range strings.Split(md.String(), "\n") {
		if strings.HasPrefix(l, "| `") {
			rows++
			assert.Equal(t, 7, strings.Count(l, " | ")+2, "one cell per column: %s", l)
		}
	}
	assert.Equal(t, len(rep.Results), rows)
	assert.NotContains(t, md.String(), "### Failures")
	if path := os.Getenv("TARS_VERIFY_SAMPLE"); path != "" {
		require.NoError(t, os.WriteFile(path, md.Bytes(), 0o644))
		t.Logf("wrote the Markdown report to %s", path)
	}
	t.Logf("healthy run: %s (%s since the test started)", rep.Finished.Sub(rep.Started).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

	// One thing broken per check family, only that check rerun.
	rerun := func(t *testing.T, ids ...string) []verify.Result {
		t.Helper()
		checks, err := verify.Select(verify.Checks(), verify.Selection{Only: ids})
		require.NoError(t, err)
		rep := verify.Run(ctx, env, checks, nil)
		var b bytes.Buffer
		require.NoError(t, rep.WriteTable(&b))
		t.Logf("rerun %s:\n%s", strings.Join(ids, ", "), b.String())
		for _, res := range rep.Results {
			require.Contains(t, ids, res.Check)
		}
		return rep.Results
	}

	t.Run("a chart's ServiceMonitor has every target down", func(t *testing.T) {
		var m e2eMonitor
		for _, x := range east.monitors {
			if x.kind == "ServiceMonitor" && x.release != "" {
				m = x
				break
			}
		}
		require.NotEmpty(t, m.name, "a chart's ServiceMonitor")
		east.breakWith(func(b *e2eBreak) { b.down = m.String() })
		defer east.breakWith(func(b *e2eBreak) { b.down = "" })
		res := rerun(t, "prometheus-targets")
		require.Len(t, res, 2)
		assert.Equal(t, verify.Fail, res[0].Status)
		require.Len(t, res[0].Problems, 1)
		assert.Equal(t, fmt.Sprintf("%s (release %s): %d targets, all down; first error: http://%s/metrics: Get \"http://%s/metrics\": dial tcp %s: connect: connection refused",
			m, m.release, m.endpoints, m.addr(0), m.addr(0), m.addr(0)), res[0].Problems[0])
		assert.Equal(t, verify.Pass, res[1].Status, "us-west is untouched")
	})

	t.Run("a group of a PrometheusRule is not loaded", func(t *testing.T) {
		pr := west.inv.Kind("PrometheusRule")[0]
		groups, _ := verify.Path(pr.Body, "spec.groups").([]any)
		require.NotEmpty(t, groups)
		group := fmt.Sprint(groups[len(groups)-1].(map[string]any)["name"])
		west.breakWith(func(b *e2eBreak) { b.unloaded = pr.Namespace + "/" + pr.Name + "/" + group })
		defer west.breakWith(func(b *e2eBreak) { b.unloaded = "" })
		res := rerun(t, "prometheus-rules")
		assert.Equal(t, verify.Pass, res[0].Status)
		assert.Equal(t, verify.Fail, res[1].Status)
		assert.Equal(t, []string{fmt.Sprintf("PrometheusRule %s/%s: 1 of %d groups not loaded from %s: %s",
			pr.Namespace, pr.Name, len(groups), west.ruleFile(pr.Namespace, pr.Name), group)}, res[1].Problems)
	})

	t.Run("a P1 alert fires", func(t *testing.T) {
		alert, labels := e2eRuleWithSeverity(t, east.inv, "P1")
		activeAt := time.Now().Add(-7 * time.Minute).UTC().Format(time.RFC3339Nano)
		east.breakWith(func(b *e2eBreak) {
			b.firing = []map[string]any{{"labels": labels, "annotations": map[string]string{}, "state": "firing", "activeAt": activeAt, "value": "1e+00"}}
		})
		defer east.breakWith(func(b *e2eBreak) { b.firing = nil })
		res := rerun(t, "alerts")
		assert.Equal(t, verify.Fail, res[0].Status)
		require.Len(t, res[0].Problems, 1)
		assert.True(t, strings.HasPrefix(res[0].Problems[0], "P1 "+alert+" firing since "+activeAt), res[0].Problems[0])
		assert.Equal(t, "2 firing (P1 1, Watchdog 1); 1 above P2", res[0].Observed)
		assert.Equal(t, verify.Pass, res[1].Status)
	})

	t.Run("the newest Thanos block is 5h old", func(t *testing.T) {
		west.breakWith(func(b *e2eBreak) { b.blockAge = 5 * time.Hour })
		defer west.breakWith(func(b *e2eBreak) { b.blockAge = 0 })
		res := rerun(t, "thanos-blocks")
		assert.Equal(t, verify.Pass, res[0].Status)
		assert.Equal(t, verify.Fail, res[1].Status)
		require.Len(t, res[1].Problems, 1)
		assert.Contains(t, res[1].Problems[0], "Thanos store gateway "+west.services["thanos-blocks"].String()+": newest block "+e2eNewestULID)
		assert.Contains(t, res[1].Problems[0], "5h0m0s ago (limit 4h0m0s)")
	})

	t.Run("Loki has no lines of the application namespace", func(t *testing.T) {
		east.breakWith(func(b *e2eBreak) { b.noLogs = true })
		defer east.breakWith(func(b *e2eBreak) { b.noLogs = false })
		res := rerun(t, "loki-logs")
		assert.Equal(t, verify.Fail, res[0].Status)
		require.Len(t, res[0].Problems, 1)
		assert.Contains(t, res[0].Problems[0], fmt.Sprintf(`Loki %s: no log lines for {namespace=%q} in the last 5m0s`, east.services["loki-logs"], east.appNamespace))
		assert.Equal(t, verify.Pass, res[1].Status)
	})

	t.Run("a traced service has no recent trace", func(t *testing.T) {
		svc := west.traced[0]
		west.breakWith(func(b *e2eBreak) { b.untraced = svc })
		defer west.breakWith(func(b *e2eBreak) { b.untraced = "" })
		res := rerun(t, "jaeger-traces")
		assert.Equal(t, verify.Pass, res[0].Status)
		assert.Equal(t, verify.Fail, res[1].Status)
		assert.Equal(t, []string{"service " + svc + ": no trace in the last 1h0m0s"}, res[1].Problems)
	})

	t.Run("replay paused on a standby", func(t *testing.T) {
		// Standby A is us-east's tars-pg-us-east-2 and us-west's
		// designated primary tars-pg-us-west-1.
		_, err := tier.adb.Exec(`SELECT pg_wal_replay_pause()`)
		require.NoError(t, err)
		res := rerun(t, "postgres-standbys", "postgres-replication")
		_, err = tier.adb.Exec(`SELECT pg_wal_replay_resume()`)
		require.NoError(t, err)
		require.Len(t, res, 3)
		assert.Equal(t, verify.Fail, res[0].Status)
		assert.Equal(t, []string{"tars-pg-us-east-2: the marker is not visible within 5s (the last read found no row)"}, res[0].Problems)
		assert.Equal(t, verify.Skip, res[1].Status)
		assert.Equal(t, verify.Fail, res[2].Status)
		assert.Equal(t, []string{"us-west designated primary tars-pg-us-west-1: the marker is not visible within 5s (the last read found no row)"}, res[2].Problems)
		assertMarkersGone(t, tier)
	})

	t.Run("the Route 53 weights are swapped", func(t *testing.T) {
		eastDNS, westDNS := r53.get("us-east"), r53.get("us-west")
		r53.set("us-east", dr.DNS{HealthCheckID: eastDNS.HealthCheckID, Healthy: true, Weight: westDNS.Weight})
		r53.set("us-west", dr.DNS{HealthCheckID: westDNS.HealthCheckID, Healthy: true, Weight: eastDNS.Weight})
		zone.point(east.outputs.DNSFailoverName, west.outputs.APIEndpoint)
		defer func() {
			r53.set("us-east", eastDNS)
			r53.set("us-west", westDNS)
			zone.point(east.outputs.DNSFailoverName, east.outputs.APIEndpoint)
		}()
		res := rerun(t, "route53-health", "global-name")
		require.Len(t, res, 3)
		name := east.outputs.DNSFailoverName
		assert.Equal(t, []string{fmt.Sprintf("us-east's record of %s has weight 0; as the DNS primary it must have 100", name)}, res[0].Problems)
		assert.Equal(t, []string{fmt.Sprintf("us-west's record of %s has weight 100; as the standby (the DNS primary is us-east) it must have 0", name)}, res[1].Problems)
		assert.Equal(t, verify.Fail, res[2].Status)
		require.Len(t, res[2].Problems, 1)
		assert.True(t, strings.HasPrefix(res[2].Problems[0], fmt.Sprintf("%s answers us-west's endpoint %s, but the DNS primary is us-east (healthy, endpoint %s)",
			name, west.outputs.APIEndpoint, east.outputs.APIEndpoint)), res[2].Problems[0])
	})

	t.Run("Kubecost allocates nothing", func(t *testing.T) {
		east.breakWith(func(b *e2eBreak) { b.noCost = true })
		defer east.breakWith(func(b *e2eBreak) { b.noCost = false })
		res := rerun(t, "kubecost-allocation")
		assert.Equal(t, verify.Fail, res[0].Status)
		require.Len(t, res[0].Problems, 1)
		assert.Contains(t, res[0].Problems[0], fmt.Sprintf("%s %s: %d allocations over 1d, none with totalCost > 0", east.services["kubecost-allocation"], east.paths["kubecost-allocation"], len(east.costNamespaces)))
		assert.Equal(t, verify.Pass, res[1].Status)
	})

	t.Run("a VPA has no recommendation", func(t *testing.T) {
		v := west.inv.Kind("VerticalPodAutoscaler")[0]
		obj := west.vpas[v.Namespace+"/"+v.Name]
		healthy := obj["status"]
		obj["status"] = map[string]any{"conditions": []any{
			map[string]any{"type": "NoPodsMatched", "status": "True", "reason": "NoPodsMatched", "message": "No pods match this VPA object", "lastTransitionTime": "2026-11-30T09:20:11Z"},
			map[string]any{"type": "RecommendationProvided", "status": "False", "reason": "NoPodsMatched", "message": "No pods match this VPA object", "lastTransitionTime": "2026-11-30T09:20:11Z"},
		}}
		defer func() { obj["status"] = healthy }()
		res := rerun(t, "vpa-recommendations")
		assert.Equal(t, verify.Pass, res[0].Status)
		assert.Equal(t, verify.Fail, res[1].Status)
		require.Len(t, res[1].Problems, 1)
		assert.True(t, strings.HasPrefix(res[1].Problems[0], fmt.Sprintf("VerticalPodAutoscaler %s/%s (target ", v.Namespace, v.Name)), res[1].Problems[0])
		assert.Contains(t, res[1].Problems[0], "no recommendation; conditions: NoPodsMatched True (NoPodsMatched: No pods match this VPA object)")
	})

	t.Run("the autoscaler's status is stale", func(t *testing.T) {
		require.NotNil(t, east.caConfigMap, "us-east runs the cluster autoscaler")
		stale := time.Now().Add(-7 * time.Minute)
		east.setCAStatus(stale)
		defer east.setCAStatus(time.Now())
		res := rerun(t, "autoscaler-status")
		assert.Equal(t, verify.Fail, res[0].Status)
		require.Len(t, res[0].Problems, 1)
		assert.Contains(t, res[0].Problems[0], "the status was last written "+stale.UTC().Format(time.RFC3339))
		assert.Contains(t, res[0].Problems[0], "more than 5m0s")
		assert.Equal(t, verify.Pass, res[1].Status)
	})

	// Last: a member stopped for good.
	t.Run("a Redis member is down", func(t *testing.T) {
		down := -1
		for _, n := range clusterNodes(t, west.members[0].addr) {
			if i := indexOf(west.members, n.addr); strings.HasPrefix(n.flags, "slave") && i != 0 && i != 3 {
				down = i
				break
			}
		}
		require.NotEqual(t, -1, down, "a replica that is neither the writer nor the reader")
		west.members[down].stop(os.Kill)
		res := rerun(t, "redis-cluster")
		assert.Equal(t, verify.Pass, res[0].Status)
		assert.Equal(t, verify.Fail, res[1].Status)
		require.Len(t, res[1].Problems, 1)
		assert.Contains(t, res[1].Problems[0], fmt.Sprintf("redis-%d: CLUSTER INFO: ", down))
		assert.Contains(t, res[1].Problems[0], "Could not connect to Redis")
		assertRedisKeyGone(t, east.members)
		assertRedisKeyGone(t, west.members, down)
	})
	t.Logf("whole test: %s", time.Since(start).Round(time.Millisecond))
}

// e2eRow is the row of a check in a region.
func e2eRow(t *testing.T, results []verify.Result, check, region string) verify.Result {
	t.Helper()
	for _, r := range results {
		if r.Check == check && r.Region == region {
			return r
		}
	}
	t.Fatalf("no row %s %s", check, region)
	return verify.Result{}
}

// e2eCluster is a region's cluster as the checks reach it: the API
// server stand-in (verify.KubeCluster: service proxy, lists, gets) for
// everything but exec, which runs the pods' commands against the real
// servers standing for them, by container: redis-server members for the
// Redis StatefulSet's "redis", PostgreSQL for the Cluster's "postgres".
type e2eCluster struct {
	*verify.KubeCluster
	redis, pg func(ctx context.Context, ns, pod, container string, cmd []string) (string, string, error)
	mu        sync.Mutex
	execs     []string // "ns/pod[container]: last argument"
}

func (c *e2eCluster) Exec(ctx context.Context, ns, pod, container string, cmd []string) (string, string, error) {
	if len(cmd) == 0 {
		return "", "", errors.New("e2eCluster: an empty command")
	}
	c.mu.Lock()
	c.execs = append(c.execs, fmt.Sprintf("%s/%s[%s]: %s", ns, pod, container, cmd[len(cmd)-1]))
	c.mu.Unlock()
	switch container {
	case verify.RedisContainer:
		return c.redis(ctx, ns, pod, container, cmd)
	case dr.PostgresContainer:
		return c.pg(ctx, ns, pod, container, cmd)
	}
	return "", "", fmt.Errorf("container %s not found in pod %s/%s", container, ns, pod)
}

// execsOf are the execs in a container.
func (c *e2eCluster) execsOf(container string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, e := range c.execs {
		if strings.Contains(e, "["+container+"]: ") {
			out = append(out, e)
		}
	}
	return out
}

// e2eMonitor is a ServiceMonitor or PodMonitor the stand-in serves.
type e2eMonitor struct {
	kind, namespace, name string
	release               string // "ns/name" of the Helm release, "" for the program's
	endpoints             int
	index                 int
}

func (m e2eMonitor) String() string { return m.kind + " " + m.namespace + "/" + m.name }

// pool is the scrape pool prometheus-operator generates for endpoint i
// ("serviceMonitor/NS/NAME/I").
func (m e2eMonitor) pool(i int) string {
	return strings.ToLower(m.kind[:1]) + m.kind[1:] + "/" + m.namespace + "/" + m.name + "/" + strconv.Itoa(i)
}

// addr is endpoint i's target address.
func (m e2eMonitor) addr(i int) string {
	return fmt.Sprintf("10.%d.%d.%d:%d", 10+m.index/200, m.index%200+1, i+10, 8080+i)
}

// e2eBreak is what is broken in a region (zero: nothing).
type e2eBreak struct {
	down     string // the monitor whose targets are all down
	unloaded string // "ns/name/group": a group Prometheus has not loaded
	firing   []map[string]any
	blockAge time.Duration // the newest block's age (0: 47 minutes)
	noLogs   bool
	untraced string
	noCost   bool
}

// e2eRegion is one region of the run and what its stand-in serves.
type e2eRegion struct {
	name     string
	graph    *harness.Graph
	releases []charttier.Rendered
	inv      verify.Inventory
	outputs  dr.Outputs
	api      *apistandin.Server
	cl       *e2eCluster
	members  []member
	// services: check ID → the Service it asks.
	services       map[string]verify.Service
	paths          map[string]string // check ID → the path it asks first
	watchdog       map[string]any    // its labels and annotations
	pgExec         func(ctx context.Context, ns, pod, container string, cmd []string) (string, string, error)
	monitors       []e2eMonitor
	rules          []map[string]any // every PrometheusRule served
	programGroups  int
	vpas           map[string]map[string]any // ns/name → served
	caConfigMap    map[string]any
	appNamespace   string
	workloadNS     map[string]bool
	traced         []string
	costNamespaces []string

	mu  sync.Mutex
	brk e2eBreak
}

func (r *e2eRegion) breakWith(f func(*e2eBreak)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.brk)
}

func (r *e2eRegion) broken() e2eBreak {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.brk
}

// e2eUID is a stable uid for an object (the API server's is random).
func e2eUID(kind, ns, name string) string {
	h := sha1.Sum([]byte(kind + "/" + ns + "/" + name))
	s := hex.EncodeToString(h[:16])
	return s[:8] + "-" + s[8:12] + "-4" + s[13:16] + "-8" + s[17:20] + "-" + s[20:32]
}

// e2eCopy is a deep copy of a JSON object.
func e2eCopy(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// e2eStatefulSet is the program's Redis StatefulSet.
type e2eStatefulSet struct{ verify.Object }

func (s e2eStatefulSet) replicas() (int, bool) {
	n, ok := verify.Path(s.Body, "spec.replicas").(float64)
	return int(n), ok
}

func e2eRedisStatefulSet(t *testing.T, inv verify.Inventory) e2eStatefulSet {
	t.Helper()
	for _, o := range inv.Kind("StatefulSet") {
		if o.Name == redis.StatefulSetName {
			return e2eStatefulSet{o}
		}
	}
	t.Fatalf("%s: the program deploys no Redis StatefulSet", inv.Region)
	return e2eStatefulSet{}
}

// e2eOutputs are the region's stack outputs as the harness mocks them
// (the outputs its peer's StackReference reads), parsed as tarsctl does.
func e2eOutputs(t *testing.T, region string) dr.Outputs {
	t.Helper()
	for _, other := range Stacks {
		if other == region {
			continue
		}
		vals, err := harness.PeerOutputs(other)
		require.NoError(t, err)
		outs := auto.OutputMap{}
		for k, v := range vals {
			outs[k] = auto.OutputValue{Value: v}
		}
		o, err := dr.ParseOutputs(region, outs)
		require.NoError(t, err)
		if o.Region == region {
			return o
		}
	}
	t.Fatalf("no mock outputs of %s", region)
	return dr.Outputs{}
}

// e2eRecorder is a verify.Cluster that records what a check asks (the
// Service and path of its first proxied GET, its gets) and answers
// nothing, so each check stops at its first call: how the test finds
// the Services and objects the checks read without naming them itself.
type e2eRecorder struct {
	mu    sync.Mutex
	asked []verify.Service
	paths []string
	gets  []string // "resource/namespace/name"
}

func (c *e2eRecorder) ServiceGet(_ context.Context, svc verify.Service, path string, _ url.Values) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, svc)
	c.paths = append(c.paths, path)
	return nil, errRecorded
}

func (c *e2eRecorder) List(context.Context, schema.GroupVersionResource, string) ([]map[string]any, error) {
	return nil, nil
}

func (c *e2eRecorder) Get(_ context.Context, gvr schema.GroupVersionResource, ns, name string) (map[string]any, error) {
	c.mu.Lock()
	c.gets = append(c.gets, gvr.Resource+"/"+ns+"/"+name)
	c.mu.Unlock()
	return nil, fmt.Errorf("%s %s/%s: %w", gvr.Resource, ns, name, verify.ErrNotFound)
}

func (c *e2eRecorder) Exec(context.Context, string, string, string, []string) (string, string, error) {
	return "", "", errors.New("e2eRecorder: no exec")
}

// e2eAsk runs a check against a recorder for one region.
func e2eAsk(t *testing.T, c verify.Check, region string, inv verify.Inventory) *e2eRecorder {
	t.Helper()
	rec := &e2eRecorder{}
	env := &verify.Env{RunID: "verify-e2e-discover", Regions: map[string]*verify.Region{region: {Name: region, Cluster: rec, Inventory: inv}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = c.Run(ctx, env, region)
	return rec
}

// e2eNewRegion builds a region: its graph, inventory and rendered charts,
// the stand-in serving it healthy, its exec into the tiers.
func e2eNewRegion(t *testing.T, stack string, members []member, tier *pgTier) *e2eRegion {
	t.Helper()
	rs := renderStack(t, stack)
	inv, err := rs.graph.Inventory(stack)
	require.NoError(t, err)
	r := &e2eRegion{name: stack, graph: rs.graph, releases: rs.releases, inv: inv, outputs: e2eOutputs(t, stack),
		api: apistandin.New(t), members: members, services: map[string]verify.Service{}, vpas: map[string]map[string]any{}}
	require.Equal(t, postgres.ClusterName(stack), r.outputs.PostgresCluster)

	// The Services the checks ask for, each one the charts render.
	rendered := map[string]map[string]any{}
	for _, rel := range rs.releases {
		for _, o := range charttier.Namespaced(rel.Output.Objects, rel.Namespace) {
			if o["kind"] == "Service" {
				meta, _ := o["metadata"].(map[string]any)
				rendered[fmt.Sprint(meta["namespace"], "/", meta["name"])] = o
			}
		}
	}
	paths := map[string]string{}
	r.paths = paths
	for _, c := range []verify.Check{verify.PrometheusTargets(), verify.PrometheusRules(), verify.Alerts(), verify.ThanosBlocks(),
		verify.LokiLogs(), verify.JaegerTraces(), verify.KubecostAllocation()} {
		rec := e2eAsk(t, c, stack, inv)
		require.Len(t, rec.asked, 1, "%s %s asks one Service first", stack, c.ID)
		svc := rec.asked[0]
		obj, ok := rendered[svc.Namespace+"/"+svc.Name]
		require.True(t, ok, "%s asks Service %s, which no chart of %s renders", c.ID, svc, stack)
		require.True(t, hasServicePort(obj, svc.Port), "%s asks Service %s, whose ports are %v", c.ID, svc, dig(obj, "spec")["ports"])
		r.services[c.ID] = svc
		paths[c.ID] = rec.paths[0]
	}
	prom := r.services["prometheus-targets"]
	require.Equal(t, prom, r.services["prometheus-rules"])
	require.Equal(t, prom, r.services["alerts"])

	r.serveMonitorsAndRules(t)
	r.findWatchdog(t)
	r.serveVPAs(t)
	r.serveAutoscalerStatus(t)
	r.servePostgres(t, tier)

	// The APIs behind the Services.
	r.appNamespace, err = e2eAppNamespace(inv)
	require.NoError(t, err)
	r.workloadNS = map[string]bool{}
	for _, kind := range []string{"Deployment", "StatefulSet", "DaemonSet"} {
		for _, o := range inv.Kind(kind) {
			r.workloadNS[o.Namespace] = true
		}
	}
	r.traced = e2eTracedServices(t, inv)
	for _, o := range inv.Kind("Namespace") {
		r.costNamespaces = append(r.costNamespaces, o.Name)
	}
	require.NotEmpty(t, r.costNamespaces)
	muxes := map[string]*http.ServeMux{}
	handle := func(svc verify.Service, path string, h http.HandlerFunc) {
		mux, ok := muxes[svc.String()]
		if !ok {
			mux = http.NewServeMux()
			muxes[svc.String()] = mux
			r.api.Service(svc.Namespace, svc.Name, svc.Port, mux)
		}
		mux.HandleFunc("GET "+path, h)
	}
	handle(prom, paths["prometheus-targets"], r.promTargets)
	handle(prom, paths["prometheus-rules"], r.promRules)
	handle(prom, paths["alerts"], r.promAlerts)
	handle(r.services["thanos-blocks"], paths["thanos-blocks"], r.thanosBlocks)
	handle(r.services["loki-logs"], paths["loki-logs"], r.lokiQueryRange)
	handle(r.services["jaeger-traces"], paths["jaeger-traces"], r.jaegerServices)
	handle(r.services["jaeger-traces"], "/api/traces", r.jaegerTraces)
	handle(r.services["kubecost-allocation"], paths["kubecost-allocation"], r.costAllocation)

	// Exec into the tiers.
	sts := e2eRedisStatefulSet(t, inv)
	r.cl = &e2eCluster{KubeCluster: r.api.Cluster(t), redis: redisTierExec(t, &r.members, sts.Namespace, sts.Name)}
	r.cl.pg = r.pgExec
	return r
}

// e2eAppNamespace is the application namespace as the Loki check finds
// it: the public API's Ingress's.
func e2eAppNamespace(inv verify.Inventory) (string, error) {
	for _, o := range inv.Kind("Ingress") {
		if o.Name == geodns.IngressName {
			return o.Namespace, nil
		}
	}
	return "", fmt.Errorf("%s: no Ingress %s", inv.Region, geodns.IngressName)
}

// e2eTracedServices are the services of the program's Jaeger sampling
// strategies (the ConfigMap with a strategies.json).
func e2eTracedServices(t *testing.T, inv verify.Inventory) []string {
	t.Helper()
	var out []string
	for _, o := range inv.Kind("ConfigMap") {
		data, _ := o.Body["data"].(map[string]any)
		raw, ok := data["strategies.json"].(string)
		if !ok {
			continue
		}
		var f struct {
			ServiceStrategies []struct {
				Service string `json:"service"`
			} `json:"service_strategies"`
		}
		require.NoError(t, json.Unmarshal([]byte(raw), &f))
		for _, s := range f.ServiceStrategies {
			out = append(out, s.Service)
		}
	}
	require.NotEmpty(t, out, "%s: the program's Jaeger sampling strategies name the traced services", inv.Region)
	sort.Strings(out)
	return slices.Compact(out)
}

// serveMonitorsAndRules serves the program's and the charts'
// ServiceMonitors, PodMonitors and PrometheusRules: the program's as
// registered, the charts' as rendered with Helm's ownership annotations;
// each with a uid.
func (r *e2eRegion) serveMonitorsAndRules(t *testing.T) {
	t.Helper()
	served := map[string][]map[string]any{}
	add := func(kind string, obj map[string]any, release string) {
		meta, _ := obj["metadata"].(map[string]any)
		require.NotNil(t, meta, "%s without metadata", kind)
		ns, name := fmt.Sprint(meta["namespace"]), fmt.Sprint(meta["name"])
		meta["uid"] = e2eUID(kind, ns, name)
		meta["resourceVersion"] = "1"
		if release != "" {
			relNS, relName, _ := strings.Cut(release, "/")
			ann, _ := meta["annotations"].(map[string]any)
			if ann == nil {
				ann = map[string]any{}
				meta["annotations"] = ann
			}
			ann["meta.helm.sh/release-name"] = relName
			ann["meta.helm.sh/release-namespace"] = relNS
		}
		obj["apiVersion"], obj["kind"] = "monitoring.coreos.com/v1", kind
		served[kind] = append(served[kind], obj)
		switch kind {
		case "ServiceMonitor", "PodMonitor":
			key := "endpoints"
			if kind == "PodMonitor" {
				key = "podMetricsEndpoints"
			}
			eps, _ := verify.Path(obj, "spec."+key).([]any)
			r.monitors = append(r.monitors, e2eMonitor{kind: kind, namespace: ns, name: name, release: release, endpoints: len(eps), index: len(r.monitors)})
		case "PrometheusRule":
			r.rules = append(r.rules, obj)
		}
	}
	for _, kind := range []string{"ServiceMonitor", "PodMonitor", "PrometheusRule"} {
		for _, o := range r.inv.Kind(kind) {
			obj := e2eCopy(t, o.Body)
			meta, _ := obj["metadata"].(map[string]any)
			if meta == nil {
				meta = map[string]any{}
				obj["metadata"] = meta
			}
			meta["namespace"], meta["name"] = o.Namespace, o.Name
			add(kind, obj, "")
			if kind == "PrometheusRule" {
				groups, _ := verify.Path(obj, "spec.groups").([]any)
				r.programGroups += len(groups)
			}
		}
	}
	for _, rel := range r.releases {
		for _, o := range charttier.Namespaced(rel.Output.Objects, rel.Namespace) {
			kind, _ := o["kind"].(string)
			if kind == "ServiceMonitor" || kind == "PodMonitor" || kind == "PrometheusRule" {
				add(kind, e2eCopy(t, o), rel.Namespace+"/"+rel.ReleaseName)
			}
		}
	}
	for _, m := range r.monitors {
		require.Positive(t, m.endpoints, "%s: %s has no endpoint: prometheus-operator generates no scrape pool for it", r.name, m)
	}
	chartMonitors := 0
	for _, m := range r.monitors {
		if m.release != "" {
			chartMonitors++
		}
	}
	require.Positive(t, chartMonitors, "%s: the charts render monitors", r.name)
	r.api.Objects("servicemonitors.monitoring.coreos.com/v1", served["ServiceMonitor"]...)
	r.api.Objects("podmonitors.monitoring.coreos.com/v1", served["PodMonitor"]...)
	r.api.Objects("prometheusrules.monitoring.coreos.com/v1", served["PrometheusRule"]...)
	t.Logf("%s serves %d ServiceMonitors, %d PodMonitors (%d of the charts), %d PrometheusRules (%d groups of the program's)",
		r.name, len(served["ServiceMonitor"]), len(served["PodMonitor"]), chartMonitors, len(served["PrometheusRule"]), r.programGroups)
}

// ruleFile is where prometheus-operator puts a PrometheusRule's groups:
// "<ns>-<name>-<uid>.yaml" in the rule-files ConfigMap of the Prometheus.
func (r *e2eRegion) ruleFile(ns, name string) string {
	return ns + "-" + name + "-" + e2eUID("PrometheusRule", ns, name) + ".yaml"
}

func e2eJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// promTargets is /api/v1/targets: a target per endpoint of every monitor
// served, up (Prometheus docs, "Targets").
func (r *e2eRegion) promTargets(w http.ResponseWriter, req *http.Request) {
	brk := r.broken()
	targets := []any{}
	for _, m := range r.monitors {
		for i := range m.endpoints {
			addr := m.addr(i)
			health, lastErr := "up", ""
			if m.String() == brk.down {
				health, lastErr = "down", fmt.Sprintf(`Get "http://%s/metrics": dial tcp %s: connect: connection refused`, addr, addr)
			}
			targets = append(targets, map[string]any{
				"discoveredLabels": map[string]string{"__address__": addr, "__scheme__": "http"},
				"labels":           map[string]string{"instance": addr, "job": m.name, "namespace": m.namespace},
				"scrapePool":       m.pool(i), "scrapeUrl": "http://" + addr + "/metrics", "globalUrl": "http://" + addr + "/metrics",
				"lastError": lastErr, "lastScrape": time.Now().Add(-7 * time.Second).UTC().Format(time.RFC3339Nano),
				"lastScrapeDuration": 0.012, "health": health, "scrapeInterval": "30s", "scrapeTimeout": "10s",
			})
		}
	}
	e2eJSON(w, map[string]any{"status": "success", "data": map[string]any{"activeTargets": targets, "droppedTargets": []any{}}})
}

// promRules is /api/v1/rules: every group of every PrometheusRule
// served, from its file, every rule healthy (Prometheus docs, "Rules").
func (r *e2eRegion) promRules(w http.ResponseWriter, req *http.Request) {
	brk := r.broken()
	dir := "/etc/prometheus/rules/prometheus-" + r.services["prometheus-rules"].Name + "-rulefiles-0/"
	groups := []any{}
	for _, pr := range r.rules {
		meta := pr["metadata"].(map[string]any)
		ns, name := meta["namespace"].(string), meta["name"].(string)
		gs, _ := verify.Path(pr, "spec.groups").([]any)
		for _, g := range gs {
			gm, _ := g.(map[string]any)
			gname := fmt.Sprint(gm["name"])
			if ns+"/"+name+"/"+gname == brk.unloaded {
				continue
			}
			rules := []any{}
			rs, _ := gm["rules"].([]any)
			for _, rule := range rs {
				rm, _ := rule.(map[string]any)
				typ, rname := "alerting", rm["alert"]
				if rname == nil {
					typ, rname = "recording", rm["record"]
				}
				rules = append(rules, map[string]any{"name": rname, "query": rm["expr"], "labels": rm["labels"], "health": "ok", "lastError": "",
					"type": typ, "evaluationTime": 0.0003, "lastEvaluation": time.Now().Add(-10 * time.Second).UTC().Format(time.RFC3339Nano)})
			}
			groups = append(groups, map[string]any{"name": gname, "file": dir + r.ruleFile(ns, name), "rules": rules, "interval": 30,
				"evaluationTime": 0.001, "lastEvaluation": time.Now().Add(-10 * time.Second).UTC().Format(time.RFC3339Nano)})
		}
	}
	e2eJSON(w, map[string]any{"status": "success", "data": map[string]any{"groups": groups}})
}

// e2eRuleWithSeverity is the first alerting rule of the program's
// PrometheusRules with a severity, and the labels it fires with.
func e2eRuleWithSeverity(t *testing.T, inv verify.Inventory, severity string) (string, map[string]string) {
	t.Helper()
	for _, pr := range inv.Kind("PrometheusRule") {
		gs, _ := verify.Path(pr.Body, "spec.groups").([]any)
		for _, g := range gs {
			rs, _ := g.(map[string]any)["rules"].([]any)
			for _, rule := range rs {
				rm, _ := rule.(map[string]any)
				alert, _ := rm["alert"].(string)
				labels, _ := rm["labels"].(map[string]any)
				if alert == "" || labels["severity"] != severity {
					continue
				}
				out := map[string]string{"alertname": alert}
				for k, v := range labels {
					out[k] = fmt.Sprint(v)
				}
				return alert, out
			}
		}
	}
	t.Fatalf("%s: the program has no alert of severity %s", inv.Region, severity)
	return "", nil
}

// promAlerts is /api/v1/alerts: Watchdog (the charts' dead man's switch,
// as its rule labels it) firing, and what is broken.
func (r *e2eRegion) promAlerts(w http.ResponseWriter, req *http.Request) {
	brk := r.broken()
	alerts := []any{map[string]any{"labels": r.watchdog["labels"], "annotations": r.watchdog["annotations"], "state": "firing",
		"activeAt": time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339Nano), "value": "1e+00"}}
	for _, a := range brk.firing {
		alerts = append(alerts, a)
	}
	e2eJSON(w, map[string]any{"status": "success", "data": map[string]any{"alerts": alerts}})
}

// findWatchdog finds the Watchdog rule among the PrometheusRules served
// (kube-prometheus-stack's general.rules): the alert that always fires.
func (r *e2eRegion) findWatchdog(t *testing.T) {
	t.Helper()
	for _, pr := range r.rules {
		gs, _ := verify.Path(pr, "spec.groups").([]any)
		for _, g := range gs {
			rs, _ := g.(map[string]any)["rules"].([]any)
			for _, rule := range rs {
				if rm, _ := rule.(map[string]any); rm["alert"] == "Watchdog" {
					labels := map[string]any{"alertname": "Watchdog"}
					lm, _ := rm["labels"].(map[string]any)
					for k, v := range lm {
						labels[k] = v
					}
					r.watchdog = map[string]any{"labels": labels, "annotations": rm["annotations"]}
					return
				}
			}
		}
	}
	t.Fatalf("%s: no PrometheusRule served has the Watchdog alert", r.name)
}

const e2eNewestULID = "01JDQF0A1S2D3F4G5H6J7K8L9M"

// thanosBlocks is the store gateway's /api/v1/blocks?view=loaded: two
// blocks uploaded by the sidecar, the newest ending 47 minutes ago.
func (r *e2eRegion) thanosBlocks(w http.ResponseWriter, req *http.Request) {
	brk := r.broken()
	age := 47 * time.Minute
	if brk.blockAge > 0 {
		age = brk.blockAge
	}
	newest := time.Now().Add(-age)
	var blocks []any
	for i, ulid := range []string{"01JDQ9Q4K2W3E5R6T7Y8U9I0OP", e2eNewestULID} {
		end := newest.Add(-time.Duration(1-i) * 2 * time.Hour)
		blocks = append(blocks, map[string]any{
			"ulid": ulid, "minTime": end.Add(-2 * time.Hour).UnixMilli(), "maxTime": end.UnixMilli(), "version": 1,
			"stats":      map[string]any{"numSamples": 1234567, "numSeries": 4321, "numChunks": 9876},
			"compaction": map[string]any{"level": 1, "sources": []string{ulid}},
			"thanos": map[string]any{"labels": map[string]string{"region": r.name}, "downsample": map[string]any{"resolution": 0},
				"source": "sidecar", "segment_files": []string{"000001"}},
		})
	}
	e2eJSON(w, map[string]any{"status": "success", "data": map[string]any{"label": "", "blocks": blocks,
		"refreshedAt": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano), "err": nil}})
}

var e2eLogQuery = regexp.MustCompile(`^\{namespace=("[^"]*")\}$`)

// lokiQueryRange is /loki/api/v1/query_range for {namespace="…"}: lines
// for a namespace the program runs workloads in, within the window asked.
func (r *e2eRegion) lokiQueryRange(w http.ResponseWriter, req *http.Request) {
	brk := r.broken()
	q := req.URL.Query()
	m := e2eLogQuery.FindStringSubmatch(q.Get("query"))
	if m == nil {
		http.Error(w, "parse error: unexpected query", http.StatusBadRequest)
		return
	}
	ns, _ := strconv.Unquote(m[1])
	end, err := strconv.ParseInt(q.Get("end"), 10, 64)
	if err != nil {
		http.Error(w, "bad end", http.StatusBadRequest)
		return
	}
	result := []any{}
	if r.workloadNS[ns] && !brk.noLogs {
		var values [][]string
		for i := range 3 {
			values = append(values, []string{strconv.FormatInt(end-int64(time.Duration(i*20+5)*time.Second), 10), `{"level":"INFO","msg":"request served","status":200}`})
		}
		result = append(result, map[string]any{"stream": map[string]string{"namespace": ns, "container": "app"}, "values": values})
	}
	e2eJSON(w, map[string]any{"status": "success", "data": map[string]any{"resultType": "streams", "result": result,
		"stats": map[string]any{"summary": map[string]any{"totalLinesProcessed": 3}}}})
}

// jaegerServices is the query API's /api/services: the traced services
// and Jaeger's own.
func (r *e2eRegion) jaegerServices(w http.ResponseWriter, req *http.Request) {
	e2eJSON(w, map[string]any{"data": append([]string{"jaeger"}, r.traced...), "total": len(r.traced) + 1, "limit": 0, "offset": 0, "errors": nil})
}

// jaegerTraces is /api/traces?service=…: a trace of a traced service
// within the window asked.
func (r *e2eRegion) jaegerTraces(w http.ResponseWriter, req *http.Request) {
	brk := r.broken()
	q := req.URL.Query()
	svc := q.Get("service")
	end, err := strconv.ParseInt(q.Get("end"), 10, 64)
	if err != nil {
		http.Error(w, "bad end", http.StatusBadRequest)
		return
	}
	traces := []any{}
	if slices.Contains(r.traced, svc) && svc != brk.untraced {
		id := hex.EncodeToString([]byte(svc + "0123456789abcdef")[:16])
		traces = append(traces, map[string]any{"traceID": id, "spans": []any{map[string]any{
			"traceID": id, "spanID": id[:16], "operationName": "GET /api/health", "references": []any{},
			"startTime": end - (10 * time.Minute).Microseconds(), "duration": 12034, "processID": "p1", "tags": []any{}, "logs": []any{},
		}}, "processes": map[string]any{"p1": map[string]any{"serviceName": svc, "tags": []any{}}}})
	}
	e2eJSON(w, map[string]any{"data": traces, "total": len(traces), "limit": 0, "offset": 0, "errors": nil})
}

// costAllocation is the allocation API per namespace over a day: each of
// the program's namespaces costs something.
func (r *e2eRegion) costAllocation(w http.ResponseWriter, req *http.Request) {
	brk := r.broken()
	set := map[string]any{}
	for i, ns := range r.costNamespaces {
		total := 0.0
		if !brk.noCost {
			total = 0.42 + float64(i)*0.37
		}
		set[ns] = map[string]any{"name": ns, "properties": map[string]any{"namespace": ns}, "minutes": 1440,
			"cpuCost": total * 0.6, "ramCost": total * 0.4, "totalCost": total}
	}
	e2eJSON(w, map[string]any{"code": 200, "data": []any{set}})
}

// serveVPAs serves every VPA of the program with a recommendation for
// its target's containers (VPA 1.7.1's status: RecommendationProvided,
// containerRecommendations).
func (r *e2eRegion) serveVPAs(t *testing.T) {
	t.Helper()
	var objs []map[string]any
	for _, o := range r.inv.Kind("VerticalPodAutoscaler") {
		obj := e2eCopy(t, o.Body)
		meta, _ := obj["metadata"].(map[string]any)
		meta["uid"], meta["generation"] = e2eUID("VerticalPodAutoscaler", o.Namespace, o.Name), 1
		containers := []string{"app"}
		ref, _ := verify.Path(o.Body, "spec.targetRef").(map[string]any)
		if w, ok := r.inv.Object(fmt.Sprint(ref["kind"]), o.Namespace, fmt.Sprint(ref["name"])); ok {
			if cs, _ := verify.Path(w.Body, "spec.template.spec.containers").([]any); len(cs) > 0 {
				containers = nil
				for _, c := range cs {
					containers = append(containers, fmt.Sprint(c.(map[string]any)["name"]))
				}
			}
		}
		var recs []any
		for _, c := range containers {
			res := map[string]any{"cpu": "250m", "memory": "512Mi"}
			recs = append(recs, map[string]any{"containerName": c, "lowerBound": res, "target": res, "uncappedTarget": res,
				"upperBound": map[string]any{"cpu": "2", "memory": "4Gi"}})
		}
		obj["status"] = map[string]any{
			"conditions":     []any{map[string]any{"type": "RecommendationProvided", "status": "True", "lastTransitionTime": "2026-11-30T09:20:11Z"}},
			"recommendation": map[string]any{"containerRecommendations": recs},
		}
		r.vpas[o.Namespace+"/"+o.Name] = obj
		objs = append(objs, obj)
	}
	require.NotEmpty(t, objs, "%s: the program creates VPAs", r.name)
	r.api.Objects("verticalpodautoscalers.autoscaling.k8s.io/v1", objs...)
}

const e2eCALastUpdated = "cluster-autoscaler.kubernetes.io/last-updated"

// serveAutoscalerStatus serves the autoscaler's status ConfigMap where the
// check reads it, Running and Healthy, written a few seconds ago, in
// cluster-autoscaler 1.34's format (clusterstate/api/types.go as YAML,
// the last-updated annotation), a node group per EKS node group of the
// graph.
func (r *e2eRegion) serveAutoscalerStatus(t *testing.T) {
	t.Helper()
	rec := e2eAsk(t, verify.AutoscalerStatus(), r.name, r.inv)
	var ns, name string
	for _, g := range rec.gets {
		if parts := strings.SplitN(g, "/", 3); parts[0] == "configmaps" {
			ns, name = parts[1], parts[2]
		}
	}
	r.api.Objects("configmaps/v1")
	if name == "" {
		return // no cluster-autoscaler: the check skips
	}
	// Where the rendered autoscaler writes it: --namespace, and
	// --status-config-map-name (default cluster-autoscaler-status) unless
	// --write-status-configmap=false.
	var flags []string
	for _, rel := range r.releases {
		for _, o := range rel.Output.Objects {
			if o.Body["kind"] != "Deployment" {
				continue
			}
			cs, _ := dig(o.Body, "spec", "template", "spec")["containers"].([]any)
			for _, c := range cs {
				cmd := strs(c.(map[string]any)["command"])
				if len(cmd) > 0 && strings.HasSuffix(cmd[0], "cluster-autoscaler") {
					flags = append(cmd[1:], strs(c.(map[string]any)["args"])...)
				}
			}
		}
	}
	require.NotEmpty(t, flags, "%s: the check reads the status ConfigMap %s/%s, and no chart renders a cluster-autoscaler", r.name, ns, name)
	assert.Contains(t, flags, "--namespace="+ns, "%s: the autoscaler writes its status in its --namespace", r.name)
	for _, f := range flags {
		if v, ok := strings.CutPrefix(f, "--status-config-map-name="); ok {
			assert.Equal(t, name, v, "%s: the autoscaler's status ConfigMap", r.name)
		}
		assert.NotEqual(t, "--write-status-configmap=false", f)
	}
	r.caConfigMap = map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"namespace": ns, "name": name, "resourceVersion": "184467", "annotations": map[string]any{}},
		"data":     map[string]any{}}
	r.setCAStatus(time.Now().Add(-4 * time.Second))
	r.api.Objects("configmaps/v1", r.caConfigMap)
}

// setCAStatus writes the status as written at when.
func (r *e2eRegion) setCAStatus(when time.Time) {
	stamp := when.UTC().Format("2006-01-02 15:04:05.999999999 -0700 MST")
	probe := when.UTC().Format(time.RFC3339Nano)
	health := func(ready, lo, hi int) string {
		s := fmt.Sprintf(`    status: Healthy
    nodeCounts:
      registered:
        total: %d
        ready: %d
        notStarted: 0
      longUnregistered: 0
      unregistered: 0
`, ready, ready)
		if hi > 0 {
			s += fmt.Sprintf("    cloudProviderTarget: %d\n    minSize: %d\n    maxSize: %d\n", ready, lo, hi)
		}
		return s + "    lastProbeTime: \"" + probe + "\"\n    lastTransitionTime: \"2026-11-30T09:14:40.551220119Z\"\n"
	}
	var groups strings.Builder
	total := 0
	for _, ng := range r.graph.ByType("aws:eks/nodeGroup:NodeGroup") {
		minSize, _ := ng.Input("scalingConfig.minSize").(float64)
		maxSize, _ := ng.Input("scalingConfig.maxSize").(float64)
		desired, _ := ng.Input("scalingConfig.desiredSize").(float64)
		n := max(int(desired), int(minSize))
		total += n
		fmt.Fprintf(&groups, "- name: eks-%s-%s\n  health:\n%s  scaleUp:\n    status: NoActivity\n    lastProbeTime: %q\n  scaleDown:\n    status: NoCandidates\n    lastProbeTime: %q\n",
			ng.Input("nodeGroupName"), e2eUID("NodeGroup", r.name, ng.Name), health(n, int(minSize), int(maxSize)), probe, probe)
	}
	status := "time: " + stamp + "\nautoscalerStatus: Running\nclusterWide:\n  health:\n" + health(total, 0, 0) +
		"  scaleUp:\n    status: NoActivity\n    lastProbeTime: \"" + probe + "\"\n  scaleDown:\n    status: NoCandidates\n    lastProbeTime: \"" + probe + "\"\n"
	if groups.Len() > 0 {
		status += "nodeGroups:\n" + groups.String()
	}
	r.caConfigMap["metadata"].(map[string]any)["annotations"].(map[string]any)[e2eCALastUpdated] = stamp
	r.caConfigMap["data"].(map[string]any)["status"] = status
}

// servePostgres serves the region's CloudNativePG Cluster with the status
// CloudNativePG writes, and maps its instance pods to the tier: us-east
// (the Postgres primary region) runs the tier's primary as -1 and the two
// standbys as -2 and -3; us-west, a replica cluster, has standby A (a hot
// standby streaming from the primary) as its designated primary -1.
func (r *e2eRegion) servePostgres(t *testing.T, tier *pgTier) {
	t.Helper()
	name := r.outputs.PostgresCluster
	status := map[string]any{"currentPrimary": name + "-1", "targetPrimary": name + "-1", "phase": "Cluster in healthy state"}
	pods := map[string]*pgserver.Server{name + "-1": tier.primary, name + "-2": tier.standbyA, name + "-3": tier.standbyB}
	obj, o := cnpgClusterObject(t, r.inv, map[string]any{})
	view, err := dr.ParseCluster(obj)
	require.NoError(t, err)
	if !view.Primary {
		pods = map[string]*pgserver.Server{name + "-1": tier.standbyA}
	}
	var names []any
	for p := range pods {
		names = append(names, p)
	}
	slices.SortFunc(names, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
	status["instanceNames"], status["instances"], status["readyInstances"] = names, len(names), len(names)
	obj["status"] = status
	meta, _ := obj["metadata"].(map[string]any)
	meta["uid"] = e2eUID("Cluster", o.Namespace, o.Name)
	r.api.Objects("clusters.postgresql.cnpg.io/v1", obj)
	r.pgExec = pgTierExec(tier, o.Namespace, pods)
}

// e2eRoute53 is Route 53 as dr.Live reads it.
type e2eRoute53 struct {
	mu  sync.Mutex
	dns map[string]dr.DNS
}

func (f *e2eRoute53) DNS(_ context.Context, region string) (dr.DNS, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.dns[region]
	if !ok {
		return dr.DNS{Weight: -1}, nil
	}
	return d, nil
}

func (f *e2eRoute53) set(region string, d dr.DNS) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dns[region] = d
}

func (f *e2eRoute53) get(region string) dr.DNS {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dns[region]
}
