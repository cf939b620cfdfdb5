#!/usr/bin/env python3
"""The attacker's figures, measured on a strata server this script starts on 127.0.0.1 with
a temporary data folder: the server's peak memory while 100 clients stall in the middle of
4 MiB uploads (and whether they are cut off), and how far one organization gets piling up
snapshots, mount sessions and keys before it is refused. Needs a built strata binary
($STRATA_BIN, else target/release then target/debug).

    python3 bench/hostile.py
"""

import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

from local_server import local_server

def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    conns: list = []
    with local_server() as srv:
        exe, token, port, home = srv.exe, srv.token, srv.port, srv.home
        server = srv.process
        env = {**os.environ, "STRATA_ENDPOINT": f"http://127.0.0.1:{port}", "STRATA_TOKEN": token,
               "STRATA_CONFIG_DIR": str(home / "config")}
        cli = lambda *a: subprocess.run([str(exe), *a], env=env, capture_output=True, text=True)  # noqa: E731
        cli("volume", "create", "v")
        print(f"strata {exe} ({exe.parent.name} build)")
        base = rss_mib(server.pid)
        head = ("PUT /v1/volumes/v/fs/content?path=/f{} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                + token + "\r\nContent-Length: 100000000\r\n\r\n")
        block = b"\1" * ((4 << 20) - 1)
        answers: list = []

        def stall(i: int) -> None:
            # A client that sends 4 MiB - 1 bytes of a declared 100 MB, then nothing.
            c = socket.create_connection(("127.0.0.1", port))
            conns.append(c)
            try:
                c.sendall(head.format(i).encode())
                c.sendall(block)
                c.settimeout(120)
                first = c.recv(64)
                answers.append(first.split(b"\r\n")[0].decode() if first else "closed")
            except OSError as e:
                answers.append(type(e).__name__)

        started = time.monotonic()
        threads = [threading.Thread(target=stall, args=(i,)) for i in range(100)]
        for t in threads:
            t.start()
        peak = base
        while any(t.is_alive() for t in threads) and time.monotonic() - started < 120:
            peak = max(peak, rss_mib(server.pid))
            time.sleep(0.05)
        took = time.monotonic() - started
        tally = {a: answers.count(a) for a in sorted(set(answers))}
        print(f"100 clients stalled in 4 MiB uploads: server RSS {base:.0f} MiB before, {peak:.0f} MiB at most; "
              f"all answered or cut within {took:.0f} s: {tally}")
        for what, args in [
            ("snapshots of one volume", lambda i: ("snapshot", "create", "v", f"s{i}")),
            ("keys of one organization", lambda i: ("key", "create", f"k{i}")),
        ]:
            t0 = time.monotonic()
            for i in range(5000):
                out = cli(*args(i))
                if out.returncode != 0:
                    took = time.monotonic() - t0
                    print(f"{what}: refused at the {i + 1}th after {took:.1f} s: {out.stderr.strip()}")
                    break
            else:
                print(f"{what}: 5000 made, none refused")
        print(json.dumps({"rss_before_mib": round(base), "rss_peak_mib": round(peak)}))
        for c in conns:
            c.close()


if __name__ == "__main__":
    main()
