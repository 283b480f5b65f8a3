package tests

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/verify"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// rpCluster is a verify.Cluster for the Redis and Postgres checks' pure
// cases: objects in memory, and Exec answered by a function of the pod
// and command (the real servers answer in tests/verify_*_test.go).
type rpCluster struct {
	mu      sync.Mutex
	objects map[string]map[string]any // resource/namespace/name
	exec    func(pod string, cmd []string) (string, string, error)
	execs   []string
}

func (c *rpCluster) ServiceGet(context.Context, verify.Service, string, url.Values) ([]byte, error) {
	return nil, errors.New("rpCluster: no services")
}

func (c *rpCluster) List(context.Context, schema.GroupVersionResource, string) ([]map[string]any, error) {
	return nil, errors.New("rpCluster: no lists")
}

func (c *rpCluster) Get(_ context.Context, gvr schema.GroupVersionResource, ns, name string) (map[string]any, error) {
	if o, ok := c.objects[gvr.Resource+"/"+ns+"/"+name]; ok {
		return o, nil
	}
	return nil, fmt.Errorf("%s %s/%s: %w", gvr.Resource, ns, name, verify.ErrNotFound)
}

func (c *rpCluster) Exec(_ context.Context, ns, pod, container string, cmd []string) (string, string, error) {
	c.mu.Lock()
	c.execs = append(c.execs, pod+": "+cmd[len(cmd)-1])
	c.mu.Unlock()
	return c.exec(pod, cmd)
}

// rdsInventory is an inventory with the program's Redis StatefulSet shape.
func rdsInventory(t *testing.T, replicas any) verify.Inventory {
	t.Helper()
	spec := map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{
		map[string]any{"name": "redis", "ports": []any{map[string]any{"name": "redis", "containerPort": float64(6379)}, map[string]any{"name": "bus", "containerPort": float64(16379)}}},
		map[string]any{"name": "exporter"},
	}}}}
	if replicas != nil {
		spec["replicas"] = replicas
	}
	inv, err := verify.NewInventory("us-east", []verify.Resource{{Type: "kubernetes:apps/v1:StatefulSet", Name: "redis",
		Inputs: map[string]any{"metadata": map[string]any{"name": "cache", "namespace": "kv"}, "spec": spec}}})
	require.NoError(t, err)
	return inv
}

const rdsHealthyInfo = "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\ncluster_slots_pfail:0\r\n" +
	"cluster_slots_fail:0\r\ncluster_known_nodes:6\r\ncluster_size:3\r\ncluster_current_epoch:6\r\n"

// rdsMembers answers like six healthy members holding one key space;
// override changes what a pod answers to a command (by its last word
// after redis-cli's flags).
func rdsMembers(override func(pod, command string) (string, error, bool)) func(string, []string) (string, string, error) {
	var mu sync.Mutex
	keys := map[string]string{}
	return func(pod string, cmd []string) (string, string, error) {
		command := strings.TrimPrefix(cmd[2], `REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --tls --cacert /tls/ca.crt -p 6379 `)
		if override != nil {
			if out, err, ok := override(pod, command); ok {
				return out, "", err
			}
		}
		f := strings.Fields(command)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case command == "CLUSTER INFO":
			return rdsHealthyInfo, "", nil
		case f[0] == "-c" && f[1] == "SET":
			keys[f[2]] = f[3]
			return "OK\n", "", nil
		case f[0] == "-c" && f[1] == "GET":
			return keys[f[2]] + "\n", "", nil
		case f[0] == "-c" && f[1] == "DEL":
			_, had := keys[f[2]]
			delete(keys, f[2])
			if had {
				return "1\n", "", nil
			}
			return "0\n", "", nil
		}
		return "", "", fmt.Errorf("unexpected %q", command)
	}
}

func rdsRun(t *testing.T, inv verify.Inventory, exec func(string, []string) (string, string, error)) (verify.Result, *rpCluster) {
	t.Helper()
	cl := &rpCluster{exec: exec}
	env := &verify.Env{RunID: "verify-20261130-142233-5f3a", Regions: map[string]*verify.Region{"us-east": {Name: "us-east", Cluster: cl, Inventory: inv}}}
	rep := verify.Run(context.Background(), env, []verify.Check{verify.RedisCluster()}, nil)
	require.Len(t, rep.Results, 1)
	return rep.Results[0], cl
}

func TestVerifyRedisCLICommand(t *testing.T) {
	cmd, err := verify.RedisCLICommand(6379, "-c", "SET", "tars:verify:run-1", "run-1", "EX", "120")
	require.NoError(t, err)
	assert.Equal(t, []string{"sh", "-c", `REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --tls --cacert /tls/ca.crt -p 6379 -c SET tars:verify:run-1 run-1 EX 120`}, cmd)
	for _, bad := range []string{"a b", "$(reboot)", "`id`", "x;y", "", "'q'", "a\nb"} {
		_, err := verify.RedisCLICommand(6379, "GET", bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestVerifyParseRedisClusterInfo(t *testing.T) {
	info, err := verify.ParseRedisClusterInfo(rdsHealthyInfo)
	require.NoError(t, err)
	assert.Equal(t, "ok", info.State)
	assert.Equal(t, 16384, info.SlotsAssigned)
	assert.Equal(t, 16384, info.SlotsOK)
	assert.Equal(t, 6, info.KnownNodes)
	assert.Equal(t, 3, info.Size)
	_, err = verify.ParseRedisClusterInfo("NOAUTH Authentication required.")
	assert.EqualError(t, err, `CLUSTER INFO answered "NOAUTH Authentication required."`)
	_, err = verify.ParseRedisClusterInfo("ERR This instance has cluster support disabled")
	assert.ErrorContains(t, err, "cluster support disabled")
	_, err = verify.ParseRedisClusterInfo("cluster_state:ok\ncluster_slots_assigned:many\n")
	assert.ErrorContains(t, err, "want a number")
}

func TestVerifyRedisClusterPassesAndFollowsTheInventory(t *testing.T) {
	res, cl := rdsRun(t, rdsInventory(t, float64(6)), rdsMembers(nil))
	assert.Equal(t, verify.Pass, res.Status, res.Problems)
	assert.Equal(t, "6 members, cluster_state ok, 16384/16384 slots, 3 masters + 3 replicas; key set via cache-0, read via cache-3", res.Observed)
	assert.Contains(t, res.Expected, "6 members of kv/cache")
	require.Len(t, cl.execs, 9)
	assert.ElementsMatch(t, []string{
		"cache-0: " + rdsCLI("CLUSTER INFO"), "cache-1: " + rdsCLI("CLUSTER INFO"), "cache-2: " + rdsCLI("CLUSTER INFO"),
		"cache-3: " + rdsCLI("CLUSTER INFO"), "cache-4: " + rdsCLI("CLUSTER INFO"), "cache-5: " + rdsCLI("CLUSTER INFO"),
	}, cl.execs[:6], "CLUSTER INFO on every member (at once)")
	assert.Equal(t, []string{
		"cache-0: " + rdsCLI("-c SET tars:verify:verify-20261130-142233-5f3a verify-20261130-142233-5f3a EX 120"),
		"cache-3: " + rdsCLI("-c GET tars:verify:verify-20261130-142233-5f3a"),
		"cache-0: " + rdsCLI("-c DEL tars:verify:verify-20261130-142233-5f3a"),
	}, cl.execs[6:], "then the key: set, read through another member, deleted")
}

func rdsCLI(command string) string {
	return `REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --tls --cacert /tls/ca.crt -p 6379 ` + command
}

func TestVerifyRedisClusterFailures(t *testing.T) {
	for name, tc := range map[string]struct {
		override func(pod, command string) (string, error, bool)
		want     []string
	}{
		"a member refuses the password": {func(pod, c string) (string, error, bool) {
			return "NOAUTH Authentication required.", nil, pod == "cache-4" && c == "CLUSTER INFO"
		}, []string{`cache-4: CLUSTER INFO answered "NOAUTH Authentication required."`}},
		"a member's pod is gone": {func(pod, c string) (string, error, bool) {
			return "", errors.New(`exec in pod kv/cache-5 (redis): pods "cache-5" not found`), pod == "cache-5"
		}, []string{`cache-5: CLUSTER INFO: exec in pod kv/cache-5 (redis): pods "cache-5" not found`}},
		"a member sees a failing master": {func(pod, c string) (string, error, bool) {
			return strings.NewReplacer("cluster_state:ok", "cluster_state:fail", "cluster_slots_ok:16384", "cluster_slots_ok:10923",
				"cluster_slots_fail:0", "cluster_slots_fail:5461").Replace(rdsHealthyInfo), nil, pod == "cache-1" && c == "CLUSTER INFO"
		}, []string{"cache-1: cluster_state fail", "cache-1: 16384/16384 slots assigned, 10923 ok (0 pfail, 5461 fail)"}},
		"a member left alone": {func(pod, c string) (string, error, bool) {
			return strings.Replace(rdsHealthyInfo, "cluster_known_nodes:6", "cluster_known_nodes:5", 1), nil, pod == "cache-2" && c == "CLUSTER INFO"
		}, []string{"cache-2: knows 5 nodes, want the 6 members"}},
		"the key is not read back": {func(pod, c string) (string, error, bool) {
			return "\n", nil, strings.HasPrefix(c, "-c GET")
		}, []string{`GET tars:verify:verify-20261130-142233-5f3a through cache-3 answered "", want "verify-20261130-142233-5f3a" (set through cache-0)`}},
		"the key cannot be set": {func(pod, c string) (string, error, bool) {
			return "CLUSTERDOWN The cluster is down", nil, strings.HasPrefix(c, "-c SET")
		}, []string{`SET tars:verify:verify-20261130-142233-5f3a through cache-0 answered "CLUSTERDOWN The cluster is down"`}},
		"the key cannot be deleted": {func(pod, c string) (string, error, bool) {
			return "", errors.New("command terminated with exit code 1: Could not connect to Redis at 127.0.0.1:6379: Connection refused"), strings.HasPrefix(c, "-c DEL")
		}, []string{"key tars:verify:verify-20261130-142233-5f3a not deleted through cache-0 (command terminated with exit code 1: Could not connect to Redis at 127.0.0.1:6379: Connection refused); it expires within 2m0s"}},
	} {
		t.Run(name, func(t *testing.T) {
			res, cl := rdsRun(t, rdsInventory(t, float64(6)), rdsMembers(tc.override))
			assert.Equal(t, verify.Fail, res.Status)
			assert.Equal(t, tc.want, res.Problems)
			assert.Contains(t, cl.execs[len(cl.execs)-1], "-c DEL tars:verify:", "the key is deleted whatever happened")
		})
	}
}

func TestVerifyRedisClusterWithoutItsStatefulSet(t *testing.T) {
	res, _ := rdsRun(t, verify.Inventory{Region: "us-east"}, rdsMembers(nil))
	assert.Equal(t, verify.Fail, res.Status)
	assert.Equal(t, `the program deploys no StatefulSet with a "redis" container in us-east`, res.Observed)
	res, _ = rdsRun(t, rdsInventory(t, nil), rdsMembers(nil))
	assert.Equal(t, verify.Fail, res.Status)
	assert.Equal(t, "StatefulSet kv/cache: spec.replicas is <nil>, want a member count", res.Observed)

	// A run id that is not a plain word never reaches a shell.
	cl := &rpCluster{exec: rdsMembers(nil)}
	env := &verify.Env{RunID: "x; FLUSHALL", Regions: map[string]*verify.Region{"us-east": {Name: "us-east", Cluster: cl, Inventory: rdsInventory(t, float64(6))}}}
	rep := verify.Run(context.Background(), env, []verify.Check{verify.RedisCluster()}, nil)
	assert.Equal(t, verify.Fail, rep.Results[0].Status)
	assert.Contains(t, rep.Results[0].Observed, "run id")
	assert.Empty(t, cl.execs)
}
