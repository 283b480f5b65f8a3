#!/bin/sh
# ChromaDB init container: swap in a completely staged snapshot (restore.sh)
# before ChromaDB starts, then make sure the data directory exists.
set -eu
: "${VOLUME:?VOLUME is required}"
if [ -f "$VOLUME/staging.snapshot-id" ]; then
  rm -rf "$VOLUME/chroma.old"
  if [ -d "$VOLUME/chroma" ]; then mv "$VOLUME/chroma" "$VOLUME/chroma.old"; fi
  mv "$VOLUME/staging" "$VOLUME/chroma"
  mv "$VOLUME/staging.snapshot-id" "$VOLUME/chroma.snapshot-id"
  rm -rf "$VOLUME/chroma.old"
  echo "promote: now on snapshot $(cat "$VOLUME/chroma.snapshot-id")"
fi
mkdir -p "$VOLUME/chroma"
