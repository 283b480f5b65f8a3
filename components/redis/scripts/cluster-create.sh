#!/bin/sh
# Forms the Redis Cluster once and keeps its membership whole, idempotently.
# Run by the cluster-create Job and the rejoin CronJob, and, unchanged, by
# the tests against redis-server processes on loopback.
#
# It only ever forms a new cluster, re-introduces members at their current
# addresses and adds empty members as replicas. It never moves slots: a
# cluster with uncovered slots after a loss is for an operator to repair
# (`redis-cli --cluster fix`, README), since reassigning slots while a
# lost zone may come back would orphan that zone's data.
#
# Usage: cluster-create.sh          form or heal the cluster, then verify it
#        cluster-create.sh zones    print each member's zone and exit
#                                   (resolves names, contacts no member)
#
# Environment:
#   REDIS_NODES          space-separated host:port of every member (required);
#                        host:port@busport when the bus is not port+10000
#   REDIS_MASTERS        number of masters (default 3)
#   REDIS_REPLICAS       replicas per master (default 1)
#   REDIS_PASSWORD       the cluster password (optional)
#   REDIS_WAIT_SECONDS   how long to wait for members and for cluster_state:ok (default 300)
#   REDIS_ZONES          space-separated zone=CIDR (a zone's private subnet:
#                        pods get their addresses from their node's subnet)
#                        or zone=host:port (one member); a member matching
#                        none is in zone "unknown". Masters go to distinct
#                        zones and each replica to another zone than its
#                        master, as far as the zones allow.
#   REDIS_TLS_CA         the CA certificate file: talk TLS to the members and
#                        verify their certificates (unset: plaintext)
#   REDIS_TLS_CERT, REDIS_TLS_KEY
#                        a client certificate and key to present (optional)
#   File paths must not contain spaces. With TLS, every run also has each
#   member re-read its own TLS files (Redis does not watch them), so a
#   renewed certificate is served without a restart.
set -eu

: "${REDIS_NODES:?REDIS_NODES must list host:port of every member}"
MASTERS="${REDIS_MASTERS:-3}"
REPLICAS="${REDIS_REPLICAS:-1}"
WAIT="${REDIS_WAIT_SECONDS:-300}"
ZONES="${REDIS_ZONES:-}"
if [ -n "${REDIS_PASSWORD:-}" ]; then
  export REDISCLI_AUTH="$REDIS_PASSWORD"
fi

log() { echo "cluster-create: $*"; }

# tls is redis-cli's TLS flags, on every connection to a member.
tls=""
if [ -n "${REDIS_TLS_CA:-}" ]; then
  tls="--tls --cacert $REDIS_TLS_CA"
  if [ -n "${REDIS_TLS_CERT:-}" ]; then
    tls="$tls --cert $REDIS_TLS_CERT --key ${REDIS_TLS_KEY:?REDIS_TLS_KEY must go with REDIS_TLS_CERT}"
  fi
fi

# rcli host:port[@bus] args... runs redis-cli against one member.
rcli() {
  node="${1%@*}"; shift
  # shellcheck disable=SC2086 # $tls is a list of flags
  redis-cli $tls -h "${node%:*}" -p "${node##*:}" "$@"
}

# resolve host prints the address of a host name (or the name itself).
resolve() {
  ip=$(getent hosts "$1" 2>/dev/null | awk '{print $1; exit}')
  echo "${ip:-$1}"
}

# addr host:port[@bus] prints ip:port of a member.
addr() {
  hp="${1%@*}"
  echo "$(resolve "${hp%:*}"):${hp##*:}"
}

# bus host:port[@bus] prints the member's cluster bus port.
bus() {
  case "$1" in
    *@*) echo "${1##*@}" ;;
    *) p="${1##*:}"; echo $((p + 10000)) ;;
  esac
}

# ip2int a.b.c.d prints the address as a number (0 if it is not IPv4).
ip2int() {
  case "$1" in
    *[!0-9.]*|"") echo 0; return ;;
  esac
  old_ifs=$IFS; IFS=.
  # shellcheck disable=SC2086 # split on dots on purpose
  set -- $1
  IFS=$old_ifs
  echo $(( (${1:-0} << 24) + (${2:-0} << 16) + (${3:-0} << 8) + ${4:-0} ))
}

# zone_of host:port[@bus] prints the member's zone from REDIS_ZONES.
zone_of() {
  hp="${1%@*}"
  a=$(addr "$1")
  ip=$(ip2int "${a%:*}")
  for z in $ZONES; do
    name="${z%%=*}"; what="${z#*=}"
    case "$what" in
      */*)
        bits="${what#*/}"; net=$(ip2int "${what%/*}")
        mask=$(( (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF ))
        if [ "$ip" -ne 0 ] && [ $(( ip & mask )) -eq $(( net & mask )) ]; then echo "$name"; return; fi ;;
      *)
        if [ "$what" = "$hp" ] || [ "$what" = "$a" ]; then echo "$name"; return; fi ;;
    esac
  done
  echo unknown
}

# info_field host:port field prints one field of CLUSTER INFO.
info_field() {
  rcli "$1" cluster info | tr -d '\r' | sed -n "s/^$2://p"
}

# my_id member prints the member's node ID.
my_id() {
  rcli "$1" cluster myid | tr -d '\r'
}

if [ "${1:-}" = "zones" ]; then
  for n in $REDIS_NODES; do echo "${n%@*} $(zone_of "$n")"; done
  exit 0
fi

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

# 1b. Members do not watch their TLS files: each re-reads its own (CONFIG
#     SET to the paths it has), so a certificate cert-manager renewed is
#     served. A member that cannot load them keeps serving the ones it has.
if [ -n "$tls" ]; then
  for n in $REDIS_NODES; do
    files=$(rcli "$n" config get 'tls-*-file' | tr -d '\r' | awk 'NR % 2 == 1 { k = $0; next } $0 != "" { printf "%s %s ", k, $0 }')
    [ -n "$files" ] || continue
    # shellcheck disable=SC2086 # parameter-value pairs
    out=$(rcli "$n" config set $files 2>&1 | tr -d '\r')
    [ "$out" = "OK" ] || log "warning: member $n could not re-read its TLS files: $out"
  done
  log "TLS files re-read by every member"
fi

# by_zone prints "zone member" for every member, sorted by zone (then in
# REDIS_NODES order, which sort -s keeps).
by_zone() {
  for n in $REDIS_NODES; do echo "$(zone_of "$n") $n"; done | sort -s -k1,1
}

# members_in / members_alone: those that belong to the cluster (they know
# another node) and those that do not (new, or back with an empty volume).
in_cluster=""; alone=""
for n in $REDIS_NODES; do
  if [ "$(info_field "$n" cluster_known_nodes)" != "1" ]; then in_cluster="$in_cluster $n"; else alone="$alone $n"; fi
done

if [ -z "$in_cluster" ]; then
  # 2a. A new cluster: masters on distinct zones (round-robin over the
  #     zones), created with no replicas; the replicas are added below.
  masters=$(by_zone | awk -v want="$MASTERS" '
    { zone[NR] = $1; node[NR] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++nz] = $1 } }
    END {
      picked = 0
      for (round = 1; picked < want && round <= NR; round++)
        for (z = 1; z <= nz && picked < want; z++) {
          k = 0
          for (i = 1; i <= NR; i++) if (zone[i] == order[z] && ++k == round) { print node[i]; picked++ }
        }
    }' | tr '\n' ' ')
  addrs=""
  for m in $masters; do addrs="$addrs $(addr "$m")"; done
  log "creating the cluster: masters$(for m in $masters; do printf ' %s(%s)' "${m%@*}" "$(zone_of "$m")"; done)"
  # shellcheck disable=SC2086 # word splitting of the address list is intended
  # shellcheck disable=SC2086 # $tls is a list of flags
  redis-cli $tls --cluster create $addrs --cluster-replicas 0 --cluster-yes
  in_cluster="$masters"
  alone=""
  for n in $REDIS_NODES; do
    case " $masters " in *" $n "*) ;; *) alone="$alone $n" ;; esac
  done
  # Replicas: the others, sorted by zone, each to the next master in zone
  # order, so with balanced zones no replica shares its master's zone.
  i=0
  others=$(by_zone | while read -r z n; do case " $alone " in *" $n "*) echo "$n" ;; esac; done)
  sorted_masters=$(by_zone | while read -r z n; do case " $masters " in *" $n "*) echo "$n" ;; esac; done)
  for r in $others; do
    i=$((i + 1))
    m=$(echo "$sorted_masters" | awk -v k="$i" -v n="$MASTERS" 'NR == (k % n) + 1')
    log "adding $r ($(zone_of "$r")) as a replica of $m ($(zone_of "$m"))"
    # shellcheck disable=SC2086 # $tls is a list of flags
    redis-cli $tls --cluster add-node "$(addr "$r")" "$(addr "$m")" --cluster-slave --cluster-master-id "$(my_id "$m")"
  done
  alone=""
else
  first_in=$(echo "$in_cluster" | awk '{print $1}')
  # Formed means every member is a connected node at its current address
  # in the first member's view, not only cluster_state:ok: right after all
  # members restart, each still reports ok from its nodes.conf until it
  # notices that its peers' old addresses do not answer.
  live=" $(rcli "$first_in" cluster nodes | tr -d '\r' | awk '$8 == "connected" { split($2, a, "@"); printf "%s ", a[1] }')"
  at_current=1
  for n in $in_cluster; do
    case "$live" in *" $(addr "$n") "*) ;; *) at_current="" ;; esac
  done
  if [ -n "$at_current" ] && [ "$(info_field "$first_in" cluster_state)" = "ok" ]; then
    log "cluster formed and ok"
  else
    # 2b. Members restarted with new addresses (pods rescheduled with new
    #     IPs) still know each other only by the old ones: introduce every
    #     member to every other at its current address. A member recognises
    #     the node ID in the handshake and updates the address; a MEET on a
    #     live link is a no-op. Slots are never moved here.
    log "cluster formed but not ok: re-introducing members at their current addresses"
    for n in $in_cluster; do
      a=$(addr "$n")
      for m in $in_cluster; do
        if [ "$m" != "$n" ]; then rcli "$m" cluster meet "${a%:*}" "${a##*:}" "$(bus "$n")" >/dev/null || true; fi
      done
    done
  fi
fi

# 3. Members that are alone while the cluster exists came back with an empty
#    volume (or are new): each joins as a replica of the master with the
#    fewest replicas, one in another zone if there is one.
first=$(echo "$in_cluster" | awk '{print $1}')
# node_lines prints "id ip:port flags master-id slots…" of the live nodes
# (not failed, reachable at a known address, not mid-handshake).
node_lines() {
  rcli "$first" cluster nodes | tr -d '\r' | awk '$3 !~ /fail|noaddr|handshake/ { sub(/@.*/, "", $2); print }'
}
for r in $alone; do
  rz=$(zone_of "$r")
  best=$(node_lines | awk '$3 ~ /master/ { m[$1] = $2; c[$1] += 0 } $3 ~ /slave/ { c[$4]++ }
    END { for (id in m) print c[id], id, m[id] }' | sort -n | while read -r n id a; do
      mz=$(zone_of "$a"); other=1; [ "$mz" = "$rz" ] && other=0
      echo "$other $n $id $a"
    done | sort -k2,2n -k1,1nr | head -n 1)
  if [ -z "$best" ]; then
    log "member $r ($rz) is not in the cluster and no live master was found to add it to"
    continue
  fi
  # shellcheck disable=SC2086 # split the chosen line into its fields
  set -- $best
  log "member $r ($rz) is not in the cluster: adding it as a replica of $4 ($(zone_of "$4"))"
  # redis-cli refuses while slots are uncovered: that is reported below.
  # shellcheck disable=SC2086 # $tls is a list of flags
  redis-cli $tls --cluster add-node "$(addr "$r")" "$4" --cluster-slave --cluster-master-id "$3" ||
    log "could not add $r yet"
done

# 4. A member that came back empty left its old identity behind, failed
#    and serving no slots. It is a ghost when Redis marked it noaddr
#    (another node ID answers at its address), when its address is one a
#    live node has, or when live identities already account for every
#    member (it came back empty at a new address): forget it on every
#    member so the topology holds only real nodes. Only while the cluster
#    knows more identities than there are members, and never a node
#    serving slots: a failed node that may still come back is left alone.
forget_ghosts() {
  ghosts=$(rcli "$first" cluster nodes | tr -d '\r' | awk -v members="$count" '
    { known++; split($2, p, "[@,]"); ip_port = p[1]; port = ip_port; sub(/.*:/, "", port)
      host = ($2 ~ /,/) ? p[3] ":" port : ip_port }
    $3 ~ /fail/ && NF <= 8 { ghost[$1] = ($3 ~ /noaddr/) ? "" : host; next }
    $3 !~ /fail|noaddr|handshake/ { nlive++ }
    { live[host] = 1 }
    END { if (known > members) for (id in ghost) if (nlive >= members || ghost[id] == "" || ghost[id] in live) print id }')
  for g in $ghosts; do
    log "forgetting $g: a failed identity a rejoined member replaced"
    for n in $REDIS_NODES; do
      if [ "$(my_id "$n")" != "$g" ]; then rcli "$n" cluster forget "$g" >/dev/null 2>&1 || true; fi
    done
  done
}

# served_slots prints how many slots live masters serve. CLUSTER INFO's
# cluster_slots_ok is not enough: a master whose address a new identity
# took (noaddr) may not be flagged failing yet, and its slots still count.
served_slots() {
  rcli "$first" cluster nodes | tr -d '\r' | awk '
    $3 ~ /master/ && $3 !~ /fail|noaddr|handshake/ && $8 == "connected" || $3 ~ /myself,master/ {
      for (i = 9; i <= NF; i++) {
        if ($i ~ /^\[/) continue
        n = split($i, r, "-"); s += (n == 2) ? r[2] - r[1] + 1 : 1
      }
    }
    END { print s + 0 }'
}

# 5. Verify: cluster_state:ok on every member, every slot served, the
#    expected masters and replicas, no replica replicating itself, and every
#    replica synced. Roles spread by gossip, so wait for them like for the
#    state.
check() {
  forget_ghosts
  for n in $REDIS_NODES; do
    [ "$(info_field "$n" cluster_state)" = "ok" ] || { why="member $n is not cluster_state:ok"; return 1; }
  done
  slots=$(served_slots)
  [ "$slots" = "16384" ] || { why="only $slots of 16384 slots are served by a reachable master"; return 1; }
  nodes=$(rcli "$first" cluster nodes | tr -d '\r')
  # Every member answers, so an identity beyond the members is a ghost
  # gossip had not yet flagged failing when forget_ghosts looked: wait
  # for the flag and forget it on the next round.
  known=$(echo "$nodes" | awk 'NF {c++} END {print c+0}')
  [ "$known" -le "$count" ] || { why="$known identities known for $count members: a failed identity is not forgotten yet"; return 1; }
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
    if [ "$(served_slots)" != "16384" ]; then
      log "slots are uncovered: a master and all its replicas are gone. This script never moves slots;"
      log "once the lost members are back or given up on, run: redis-cli ${tls:+$tls }--cluster fix ${first%@*}"
    fi
    rcli "$first" cluster nodes
    exit 1
  fi
  sleep 1
done

# Report replicas sharing their master's zone (the zones did not allow better).
echo "$nodes" | awk '$3 ~ /slave/ && $3 !~ /fail/ { sub(/@.*/, "", $2); print $2, $4 }' | while read -r ra mid; do
  ma=$(echo "$nodes" | awk -v id="$mid" '$1 == id { sub(/@.*/, "", $2); print $2 }')
  if [ "$(zone_of "$ra")" = "$(zone_of "$ma")" ] && [ "$(zone_of "$ra")" != "unknown" ]; then
    log "warning: replica $ra shares zone $(zone_of "$ra") with its master $ma"
  fi
done
log "cluster ok: $masters masters, $replicas replicas, 16384 slots"
