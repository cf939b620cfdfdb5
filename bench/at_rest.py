#!/usr/bin/env python3
"""What data at rest costs: the same workloads on local disk and on a strata mount whose
server stores blocks as they are (`--compression off`), compressed (zstd:3, the default), and
compressed and encrypted (the organization encrypts: `strata org encrypt`), measured in one
run.

    python3 bench/at_rest.py [--stack embedded|shared] [--mib N] [--files N] [--reverse]

Workloads: a sequential write + fsync of N MiB of random bytes (they do not compress: the
cost of trying) and of N MiB of source text (every MiB differs, so no block dedups), each
read back cold (a fresh mount, kernel caches dropped), and small files created. For strata it
also prints the bytes the store was given against the bytes written (the server's metrics).
The strata settings run one after another, on fresh servers; `--reverse` runs them in the
other order (the first one has been seen to run slower). Needs root (FUSE, dropping caches).
"""

import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

MIB = run.MIB


def source_text():
    """One MiB of this repository's Rust sources."""
    parts, size = [], 0
    for dirpath, dirs, files in os.walk(os.path.join(run.ROOT, "crates")):
        dirs[:] = [d for d in dirs if d != "target"]
        for name in sorted(files):
            if name.endswith(".rs"):
                with open(os.path.join(dirpath, name), "rb") as f:
                    parts.append(f.read())
                size += len(parts[-1])
    text = b"".join(parts)
    return bytearray((text * (MIB // len(text) + 1))[:MIB])


def seq_write(dir, name, size_mib, buf):
    def write():
        fd = os.open(os.path.join(dir, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        for i in range(size_mib):
            buf[:16] = f"{i:015}\n".encode()  # every MiB differs: no block dedups
            os.write(fd, buf)
        os.fsync(fd)
        os.close(fd)

    return size_mib / run.timed(write)


def seq_read(dir, name, size_mib, cold_hook):
    def read():
        fd = os.open(os.path.join(dir, name), os.O_RDONLY)
        while os.read(fd, MIB):
            pass
        os.close(fd)

    cold_hook()
    run.drop_caches()
    return size_mib / run.timed(read)


def workloads(dir, cold_hook, size_mib, files, text, stored=None):
    """`stored`, for strata: the bytes the store was given so far and the bytes stored."""
    out = {}
    for name, buf in (("random", bytearray(os.urandom(MIB))), ("text", text)):
        before = stored() if stored else None
        out[f"seq write + fsync, {name}, MiB/s"] = seq_write(dir, name, size_mib, buf)
        if stored:
            after = stored()
            out[f"store bytes / bytes, {name}"] = (after[0] - before[0]) / max(1, after[1] - before[1])
    for name in ("random", "text"):
        out[f"seq read cold, {name}, MiB/s"] = seq_read(dir, name, size_mib, cold_hook)
    d = os.path.join(dir, "small")
    os.mkdir(d)
    out[f"create {files} x 4 KiB + sync, files/s"] = files / run.timed(
        lambda: (run.create_files(d, files), run.sync_tree(d)))
    return out


def measure_strata(work, services, setting, encrypt, size_mib, files, text):
    db = "strata_" + setting.replace(":", "_") + ("_enc" if encrypt else "")
    if services:
        services.create_db(db)
    args = ["--compression", setting]
    if encrypt:
        key = os.path.join(work, "master.key")
        with open(key, "w") as f:
            f.write(os.urandom(32).hex())
        args += ["--master-key-file", key]
    strata = run.Strata(work, services, args, db, before_mount=["org", "encrypt", "default"] if encrypt else None)
    try:
        stored = lambda: (strata.metric("strata_store_written_bytes_total"),
                          strata.metric("strata_blocks_stored_bytes_total"))
        return workloads(strata.dir, strata.cold, size_mib, files, text, stored)
    finally:
        strata.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--stack", choices=["embedded", "shared"], default="embedded")
    p.add_argument("--mib", type=int, default=512)
    p.add_argument("--files", type=int, default=2000)
    p.add_argument("--reverse", action="store_true", help="run the strata settings last to first")
    args = p.parse_args()
    run.sh("cargo", "build", "--release", "--locked", "-p", "strata-cli", cwd=run.ROOT)
    work = tempfile.mkdtemp(prefix="strata-bench-at-rest-", dir="/var/tmp")
    os.chmod(work, 0o755)  # PostgreSQL runs as its own user
    services = None
    text = source_text()
    try:
        services = run.Services(work) if args.stack == "shared" else None
        local = os.path.join(work, "local")
        os.mkdir(local)
        results = {"local disk": workloads(local, lambda: None, args.mib, args.files, text)}
        settings = [("off", False), ("zstd:3", False), ("zstd:3", True)]
        for setting, encrypt in reversed(settings) if args.reverse else settings:
            name = f"strata, {setting}" + (", encrypted" if encrypt else "")
            sub = os.path.join(work, name.replace(" ", "_").replace(",", "").replace(":", "_"))
            os.mkdir(sub)
            results[name] = measure_strata(sub, services, setting, encrypt, args.mib, args.files, text)
        names = ["local disk"] + [f"strata, {s}" + (", encrypted" if e else "") for s, e in settings]
        print(f"stack: {args.stack}; {run.machine()}\n")
        print("| | " + " | ".join(names) + " | zstd / off | encrypted / zstd | encrypted / local |")
        print("|---" * (len(names) + 4) + "|")
        ratio = lambda a, b: f"{a / b:.2f}×" if a and b else "-"
        for key in results[names[-1]]:
            cells = [results[n].get(key) for n in names]
            disk, off, on, enc = cells
            shown = ["-" if v is None else f"{v:,.2f}" for v in cells]
            print(f"| {key} | " + " | ".join(shown) + f" | {ratio(on, off)} | {ratio(enc, on)} | {ratio(enc, disk)} |")
    finally:
        if services:
            services.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
