#!/usr/bin/env python3
"""Crash-consistency writer and checker for a strata mount.

    crash_writer.py write MOUNT JOURNAL SEED   # runs until the mount dies under it
    crash_writer.py check MOUNT JOURNAL        # after a remount: what fsync acknowledged is there
    crash_writer.py burst MOUNT JOURNAL CYCLE  # many small new files, few fsyncs, until it dies
    crash_writer.py burst-check MOUNT JOURNAL CYCLE  # that burst's files are a prefix, whole

Before each step the writer journals (outside the mount, fsync'd) every state the step may
leave a file in; after the step's fsync it journals an acknowledgement. A file must then
hold its last acknowledged state, or a state the writer produced after it, and nothing
else: no lost acknowledged write, no bytes that were never written.
"""

import hashlib
import json
import os
import random
import sys

FILES = ["a.log", "b.dat", "c.txt"]


def digest(data):
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def journal_line(journal, record, sync=True):
    journal.write(json.dumps(record) + "\n")
    journal.flush()
    if sync:
        os.fsync(journal.fileno())


def write(mount, journal_path, seed):
    rng = random.Random(seed)
    contents = {}
    for name in FILES:
        path = os.path.join(mount, name)
        contents[name] = open(path, "rb").read() if os.path.exists(path) else None
    with open(journal_path, "a") as journal:
        step = 0
        while True:
            step += 1
            name = rng.choice(FILES)
            path = os.path.join(mount, name)
            old = contents[name] or b""
            op = rng.choice(["append", "overwrite", "replace"])
            if op == "append":
                new = old + bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 20000)))
            elif op == "overwrite" and old:
                at = rng.randrange(len(old))
                patch = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 9000)))
                new = old[:at] + patch + old[at + len(patch):]
            else:
                new = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300000)))
            journal_line(journal, {"step": step, "file": name, "intent": digest(new), "size": len(new)})
            if op == "replace":
                tmp = path + ".tmp"
                with open(tmp, "wb") as f:
                    f.write(new)
                    f.flush()
                    os.fsync(f.fileno())
                os.rename(tmp, path)
                dir_fd = os.open(mount, os.O_RDONLY)
                os.fsync(dir_fd)
                os.close(dir_fd)
            else:
                with open(path, "r+b" if os.path.exists(path) else "wb") as f:
                    f.seek(0)
                    if op == "append":
                        f.seek(len(old))
                        f.write(new[len(old):])
                    else:
                        f.write(new)
                    f.flush()
                    os.fsync(f.fileno())
            contents[name] = new
            journal_line(journal, {"step": step, "file": name, "ack": digest(new), "size": len(new)})


def check(mount, journal_path):
    acked = {}  # file -> index of last ack in its history
    history = {}  # file -> list of digests in order (intents)
    for line in open(journal_path):
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line: the writer died writing it
        h = history.setdefault(r["file"], [])
        if "intent" in r:
            h.append(r["intent"])
        else:
            acked[r["file"]] = len(h) - 1
    failures = 0
    for name, h in history.items():
        path = os.path.join(mount, name)
        actual = digest(open(path, "rb").read()) if os.path.exists(path) else None
        first_ok = acked.get(name, -1)
        # Before its first acknowledgement a file may also not exist yet, or exist empty: made,
        # its bytes not yet durable (as on any file system, a create can reach the disk first).
        allowed = set(h[max(first_ok, 0):]) if first_ok >= 0 else set(h) | {None, digest(b"")}
        if actual not in allowed:
            print(f"{name}: content {actual} is not its acknowledged state nor a later one", file=sys.stderr)
            failures += 1
    total_acks = len(acked)
    print(f"checked {len(history)} files, {total_acks} with acknowledged writes: {failures} bad")
    return failures == 0


def burst_bytes(cycle, i):
    return (f"{cycle}:{i}\n" * (1 + i % 500)).encode()


def burst(mount, journal_path, cycle):
    """New small files, one after another, as a mount that owns its tree makes them without
    waiting for the server; every 200th is fsync'd. Each close that returned is journalled,
    and each fsync."""
    folder = os.path.join(mount, "burst", str(cycle))
    os.makedirs(folder, exist_ok=True)
    with open(journal_path, "a") as journal:
        i = 0
        while True:
            i += 1
            path = os.path.join(folder, f"g{i}")
            with open(path, "wb") as f:
                f.write(burst_bytes(cycle, i))
                if i % 200 == 0:
                    f.flush()
                    os.fsync(f.fileno())
                    journal_line(journal, {"cycle": cycle, "synced": i})
            # Only the mount is killed: this process lives to flush what it wrote.
            journal_line(journal, {"cycle": cycle, "closed": i}, sync=False)


def burst_check(mount, journal_path, only):
    """After a kill and the next mount: each burst's files are g1..gN with nothing missing in
    between (a later change never lands without the earlier ones), N at least the last one
    fsync'd and the last one closed (the next mount replays what the killed one had not
    shipped), each holding its bytes (one after the last closed may be empty: its create
    made, its close not)."""
    synced, closed = {}, {}
    # No journal: the writer was killed before it fsync'd anything.
    for line in open(journal_path) if os.path.exists(journal_path) else []:
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "synced" in r:
            synced[r["cycle"]] = max(synced.get(r["cycle"], 0), r["synced"])
        else:
            closed[r["cycle"]] = max(closed.get(r["cycle"], 0), r["closed"])
    root = os.path.join(mount, "burst")
    failures, files = 0, 0
    for cycle in [c for c in os.listdir(root) if c == str(only)] if os.path.isdir(root) else []:
        folder = os.path.join(root, cycle)
        got = sorted(int(n[1:]) for n in os.listdir(folder))
        n = len(got)
        files += n
        if got != list(range(1, n + 1)):
            missing = sorted(set(range(1, max(got, default=0) + 1)) - set(got))
            print(f"burst {cycle}: not a prefix, {len(missing)} missing (first {missing[:5]})", file=sys.stderr)
            failures += 1
        if n < synced.get(int(cycle), 0):
            print(f"burst {cycle}: {n} files, but g{synced[int(cycle)]} was fsync'd", file=sys.stderr)
            failures += 1
        last_closed = closed.get(int(cycle), 0)
        if n < last_closed:
            print(f"burst {cycle}: {n} files, but g{last_closed} was closed", file=sys.stderr)
            failures += 1
        for i in got:
            data = open(os.path.join(folder, f"g{i}"), "rb").read()
            if data != burst_bytes(int(cycle), i) and not (i == n and i > last_closed and data == b""):
                print(f"burst {cycle}: g{i} holds {len(data)} wrong bytes", file=sys.stderr)
                failures += 1
    print(f"checked {files} burst files: {failures} bad")
    return failures == 0


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode in ("write", "burst"):
        try:
            (write if mode == "write" else burst)(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        except OSError:
            sys.exit(0)  # the mount died under us: that is the point
    elif mode == "burst-check":
        sys.exit(0 if burst_check(sys.argv[2], sys.argv[3], int(sys.argv[4])) else 1)
    else:
        sys.exit(0 if check(sys.argv[2], sys.argv[3]) else 1)
