// One volume: its files (browse, upload, download, zip a folder, mkdir, rename, delete,
// preview), its forks and snapshots as a tree, a diff between any two of them, and its
// history.
import { h, table, field, choice, confirm, ask, say, why, attempt, cancelled, download, link, submitting } from "../ui.js";
import { bytes, count, time, ago, mode, rfc3339 } from "../format.js";
import { zip } from "../zip.js";
import { NotFound } from "../sdk/index.js";

/** @typedef {import("../main.js").App} App */
/** @typedef {import("../sdk/index.js").Volume} Volume */
/** @typedef {{ href: (q: Record<string, string>) => string, readOnly: boolean }} View */

/** The most a folder's zip may hold: the browser builds it in memory. */
const ZIP_MAX_FILES = 5000;
const ZIP_MAX_BYTES = 512 << 20;
/** The most of a file shown as text, and the largest image shown: only that much is fetched. */
const PREVIEW_MAX = 1 << 20;
const IMAGE_MAX = 16 << 20;
/** The largest file downloaded: the browser holds it in memory first. */
const DOWNLOAD_MAX = 1 << 30;
/** The most rows a listing draws: a folder or a diff of millions would freeze the tab. */
const ROWS_MAX = 1000;
/** Images shown as pictures (SVG, a document that can hold scripts, is shown as text). */
const IMAGES = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp" };

const TABS = [
  ["files", "Files"],
  ["family", "Forks & snapshots"],
  ["diff", "Diff"],
  ["history", "History"],
];

/** A path's parent folder and last name. */
function split(path) {
  const at = path.lastIndexOf("/");
  return { parent: path.slice(0, at) || "/", name: path.slice(at + 1) };
}

const join = (dir, name) => (dir === "/" ? `/${name}` : `${dir}/${name}`);

/**
 * @param {App} app
 * @param {string[]} parts
 * @param {URLSearchParams} query
 */
export async function render(app, parts, query) {
  const name = parts[0] ?? "";
  const vol = await app.strata.volume.get(name);
  const asked = query.get("tab") ?? "files";
  const tab = app.can.org && TABS.some(([id]) => id === asked) ? asked : "files";
  const href = (/** @type {Record<string, string>} */ q) => `#/volumes/${encodeURIComponent(vol.name)}?${new URLSearchParams(q)}`;
  const readOnly = Boolean(vol.snapshot_of || vol.moment_at || app.me.scope?.read_only);

  const tabs = h(
    "nav",
    { class: "tabs", "aria-label": "Views of the volume" },
    h(
      "ul",
      {},
      ...TABS.filter(([id]) => id === "files" || app.can.org).map(([id, label]) =>
        h("li", {}, h("a", { href: href({ tab: id }), "aria-current": id === tab ? "page" : false }, label)),
      ),
    ),
  );
  const facts = h(
    "dl",
    { class: "facts" },
    h("dt", {}, "Used"),
    h("dd", {}, bytes(vol.used_bytes)),
    h("dt", {}, "Files"),
    h("dd", {}, count(vol.file_count)),
    h("dt", {}, "Created"),
    h("dd", {}, time(vol.created_at)),
    h("dt", {}, "Last changed"),
    h("dd", {}, time(vol.updated_at)),
    h("dt", {}, "Last used"),
    h("dd", {}, time(vol.last_used_at)),
    h("dt", {}, "Kind"),
    h("dd", {}, vol.moment_at ? "a past moment (read-only)" : vol.snapshot_of ? "snapshot (read-only)" : vol.forked_from ? "fork" : "volume"),
    h("dt", {}, "Id"),
    h("dd", {}, h("code", {}, vol.id)),
  );
  const views = { files, family, diff, history };
  const view = await views[tab](app, vol, query, { href, readOnly });
  return h(
    "section",
    { "aria-labelledby": "volume-title" },
    h("p", { class: "crumbs" }, app.can.org ? link("Volumes", "#/volumes") : "Volume", " / "),
    h("h1", { id: "volume-title" }, vol.name),
    facts,
    tabs,
    view,
  );
}

/**
 * The file browser of one folder.
 * @param {App} app
 * @param {Volume} vol
 * @param {URLSearchParams} query
 * @param {View} view
 */
async function files(app, vol, query, { href, readOnly }) {
  const dir = query.get("path") || "/";
  const entries = await app.strata.fs.list(vol.name, dir);
  entries.sort((a, b) => Number(b.stat.kind === "directory") - Number(a.stat.kind === "directory") || a.name.localeCompare(b.name));
  const preview = h("section", { class: "preview", "aria-label": "Preview", hidden: true });
  const at = (/** @type {string} */ path) => href({ tab: "files", path });

  /** @type {(HTMLElement | string)[]} */
  const crumbs = [link(vol.name, at("/"))];
  let walked = "";
  for (const part of dir.split("/").filter(Boolean)) {
    walked += `/${part}`;
    crumbs.push(" / ", link(part, at(walked)));
  }

  let previews = 0;
  const show = async (/** @type {string} */ path, /** @type {number} */ size) => {
    const mine = ++previews;
    const ext = (path.split(".").pop() ?? "").toLowerCase();
    const image = Object.hasOwn(IMAGES, ext);
    // An image listed as too large is not fetched (`null`); one byte more than an image may
    // have tells one that grew since.
    const data =
      image && size > IMAGE_MAX ? null : await attempt(() => app.strata.fs.get(vol.name, path, { limit: image ? IMAGE_MAX + 1 : PREVIEW_MAX }));
    // Only the file asked for last is shown, whichever answers last.
    if ((data !== null && !(data instanceof Uint8Array)) || mine !== previews) return;
    preview.hidden = false;
    preview.replaceChildren(h("h2", {}, `Preview of ${split(path).name}`));
    if (image && (data === null || data.length > IMAGE_MAX)) {
      preview.append(h("p", {}, `An image over ${bytes(IMAGE_MAX)}: download it to open it.`));
    } else if (image) {
      const url = URL.createObjectURL(new Blob([/** @type {BlobPart} */ (data)], { type: IMAGES[ext] }));
      const done = () => URL.revokeObjectURL(url);
      preview.append(h("img", { src: url, alt: `The image ${split(path).name}`, onload: done, onerror: done }));
    } else {
      const text = new TextDecoder("utf-8", { fatal: false }).decode(data);
      if (data.includes(0)) preview.append(h("p", {}, `A binary file of ${bytes(size)}: download it to open it.`));
      else {
        preview.append(h("pre", { tabindex: "0" }, text));
        if (size > PREVIEW_MAX) preview.append(h("p", {}, `The first ${bytes(PREVIEW_MAX)} of ${bytes(size)}.`));
      }
    }
    preview.querySelector("h2")?.setAttribute("tabindex", "-1");
    /** @type {HTMLElement | null} */ (preview.querySelector("h2"))?.focus();
  };

  const [listed, more] = bounded(entries, "use `strata fs ls` for all of them.");
  const rows = listed.map((e) => {
    const path = join(dir, e.name);
    const isDir = e.stat.kind === "directory";
    const actions = h("div", { class: "actions" });
    if (isDir) {
      actions.append(h("button", { type: "button", onclick: () => zipFolder(app, vol.name, path) }, "Download zip"));
    } else if (e.stat.kind === "file") {
      actions.append(
        h("button", { type: "button", onclick: () => show(path, e.stat.size), "aria-label": `Preview ${e.name}` }, "Preview"),
        h(
          "button",
          { type: "button", "aria-label": `Download ${e.name}`, onclick: async () => {
            const tooLarge = `${path} is over ${bytes(DOWNLOAD_MAX)}: use \`strata fs get\` for it.`;
            if (e.stat.size > DOWNLOAD_MAX) return say(tooLarge, "error");
            const data = await attempt(() => app.strata.fs.get(vol.name, path, { limit: DOWNLOAD_MAX + 1 }));
            if (!(data instanceof Uint8Array)) return;
            if (data.length > DOWNLOAD_MAX) return say(tooLarge, "error");
            download(data, e.name);
          } },
          "Download",
        ),
      );
    }
    if (!readOnly) {
      actions.append(
        h("button", { type: "button", "aria-label": `Rename ${e.name}`, onclick: async () => {
          const to = await ask(`Move or rename ${path} to:`, "New path", path);
          if (!to || to === path) return;
          if (await attempt(() => app.strata.fs.rename(vol.name, path, to), `Moved ${path} to ${to}.`) !== undefined) await app.refresh();
        } }, "Rename"),
        h("button", { type: "button", class: "danger", "aria-label": `Delete ${e.name}`, onclick: async () => {
          const what = isDir ? `the folder ${path} and everything in it` : `the file ${path}`;
          if (!(await confirm(`Delete ${what}?`, "Delete"))) return;
          if (await attempt(() => app.strata.fs.remove(vol.name, path, { recursive: isDir }), `Deleted ${path}.`) !== undefined) await app.refresh();
        } }, "Delete"),
      );
    }
    return [
      isDir ? link(`${e.name}/`, at(path)) : e.stat.kind === "symlink" ? `${e.name} → ${e.stat.target ?? ""}` : e.name,
      isDir ? "folder" : e.stat.kind,
      isDir ? "—" : bytes(e.stat.size),
      h("code", {}, mode(e.stat.mode)),
      h("span", { title: time(e.stat.mtime) }, ago(e.stat.mtime)),
      actions,
    ];
  });

  const tools = h("div", { class: "tools" });
  if (!readOnly) {
    const folder = field("New folder", { name: "folder", autocomplete: "off", placeholder: "name" });
    tools.append(
      h(
        "form",
        { class: "inline", "aria-label": "Make a folder", onsubmit: submitting(async () => {
          const made = folder.input.value.trim();
          if (!made) return say("Name the folder.", "error");
          if (await attempt(() => app.strata.fs.mkdir(vol.name, join(dir, made)), `Made ${join(dir, made)}.`)) await app.refresh();
        }) },
        folder.wrap,
        h("button", { type: "submit" }, "Make folder"),
      ),
      uploader(app, vol.name, dir),
    );
  }
  tools.append(h("button", { type: "button", onclick: () => zipFolder(app, vol.name, dir) }, "Download this folder as zip"));

  return h(
    "section",
    { "aria-label": "Files" },
    h("nav", { class: "crumbs", "aria-label": "Folder" }, ...crumbs),
    tools,
    table(`Files in ${dir}`, ["Name", "Kind", "Size", "Mode", "Modified", "Actions"], rows, "This folder is empty."),
    more,
    preview,
  );
}

/**
 * The first ROWS_MAX of `items`, and a note of what is left out (`null` when nothing is).
 * @template T
 * @param {T[]} items
 * @param {string} elsewhere where to find them all
 * @returns {[T[], HTMLElement | null]}
 */
function bounded(items, elsewhere) {
  if (items.length <= ROWS_MAX) return [items, null];
  return [items.slice(0, ROWS_MAX), h("p", { class: "help" }, `The first ${count(ROWS_MAX)} of ${count(items.length)} are listed: ${elsewhere}`)];
}

/** Files dropped or chosen, with their paths below `dir`; folders dropped are walked with a
 * queue (no recursion on a depth the user chose). */
async function dropped(/** @type {DataTransfer} */ transfer) {
  /** @type {{ path: string, file: File }[]} */
  const found = [];
  /** @type {any[]} */
  const queue = [];
  for (const item of [...transfer.items]) {
    const entry = item.webkitGetAsEntry?.();
    if (entry) queue.push(entry);
    else {
      const file = item.getAsFile();
      if (file) found.push({ path: file.name, file });
    }
  }
  while (queue.length) {
    const entry = queue.shift();
    if (entry.isFile) {
      const file = await new Promise((ok, fail) => entry.file(ok, fail));
      found.push({ path: entry.fullPath.replace(/^\//, ""), file });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
        if (!batch.length) break;
        queue.push(...batch);
      }
    }
  }
  return found;
}

/**
 * The upload control: choose files or drop them (folders too), with progress.
 * @param {App} app
 * @param {string} volume
 * @param {string} dir
 */
function uploader(app, volume, dir) {
  const progress = /** @type {HTMLProgressElement} */ (h("progress", { max: "1", value: "0", "aria-label": "Upload progress" }));
  const told = h("span", { class: "progress-text" });
  const state = h("div", { class: "upload-state", hidden: true }, progress, told);
  const send = async (/** @type {{ path: string, file: File }[]} */ items) => {
    if (!items.length) return;
    const total = items.reduce((n, i) => n + i.file.size, 0) || 1;
    let done = 0;
    state.hidden = false;
    progress.max = total;
    for (const [n, item] of items.entries()) {
      told.textContent = `Uploading ${n + 1} of ${items.length}: ${item.path} (${bytes(done)} of ${bytes(total)})`;
      try {
        await app.strata.fs.put(volume, join(dir, item.path), item.file);
      } catch (e) {
        if (!cancelled(e)) say(`Upload of ${item.path} failed: ${why(e)}`, "error");
        return;
      }
      done += item.file.size;
      progress.value = done;
    }
    told.textContent = `Uploaded ${items.length} ${items.length === 1 ? "file" : "files"} (${bytes(done)}).`;
    await app.refresh();
    say(`Uploaded ${items.length} ${items.length === 1 ? "file" : "files"} to ${dir}.`);
  };
  const chooser = field("Upload files", { type: "file", multiple: true });
  chooser.input.addEventListener("change", () => send([...(chooser.input.files ?? [])].map((file) => ({ path: file.name, file }))));
  const zone = h(
    "div",
    {
      class: "dropzone",
      "data-testid": "dropzone",
      ondragover: (/** @type {DragEvent} */ e) => (e.preventDefault(), zone.classList.add("over")),
      ondragleave: () => zone.classList.remove("over"),
      ondrop: async (/** @type {DragEvent} */ e) => {
        e.preventDefault();
        zone.classList.remove("over");
        if (!e.dataTransfer) return;
        const transfer = e.dataTransfer;
        const items = await attempt(() => dropped(transfer));
        if (Array.isArray(items)) await send(items);
      },
    },
    "Or drop files and folders here",
  );
  return h("div", { class: "uploader" }, chooser.wrap, zone, state);
}

/**
 * Downloads a folder and all below it as one zip (walked with a queue, bounded).
 * @param {App} app
 * @param {string} volume
 * @param {string} dir
 */
async function zipFolder(app, volume, dir) {
  const files = [];
  const queue = [dir];
  // Folders count as entries too. Sizes are checked as listed, and again as received: a file
  // may grow meanwhile.
  let entries = 0;
  let size = 0;
  let gone = 0;
  const tooLarge = () => say(`${dir} holds more than ${ZIP_MAX_FILES} files and folders or ${bytes(ZIP_MAX_BYTES)}: use \`strata fs get -r\` for it.`, "error");
  /** What `read` gives; `undefined` for what was removed since it was listed (the zip is of
   * what is there). */
  const unlessGone = async (/** @type {() => Promise<any>} */ read) => {
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
      gone++;
      return undefined;
    }
  };
  say(`Collecting ${dir}…`);
  try {
    while (queue.length) {
      const at = /** @type {string} */ (queue.shift());
      const listed = at === dir ? await app.strata.fs.list(volume, at) : await unlessGone(() => app.strata.fs.list(volume, at));
      for (const e of listed ?? []) {
        if (++entries > ZIP_MAX_FILES) return tooLarge();
        const path = join(at, e.name);
        if (e.stat.kind === "directory") queue.push(path);
        else if (e.stat.kind === "file") {
          if (size + e.stat.size > ZIP_MAX_BYTES) return tooLarge();
          const data = await unlessGone(() => app.strata.fs.get(volume, path, { limit: ZIP_MAX_BYTES - size + 1 }));
          if (!data) continue;
          size += data.length;
          if (size > ZIP_MAX_BYTES) return tooLarge();
          files.push({ name: path.slice(dir === "/" ? 1 : dir.length + 1), data, modified: new Date(e.stat.mtime / 1e6) });
        }
      }
    }
  } catch (e) {
    if (!cancelled(e)) say(why(e), "error");
    return;
  }
  download(zip(files), `${volume}${dir === "/" ? "" : `-${split(dir).name}`}.zip`);
  const skipped = gone ? ` (${gone} removed meanwhile left out)` : "";
  say(`Zipped ${files.length} ${files.length === 1 ? "file" : "files"} of ${dir}${skipped}.`);
}

/**
 * The volumes related to `vol` (its first source, all forks of it and theirs), with snapshots.
 * @param {App} app
 * @param {Volume} vol
 */
async function relatives(app, vol) {
  const all = await app.strata.volume.list();
  const byId = new Map(all.map((v) => [v.id, v]));
  let root = byId.get(vol.snapshot_of ?? vol.id) ?? vol;
  for (let hops = 0; root.forked_from && byId.has(root.forked_from) && hops < all.length; hops++) {
    root = /** @type {any} */ (byId.get(root.forked_from));
  }
  const snapshots = await app.strata.snapshot.list(root.name).catch(() => []);
  /** @type {Map<string, any[]>} */
  const children = new Map();
  for (const v of all) {
    if (v.forked_from) children.set(v.forked_from, [...(children.get(v.forked_from) ?? []), v]);
  }
  // The family, walked breadth-first with a queue.
  const members = [];
  const queue = [root];
  while (queue.length) {
    const v = queue.shift();
    members.push(v);
    queue.push(...(children.get(v.id) ?? []));
  }
  const snaps = new Map();
  for (const m of members) {
    const list = m.id === root.id ? snapshots : await app.strata.snapshot.list(m.name).catch(() => []);
    snaps.set(m.id, list);
  }
  return { root, members, children, snaps };
}

/**
 * The forks and snapshots of the volume's family as a tree.
 * @param {App} app
 * @param {Volume} vol
 */
async function family(app, vol) {
  const { root, children, snaps } = await relatives(app, vol);
  const act = async (/** @type {() => Promise<unknown>} */ action, /** @type {string} */ done) => {
    if ((await attempt(action, done)) !== undefined) {
      await app.refresh();
      say(done);
    }
  };
  const item = (v, isSnapshot, source) => {
    const buttons = h("span", { class: "actions" });
    const name = v.name;
    buttons.append(
      h("button", { type: "button", "aria-label": `Fork ${name}`, onclick: async () => {
        const to = await ask(`Fork ${name} as:`, "Name of the fork");
        if (to) await act(() => app.strata.fork(name, to), `Forked ${name} as ${to}.`);
      } }, "Fork"),
    );
    if (isSnapshot) {
      const short = name.slice(name.indexOf("@") + 1);
      buttons.append(
        h("button", { type: "button", "aria-label": `Restore ${source.name} to ${short}`, onclick: async () => {
          if (await confirm(`Put ${source.name} back as it was at ${short}? Its later changes are gone.`, "Restore")) {
            await act(() => app.strata.snapshot.restore(source.name, short), `Restored ${source.name} to ${short}.`);
          }
        } }, "Restore"),
        h("button", { type: "button", class: "danger", "aria-label": `Delete snapshot ${name}`, onclick: async () => {
          if (await confirm(`Delete the snapshot ${name}?`, "Delete")) await act(() => app.strata.snapshot.delete(source.name, short), `Deleted ${name}.`);
        } }, "Delete"),
      );
    } else {
      buttons.append(
        h("button", { type: "button", "aria-label": `Snapshot ${name}`, onclick: async () => {
          const snap = await ask(`Name a snapshot of ${name}:`, "Snapshot name");
          if (snap) await act(() => app.strata.snapshot.create(name, snap), `Made the snapshot ${name}@${snap}.`);
        } }, "Snapshot"),
      );
      if (v.id !== vol.id) {
        buttons.append(
          h("button", { type: "button", class: "danger", "aria-label": `Delete ${name}`, onclick: async () => {
            if (await confirm(`Delete the volume ${name} and its snapshots?`, "Delete")) await act(() => app.strata.volume.delete(name), `Deleted ${name}.`);
          } }, "Delete"),
        );
      }
    }
    const here = v.id === vol.id ? h("strong", {}, " (this one)") : null;
    return h(
      "li",
      {},
      h("span", { class: "node" }, isSnapshot ? "snapshot " : v.forked_from ? "fork " : "volume ", link(name, `#/volumes/${encodeURIComponent(name)}`), here, ` · ${bytes(v.used_bytes)} · ${ago(v.created_at)}`),
      " ",
      buttons,
    );
  };
  // Built with a stack: each volume's list holds its snapshots, then its forks' items.
  const top = h("ul", { class: "tree", role: "list" });
  const stack = [{ v: root, into: top }];
  while (stack.length) {
    const { v, into } = /** @type {{ v: any, into: HTMLElement }} */ (stack.pop());
    const li = item(v, false, null);
    into.append(li);
    const kids = [...(snaps.get(v.id) ?? []).map((s) => ({ s })), ...(children.get(v.id) ?? []).map((f) => ({ f }))];
    if (!kids.length) continue;
    const ul = h("ul", { role: "list" });
    li.append(ul);
    for (const k of kids) if ("s" in k) ul.append(item(k.s, true, v));
    for (const k of [...(children.get(v.id) ?? [])].reverse()) stack.push({ v: k, into: ul });
  }
  return h("section", { "aria-labelledby": "family-title" }, h("h2", { id: "family-title" }, "Forks and snapshots"), top);
}

/**
 * What differs between two members of the family.
 * @param {App} app
 * @param {Volume} vol
 * @param {URLSearchParams} query
 * @param {View} view
 */
async function diff(app, vol, query, { href }) {
  const { members, snaps } = await relatives(app, vol);
  const names = members.flatMap((m) => [m.name, ...(snaps.get(m.id) ?? []).map((s) => s.name)]);
  const source = members.find((m) => m.id === vol.forked_from);
  const from = query.get("from") ?? source?.name ?? (snaps.get(vol.id)?.[0]?.name ?? vol.name);
  const to = query.get("to") ?? vol.name;
  const fromChoice = choice("From", names.map((n) => [n, n]), from);
  const toChoice = choice("To", names.map((n) => [n, n]), to);
  const compare = h(
    "form",
    { class: "inline", "aria-label": "Compare two volumes", onsubmit: (/** @type {Event} */ e) => {
      e.preventDefault();
      app.go(href({ tab: "diff", from: fromChoice.select.value, to: toChoice.select.value }));
    } },
    fromChoice.wrap,
    toChoice.wrap,
    h("button", { type: "submit" }, "Compare"),
  );
  const marks = { added: "+ added", removed: "− removed", changed: "~ changed" };
  let result = h("p", {}, "Choose two and compare.");
  if (query.get("from") || query.get("to") || source) {
    const entries = await app.strata.diff(from, to);
    const [listed, more] = bounded(entries, `use \`strata diff ${from} ${to}\` for all of them.`);
    result = h(
      "div",
      {},
      table(
        `${entries.length} ${entries.length === 1 ? "difference" : "differences"} from ${from} to ${to}`,
        ["Path", "Change"],
        listed.map((e) => [h("code", {}, e.path), marks[e.change] ?? e.change]),
        `${from} and ${to} hold the same files.`,
      ),
      more,
    );
  }
  return h("section", { "aria-labelledby": "diff-title" }, h("h2", { id: "diff-title" }, "Diff"), compare, result);
}

/**
 * The windows of changes the volume's history keeps, with a way back to each.
 * @param {App} app
 * @param {Volume} vol
 */
async function history(app, vol) {
  const points = await app.strata.volume.history(vol.name);
  const rows = points.map((p) => [
    `${time(p.first_change)} – ${time(p.last_change)}`,
    count(p.changes),
    bytes(p.bytes),
    h(
      "span",
      { class: "actions" },
      link("Browse before", `#/volumes/${encodeURIComponent(`${vol.name}@${rfc3339(p.before)}`)}`),
      h("button", { type: "button", onclick: async () => {
        if (!(await confirm(`Return ${vol.name} to how it was at ${time(p.before)}? What came after stays in its history.`, "Restore"))) return;
        if ((await attempt(() => app.strata.volume.restore(vol.name, rfc3339(p.before)))) !== undefined) {
          await app.refresh();
          say(`Restored ${vol.name} to ${time(p.before)}.`);
        }
      } }, "Restore to before"),
    ),
  ]);
  return h(
    "section",
    { "aria-labelledby": "history-title" },
    h("h2", { id: "history-title" }, "History"),
    table("Windows of changes, newest first", ["When", "Changes", "Bytes written", "Actions"], rows, "No history is kept for this volume yet."),
  );
}
