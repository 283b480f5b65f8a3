package tests

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/postgres"
	"github.com/tars-platform/infra/components/postgres/pgconf"
	"github.com/tars-platform/infra/dr"
	"github.com/tars-platform/infra/tests/pgserver"
	"github.com/tars-platform/infra/verify"
)

// pgTier is the Postgres tier's servers for the verify checks: Debian's
// PostgreSQL with the Cluster's parameters (pgconf, as tests/pgserver
// runs them), a primary and two streaming standbys of it cloned with
// pg_basebackup -R -X stream, on 127.0.0.1 and their unix sockets, with
// the application database the markers go in (dr.PostgresDatabase).
type pgTier struct {
	env                 *pgserver.Env
	primary, standbyA   *pgserver.Server
	standbyB            *pgserver.Server
	pdb, adb, bdb       *sql.DB
	startup, basebackup time.Duration
}

func startPGTier(t *testing.T) *pgTier {
	t.Helper()
	env, err := pgserver.NewEnv()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	params := pgconf.Parameters(pgconf.Sizing{MemoryMB: postgres.DefaultMemoryMB, MaxConnections: postgres.DefaultMaxConnections})
	for _, name := range pgconf.CNPGManaged {
		delete(params, name)
	}
	dir := func(name string) string {
		d, err := env.MkdirTemp("tars-verify-pg-" + name + "-")
		require.NoError(t, err)
		t.Cleanup(func() { os.RemoveAll(d) })
		return d
	}
	tier := &pgTier{env: env}
	start := time.Now()
	tier.primary, err = env.InitDB(ctx, dir("primary"))
	require.NoError(t, err)
	t.Cleanup(tier.primary.Stop)
	require.NoError(t, tier.primary.Configure(pgconf.Conf(params), pgconf.PreloadLibraries(params)))
	require.NoError(t, tier.primary.WriteHBA(
		"# Test only: trust on loopback and the socket (the Cluster authenticates with CloudNativePG's certificates and peer).",
		"local all postgres trust",
		"host all postgres 127.0.0.1/32 trust",
		"host replication postgres 127.0.0.1/32 trust",
	))
	require.NoError(t, tier.primary.Start(time.Minute))
	tier.pdb = pgOpen(t, tier.primary)
	_, err = tier.pdb.ExecContext(ctx, "CREATE DATABASE "+dr.PostgresDatabase)
	require.NoError(t, err)
	tier.startup = time.Since(start)
	start = time.Now()
	for _, s := range []struct {
		srv **pgserver.Server
		db  **sql.DB
		dir string
	}{{&tier.standbyA, &tier.adb, "standby-a"}, {&tier.standbyB, &tier.bdb, "standby-b"}} {
		*s.srv, err = tier.primary.BaseBackup(ctx, dir(s.dir))
		require.NoError(t, err)
		t.Cleanup((*s.srv).Stop)
		require.NoError(t, (*s.srv).Start(time.Minute))
		*s.db = pgOpen(t, *s.srv)
	}
	waitFor(t, 30*time.Second, "both standbys stream", func() bool {
		var n int
		return tier.pdb.QueryRow(`SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'`).Scan(&n) == nil && n == 2
	})
	tier.basebackup = time.Since(start)
	t.Logf("pg tier: primary initdb + start %s, two standbys basebackup + start + streaming %s (PostgreSQL %s)",
		tier.startup.Round(time.Millisecond), tier.basebackup.Round(time.Millisecond), pgMajor(env.Bin))
	return tier
}

func pgMajor(bin string) string {
	m := regexp.MustCompile(`/postgresql/(\d+)/`).FindStringSubmatch(bin)
	if m == nil {
		return "?"
	}
	return m[1]
}

func pgOpen(t *testing.T, s *pgserver.Server) *sql.DB {
	t.Helper()
	db, err := s.DB()
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// pgCaughtUp waits until the standby has replayed all the primary wrote.
func pgCaughtUp(t *testing.T, primary, standby *sql.DB) {
	t.Helper()
	var lsn string
	require.NoError(t, primary.QueryRow(`SELECT pg_current_wal_lsn()::text`).Scan(&lsn))
	waitFor(t, 30*time.Second, "the standby replays "+lsn, func() bool {
		var done bool
		return standby.QueryRow(`SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn`, lsn).Scan(&done) == nil && done
	})
}

// pgMarkerCount counts the markers (all ids) in the tars database of s.
func pgMarkerCount(t *testing.T, s *pgserver.Server) int {
	t.Helper()
	db, err := sql.Open("postgres", strings.Replace(s.DSN(), "dbname=postgres", "dbname="+dr.PostgresDatabase, 1))
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM tars_dr.markers`).Scan(&n))
	return n
}

// pgTierExec runs a Postgres check's exec against the tier: the pod
// names map to the servers standing for them. The command must be
// dr.PsqlCommand's (psql -U postgres -v ON_ERROR_STOP=1 -d tars -Atc SQL);
// it runs here as it is, as the postgres user, with only where the pod's
// psql finds its server substituted: PGHOST (the server's socket
// directory, where the pod has its own) and PGPORT.
func pgTierExec(tier *pgTier, namespace string, pods map[string]*pgserver.Server) func(context.Context, string, string, string, []string) (string, string, error) {
	return func(ctx context.Context, ns, pod, container string, cmd []string) (string, string, error) {
		srv, ok := pods[pod]
		if ns != namespace || !ok || container != dr.PostgresContainer {
			return "", "", fmt.Errorf("pods %q not found in namespace %s (container %s)", pod, ns, container)
		}
		if len(cmd) == 0 || !slices.Equal(cmd, dr.PsqlCommand(cmd[len(cmd)-1])) {
			return "", "", fmt.Errorf("pgTierExec: unexpected command %q", cmd)
		}
		c := tier.env.Command(ctx, "psql", cmd[1:]...)
		if c.Env == nil {
			c.Env = os.Environ()
		}
		c.Env = append(c.Env, "PGHOST="+srv.Dir, "PGPORT="+strconv.Itoa(srv.Port), "PGCONNECT_TIMEOUT=5")
		return runLocal(c)
	}
}

// cnpgClusterObject is the Cluster as the API server would serve it: the
// program's object from the region's inventory (its metadata and spec)
// with the status CloudNativePG 1.30 writes (currentPrimary, instanceNames).
func cnpgClusterObject(t *testing.T, inv verify.Inventory, status map[string]any) (map[string]any, verify.Object) {
	t.Helper()
	var found []verify.Object
	for _, o := range inv.Kind("Cluster") {
		if o.APIVersion == "postgresql.cnpg.io/v1" {
			found = append(found, o)
		}
	}
	require.Len(t, found, 1, "%s: the program's CloudNativePG Cluster", inv.Region)
	raw, err := json.Marshal(found[0].Body)
	require.NoError(t, err)
	var obj map[string]any
	require.NoError(t, json.Unmarshal(raw, &obj))
	obj["status"] = status
	return obj, found[0]
}

// pgVerifyEnv is a run over both regions against the tier: us-east's
// Cluster is the program's (three instances: -1 the primary, -2 and -3
// its standbys, i.e. the tier's primary and standbys A and B); us-west's
// is the program's replica cluster whose designated primary -1 is
// standby A (a hot standby streaming from the primary, as the designated
// primary streams from us-east).
func pgVerifyEnv(t *testing.T, tier *pgTier) (*verify.Env, *tierCluster, *tierCluster) {
	t.Helper()
	env := &verify.Env{
		RunID:           fmt.Sprintf("verify-test-%d", time.Now().UnixNano()%1_000_000),
		Regions:         map[string]*verify.Region{},
		PostgresPrimary: "us-east",
		Poll:            100 * time.Millisecond,
	}
	clusters := map[string]*tierCluster{}
	for _, region := range []string{"us-east", "us-west"} {
		inv, err := mustRun(t, region).Inventory(region)
		require.NoError(t, err)
		name := postgres.ClusterName(region)
		status := map[string]any{"phase": "Cluster in healthy state", "currentPrimary": name + "-1", "targetPrimary": name + "-1"}
		pods := map[string]*pgserver.Server{name + "-1": tier.primary, name + "-2": tier.standbyA, name + "-3": tier.standbyB}
		if region == "us-west" {
			pods = map[string]*pgserver.Server{name + "-1": tier.standbyA}
		}
		var names []any
		for p := range pods {
			names = append(names, p)
		}
		slices.SortFunc(names, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
		status["instanceNames"], status["instances"], status["readyInstances"] = names, len(names), len(names)
		obj, o := cnpgClusterObject(t, inv, status)
		require.Equal(t, name, o.Name)
		if region == "us-west" {
			// The program's us-west Cluster has three instances too; the
			// replication check reads only its designated primary.
			view, err := dr.ParseCluster(obj)
			require.NoError(t, err)
			require.False(t, view.Primary, "us-west runs a replica cluster")
			require.Equal(t, postgres.ClusterName("us-east"), view.Following)
		}
		cl := newTierCluster()
		cl.Put(verify.CNPGClusterGVR, obj)
		cl.exec = pgTierExec(tier, o.Namespace, pods)
		clusters[region] = cl
		env.Regions[region] = &verify.Region{Name: region, Cluster: cl, Inventory: inv, Outputs: dr.Outputs{Region: region, PostgresCluster: name}}
	}
	return env, clusters["us-east"], clusters["us-west"]
}

// runRows runs one check through verify.Run: a row per region, or one
// for a cross-region check.
func runRows(t *testing.T, env *verify.Env, c verify.Check) []verify.Result {
	t.Helper()
	start := time.Now()
	rep := verify.Run(context.Background(), env, []verify.Check{c}, nil)
	t.Logf("%s: %s", c.ID, time.Since(start).Round(time.Millisecond))
	for _, res := range rep.Results {
		t.Logf("  %s %s %.2fs: %s", res.Region, res.Status, res.Seconds, res.Observed)
		for _, p := range res.Problems {
			t.Logf("    ✗ %s", p)
		}
	}
	return rep.Results
}

var measured = regexp.MustCompile(`after (\d+\.\d+) s`)

// assertMeasuredUnder: every time the observation reports is below d.
func assertMeasuredUnder(t *testing.T, observed string, want int, d time.Duration) {
	t.Helper()
	ms := measured.FindAllStringSubmatch(observed, -1)
	assert.Len(t, ms, want, "measured times in %q", observed)
	for _, m := range ms {
		s, err := strconv.ParseFloat(m[1], 64)
		require.NoError(t, err)
		assert.Less(t, s, d.Seconds(), observed)
	}
}

// assertMarkersGone: no marker on the primary, nor (once they caught up)
// on the standbys.
func assertMarkersGone(t *testing.T, tier *pgTier) {
	t.Helper()
	assert.Equal(t, 0, pgMarkerCount(t, tier.primary), "markers left on the primary")
	for name, s := range map[string]struct {
		srv *pgserver.Server
		db  *sql.DB
	}{"standby A": {tier.standbyA, tier.adb}, "standby B": {tier.standbyB, tier.bdb}} {
		pgCaughtUp(t, tier.pdb, s.db)
		assert.Equal(t, 0, pgMarkerCount(t, s.srv), "markers left on %s", name)
	}
}

// TestVerifyPostgres runs postgres-standbys and postgres-replication
// against a real primary and two streaming standbys: both pass with the
// marker visible well within the lag target and leave no marker; with
// replay paused on a standby (pg_wal_replay_pause) the row does not
// arrive there and each check fails after the 5 s target naming where;
// the marker is deleted all the same.
func TestVerifyPostgres(t *testing.T) {
	t.Parallel()
	tier := startPGTier(t)
	env, east, west := pgVerifyEnv(t, tier)
	id := func(suffix string) string { return env.RunID + suffix }

	// postgres-standbys: us-east writes and reads its standbys; us-west,
	// a replica cluster, skips.
	rows := runRows(t, env, verify.PostgresStandbys())
	require.Len(t, rows, 2)
	assert.Equal(t, verify.Pass, rows[0].Status, rows[0].Problems)
	assert.Equal(t, "us-east", rows[0].Region)
	assert.Regexp(t, `^marker written on tars-pg-us-east-1 visible on tars-pg-us-east-2 after \d+\.\d\d s, tars-pg-us-east-3 after \d+\.\d\d s \(target 5s\)$`, rows[0].Observed)
	assertMeasuredUnder(t, rows[0].Observed, 2, verify.PostgresLagTarget)
	assert.Equal(t, "a marker row written on the primary is visible on the 2 standbys of tars-postgres/tars-pg-us-east within 5s", rows[0].Expected)
	assert.Equal(t, verify.Skip, rows[1].Status)
	assert.Equal(t, "us-west is a replica cluster: its writes come from us-east; see postgres-replication", rows[1].Observed)
	ran := east.execs()
	assert.Empty(t, west.execs(), "the replica region is not touched")
	write, _ := dr.WriteMarkerSQL(id(verify.StandbysMarkerSuffix))
	read, _ := dr.ReadMarkerSQL(id(verify.StandbysMarkerSuffix))
	del, _ := dr.DeleteMarkerSQL(id(verify.StandbysMarkerSuffix))
	require.NotEmpty(t, ran)
	assert.Equal(t, fmt.Sprintf("tars-postgres/tars-pg-us-east-1[postgres]: %q", dr.PsqlCommand(write)), ran[0])
	assert.Contains(t, ran, fmt.Sprintf("tars-postgres/tars-pg-us-east-2[postgres]: %q", dr.PsqlCommand(read)))
	assert.Contains(t, ran, fmt.Sprintf("tars-postgres/tars-pg-us-east-3[postgres]: %q", dr.PsqlCommand(read)))
	assert.Equal(t, fmt.Sprintf("tars-postgres/tars-pg-us-east-1[postgres]: %q", dr.PsqlCommand(del)), ran[len(ran)-1])
	assertMarkersGone(t, tier)

	// postgres-replication: written on us-east's primary, read on
	// us-west's designated primary.
	rows = runRows(t, env, verify.PostgresReplication())
	require.Len(t, rows, 1)
	assert.Equal(t, verify.Pass, rows[0].Status, rows[0].Problems)
	assert.Equal(t, "us-east+us-west", rows[0].Region)
	assert.Regexp(t, `^marker written on us-east tars-pg-us-east-1 visible on us-west tars-pg-us-west-1 \(designated primary\) after \d+\.\d\d s \(target 5s\)$`, rows[0].Observed)
	assertMeasuredUnder(t, rows[0].Observed, 1, verify.PostgresLagTarget)
	write, _ = dr.WriteMarkerSQL(id(verify.ReplicationMarkerSuffix))
	read, _ = dr.ReadMarkerSQL(id(verify.ReplicationMarkerSuffix))
	ran, wran := east.execs(), west.execs()
	require.NotEmpty(t, ran)
	assert.Equal(t, fmt.Sprintf("tars-postgres/tars-pg-us-east-1[postgres]: %q", dr.PsqlCommand(write)), ran[0])
	require.NotEmpty(t, wran)
	for _, e := range wran {
		assert.Equal(t, fmt.Sprintf("tars-postgres/tars-pg-us-west-1[postgres]: %q", dr.PsqlCommand(read)), e, "only reads in the replica region")
	}
	assertMarkersGone(t, tier)

	// Replay paused on standby B (tars-pg-us-east-3): its row never comes.
	_, err := tier.bdb.Exec(`SELECT pg_wal_replay_pause()`)
	require.NoError(t, err)
	rows = runRows(t, env, verify.PostgresStandbys())
	assert.Equal(t, verify.Fail, rows[0].Status)
	assert.Equal(t, []string{"tars-pg-us-east-3: the marker is not visible within 5s (the last read found no row)"}, rows[0].Problems)
	assert.Regexp(t, `^marker written on tars-pg-us-east-1 visible on tars-pg-us-east-2 after \d+\.\d\d s \(target 5s\)$`, rows[0].Observed)
	assert.GreaterOrEqual(t, rows[0].Seconds, 5.0, "it waited the whole target")
	assert.Equal(t, 0, pgMarkerCount(t, tier.primary), "deleted on the primary all the same")
	_, err = tier.bdb.Exec(`SELECT pg_wal_replay_resume()`)
	require.NoError(t, err)
	assertMarkersGone(t, tier)

	// Replay paused on standby A, us-west's designated primary.
	_, err = tier.adb.Exec(`SELECT pg_wal_replay_pause()`)
	require.NoError(t, err)
	rows = runRows(t, env, verify.PostgresReplication())
	assert.Equal(t, verify.Fail, rows[0].Status)
	assert.Equal(t, []string{"us-west designated primary tars-pg-us-west-1: the marker is not visible within 5s (the last read found no row)"}, rows[0].Problems)
	assert.Equal(t, "marker written on us-east tars-pg-us-east-1 not visible on us-west tars-pg-us-west-1 within 5s", rows[0].Observed)
	assert.GreaterOrEqual(t, rows[0].Seconds, 5.0)
	assert.Equal(t, 0, pgMarkerCount(t, tier.primary))
	_, err = tier.adb.Exec(`SELECT pg_wal_replay_resume()`)
	require.NoError(t, err)
	assertMarkersGone(t, tier)

	// A standby that is down (its postmaster stopped): the reads fail,
	// and the check says so after the target.
	tier.standbyB.Stop()
	rows = runRows(t, env, verify.PostgresStandbys())
	assert.Equal(t, verify.Fail, rows[0].Status)
	require.Len(t, rows[0].Problems, 1)
	assert.Contains(t, rows[0].Problems[0], "tars-pg-us-east-3: the marker is not visible within 5s (last read failed: psql in tars-pg-us-east-3: command terminated with exit code 2")
	assert.Equal(t, 0, pgMarkerCount(t, tier.primary))
}
