#!/usr/bin/env bash
# POSIX conformance and data integrity on a real strata mount, by suites nobody here wrote:
# pjdfstest (also on local disk, for comparison), fsx, a crash-consistency loop, and real
# programs. Usage: tests/conformance/run.sh STRATA_BINARY [FSX_OPS] [CRASH_CYCLES]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
strata=$(realpath "$1")
fsx_ops=${2:-100000}
cycles=${3:-20}
repo=$(cd "$here/../.." && pwd)

work=$(mktemp -d /var/tmp/strata-conformance.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/local"
source "$here/lib.sh"
trap cleanup EXIT
start_strata
mount_it

# pjdfstest (on strata and on local disk) and fsx mostly wait (naptime, fsync): run them side
# by side, each in its own folder.
echo "== pjdfstest on strata and on local disk, fsx ($fsx_ops operations, seed 42) on strata"
mkdir -p "$work/mnt/fsx"
(cd "$work/mnt" && pjdfstest -c "$here/pjdfstest.toml" -p "$work/mnt" > "$work/pjd-strata.log" 2>&1 || true) &
pjd_strata=$!
(cd "$work/local" && pjdfstest -c "$here/pjdfstest.toml" -p "$work/local" > "$work/pjd-local.log" 2>&1 || true) &
pjd_local=$!
fsx_status=0
fsx -N "$fsx_ops" -S 42 -P "$work" "$work/mnt/fsx/fsx.file" > "$work/fsx.log" 2>&1 || fsx_status=$?
wait "$pjd_strata" "$pjd_local"
echo "pjdfstest on strata: $(grep '^Summary' "$work/pjd-strata.log")"
echo "pjdfstest on local:  $(grep '^Summary' "$work/pjd-local.log")"
if ! grep -q '^Summary: 0 failed' "$work/pjd-strata.log"; then
  grep -vE ' ok$| skipped$' "$work/pjd-strata.log" | head -60
  exit 1
fi
if [ "$fsx_status" -ne 0 ]; then
  tail -40 "$work/fsx.log"
  exit 1
fi
echo "fsx: $fsx_ops operations: $(tail -1 "$work/fsx.log")"
rm -rf "$work/mnt/fsx"

echo "== crash consistency: $cycles cycles of SIGKILL of the mount under two writers"
# One rewrites three files and fsyncs every step; the other makes small new files without
# waiting (the mount owns its tree), fsyncing one in 200.
mkdir -p "$work/mnt/crash"
for cycle in $(seq 1 "$cycles"); do
  python3 "$here/crash_writer.py" write "$work/mnt/crash" "$work/journal" "$cycle" &
  writer=$!
  python3 "$here/crash_writer.py" burst "$work/mnt" "$work/burst-journal" "$cycle" &
  burster=$!
  # A random moment, so that the kill lands anywhere in the writers' cycles.
  sleep "0.$((RANDOM % 9 + 1))"
  pkill -KILL -f -- "mount conformance $work/mnt .*--foreground"
  wait "$writer" "$burster" || true
  umount -l "$work/mnt"
  mount_it
  python3 "$here/crash_writer.py" check "$work/mnt/crash" "$work/journal"
  python3 "$here/crash_writer.py" burst-check "$work/mnt" "$work/burst-journal" "$cycle"
done
echo "crash cycles: $cycles passed"

echo "== real programs"
git clone -q --no-local "$repo" "$work/mnt/clone"
git -C "$work/mnt/clone" fsck --full --strict 2> /dev/null
echo "git clone + fsck: ok ($(git -C "$work/mnt/clone" rev-list --count HEAD) commits)"

mkdir -p "$work/mnt/cbuild"
cat > "$work/mnt/cbuild/main.c" <<'C'
#include <stdio.h>
#include "greet.h"
int main(void) { printf("%s\n", greeting()); return 0; }
C
cat > "$work/mnt/cbuild/greet.h" <<'C'
const char *greeting(void);
C
cat > "$work/mnt/cbuild/greet.c" <<'C'
#include "greet.h"
const char *greeting(void) { return "built on strata"; }
C
printf 'hello: main.o greet.o\n\tcc -o $@ $^\n%%.o: %%.c greet.h\n\tcc -c -o $@ $<\n' > "$work/mnt/cbuild/Makefile"
make -s -C "$work/mnt/cbuild"
[ "$("$work/mnt/cbuild/hello")" = "built on strata" ]
echo "C build with make: ok"

sqlite3 "$work/mnt/test.db" "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
  INSERT INTO t (v) SELECT hex(randomblob(64)) FROM n;
  CREATE INDEX t_v ON t(v); DELETE FROM t WHERE id % 3 = 0; VACUUM;"
[ "$(sqlite3 "$work/mnt/test.db" 'PRAGMA integrity_check;')" = "ok" ]
echo "sqlite3 integrity_check: ok ($(sqlite3 "$work/mnt/test.db" 'SELECT COUNT(*) FROM t;') rows)"

tar cf "$work/src.tar" -C "$repo" --exclude=./target --exclude=./.git .
mkdir -p "$work/mnt/untar" "$work/untar"
tar xf "$work/src.tar" -C "$work/mnt/untar"
tar xf "$work/src.tar" -C "$work/untar"
diff -r "$work/untar" "$work/mnt/untar"
echo "tar x + compare: ok ($(tar tf "$work/src.tar" | wc -l) entries)"

echo "conformance: all passed"
