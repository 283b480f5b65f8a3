package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/redis"
	"github.com/tars-platform/infra/verify"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// tierCluster is a verify.Cluster for the real-server tiers: Get and List
// answer from objects held in memory (what the API server would serve),
// and Exec hands a pod's command to exec, which runs that very command
// here against the real server standing for the pod. It records every
// exec (pod and argv) so the tests can say what the checks ran.
type tierCluster struct {
	mu      sync.Mutex
	objects map[string]map[string]any // resource/namespace/name
	exec    func(ctx context.Context, namespace, pod, container string, cmd []string) (string, string, error)
	Execs   []string
}

func newTierCluster() *tierCluster {
	return &tierCluster{objects: map[string]map[string]any{}}
}

// Put stores obj (metadata.namespace and metadata.name) as a resource's object.
func (c *tierCluster) Put(gvr schema.GroupVersionResource, obj map[string]any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	meta, _ := obj["metadata"].(map[string]any)
	c.objects[fmt.Sprintf("%s/%v/%v", gvr.String(), meta["namespace"], meta["name"])] = obj
}

func (c *tierCluster) ServiceGet(context.Context, verify.Service, string, url.Values) ([]byte, error) {
	return nil, errors.New("tierCluster: no services")
}

func (c *tierCluster) List(_ context.Context, gvr schema.GroupVersionResource, namespace string) ([]map[string]any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []map[string]any
	for k, o := range c.objects {
		if strings.HasPrefix(k, gvr.String()+"/"+namespace) {
			out = append(out, o)
		}
	}
	return out, nil
}

func (c *tierCluster) Get(_ context.Context, gvr schema.GroupVersionResource, namespace, name string) (map[string]any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.objects[gvr.String()+"/"+namespace+"/"+name]
	if !ok {
		return nil, fmt.Errorf("%s %s/%s: %w", gvr.Resource, namespace, name, verify.ErrNotFound)
	}
	return o, nil
}

func (c *tierCluster) Exec(ctx context.Context, namespace, pod, container string, cmd []string) (string, string, error) {
	c.mu.Lock()
	c.Execs = append(c.Execs, fmt.Sprintf("%s/%s[%s]: %q", namespace, pod, container, cmd))
	c.mu.Unlock()
	return c.exec(ctx, namespace, pod, container, cmd)
}

// execs returns the recorded execs and forgets them.
func (c *tierCluster) execs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.Execs
	c.Execs = nil
	return out
}

// runLocal runs cmd and answers as the API server's exec does: stdout,
// stderr, and on a non-zero exit "command terminated with exit code N"
// with what the command wrote on stderr (internal/kube.Client.Exec).
func runLocal(cmd *exec.Cmd) (string, string, error) {
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		err = fmt.Errorf("command terminated with exit code %d", exit.ExitCode())
		if msg := strings.TrimSpace(e.String()); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
	}
	return o.String(), e.String(), err
}

// redisTierExec runs a redis-cluster check's exec against the tier's
// members: the pod STATEFULSET-i is members[i]. The check's command is
// the members' readiness probe's `sh -c 'REDISCLI_AUTH="$REDIS_PASSWORD"
// redis-cli --tls --cacert /tls/ca.crt -p 6379 …'`; it runs here with
// sh -c as it is, with only what differs between the pod and this
// machine substituted: $REDIS_PASSWORD (the pod's environment from the
// Secret) is the tier's password, the mounted CA file is the tier's CA,
// and the pod's port 6379 is member i's loopback port. A command of
// another shape is refused (the check changed: the substitution must be
// looked at again).
func redisTierExec(t *testing.T, members *[]member, namespace, statefulSet string) func(context.Context, string, string, string, []string) (string, string, error) {
	podRe := regexp.MustCompile("^" + regexp.QuoteMeta(statefulSet) + `-(\d+)$`)
	caFlag := "--cacert " + redis.TLSCAFile
	portFlag := fmt.Sprintf(" -p %d ", redis.Port)
	ca := redisTLS(t).ca
	return func(ctx context.Context, ns, pod, container string, cmd []string) (string, string, error) {
		m := podRe.FindStringSubmatch(pod)
		if ns != namespace || container != "redis" || m == nil {
			return "", "", fmt.Errorf("pods %q not found in namespace %s (container %s)", pod, ns, container)
		}
		i, _ := strconv.Atoi(m[1])
		if i >= len(*members) {
			return "", "", fmt.Errorf("pods %q not found", pod)
		}
		if len(cmd) != 3 || cmd[0] != "sh" || cmd[1] != "-c" || !strings.Contains(cmd[2], caFlag) || !strings.Contains(cmd[2], portFlag) ||
			!strings.HasPrefix(cmd[2], `REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli `) {
			return "", "", fmt.Errorf("redisTierExec: unexpected command %q", cmd)
		}
		script := strings.Replace(cmd[2], caFlag, "--cacert "+ca, 1)
		script = strings.Replace(script, portFlag, fmt.Sprintf(" -p %d ", (*members)[i].port()), 1)
		c := exec.CommandContext(ctx, "sh", "-c", script)
		c.Env = append(os.Environ(), "REDIS_PASSWORD="+testPassword)
		return runLocal(c)
	}
}

// redisVerifyEnv is a one-region run against the tier: the region's
// inventory is the program's own for us-east (its Redis StatefulSet:
// name, namespace, replicas, port), the cluster the tier.
func redisVerifyEnv(t *testing.T, members *[]member) (*verify.Env, *tierCluster) {
	t.Helper()
	inv, err := mustRun(t, "us-east").Inventory("us-east")
	require.NoError(t, err)
	var sts verify.Object
	for _, o := range inv.Kind("StatefulSet") {
		if o.Name == redis.StatefulSetName {
			sts = o
		}
	}
	require.NotEmpty(t, sts.Name, "the program deploys the Redis StatefulSet")
	require.EqualValues(t, len(*members), verify.Path(sts.Body, "spec.replicas"), "the tier runs as many members as the program")
	cl := newTierCluster()
	cl.exec = redisTierExec(t, members, sts.Namespace, sts.Name)
	env := &verify.Env{
		RunID:   fmt.Sprintf("verify-test-%d", time.Now().UnixNano()%1_000_000),
		Regions: map[string]*verify.Region{"us-east": {Name: "us-east", Cluster: cl, Inventory: inv}},
	}
	return env, cl
}

// runCheck runs one check through verify.Run (its timeout, its row).
func runCheck(t *testing.T, env *verify.Env, c verify.Check) verify.Result {
	t.Helper()
	start := time.Now()
	rep := verify.Run(context.Background(), env, []verify.Check{c}, nil)
	require.Len(t, rep.Results, 1)
	res := rep.Results[0]
	t.Logf("%s %s in %s: %s", res.Check, res.Status, time.Since(start).Round(time.Millisecond), res.Observed)
	for _, p := range res.Problems {
		t.Logf("  ✗ %s", p)
	}
	return res
}

// assertRedisKeyGone: no member (but those in skip, which are down)
// holds a key: DBSIZE answers whatever the cluster's state, and the
// cluster held nothing before the check ran.
func assertRedisKeyGone(t *testing.T, members []member, skip ...int) {
	t.Helper()
	for i, m := range members {
		if !slices.Contains(skip, i) {
			assert.Equal(t, "0", strings.TrimSpace(rcli(t, m.addr, "dbsize")), "redis-%d holds a key", i)
		}
	}
}

// TestVerifyRedisCluster runs the redis-cluster check against six real
// redis-server members speaking TLS with a password, formed by the
// component's own script: it passes on the healthy cluster (the key set
// through redis-0, read through redis-3, and gone afterwards); it fails
// naming the member when a slot is unassigned there, and when a member is
// down.
func TestVerifyRedisCluster(t *testing.T) {
	t.Parallel()
	members := startMembers(t, 6)
	runScript(t, members)
	env, cl := redisVerifyEnv(t, &members)

	// Healthy.
	res := runCheck(t, env, verify.RedisCluster())
	assert.Equal(t, verify.Pass, res.Status, res.Problems)
	assert.Equal(t, "6 members, cluster_state ok, 16384/16384 slots, 3 masters + 3 replicas; key set via redis-0, read via redis-3", res.Observed)
	assert.Contains(t, res.Expected, "6 members of tars-data/redis")
	ran := strings.Join(cl.execs(), "\n")
	for _, want := range []string{
		`tars-data/redis-0[redis]: ["sh" "-c" "REDISCLI_AUTH=\"$REDIS_PASSWORD\" redis-cli --tls --cacert /tls/ca.crt -p 6379 CLUSTER INFO"]`,
		`tars-data/redis-5[redis]: ["sh" "-c" "REDISCLI_AUTH=\"$REDIS_PASSWORD\" redis-cli --tls --cacert /tls/ca.crt -p 6379 CLUSTER INFO"]`,
		`tars-data/redis-0[redis]: ["sh" "-c" "REDISCLI_AUTH=\"$REDIS_PASSWORD\" redis-cli --tls --cacert /tls/ca.crt -p 6379 -c SET tars:verify:` + env.RunID + ` ` + env.RunID + ` EX 120"]`,
		`tars-data/redis-3[redis]: ["sh" "-c" "REDISCLI_AUTH=\"$REDIS_PASSWORD\" redis-cli --tls --cacert /tls/ca.crt -p 6379 -c GET tars:verify:` + env.RunID + `"]`,
		`tars-data/redis-0[redis]: ["sh" "-c" "REDISCLI_AUTH=\"$REDIS_PASSWORD\" redis-cli --tls --cacert /tls/ca.crt -p 6379 -c DEL tars:verify:` + env.RunID + `"]`,
	} {
		assert.Contains(t, ran, want)
	}
	t.Logf("execs:\n%s", ran)
	assertRedisKeyGone(t, members)

	// A slot unassigned on its master (neither the writer nor the
	// reader): that member's cluster is down.
	nodes := clusterNodes(t, members[0].addr)
	owner, slot := -1, ""
	for id, slots := range slotOwners(t, members[0].addr) {
		if i := indexOf(members, nodes[id].addr); i != 0 && i != 3 && slots != "" {
			slot, _, _ = strings.Cut(strings.Fields(slots)[0], "-")
			owner = i
			break
		}
	}
	require.NotEqual(t, -1, owner, "a master other than redis-0 and redis-3")
	require.Equal(t, "OK", strings.TrimSpace(rcli(t, members[owner].addr, "cluster", "delslots", slot)))
	res = runCheck(t, env, verify.RedisCluster())
	assert.Equal(t, verify.Fail, res.Status)
	assert.Contains(t, res.Problems, fmt.Sprintf("redis-%d: cluster_state fail", owner))
	assert.Contains(t, res.Problems, fmt.Sprintf("redis-%d: 16383/16384 slots assigned, 16383 ok (0 pfail, 0 fail)", owner))
	assertRedisKeyGone(t, members)
	require.Equal(t, "OK", strings.TrimSpace(rcli(t, members[owner].addr, "cluster", "addslots", slot)))
	waitFor(t, 30*time.Second, "every member ok again", func() bool {
		for _, m := range members {
			if infoField(t, m.addr, "cluster_state") != "ok" || infoField(t, m.addr, "cluster_slots_ok") != "16384" {
				return false
			}
		}
		return true
	})

	// A member down (a replica that is neither the writer nor the reader).
	down := -1
	for _, n := range clusterNodes(t, members[0].addr) {
		if i := indexOf(members, n.addr); strings.HasPrefix(n.flags, "slave") && i != 0 && i != 3 {
			down = i
			break
		}
	}
	require.NotEqual(t, -1, down)
	members[down].stop(os.Kill)
	res = runCheck(t, env, verify.RedisCluster())
	assert.Equal(t, verify.Fail, res.Status)
	require.Len(t, res.Problems, 1, "only the member that is down")
	assert.Contains(t, res.Problems[0], fmt.Sprintf("redis-%d: CLUSTER INFO: command terminated with exit code 1", down))
	assert.Contains(t, res.Problems[0], "Could not connect to Redis")
	assert.Contains(t, res.Observed, "5 of 6 members healthy")
	assertRedisKeyGone(t, members, down)
}

// TestVerifyRedisClusterUnformed: six fresh members the formation Job
// never joined: each is a cluster of one with no slot, and the key cannot
// be written.
func TestVerifyRedisClusterUnformed(t *testing.T) {
	t.Parallel()
	members := startMembers(t, 6)
	env, _ := redisVerifyEnv(t, &members)
	res := runCheck(t, env, verify.RedisCluster())
	assert.Equal(t, verify.Fail, res.Status)
	for i := range members {
		assert.Contains(t, res.Problems, fmt.Sprintf("redis-%d: cluster_state fail", i))
		assert.Contains(t, res.Problems, fmt.Sprintf("redis-%d: 0/16384 slots assigned, 0 ok (0 pfail, 0 fail)", i))
		assert.Contains(t, res.Problems, fmt.Sprintf("redis-%d: knows 1 nodes, want the 6 members", i))
	}
	var set string
	for _, p := range res.Problems {
		if strings.HasPrefix(p, "SET ") {
			set = p
		}
	}
	assert.Contains(t, set, "SET tars:verify:"+env.RunID+" through redis-0")
	assert.Contains(t, set, "CLUSTERDOWN")
	assert.Equal(t, "0 of 6 members healthy (cluster_state ok, 16384 slots, 6 known)", res.Observed)
	assertRedisKeyGone(t, members)
}
