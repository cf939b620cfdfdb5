"""Two tenants on one volume, each through its own subpath: neither can reach the other's
files by any path (`../bob`, absolute paths from /proc/mounts, symlinks)."""

from strata import CreateSandboxParams, Strata, VolumeMount

strata = Strata()
# A fresh start: the volume an earlier run of this example left goes first.
for old in strata.volume.list():
    if old.name == "tenants":
        strata.volume.delete(old)
volume = strata.volume.create("tenants")
mount_dir = "/home/sandbox/data"


def tenant(name: str):  # type: ignore[no-untyped-def]
    return strata.create(
        CreateSandboxParams(volumes=[VolumeMount(volume_id=volume.id, mount_path=mount_dir, subpath=f"users/{name}")])
    )


# Each `with` deletes its sandbox when the block ends, failing or not.
with tenant("alice") as alice, tenant("bob") as bob:
    alice.fs.upload_file(b"alice's data", f"{mount_dir}/notes.txt")
    bob.fs.upload_file(b"bob's data", f"{mount_dir}/notes.txt")

    # Each sees only its own folder as the volume root.
    assert alice.fs.download_file(f"{mount_dir}/notes.txt") == b"alice's data"
    assert bob.fs.download_file(f"{mount_dir}/notes.txt") == b"bob's data"
    assert alice.process.exec(f"ls -A {mount_dir}").result.split() == ["notes.txt"]

    # `..` stays inside the sandbox's own tree: it never reaches bob's folder.
    up = alice.process.exec(f"cat {mount_dir}/../bob/notes.txt")
    assert "bob's data" not in up.result and up.exit_code != 0, up
    assert "bob" not in alice.process.exec(f"ls -A {mount_dir}/..").result

    # Every FUSE mount the sandbox's mount table lists (its own, and nothing of the host's):
    # none shows bob's data.
    points = alice.process.exec("awk '$3 ~ /^fuse/ {print $2}' /proc/mounts").result.split()
    assert mount_dir in points, points
    for point in points:
        seen = alice.process.exec(f"grep -rs \"bob's data\" '{point}' | head -1", timeout=30)
        assert "bob's data" not in seen.result, point

    # A symlink to where bob's folder is on the volume resolves inside alice's sandbox.
    link = alice.process.exec(
        f"ln -s ../bob {mount_dir}/bob && ln -s /users/bob {mount_dir}/abs && "
        f"cat {mount_dir}/bob/notes.txt {mount_dir}/abs/notes.txt"
    )
    assert "bob's data" not in link.result and link.exit_code != 0, link

    # The whole volume, seen from outside the sandboxes, holds both.
    assert strata.fs.get(volume, "/users/bob/notes.txt") == b"bob's data"
    print("tenants isolated")
