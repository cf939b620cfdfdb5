"""Every program in examples/ runs as written against a real server and succeeds, twice in a
row (each cleans up after itself, and finds what a run before it left)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, Server

EXAMPLES = REPO / "examples"


def run_example(server: Server, command: list) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    env = {**server.env(), "STRATA_ENDPOINT": server.endpoint, "STRATA_TOKEN": server.token}
    env["PATH"] = f"{server.binary.parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("name", sorted(p.name for p in (EXAMPLES / "python").glob("*.py")))
def test_python_example(server: Server, name: str) -> None:
    for run in (1, 2):
        done = run_example(server, [sys.executable, str(EXAMPLES / "python" / name)])
        assert done.returncode == 0, f"{name}, run {run}:\n{done.stdout}\n{done.stderr}"
        # Every example deletes its sandboxes.
        assert server.cli("sandbox", "list", "--json").stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(p.name for p in (EXAMPLES / "shell").glob("*.sh")))
def test_shell_example(server: Server, name: str) -> None:
    for run in (1, 2):
        done = run_example(server, ["bash", str(EXAMPLES / "shell" / name)])
        assert done.returncode == 0, f"{name}, run {run}:\n{done.stdout}\n{done.stderr}"
        assert server.cli("sandbox", "list", "--json").stdout.strip() == "[]"
