#!/usr/bin/env python3
"""Times sandbox create (which returns once every volume is mounted) and delete, with 1 and
with 3 volumes, on a strata server this script starts on 127.0.0.1 with a temporary data
folder. Needs the Python SDK (`pip install ./sdk/python`) and a built strata binary
($STRATA_BIN, else $CARGO_TARGET_DIR or target/, release then debug).

    python3 bench/sandbox.py [--runs 20]
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from strata import CreateSandboxParams, Strata, VolumeMount

REPO = Path(__file__).resolve().parents[1]


def binary() -> Path:
    if os.environ.get("STRATA_BIN"):
        return Path(os.environ["STRATA_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    for profile in ("release", "debug"):
        if (target / profile / "strata").exists():
            return target / profile / "strata"
    raise SystemExit(f"no strata binary under {target}: cargo build --release -p strata-cli")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    home = Path(tempfile.mkdtemp(prefix="strata-bench-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = binary()
    server = subprocess.Popen(
        [str(exe), "server", "--data-dir", str(home / "data"), "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not (home / "data" / "endpoint").exists():
            if server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.05)
        token = (home / "data" / "admin.token").read_text().strip()
        strata = Strata(endpoint=f"http://127.0.0.1:{port}", token=token)
        volumes = [strata.volume.create(f"bench-{i}") for i in range(3)]
        print(f"strata {exe} ({exe.parent.name} build), {runs} runs each")
        print(f"{'volumes':>7} {'create p50 ms':>14} {'create p90 ms':>14} {'delete p50 ms':>14}")
        for count in (1, 3):
            params = CreateSandboxParams(
                volumes=[VolumeMount(v.id, f"/home/sandbox/v{i}") for i, v in enumerate(volumes[:count])]
            )
            creates, deletes = [], []
            for _ in range(runs):
                started = time.perf_counter()
                sandbox = strata.create(params)
                creates.append((time.perf_counter() - started) * 1000)
                assert sandbox.process.exec("true").exit_code == 0
                started = time.perf_counter()
                sandbox.delete()
                deletes.append((time.perf_counter() - started) * 1000)
            creates.sort()
            p90 = creates[int(len(creates) * 0.9) - 1]
            print(f"{count:>7} {statistics.median(creates):>14.1f} {p90:>14.1f} {statistics.median(deletes):>14.1f}")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
