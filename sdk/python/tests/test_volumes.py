"""The SDK's volumes, forks, snapshots, files and errors against a real server."""

from __future__ import annotations

import json

import pytest
from conftest import Server

from strata import AlreadyExists, Conflict, InvalidInput, NotFound, PermissionDenied, QuotaExceeded, Strata, Unauthorized


def test_volume_lifecycle(strata: Strata) -> None:
    created = strata.volume.create("my-awesome-volume")
    assert created.name == "my-awesome-volume" and created.state == "ready"
    assert strata.volume.get("my-awesome-volume").id == created.id
    assert strata.volume.get(created.id).name == "my-awesome-volume"
    assert strata.volume.get("my-awesome-volume", create=True).id == created.id
    fresh = strata.volume.get("fresh", create=True)
    assert fresh.id != created.id
    assert sorted(v.name for v in strata.volume.list()) == ["fresh", "my-awesome-volume"]
    strata.volume.delete(created)
    with pytest.raises(NotFound) as e:
        strata.volume.get("my-awesome-volume")
    assert "not found" in e.value.message and e.value.status == 404


def test_a_quota_refuses_what_would_pass_it(strata: Strata) -> None:
    volume = strata.volume.create("bounded")
    set = strata.volume.set_quota(volume, bytes=1000, files=2)
    assert (set.quota_bytes, set.quota_files) == (1000, 2)
    assert strata.volume.get("bounded").quota_bytes == 1000
    strata.fs.put(volume, "/a", b"x" * 600)
    with pytest.raises(QuotaExceeded) as e:
        strata.fs.put(volume, "/b", b"y" * 600)
    assert isinstance(e.value, PermissionDenied) and e.value.field == "quota" and e.value.status == 403
    assert strata.fs.get(volume, "/a") == b"x" * 600
    lifted = strata.volume.set_quota(volume)
    assert lifted.quota_bytes is None and lifted.quota_files is None
    strata.fs.put(volume, "/b", b"y" * 600)


def test_a_read_with_a_limit_gets_the_first_bytes(strata: Strata) -> None:
    volume = strata.volume.create("prefixed")
    data = bytes(i * 7 % 251 for i in range(3 << 20))
    strata.fs.put(volume, "/big", data)
    assert strata.fs.get(volume, "/big", limit=1000) == data[:1000]
    assert strata.fs.get(volume, "/big", limit=0) == b""
    assert strata.fs.get(volume, "/big", limit=10 << 20) == data
    with pytest.raises(NotFound):
        strata.fs.get(volume, "/missing", limit=10)


def test_an_organization_quota_bounds_its_volumes_together(strata: Strata) -> None:
    first, second = strata.volume.create("first"), strata.volume.create("second")
    strata.fs.put(first, "/a", b"x" * 600)
    org = strata.org.get()
    set = strata.org.set_quota(org.name, bytes=1000)
    assert (set.quota_bytes, set.used_bytes) == (1000, 600)
    with pytest.raises(QuotaExceeded) as e:
        strata.fs.put(second, "/b", b"y" * 600)
    assert "organization" in e.value.message
    with pytest.raises(QuotaExceeded):
        strata.fork(first, "copy")
    assert strata.org.get().used_bytes == 600
    strata.org.set_quota(org.name)
    strata.fork(first, "copy")
    assert strata.org.get(org.name).used_bytes == 1200


def test_an_organization_encrypts_and_a_volume_chooses_its_compression() -> None:
    server = Server(env={"STRATA_MASTER_KEY": "ab" * 32})
    try:
        with Strata(endpoint=server.endpoint, token=server.token) as strata:
            assert strata.org.get().data_key is None
            assert strata.org.encrypt("default").data_key == 1
            volume = strata.volume.create("v")
            assert strata.volume.set_compression(volume, "off").compression == "off"
            with pytest.raises(InvalidInput) as e:
                strata.volume.set_compression(volume, "lz4")
            assert e.value.field == "compression"
            data = b"not compressed: " * 20_000
            strata.fs.put(volume, "/a", data)
            usage = strata.volume.usage(volume)
            assert (usage.blocks, usage.bytes) == (1, len(data)) and usage.stored_bytes > len(data)
            assert strata.org.rotate_key("default").data_key == 2
            assert strata.org.reencrypt("default") == {"data_key": 2, "rewritten": 1, "current": 0}
            assert strata.fs.get(volume, "/a") == data
    finally:
        server.close()


def test_errors_are_typed_and_carry_the_servers_message(strata: Strata) -> None:
    strata.volume.create("data")
    with pytest.raises(AlreadyExists) as exists:
        strata.volume.create("data")
    assert isinstance(exists.value, Conflict) and "already exists" in exists.value.message
    for bad in ["../etc", "UPPER", "a/b", "x" * 300, "caf\u00e9", "nul\0"]:
        with pytest.raises(InvalidInput) as invalid:
            strata.volume.create(bad)
        assert invalid.value.field == "name", bad
    with pytest.raises(InvalidInput) as path:
        strata.fs.put("data", "relative/path", b"x")
    assert path.value.field == "path"
    with pytest.raises(Unauthorized):
        Strata(endpoint=strata.endpoint, token="stk_" + "0" * 64).volume.list()


def test_files_forks_and_snapshots(strata: Strata) -> None:
    strata.volume.create("work")
    strata.fs.put("work", "/src/main.rs", b"fn main() {}\n")
    assert strata.fs.get("work", "/src/main.rs") == b"fn main() {}\n"
    assert [e["name"] for e in strata.fs.list("work", "/src")] == ["main.rs"]

    strata.snapshot.create("work", "before")
    assert [s.name for s in strata.snapshot.list("work")] == ["work@before"]
    strata.fs.put("work", "/src/main.rs", b"broken")
    fork = strata.fork("work@before", "retry")
    assert strata.fs.get(fork, "/src/main.rs") == b"fn main() {}\n"
    strata.snapshot.restore("work", "before")
    assert strata.fs.get("work", "/src/main.rs") == b"fn main() {}\n"
    strata.snapshot.delete("work", "before")
    assert strata.snapshot.list("work") == []
    with pytest.raises(NotFound):
        strata.snapshot.delete("work", "before")


def test_the_client_finds_the_server_like_the_cli(server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("STRATA_ENDPOINT", raising=False)
    monkeypatch.delenv("STRATA_TOKEN", raising=False)
    # The local server's address and admin key, as it wrote them to its data folder.
    local = Strata()
    assert local.endpoint == server.endpoint
    local.volume.create("found")
    # The environment wins over the files.
    monkeypatch.setenv("STRATA_TOKEN", "stk_" + "1" * 64)
    with pytest.raises(Unauthorized):
        Strata().volume.list()
    monkeypatch.delenv("STRATA_TOKEN")
    # The current context of the CLI's config file: its endpoint, key and volume.
    server.cli("ctx", "create", "mine", "--volume", "found")
    server.cli("ctx", "use", "mine")
    config = json.loads((server.config_dir / "config.json").read_text())
    assert config["current_context"] == "mine" and config["contexts"]["mine"]["token"] == server.token
    monkeypatch.setenv("STRATA_DATA_DIR", str(server.home / "elsewhere"))
    from_context = Strata()
    assert from_context.endpoint == server.endpoint and from_context.context_volume == "found"
    assert [v.name for v in from_context.volume.list()] == ["found"]
    # An endpoint that does not answer is Unavailable, naming it.
    monkeypatch.setenv("STRATA_ENDPOINT", "http://127.0.0.1:9")
    from strata import Unavailable

    with pytest.raises(Unavailable) as down:
        Strata().volume.list()
    assert "127.0.0.1:9" in down.value.message


def test_history_restore_promote_and_merge(strata: Strata) -> None:
    work = strata.volume.create("history")
    strata.fs.put(work, "/a.txt", b"one")
    strata.fs.put(work, "/b.txt", b"bee")
    points = strata.volume.history(work)
    assert points and points[0].changes >= 1 and points[0].bytes >= 3
    before = points[-1].before_time
    strata.fs.put(work, "/a.txt", b"two")
    then = strata.volume.at("history", "-0s")
    assert then.name.startswith("history@") and then.moment_at is not None
    assert strata.fs.get(then, "/a.txt") == b"two"
    restored = strata.volume.restore(work, to=before)
    assert restored.id == work.id and restored.file_count == 0
    with pytest.raises(InvalidInput) as bad:
        strata.volume.restore(work, to="yesterday")
    assert bad.value.field == "to"
    off = strata.volume.set_history(work, "0")
    assert off.history_ns == 0
    with pytest.raises(InvalidInput) as none:
        strata.volume.at("history", "-1s")
    assert none.value.field == "time"

    base = strata.volume.create("base")
    strata.fs.put(base, "/shared.txt", b"base")
    fork = strata.fork(base, "base-fork")
    assert fork.forked_from == base.id
    strata.fs.put(fork, "/shared.txt", b"fork")
    strata.fs.put(base, "/shared.txt", b"volume")
    strata.fs.put(fork, "/new.txt", b"new")
    dry = strata.merge(fork, dry_run=True)
    assert [c.path for c in dry.conflicts] == ["/shared.txt"] and not dry.applied
    assert dry.conflicts[0].fork == "changed" and dry.conflicts[0].volume == "changed"
    merged = strata.merge(fork, prefer="fork")
    assert merged.applied and strata.fs.get(base, "/shared.txt") == b"fork"
    assert strata.fs.get(base, "/new.txt") == b"new"
    strata.fs.put(fork, "/only-fork.txt", b"x")
    promoted = strata.promote(fork)
    assert promoted.id == base.id and promoted.name == "base"
    assert strata.fs.get(base, "/only-fork.txt") == b"x"
    kept = [s.name for s in strata.snapshot.list(base)]
    assert len(kept) == 1 and kept[0].startswith("base@before-promote-")
