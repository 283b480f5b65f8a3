package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/redis"
	"github.com/tars-platform/infra/tests/kubeapi"
)

// redisSkipEnv, set to 1, skips the tests that run real redis-server processes.
const redisSkipEnv = "TARS_SKIP_REDIS"

type member struct {
	addr string // 127.0.0.1:port
	bus  int    // cluster bus port
	dir  string
	cmd  *exec.Cmd
}

// node is the member as REDIS_NODES names it.
func (m member) node() string { return fmt.Sprintf("%s@%d", m.addr, m.bus) }

const testPassword = "loopback-test-password"

func rcli(t *testing.T, addr string, args ...string) string {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command("redis-cli", append([]string{"-h", host, "-p", port}, args...)...)
	cmd.Env = append(os.Environ(), "REDISCLI_AUTH="+testPassword)
	out, _ := cmd.CombinedOutput() // a dead member answers with an error text; callers check content
	return strings.ReplaceAll(string(out), "\r", "")
}

func infoField(t *testing.T, addr, field string) string {
	for _, line := range strings.Split(rcli(t, addr, "cluster", "info"), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// startMembers runs the component's rendered redis.conf on loopback: only
// the ports, the directories, the bind and announce addresses change.
func startMembers(t *testing.T, n int) []member {
	t.Helper()
	if os.Getenv(redisSkipEnv) == "1" {
		t.Skipf("%s=1", redisSkipEnv)
	}
	_, err := exec.LookPath("redis-server")
	require.NoError(t, err, "redis-server is not installed (.ci/run installs Debian's redis-server; set %s=1 to skip)", redisSkipEnv)
	ports, err := kubeapi.FreePorts(2 * n)
	require.NoError(t, err)
	var members []member
	for i := range n {
		members = append(members, launch(t, t.TempDir(), ports[2*i], ports[2*i+1]))
	}
	return members
}

// launch starts one member in dir with the component's rendered redis.conf.
func launch(t *testing.T, dir string, port, bus int) member {
	t.Helper()
	args := redis.Args{StorageClass: "unused"}.WithDefaults()
	conf := args.RedisConfig().
		Set("port", strconv.Itoa(port)).
		Set("cluster-port", strconv.Itoa(bus)).
		Set("bind", "127.0.0.1").
		Set("dir", dir).
		Set("cluster-config-file", filepath.Join(dir, "nodes.conf"))
	path := filepath.Join(dir, "redis.conf")
	require.NoError(t, os.WriteFile(path, []byte(conf.Render()), 0o600))
	cmd := exec.Command("redis-server", path, "--requirepass", testPassword, "--masterauth", testPassword,
		"--cluster-announce-hostname", "127.0.0.1", "--daemonize", "no")
	logf, err := os.OpenFile(filepath.Join(dir, "redis.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start())
	m := member{addr: fmt.Sprintf("127.0.0.1:%d", port), bus: bus, dir: dir, cmd: cmd}
	t.Cleanup(func() {
		_ = m.cmd.Process.Kill() // may already be stopped by the test
		_ = m.cmd.Wait()
		_ = logf.Close()
	})
	return m
}

// runScript runs the component's embedded cluster-create script.
func runScript(t *testing.T, members []member) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cluster-create.sh")
	require.NoError(t, os.WriteFile(path, []byte(redis.ClusterCreateScript), 0o700))
	var addrs []string
	for _, m := range members {
		addrs = append(addrs, m.node())
	}
	cmd := exec.Command("sh", path)
	cmd.Env = append(os.Environ(), "REDIS_NODES="+strings.Join(addrs, " "), "REDIS_PASSWORD="+testPassword,
		"REDIS_MASTERS=3", "REDIS_REPLICAS=1", "REDIS_WAIT_SECONDS=60")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "cluster-create.sh failed:\n%s", out)
	return string(out)
}

// TestRedisClusterSurvivesFullRestart stops every member and starts them
// again on new ports (as pods come back with new IPs) on their own data and
// nodes.conf: the script re-introduces them and the same cluster, same node
// IDs and same data, is ok again.
func TestRedisClusterSurvivesFullRestart(t *testing.T) {
	t.Parallel() // slow and independent: runs beside the other slow tiers
	members := startMembers(t, 6)
	runScript(t, members)
	before := topology(t, members[0].addr)
	require.Contains(t, rcli(t, members[0].addr, "-c", "set", "survivor", "yes"), "OK")
	for _, m := range members {
		_ = rcli(t, m.addr, "cluster", "saveconfig")
		require.NoError(t, m.cmd.Process.Signal(os.Interrupt))
		_ = m.cmd.Wait() // exits non-zero on SIGINT; only its stopping matters
	}
	ports, err := kubeapi.FreePorts(2 * len(members))
	require.NoError(t, err)
	restarted := make([]member, len(members))
	for i, m := range members {
		restarted[i] = launch(t, m.dir, ports[2*i], ports[2*i+1])
	}
	out := runScript(t, restarted)
	assert.Contains(t, out, "re-introducing members at their current addresses")
	assert.Contains(t, out, "cluster ok: 3 masters, 3 replicas, 16384 slots")
	after := topology(t, restarted[0].addr)
	assert.ElementsMatch(t, keys(before), keys(after), "the same node identities came back")
	assert.Contains(t, rcli(t, restarted[0].addr, "-c", "get", "survivor"), "yes", "data survived (AOF/RDB)")
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// topology is node id → "role master-id slots", without volatile fields.
func topology(t *testing.T, addr string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(rcli(t, addr, "cluster", "nodes")), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		role := strings.ReplaceAll(f[2], "myself,", "")
		out[f[0]] = strings.Join(append([]string{role, f[3]}, f[8:]...), " ")
	}
	return out
}

func roles(topo map[string]string) (masters, replicas int) {
	for _, v := range topo {
		switch {
		case strings.HasPrefix(v, "master") && !strings.Contains(v, "fail"):
			masters++
		case strings.HasPrefix(v, "slave") && !strings.Contains(v, "fail"):
			replicas++
		}
	}
	return
}

// TestRedisClusterFormsIdempotentlyAndFailsOver runs the Job's own script
// against six redis-server processes with the rendered config: the cluster
// forms with 3 masters, 3 replicas and every slot; a second run changes
// nothing; a killed master is replaced by its replica within the budget.
func TestRedisClusterFormsIdempotentlyAndFailsOver(t *testing.T) {
	t.Parallel() // slow and independent: runs beside the other slow tiers
	members := startMembers(t, 6)
	out := runScript(t, members)
	assert.Contains(t, out, "creating the cluster")
	assert.Contains(t, out, "cluster ok: 3 masters, 3 replicas, 16384 slots")
	for _, m := range members {
		assert.Equal(t, "ok", infoField(t, m.addr, "cluster_state"), m.addr)
		assert.Equal(t, "16384", infoField(t, m.addr, "cluster_slots_ok"), m.addr)
	}
	before := topology(t, members[0].addr)
	ma, re := roles(before)
	require.Equal(t, 3, ma)
	require.Equal(t, 3, re)

	out = runScript(t, members)
	assert.Contains(t, out, "cluster already formed and ok: nothing to do")
	assert.Equal(t, before, topology(t, members[0].addr), "a second run changed the cluster")

	// Stop one master that is not members[0] and time its replica's promotion.
	ids := map[string]member{}
	for _, m := range members {
		for _, line := range strings.Split(rcli(t, m.addr, "cluster", "nodes"), "\n") {
			if f := strings.Fields(line); len(f) > 2 && strings.Contains(f[2], "myself") {
				ids[f[0]] = m
			}
		}
	}
	var victim, replica string
	for id, v := range before {
		if strings.HasPrefix(v, "master") && ids[id].addr != members[0].addr {
			victim = id
			break
		}
	}
	for id, v := range before {
		if strings.HasPrefix(v, "slave "+victim) {
			replica = id
		}
	}
	require.NotEmpty(t, victim)
	require.NotEmpty(t, replica)
	args := redis.Args{}.WithDefaults()
	budget := 2 * time.Duration(args.NodeTimeoutMs) * time.Millisecond
	start := time.Now()
	require.NoError(t, ids[victim].cmd.Process.Kill())
	var took time.Duration
	for {
		promoted := strings.HasPrefix(rcli(t, ids[replica].addr, "role"), "master")
		if promoted && infoField(t, members[0].addr, "cluster_state") == "ok" && infoField(t, ids[replica].addr, "cluster_state") == "ok" {
			took = time.Since(start)
			break
		}
		if time.Since(start) > 3*budget {
			t.Fatalf("replica %s not promoted within %s:\nrole: %s\nnodes seen by %s:\n%s\ninfo:\n%s", ids[replica].addr, 3*budget,
				rcli(t, ids[replica].addr, "role"), members[0].addr, rcli(t, members[0].addr, "cluster", "nodes"), rcli(t, ids[replica].addr, "cluster", "info"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("failover: replica promoted and cluster_state:ok %s after the master was killed (cluster-node-timeout %dms, budget %s)",
		took.Round(10*time.Millisecond), args.NodeTimeoutMs, budget)
	assert.LessOrEqual(t, took, budget)
	after := topology(t, members[0].addr)
	var up []string
	for id, v := range after {
		if strings.HasPrefix(v, "master") && !strings.Contains(v, "fail") {
			up = append(up, id)
		}
	}
	sort.Strings(up)
	assert.Contains(t, up, replica)
	assert.Len(t, up, 3, "three serving masters after the failover")
}
