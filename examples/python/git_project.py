"""Three sandboxes in a row continue one git project; the third forks it, breaks the fork,
and goes back to the intact original."""

from strata import CreateSandboxParams, Strata, VolumeMount

strata = Strata()
# A fresh start: the volumes an earlier run of this example left go first.
for old in strata.volume.list():
    if old.name in ("project", "experiment"):
        strata.volume.delete(old)
project = strata.volume.create("project")
repo = "/home/sandbox/project"
git = f"git -C {repo} -c user.name=dev -c user.email=dev@example.com"


def sandbox_on(volume):  # type: ignore[no-untyped-def]
    return strata.create(CreateSandboxParams(volumes=[VolumeMount(volume_id=volume.id, mount_path=repo)]))


def run(sandbox, command: str) -> str:  # type: ignore[no-untyped-def]
    done = sandbox.process.exec(command)
    assert done.exit_code == 0, f"{command}: {done.stderr}"
    return done.result


# Each `with` deletes its sandbox when the block ends, failing or not.
with sandbox_on(project) as first:
    run(first, f"git init -q {repo} && echo 'v1' > {repo}/app.txt && {git} add . && {git} commit -qm one")

with sandbox_on(project) as second:
    run(second, f"echo 'v2' >> {repo}/app.txt && {git} commit -qam two")

with sandbox_on(project) as third:
    assert run(third, f"{git} log --format=%s").split() == ["two", "one"]
    experiment = strata.fork(project, "experiment")
    with sandbox_on(experiment) as trial:
        run(trial, f"rm -rf {repo}/.git/objects && echo broken > {repo}/app.txt")
        assert trial.process.exec(f"{git} log").exit_code != 0
    strata.volume.delete(experiment)

    # The original is intact.
    assert run(third, f"cat {repo}/app.txt").split() == ["v1", "v2"]
    assert run(third, f"{git} fsck --no-dangling --no-progress && {git} log --format=%s").split() == ["two", "one"]
print("project intact after the broken fork")
