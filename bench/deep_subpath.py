#!/usr/bin/env python3
"""Server CPU per `getattr` of a subpath mount session at the bottom of a deep tree: every
call checks that the inode still lies below the session's folder. Builds a tree DEPTH
folders deep through the files API on a server this script starts (127.0.0.1, temporary
data folder), walks a session of its top folder down to the bottom, then times getattr.

    python3 bench/deep_subpath.py [--depth 11500] [--calls 200]
"""

import argparse
import json
import os
import time
import urllib.request
from pathlib import Path

from local_server import local_server

def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--depth", type=int, default=11500)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    with local_server() as server:
        exe, token = server.exe, server.token
        base = f"{server.endpoint}/v1"

        def post(path: str, body: dict) -> dict:  # type: ignore[type-arg]
            req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            with urllib.request.urlopen(req) as r:
                return json.loads(r.read() or b"{}")

        post("/volumes", {"name": "v"})
        whole = post("/volumes/v/sessions", {"subpath": ""})
        node = whole["root"]["node"]
        for _ in range(args.depth):
            node = post(f"/sessions/{whole['id']}/create", {"parent": node, "name": "d", "kind": "directory", "mode": 0o755})["node"]
        sub = post("/volumes/v/sessions", {"subpath": "d"})
        node = sub["root"]["node"]
        started = time.monotonic()
        for _ in range(args.depth - 1):
            node = post(f"/sessions/{sub['id']}/lookup", {"parent": node, "name": "d"})["node"]
        walk = time.monotonic() - started
        before = cpu_seconds(server.process.pid)
        for _ in range(args.calls):
            post(f"/sessions/{sub['id']}/getattr", {"node": node})
        per_call = (cpu_seconds(server.process.pid) - before) / args.calls
        print(f"strata {exe} ({exe.parent.name} build): depth {args.depth}: walking a subpath session down took "
              f"{walk:.1f} s; getattr at the bottom: {per_call * 1e3:.2f} ms of server CPU a call")


if __name__ == "__main__":
    main()
