"""One sandbox with two volumes at two paths: shared assets and per-application logs."""

from strata import CreateSandboxParams, Strata, VolumeMount

strata = Strata()
assets = strata.volume.get("shared-assets", create=True)
logs = strata.volume.get("logs", create=True)
strata.fs.put(assets, "/model.txt", b"weights v1\n")

params = CreateSandboxParams(
    volumes=[
        VolumeMount(volume_id=assets.id, mount_path="/home/sandbox/assets", read_only=True),
        VolumeMount(volume_id=logs.id, mount_path="/home/sandbox/logs"),
    ]
)
# `with` deletes the sandbox when the block ends, failing or not.
with strata.create(params) as sandbox:
    run = sandbox.process.exec("wc -c < /home/sandbox/assets/model.txt > /home/sandbox/logs/run.log")
    assert run.exit_code == 0, run.stderr
    denied = sandbox.process.exec("echo no > /home/sandbox/assets/model.txt")
    assert denied.exit_code != 0 and "Read-only" in denied.stderr, denied

print(strata.fs.get(logs, "/run.log").decode().strip())
assert strata.fs.get(logs, "/run.log") == b"11\n"
assert strata.fs.get(assets, "/model.txt") == b"weights v1\n"
