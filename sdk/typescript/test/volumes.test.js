// The SDK against a real server: volumes, files, forks, diffs, snapshots, history, orgs,
// keys and errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Server } from "./server.js";
import { Strata, AlreadyExists, Conflict, InvalidInput, NotFound, PermissionDenied, QuotaExceeded, StrataError, Unauthorized, Unavailable } from "../dist/index.js";

let server, strata;
before(async () => {
  server = await Server.start();
  strata = new Strata({ endpoint: server.endpoint, token: server.token });
});
after(() => server.close());

test("a volume is made, written, forked, compared, snapshotted and restored", async () => {
  const work = await strata.volume.create("work");
  assert.equal(work.name, "work");
  assert.equal((await strata.volume.get("work", { create: true })).id, work.id);
  await assert.rejects(strata.volume.create("work"), AlreadyExists);

  const stat = await strata.fs.put(work, "/src/notes.txt", "first notes\n");
  assert.equal(stat.size, 12);
  assert.equal(await strata.fs.text("work", "/src/notes.txt"), "first notes\n");
  await strata.fs.put("work", "/data.bin", new Uint8Array([0, 1, 2, 255]));
  assert.deepEqual([...(await strata.fs.get("work", "/data.bin"))], [0, 1, 2, 255]);
  assert.deepEqual((await strata.fs.list("work", "/")).map((e) => e.name).sort(), ["data.bin", "src"]);
  // A read with a limit gets the file's first bytes, and stops the transfer there.
  const big = new Uint8Array(8 << 20).map((_, i) => (i * 7) % 251);
  await strata.fs.put("work", "/big.bin", big);
  let pulled = 0;
  const counting = new Strata({
    endpoint: server.endpoint,
    token: server.token,
    fetch: async (url, init) => {
      const answer = await fetch(url, init);
      const count = new TransformStream({ transform: (chunk, out) => ((pulled += chunk.length), out.enqueue(chunk)) });
      return new Response(answer.body?.pipeThrough(count), answer);
    },
  });
  assert.deepEqual(await counting.fs.get("work", "/big.bin", { limit: 1000 }), big.subarray(0, 1000));
  assert.ok(pulled < big.length / 2, `${pulled} of ${big.length} bytes were transferred for 1000`);
  assert.deepEqual((await strata.fs.get("work", "/data.bin", { limit: 1 << 20 })).length, 4);
  assert.equal((await strata.fs.get("work", "/data.bin", { limit: 0 })).length, 0);
  assert.deepEqual([...(await strata.fs.get("work", "/data.bin", { limit: 2.5 }))], [0, 1]);
  assert.deepEqual([...(await strata.fs.get("work", "/data.bin", { limit: Infinity }))], [0, 1, 2, 255]);
  await strata.fs.remove("work", "/big.bin");

  const fork = await strata.fork("work", "experiment");
  assert.equal(fork.forked_from, work.id);
  await strata.fs.put(fork, "/src/notes.txt", "changed\n");
  await strata.fs.remove(fork, "/data.bin");
  await strata.fs.mkdir(fork, "/new/deeper", { parents: true });
  const diff = await strata.diff("work", "experiment");
  const changes = Object.fromEntries(diff.map((d) => [d.path, d.change]));
  assert.equal(changes["/src/notes.txt"], "changed");
  assert.equal(changes["/data.bin"], "removed");
  assert.equal(changes["/new"], "added");
  assert.equal(await strata.fs.text("work", "/src/notes.txt"), "first notes\n");

  await strata.snapshot.create("work", "v1");
  assert.deepEqual((await strata.snapshot.list("work")).map((s) => s.name), ["work@v1"]);
  await strata.fs.put("work", "/src/notes.txt", "later\n");
  await strata.snapshot.restore("work", "v1");
  assert.equal(await strata.fs.text("work", "/src/notes.txt"), "first notes\n");

  await strata.fs.copy("work", "/src/notes.txt", "/copy.txt");
  await strata.fs.rename("work", "/copy.txt", "/src/moved.txt");
  await strata.fs.chmod("work", "/src/moved.txt", 0o600);
  assert.equal((await strata.fs.stat("work", "/src/moved.txt")).mode & 0o777, 0o600);
  await assert.rejects(strata.fs.remove("work", "/src"), Conflict);
  await strata.fs.remove("work", "/src", { recursive: true });
  await assert.rejects(strata.fs.stat("work", "/src"), NotFound);

  const merged = await strata.merge("experiment", { dryRun: true });
  assert.equal(merged.applied, false);
  await strata.volume.delete("experiment");
  await strata.snapshot.delete("work", "v1");
  await strata.volume.delete("work");
  await assert.rejects(strata.volume.get("work"), NotFound);
});

test("hostile names and paths are refused with the field at fault, and nothing stored is touched", async () => {
  await strata.volume.create("kept");
  await strata.fs.put("kept", "/a.txt", "safe");
  for (const name of ["..", "a/b", "a\0b", "x".repeat(300), "Été", ""]) {
    const error = await strata.volume.create(name).then(() => null, (e) => e);
    assert.ok(error instanceof InvalidInput, `${JSON.stringify(name)}: ${error}`);
    assert.equal(error.field, "name");
    assert.equal(error.status, 400);
  }
  for (const path of ["../a.txt", "a.txt", "/a\0b"]) {
    const error = await strata.fs.put("kept", path, "x").then(() => null, (e) => e);
    assert.ok(error instanceof InvalidInput, `${JSON.stringify(path)}: ${error}`);
  }
  // A segment of `.` or `..` would be a step in the URL (however it is encoded): refused
  // before it is sent.
  for (const name of ["..", "."]) {
    const error = await strata.volume.get(name).then(() => null, (e) => e);
    assert.ok(error instanceof InvalidInput && error.field === "volume", String(error));
  }
  assert.equal(await strata.fs.text("kept", "/a.txt"), "safe");
});

test("quotas, organizations, keys and scoped tokens", async () => {
  const quoted = await strata.volume.create("small");
  await strata.volume.setQuota(quoted, { bytes: 10 });
  await assert.rejects(strata.fs.put("small", "/big", "x".repeat(100)), QuotaExceeded);
  const org = await strata.org.get();
  assert.equal(typeof org.used_bytes, "number");

  const { key, secret } = await strata.keys.create({ name: "ci-member", role: "member" });
  assert.ok(secret.length > 20);
  assert.ok((await strata.keys.list()).some((k) => k.id === key.id));
  const member = new Strata({ endpoint: server.endpoint, token: secret });
  assert.equal((await member.whoami()).role, "member");
  await assert.rejects(member.gc(), PermissionDenied);

  await strata.fs.put("small", "/users/alice/a.txt", "a");
  const scoped = await strata.keys.token({ volume: "small", subpath: "users/alice", read_only: true });
  const alice = new Strata({ endpoint: server.endpoint, token: scoped.secret });
  const me = await alice.whoami();
  assert.deepEqual(me.scope, { volume_id: quoted.id, volume: "small", subpath: "/users/alice", read_only: true });
  assert.equal(await alice.fs.text("small", "/a.txt"), "a");
  await assert.rejects(alice.fs.put("small", "/b.txt", "b"), PermissionDenied);
  await assert.rejects(alice.volume.list(), PermissionDenied);

  await strata.keys.revoke(key.id);
  await assert.rejects(member.whoami(), Unauthorized);
  await strata.volume.delete("small");
});

test("an unreachable server is Unavailable, and a call that takes too long ends", async () => {
  const nowhere = new Strata({ endpoint: "http://127.0.0.1:9", token: "x", timeoutMs: 2000 });
  await assert.rejects(nowhere.health(), Unavailable);
  const slow = new Strata({
    endpoint: server.endpoint,
    timeoutMs: 50,
    fetch: (url, init) => new Promise((_, fail) => init.signal.addEventListener("abort", () => fail(init.signal.reason))),
  });
  await assert.rejects(slow.health(), /no answer from the strata server .* within 0.05 s/);
  // A redirect is refused, not followed with the key.
  const moved = new Strata({
    endpoint: server.endpoint,
    token: "k",
    fetch: async (_url, init) => {
      assert.equal(init.redirect, "manual");
      return new Response(null, { status: 302, headers: { location: "http://example.invalid/" } });
    },
  });
  await assert.rejects(moved.volume.list(), /answered with a redirect/);
  // An answer cut off in its body is Unavailable as well.
  const cut = new Strata({
    endpoint: server.endpoint,
    fetch: async () => new Response(new ReadableStream({ start: (c) => c.error(new Error("connection reset")) })),
  });
  await assert.rejects(cut.fs.get("kept", "/a.txt"), (e) => e instanceof Unavailable && /connection reset|terminated|cannot reach/.test(e.message));
  // The client's own signal cancels its calls: they reject with the signal's reason.
  const leaving = new AbortController();
  const cancelled = new Strata({ endpoint: server.endpoint, token: server.token, signal: leaving.signal });
  const pending = cancelled.volume.list();
  leaving.abort();
  await assert.rejects(pending, (e) => e.name === "AbortError");
  await assert.rejects(cancelled.health(), (e) => e.name === "AbortError");
  // An error body naming no kind of ours (even one of Object's own names) is a plain StrataError.
  for (const kind of ["__proto__", "constructor", "toString", "no_such_kind"]) {
    const odd = new Strata({
      endpoint: server.endpoint,
      fetch: async () => new Response(JSON.stringify({ error: { kind, message: "odd" } }), { status: 400 }),
    });
    await assert.rejects(odd.health(), (e) => e instanceof StrataError && e.kind === kind && e.message === "odd");
  }
});

test("history, a past moment, merge of a fork, promotion, compression and usage", async () => {
  const vol = await strata.volume.create("timeline");
  await strata.fs.put(vol, "/a.txt", "one\n");
  const points = await strata.volume.history(vol);
  assert.ok(points.length >= 1, JSON.stringify(points));
  const before = new Date(Math.floor(points.at(-1).before / 1e6));
  const past = await strata.volume.at("timeline", before);
  assert.ok(past.moment_at, JSON.stringify(past));
  await assert.rejects(strata.fs.stat(past, "/a.txt"), NotFound);

  await strata.fork(vol, "timeline-fork");
  await strata.fs.put("timeline-fork", "/b.txt", "from the fork\n");
  const dry = await strata.merge("timeline-fork", { dryRun: true });
  assert.deepEqual([dry.applied, dry.changes.map((c) => c.path)], [false, ["/b.txt"]]);
  const merged = await strata.merge("timeline-fork");
  assert.equal(merged.applied, true);
  assert.equal(await strata.fs.text("timeline", "/b.txt"), "from the fork\n");

  await strata.fs.put("timeline-fork", "/a.txt", "the fork's\n");
  const promoted = await strata.promote("timeline-fork");
  assert.equal(promoted.id, vol.id);
  assert.equal(await strata.fs.text("timeline", "/a.txt"), "the fork's\n");

  const set = await strata.volume.setCompression("timeline", "zstd:5");
  assert.equal(set.compression, "zstd:5");
  await assert.rejects(strata.volume.setCompression("timeline", "zstd:19"), InvalidInput);
  await strata.fs.put("timeline", "/big.txt", "abc".repeat(100_000));
  const usage = await strata.volume.usage("timeline");
  assert.ok(usage.blocks >= 1 && usage.stored_bytes < usage.bytes, JSON.stringify(usage));
});
