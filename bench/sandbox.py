#!/usr/bin/env python3
"""Times sandbox create (which returns once every volume is mounted) and delete, with 1 and
with 3 volumes, on a strata server this script starts on 127.0.0.1 with a temporary data
folder. Needs the Python SDK (`pip install ./sdk/python`) and a built strata binary
($STRATA_BIN, else $CARGO_TARGET_DIR or target/, release then debug).

    python3 bench/sandbox.py [--runs 20]
"""

import argparse
import statistics
import time

from local_server import local_server
from strata import CreateSandboxParams, Strata, VolumeMount

def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    with local_server() as server:
        exe = server.exe
        strata = Strata(endpoint=server.endpoint, token=server.token)
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


if __name__ == "__main__":
    main()
