package tests

import (
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/redis"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/tests/kubeapi"
)

// redisSkipEnv, set to 1, skips the tests that run real redis-server processes.
const redisSkipEnv = "TARS_SKIP_REDIS"

type member struct {
	addr string // 127.0.0.1:port
	bus  int    // cluster bus port
	dir  string
	cmd  *exec.Cmd
	// stop signals the server and waits until it has exited (at once if
	// it already has).
	stop func(os.Signal)
}

// node is the member as REDIS_NODES names it.
func (m member) node() string { return fmt.Sprintf("%s@%d", m.addr, m.bus) }

const testPassword = "loopback-test-password"

func rcli(t *testing.T, addr string, args ...string) string {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command("redis-cli", append(append(cliTLSArgs(t), "-h", host, "-p", port), args...)...)
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
// the ports, the directories, the bind and announce addresses and the TLS
// files (the test's CA and certificate, redis_tls_test.go) change.
func startMembers(t *testing.T, n int) []member {
	t.Helper()
	if os.Getenv(redisSkipEnv) == "1" {
		t.Skipf("%s=1", redisSkipEnv)
	}
	requireRedisServer(t)
	ports, err := kubeapi.FreePorts(2 * n)
	require.NoError(t, err)
	var members []member
	for i := range n {
		members = append(members, launch(t, t.TempDir(), ports[2*i], ports[2*i+1]))
	}
	return members
}

// requireRedisServer: the tier runs Debian's redis-server (7.0 on
// bookworm) while production pins the official 7.4 image
// (versions.Redis). The configuration and the cluster protocol are the same
// within a major version; a different major fails here rather than testing
// something production does not run.
func requireRedisServer(t *testing.T) {
	t.Helper()
	_, err := exec.LookPath("redis-server")
	require.NoError(t, err, "redis-server is not installed (.ci/run installs Debian's redis-server; set %s=1 to skip)", redisSkipEnv)
	out, err := exec.Command("redis-server", "--version").Output()
	require.NoError(t, err)
	m := regexp.MustCompile(`v=(\d+)\.(\d+)`).FindStringSubmatch(string(out))
	require.NotNil(t, m, "redis-server --version: %s", out)
	prod := regexp.MustCompile(`^redis:(\d+)\.(\d+)`).FindStringSubmatch(versions.Redis)
	require.NotNil(t, prod, versions.Redis)
	require.Equal(t, prod[1], m[1], "the tier runs redis-server %s.%s, production %s: a different major version", m[1], m[2], versions.Redis)
	if m[2] != prod[2] {
		t.Logf("redis-server %s.%s here, %s in production (same major)", m[1], m[2], versions.Redis)
	}
}

// freePortPair is a client port p whose bus port p+10000 (Redis's
// default offset) is free too.
func freePortPair(t *testing.T) int {
	t.Helper()
	for range 50 {
		ports, err := kubeapi.FreePorts(1)
		require.NoError(t, err)
		p := ports[0]
		if p+10000 > 65535 {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+10000))
		if err != nil {
			continue
		}
		_ = l.Close()
		return p
	}
	t.Fatal("no port p with p+10000 free")
	return 0
}

// launch starts one member in dir with the component's rendered redis.conf:
// TLS only (port 0), the client port on tls-port.
func launch(t *testing.T, dir string, port, bus int) member {
	t.Helper()
	args := redis.Args{StorageClass: "unused"}.WithDefaults()
	files := redisTLS(t)
	conf := args.RedisConfig()
	plain, _ := conf.Get("port")
	require.Equal(t, "0", plain, "no plaintext port")
	conf = conf.
		Set("tls-port", strconv.Itoa(port)).
		Set("tls-cert-file", files.cert).
		Set("tls-key-file", files.key).
		Set("tls-ca-cert-file", files.ca).
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
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	m.stop = func(sig os.Signal) {
		_ = cmd.Process.Signal(sig) // fails only when it has exited already
		err := <-exited
		exited <- err
	}
	t.Cleanup(func() {
		m.stop(os.Kill) // may already be stopped by the test
		_ = logf.Close()
	})
	// It answers as itself before the test goes on: a server that could not
	// bind its port (taken by something outside this process) fails here,
	// not later as a cluster that talks to a stranger.
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			t.Fatalf("redis-server on port %d exited (%v):\n%s", port, err, log)
		default:
		}
		out, err := exec.Command("redis-cli", append(cliTLSArgs(t), "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-a", testPassword, "--no-auth-warning", "config", "get", "dir")...).Output()
		if err == nil && strings.Contains(string(out), dir) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d did not answer as %s within 10s: %s %v", port, dir, out, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// relaunchEmpty stops m, empties its data directory (the pod lost its
// volume) and starts it again on port and bus (its old ones, or new ones
// for a new address).
func relaunchEmpty(t *testing.T, m member, port, bus int) member {
	t.Helper()
	m.stop(os.Kill)
	entries, err := os.ReadDir(m.dir)
	require.NoError(t, err)
	for _, e := range entries {
		require.NoError(t, os.RemoveAll(filepath.Join(m.dir, e.Name())))
	}
	return launch(t, m.dir, port, bus)
}

// port is the member's client port.
func (m member) port() int {
	_, p, _ := strings.Cut(m.addr, ":")
	n, _ := strconv.Atoi(p)
	return n
}

// assertRejoined: the script re-added the member at members[i] as a replica,
// forgot its old identity oldID and left a whole cluster of six.
func assertRejoined(t *testing.T, out string, members []member, i int, oldID string) map[string]clusterNode {
	t.Helper()
	assert.Contains(t, out, "is not in the cluster: adding it as a replica")
	assert.Contains(t, out, "forgetting "+oldID)
	assert.Contains(t, out, "cluster ok: 3 masters, 3 replicas, 16384 slots")
	after := clusterNodes(t, members[0].addr)
	assert.Len(t, after, 6, "the lost identity is forgotten")
	assert.NotContains(t, after, oldID)
	assert.True(t, strings.HasPrefix(after[myID(t, members[i].addr)].flags, "slave"), "the empty member rejoined as a replica")
	return after
}

// runScript runs the component's embedded cluster-create script; it fails
// the test if the script fails.
func runScript(t *testing.T, members []member, env ...string) string {
	t.Helper()
	out, err := script(t, members, env...)
	require.NoError(t, err, "cluster-create.sh failed:\n%s", out)
	return out
}

// script runs the embedded cluster-create script with the members as
// REDIS_NODES, each in its own zone pair (zoneEnv), and env on top.
func script(t *testing.T, members []member, env ...string) (string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cluster-create.sh")
	require.NoError(t, os.WriteFile(path, []byte(redis.ClusterCreateScript), 0o700))
	var addrs []string
	for _, m := range members {
		addrs = append(addrs, m.node())
	}
	cmd := exec.Command("sh", path)
	cmd.Env = append(os.Environ(), "REDIS_NODES="+strings.Join(addrs, " "), "REDIS_PASSWORD="+testPassword,
		"REDIS_MASTERS=3", "REDIS_REPLICAS=1", "REDIS_WAIT_SECONDS=60", zoneEnv(members), "REDIS_TLS_CA="+redisTLS(t).ca)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// scriptWith runs the script with REDIS_NODES exactly as given.
func scriptWith(t *testing.T, nodes []string, members []member, env ...string) (string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cluster-create.sh")
	require.NoError(t, os.WriteFile(path, []byte(redis.ClusterCreateScript), 0o700))
	cmd := exec.Command("sh", path)
	cmd.Env = append(os.Environ(), "REDIS_NODES="+strings.Join(nodes, " "), "REDIS_PASSWORD="+testPassword,
		"REDIS_MASTERS=3", "REDIS_REPLICAS=1", "REDIS_WAIT_SECONDS=60", zoneEnv(members), "REDIS_TLS_CA="+redisTLS(t).ca)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestRedisClusterFormsFromNamesWithDefaultBusPorts: as production passes
// them — host names (the pods' DNS names; here "localhost", which resolves
// to 127.0.0.1) and a client port with no bus port, so the script resolves
// each name and derives the bus port by Redis's default offset (+10000).
func TestRedisClusterFormsFromNamesWithDefaultBusPorts(t *testing.T) {
	t.Parallel()
	if os.Getenv(redisSkipEnv) == "1" {
		t.Skipf("%s=1", redisSkipEnv)
	}
	requireRedisServer(t)
	var members []member
	var nodes []string
	for range 6 {
		p := freePortPair(t)
		members = append(members, launch(t, t.TempDir(), p, p+10000))
		nodes = append(nodes, fmt.Sprintf("localhost:%d", p))
	}
	out, err := scriptWith(t, nodes, members)
	require.NoError(t, err, out)
	assert.Contains(t, out, "cluster ok: 3 masters, 3 replicas, 16384 slots")
	after := clusterNodes(t, members[0].addr)
	require.Len(t, after, 6)
	for _, n := range after {
		assert.True(t, strings.HasPrefix(n.addr, "127.0.0.1:"), "members meet at the resolved address: %s", n.addr)
	}
	// Each member's bus is its port + 10000, as CLUSTER NODES reports it.
	nodesOut := rcli(t, members[0].addr, "cluster", "nodes")
	for _, m := range members {
		assert.Contains(t, nodesOut, fmt.Sprintf("%s@%d", m.addr, m.port()+10000))
	}

	// All six come back on new ports (pods rescheduled): the script must
	// introduce them with CLUSTER MEET, which takes an IP address and a
	// bus port, so it resolves each name and derives each bus port.
	for _, m := range members {
		_ = rcli(t, m.addr, "cluster", "saveconfig")
		m.stop(os.Interrupt)
	}
	restarted := make([]member, len(members))
	nodes = nodes[:0]
	for i, m := range members {
		p := freePortPair(t)
		restarted[i] = launch(t, m.dir, p, p+10000)
		nodes = append(nodes, fmt.Sprintf("localhost:%d", p))
	}
	out, err = scriptWith(t, nodes, restarted)
	require.NoError(t, err, out)
	assert.Contains(t, out, "re-introducing members at their current addresses")
	assert.Contains(t, out, "cluster ok: 3 masters, 3 replicas, 16384 slots")
	assert.ElementsMatch(t, slices.Collect(maps.Keys(after)), slices.Collect(maps.Keys(clusterNodes(t, restarted[0].addr))), "the same identities came back")
}

// zoneEnv puts members two by two into zones a, b and c, as the six pods
// of a region land on its three zones; on loopback every member has the
// same address, so zones are named per member (host:port) rather than by
// subnet (TestRedisZonesFromAddresses covers that form).
func zoneEnv(members []member) string {
	var zones []string
	for i, m := range members {
		zones = append(zones, fmt.Sprintf("%c=%s", 'a'+i/2, m.addr))
	}
	return "REDIS_ZONES=" + strings.Join(zones, " ")
}

// zoneOf is the zone zoneEnv gives the member at addr.
func zoneOf(members []member, addr string) string {
	for i, m := range members {
		if m.addr == addr {
			return string(rune('a' + i/2))
		}
	}
	return "?"
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
		m.stop(os.Interrupt) // exits non-zero on SIGINT; only its stopping matters
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
	assert.Contains(t, out, "cluster formed and ok")
	assert.NotContains(t, out, "adding")
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

// TestRedisZonesFromAddresses: in production the script tells a member's
// zone by its address falling in the zone's private subnet (pods take
// addresses from their node's subnet); a member in no listed subnet is
// in zone "unknown". No member is contacted.
func TestRedisZonesFromAddresses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cluster-create.sh")
	require.NoError(t, os.WriteFile(path, []byte(redis.ClusterCreateScript), 0o700))
	cmd := exec.Command("sh", path, "zones")
	cmd.Env = append(os.Environ(),
		"REDIS_NODES=10.10.40.7:6379 10.10.95.254:6379@16379 10.10.96.1:6379 10.20.0.1:6379",
		"REDIS_ZONES=us-east-1a=10.10.0.0/19 us-east-1b=10.10.32.0/19 us-east-1c=10.10.64.0/19")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, "10.10.40.7:6379 us-east-1b\n10.10.95.254:6379 us-east-1c\n10.10.96.1:6379 unknown\n10.20.0.1:6379 unknown\n", string(out))
}

// clusterNodes is node id → (address, flags, master id) from CLUSTER NODES.
type clusterNode struct{ addr, flags, master string }

func clusterNodes(t *testing.T, addr string) map[string]clusterNode {
	out := map[string]clusterNode{}
	for _, line := range strings.Split(strings.TrimSpace(rcli(t, addr, "cluster", "nodes")), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		a := f[1]
		if i := strings.IndexAny(a, "@,"); i >= 0 {
			a = a[:i]
		}
		out[f[0]] = clusterNode{addr: a, flags: strings.ReplaceAll(f[2], "myself,", ""), master: f[3]}
	}
	return out
}

// assertZonesSpread: the masters are in masterZones zones and no replica
// is in its master's zone.
func assertZonesSpread(t *testing.T, members []member, nodes map[string]clusterNode, wantMasterZones int) {
	t.Helper()
	masterZones := map[string]bool{}
	replicas := 0
	for _, n := range nodes {
		if strings.Contains(n.flags, "fail") {
			continue
		}
		switch {
		case strings.HasPrefix(n.flags, "master"):
			masterZones[zoneOf(members, n.addr)] = true
		case strings.HasPrefix(n.flags, "slave"):
			replicas++
			assert.NotEqual(t, zoneOf(members, nodes[n.master].addr), zoneOf(members, n.addr),
				"replica %s is in the zone of its master %s", n.addr, nodes[n.master].addr)
		}
	}
	assert.Len(t, masterZones, wantMasterZones, "zones with a master")
	assert.Equal(t, 3, replicas)
}

// TestRedisClusterSpreadsZonesAndReAddsAnEmptyMember forms the cluster
// with zones, then loses a master's volume: its replica takes over, the
// member comes back empty on the same address, and the rejoin adds it as a
// replica (in another zone than its new master) and forgets its old
// identity. Then two members of one slot range come back empty: slots are
// uncovered, and the script says so and leaves the slots alone.
func TestRedisClusterSpreadsZonesAndReAddsAnEmptyMember(t *testing.T) {
	t.Parallel() // slow and independent: runs beside the other slow tiers
	members := startMembers(t, 6)
	out := runScript(t, members)
	assert.Contains(t, out, "cluster ok: 3 masters, 3 replicas, 16384 slots")
	assert.NotContains(t, out, "warning: replica")
	before := clusterNodes(t, members[0].addr)
	assertZonesSpread(t, members, before, 3)

	// Lose a master that is not members[0], with its volume.
	var victim int
	var victimID string
	for id, n := range before {
		if strings.HasPrefix(n.flags, "master") && n.addr != members[0].addr {
			victimID = id
			for i, m := range members {
				if m.addr == n.addr {
					victim = i
				}
			}
			break
		}
	}
	require.NotEmpty(t, victimID)
	v := members[victim]
	v.stop(os.Kill)
	waitFor(t, 30*time.Second, "the replica takes over", func() bool {
		nodes := clusterNodes(t, members[0].addr)
		return strings.Contains(nodes[victimID].flags, "fail") && mastersUp(nodes) == 3 &&
			infoField(t, members[0].addr, "cluster_state") == "ok"
	})
	members[victim] = relaunchEmpty(t, v, v.port(), v.bus)

	after := assertRejoined(t, runScript(t, members), members, victim, victimID)
	// The victim's replica (another zone) took over its slots: two zones
	// now hold masters until an operator fails back; the empty member
	// still lands outside its new master's zone.
	assertZonesSpread(t, members, after, 2)

	// Lose a master and its replica (both volumes): their slots are
	// uncovered. The script re-adds both as replicas but moves no slot, and
	// fails, telling the operator how to repair.
	var pair []int
	for id, n := range after {
		if strings.HasPrefix(n.flags, "master") && n.addr != members[0].addr {
			for rid, r := range after {
				if r.master == id && r.addr != members[0].addr {
					pair = []int{indexOf(members, n.addr), indexOf(members, after[rid].addr)}
				}
			}
		}
		if pair != nil {
			break
		}
	}
	require.Len(t, pair, 2)
	for _, i := range pair {
		members[i] = relaunchEmpty(t, members[i], members[i].port(), members[i].bus)
	}
	slotsBefore := slotOwners(t, members[0].addr)
	out, err := script(t, members, "REDIS_WAIT_SECONDS=15")
	require.Error(t, err, "the script must fail when slots are uncovered:\n%s", out)
	assert.Contains(t, out, "slots are uncovered")
	assert.Contains(t, out, "redis-cli --tls --cacert "+redisTLS(t).ca+" --cluster fix")
	assert.Equal(t, slotsBefore, slotOwners(t, members[0].addr), "no slot was reassigned")
}

// slotOwners is node ID → the slot ranges it serves, from CLUSTER NODES.
func slotOwners(t *testing.T, addr string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(rcli(t, addr, "cluster", "nodes")), "\n") {
		if f := strings.Fields(line); len(f) > 8 {
			out[f[0]] = strings.Join(f[8:], " ")
		}
	}
	return out
}

func mastersUp(nodes map[string]clusterNode) int {
	n := 0
	for _, c := range nodes {
		if strings.HasPrefix(c.flags, "master") && !strings.Contains(c.flags, "fail") {
			n++
		}
	}
	return n
}

func indexOf(members []member, addr string) int {
	for i, m := range members {
		if m.addr == addr {
			return i
		}
	}
	return -1
}

func myID(t *testing.T, addr string) string {
	return strings.TrimSpace(rcli(t, addr, "cluster", "myid"))
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestRedisClusterReAddsAMemberBackEmptyAtANewAddress: a replica loses its
// volume and its pod comes back at a new address (new IP): the rejoin adds
// it as a replica and forgets the failed identity it left at the old one,
// as live identities already account for every member.
func TestRedisClusterReAddsAMemberBackEmptyAtANewAddress(t *testing.T) {
	t.Parallel() // slow and independent: runs beside the other slow tiers
	members := startMembers(t, 6)
	runScript(t, members)
	before := clusterNodes(t, members[0].addr)
	victim, victimID := -1, ""
	for id, n := range before {
		if strings.HasPrefix(n.flags, "slave") && n.addr != members[0].addr {
			victim, victimID = indexOf(members, n.addr), id
			break
		}
	}
	require.NotEqual(t, -1, victim)
	ports, err := kubeapi.FreePorts(2)
	require.NoError(t, err)
	members[victim] = relaunchEmpty(t, members[victim], ports[0], ports[1])
	assertRejoined(t, runScript(t, members), members, victim, victimID)
}
