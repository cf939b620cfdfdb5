#!/usr/bin/env bash
# Kills the two servers under a mount's write workload many times (default 100 cycles, the
# test in CI runs 10) on PostgreSQL + S3, then checks every fsync'd file and fsck.
#   bash bench/kill-servers.sh [CYCLES]
set -euo pipefail
cd "$(dirname "$0")/.."
STRATA_KILL_CYCLES="${1:-100}" cargo test --locked --release -p strata-cli --test scale_out \
  servers_killed_under_a_mount_lose_nothing_fsynced -- --nocapture
