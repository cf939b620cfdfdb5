"""An agent's fork is merged back while the original changed elsewhere: the one path both
changed is reported as a conflict, and resolved by choosing a side."""

from strata import CreateSandboxParams, Strata, VolumeMount

strata = Strata()
# A fresh start: what an earlier run of this example left goes first.
for old in strata.volume.list():
    if old.name in ("site", "site-agent"):
        strata.volume.delete(old, force=True)
site = strata.volume.create("site")
strata.fs.put(site, "/index.html", b"<h1>Hello</h1>\n")
strata.fs.put(site, "/about.html", b"about us\n")
strata.fs.put(site, "/style.css", b"body {}\n")

agent = strata.fork(site, "site-agent")
root = "/home/sandbox/site"
with strata.create(CreateSandboxParams(volumes=[VolumeMount(volume_id=agent.id, mount_path=root)])) as sandbox:
    done = sandbox.process.exec(
        f"echo '<h1>Hello, world</h1>' > {root}/index.html && echo 'write to us' > {root}/contact.html"
        f" && rm {root}/about.html && echo 'body {{ margin: 0 }}' > {root}/style.css"
    )
    assert done.exit_code == 0, done.stderr
# Meanwhile a person changes the original's style sheet too.
strata.fs.put(site, "/style.css", b"body { color: navy }\n")

report = strata.merge(agent, dry_run=True)
for conflict in report.conflicts:
    print(f"conflict: {conflict.path}: the fork {conflict.fork} it, the volume {conflict.volume} it")
assert [c.path for c in report.conflicts] == ["/style.css"] and not report.applied
assert sorted(c["path"] for c in report.changes) == ["/about.html", "/contact.html", "/index.html"]

# Keep the person's style sheet, take the rest of the agent's work.
merged = strata.merge(agent, prefer="volume")
assert merged.applied
assert strata.fs.get(site, "/index.html") == b"<h1>Hello, world</h1>\n"
assert strata.fs.get(site, "/contact.html") == b"write to us\n"
assert strata.fs.get(site, "/style.css") == b"body { color: navy }\n"
assert "about.html" not in [e["name"] for e in strata.fs.list(site, "/")]
print(f"merged {len(merged.changes)} changes of the agent's fork into site")
strata.volume.delete(agent)
strata.volume.delete(site)
