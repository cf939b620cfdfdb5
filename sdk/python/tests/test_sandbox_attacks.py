"""Attacks from inside a sandbox, each one a way out that an earlier design left open: the
sandbox must contain what runs in it, by construction (what it is not given is not there)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

import httpx
import pytest

from conftest import Server
from strata import (
    Conflict,
    CreateSandboxParams,
    InvalidInput,
    Sandbox,
    SandboxLimits,
    Strata,
    VolumeMount,
)


def runc_state(server: Server, sandbox: Sandbox) -> dict:  # type: ignore[type-arg]
    container = "strata-" + sandbox.id.replace("-", "")
    root = server.data_dir / "sandboxes" / "runtime"
    out = subprocess.run(["runc", "--root", str(root), "state", container], capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 else {}


def until(check: Callable[[], bool], what: str, seconds: float = 20) -> None:
    """Polls `check` until it holds (bounded): the state of other processes, not a sleep."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def other_org(server: Server, name: str = "other") -> Strata:
    """A client of a second organization, with its own admin key."""
    server.cli("org", "create", name)
    key = server.cli("key", "create", "admin", "--org", name, "--role", "org-admin").stdout.strip()
    return Strata(endpoint=server.endpoint, token=key)


def fuse_points_inside(sandbox: Sandbox) -> list:  # type: ignore[type-arg]
    table = sandbox.process.exec("cat /proc/self/mountinfo").result.splitlines()
    return [line.split()[4] for line in table if " - fuse" in line]


def test_a_sandbox_whose_init_ended_runs_nothing_anywhere(server: Server, strata: Strata) -> None:
    strata.volume.create("v")
    sandbox = strata.create(CreateSandboxParams(volumes=[VolumeMount("v", "/v")]))
    init_pid = runc_state(server, sandbox)["pid"]
    # From inside: end the init's one child; the init ends, and every process with it (the
    # command too: its answer may say so).
    try:
        sandbox.process.exec("pkill -9 -x sleep")
    except Conflict as e:
        assert "ended" in e.message
    until(lambda: strata.sandbox.get(sandbox.id).state == "stopped", "the sandbox reads stopped")
    until(lambda: not Path(f"/proc/{init_pid}").exists(), "the old init's PID is free")
    # A host process takes the old init's PID (the kernel hands out the next PID after
    # ns_last_pid): an earlier design would have run the next command in its namespaces.
    host = None
    for _ in range(200):
        Path("/proc/sys/kernel/ns_last_pid").write_text(str(init_pid - 1))
        candidate = subprocess.Popen(["sleep", "300"])
        if candidate.pid == init_pid:
            host = candidate
            break
        candidate.kill()
        candidate.wait()
    assert host is not None, f"could not start a host process with PID {init_pid}"
    try:
        marker = Path(tempfile.gettempdir()) / f"escaped-{secrets.token_hex(4)}"
        with pytest.raises(Conflict) as refused:
            sandbox.process.exec(f"touch {marker}; hostname")
        assert "stopped" in refused.value.message
        with pytest.raises(Conflict):
            sandbox.fs.upload_file(b"x", str(marker))
        assert not marker.exists()
        sandbox.delete()
        # The host process that took the PID is not the sandbox's: delete left it alone.
        assert host.poll() is None
    finally:
        host.kill()
        host.wait()


def test_nothing_of_the_servers_environment_is_inside() -> None:
    secret = secrets.token_hex(16)
    server = Server(env={"AWS_SECRET_ACCESS_KEY": secret, "STRATA_TEST_SECRET": secret})
    try:
        with Strata(endpoint=server.endpoint, token=server.token) as strata:
            strata.volume.create("v")
            sandbox = strata.create(
                CreateSandboxParams(volumes=[VolumeMount("v", "/v")], env={"GREETING": "hello there"})
            )
            seen = sandbox.process.exec("cat /proc/*/environ | tr '\\0' '\\n'; env").result
            assert secret not in seen and server.token not in seen
            assert "GREETING=hello there" in seen and "HOME=/root" in seen
            # Nor in the mount processes on the host that serve its volumes.
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                    environ = Path(f"/proc/{pid}/environ").read_bytes()
                except OSError:
                    continue
                if b"mount" in cmdline and str(server.data_dir).encode() in cmdline:
                    assert secret.encode() not in environ
            sandbox.delete()
    finally:
        server.close()


def test_files_of_the_server_outside_its_data_folder_are_not_inside() -> None:
    outside = Path(tempfile.mkdtemp(prefix="strata-outside-", dir="/var/tmp"))
    key_file = outside / "tls.key"
    key_file.write_text(secrets.token_hex(16))
    in_home = Path.home() / f".strata-test-{secrets.token_hex(4)}"
    in_home.write_text("the host's home")
    server = Server(args=["--meta", f"sqlite://{outside}/meta.db", "--store", f"file://{outside}/blocks"])
    try:
        with Strata(endpoint=server.endpoint, token=server.token) as strata:
            strata.volume.create("v")
            strata.fs.put("v", "/big.bin", os.urandom(200_000))  # a block in the store
            sandbox = strata.create(CreateSandboxParams(volumes=[VolumeMount("v", "/home/w")]))
            # The root holds the image (the host's /usr), its own /etc, /root and /tmp, and
            # the volume's mount point: nothing else of the host's.
            top = set(sandbox.process.exec("ls -A /").result.split())
            assert top <= {"bin", "dev", "etc", "home", "init", "lib", "lib32", "lib64", "libx32",
                           "proc", "root", "sbin", "sys", "tmp", "usr"}, top
            for path in [outside / "meta.db", key_file, outside / "blocks", server.data_dir / "admin.token",
                         server.data_dir, "/var/tmp", "/opt", "/srv", "/etc/shadow", "/etc/ssh", in_home]:
                assert sandbox.process.exec(f"test -e '{path}'").exit_code != 0, path
            assert key_file.read_text() not in sandbox.process.exec("cat /etc/* 2>/dev/null").result
            # The init's streams lead nowhere on the host (a log file there could be filled).
            assert set(sandbox.process.exec("readlink /proc/1/fd/*").result.split()) == {"/dev/null"}
            sandbox.delete()
    finally:
        server.close()
        shutil.rmtree(outside, ignore_errors=True)
        in_home.unlink()


def test_other_mounts_of_the_host_are_not_inside_and_not_held(server: Server, strata: Strata) -> None:
    # Another organization's sandbox, its volume at a path with a space; a user's mount of
    # the host at a path with a space too, made before this sandbox.
    other = other_org(server)
    other.volume.create("theirs")
    theirs = other.create(CreateSandboxParams(volumes=[VolumeMount("theirs", "/home/my data")]))
    theirs.process.exec("echo their-secret > '/home/my data/s.txt'")
    strata.volume.create("host")
    strata.fs.put("host", "/h.txt", b"host-mount-secret")
    host_point = Path(tempfile.mkdtemp(prefix="strata host mount "))
    server.cli("mount", "host", str(host_point))
    try:
        strata.volume.create("mine")
        mine = strata.create(CreateSandboxParams(volumes=[VolumeMount("mine", "/home/w")]))
        assert fuse_points_inside(mine) == ["/home/w"]
        found = mine.process.exec("grep -rsl -e their-secret -e host-mount-secret / --exclude-dir=proc "
                                  "--exclude-dir=sys --exclude-dir=usr", timeout=120)
        assert found.result == "" and not found.timed_out
        # The sandbox never had the host's mount: unmounting it ends its process at once.
        server.cli("umount", str(host_point))
        until(lambda: not any(str(host_point) in p for p in mount_processes()), "the host mount's process ends")
        mine.delete()
    finally:
        subprocess.run(["umount", "-l", str(host_point)], capture_output=True)
        host_point.rmdir()
        theirs.delete()
        other.close()


def mount_processes() -> Iterator[str]:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if " mount " in cmdline:
            yield cmdline


def propagation_of_root() -> str:
    return subprocess.run(["findmnt", "-n", "-o", "PROPAGATION", "/"], capture_output=True, text=True).stdout.strip()


def test_a_mount_made_on_a_shared_host_mount_later_never_appears_inside(server: Server, strata: Strata) -> None:
    # systemd makes the host's mounts shared: what is mounted under a shared mount shows in
    # every copy of it that is not private.
    before = propagation_of_root()
    subprocess.run(["mount", "--make-shared", "/"], check=True)
    point = Path(tempfile.mkdtemp(prefix="strata-later-", dir="/usr/local/share"))
    try:
        strata.volume.create("v")
        sandbox = strata.create(CreateSandboxParams(volumes=[VolumeMount("v", "/home/w")]))
        sandbox.process.exec("mkdir /home/w/sub")
        under_volume = server.data_dir / "sandboxes" / sandbox.id / "mnt" / "0" / "sub"
        for target in (point, under_volume):
            subprocess.run(["mount", "-t", "tmpfs", "later", str(target)], check=True)
            (target / "later.txt").write_text("mounted later")
        assert sandbox.process.exec(f"ls -A {point}").result == ""
        assert sandbox.process.exec("ls -A /home/w/sub").result == ""
        assert "later" not in sandbox.process.exec("cat /proc/self/mountinfo").result
        subprocess.run(["umount", str(under_volume)], check=True)
        sandbox.delete()
    finally:
        subprocess.run(["umount", str(point)], capture_output=True)
        point.rmdir()
        if "private" in before:
            subprocess.run(["mount", "--make-private", "/"], check=True)


SERVE = """
import socket, sys
tcp = socket.socket(); tcp.bind(("127.0.0.1", 8080)); tcp.listen()
unix = socket.socket(socket.AF_UNIX); unix.bind("\\0strata-test"); unix.listen()
while True:
    for s in (tcp, unix):
        s.settimeout(0.05)
        try: s.accept()[0].sendall(b"served")
        except OSError: pass
"""

CONNECT = """
import socket, sys
def reach(family, address):
    s = socket.socket(family); s.settimeout(2)
    try:
        s.connect(address); return "reached"
    except OSError as e:
        return type(e).__name__
print(reach(socket.AF_INET, ("127.0.0.1", int(sys.argv[1]))), reach(socket.AF_UNIX, "\\0strata-test"))
"""


def test_a_sandbox_reaches_nothing_on_the_network(server: Server, strata: Strata) -> None:
    strata.volume.create("v")
    serving = strata.create(CreateSandboxParams(volumes=[VolumeMount("v", "/v")]))
    serving.fs.upload_file(SERVE.encode(), "/root/serve.py")
    serving.fs.upload_file(CONNECT.encode(), "/root/connect.py")
    serving.process.exec("python3 /root/serve.py > /dev/null 2>&1 &")
    until(lambda: serving.process.exec("python3 /root/connect.py 8080").result.split() == ["reached", "reached"],
          "the service answers inside its own sandbox")
    other = strata.create(CreateSandboxParams(volumes=[VolumeMount("v", "/v")]))
    other.fs.upload_file(CONNECT.encode(), "/root/connect.py")
    # Neither the other sandbox's TCP port nor its abstract socket is there.
    assert other.process.exec("python3 /root/connect.py 8080").result.split() == [
        "ConnectionRefusedError",
        "ConnectionRefusedError",
    ]
    # Nor the server, on the host's loopback.
    port = server.endpoint.rsplit(":", 1)[1]
    assert other.process.exec(f"python3 /root/connect.py {port}").result.split()[0] == "ConnectionRefusedError"
    # A loopback of its own, and no other interface.
    links = other.process.exec("ls /sys/class/net").result.split()
    assert links == ["lo"]
    # The local CLI and new sandboxes still work: nothing inside can exhaust the server.
    assert httpx.get(server.endpoint + "/v1/health").status_code == 200
    serving.delete()
    other.delete()


def test_memory_and_process_bombs_are_contained(server: Server, strata: Strata) -> None:
    strata.volume.create("v")
    small = SandboxLimits(memory_mib=64, processes=32)
    sandbox = strata.create(CreateSandboxParams(volumes=[VolumeMount("v", "/v")], limits=small))
    assert sandbox.limits.memory_mib == 64 and sandbox.limits.processes == 32
    memory = sandbox.process.exec("python3 -c 'b = bytearray(512 << 20); print(len(b))'")
    assert memory.exit_code != 0 and memory.result == ""
    forks = sandbox.process.exec("for i in $(seq 100); do sleep 30 & done; echo started", timeout=10)
    assert "fork" in forks.stderr.lower() or "resource temporarily unavailable" in forks.stderr.lower(), forks
    # The host, the server and other sandboxes go on.
    neighbour = strata.create(CreateSandboxParams(volumes=[VolumeMount("v", "/v")]))
    assert neighbour.process.exec("echo fine").result == "fine\n"
    assert subprocess.run(["true"]).returncode == 0
    # The processes the bomb left go with their sandbox.
    sandbox.delete()
    until(lambda: runc_state(server, sandbox) == {}, "the runtime forgets the sandbox")
    neighbour.delete()


def test_bad_requests_are_refused_with_4xx(server: Server, strata: Strata) -> None:
    strata.volume.create("v")
    for path, field in [("/usr", "volumes[0].mount_path"), ("/usr/local/x", "volumes[0].mount_path"),
                        ("/init", "volumes[0].mount_path"), ("/etc/x", "volumes[0].mount_path")]:
        with pytest.raises(InvalidInput) as e:
            strata.create(CreateSandboxParams(volumes=[VolumeMount("v", path)]))
        assert (e.value.status, e.value.field) == (400, field), path
    for env, field in [({"PATH": "/evil"}, "env.PATH"), ({"A B": "x"}, "env.A B"), ({"X": "a\0b"}, "env.X")]:
        with pytest.raises(InvalidInput) as e:
            strata.create(CreateSandboxParams(env=env))
        assert e.value.field == field
    for limits, field in [(SandboxLimits(memory_mib=0), "limits.memory_mib"),
                          (SandboxLimits(processes=10**9), "limits.processes")]:
        with pytest.raises(InvalidInput) as e:
            strata.create(CreateSandboxParams(limits=limits))
        assert e.value.field == field
    sandbox = strata.create(CreateSandboxParams(volumes=[VolumeMount("v", "/v")]))
    with pytest.raises(InvalidInput) as big:
        sandbox.process.exec("echo " + "x" * 1_500_000)
    assert (big.value.status, big.value.field) == (413, "command")
    # A file that never ends is refused as too large, not read for ever.
    with pytest.raises(InvalidInput) as endless:
        sandbox.fs.download_file("/dev/zero")
    assert (endless.value.status, endless.value.field) == (413, "path")
    sandbox.delete()
    assert strata.sandbox.list() == []


@pytest.fixture
def remote_host() -> Iterator[str]:
    """A host of the test's own on another network: a network namespace joined to this one by
    a veth pair (198.51.100.0/24, a documentation range), serving on port 8080."""
    ns, link = f"strata-remote-{secrets.token_hex(3)}", f"sr{secrets.token_hex(3)}"
    run = lambda *args: subprocess.run(list(args), check=True, capture_output=True)  # noqa: E731
    run("ip", "netns", "add", ns)
    server = None
    try:
        run("ip", "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", ns)
        run("ip", "addr", "add", "198.51.100.1/24", "dev", link)
        run("ip", "link", "set", link, "up")
        run("ip", "-n", ns, "addr", "add", "198.51.100.2/24", "dev", "eth0")
        run("ip", "-n", ns, "link", "set", "eth0", "up")
        run("ip", "-n", ns, "link", "set", "lo", "up")
        server = subprocess.Popen(
            ["ip", "netns", "exec", ns, "python3", "-m", "http.server", "8080", "--bind", "198.51.100.2"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def answers() -> bool:
            try:
                return httpx.get("http://198.51.100.2:8080/", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        until(answers, "the remote host serves")
        yield "198.51.100.2"
    finally:
        if server:
            server.kill()
            server.wait()
        subprocess.run(["ip", "link", "del", link], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def test_an_outbound_sandbox_reaches_other_hosts_but_not_the_hosts_loopback(
    server: Server, strata: Strata, remote_host: str
) -> None:
    strata.volume.create("v")
    outbound = strata.create(CreateSandboxParams(volumes=[VolumeMount("v", "/v")], network="outbound"))
    assert outbound.network == "outbound"
    closed = strata.create(CreateSandboxParams(volumes=[VolumeMount("v", "/v")]))
    for sandbox in (outbound, closed):
        sandbox.fs.upload_file(CONNECT.encode(), "/root/connect.py")
    fetch = f"python3 -c \"import urllib.request; print(urllib.request.urlopen('http://{remote_host}:8080/', timeout=5).status)\""
    assert outbound.process.exec(fetch).result == "200\n"
    assert closed.process.exec(fetch).exit_code != 0
    # Link-local addresses (cloud metadata services) have no route: nothing is sent.
    route = outbound.process.exec("ip route get 169.254.169.254")
    assert route.exit_code != 0 or "unreachable" in route.result or "blackhole" in route.result, route
    assert outbound.process.exec("ip -4 route show type blackhole").result.split()[0] == "blackhole"
    # The host's loopback (where the server listens) stays out of reach.
    port = server.endpoint.rsplit(":", 1)[1]
    assert outbound.process.exec(f"python3 /root/connect.py {port}").result.split()[0] != "reached"
    outbound.delete()
    closed.delete()
    # pasta ends with the sandbox's network namespace.
    until(lambda: subprocess.run(["pgrep", "-x", "pasta"], capture_output=True).returncode != 0, "pasta ends")
