"""An agent runs a destructive command in a sandbox; the volume goes back to just before it,
found in the volume's history: nobody took a snapshot beforehand."""

from strata import CreateSandboxParams, Strata, VolumeMount

strata = Strata()
# A fresh start: what an earlier run of this example left goes first.
for old in strata.volume.list():
    if old.name == "agent-work":
        strata.volume.delete(old, force=True)
work = strata.volume.create("agent-work")
home = "/home/sandbox/work"
strata.fs.put(work, "/src/app.py", b"print('hello')\n")
strata.fs.put(work, "/data/results.csv", b"run,score\n1,0.93\n")


def names(volume, path="/"):  # type: ignore[no-untyped-def]
    return sorted(entry["name"] for entry in strata.fs.list(volume, path))


# `with` deletes the sandbox when the block ends, failing or not. The agent works a while
# (history tells apart moments at least `--history-step` apart, 100 ms by default), then
# runs the command that destroys its sources.
with strata.create(CreateSandboxParams(volumes=[VolumeMount(volume_id=work.id, mount_path=home)])) as sandbox:
    done = sandbox.process.exec(f"sleep 1 && rm -rf {home}/src {home}/data && echo oops > {home}/README")
    assert done.exit_code == 0, done.stderr
assert names(work) == ["README"]

# The newest moment that still had the sources is the one just before the command.
for point in strata.volume.history(work):
    before = strata.volume.at("agent-work", point.before_time)
    if "src" in names(before):
        break
else:
    raise SystemExit("no moment before the command in the volume's history")
print(f"restoring agent-work to {point.before_time}, just before {point.changes} changes")
strata.volume.restore(work, to=point.before_time)

assert names(work) == ["data", "src"]
assert strata.fs.get(work, "/src/app.py") == b"print('hello')\n"
assert strata.fs.get(work, "/data/results.csv") == b"run,score\n1,0.93\n"
strata.volume.delete(work)
