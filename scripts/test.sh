#!/usr/bin/env bash
# Installs what the tests need, checks formatting and lints, runs every test (release build:
# the conformance suites run thousands of operations) on the embedded stack, the integration
# suite again on PostgreSQL + S3, the Python SDK with the sandboxes and examples, the
# TypeScript SDK and the dashboard in a browser, a fuzz run
# of the API, then pjdfstest, fsx, the crash loop and real programs on a real mount.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test-tools
export PATH="$HOME/.cargo/bin:$PATH"
cargo fmt --all -- --check
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo test --locked --workspace --release
# The integration suite again on the shared stack: PostgreSQL metadata and S3 blocks
# (SeaweedFS), both started by the tests themselves on 127.0.0.1.
STRATA_TEST_STACK=postgres-s3 cargo test --locked --release -p strata-cli
# The Python SDK, the sandboxes and the examples, against the release binary.
STRATA_BIN="$PWD/target/release/strata" bash sdk/python/run-tests.sh
# The TypeScript SDK, and the dashboard in Debian's chromium, against the release binary.
STRATA_BIN="$PWD/target/release/strata" bash scripts/test-web.sh
# A bounded, repeatable fuzz run of the OpenAPI document: no answer may be a 5xx.
bash tests/api-fuzz/run.sh target/release/strata
bash tests/conformance/run.sh target/release/strata 100000 20
