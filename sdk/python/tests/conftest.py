"""Fixtures: a real `strata server` on a free 127.0.0.1 port with a temporary data folder.

The binary is `$STRATA_BIN`, else `strata` under `$CARGO_TARGET_DIR` (or the repository's
`target/`), debug build first, then release.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO = Path(__file__).resolve().parents[3]


def strata_binary() -> Path:
    if os.environ.get("STRATA_BIN"):
        return Path(os.environ["STRATA_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    for profile in ("debug", "release"):
        candidate = target / profile / "strata"
        if candidate.exists():
            return candidate
    raise RuntimeError(f"no strata binary under {target}: cargo build -p strata-cli first")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A strata server process and what a client needs to reach it."""

    def __init__(self, args: List[str] = [], env: Optional[Dict[str, str]] = None) -> None:
        self.args, self.extra_env = list(args), dict(env or {})
        self.binary = strata_binary()
        self.home = Path(tempfile.mkdtemp(prefix="strata-sdk-"))
        self.data_dir = self.home / "data"
        self.config_dir = self.home / "config"
        self.endpoint = ""
        self.process: Optional[subprocess.Popen] = None
        self.start()

    def start(self) -> None:
        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        log = open(self.home / "server.log", "ab")
        self.process = subprocess.Popen(
            [str(self.binary), "server", "--data-dir", str(self.data_dir), "--listen", f"127.0.0.1:{port}", *self.args],
            stdout=log,
            stderr=log,
            env={**os.environ, "STRATA_LOG": "info", **self.extra_env},
        )
        # Ready when it wrote its endpoint file and answers; a dead process fails at once.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"strata server exited: {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    if (self.data_dir / "endpoint").exists():
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("strata server did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=60)

    @property
    def token(self) -> str:
        return (self.data_dir / "admin.token").read_text().strip()

    def env(self) -> Dict[str, str]:
        """An environment where clients find this server only through its files."""
        env = {k: v for k, v in os.environ.items() if k not in ("STRATA_ENDPOINT", "STRATA_TOKEN")}
        env.update(STRATA_DATA_DIR=str(self.data_dir), STRATA_CONFIG_DIR=str(self.config_dir))
        return env

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {**self.env(), "STRATA_ENDPOINT": self.endpoint, "STRATA_TOKEN": self.token}
        result = subprocess.run([str(self.binary), *args], env=env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"strata {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def log(self) -> str:
        return (self.home / "server.log").read_text(errors="replace")

    def close(self) -> None:
        for sandbox in self._sandboxes():
            self.cli("sandbox", "delete", sandbox, check=False)
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def _sandboxes(self) -> List[str]:
        if not self.process or self.process.poll() is not None:
            return []
        import json

        result = self.cli("sandbox", "list", "--json", check=False)
        return [s["id"] for s in json.loads(result.stdout or "[]")]


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def strata(server: Server):  # type: ignore[no-untyped-def]
    from strata import Strata

    with Strata(endpoint=server.endpoint, token=server.token) as client:
        yield client
