// Sandboxes and live mounts through the SDK, on a real server, runtime and FUSE mount.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Server } from "./server.js";
import { Strata, NotFound, PermissionDenied } from "../dist/index.js";

let server, strata;
before(async () => {
  server = await Server.start();
  strata = new Strata({ endpoint: server.endpoint, token: server.token });
});
after(() => server.close());

test("a sandbox with a volume at a subpath runs commands, moves files, and its work stays", async () => {
  const volume = await strata.volume.create("project");
  await strata.fs.put(volume, "/app/readme.txt", "hello from the volume\n");
  const sandbox = await strata.create({
    volumes: [{ volumeId: volume.id, mountPath: "/workspace", subpath: "app" }],
    env: { GREETING: "hi" },
  });
  try {
    assert.equal(sandbox.state, "running");
    assert.deepEqual(sandbox.volumes.map((v) => [v.volume, v.mount_path, v.subpath]), [["project", "/workspace", "app"]]);
    const read = await sandbox.process.exec("cat /workspace/readme.txt && echo $GREETING");
    assert.equal(read.exitCode, 0);
    assert.equal(read.result, "hello from the volume\nhi\n");
    const failed = await sandbox.process.exec("echo oops >&2; exit 3");
    assert.deepEqual([failed.exitCode, failed.stderr], [3, "oops\n"]);
    await sandbox.process.exec("echo made inside > /workspace/out.txt");
    await sandbox.fs.uploadFile("uploaded\n", "/workspace/up.txt");
    assert.equal(new TextDecoder().decode(await sandbox.fs.downloadFile("/workspace/out.txt")), "made inside\n");
    assert.ok((await strata.sandbox.list()).some((s) => s.id === sandbox.id));
    assert.equal((await strata.sandbox.get(sandbox.id)).id, sandbox.id);
  } finally {
    await sandbox.delete();
  }
  await assert.rejects(strata.sandbox.get(sandbox.id), NotFound);
  assert.equal(await strata.fs.text("project", "/app/out.txt"), "made inside\n");
  assert.equal(await strata.fs.text("project", "/app/up.txt"), "uploaded\n");
});

test("a live mount is listed with its volume until it is unmounted", async () => {
  await strata.volume.create("mounted");
  const at = join(server.home, "mnt");
  mkdirSync(at);
  await server.cli("mount", "mounted", at);
  try {
    const live = await strata.sessions.list();
    const mine = live.filter((s) => s.volume === "mounted");
    assert.equal(mine.length, 1, JSON.stringify(live));
    assert.equal(mine[0].read_only, false);
    assert.ok(mine[0].alive_until > mine[0].created_at);
    assert.ok(mine[0].id && mine[0].key === "admin", JSON.stringify(mine[0]));
    // These fields and no others (never a secret); the id (enough to end a session) and the
    // key only for key admins and for the key that opened it.
    const raw = await (await fetch(`${server.endpoint}/v1/sessions`, { headers: { authorization: `Bearer ${server.token}` } })).json();
    assert.deepEqual(Object.keys(raw.find((s) => s.volume === "mounted")).sort(), ["alive_until", "created_at", "id", "key", "read_only", "volume", "volume_id"]);
    const memberKey = (await strata.keys.create({ name: "m", role: "member" })).secret;
    const member = new Strata({ endpoint: server.endpoint, token: memberKey });
    const seen = (await member.sessions.list()).filter((s) => s.volume === "mounted");
    assert.deepEqual(seen.map((s) => [s.id, s.key, s.volume_id]), [[undefined, undefined, mine[0].volume_id]]);
    const own = join(server.home, "mnt-member");
    mkdirSync(own);
    await server.cliAs(memberKey, "mount", "mounted", own, "--read-only");
    try {
      const listed = (await member.sessions.list()).filter((s) => s.volume === "mounted");
      const theirs = listed.filter((s) => s.read_only);
      assert.equal(listed.length, 2);
      assert.ok(theirs.length === 1 && theirs[0].id && theirs[0].key === "m", JSON.stringify(listed));
    } finally {
      await server.cliAs(memberKey, "umount", own);
    }
    // Another organization's keys see none of them; a scoped token may not list.
    await strata.org.create("elsewhere");
    const other = new Strata({ endpoint: server.endpoint, token: (await strata.keys.create({ name: "o", org: "elsewhere", role: "org-admin" })).secret });
    assert.deepEqual(await other.sessions.list(), []);
    const scoped = new Strata({ endpoint: server.endpoint, token: (await strata.keys.token({ volume: "mounted" })).secret });
    await assert.rejects(scoped.sessions.list(), PermissionDenied);
  } finally {
    await server.cli("umount", at);
  }
  assert.deepEqual((await strata.sessions.list()).filter((s) => s.volume === "mounted"), []);
});
