package tests

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/chromadb"
)

// standInAWS is the aws CLI as far as the sync scripts use it, on a local
// directory standing for S3 ($S3_ROOT/<bucket>/<key>). Every call is
// logged to $AWS_LOG.
const standInAWS = `#!/bin/sh
set -eu
echo "$*" >> "$AWS_LOG"
[ "$1" = s3 ] || { echo "stand-in aws: only s3" >&2; exit 2; }
shift
local_path() { case "$1" in s3://*) echo "$S3_ROOT/${1#s3://}" ;; *) echo "$1" ;; esac; }
case "$1" in
cp)
  src=$2; dst=$3
  if [ "$dst" = - ]; then p=$(local_path "$src"); [ -f "$p" ] || { echo "fatal error: An error occurred (404)" >&2; exit 1; }; cat "$p"; exit 0; fi
  if [ "$src" = - ]; then p=$(local_path "$dst"); mkdir -p "$(dirname "$p")"; cat > "$p"; exit 0; fi
  echo "stand-in aws: cp needs - on one side" >&2; exit 2 ;;
sync)
  shift; del=""
  while [ "${1#--}" != "$1" ]; do [ "$1" = --delete ] && del=1; shift; done
  src=$(local_path "$1"); dst=$(local_path "$2")
  [ -d "$src" ] || mkdir -p "$src"
  [ -n "$del" ] && rm -rf "$dst"
  mkdir -p "$dst"; cp -a "$src/." "$dst/" ;;
*) echo "stand-in aws: unknown s3 command $1" >&2; exit 2 ;;
esac
`

// syncRig runs the embedded sync scripts against the stand-in S3 and a
// TLS API server on 127.0.0.1 that records pod deletions.
type syncRig struct {
	t                   *testing.T
	bin, s3, log, saDir string
	primary, secondary  string // the two regions' volumes
	api                 *httptest.Server
	mu                  sync.Mutex
	deletes             []string
	scripts             map[string]string
}

func newSyncRig(t *testing.T) *syncRig {
	root := t.TempDir()
	r := &syncRig{t: t, bin: filepath.Join(root, "bin"), s3: filepath.Join(root, "s3"), log: filepath.Join(root, "aws.log"),
		saDir: filepath.Join(root, "sa"), primary: filepath.Join(root, "east"), secondary: filepath.Join(root, "west"), scripts: map[string]string{}}
	for _, d := range []string{r.bin, r.s3, r.saDir, r.primary, r.secondary} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(r.bin, "aws"), []byte(standInAWS), 0o755))
	for name, body := range map[string]string{"snapshot": chromadb.SnapshotScript, "restore": chromadb.RestoreScript, "promote": chromadb.PromoteScript} {
		p := filepath.Join(root, name+".sh")
		require.NoError(t, os.WriteFile(p, []byte(body), 0o755))
		r.scripts[name] = p
	}
	r.api = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Authorization") != "Bearer sync-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		r.mu.Lock()
		r.deletes = append(r.deletes, req.Method+" "+req.URL.Path)
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.api.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.api.Certificate().Raw})
	_, err := x509.ParseCertificate(r.api.Certificate().Raw)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(r.saDir, "ca.crt"), ca, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(r.saDir, "token"), []byte("sync-token"), 0o600))
	return r
}

func (r *syncRig) run(script string, env ...string) (string, error) {
	cmd := exec.Command("sh", r.scripts[script])
	cmd.Env = append([]string{"PATH=" + r.bin + ":" + os.Getenv("PATH"), "S3_ROOT=" + r.s3, "AWS_LOG=" + r.log}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (r *syncRig) snapshot() (string, error) {
	return r.run("snapshot", "BUCKET=tars-chromadb-east", "DATA_DIR="+filepath.Join(r.primary, "chroma"))
}

func (r *syncRig) restore() (string, error) {
	return r.run("restore", "SOURCE_BUCKET=tars-chromadb-east", "VOLUME="+r.secondary, "NAMESPACE=tars", "POD=chromadb-0",
		"KUBE_API="+r.api.URL, "SA_DIR="+r.saDir)
}

func (r *syncRig) promote() (string, error) { return r.run("promote", "VOLUME="+r.secondary) }

func (r *syncRig) restarts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.deletes)
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	for name, body := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
}

func readTree(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(b)
		return err
	}))
	return out
}

// TestChromaDBSyncRoundTrip runs the snapshot, restore and promote scripts
// the CronJobs and the init container run: the primary's data arrives in
// the standby's data directory, slots alternate so the restore never reads
// the slot being written, a second restore of the same snapshot neither
// copies nor restarts, and files deleted on the primary disappear.
func TestChromaDBSyncRoundTrip(t *testing.T) {
	r := newSyncRig(t)

	out, err := r.restore()
	require.Error(t, err, "a restore before any snapshot must fail (the stale alert then fires): %s", out)
	assert.Contains(t, out, "no snapshot")

	first := map[string]string{"chroma.sqlite3": "collections v1", "4f1c/data_level0.bin": "index v1", "4f1c/header.bin": "header"}
	writeFiles(t, filepath.Join(r.primary, "chroma"), first)
	out, err = r.snapshot()
	require.NoError(t, err, out)
	latest, err := os.ReadFile(filepath.Join(r.s3, "tars-chromadb-east/chromadb/latest"))
	require.NoError(t, err)
	assert.Contains(t, string(latest), "slot=a\n")
	assert.Equal(t, first, readTree(t, filepath.Join(r.s3, "tars-chromadb-east/chromadb/slots/a")))

	out, err = r.restore()
	require.NoError(t, err, out)
	assert.Equal(t, 1, r.restarts(), "the restore restarts ChromaDB once")
	assert.Equal(t, []string{"DELETE /api/v1/namespaces/tars/pods/chromadb-0"}, r.deletes)
	assert.NoDirExists(t, filepath.Join(r.secondary, "chroma"), "nothing is swapped under a running ChromaDB")
	out, err = r.promote()
	require.NoError(t, err, out)
	assert.Equal(t, first, readTree(t, filepath.Join(r.secondary, "chroma")))
	assert.NoFileExists(t, filepath.Join(r.secondary, "staging.snapshot-id"))

	out, err = r.restore()
	require.NoError(t, err, out)
	assert.Contains(t, out, "already in place")
	assert.Equal(t, 1, r.restarts(), "the same snapshot again: no restart")

	time.Sleep(1100 * time.Millisecond) // snapshot ids have one-second resolution
	require.NoError(t, os.Remove(filepath.Join(r.primary, "chroma/4f1c/header.bin")))
	second := map[string]string{"chroma.sqlite3": "collections v2", "4f1c/data_level0.bin": "index v2"}
	writeFiles(t, filepath.Join(r.primary, "chroma"), second)
	out, err = r.snapshot()
	require.NoError(t, err, out)
	latest, err = os.ReadFile(filepath.Join(r.s3, "tars-chromadb-east/chromadb/latest"))
	require.NoError(t, err)
	assert.Contains(t, string(latest), "slot=b\n", "the second snapshot goes to the other slot")
	assert.Equal(t, first, readTree(t, filepath.Join(r.s3, "tars-chromadb-east/chromadb/slots/a")), "the slot a restore may be reading is untouched")

	out, err = r.restore()
	require.NoError(t, err, out)
	out, err = r.promote()
	require.NoError(t, err, out)
	assert.Equal(t, second, readTree(t, filepath.Join(r.secondary, "chroma")), "the deleted file is gone from the standby")
	assert.Equal(t, 2, r.restarts())

	log, err := os.ReadFile(r.log)
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(string(log)), "\n") {
		if strings.HasPrefix(line, "s3 sync") && strings.Contains(line, r.secondary) {
			assert.True(t, strings.Index(line, "s3://") < strings.Index(line, r.secondary), "the restoring region only reads the bucket: %s", line)
		}
	}
}

// TestChromaDBRestoreRefusesAMalformedPointer: a `latest` that names no
// slot stops the restore with a message instead of copying anything.
func TestChromaDBRestoreRefusesAMalformedPointer(t *testing.T) {
	r := newSyncRig(t)
	writeFiles(t, filepath.Join(r.s3, "tars-chromadb-east/chromadb"), map[string]string{"latest": "slot=c\nid=x\n"})
	out, err := r.restore()
	require.Error(t, err)
	assert.Contains(t, out, "malformed")
	assert.Equal(t, 0, r.restarts())
	assert.NoDirExists(t, filepath.Join(r.secondary, "staging"))
}
