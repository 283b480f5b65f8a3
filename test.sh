#!/usr/bin/env bash
# The test command (README "Run the tests"; .ci/run calls it). On a fresh
# Debian machine with only Go it installs what the tests need, builds the
# conformance servers once into the user cache, points the chart tier at
# the chart archives, then runs every test. Extra arguments go to `go test`
# in place of ./... (e.g. ./test.sh -run TestCharts ./tests).
set -euo pipefail
cd "$(dirname "$0")"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

step() { printf '== %s\n' "$1" >&2; }

# Debian packages the real-process tiers run: redis-server and redis-cli,
# and PostgreSQL (initdb, postgres, pg_basebackup; tests/pgserver).
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-cli >/dev/null || missing+=(redis-tools)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "test.sh: the tests need the Debian packages ${missing[*]}; run as root or install them: apt-get install ${missing[*]}" >&2
      exit 1
    fi
    sudo="sudo"
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts a redis-server service and a PostgreSQL cluster on
  # 127.0.0.1:5432 on install; the tests run their own.
  $sudo systemctl stop redis-server 2>/dev/null || true
  if [[ " ${missing[*]} " == *" postgresql "* ]]; then
    $sudo systemctl stop postgresql 2>/dev/null || true
    $sudo systemctl disable postgresql 2>/dev/null || true
    # Without systemd (a container) pg_ctlcluster stops the cluster itself.
    { pg_lsclusters -h 2>/dev/null || true; } | while read -r version cluster _; do
      $sudo pg_ctlcluster "$version" "$cluster" stop >/dev/null 2>&1 || true
    done
  fi
fi

# etcd, kube-apiserver, kube-scheduler, kube-controller-manager and
# prometheus-operator for the conformance, chart and scheduling tiers: built from
# source once per version into ~/.cache/tars-kubeserver (minutes cold, 0 s warm).
step "conformance servers"
go run ./tests/kubeapi/ensure . >&2

# The pinned chart archives: the offline mirror beside the repository when
# there is one, else the user cache, filled by `tarsctl charts pull`.
if [ -z "${TARS_CHARTS_DIR:-}" ]; then
  if [ -d ../shared/charts ]; then
    TARS_CHARTS_DIR="$(cd ../shared/charts && pwd)"
    export TARS_CHARTS_DIR
  else
    step "chart archives (tarsctl charts pull)"
    go run ./cmd/tarsctl charts pull >&2
  fi
fi
step "charts from ${TARS_CHARTS_DIR:-the user cache}"

# -count=1: the tiers start real servers; a cached result would hide a
# change outside the Go files. -ldflags -s -w: the test binary links without
# debug info (half a gigabyte otherwise; ~40% of a warm run's time).
# -parallel 4: the slow tiers wait on servers more than they compute.
step "go test"
if [ $# -eq 0 ]; then set -- ./...; fi
exec go test -count=1 -parallel 4 -timeout 30m -ldflags='-s -w' "$@"
