"""A strata server of a bench script's own: the built binary on a free 127.0.0.1 port with
a temporary data folder, stopped and removed however the script ends."""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator, NamedTuple

REPO = Path(__file__).resolve().parents[1]


def binary() -> Path:
    """$STRATA_BIN, else strata under $CARGO_TARGET_DIR or target/, release then debug."""
    if os.environ.get("STRATA_BIN"):
        return Path(os.environ["STRATA_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    for profile in ("release", "debug"):
        if (target / profile / "strata").exists():
            return target / profile / "strata"
    raise SystemExit(f"no strata binary under {target}: cargo build --release -p strata-cli")


class Server(NamedTuple):
    exe: Path
    process: subprocess.Popen  # type: ignore[type-arg]
    home: Path
    port: int
    token: str

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def local_server() -> Iterator[Server]:
    home = Path(tempfile.mkdtemp(prefix="strata-bench-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = binary()
    process = subprocess.Popen(
        [str(exe), "server", "--data-dir", str(home / "data"), "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not (home / "data" / "endpoint").exists():
            if process.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.05)
        token = (home / "data" / "admin.token").read_text().strip()
        yield Server(exe, process, home, port, token)
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(home, ignore_errors=True)
