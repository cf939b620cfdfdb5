#!/usr/bin/env bash
# Builds strata and runs the server on the embedded defaults: SQLite metadata and a local
# block folder under $STRATA_DATA_DIR (default ~/.local/share/strata), on 127.0.0.1:7878.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo build --release --locked -p strata-cli
exec target/release/strata server "$@"
