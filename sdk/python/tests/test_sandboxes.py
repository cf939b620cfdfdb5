"""Sandboxes through the SDK and the CLI against a real server, a real container runtime
(runc) and real FUSE mounts."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from conftest import Server, strata_binary
from strata import (
    Conflict,
    CreateSandboxParams,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SandboxLimits,
    Strata,
    VolumeMount,
)


def fuse_mounts_under(folder: Path) -> list:  # type: ignore[type-arg]
    table = Path("/proc/self/mountinfo").read_text().splitlines()
    return [line.split()[4] for line in table if line.split()[4].startswith(str(folder))]


def test_a_sandbox_has_its_own_namespaces_home_and_tmp(server: Server, strata: Strata) -> None:
    volume = strata.volume.create("work")
    sandbox = strata.create(CreateSandboxParams(volumes=[VolumeMount(volume_id="work", mount_path="/home/w")]))
    assert sandbox.state == "running" and sandbox.volumes[0].volume_id == volume.id
    assert strata.sandbox.get(sandbox.id).volumes[0].mount_path == "/home/w"
    run = sandbox.process.exec
    # Its own PID namespace (nothing runs but its init, the init's idle child and this
    # command), its own host name, an empty /tmp, a writable home.
    assert set(run("ps -e -o comm=").result.split()) == {"init", "sleep", "timeout", "sh", "ps"}
    assert run("hostname").result.strip() != os.uname().nodename
    assert run("ls -A /tmp").result == ""
    # The usual file mode mask, whatever the server's own (077).
    assert run("umask").result == "0022\n"
    assert run("echo hi > ~/f && cat ~/f && pwd").result.split() == ["hi", "/root"]
    # The host's root is read-only; the server's data folder and key are out of sight.
    denied = run("touch /usr/strata-test")
    assert denied.exit_code != 0 and "Read-only file system" in denied.stderr
    assert run(f"cat {server.data_dir}/admin.token").exit_code != 0
    assert server.token not in run(f"cat {server.data_dir}/admin.token 2>&1; ls -R {server.data_dir} 2>&1").result
    # No capabilities: not even root inside may mount or unmount.
    assert run("umount /home/w").exit_code != 0
    # Exit codes, standard error, output limits and timeouts.
    failed = run("echo out; echo err >&2; exit 7")
    assert (failed.exit_code, failed.result, failed.stderr) == (7, "out\n", "err\n")
    big = run("head -c 3000000 /dev/zero")
    assert big.truncated and len(big.result) == 1 << 20
    slow = sandbox.process.exec("sleep 30", timeout=1)
    assert slow.timed_out and slow.exit_code == 124
    # A process left running in the background does not hold the exec until its timeout.
    started = time.monotonic()
    background = sandbox.process.exec("(sleep 30 &); echo started", timeout=20)
    assert background.result == "started\n" and time.monotonic() - started < 10
    # What the sandbox writes to its volume is in the volume.
    run("mkdir -p /home/w/src && echo 'fn main() {}' > /home/w/src/main.rs")
    sandbox.delete()
    assert strata.fs.get("work", "/src/main.rs") == b"fn main() {}\n"
    with pytest.raises(NotFound):
        strata.sandbox.get(sandbox.id)
    assert fuse_mounts_under(server.data_dir) == []


def test_upload_and_download_anywhere_inside(strata: Strata) -> None:
    strata.volume.create("v")
    sandbox = strata.create(CreateSandboxParams(volumes=[VolumeMount("v", "/data/v")]))
    payload = bytes(range(256)) * 1000
    sandbox.fs.upload_file(payload, "/root/deep/er/blob.bin")
    assert sandbox.fs.download_file("/root/deep/er/blob.bin") == payload
    sandbox.fs.upload_file(b"tmp", "/tmp/x/y.txt")
    assert sandbox.process.exec("cat /tmp/x/y.txt").result == "tmp"
    sandbox.fs.upload_file(b"on the volume", "/data/v/a/b.txt")
    assert strata.fs.get("v", "/a/b.txt") == b"on the volume"
    with pytest.raises(PermissionDenied):
        sandbox.fs.upload_file(b"x", "/usr/bin/evil")
    with pytest.raises(NotFound):
        sandbox.fs.download_file("/root/missing")
    for hostile in ["relative", "/a/../etc/passwd", "/a//b", "/a\0b", "/" + "n" * 300, "/"]:
        with pytest.raises(InvalidInput) as e:
            sandbox.fs.upload_file(b"x", hostile)
        assert e.value.field == "path", hostile
    sandbox.delete()


def test_hostile_sandbox_requests_are_refused_naming_the_field(server: Server, strata: Strata) -> None:
    strata.volume.create("v")
    cases = [
        (VolumeMount("v", "/"), "volumes[0].mount_path"),
        (VolumeMount("v", "relative"), "volumes[0].mount_path"),
        (VolumeMount("v", "/proc/x"), "volumes[0].mount_path"),
        (VolumeMount("v", "/etc"), "volumes[0].mount_path"),
        (VolumeMount("v", "/a/../etc"), "volumes[0].mount_path"),
        (VolumeMount("v", "/a//b"), "volumes[0].mount_path"),
        (VolumeMount("v", "/a\0"), "volumes[0].mount_path"),
        (VolumeMount("v", "/ok", subpath="../bob"), "volumes[0].subpath"),
        (VolumeMount("v", "/ok", subpath="/abs"), "volumes[0].subpath"),
        (VolumeMount("../v", "/ok"), "volumes[0].volume_id"),
    ]
    for mount, field in cases:
        with pytest.raises(InvalidInput) as e:
            strata.create(CreateSandboxParams(volumes=[mount]))
        assert e.value.field == field, (mount, e.value.message)
    with pytest.raises(InvalidInput) as overlap:
        strata.create(CreateSandboxParams(volumes=[VolumeMount("v", "/a"), VolumeMount("v", "/a/b")]))
    assert overlap.value.field == "volumes[1].mount_path"
    with pytest.raises(NotFound) as missing:
        strata.create(CreateSandboxParams(volumes=[VolumeMount("missing", "/m")]))
    assert missing.value.field == "volumes[0].volume_id"
    for bad_id in ["..", "not-a-uuid", "%2e%2e"]:
        with pytest.raises(InvalidInput):
            strata.sandbox.get(bad_id)
    # Nothing was left behind by the refused requests.
    assert strata.sandbox.list() == []
    assert fuse_mounts_under(server.data_dir) == []


def test_a_volume_in_use_by_a_sandbox_is_not_deleted(strata: Strata) -> None:
    strata.volume.create("busy")
    sandbox = strata.create(CreateSandboxParams(volumes=[VolumeMount("busy", "/b")]))
    for force in (False, True):
        with pytest.raises(Conflict) as e:
            strata.volume.delete("busy", force=force)
        assert sandbox.id in e.value.message and e.value.status == 409
    sandbox.delete()
    strata.volume.delete("busy")


def test_a_mount_gets_a_key_for_its_volume_folder_only(server: Server, strata: Strata) -> None:
    strata.volume.create("tenants")
    strata.fs.put("tenants", "/users/bob/secret.txt", b"bob")
    sandbox = strata.create(CreateSandboxParams(volumes=[VolumeMount("tenants", "/d", subpath="users/alice")]))
    keys = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"mount" in cmdline and str(server.data_dir).encode() in b" ".join(cmdline):
            keys |= {e.split(b"=", 1)[1].decode() for e in environ if e.startswith(b"STRATA_TOKEN=")}
    assert len(keys) == 1 and server.token not in keys
    key = keys.pop()
    api = httpx.Client(base_url=server.endpoint + "/v1", headers={"Authorization": f"Bearer {key}"})
    # A scoped token: its paths start at its folder, and nothing but that folder's files and
    # mount sessions is open to it.
    assert api.get("/volumes").status_code == 403
    assert api.post("/sandboxes", json={"volumes": []}).status_code == 403
    assert api.post("/volumes/tenants/fork", json={"name": "copy"}).status_code == 403
    assert api.get("/volumes/tenants/fs/content", params={"path": "/users/bob/secret.txt"}).status_code == 404
    assert api.get("/volumes/tenants/fs/content", params={"path": "/../bob/secret.txt"}).status_code == 400
    own = api.post("/volumes/tenants/sessions", json={"subpath": "", "read_only": False})
    assert own.status_code == 201, own.text
    root = own.json()["root"]["node"]
    listing = api.post(f"/sessions/{own.json()['id']}/readdir", json={"node": root})
    assert listing.status_code == 200 and "secret.txt" not in listing.text
    api.delete(f"/sessions/{own.json()['id']}")
    sandbox.delete()
    # The key goes with the sandbox.
    assert api.post("/volumes/tenants/sessions", json={"subpath": "users/alice"}).status_code == 401


def test_a_restarted_server_reports_lost_sandboxes_and_nothing_stays_mounted(server: Server) -> None:
    server.cli("volume", "create", "work")
    sandbox_id = server.cli("sandbox", "create", "--volume", "work:/home/w").stdout.strip()
    assert len(fuse_mounts_under(server.data_dir)) == 1
    server.stop(signal.SIGKILL)
    server.start()
    lost = json.loads(server.cli("sandbox", "get", sandbox_id, "--json").stdout)
    assert lost["state"] == "lost"
    assert fuse_mounts_under(server.data_dir) == []
    done = server.cli("sandbox", "exec", sandbox_id, "true", check=False)
    assert done.returncode == 4 and "lost" in done.stderr
    server.cli("sandbox", "delete", sandbox_id)
    assert json.loads(server.cli("sandbox", "list", "--json").stdout) == []
    # A server that is stopped unmounts its sandboxes' volumes before it ends.
    sandbox_id = server.cli("sandbox", "create", "--volume", "work:/home/w").stdout.strip()
    assert len(fuse_mounts_under(server.data_dir)) == 1
    server.stop(signal.SIGTERM)
    assert fuse_mounts_under(server.data_dir) == []
    server.start()
    assert json.loads(server.cli("sandbox", "get", sandbox_id, "--json").stdout)["state"] == "lost"
    # Its volume's mount closed its session on the way out: the volume can go at once.
    server.cli("sandbox", "delete", sandbox_id)
    server.cli("volume", "delete", "work")


def test_the_cli_drives_sandboxes(server: Server) -> None:
    server.cli("volume", "create", "tenants")
    created = json.loads(
        server.cli(
            "sandbox", "create", "--volume", "tenants:users/alice:/data", "--read-only-volume", "tenants:/all", "--json"
        ).stdout
    )
    vols = {v["mount_path"]: v for v in created["volumes"]}
    assert vols["/data"]["subpath"] == "users/alice" and not vols["/data"]["read_only"]
    assert vols["/all"]["read_only"] and "subpath" not in vols["/all"]
    sid = created["id"]
    assert server.cli("sandbox", "exec", sid, "echo hi > /data/x && cat /all/users/alice/x").stdout == "hi\n"
    # Output past the limit, and a timeout, are said on standard error.
    cut = server.cli("sandbox", "exec", sid, "head -c 3000000 /dev/zero; true", check=False)
    assert cut.returncode == 0 and len(cut.stdout) == 1 << 20 and "cut at 1 MiB" in cut.stderr
    slow = server.cli("sandbox", "exec", sid, "--timeout", "1", "sleep 20", check=False)
    assert slow.returncode == 124 and "killed after --timeout 1 seconds" in slow.stderr
    failed = server.cli("sandbox", "exec", sid, "echo oops >&2; exit 3", check=False)
    assert (failed.returncode, failed.stderr) == (3, "oops\n")
    bad = server.cli("sandbox", "create", "--volume", "tenants:data", check=False)
    assert bad.returncode == 2 and "--volume" in bad.stderr
    bad = server.cli("sandbox", "create", "--volume", "tenants:/etc/x", check=False)
    assert bad.returncode == 2 and "/etc" in bad.stderr
    assert server.cli("sandbox", "get", "nope", check=False).returncode == 2
    server.cli("sandbox", "delete", sid)
    assert server.cli("sandbox", "get", sid, check=False).returncode == 3


def minimal_image(root: Path) -> None:
    """A root file system of a few programs and the libraries they load, copied from the host
    (merged /usr: /bin, /lib and /lib64 are links into it)."""
    (root / "usr/bin").mkdir(parents=True)
    libraries = set()
    for name in IMAGE_PROGRAMS:
        program = Path(shutil.which(name) or "").resolve()
        shutil.copy2(program, root / "usr/bin" / name)
        for line in subprocess.run(["ldd", str(program)], capture_output=True, text=True).stdout.splitlines():
            libraries |= {Path(w) for w in line.split() if w.startswith("/")}
    for library in libraries:
        # /lib/x86_64-linux-gnu/libc.so.6 -> usr/lib/x86_64-linux-gnu/libc.so.6
        rel = library.relative_to("/")
        target = root / (rel if rel.parts[0] == "usr" else Path("usr") / rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(library.resolve(), target)
    for link in ("bin", "lib", "lib64"):
        (root / "usr" / link).mkdir(exist_ok=True)
        (root / link).symlink_to(f"usr/{link}")
    (root / "etc").mkdir()
    (root / "etc/strata-image").write_text("a root of my own\n")


IMAGE_PROGRAMS = ["sh", "sleep", "timeout", "cat", "head", "mkdir", "dirname", "ls"]


def test_a_server_runs_sandboxes_on_the_image_it_is_given() -> None:
    image = Path(tempfile.mkdtemp(prefix="strata-image-"))
    try:
        minimal_image(image)
        server = Server(args=["--sandbox-image", str(image)])
        try:
            with Strata(endpoint=server.endpoint, token=server.token) as strata:
                strata.volume.create("v")
                sandbox = strata.create(CreateSandboxParams(volumes=[VolumeMount("v", "/data")]))
                assert sandbox.process.exec("cat /etc/strata-image").result == "a root of my own\n"
                # Its programs and nothing of the host's /usr.
                assert sandbox.process.exec("ls /usr/bin").result.split() == sorted(IMAGE_PROGRAMS)
                sandbox.fs.upload_file(b"on the volume", "/data/f")
                assert strata.fs.get("v", "/f") == b"on the volume"
                # The image's folders are read-only inside and no volume covers them.
                assert sandbox.process.exec("echo x > /usr/bin/new").exit_code != 0
                with pytest.raises(InvalidInput) as e:
                    strata.create(CreateSandboxParams(volumes=[VolumeMount("v", "/lib64/x")]))
                assert e.value.field == "volumes[0].mount_path"
                sandbox.delete()
        finally:
            server.close()
        assert not (image / "usr/bin/new").exists() and sorted(p.name for p in image.iterdir()) == [
            "bin", "etc", "lib", "lib64", "usr"]
    finally:
        shutil.rmtree(image)
    # A folder that is no root file system stops the server at start, saying why.
    empty = Path(tempfile.mkdtemp(prefix="strata-image-"))
    try:
        out = subprocess.run([str(strata_binary()), "server", "--data-dir", str(empty / "data"),
                              "--listen", "127.0.0.1:0", "--sandbox-image", str(empty)],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode != 0 and "usr/bin" in out.stderr, out.stderr
    finally:
        shutil.rmtree(empty)


def test_commands_leave_nothing_behind_but_what_they_leave_running(strata: Strata) -> None:
    strata.volume.create("v")
    sandbox = strata.create(
        CreateSandboxParams(volumes=[VolumeMount("v", "/v")], limits=SandboxLimits(processes=16))
    )
    # More commands than the sandbox may have processes: none stays behind, not even as a
    # zombie, so none counts against the limit.
    for i in range(40):
        assert sandbox.process.exec(f"echo {i}").result == f"{i}\n"
    assert sorted(sandbox.process.exec("ps -e -o comm=").result.split()) == ["init", "ps", "sh", "sleep", "timeout"]
    # What a command leaves running goes on, under the sandbox's init, until the sandbox goes.
    sandbox.process.exec("sleep 300 > /dev/null 2>&1 &")
    assert sandbox.process.exec("ps -o ppid= -C sleep").result.split() == ["1", "1"]
    sandbox.delete()
