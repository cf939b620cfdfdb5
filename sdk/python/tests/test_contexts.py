"""`strata ctx`: contexts in the CLI's config file, and the SDK following the current one."""

from __future__ import annotations

import json

from conftest import Server
from strata import Strata


def test_contexts_create_use_fork_and_delete(server: Server) -> None:
    server.cli("volume", "create", "work")
    server.cli("ctx", "create", "dev", "--volume", "work")
    assert server.cli("ctx", "create", "dev", "--volume", "work", check=False).returncode == 4
    bad = server.cli("ctx", "create", "../x", "--volume", "work", check=False)
    assert bad.returncode == 2 and "context" in bad.stderr
    assert server.cli("ctx", "use", "missing", check=False).returncode == 3
    no_current = server.cli("ctx", "fork", "try", check=False)
    assert no_current.returncode == 2 and "ctx use" in no_current.stderr

    server.cli("ctx", "use", "dev")
    server.cli("ctx", "fork", "try")
    listed = json.loads(server.cli("ctx", "list", "--json").stdout)
    assert [(c["name"], c["volume"], c["current"]) for c in listed] == [("dev", "work", True), ("try", "try", False)]
    # Keys never show in listings, but they are kept for the context's endpoint.
    assert server.token not in server.cli("ctx", "list", "--json").stdout
    assert server.token not in server.cli("ctx", "list").stdout
    assert json.loads(server.cli("volume", "get", "try", "--json").stdout)["name"] == "try"

    server.cli("ctx", "use", "try")
    env = {**server.env()}
    import os

    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        os.environ["STRATA_DATA_DIR"] = str(server.home / "nowhere")
        client = Strata()
        assert client.endpoint == server.endpoint and client.context_volume == "try"
        assert {v.name for v in client.volume.list()} == {"work", "try"}
    finally:
        os.environ.clear()
        os.environ.update(saved)

    server.cli("ctx", "delete", "try")
    listed = json.loads(server.cli("ctx", "list", "--json").stdout)
    assert [c["name"] for c in listed] == ["dev"] and not listed[0]["current"]
    assert server.cli("ctx", "delete", "try", check=False).returncode == 3
