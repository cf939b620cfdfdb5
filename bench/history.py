#!/usr/bin/env python3
"""What history costs a real workload: a source tarball extracted into a mount, committed
to git, then 20 rounds of edits to 50 files each committed, with the volume keeping 24 h of
history (the default) and keeping none.

    python3 bench/history.py [--files N] [--no-build]

Prints, for each: the workload's time through the mount (tar, git, sync), then, after a
collection, the bytes the store holds, the metadata file's size (vacuumed) and the rows of
the past it keeps. The difference is what 24 h of history stores for this workload.
"""

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

ROUNDS, EDITS = 20, 50


def workload(tree, tar):
    git = ["git", "-C", tree, "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    run.sh("tar", "xf", tar, "-C", tree)
    run.sh(*git, "init", "-q")
    run.sh(*git, "add", "-A")
    run.sh(*git, "commit", "-qm", "import")
    files = sorted(os.path.join(b, n) for b, _, ns in os.walk(tree) if "/.git" not in b for n in ns)
    for r in range(ROUNDS):
        for path in files[r::max(1, len(files) // EDITS)][:EDITS]:
            with open(path, "a") as f:
                f.write(f"// edit {r}\n")
        run.sh(*git, "commit", "-qam", f"edit {r}")
    run.sync_tree(tree)


def du(path):
    return sum(os.path.getsize(os.path.join(b, n)) for b, _, ns in os.walk(path) for n in ns)


def measure(work, tar, history):
    strata = run.Strata(work, None, ["--history", history, "--gc-grace", "1ms"])
    try:
        tree = os.path.join(strata.dir, "tree")
        os.mkdir(tree)
        took = run.timed(lambda: workload(tree, tar))
        run.sh(strata.bin, "umount", strata.dir, env=strata.env)
        run.sh(strata.bin, "gc", env=strata.env, stdout=subprocess.DEVNULL)
    finally:
        strata.stop()
    db = sqlite3.connect(os.path.join(strata.data, "meta.db"))
    past = sum(db.execute(f"SELECT COUNT(*) FROM past_{t}").fetchone()[0]
               for t in ("inodes", "dentries", "chunks", "xattrs"))
    db.execute("VACUUM")
    db.close()
    return {
        "tar + git init/add/commit + 20 rounds of 50 edits committed, s": took,
        "bytes in the store after gc": du(os.path.join(strata.data, "blocks")),
        "metadata file, vacuumed, bytes": os.path.getsize(os.path.join(strata.data, "meta.db")),
        "past rows kept (inodes, entries, chunks, xattrs)": past,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--files", type=int, default=2450)
    p.add_argument("--no-build", action="store_true", help="use the release binary already built")
    args = p.parse_args()
    if not args.no_build:
        run.sh("cargo", "build", "--release", "--locked", "-p", "strata-cli", cwd=run.ROOT)
    work = tempfile.mkdtemp(prefix="strata-bench-history-", dir="/var/tmp")
    try:
        tar, files = run.make_tarball(work, args.files)
        results = {}
        for name, history in (("off", "0s"), ("24h", "24h")):
            sub = os.path.join(work, name)
            os.mkdir(sub)
            results[name] = measure(sub, tar, history)
        print(f"{files} files; {run.machine()}\n")
        print("| | history off | 24 h | 24 h / off |\n|---|---|---|---|")
        for key in results["off"]:
            off, on = results["off"][key], results["24h"][key]
            ratio = f"{on / off:.2f}" if off else "-"
            cell = [f"{v:,.2f}" if isinstance(v, float) else f"{v:,}" for v in (off, on)]
            print(f"| {key} | {cell[0]} | {cell[1]} | {ratio} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
