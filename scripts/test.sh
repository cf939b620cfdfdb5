#!/usr/bin/env bash
# Installs what the tests need, checks formatting and lints, runs every test (release build:
# the conformance suites run thousands of operations), then pjdfstest, fsx, the crash loop
# and real programs on a real mount.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test-tools
export PATH="$HOME/.cargo/bin:$PATH"
cargo fmt --all -- --check
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo test --locked --workspace --release
bash tests/conformance/run.sh target/release/strata 100000 20
