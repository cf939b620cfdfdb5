#!/usr/bin/env bash
# fsx at length: the same seed on local disk and on a strata mount, with timings.
# Usage: bench/fsx.sh [OPS]   (default 1,000,000; needs root and a release build)
set -euo pipefail
ops=${1:-1000000}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --locked -p strata-cli --manifest-path "$root/Cargo.toml"
strata="$root/target/release/strata"
work=$(mktemp -d /var/tmp/strata-fsx.XXXXXX)
chmod 755 "$work"
source "$root/tests/conformance/lib.sh"
trap cleanup EXIT
start_strata
mount_it
mkdir -p "$work/local"
for target in local mnt; do
  start=$SECONDS
  fsx -N "$ops" -S 42 -P "$work" "$work/$target/fsx.file" > "$work/fsx-$target.log" 2>&1 || { tail -30 "$work/fsx-$target.log"; exit 1; }
  echo "$target: $ops operations in $((SECONDS - start)) s: $(tail -1 "$work/fsx-$target.log")"
done
