#!/bin/sh
# Forms the Redis Cluster once, idempotently. Run by the cluster-create Job
# and, unchanged, by the tests against redis-server processes on loopback.
#
# Environment:
#   REDIS_NODES          space-separated host:port of every member (required);
#                        host:port@busport when the bus is not port+10000
#   REDIS_MASTERS        number of masters (default 3)
#   REDIS_REPLICAS       replicas per master (default 1)
#   REDIS_PASSWORD       the cluster password (optional)
#   REDIS_WAIT_SECONDS   how long to wait for members and for cluster_state:ok (default 300)
set -eu

: "${REDIS_NODES:?REDIS_NODES must list host:port of every member}"
MASTERS="${REDIS_MASTERS:-3}"
REPLICAS="${REDIS_REPLICAS:-1}"
WAIT="${REDIS_WAIT_SECONDS:-300}"
if [ -n "${REDIS_PASSWORD:-}" ]; then
  export REDISCLI_AUTH="$REDIS_PASSWORD"
fi

log() { echo "cluster-create: $*"; }

# rcli host:port[@bus] args... runs redis-cli against one member.
rcli() {
  node="${1%@*}"; shift
  redis-cli -h "${node%:*}" -p "${node##*:}" "$@"
}

# resolve host prints the address of a host name (or the name itself).
resolve() {
  ip=$(getent hosts "$1" 2>/dev/null | awk '{print $1; exit}')
  echo "${ip:-$1}"
}

# bus host:port[@bus] prints the member's cluster bus port.
bus() {
  case "$1" in
    *@*) echo "${1##*@}" ;;
    *) p="${1##*:}"; echo $((p + 10000)) ;;
  esac
}

# info_field host:port field prints one field of CLUSTER INFO.
info_field() {
  rcli "$1" cluster info | tr -d '\r' | sed -n "s/^$2://p"
}

count=0
for n in $REDIS_NODES; do count=$((count + 1)); done
want=$((MASTERS * (1 + REPLICAS)))
if [ "$count" -ne "$want" ]; then
  log "REDIS_NODES has $count members, $MASTERS masters x (1 + $REPLICAS) replicas needs $want"
  exit 2
fi

# 1. Wait for every member to answer.
deadline=$(( $(date +%s) + WAIT ))
for n in $REDIS_NODES; do
  until [ "$(rcli "$n" ping 2>/dev/null | tr -d '\r')" = "PONG" ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "member $n did not answer within ${WAIT}s"
      exit 1
    fi
    sleep 1
  done
done
log "all $count members answer"

first=$(echo "$REDIS_NODES" | awk '{print $1}')

# 2. Form the cluster only if no member knows another yet; otherwise leave
#    the membership alone (a restarted pod rejoins from its nodes.conf) and
#    only repair slots if some are uncovered.
formed=no
for n in $REDIS_NODES; do
  if [ "$(info_field "$n" cluster_known_nodes)" != "1" ]; then formed=yes; fi
done

if [ "$formed" = "no" ]; then
  # redis-cli --cluster wants addresses; resolve hostnames (pods announce
  # hostnames to clients, cluster-preferred-endpoint-type hostname).
  addrs=""
  for n in $REDIS_NODES; do
    hp="${n%@*}"
    addrs="$addrs $(resolve "${hp%:*}"):${hp##*:}"
  done
  log "creating the cluster: $MASTERS masters, $REPLICAS replica(s) each"
  # shellcheck disable=SC2086 # word splitting of the address list is intended
  redis-cli --cluster create $addrs --cluster-replicas "$REPLICAS" --cluster-yes
elif [ "$(info_field "$first" cluster_state)" = "ok" ]; then
  log "cluster already formed and ok: nothing to do"
else
  # Members restarted with new addresses (pods rescheduled with new IPs)
  # still know each other only by the old ones: introduce every member to
  # every other at its current address. A member recognises the node ID in
  # the handshake and updates the address; a MEET with a live link is a no-op.
  log "cluster formed but not ok: re-introducing members at their current addresses"
  for n in $REDIS_NODES; do
    hp="${n%@*}"
    ip=$(resolve "${hp%:*}")
    for m in $REDIS_NODES; do
      if [ "$m" != "$n" ]; then rcli "$m" cluster meet "$ip" "${hp##*:}" "$(bus "$n")" >/dev/null || true; fi
    done
  done
  sleep 3
  if [ "$(info_field "$first" cluster_state)" != "ok" ]; then
    log "repairing slot coverage"
    redis-cli --cluster fix "${first%@*}" --cluster-yes || true
  fi
fi

# 3. Verify: cluster_state:ok on every member, every slot served, the
#    expected masters and replicas, no replica replicating itself, and every
#    replica synced. Roles spread by gossip, so wait for them like for the
#    state.
check() {
  for n in $REDIS_NODES; do
    [ "$(info_field "$n" cluster_state)" = "ok" ] || { why="member $n is not cluster_state:ok"; return 1; }
  done
  slots=$(info_field "$first" cluster_slots_ok)
  [ "$slots" = "16384" ] || { why="only $slots of 16384 slots are served"; return 1; }
  nodes=$(rcli "$first" cluster nodes | tr -d '\r')
  masters=$(echo "$nodes" | awk '$3 ~ /master/ && $3 !~ /fail/ {c++} END {print c+0}')
  replicas=$(echo "$nodes" | awk '$3 ~ /slave/ && $3 !~ /fail/ {c++} END {print c+0}')
  self_replicas=$(echo "$nodes" | awk '$3 ~ /slave/ && $4 == $1 {c++} END {print c+0}')
  if [ "$masters" -ne "$MASTERS" ] || [ "$replicas" -ne $((MASTERS * REPLICAS)) ] || [ "$self_replicas" -ne 0 ]; then
    why="unexpected topology: $masters masters, $replicas replicas"
    return 1
  fi
  # A replica that has not synced cannot be promoted: wait for every link.
  for n in $REDIS_NODES; do
    link=$(rcli "$n" info replication | tr -d '\r' | sed -n 's/^master_link_status://p')
    if [ -n "$link" ] && [ "$link" != "up" ]; then why="replica $n has not synced with its master"; return 1; fi
  done
}

deadline=$(( $(date +%s) + WAIT ))
why=""
until check; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    log "$why after ${WAIT}s"
    rcli "$first" cluster nodes
    exit 1
  fi
  sleep 1
done
log "cluster ok: $masters masters, $replicas replicas, 16384 slots"
