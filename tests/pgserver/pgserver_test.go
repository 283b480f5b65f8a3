package pgserver

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/postgres/pgconf"
)

// startTimeout bounds initdb, pg_basebackup and a server's startup.
const startTimeout = 60 * time.Second

// sizing is the instance the Cluster runs on: MemoryMB 4096 and
// MaxConnections 200 are the components/postgres defaults
// (DefaultMemoryMB, DefaultMaxConnections; literals here, the test links no
// Pulumi).
func sizing(remoteApply bool) pgconf.Sizing {
	return pgconf.Sizing{MemoryMB: 4096, MaxConnections: 200, RemoteApply: remoteApply}
}

// tarsParameters are pgconf.Parameters without the parameters CloudNativePG
// fixes or blocks (its webhook would reject a Cluster setting them, so
// Parameters must set none).
func tarsParameters(t *testing.T, remoteApply bool) map[string]string {
	t.Helper()
	params := pgconf.Parameters(sizing(remoteApply))
	require.NotEmpty(t, params)
	for _, name := range pgconf.CNPGManaged {
		assert.NotContains(t, params, name, "CloudNativePG's webhook rejects a Cluster setting %s", name)
		delete(params, name)
	}
	return params
}

func newEnv(t *testing.T) *Env {
	t.Helper()
	env, err := NewEnv()
	if err != nil {
		t.Fatalf("%v", err)
	}
	return env
}

// tempDir is a directory the postgres user owns, removed (after the
// server in it stopped) when the test ends.
func tempDir(t *testing.T, env *Env, name string) string {
	t.Helper()
	dir, err := env.MkdirTemp("tars-pgserver-" + name + "-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// initServer initdbs a cluster configured with params and PreloadLibraries;
// it is stopped when the test ends.
func initServer(t *testing.T, env *Env, name string, params map[string]string) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := env.InitDB(ctx, tempDir(t, env, name))
	require.NoError(t, err)
	t.Cleanup(s.Stop)
	require.NoError(t, s.Configure(pgconf.Conf(params), pgconf.PreloadLibraries(params)))
	return s
}

func open(t *testing.T, s *Server) *sql.DB {
	t.Helper()
	db, err := s.DB()
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

var (
	numberUnit = regexp.MustCompile(`^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$`)
	unitScale  = regexp.MustCompile(`^([0-9]+)(.*)$`)
)

// unitFactor is what one unit is in bytes or microseconds, and which of
// the two (PostgreSQL's memory and time units; pg_settings units look like
// "8kB", "MB", "ms").
func unitFactor(unit string) (float64, string, bool) {
	n := 1.0
	if m := unitScale.FindStringSubmatch(unit); m != nil {
		n, _ = strconv.ParseFloat(m[1], 64)
		unit = m[2]
	}
	if f, ok := map[string]float64{"B": 1, "kB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}[unit]; ok {
		return n * f, "B", true
	}
	if f, ok := map[string]float64{"us": 1, "ms": 1e3, "s": 1e6, "min": 60e6, "h": 3600e6, "d": 86400e6}[unit]; ok {
		return n * f, "us", true
	}
	return 0, "", false
}

// normalise turns a parameter value into a comparable form given the
// parameter's pg_settings vartype and unit: numbers with a unit in bytes or
// microseconds ("1024MB" and pg_settings' 131072 × "8kB" are both
// 1073741824B), booleans on/off, enums lower case.
func normalise(value, vartype, unit string) (string, error) {
	switch vartype {
	case "bool":
		switch strings.ToLower(value) {
		case "on", "true", "yes", "1":
			return "on", nil
		case "off", "false", "no", "0":
			return "off", nil
		}
		return "", fmt.Errorf("not a boolean: %q", value)
	case "enum":
		return strings.ToLower(value), nil
	case "integer", "real":
		m := numberUnit.FindStringSubmatch(value)
		if m == nil {
			return "", fmt.Errorf("not a number: %q", value)
		}
		n, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			return "", err
		}
		if unit == "" || n == -1 {
			if m[2] != "" {
				return "", fmt.Errorf("%q has a unit, the parameter none", value)
			}
			return strconv.FormatFloat(n, 'g', -1, 64), nil
		}
		if m[2] == "" { // a bare number is in the parameter's unit
			m[2] = unit
		}
		f, kind, ok := unitFactor(m[2])
		_, paramKind, ok2 := unitFactor(unit)
		if !ok || !ok2 || kind != paramKind {
			return "", fmt.Errorf("unit of %q does not fit the parameter's unit %q", value, unit)
		}
		return strconv.FormatFloat(n*f, 'f', 0, 64) + kind, nil
	}
	return value, nil
}

// assertApplied checks PostgreSQL runs every parameter with the value of
// the T.A.R.S. file: pg_settings has it (so a library's parameter is not a
// mere placeholder), from tars.conf, with the same value after
// normalisation.
func assertApplied(t *testing.T, db *sql.DB, params map[string]string) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(params)) {
		want := params[name]
		var setting, unit, vartype, source, sourcefile, shown string
		err := db.QueryRowContext(ctxT(t, 10*time.Second), `SELECT setting, COALESCE(unit, ''), vartype, source,
			COALESCE(sourcefile, ''), current_setting(name) FROM pg_settings WHERE name = $1`, name).
			Scan(&setting, &unit, &vartype, &source, &sourcefile, &shown)
		if !assert.NoError(t, err, "%s is not in pg_settings (only a placeholder?)", name) {
			continue
		}
		assert.Equal(t, "configuration file", source, "%s: source", name)
		assert.Equal(t, "tars.conf", filepath.Base(sourcefile), "%s comes from another file", name)
		got, err1 := normalise(setting, vartype, unit)
		exp, err2 := normalise(want, vartype, unit)
		if assert.NoError(t, err1, name) && assert.NoError(t, err2, name) {
			assert.Equal(t, exp, got, "%s = '%s' but PostgreSQL runs %s (setting %s, unit %q)", name, want, shown, setting, unit)
		}
	}
}

func TestPostgresAcceptsEveryParameter(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for _, remoteApply := range []bool{false, true} {
		t.Run(fmt.Sprintf("RemoteApply=%v", remoteApply), func(t *testing.T) {
			t.Parallel()
			params := tarsParameters(t, remoteApply)
			start := time.Now()
			s := initServer(t, env, "accepts", params)
			require.NoError(t, s.Start(startTimeout), "PostgreSQL refuses the Cluster's parameters")
			t.Logf("initdb + start %s (%d parameters, PostgreSQL %s)", time.Since(start).Round(time.Millisecond), len(params), filepath.Base(filepath.Dir(env.Bin)))
			db := open(t, s)
			assertApplied(t, db, params)

			// pg_stat_statements.* are only placeholders unless the library
			// is loaded: it is, and its view works.
			var preload string
			require.NoError(t, db.QueryRowContext(ctxT(t, 10*time.Second), `SHOW shared_preload_libraries`).Scan(&preload))
			assert.Contains(t, strings.Split(preload, ","), "pg_stat_statements")
			_, err := db.ExecContext(ctxT(t, 10*time.Second), `CREATE EXTENSION pg_stat_statements`)
			require.NoError(t, err)
			var n int
			assert.NoError(t, db.QueryRowContext(ctxT(t, 10*time.Second), `SELECT count(*) FROM pg_stat_statements`).Scan(&n))
			assert.NoError(t, s.Problems(), "server log")
		})
	}

	// The detection works: a bad value or an unknown name makes Start fail
	// naming the parameter.
	t.Run("refusals are detected", func(t *testing.T) {
		t.Parallel()
		s := initServer(t, env, "refuses", nil)
		for name, bad := range map[string]map[string]string{
			"wal_level":  {"wal_level": "bogus"},
			"wal_levell": {"wal_levell": "replica"},
		} {
			params := tarsParameters(t, false)
			delete(params, "wal_level")
			for k, v := range bad {
				params[k] = v
			}
			require.NoError(t, s.Configure(pgconf.Conf(params), pgconf.PreloadLibraries(params)))
			err := s.Start(startTimeout)
			require.Error(t, err, "postgres started with %v", bad)
			assert.Contains(t, err.Error(), `"`+name+`"`)
			assert.Contains(t, err.Error(), "refused parameters ["+name+"]")
			t.Logf("%v: %v", bad, err)
		}
	})
}

// The write load on the primary, bounded: 20 batches a second of 100 rows
// with a 1 KiB payload each, for 10 s: at most 2000 rows/s, 2 MiB/s of row
// payload (2.2 MiB/s of WAL measured), 20000 rows in all.
const (
	loadDuration  = 10 * time.Second
	batchesPerSec = 20
	rowsPerBatch  = 100
	payloadBytes  = 1024 // repeat(md5(...), 32)
)

// seed 003: replication lag target < 5 s
const lagTarget = 5 * time.Second

func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, i)]
}

// sec is seconds as a duration, to 10 µs (the lags are microseconds).
func sec(x float64) time.Duration {
	return time.Duration(x * float64(time.Second)).Round(10 * time.Microsecond)
}

func summary(xs []float64) string {
	return fmt.Sprintf("p50 %s p95 %s max %s (%d samples)", sec(percentile(xs, .5)), sec(percentile(xs, .95)), sec(percentile(xs, 1)), len(xs))
}

// waitReplayed waits until the standby has replayed everything the primary
// has written so far.
func waitReplayed(t *testing.T, primary, standby *sql.DB) {
	t.Helper()
	ctx := ctxT(t, 30*time.Second)
	var lsn string
	require.NoError(t, primary.QueryRowContext(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&lsn))
	for {
		var done bool
		require.NoError(t, standby.QueryRowContext(ctx, `SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn`, lsn).Scan(&done))
		if done {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the standby has not replayed %s within 30 s", lsn)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestPostgresStreamingStandbyLag(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	params := tarsParameters(t, false)

	start := time.Now()
	primary := initServer(t, env, "primary", params)
	require.NoError(t, primary.WriteHBA(
		"# Test only: trust on loopback (the Cluster authenticates with CloudNativePG's certificates).",
		"local all postgres trust",
		"host all postgres 127.0.0.1/32 trust",
		"host replication postgres 127.0.0.1/32 trust",
	))
	require.NoError(t, primary.Start(startTimeout))
	t.Logf("primary: initdb + start %s", time.Since(start).Round(time.Millisecond))

	start = time.Now()
	standby, err := primary.BaseBackup(ctxT(t, startTimeout), tempDir(t, env, "standby"))
	require.NoError(t, err)
	t.Cleanup(standby.Stop)
	t.Logf("standby: pg_basebackup -R -X stream %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	require.NoError(t, standby.Start(startTimeout))
	pdb, sdb := open(t, primary), open(t, standby)
	var inRecovery bool
	require.NoError(t, sdb.QueryRowContext(ctxT(t, 10*time.Second), `SELECT pg_is_in_recovery()`).Scan(&inRecovery))
	require.True(t, inRecovery, "the standby is a standby")
	ctx := ctxT(t, 30*time.Second)
	for {
		var n int
		require.NoError(t, pdb.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'`).Scan(&n))
		if n == 1 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the standby is not streaming within 30 s:\n%s", standby.ReadLog())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Logf("standby: start until streaming %s", time.Since(start).Round(time.Millisecond))

	_, err = pdb.ExecContext(ctxT(t, 10*time.Second), `
		CREATE TABLE load (id bigserial PRIMARY KEY, batch int NOT NULL, payload text NOT NULL);
		CREATE TABLE marker (id int PRIMARY KEY, ts timestamptz NOT NULL DEFAULT clock_timestamp())`)
	require.NoError(t, err)
	waitReplayed(t, pdb, sdb)

	var startLSN string
	require.NoError(t, pdb.QueryRowContext(ctxT(t, 10*time.Second), `SELECT pg_current_wal_lsn()::text`).Scan(&startLSN))
	t.Logf("load: %d batches/s × %d rows × %d B payload for %s (bound %d rows/s, %.1f MiB/s of payload)",
		batchesPerSec, rowsPerBatch, payloadBytes, loadDuration, batchesPerSec*rowsPerBatch,
		float64(batchesPerSec*rowsPerBatch*payloadBytes)/(1<<20))

	loadCtx, stopLoad := context.WithTimeout(context.Background(), loadDuration)
	defer stopLoad()
	var (
		wg                            sync.WaitGroup
		mu                            sync.Mutex
		errs                          []error
		writeLag, flushLag, replayLag []float64
		lagBytes                      []float64
		nullLag                       int
		markerDelay                   []float64
		batches                       int
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	loadStart := time.Now()

	// The load: at most batchesPerSec batches a second (the ticker drops
	// ticks when a batch is slow, it never bursts).
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second / batchesPerSec)
		defer tick.Stop()
		for b := 0; ; b++ {
			select {
			case <-loadCtx.Done():
				return
			case <-tick.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := pdb.ExecContext(ctx, `INSERT INTO load (batch, payload)
				SELECT $1, repeat(md5(random()::text || g), 32) FROM generate_series(1, $2) g`, b, rowsPerBatch)
			cancel()
			if err != nil {
				fail(fmt.Errorf("batch %d: %w", b, err))
				return
			}
			batches++
		}
	}()

	// The primary's view, every 200 ms.
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-loadCtx.Done():
				return
			case <-tick.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			var w, f, r sql.NullFloat64
			var b float64
			err := pdb.QueryRowContext(ctx, `SELECT EXTRACT(epoch FROM write_lag), EXTRACT(epoch FROM flush_lag),
				EXTRACT(epoch FROM replay_lag), pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)
				FROM pg_stat_replication WHERE state = 'streaming'`).Scan(&w, &f, &r, &b)
			cancel()
			if err != nil {
				fail(fmt.Errorf("pg_stat_replication: %w", err))
				return
			}
			mu.Lock()
			if !r.Valid { // NULL: the standby had caught up, nothing to time
				nullLag++
			}
			writeLag = append(writeLag, w.Float64)
			flushLag = append(flushLag, f.Float64)
			replayLag = append(replayLag, r.Float64)
			lagBytes = append(lagBytes, b)
			mu.Unlock()
		}
	}()

	// End to end: a marker row stamped with the primary's clock, polled on
	// the standby every 2 ms until visible; the delay is the standby's
	// clock (the same host) at that moment minus the stamp.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for id := 1; loadCtx.Err() == nil; id++ {
			next := time.Now().Add(250 * time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 2*lagTarget)
			_, err := pdb.ExecContext(ctx, `INSERT INTO marker (id) VALUES ($1)`, id)
			for err == nil {
				var d float64
				err = sdb.QueryRowContext(ctx, `SELECT EXTRACT(epoch FROM clock_timestamp() - ts) FROM marker WHERE id = $1`, id).Scan(&d)
				if err == nil {
					mu.Lock()
					markerDelay = append(markerDelay, d)
					mu.Unlock()
					break
				}
				if err == sql.ErrNoRows {
					err = nil
					time.Sleep(2 * time.Millisecond)
				}
			}
			cancel()
			if err != nil {
				fail(fmt.Errorf("marker %d: %w", id, err))
				return
			}
			time.Sleep(time.Until(next))
		}
	}()
	wg.Wait()
	elapsed := time.Since(loadStart)
	require.Empty(t, errs)

	var walBytes float64
	require.NoError(t, pdb.QueryRowContext(ctxT(t, 10*time.Second), `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)`, startLSN).Scan(&walBytes))
	rows := batches * rowsPerBatch
	t.Logf("written: %d rows in %s = %.0f rows/s, %.1f MiB of payload, %.1f MiB of WAL = %.2f MiB/s",
		rows, elapsed.Round(time.Millisecond), float64(rows)/elapsed.Seconds(), float64(rows*payloadBytes)/(1<<20),
		walBytes/(1<<20), walBytes/(1<<20)/elapsed.Seconds())
	t.Logf("write_lag  %s", summary(writeLag))
	t.Logf("flush_lag  %s", summary(flushLag))
	t.Logf("replay_lag %s (%d samples NULL, i.e. caught up, counted as 0)", summary(replayLag), nullLag)
	t.Logf("replay lag bytes p50 %.0f p95 %.0f max %.0f", percentile(lagBytes, .5), percentile(lagBytes, .95), percentile(lagBytes, 1))
	t.Logf("marker visible on the standby after %s", summary(markerDelay))

	assert.GreaterOrEqual(t, len(replayLag), int(loadDuration/(200*time.Millisecond))/2, "pg_stat_replication samples")
	assert.GreaterOrEqual(t, len(markerDelay), int(loadDuration/(250*time.Millisecond))/2, "markers")
	assert.Greater(t, rows, batchesPerSec*rowsPerBatch*int(loadDuration/time.Second)/4, "the load ran at a quarter of its bound at least")
	for what, xs := range map[string][]float64{"write_lag": writeLag, "flush_lag": flushLag, "replay_lag": replayLag, "marker delay": markerDelay} {
		assert.Less(t, sec(percentile(xs, 1)), lagTarget, "max %s", what)
	}

	waitReplayed(t, pdb, sdb)
	for _, table := range []string{"load", "marker"} {
		var p, s int
		require.NoError(t, pdb.QueryRowContext(ctxT(t, 10*time.Second), `SELECT count(*) FROM `+table).Scan(&p))
		require.NoError(t, sdb.QueryRowContext(ctxT(t, 10*time.Second), `SELECT count(*) FROM `+table).Scan(&s))
		assert.Equal(t, p, s, "%s rows: primary %d, standby %d", table, p, s)
		if table == "load" {
			assert.Equal(t, rows, p)
		}
	}
	assert.NoError(t, primary.Problems(), "primary log")
	assert.NoError(t, standby.Problems(), "standby log")
}
