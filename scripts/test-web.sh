#!/usr/bin/env bash
# The TypeScript SDK's tests and the dashboard's browser tests, against a real strata binary
# ($STRATA_BIN, else target/debug or target/release): installs Debian's chromium and the npm
# packages from the lock files, type-checks, runs both suites with Node's test runner.
# Screenshots of every page land in $STRATA_SCREENSHOTS (default target/dashboard-screenshots).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node > /dev/null || ! command -v npm > /dev/null || [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  command -v node > /dev/null || apt-get install -y -qq --no-install-recommends nodejs npm
  [ -x /usr/bin/chromium ] || apt-get install -y -qq chromium
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "the TypeScript SDK needs Node.js 20 or later; this machine has $(node --version)" >&2
  exit 1
fi

for dir in sdk/typescript dashboard; do
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
done
(cd sdk/typescript && npm test)
(cd dashboard && npm test)
