#!/bin/sh
# ChromaDB restore (the region that does not snapshot, every 15 minutes).
#
# Reads `latest` in the primary region's bucket, copies that slot into
# $VOLUME/staging (the ChromaDB volume, mounted on the same node), marks it
# complete with staging.snapshot-id, and deletes the ChromaDB pod: its
# init container (promote.sh) swaps the staged copy in before ChromaDB
# starts. Nothing happens when the newest snapshot is already in place.
set -eu
: "${SOURCE_BUCKET:?SOURCE_BUCKET is required}" "${VOLUME:?VOLUME is required}"
: "${NAMESPACE:?NAMESPACE is required}" "${POD:?POD is required}"
prefix="${PREFIX:-chromadb}"
api="${KUBE_API:-https://kubernetes.default.svc}"
sa="${SA_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}"

read_latest() {
  aws s3 cp "s3://$SOURCE_BUCKET/$prefix/latest" -
}
latest=$(read_latest) || { echo "restore: no snapshot in s3://$SOURCE_BUCKET/$prefix yet" >&2; exit 1; }
slot=$(printf '%s\n' "$latest" | sed -n 's/^slot=//p')
id=$(printf '%s\n' "$latest" | sed -n 's/^id=//p')
case "$slot" in
  a|b) ;;
  *) echo "restore: s3://$SOURCE_BUCKET/$prefix/latest is malformed: $latest" >&2; exit 1 ;;
esac
[ -n "$id" ] || { echo "restore: s3://$SOURCE_BUCKET/$prefix/latest has no id" >&2; exit 1; }

have=$(cat "$VOLUME/chroma.snapshot-id" 2>/dev/null || true)
if [ "$id" = "$have" ]; then
  echo "restore: snapshot $id is already in place"
  exit 0
fi
staged=$(cat "$VOLUME/staging.snapshot-id" 2>/dev/null || true)
if [ "$id" != "$staged" ]; then
  rm -f "$VOLUME/staging.snapshot-id"
  mkdir -p "$VOLUME/staging"
  aws s3 sync --delete --no-progress "s3://$SOURCE_BUCKET/$prefix/slots/$slot/" "$VOLUME/staging/"
  # The primary writes the other slot next and this one only after that:
  # if `latest` already names this slot with a newer id, the copy may mix
  # two snapshots; the next run starts over.
  again=$(read_latest)
  if [ "$(printf '%s\n' "$again" | sed -n 's/^slot=//p')" = "$slot" ] && [ "$(printf '%s\n' "$again" | sed -n 's/^id=//p')" != "$id" ]; then
    echo "restore: slot $slot was rewritten while it was copied; retrying next run" >&2
    exit 1
  fi
  printf '%s\n' "$id" > "$VOLUME/staging.snapshot-id"
fi
# Restart ChromaDB on the staged copy (RBAC: delete on this pod only).
curl -sS --fail -o /dev/null --cacert "$sa/ca.crt" -H "Authorization: Bearer $(cat "$sa/token")" \
  -X DELETE "$api/api/v1/namespaces/$NAMESPACE/pods/$POD"
echo "restore: snapshot $id staged; $POD restarts on it"
