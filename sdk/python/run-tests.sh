#!/usr/bin/env bash
# Runs the Python SDK's tests (and the examples) against a real strata binary:
# installs runc, tini and passt (sandboxes), makes a venv with the SDK and pytest, builds strata if no binary is
# given ($STRATA_BIN, else $CARGO_TARGET_DIR or target/, debug then release), runs pytest.
# Exits with pytest's status; pytest prints its summary line last.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

if ! command -v runc > /dev/null || ! command -v pasta > /dev/null || [ ! -x /usr/bin/tini-static ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends runc tini passt iproute2
fi

target=${CARGO_TARGET_DIR:-$repo/target}
if [ -z "${STRATA_BIN:-}" ] && [ ! -x "$target/debug/strata" ] && [ ! -x "$target/release/strata" ]; then
  (cd "$repo" && cargo build -p strata-cli)
fi

venv=${STRATA_SDK_VENV:-$target/sdk-venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "$here[test]"
cd "$here"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests "$@"
