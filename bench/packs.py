#!/usr/bin/env python3
"""Small files at rest: the same tree of small files written through a mount that owns its
tree, with the server packing each batch's small files into one stored object (the default,
`--pack-from 512`) and with every small file kept inline in the metadata (`--pack-from 65537`).

    python3 bench/packs.py [--stack embedded|shared] [--files N]

Prints, for each: the time to extract the tarball (and sync), the bytes the metadata holds
for the files' chunks, the objects and bytes stored, and the time a fresh mount (empty
cache; the server's recent packs still in its memory) takes to read every file back.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402


def chunk_bytes(strata, services, db):
    """Bytes of inline data the metadata holds, and the chunks naming a pack."""
    sql = ("SELECT COALESCE(SUM(LENGTH(data)), 0), COUNT(*) FILTER (WHERE pack_off IS NOT NULL),"
           " COUNT(*) FROM chunks")
    if services:
        import glob
        psql = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1]
        out = subprocess.run([psql, services.meta_url(db), "-At", "-F", " ", "-c", sql],
                             check=True, capture_output=True, text=True).stdout
    else:
        import sqlite3
        db = sqlite3.connect(os.path.join(strata.data, "meta.db"))
        out = " ".join(str(v) for v in db.execute(sql.replace("COUNT(*) FILTER (WHERE pack_off IS NOT NULL)",
                                                               "SUM(pack_off IS NOT NULL)")).fetchone())
    inline, packed, chunks = (int(v or 0) for v in out.split())
    return inline, packed, chunks


def measure(work, tar, files, services, pack_from, db):
    if services:
        services.create_db(db)
    strata = run.Strata(work, services, ["--pack-from", str(pack_from)], db)
    try:
        dest = os.path.join(strata.dir, "tree")
        os.mkdir(dest)
        took = run.timed(lambda: (run.sh("tar", "xf", tar, "-C", dest), run.sync_tree(dest)))
        inline, packed, chunks = chunk_bytes(strata, services, db)
        objects = strata.metric("strata_blocks_stored_total")
        stored = strata.metric("strata_blocks_stored_bytes_total")
        packs = strata.metric("strata_packs_stored_total")
        strata.cold()
        run.drop_caches()
        read = run.timed(lambda: run.sh("sh", "-c", f"find {dest} -type f -exec cat {{}} + > /dev/null"))
        return {
            f"extract {files} files + sync, s": took,
            "bytes of chunk data in the metadata (inline bytes, sums of packed ones)": inline,
            "chunks naming a pack / all chunks": f"{packed} / {chunks}",
            "objects stored (packs among them)": f"{objects:.0f} ({packs:.0f})",
            "bytes stored": stored,
            "read every file on a fresh mount, s": read,
        }
    finally:
        strata.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--stack", choices=["embedded", "shared"], default="embedded")
    p.add_argument("--files", type=int, default=2450)
    args = p.parse_args()
    run.sh("cargo", "build", "--release", "--locked", "-p", "strata-cli", cwd=run.ROOT)
    work = tempfile.mkdtemp(prefix="strata-bench-packs-", dir="/var/tmp")
    os.chmod(work, 0o755)  # PostgreSQL runs as its own user
    services = None
    try:
        tar, files = run.make_tarball(work, args.files)
        services = run.Services(work) if args.stack == "shared" else None
        results = {}
        for name, pack_from in (("packed", 512), ("inline", 65537)):
            sub = os.path.join(work, name)
            os.mkdir(sub)
            results[name] = measure(sub, tar, files, services, pack_from, f"strata_{name}")
        print(f"stack: {args.stack}; {run.machine()}\n")
        print("| | packed (default) | inline |\n|---|---|---|")
        for key in results["packed"]:
            cell = [results[n][key] for n in ("packed", "inline")]
            cell = [f"{v:,.2f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else v for v in cell]
            print(f"| {key} | {cell[0]} | {cell[1]} |")
    finally:
        if services:
            services.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
