#!/usr/bin/env python3
"""The mount's memory while `find` walks a large tree again and again.

    python3 bench/memory.py [--files 200000] [--walks 3]

Needs root (FUSE mounts, dropping the kernel caches). Starts a server on its embedded stack
(as bench/run.py does), fills a volume with empty files through a mount (1,000 a folder),
remounts, then walks the tree with `find` (which stats every file) several times, dropping
the kernel's caches before each walk, so the kernel forgets the last walk's inodes and looks
every name up again. It samples the mount's resident memory (VmRSS) all along, and reads
the inodes the mount keeps from its metrics: if the mount kept every inode it was ever told
of, each walk would end above the one before.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import ROOT, Strata, drop_caches, free_port, mount_pid, sh  # noqa: E402

PER_FOLDER = 1000


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Sampler:
    """Samples a process's resident memory every 20 ms; `phase` names the samples."""

    def __init__(self, pid):
        self.pid, self.phase, self.peaks, self.stop = pid, "idle", {}, False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            rss = rss_kib(self.pid)
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0), rss)
            time.sleep(0.02)

    def now(self):
        return rss_kib(self.pid)


class MeteredStrata(Strata):
    """A strata mount that serves its metrics, to read how many inodes it keeps."""

    def mount(self):
        self.metrics = f"127.0.0.1:{free_port()}"
        self.cache += 1
        cache = os.path.join(self.work, f"strata-cache-{self.cache}")
        sh(self.bin, "mount", "bench", self.dir, "--cache-dir", cache, "--metrics", self.metrics, env=self.env)

    def inodes(self):
        import urllib.request
        with urllib.request.urlopen(f"http://{self.metrics}/metrics", timeout=10) as page:
            for line in page.read().decode().splitlines():
                if line.startswith("strata_mount_inodes "):
                    return int(line.split()[1])
        raise RuntimeError("no strata_mount_inodes in the mount's metrics")


def fill(root, files):
    def folder(n):
        d = os.path.join(root, f"d{n:04}")
        os.mkdir(d)
        for i in range(min(PER_FOLDER, files - n * PER_FOLDER)):
            os.close(os.open(os.path.join(d, f"f{i:04}"), os.O_CREAT | os.O_WRONLY, 0o644))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(folder, range((files + PER_FOLDER - 1) // PER_FOLDER)))


def walk(root):
    out = subprocess.run(["find", root, "-type", "f", "-printf", "%s\n"], check=True, capture_output=True, text=True)
    return len(out.stdout.splitlines())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--files", type=int, default=200_000)
    p.add_argument("--walks", type=int, default=3)
    args = p.parse_args()
    sh("cargo", "build", "--release", "--locked", "-p", "strata-cli", cwd=ROOT)
    work = tempfile.mkdtemp(prefix="strata-memory-", dir="/var/tmp")
    strata = MeteredStrata(work)
    try:
        start = time.perf_counter()
        fill(strata.dir, args.files)
        made = time.perf_counter() - start
        print(f"made {args.files:,} empty files in {made:.0f} s ({args.files / made:,.0f} files/s)", file=sys.stderr)
        strata.cold()
        sampler = Sampler(mount_pid(strata.dir))
        rows = [("after mounting", sampler.now(), strata.inodes())]
        for n in range(1, args.walks + 1):
            drop_caches()
            rows.append((f"caches dropped before walk {n}", sampler.now(), strata.inodes()))
            sampler.phase = f"walk {n}"
            start = time.perf_counter()
            seen = walk(strata.dir)
            took = time.perf_counter() - start
            sampler.phase = "idle"
            if seen != args.files:
                raise RuntimeError(f"walk {n} found {seen} files, not {args.files}")
            rows.append((f"peak during walk {n} ({took:.1f} s)", sampler.peaks[f"walk {n}"], None))
            rows.append((f"after walk {n}", sampler.now(), strata.inodes()))
        drop_caches()
        rows.append(("caches dropped after the walks", sampler.now(), strata.inodes()))
        sampler.stop = True
    finally:
        strata.stop()
    print(f"\nstrata mount, while `find` stats {args.files:,} files {args.walks} times\n")
    print("| moment | VmRSS, MiB | inodes the mount keeps |\n|---|---|---|")
    for name, kib, inodes in rows:
        print(f"| {name} | {kib / 1024:.1f} | {'' if inodes is None else f'{inodes:,}'} |")
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
