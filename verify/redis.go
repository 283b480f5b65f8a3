package verify

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tars-platform/infra/components/redis"
	"github.com/tars-platform/infra/dr"
)

// The Redis Cluster check reaches the members only through `kubectl
// exec` into their "redis" container, running redis-cli there exactly as
// the members' own readiness probe does (components/redis/workload.go):
//
//	sh -c 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --tls --cacert /tls/ca.crt -p 6379 <command>'
//
// — the password from the container's environment (it never leaves the
// pod), TLS verified against the mounted CA, the member's own client port
// on 127.0.0.1.
const (
	// RedisContainer is the members' container that runs redis-server
	// (and redis-cli).
	RedisContainer = "redis"
	// RedisSlots is every hash slot of a Redis Cluster.
	RedisSlots = 16384
	// RedisKeyPrefix is the key the check writes: RedisKeyPrefix + run id.
	RedisKeyPrefix = "tars:verify:"
	// RedisKeyTTL: the key expires on its own should the deletion fail.
	RedisKeyTTL = 120 * time.Second
)

// redisExecTimeout bounds one redis-cli exec, so that one member that
// hangs is reported as such rather than eating the check's whole time.
const redisExecTimeout = 10 * time.Second

// RedisCluster: every member of the region's Redis Cluster (the program's
// StatefulSet with a "redis" container, followed by its name, namespace
// and replicas) answers CLUSTER INFO with cluster_state ok, all 16384
// slots assigned and ok, and every member known; a key carrying the run
// id set through one member with -c (following MOVED) is read through
// another, then deleted.
func RedisCluster() Check {
	return Check{
		ID:       "redis-cluster",
		Expected: fmt.Sprintf("every member: cluster_state ok, %d/%d slots, all members known; a key set through one member is read through another", RedisSlots, RedisSlots),
		Scope:    PerRegion,
		Timeout:  90 * time.Second,
		Run:      runRedisCluster,
	}
}

// redisTarget is the StatefulSet the program deploys.
type redisTarget struct {
	namespace, name string
	replicas, port  int
}

func (t redisTarget) pod(i int) string { return fmt.Sprintf("%s-%d", t.name, i) }

// redisFind finds the Redis StatefulSet in the inventory: the StatefulSet
// whose pods run a container named RedisContainer (the one named
// redis.StatefulSetName when several do).
func redisFind(inv Inventory) (redisTarget, error) {
	var found []Object
	for _, o := range inv.Kind("StatefulSet") {
		if redisContainerOf(o.Body) != nil {
			found = append(found, o)
		}
	}
	if len(found) > 1 {
		for _, o := range found {
			if o.Name == redis.StatefulSetName {
				found = []Object{o}
				break
			}
		}
	}
	switch len(found) {
	case 0:
		return redisTarget{}, fmt.Errorf("the program deploys no StatefulSet with a %q container in %s", RedisContainer, inv.Region)
	case 1:
	default:
		var names []string
		for _, o := range found {
			names = append(names, o.Namespace+"/"+o.Name)
		}
		return redisTarget{}, fmt.Errorf("several StatefulSets run a %q container: %s", RedisContainer, strings.Join(names, ", "))
	}
	o := found[0]
	t := redisTarget{namespace: o.Namespace, name: o.Name, port: redis.Port}
	replicas, ok := redisInt(Path(o.Body, "spec.replicas"))
	if !ok || replicas < 1 {
		return redisTarget{}, fmt.Errorf("StatefulSet %s/%s: spec.replicas is %v, want a member count", o.Namespace, o.Name, Path(o.Body, "spec.replicas"))
	}
	t.replicas = replicas
	if c := redisContainerOf(o.Body); c != nil {
		ports, _ := c["ports"].([]any)
		for _, p := range ports {
			pm, _ := p.(map[string]any)
			if pm["name"] == "redis" {
				if n, ok := redisInt(pm["containerPort"]); ok && n > 0 {
					t.port = n
				}
			}
		}
	}
	return t, nil
}

// redisContainerOf is the pod template's RedisContainer, or nil.
func redisContainerOf(body map[string]any) map[string]any {
	cs, _ := Path(body, "spec.template.spec.containers").([]any)
	for _, c := range cs {
		if cm, ok := c.(map[string]any); ok && cm["name"] == RedisContainer {
			return cm
		}
	}
	return nil
}

// redisInt reads a JSON number (float64 from the graph, int from a Go
// map); the Postgres checks read spec.instances with it too.
func redisInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		if n == float64(int(n)) {
			return int(n), true
		}
	}
	return 0, false
}

// redisWord is what may follow redis-cli in the sh -c line: the commands
// and the run id's key and value, nothing a shell would interpret.
var redisWord = regexp.MustCompile(`^[A-Za-z0-9:._-]+$`)

// RedisCLICommand is the exec command that runs redis-cli with args in a
// member's redis container: the readiness probe's connection (the
// password from $REDIS_PASSWORD, TLS verified against the mounted CA, the
// member's own port) with args instead of PING. Every arg must be a plain
// word (letters, digits, ":._-").
func RedisCLICommand(port int, args ...string) ([]string, error) {
	for _, a := range args {
		if !redisWord.MatchString(a) {
			return nil, fmt.Errorf("redis-cli argument %q: only [A-Za-z0-9:._-] may be passed through sh -c", a)
		}
	}
	return []string{"sh", "-c", fmt.Sprintf(`REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli %s -p %d %s`,
		redis.CLITLS, port, strings.Join(args, " "))}, nil
}

// redisCLI runs redis-cli in a member and returns its output (\r removed,
// trimmed). An exec failure (the pod is gone, redis-cli exits non-zero:
// no connection, an error reply) is an error carrying what it printed.
func redisCLI(ctx context.Context, cl Cluster, t redisTarget, pod string, args ...string) (string, error) {
	cmd, err := RedisCLICommand(t.port, args...)
	if err != nil {
		return "", err
	}
	ectx, cancel := context.WithTimeout(ctx, redisExecTimeout)
	defer cancel()
	stdout, stderr, err := cl.Exec(ectx, t.namespace, pod, RedisContainer, cmd)
	out := strings.TrimSpace(strings.ReplaceAll(stdout, "\r", ""))
	if err != nil {
		msg := err.Error()
		for _, s := range []string{strings.TrimSpace(stderr), out} {
			if s != "" && !strings.Contains(msg, s) {
				msg += ": " + s
			}
		}
		if ectx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			msg = fmt.Sprintf("no answer within %s (%s)", redisExecTimeout, msg)
		}
		return out, fmt.Errorf("%s", oneLine(msg, 300))
	}
	return out, nil
}

// RedisClusterInfo is what the check reads from CLUSTER INFO.
type RedisClusterInfo struct {
	State                              string
	SlotsAssigned, SlotsOK, SlotsPFail int
	SlotsFail, KnownNodes, Size        int
	fields                             map[string]string
}

// ParseRedisClusterInfo reads CLUSTER INFO's "field:value" lines; an
// answer without cluster_state is an error quoting it.
func ParseRedisClusterInfo(out string) (RedisClusterInfo, error) {
	info := RedisClusterInfo{fields: map[string]string{}}
	for _, line := range strings.Split(strings.ReplaceAll(out, "\r", ""), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok {
			info.fields[k] = v
		}
	}
	state, ok := info.fields["cluster_state"]
	if !ok {
		return RedisClusterInfo{}, fmt.Errorf("CLUSTER INFO answered %q", oneLine(out, 120))
	}
	info.State = state
	for k, p := range map[string]*int{
		"cluster_slots_assigned": &info.SlotsAssigned, "cluster_slots_ok": &info.SlotsOK,
		"cluster_slots_pfail": &info.SlotsPFail, "cluster_slots_fail": &info.SlotsFail,
		"cluster_known_nodes": &info.KnownNodes, "cluster_size": &info.Size,
	} {
		n, err := strconv.Atoi(info.fields[k])
		if err != nil {
			return RedisClusterInfo{}, fmt.Errorf("CLUSTER INFO: %s is %q, want a number", k, info.fields[k])
		}
		*p = n
	}
	return info, nil
}

// redisInfoProblems: what is wrong with a member's CLUSTER INFO in a
// cluster of members members.
func redisInfoProblems(pod string, info RedisClusterInfo, members int) []string {
	var p []string
	if info.State != "ok" {
		p = append(p, fmt.Sprintf("%s: cluster_state %s", pod, info.State))
	}
	if info.SlotsAssigned != RedisSlots || info.SlotsOK != RedisSlots {
		p = append(p, fmt.Sprintf("%s: %d/%d slots assigned, %d ok (%d pfail, %d fail)", pod,
			info.SlotsAssigned, RedisSlots, info.SlotsOK, info.SlotsPFail, info.SlotsFail))
	}
	if info.KnownNodes != members {
		p = append(p, fmt.Sprintf("%s: knows %d nodes, want the %d members", pod, info.KnownNodes, members))
	}
	return p
}

func runRedisCluster(ctx context.Context, env *Env, region string) (Outcome, error) {
	var out Outcome
	reg, ok := env.Regions[region]
	if !ok || reg.Cluster == nil {
		return Outcome{}, fmt.Errorf("region %s is not part of this run", region)
	}
	t, err := redisFind(reg.Inventory)
	if err != nil {
		return Outcome{}, err
	}
	if err := dr.ValidMarkerID(env.RunID); err != nil {
		return Outcome{}, fmt.Errorf("run id: %w", err)
	}
	out.Expected = fmt.Sprintf("%d members of %s/%s: cluster_state ok, %d/%d slots, %d known nodes each; a key set through one member is read through another",
		t.replicas, t.namespace, t.name, RedisSlots, RedisSlots, t.replicas)

	// CLUSTER INFO on every member, all at once (one that hangs costs
	// redisExecTimeout once), reported in member order.
	type answer struct {
		text string
		err  error
	}
	answers := make([]answer, t.replicas)
	var wg sync.WaitGroup
	for i := range t.replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i].text, answers[i].err = redisCLI(ctx, reg.Cluster, t, t.pod(i), "CLUSTER", "INFO")
		}()
	}
	wg.Wait()
	var answered []string // members whose redis-cli answered
	healthy := 0
	var sample RedisClusterInfo
	for i := range t.replicas {
		pod := t.pod(i)
		text, err := answers[i].text, answers[i].err
		if err != nil {
			if ctx.Err() != nil {
				return out, fmt.Errorf("CLUSTER INFO on %s: %w", pod, ctx.Err())
			}
			out = out.Failf("%s: CLUSTER INFO: %v", pod, err)
			continue
		}
		answered = append(answered, pod)
		info, err := ParseRedisClusterInfo(text)
		if err != nil {
			out = out.Failf("%s: %v", pod, err)
			continue
		}
		if p := redisInfoProblems(pod, info, t.replicas); len(p) > 0 {
			out.Problems = append(out.Problems, p...)
			continue
		}
		healthy++
		sample = info
	}

	// A key through one member, read through another.
	keyNote := ""
	if len(answered) < 2 {
		out = out.Failf("the key test needs two members that answer, %d did", len(answered))
	} else {
		var problems []string
		keyNote, problems = redisKeyRoundTrip(ctx, reg.Cluster, t, answered[0], answered[len(answered)/2], env.RunID)
		out.Problems = append(out.Problems, problems...)
	}

	if len(out.Problems) == 0 {
		out.Observed = fmt.Sprintf("%d members, cluster_state ok, %d/%d slots, %d masters + %d replicas; %s",
			t.replicas, sample.SlotsOK, RedisSlots, sample.Size, sample.KnownNodes-sample.Size, keyNote)
	} else {
		out.Observed = fmt.Sprintf("%d of %d members healthy (cluster_state ok, %d slots, %d known)", healthy, t.replicas, RedisSlots, t.replicas)
		if keyNote != "" {
			out.Observed += "; " + keyNote
		}
	}
	return out, nil
}

// redisKeyRoundTrip sets the run's key (with a TTL) through writer with
// -c, reads it through reader with -c, and deletes it through writer
// whatever happened, with a fresh context so that it goes even when the
// check ran out of time. note says what passed.
func redisKeyRoundTrip(ctx context.Context, cl Cluster, t redisTarget, writer, reader, runID string) (note string, problems []string) {
	key, value := RedisKeyPrefix+runID, runID
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), redisExecTimeout)
		defer cancel()
		if _, err := redisCLI(dctx, cl, t, writer, "-c", "DEL", key); err != nil {
			problems = append(problems, fmt.Sprintf("key %s not deleted through %s (%v); it expires within %s", key, writer, err, RedisKeyTTL))
		}
	}()
	set, err := redisCLI(ctx, cl, t, writer, "-c", "SET", key, value, "EX", strconv.Itoa(int(RedisKeyTTL.Seconds())))
	switch {
	case err != nil:
		return "", []string{fmt.Sprintf("SET %s through %s: %v", key, writer, err)}
	case set != "OK":
		return "", []string{fmt.Sprintf("SET %s through %s answered %q", key, writer, oneLine(set, 120))}
	}
	got, err := redisCLI(ctx, cl, t, reader, "-c", "GET", key)
	switch {
	case err != nil:
		return "", []string{fmt.Sprintf("GET %s through %s (set through %s): %v", key, reader, writer, err)}
	case got != value:
		return "", []string{fmt.Sprintf("GET %s through %s answered %q, want %q (set through %s)", key, reader, oneLine(got, 120), value, writer)}
	}
	return fmt.Sprintf("key set via %s, read via %s", writer, reader), nil
}
