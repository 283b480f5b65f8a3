#!/bin/sh
# ChromaDB snapshot (the primary region, every 15 minutes).
#
# Two slots, a and b, under s3://$BUCKET/$PREFIX/slots/. The copy goes to
# the slot that `latest` does NOT name, so the region restoring the newest
# snapshot never reads a slot being written; `latest` moves to the new slot
# only after the copy is complete. `aws s3 sync` uploads only what changed
# since that slot was last written (30 minutes ago), so a sync costs the
# churn, not the 100 Gi volume, and the bucket holds two copies at most.
#
# The copy is taken from the live volume (mounted read-only on the same
# node): ChromaDB's SQLite and index files are crash-consistent at best.
# The restoring side checks nothing beyond completeness; see README.
set -eu
: "${BUCKET:?BUCKET is required}" "${DATA_DIR:?DATA_DIR is required}"
prefix="${PREFIX:-chromadb}"
if [ ! -d "$DATA_DIR" ]; then
  echo "snapshot: $DATA_DIR does not exist: ChromaDB has not started on this volume" >&2
  exit 1
fi
current=$(aws s3 cp "s3://$BUCKET/$prefix/latest" - 2>/dev/null | sed -n 's/^slot=//p') || current=""
case "$current" in
  a) slot=b ;;
  *) slot=a ;;
esac
id=$(date -u +%Y%m%dT%H%M%SZ)
aws s3 sync --delete --no-progress "$DATA_DIR/" "s3://$BUCKET/$prefix/slots/$slot/"
printf 'slot=%s\nid=%s\n' "$slot" "$id" | aws s3 cp - "s3://$BUCKET/$prefix/latest"
echo "snapshot: $id in slot $slot of s3://$BUCKET/$prefix"
