// Every page and flow of the dashboard in a real browser against a real server: volumes,
// files, forks and snapshots, diff, history, mounts, sandboxes, keys and organizations,
// what a scoped token and a member see, phone width, the keyboard, and accessibility.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Server, launch, open, signIn, shoot, accessible, stayedHome } from "./browser.js";
import { Strata, NotFound } from "../../sdk/typescript/dist/index.js";

/** A 2x2 PNG, to preview. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==",
  "base64",
);

let server, browser, strata;
before(async () => {
  server = await Server.start();
  browser = await launch();
  strata = new Strata({ endpoint: server.endpoint, token: server.token });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** A signed-in admin page; a failing test leaves a screenshot named after it. */
async function adminPage(t, name, options) {
  const opened = await open(browser, server, options);
  t.after(async () => {
    if (!t.passed) await shoot(opened.page, `failed-${name}`);
    stayedHome(opened.requests, server);
    assert.deepEqual(opened.errors, [], "errors in the page");
    await opened.context.close();
  });
  await signIn(opened.page, server.token);
  return opened.page;
}

/** The files of a zip (their bytes as Latin-1 text), read by Python's zipfile, which checks
 * every CRC. */
function unzip(path) {
  const script = "import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps({n: z.read(n).decode('latin-1') for n in z.namelist()}))";
  return JSON.parse(execFileSync("python3", ["-c", script, path], { encoding: "utf8" }));
}

/** Waits until the table's first row names `name`; times out (and fails) if it never does. */
async function firstRow(page, name) {
  await page.locator("tbody tr").first().getByRole("link", { name, exact: true }).waitFor();
}

async function downloaded(page, click) {
  const [download] = await Promise.all([page.waitForEvent("download"), click()]);
  return { name: download.suggestedFilename(), path: await download.path() };
}

test("volumes: create, get-or-create, search, sort, pages, delete one and many, refusals with their reason", async (t) => {
  const page = await adminPage(t, "volumes");
  await page.getByLabel("Name").fill("alpha");
  await page.getByRole("button", { name: "Create", exact: true }).click();
  await page.getByRole("link", { name: "alpha" }).waitFor();
  // Get-or-create of an existing volume is no error; create is.
  await page.getByLabel("Name").fill("alpha");
  await page.getByRole("button", { name: "Get or create" }).click();
  await page.getByText("Volume alpha is ready.").waitFor();
  await page.getByLabel("Name").fill("alpha");
  await page.getByRole("button", { name: "Create", exact: true }).click();
  await page.getByText(/Error: .*alpha.*exists/).waitFor();
  // A hostile name is refused with the field named.
  await page.getByLabel("Name").evaluate((input) => input.removeAttribute("pattern"));
  await page.getByLabel("Name").fill("../etc");
  await page.getByRole("button", { name: "Create", exact: true }).click();
  await page.getByText(/Error: .*\(name\)/).waitFor();

  for (let i = 0; i < 22; i++) await strata.volume.create(`bulk-${String(i).padStart(2, "0")}`);
  await strata.fs.put("bulk-07", "/big.bin", new Uint8Array(5000));
  await page.reload();
  await page.getByText("23 volumes").waitFor();
  await page.getByText("Page 1 of 2").waitFor();
  await page.getByRole("button", { name: "Next page" }).click();
  await page.getByText("Page 2 of 2").waitFor();
  assert.equal(await page.getByRole("link", { name: /^bulk-/ }).count(), 3);
  // A page past the last, or not a whole number, is the nearest there is. Each case shows
  // another page than the one before, so each wait is met only by its own drawing.
  for (const [asked, shown] of [["1.5", "Page 1 of 2"], ["9", "Page 2 of 2"], ["-3", "Page 1 of 2"], ["99", "Page 2 of 2"], ["x", "Page 1 of 2"]]) {
    await page.goto(`${server.endpoint}/#/volumes?page=${asked}`);
    await page.getByText(shown).waitFor();
  }
  await page.getByLabel("Search").fill("bulk-1");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByText("10 volumes matching “bulk-1”").waitFor();
  await page.getByLabel("Search").fill("bulk");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByText("22 volumes matching “bulk”").waitFor();
  // The address changes before the table is drawn again: wait for the row the order puts first.
  await page.getByLabel("Sort by").selectOption("size");
  await page.waitForURL(/sort=size/);
  await firstRow(page, "bulk-07");
  // The one mounted last is the one used last.
  const at = join(server.home, "mnt-bulk");
  mkdirSync(at, { recursive: true });
  await server.cli("mount", "bulk-03", at);
  await server.cli("umount", at);
  await page.getByLabel("Sort by").selectOption("used");
  await page.waitForURL(/sort=used/);
  await firstRow(page, "bulk-03");
  await page.getByLabel("Sort by").selectOption("name");
  await page.waitForURL(/sort=name/);
  await firstRow(page, "bulk-00");
  await shoot(page, "volumes");
  await accessible(page, "volumes");

  // Delete several at once, with a confirmation that can be declined.
  await page.getByLabel("Select bulk-07").check();
  await page.getByLabel("Select bulk-00").check();
  await page.getByRole("button", { name: "Delete selected" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
  assert.equal((await strata.volume.list()).length, 23);
  await page.getByLabel("Select bulk-07").check();
  await page.getByLabel("Select bulk-00").check();
  await page.getByRole("button", { name: "Delete selected" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await page.getByText("Deleted bulk-07, bulk-00.").waitFor();
  assert.ok(!(await strata.volume.list()).some((v) => v.name === "bulk-07" || v.name === "bulk-00"));

  // A mounted volume is refused, with the reason, and its live mount is counted.
  const alpha = join(server.home, "mnt-alpha");
  mkdirSync(alpha, { recursive: true });
  await server.cli("mount", "alpha", alpha);
  try {
    await page.getByLabel("Search").fill("alpha");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByText("1 volume matching “alpha”").waitFor();
    assert.equal(await page.locator("tbody tr").first().locator("td").nth(7).textContent(), "1");
    await page.getByRole("button", { name: "Delete alpha" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await page.getByText(/Not deleted: alpha: .*mount/).waitFor();
    await strata.volume.get("alpha");
  } finally {
    await server.cli("umount", alpha);
  }
  for (const v of await strata.volume.list()) if (v.name.startsWith("bulk-")) await strata.volume.delete(v);
});

test("files: browse, upload by chooser and by drop, preview text and images, download, zip, mkdir, rename, delete", async (t) => {
  await strata.volume.create("files");
  await strata.fs.put("files", "/docs/guide/intro.md", "# Intro\n");
  await strata.fs.put("files", "/docs/readme.txt", "read me\n");
  // A name made to look like markup is shown as the text it is.
  const bait = "<img src=x onerror=alert(1)>.txt";
  await strata.fs.put("files", `/${bait}`, "bait\n");
  const page = await adminPage(t, "files");
  page.on("dialog", (d) => assert.fail(`a dialog opened: ${d.message()}`));
  await page.goto(`${server.endpoint}/#/volumes/files`);
  await page.getByRole("cell", { name: bait, exact: true }).waitFor();
  assert.equal(await page.locator("main img").count(), 0);
  await page.getByRole("button", { name: `Preview ${bait}` }).click();
  await page.getByRole("heading", { name: `Preview of ${bait}` }).waitFor();
  // An SVG, which can hold scripts, is shown as its text, not as a picture.
  await strata.fs.put("files", "/drawing.svg", '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
  await page.reload();
  await page.getByRole("button", { name: "Preview drawing.svg" }).click();
  await page.getByRole("heading", { name: "Preview of drawing.svg" }).waitFor();
  assert.match(await page.getByRole("region", { name: "Preview" }).locator("pre").textContent(), /<script>alert\(1\)<\/script>/);
  assert.equal(await page.locator("main img").count(), 0);
  await page.getByRole("link", { name: "docs/" }).click();
  await page.getByRole("link", { name: "guide/" }).waitFor();

  await page.getByLabel("Upload files").setInputFiles([
    { name: "dot.png", mimeType: "image/png", buffer: PNG },
    { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("first notes\n") },
  ]);
  await page.getByText("Uploaded 2 files to /docs.").waitFor();
  assert.equal(await strata.fs.text("files", "/docs/notes.txt"), "first notes\n");

  // Drop a file on the drop zone.
  const transfer = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(["dropped here\n"], "dropped.txt", { type: "text/plain" }));
    return dt;
  });
  await page.getByTestId("dropzone").dispatchEvent("drop", { dataTransfer: transfer });
  await page.getByText("Uploaded 1 file to /docs.").waitFor();
  assert.equal(await strata.fs.text("files", "/docs/dropped.txt"), "dropped here\n");

  await page.getByRole("button", { name: "Preview dot.png" }).click();
  const image = page.getByRole("img", { name: "The image dot.png" });
  await image.waitFor();
  await page.waitForFunction(() => document.querySelector(".preview img")?.naturalWidth === 2);
  await page.getByRole("button", { name: "Preview notes.txt" }).click();
  await page.getByRole("heading", { name: "Preview of notes.txt" }).waitFor();
  assert.equal(await page.getByRole("region", { name: "Preview" }).textContent(), "Preview of notes.txtfirst notes\n");
  await shoot(page, "volume-files");
  await accessible(page, "files");

  const file = await downloaded(page, () => page.getByRole("button", { name: "Download readme.txt" }).click());
  assert.equal(file.name, "readme.txt");
  assert.equal(readFileSync(file.path, "utf8"), "read me\n");
  const folder = await downloaded(page, () => page.getByRole("button", { name: "Download this folder as zip" }).click());
  assert.equal(folder.name, "files-docs.zip");
  assert.deepEqual(unzip(folder.path), {
    "dropped.txt": "dropped here\n",
    "dot.png": PNG.toString("latin1"),
    "notes.txt": "first notes\n",
    "readme.txt": "read me\n",
    "guide/intro.md": "# Intro\n",
  });

  await page.getByLabel("New folder").fill("archive");
  await page.getByRole("button", { name: "Make folder" }).click();
  await page.getByRole("link", { name: "archive/" }).waitFor();
  await page.getByRole("button", { name: "Rename notes.txt" }).click();
  await page.getByLabel("New path").fill("/docs/archive/old-notes.txt");
  await page.getByRole("button", { name: "OK" }).click();
  await page.getByText("Moved /docs/notes.txt to /docs/archive/old-notes.txt.").waitFor();
  assert.equal(await strata.fs.text("files", "/docs/archive/old-notes.txt"), "first notes\n");
  // A rename onto a path that cannot be is refused with the server's reason.
  await page.getByRole("button", { name: "Rename readme.txt" }).click();
  await page.getByLabel("New path").fill("/docs/readme.txt/x");
  await page.getByRole("button", { name: "OK" }).click();
  await page.getByText(/^Error: /).waitFor();
  await page.getByRole("button", { name: "Delete guide" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await page.getByText("Deleted /docs/guide.").waitFor();
  await assert.rejects(strata.fs.stat("files", "/docs/guide"));
  await page.getByRole("navigation", { name: "Folder" }).getByRole("link", { name: "files" }).click();
  await page.getByRole("link", { name: "docs/" }).waitFor();
  assert.equal(await page.locator("main img").count(), 0);
});

test("what a listing draws and a preview or a zip reads is bounded, whatever a volume holds", async (t) => {
  // More entries than a page draws: in a folder, and (each changed in the fork) in a diff.
  const names = Array.from({ length: 1001 }, (_, i) => `/many/f${String(i).padStart(4, "0")}.txt`);
  const putAll = async (volume, text) => {
    for (let i = 0; i < names.length; i += 50) await Promise.all(names.slice(i, i + 50).map((n) => strata.fs.put(volume, n, text)));
  };
  await strata.volume.create("wide-base");
  await putAll("wide-base", "");
  await strata.fork("wide-base", "wide");
  await putAll("wide", "changed");
  // A long text: only its first MiB is fetched and shown.
  await strata.fs.put("wide", "/long.txt", "x".repeat(3 << 20));
  // An image too large to show.
  await strata.fs.put("wide", "/huge.png", new Uint8Array((16 << 20) + 1));
  // Names that Windows would take for a drive, or would change.
  await strata.fs.put("wide", "/win/C:/boot.ini", "drive\n");
  await strata.fs.put("wide", "/win/trail. ", "dots\n");
  await strata.fs.put("wide", "/win/a<b>|c?.txt", "marks\n");
  await strata.fs.put("wide", "/win/a_b__c_.txt", "plain\n");
  await strata.fs.put("wide", "/win/nul.txt", "device\n");

  const page = await adminPage(t, "bounds");
  await page.goto(`${server.endpoint}/#/volumes/wide`);
  await page.getByRole("button", { name: "Preview long.txt" }).click();
  await page.getByText("The first 1.0 MiB of 3.0 MiB.").waitFor();
  assert.equal((await page.getByRole("region", { name: "Preview" }).locator("pre").textContent())?.length, 1 << 20);
  const fetched = [];
  page.on("request", (request) => request.url().includes("huge.png") && fetched.push(request.url()));
  await page.getByRole("button", { name: "Preview huge.png" }).click();
  await page.getByText("An image over 16 MiB: download it to open it.").waitFor();
  assert.equal(await page.locator("main img").count(), 0);
  assert.deepEqual(fetched, [], "an image listed as too large is not fetched");

  await page.goto(`${server.endpoint}/#/volumes/wide?tab=files&path=%2Fwin`);
  await page.getByRole("cell", { name: "a<b>|c?.txt", exact: true }).waitFor();
  const zipped = await downloaded(page, () => page.getByRole("button", { name: "Download this folder as zip" }).click());
  // Two names that become one are told apart (which gets " (2)" is the listing's order).
  const entries = Object.entries(unzip(zipped.path)).sort(([a], [b]) => a.localeCompare(b));
  assert.deepEqual(entries.map(([name]) => name), ["_nul.txt", "a_b__c_ (2).txt", "a_b__c_.txt", "C_/boot.ini", "trail"]);
  assert.deepEqual(entries.map(([, text]) => text).sort(), ["device\n", "dots\n", "drive\n", "marks\n", "plain\n"]);

  await page.goto(`${server.endpoint}/#/volumes/wide?tab=files&path=%2Fmany`);
  await page.getByText("The first 1,000 of 1,001 are listed: use `strata fs ls` for all of them.").waitFor();
  assert.equal(await page.locator("tbody tr").count(), 1000);
  await page.goto(`${server.endpoint}/#/volumes/wide?tab=diff&from=wide-base&to=wide`);
  const differences = (await strata.diff("wide-base", "wide")).length;
  assert.ok(differences > 1001, `${differences} differences`);
  await page.getByText(`${differences} differences from wide-base to wide`).waitFor();
  await page.getByText(`The first 1,000 of ${differences.toLocaleString("en-US")} are listed: use \`strata diff wide-base wide\` for all of them.`).waitFor();
  assert.equal(await page.locator("tbody tr").count(), 1000);
  await strata.volume.delete("wide");
  await strata.volume.delete("wide-base");
});

/**
 * Holds the page's requests to URLs matching `pattern` until `release` is called: `reached`
 * resolves when one arrives, `settled` once it has been let through (or was cancelled).
 */
async function hold(t, page, pattern) {
  let release = () => {};
  const held = new Promise((resolve) => (release = resolve));
  let arrived = () => {};
  const reached = new Promise((resolve) => (arrived = resolve));
  let done = () => {};
  const settled = new Promise((resolve) => (done = resolve));
  await page.route(pattern, async (route) => {
    arrived();
    await held;
    await route.continue().catch(() => undefined);
    done();
  });
  t.after(release);
  return { reached, release, settled };
}

test("signing out stops what the key was doing: a page still loading is not shown, an upload is cancelled", async (t) => {
  await strata.volume.get("slow", { create: true });
  const page = await adminPage(t, "sign-out");
  /** Starts what calls `path`, holds that call, signs out while it is held, sees the call
   * cancelled, and lets it go. */
  const signOutDuring = async (/** @type {string} */ path, /** @type {() => Promise<unknown>} */ start) => {
    const held = await hold(t, page, `**${path}**`);
    await start();
    await held.reached;
    const cancelled = page.waitForEvent("requestfailed", (r) => r.url().includes(path));
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API key or scoped token").waitFor();
    await cancelled;
    held.release();
    await held.settled;
  };

  // An upload under way.
  await page.goto(`${server.endpoint}/#/volumes/slow`);
  await page.getByText("This folder is empty.").waitFor();
  await signOutDuring("/v1/volumes/slow/fs/content", () =>
    page.getByLabel("Upload files").setInputFiles([{ name: "late.txt", mimeType: "text/plain", buffer: Buffer.from("late\n") }]),
  );
  await assert.rejects(strata.fs.stat("slow", "/late.txt"), NotFound);

  // A page still loading.
  await signIn(page, server.token);
  await signOutDuring("/v1/volumes/slow/fs/list", () => page.goto(`${server.endpoint}/#/volumes/slow`));
  // The page that was loading never replaces the sign-in form, and nothing is said of it.
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  assert.equal(await page.getByRole("heading", { name: "slow" }).count(), 0);
  assert.equal(await page.locator("#status").isHidden(), true);
  assert.equal(await page.getByText(/Error|Uploaded/).count(), 0);
  assert.equal(await page.evaluate(() => document.getElementById("main")?.inert), false);
});

test("forks and snapshots as a tree: fork, snapshot, restore, delete; the diff of any two; the history", async (t) => {
  await strata.volume.create("tree");
  await strata.fs.put("tree", "/a.txt", "one\n");
  const page = await adminPage(t, "family");
  await page.goto(`${server.endpoint}/#/volumes/tree?tab=family`);
  await page.getByRole("button", { name: "Snapshot tree" }).click();
  await page.getByLabel("Snapshot name").fill("v1");
  await page.getByRole("button", { name: "OK" }).click();
  await page.getByRole("link", { name: "tree@v1" }).waitFor();
  await page.getByRole("button", { name: "Fork tree", exact: true }).click();
  await page.getByLabel("Name of the fork").fill("tree-try");
  await page.getByRole("button", { name: "OK" }).click();
  await page.getByRole("link", { name: "tree-try" }).waitFor();
  // A fork of the snapshot too, and a fork of the fork: all in one tree.
  await page.getByRole("button", { name: "Fork tree@v1" }).click();
  await page.getByLabel("Name of the fork").fill("tree-old");
  await page.getByRole("button", { name: "OK" }).click();
  await page.getByRole("link", { name: "tree-old" }).waitFor();
  await strata.fork("tree-try", "tree-deeper");
  await strata.fs.put("tree-try", "/a.txt", "two\n");
  await strata.fs.put("tree-try", "/b.txt", "new\n");
  await strata.fs.put("tree", "/a.txt", "changed after v1\n");
  await page.reload();
  await page.getByRole("link", { name: "tree-deeper" }).waitFor();
  // tree-deeper sits inside tree-try's list.
  assert.equal(await page.locator("li", { has: page.getByRole("link", { name: "tree-try", exact: true }) }).getByRole("link", { name: "tree-deeper" }).count(), 1);
  await shoot(page, "volume-family");
  await accessible(page, "family");

  await page.getByRole("button", { name: "Restore tree to v1" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Restore" }).click();
  await page.getByText("Restored tree to v1.").waitFor();
  assert.equal(await strata.fs.text("tree", "/a.txt"), "one\n");

  await page.getByRole("link", { name: "Diff" }).click();
  await page.getByLabel("From").selectOption("tree");
  await page.getByLabel("To").selectOption("tree-try");
  await page.getByRole("button", { name: "Compare" }).click();
  await page.getByText("2 differences from tree to tree-try").waitFor();
  assert.equal(await page.getByRole("row", { name: "/a.txt ~ changed" }).count(), 1);
  assert.equal(await page.getByRole("row", { name: "/b.txt + added" }).count(), 1);
  await shoot(page, "volume-diff");
  await accessible(page, "diff");

  // The history: one row per window of changes, newest first; the oldest starts from nothing.
  const points = await strata.volume.history("tree");
  assert.ok(points.length >= 1);
  await page.getByRole("link", { name: "History" }).click();
  await page.getByRole("heading", { name: "History" }).waitFor();
  assert.equal(await page.locator("tbody tr").count(), points.length);
  await shoot(page, "volume-history");
  await accessible(page, "history");
  const oldest = page.locator("tbody tr").last();
  await oldest.getByRole("link", { name: "Browse before" }).click();
  await page.getByRole("heading", { name: /^tree@/, level: 1 }).waitFor();
  await page.getByText("a past moment (read-only)").waitFor();
  await page.getByText("This folder is empty.").waitFor();
  assert.equal(await page.getByRole("button", { name: "Make folder" }).count(), 0);
  await page.goBack();
  await page.getByRole("heading", { name: "History" }).waitFor();
  await page.locator("tbody tr").last().getByRole("button", { name: "Restore to before" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Restore" }).click();
  await page.getByText(/^Restored tree to /).waitFor();
  assert.deepEqual(await strata.fs.list("tree", "/"), []);

  await page.getByRole("link", { name: "Forks & snapshots" }).click();
  await page.getByRole("button", { name: "Delete snapshot tree@v1" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await page.getByText("Deleted tree@v1.").waitFor();
  assert.deepEqual(await strata.snapshot.list("tree"), []);
  await page.getByRole("button", { name: "Delete tree-deeper" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await page.getByText("Deleted tree-deeper.").waitFor();
});

test("mounts: a live mount and a sandbox's volumes are listed", async (t) => {
  await strata.volume.create("live");
  const at = join(server.home, "mnt-live");
  mkdirSync(at, { recursive: true });
  await server.cli("mount", "live", at);
  const sandbox = await strata.create({ volumes: [{ volumeId: (await strata.volume.get("live")).id, mountPath: "/data", readOnly: true }] });
  try {
    const page = await adminPage(t, "mounts");
    await page.getByRole("link", { name: "Mounts" }).click();
    await page.getByRole("heading", { name: "Mounts" }).waitFor();
    const live = await strata.sessions.list();
    await page.getByText(`${live.length} live ${live.length === 1 ? "mount" : "mounts"}`).waitFor();
    assert.ok(live.length >= 2, "the CLI's mount and the sandbox's");
    assert.ok((await page.getByRole("row").filter({ hasText: "read-write" }).filter({ hasText: "live" }).count()) >= 1);
    await page.getByRole("row").filter({ hasText: "/data" }).filter({ hasText: "read-only" }).waitFor();
    await shoot(page, "mounts");
    await accessible(page, "mounts");
  } finally {
    await sandbox.delete();
    await server.cli("umount", at);
  }
});

test("sandboxes: create with a volume at a subpath, read-only; console; upload and download; delete", async (t) => {
  const vol = await strata.volume.create("boxed");
  await strata.fs.put("boxed", "/team/a/hello.txt", "hello\n");
  await strata.fs.put("boxed", "/shared/ref.txt", "reference\n");
  const page = await adminPage(t, "sandboxes");
  await page.getByRole("link", { name: "Sandboxes" }).click();
  await page.getByLabel("Volume 1").selectOption({ label: "boxed" });
  await page.getByLabel("Mount path 1").fill("/work");
  await page.getByLabel("Subpath 1").fill("team/a");
  await page.getByRole("button", { name: "Add a volume" }).click();
  await page.getByLabel("Volume 2").selectOption({ label: "boxed" });
  await page.getByLabel("Mount path 2").fill("/ref");
  await page.getByLabel("Subpath 2").fill("shared");
  await page.getByLabel("Read-only 2").check();
  await shoot(page, "sandboxes");
  await accessible(page, "sandboxes");
  await page.getByRole("button", { name: "Create sandbox" }).click();
  await page.getByRole("heading", { name: /^Sandbox / }).waitFor();
  const id = page.url().split("/").pop();

  const run = async (line) => {
    await page.getByLabel("Command", { exact: true }).fill(line);
    await page.getByRole("button", { name: "Run" }).click();
  };
  await run("cat /work/hello.txt /ref/ref.txt");
  await page.getByText("[exit code 0]").waitFor();
  assert.match(await page.getByLabel("Command output").textContent(), /hello\nreference\n/);
  await run("echo no > /ref/x.txt");
  await page.getByText(/\[exit code [1-9]/).waitFor();
  assert.match(await page.getByLabel("Command output").textContent(), /Read-only file system/);

  await page.getByLabel("File to upload").setInputFiles({ name: "input.csv", mimeType: "text/csv", buffer: Buffer.from("a,b\n1,2\n") });
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await page.getByText("Uploaded input.csv (8 B) to /work/input.csv.").waitFor();
  assert.equal(await strata.fs.text("boxed", "/team/a/input.csv"), "a,b\n1,2\n");
  await page.getByLabel("Download from (absolute path)").fill("/work/hello.txt");
  const file = await downloaded(page, () => page.getByRole("button", { name: "Download", exact: true }).click());
  assert.equal(readFileSync(file.path, "utf8"), "hello\n");
  await shoot(page, "sandbox");
  await accessible(page, "sandbox");

  await page.getByRole("link", { name: "Sandboxes", exact: true }).first().click();
  await page.getByRole("button", { name: `Delete sandbox ${id}` }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await page.getByText(`Deleted sandbox ${id}.`).waitFor();
  assert.ok(!(await strata.sandbox.list()).some((s) => s.id === id));
  assert.equal((await strata.volume.get("boxed")).id, vol.id);
});

test("access: keys with their secret shown once, scoped tokens, revocation, organizations and quotas", async (t) => {
  await strata.volume.get("shared", { create: true });
  const page = await adminPage(t, "access");
  await page.getByRole("link", { name: "Access" }).click();
  await page.getByLabel("Key name").fill("ci-runner");
  await page.getByRole("button", { name: "Create key" }).click();
  await page.getByRole("heading", { name: "The secret of ci-runner" }).waitFor();
  const secret = await page.locator(".secret-value").textContent();
  // The new key is listed at once, without its secret.
  await page.getByRole("button", { name: "Revoke ci-runner" }).waitFor();
  assert.equal(await page.getByRole("table").getByText(secret).count(), 0);
  assert.equal((await new Strata({ endpoint: server.endpoint, token: secret }).whoami()).key_name, "ci-runner");

  await page.getByLabel("Volume", { exact: true }).selectOption("shared");
  await page.getByLabel("Folder (empty: all of it)").fill("users/bob");
  await page.getByLabel("Read-only").check();
  await page.getByLabel("Token name (optional)").fill("bob");
  await page.getByRole("button", { name: "Create token" }).click();
  await page.getByRole("heading", { name: "The secret of the token bob" }).waitFor();
  const token = await page.locator(".secret-value").textContent();
  const bob = await new Strata({ endpoint: server.endpoint, token }).whoami();
  assert.deepEqual([bob.scope?.volume, bob.scope?.subpath, bob.scope?.read_only], ["shared", "/users/bob", true]);

  await page.getByLabel("Organization name").fill("acme");
  await page.getByRole("button", { name: "Create organization" }).click();
  await page.getByText("Created the organization acme.").waitFor();
  await page.getByLabel("Organization", { exact: true }).selectOption("acme");
  await page.getByLabel("Quota in GiB (empty: none)").fill("2");
  await page.getByRole("button", { name: "Set quota" }).click();
  await page.getByText("acme's quota is 2.0 GiB.").waitFor();
  assert.equal((await strata.org.get("acme")).quota_bytes, 2 * 2 ** 30);
  // The secret is not shown again once the page is drawn anew.
  assert.equal(await page.locator(".secret-value").count(), 0);
  await shoot(page, "access");
  await accessible(page, "access");

  await page.getByRole("button", { name: "Revoke ci-runner" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Revoke" }).click();
  await page.getByText("Revoked ci-runner.").waitFor();
  await assert.rejects(new Strata({ endpoint: server.endpoint, token: secret }).whoami());
});

test("a scoped token sees only its folder, and a read-only one is offered no change", async (t) => {
  await strata.volume.get("shared", { create: true });
  await strata.fs.put("shared", "/users/carol/mine.txt", "carol's\n");
  await strata.fs.put("shared", "/users/dave/theirs.txt", "dave's\n");
  const made = await strata.keys.token({ volume: "shared", subpath: "users/carol", read_only: true, name: "carol" });
  const opened = await open(browser, server);
  t.after(async () => {
    if (!t.passed) await shoot(opened.page, "failed-scoped");
    await opened.context.close();
  });
  const { page } = opened;
  await signIn(page, made.secret);
  await page.getByText("scoped to shared:/users/carol (read-only)").waitFor();
  assert.deepEqual(await page.getByRole("navigation", { name: "Pages" }).getByRole("link").allTextContents(), ["Overview", "My volume"]);
  await page.getByRole("link", { name: "My volume" }).click();
  await page.getByRole("cell", { name: "mine.txt", exact: true }).waitFor();
  assert.equal(await page.getByText("theirs.txt").count(), 0);
  for (const offered of ["Make folder", "Delete mine.txt", "Rename mine.txt", "Forks & snapshots", "Diff"]) {
    assert.equal(await page.getByRole("button", { name: offered }).or(page.getByRole("link", { name: offered })).count(), 0, offered);
  }
  assert.equal(await page.getByLabel("Upload files").count(), 0);
  await shoot(page, "scoped-volume");
  await accessible(page, "scoped volume");
  stayedHome(opened.requests, server);
});

test("a member is not offered what only key admins may do; a bad key is refused; sign out forgets the key", async (t) => {
  const { secret } = await strata.keys.create({ name: "member-only", role: "member" });
  const opened = await open(browser, server);
  t.after(() => opened.context.close());
  const { page } = opened;
  await page.getByLabel("API key or scoped token").fill("not-a-key");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText(/Not signed in: /).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await page.getByLabel("API key or scoped token").fill(secret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  assert.deepEqual(await page.getByRole("navigation", { name: "Pages" }).getByRole("link").allTextContents(), ["Overview", "Volumes", "Mounts", "Sandboxes"]);
  await page.getByRole("link", { name: "Overview" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Collect garbage now" }).count(), 0);
  // The key lives in this tab's session storage only, and leaves with sign-out.
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("API key or scoped token").waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
});

test("an address that names nothing, or does not decode, shows why and leaves the page usable", async (t) => {
  const page = await adminPage(t, "addresses");
  for (const [hash, why] of [["#/volumes/%E0%A4%A", /Error: .*volume/], ["#/volumes/nosuch", /Error: .*nosuch/], ["#/sandboxes/not-an-id", /Error: .*not-an-id/]]) {
    await page.goto(`${server.endpoint}/${hash}`);
    await page.getByRole("heading", { name: "Something went wrong" }).waitFor();
    await page.getByText(why).waitFor();
    assert.equal(await page.evaluate(() => document.getElementById("main")?.inert), false);
  }
  await page.getByRole("link", { name: "Volumes" }).click();
  await page.getByRole("heading", { name: "Volumes", level: 1 }).waitFor();
});

test("the overview shows the server's metrics, and an admin collects garbage from it", async (t) => {
  const page = await adminPage(t, "overview");
  await page.getByRole("link", { name: "Overview" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  const version = (await strata.health()).version;
  await page.getByText(version, { exact: true }).waitFor();
  await page.getByRole("row").filter({ hasText: "/v1/volumes" }).first().waitFor();
  await page.getByRole("button", { name: "Collect garbage now" }).click();
  await page.getByText(/^Collected: /).waitFor();
  await shoot(page, "overview");
  await accessible(page, "overview");
});

test("at phone width every page fits the screen, and the keyboard reaches and works the controls", async (t) => {
  await strata.volume.get("shared", { create: true });
  const page = await adminPage(t, "phone", { viewport: { width: 390, height: 844 } });
  for (const [hash, heading] of [
    ["#/volumes", "Volumes"],
    ["#/volumes/shared", "shared"],
    ["#/mounts", "Mounts"],
    ["#/sandboxes", "Sandboxes"],
    ["#/access", "Access"],
    ["#/overview", "Overview"],
  ]) {
    await page.goto(`${server.endpoint}/${hash}`);
    await page.getByRole("heading", { name: heading, level: 1 }).waitFor();
    const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert.ok(scroll <= width, `${hash} is ${scroll}px wide on a ${width}px screen`);
    await accessible(page, `${hash} at phone width`);
  }
  await shoot(page, "phone-overview");
  await page.goto(`${server.endpoint}/#/volumes`);
  await page.getByRole("heading", { name: "Volumes", level: 1 }).waitFor();
  await shoot(page, "phone-volumes");

  // Tab from the top: the skip link first, then the pages; Enter follows a link.
  await page.reload();
  await page.getByRole("heading", { name: "Volumes", level: 1 }).waitFor();
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Overview");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
  // A form is filled and sent with the keyboard alone.
  await page.goto(`${server.endpoint}/#/volumes`);
  await page.getByLabel("Name").focus();
  await page.keyboard.type("typed");
  await page.keyboard.press("Enter");
  await page.getByText("Created volume typed.").waitFor();
  // Other tests' volumes may push it to a later page: find it.
  await page.getByLabel("Search").fill("typed");
  await page.getByLabel("Search").press("Enter");
  await page.getByText("1 volume matching “typed”").waitFor();
  // A confirmation dialog is answered with the keyboard, and Escape declines it.
  await page.getByRole("button", { name: "Delete typed" }).focus();
  await page.keyboard.press("Enter");
  await page.getByRole("dialog").waitFor();
  // Cancel has the focus, so a second Enter deletes nothing; Escape declines as well.
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Cancel");
  await page.keyboard.press("Enter");
  assert.equal(await page.getByRole("dialog").count(), 0);
  await page.getByRole("button", { name: "Delete typed" }).focus();
  await page.keyboard.press("Enter");
  await page.getByRole("dialog").waitFor();
  await page.keyboard.press("Escape");
  assert.equal(await page.getByRole("dialog").count(), 0);
  assert.equal((await strata.volume.get("typed")).name, "typed");
});
