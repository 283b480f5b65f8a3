package tests

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/dr"
	"github.com/tars-platform/infra/verify"
)

const pgtRunID = "verify-20261130-142233-5f3a"

// pgtInventory is a region's inventory with the program's Cluster.
func pgtInventory(t *testing.T, region, name string, instances int) verify.Inventory {
	t.Helper()
	inv, err := verify.NewInventory(region, []verify.Resource{{Type: "kubernetes:postgresql.cnpg.io/v1:Cluster", Name: region + "-postgres-cluster",
		Inputs: map[string]any{"metadata": map[string]any{"name": name, "namespace": "tars-postgres"}, "spec": map[string]any{"instances": float64(instances)}}}})
	require.NoError(t, err)
	return inv
}

// pgtCluster is a live Cluster: following "" is a primary cluster,
// otherwise a replica cluster of following.
func pgtCluster(name, following, currentPrimary string, instances ...string) map[string]any {
	spec := map[string]any{"instances": len(instances)}
	if following != "" {
		spec["replica"] = map[string]any{"self": name, "primary": following, "source": following}
	} else {
		spec["replica"] = map[string]any{"self": name, "primary": name, "source": "tars-pg-us-west"}
	}
	names := []any{}
	for _, i := range instances {
		names = append(names, i)
	}
	return map[string]any{"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
		"metadata": map[string]any{"name": name, "namespace": "tars-postgres"}, "spec": spec,
		"status": map[string]any{"phase": "Cluster in healthy state", "currentPrimary": currentPrimary, "instanceNames": names}}
}

// pgtDB is one database the fake pods share: the markers the primary
// wrote, and which pods see them (replicate decides, per read).
type pgtDB struct {
	mu        sync.Mutex
	primary   string
	markers   map[string]bool
	tableMade bool
	// replicate reports whether a read on pod sees the markers; nil: at once.
	replicate func(pod string) bool
	// fail answers a pod's SQL with an error instead, when it returns one.
	fail func(pod, sql string) error
}

func (d *pgtDB) exec(pod string, cmd []string) (string, string, error) {
	sql := cmd[len(cmd)-1]
	if want := dr.PsqlCommand(sql); strings.Join(want, "\x00") != strings.Join(cmd, "\x00") {
		return "", "", fmt.Errorf("unexpected command %q", cmd)
	}
	if d.fail != nil {
		if err := d.fail(pod, sql); err != nil {
			return "", err.Error(), fmt.Errorf("command terminated with exit code 1: %w", err)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	id := sql[strings.Index(sql, "'")+1 : strings.LastIndex(sql, "'")]
	missing := `ERROR:  relation "tars_dr.markers" does not exist`
	switch {
	case strings.Contains(sql, "INSERT INTO tars_dr.markers"):
		if pod != d.primary {
			return "", "ERROR:  cannot execute CREATE SCHEMA in a read-only transaction", errors.New("command terminated with exit code 1")
		}
		d.tableMade = true
		d.markers[id] = true
		return "INSERT 0 1\n", "", nil
	case strings.HasPrefix(sql, "SELECT count(*)"):
		if !d.tableMade || (pod != d.primary && d.replicate != nil && !d.replicate(pod)) {
			if !d.tableMade {
				return "", missing, errors.New("command terminated with exit code 1: " + missing)
			}
			return "0\n", "", nil
		}
		if d.markers[id] {
			return "1\n", "", nil
		}
		return "0\n", "", nil
	case strings.HasPrefix(sql, "DELETE"):
		if pod != d.primary {
			return "", "ERROR:  cannot execute DELETE in a read-only transaction", errors.New("command terminated with exit code 1")
		}
		delete(d.markers, id)
		return "DELETE 1\n", "", nil
	}
	return "", "", fmt.Errorf("unexpected SQL %q", sql)
}

// pgtEnv: us-east runs a primary Cluster of three (tars-pg-us-east-1
// primary), us-west a replica cluster of it (tars-pg-us-west-1 its
// designated primary); one database answers for all the pods.
func pgtEnv(t *testing.T, db *pgtDB) (*verify.Env, *rpCluster, *rpCluster) {
	t.Helper()
	east := &rpCluster{objects: map[string]map[string]any{
		"clusters/tars-postgres/tars-pg-us-east": pgtCluster("tars-pg-us-east", "", "tars-pg-us-east-1", "tars-pg-us-east-1", "tars-pg-us-east-2", "tars-pg-us-east-3"),
	}, exec: db.exec}
	west := &rpCluster{objects: map[string]map[string]any{
		"clusters/tars-postgres/tars-pg-us-west": pgtCluster("tars-pg-us-west", "tars-pg-us-east", "tars-pg-us-west-1", "tars-pg-us-west-1", "tars-pg-us-west-2", "tars-pg-us-west-3"),
	}, exec: db.exec}
	env := &verify.Env{RunID: pgtRunID, PostgresPrimary: "us-east", Poll: 5 * time.Millisecond, Regions: map[string]*verify.Region{
		"us-east": {Name: "us-east", Cluster: east, Inventory: pgtInventory(t, "us-east", "tars-pg-us-east", 3), Outputs: dr.Outputs{PostgresCluster: "tars-pg-us-east"}},
		"us-west": {Name: "us-west", Cluster: west, Inventory: pgtInventory(t, "us-west", "tars-pg-us-west", 3), Outputs: dr.Outputs{PostgresCluster: "tars-pg-us-west"}},
	}}
	return env, east, west
}

func pgtRun(t *testing.T, env *verify.Env, c verify.Check) []verify.Result {
	t.Helper()
	return verify.Run(context.Background(), env, []verify.Check{c}, nil).Results
}

// pgtClock advances step at every reading.
func pgtClock(step time.Duration) func() time.Time {
	var mu sync.Mutex
	now := time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(step)
		return now
	}
}

func TestVerifyPostgresStandbysPassesAndSkipsTheReplicaRegion(t *testing.T) {
	reads := map[string]int{}
	var mu sync.Mutex
	db := &pgtDB{primary: "tars-pg-us-east-1", markers: map[string]bool{}, replicate: func(pod string) bool {
		mu.Lock()
		defer mu.Unlock()
		reads[pod]++
		return reads[pod] > 2 // the third read sees it
	}}
	env, east, west := pgtEnv(t, db)
	rows := pgtRun(t, env, verify.PostgresStandbys())
	require.Len(t, rows, 2)
	assert.Equal(t, verify.Pass, rows[0].Status, rows[0].Problems)
	assert.Regexp(t, `^marker written on tars-pg-us-east-1 visible on tars-pg-us-east-2 after 0\.\d\d s, tars-pg-us-east-3 after 0\.\d\d s \(target 5s\)$`, rows[0].Observed)
	assert.Equal(t, verify.Skip, rows[1].Status)
	assert.Equal(t, "us-west is a replica cluster: its writes come from us-east; see postgres-replication", rows[1].Observed)
	assert.Empty(t, west.execs)
	id := pgtRunID + verify.StandbysMarkerSuffix
	w, _ := dr.WriteMarkerSQL(id)
	d, _ := dr.DeleteMarkerSQL(id)
	assert.Equal(t, "tars-pg-us-east-1: "+w, east.execs[0])
	assert.Equal(t, "tars-pg-us-east-1: "+d, east.execs[len(east.execs)-1])
	assert.Len(t, east.execs, 2+3+3, "a write, three reads on each standby, a delete")
	assert.Empty(t, db.markers, "the marker is deleted")
}

func TestVerifyPostgresStandbysFailures(t *testing.T) {
	t.Run("a standby never sees the row", func(t *testing.T) {
		db := &pgtDB{primary: "tars-pg-us-east-1", markers: map[string]bool{}, replicate: func(pod string) bool { return pod != "tars-pg-us-east-3" }}
		env, _, _ := pgtEnv(t, db)
		env.Now = pgtClock(time.Second)
		rows := pgtRun(t, env, verify.PostgresStandbys())
		assert.Equal(t, verify.Fail, rows[0].Status)
		assert.Equal(t, []string{"tars-pg-us-east-3: the marker is not visible within 5s (the last read found no row)"}, rows[0].Problems)
		assert.Empty(t, db.markers, "the marker is deleted")
	})
	t.Run("a standby sees the row late", func(t *testing.T) {
		db := &pgtDB{primary: "tars-pg-us-east-1", markers: map[string]bool{}}
		env, east, _ := pgtEnv(t, db)
		east.objects["clusters/tars-postgres/tars-pg-us-east"] = pgtCluster("tars-pg-us-east", "", "tars-pg-us-east-1", "tars-pg-us-east-1", "tars-pg-us-east-2")
		env.Regions["us-east"].Inventory = pgtInventory(t, "us-east", "tars-pg-us-east", 2)
		env.Now = pgtClock(3 * time.Second)
		rows := pgtRun(t, env, verify.PostgresStandbys())
		assert.Equal(t, verify.Fail, rows[0].Status)
		assert.Equal(t, []string{"tars-pg-us-east-2: the marker became visible only after 6.00 s (target 5s)"}, rows[0].Problems)
	})
	t.Run("a standby's pod is gone", func(t *testing.T) {
		db := &pgtDB{primary: "tars-pg-us-east-1", markers: map[string]bool{}, fail: func(pod, _ string) error {
			if pod == "tars-pg-us-east-2" {
				return errors.New(`pods "tars-pg-us-east-2" not found`)
			}
			return nil
		}}
		env, _, _ := pgtEnv(t, db)
		env.Now = pgtClock(time.Second)
		rows := pgtRun(t, env, verify.PostgresStandbys())
		assert.Equal(t, verify.Fail, rows[0].Status)
		assert.Equal(t, []string{`tars-pg-us-east-2: the marker is not visible within 5s (last read failed: psql in tars-pg-us-east-2: command terminated with exit code 1: pods "tars-pg-us-east-2" not found)`}, rows[0].Problems)
	})
	t.Run("the primary refuses the write", func(t *testing.T) {
		db := &pgtDB{primary: "tars-pg-us-east-2", markers: map[string]bool{}} // status.currentPrimary is stale
		env, east, _ := pgtEnv(t, db)
		rows := pgtRun(t, env, verify.PostgresStandbys())
		assert.Equal(t, verify.Fail, rows[0].Status)
		assert.Equal(t, "write marker "+pgtRunID+"-standbys on tars-pg-us-east-1: psql in tars-pg-us-east-1: command terminated with exit code 1: ERROR: cannot execute CREATE SCHEMA in a read-only transaction", rows[0].Observed)
		assert.Len(t, east.execs, 1, "nothing read nor deleted when nothing was written")
	})
	t.Run("an instance is missing", func(t *testing.T) {
		db := &pgtDB{primary: "tars-pg-us-east-1", markers: map[string]bool{}}
		env, east, _ := pgtEnv(t, db)
		east.objects["clusters/tars-postgres/tars-pg-us-east"] = pgtCluster("tars-pg-us-east", "", "tars-pg-us-east-1", "tars-pg-us-east-1", "tars-pg-us-east-2")
		rows := pgtRun(t, env, verify.PostgresStandbys())
		assert.Equal(t, verify.Fail, rows[0].Status)
		assert.Equal(t, []string{"Cluster tars-postgres/tars-pg-us-east has 2 instances (status.instanceNames: tars-pg-us-east-1, tars-pg-us-east-2), the program deploys 3"}, rows[0].Problems)
		assert.Regexp(t, `^marker written on tars-pg-us-east-1 visible on tars-pg-us-east-2 after`, rows[0].Observed, "the standby that is there is measured")
	})
	t.Run("no current primary", func(t *testing.T) {
		db := &pgtDB{primary: "tars-pg-us-east-1", markers: map[string]bool{}}
		env, east, _ := pgtEnv(t, db)
		east.objects["clusters/tars-postgres/tars-pg-us-east"] = pgtCluster("tars-pg-us-east", "", "", "tars-pg-us-east-1")
		rows := pgtRun(t, env, verify.PostgresStandbys())
		assert.Equal(t, verify.Fail, rows[0].Status)
		assert.Equal(t, `the Cluster tars-postgres/tars-pg-us-east has no current primary (status.currentPrimary; phase "Cluster in healthy state")`, rows[0].Observed)
	})
	t.Run("the Cluster does not exist", func(t *testing.T) {
		db := &pgtDB{primary: "tars-pg-us-east-1", markers: map[string]bool{}}
		env, east, _ := pgtEnv(t, db)
		delete(east.objects, "clusters/tars-postgres/tars-pg-us-east")
		rows := pgtRun(t, env, verify.PostgresStandbys())
		assert.Equal(t, verify.Fail, rows[0].Status)
		assert.Equal(t, "region us-east: Cluster tars-postgres/tars-pg-us-east does not exist (the program deploys it)", rows[0].Observed)
	})
	t.Run("a region without a Cluster", func(t *testing.T) {
		db := &pgtDB{primary: "tars-pg-us-east-1", markers: map[string]bool{}}
		env, _, _ := pgtEnv(t, db)
		env.Regions["us-west"].Inventory = verify.Inventory{Region: "us-west"}
		env.Regions["us-west"].Outputs.PostgresCluster = ""
		rows := pgtRun(t, env, verify.PostgresStandbys())
		assert.Equal(t, verify.Skip, rows[1].Status)
		assert.Equal(t, "us-west runs no Postgres Cluster: the program deploys none there (yet)", rows[1].Observed)
	})
}

func TestVerifyPostgresReplicationPasses(t *testing.T) {
	db := &pgtDB{primary: "tars-pg-us-east-1", markers: map[string]bool{}}
	env, east, west := pgtEnv(t, db)
	rows := pgtRun(t, env, verify.PostgresReplication())
	require.Len(t, rows, 1)
	assert.Equal(t, verify.Pass, rows[0].Status, rows[0].Problems)
	assert.Equal(t, "us-east+us-west", rows[0].Region)
	assert.Regexp(t, `^marker written on us-east tars-pg-us-east-1 visible on us-west tars-pg-us-west-1 \(designated primary\) after 0\.\d\d s \(target 5s\)$`, rows[0].Observed)
	id := pgtRunID + verify.ReplicationMarkerSuffix
	w, _ := dr.WriteMarkerSQL(id)
	r, _ := dr.ReadMarkerSQL(id)
	d, _ := dr.DeleteMarkerSQL(id)
	assert.Equal(t, []string{"tars-pg-us-east-1: " + w, "tars-pg-us-east-1: " + d}, east.execs)
	assert.Equal(t, []string{"tars-pg-us-west-1: " + r}, west.execs)
	assert.Empty(t, db.markers)
}

func TestVerifyPostgresReplicationFailures(t *testing.T) {
	t.Run("the row does not arrive", func(t *testing.T) {
		db := &pgtDB{primary: "tars-pg-us-east-1", markers: map[string]bool{}, replicate: func(pod string) bool { return pod != "tars-pg-us-west-1" }}
		env, _, _ := pgtEnv(t, db)
		env.Now = pgtClock(time.Second)
		rows := pgtRun(t, env, verify.PostgresReplication())
		assert.Equal(t, verify.Fail, rows[0].Status)
		assert.Equal(t, []string{"us-west designated primary tars-pg-us-west-1: the marker is not visible within 5s (the last read found no row)"}, rows[0].Problems)
		assert.Equal(t, "marker written on us-east tars-pg-us-east-1 not visible on us-west tars-pg-us-west-1 within 5s", rows[0].Observed)
		assert.Empty(t, db.markers)
	})
	for name, tc := range map[string]struct {
		west  map[string]any
		want  string
		execs bool
	}{
		"the peer is a primary too": {pgtCluster("tars-pg-us-west", "", "tars-pg-us-west-1", "tars-pg-us-west-1"),
			"us-west's Cluster tars-postgres/tars-pg-us-west is a primary, not a replica cluster of us-east's tars-pg-us-east (tarsctl dr status)", false},
		"the peer follows another Cluster": {pgtCluster("tars-pg-us-west", "tars-pg-eu-west", "tars-pg-us-west-1", "tars-pg-us-west-1"),
			`us-west's Cluster tars-postgres/tars-pg-us-west follows "tars-pg-eu-west", not us-east's tars-pg-us-east`, false},
		"the peer has no designated primary": {pgtCluster("tars-pg-us-west", "tars-pg-us-east", "", "tars-pg-us-west-1"),
			`us-west's Cluster tars-postgres/tars-pg-us-west has no designated primary (status.currentPrimary; phase "Cluster in healthy state")`, false},
	} {
		t.Run(name, func(t *testing.T) {
			db := &pgtDB{primary: "tars-pg-us-east-1", markers: map[string]bool{}}
			env, east, west := pgtEnv(t, db)
			west.objects["clusters/tars-postgres/tars-pg-us-west"] = tc.west
			rows := pgtRun(t, env, verify.PostgresReplication())
			assert.Equal(t, verify.Fail, rows[0].Status)
			assert.Equal(t, []string{tc.want}, rows[0].Problems)
			assert.Empty(t, east.execs, "nothing written")
			assert.Empty(t, west.execs)
		})
	}
	t.Run("the topology names no primary", func(t *testing.T) {
		env, _, _ := pgtEnv(t, &pgtDB{markers: map[string]bool{}})
		env.PostgresPrimary = ""
		rows := pgtRun(t, env, verify.PostgresReplication())
		assert.Equal(t, verify.Fail, rows[0].Status)
		assert.Equal(t, "the stacks exported no postgresPrimary (their topology output): which region writes is unknown", rows[0].Observed)
	})
	t.Run("one region: not run", func(t *testing.T) {
		env, east, _ := pgtEnv(t, &pgtDB{markers: map[string]bool{}})
		delete(env.Regions, "us-west")
		rows := pgtRun(t, env, verify.PostgresReplication())
		assert.Equal(t, verify.Skip, rows[0].Status)
		assert.Empty(t, east.execs)
	})
}
