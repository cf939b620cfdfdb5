// The volumes page: every volume with its usage and live mounts; search, sort, pages;
// create, get-or-create, delete one or many.
import { h, table, field, choice, confirm, say, why, attempt, cancelled, link, busy, submitting } from "../ui.js";
import { bytes, count, time, ago } from "../format.js";

const PAGE_SIZE = 20;

const SORTS = {
  name: (a, b) => a.name.localeCompare(b.name),
  size: (a, b) => b.used_bytes - a.used_bytes,
  files: (a, b) => b.file_count - a.file_count,
  created: (a, b) => b.created_at - a.created_at,
  used: (a, b) => b.last_used_at - a.last_used_at,
};

/** @param {import("../main.js").App} app */
export async function render(app, _parts, query) {
  // The list holds volumes and forks; snapshots and past moments are a volume's own.
  const [volumes, sessions] = await Promise.all([app.strata.volume.list(), app.strata.sessions.list()]);
  const mounts = new Map();
  for (const s of sessions) mounts.set(s.volume_id, (mounts.get(s.volume_id) ?? 0) + 1);

  const search = query.get("q") ?? "";
  const asked = query.get("sort") ?? "";
  const sort = Object.hasOwn(SORTS, asked) ? asked : "name";
  const shown = volumes.filter((v) => v.name.includes(search)).sort(SORTS[sort]);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
  const page = Math.min(pages, Math.max(1, Math.floor(Number(query.get("page")) || 1)));
  const slice = shown.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  const go = (/** @type {Record<string, string>} */ changes) => {
    const next = new URLSearchParams({ q: search, sort, page: String(page), ...changes });
    app.go(`#/volumes?${next}`);
  };

  const name = field("Name", { name: "name", required: true, placeholder: "work", pattern: "[a-z0-9][a-z0-9._\\-]{0,62}", autocomplete: "off" });
  const create = async (/** @type {boolean} */ existOk) => {
    const value = name.input.value.trim();
    if (!value) return say("Give the volume a name.", "error");
    const made = await attempt(() => (existOk ? app.strata.volume.get(value, { create: true }) : app.strata.volume.create(value)));
    if (made) {
      say(existOk ? `Volume ${made.name} is ready.` : `Created volume ${made.name}.`);
      await app.refresh();
    }
  };
  const createForm = /** @type {HTMLFormElement} */ (
    h(
      "form",
      { "aria-label": "Create a volume", class: "inline", onsubmit: submitting(() => create(false)) },
      name.wrap,
      h("button", { type: "submit" }, "Create"),
      h("button", { type: "button", onclick: () => busy(createForm, () => create(true)) }, "Get or create"),
    )
  );

  const selected = new Set();
  const remove = async (/** @type {string[]} */ names) => {
    if (names.length === 0) return say("Select the volumes to delete first.", "error");
    const list = names.join(", ");
    if (!(await confirm(`Delete ${names.length === 1 ? "volume" : "volumes"} ${list} and their snapshots? This cannot be undone.`, "Delete"))) return;
    const refused = [];
    for (const n of names) {
      try {
        await app.strata.volume.delete(n);
      } catch (e) {
        if (cancelled(e)) return;
        refused.push(`${n}: ${why(e)}`);
      }
    }
    await app.refresh();
    if (refused.length) say(`Not deleted: ${refused.join("; ")}`, "error");
    else say(`Deleted ${list}.`);
  };

  const rows = slice.map((v) => [
    h("input", {
      type: "checkbox",
      "aria-label": `Select ${v.name}`,
      onchange: (/** @type {Event} */ e) => (/** @type {HTMLInputElement} */ (e.target).checked ? selected.add(v.name) : selected.delete(v.name)),
    }),
    link(v.name, `#/volumes/${encodeURIComponent(v.name)}`),
    v.forked_from ? "fork" : "volume",
    h("span", { title: `${count(v.used_bytes)} bytes` }, bytes(v.used_bytes)),
    count(v.file_count),
    h("span", { title: time(v.created_at) }, ago(v.created_at)),
    h("span", { title: time(v.last_used_at) }, ago(v.last_used_at)),
    String(mounts.get(v.id) ?? 0),
    h("button", { type: "button", class: "danger", onclick: () => remove([v.name]), "aria-label": `Delete ${v.name}` }, "Delete"),
  ]);

  const searchField = field("Search", { type: "search", value: search, name: "q", placeholder: "name contains…" });
  const sortChoice = choice(
    "Sort by",
    [["name", "Name"], ["size", "Size"], ["files", "Files"], ["created", "Created"], ["used", "Last used"]],
    sort,
  );
  sortChoice.select.addEventListener("change", () => go({ sort: sortChoice.select.value, page: "1" }));

  return h(
    "section",
    { "aria-labelledby": "volumes-title" },
    h("h1", { id: "volumes-title" }, "Volumes"),
    createForm,
    h(
      "form",
      { "aria-label": "Find volumes", class: "inline", role: "search", onsubmit: (/** @type {Event} */ e) => (e.preventDefault(), go({ q: searchField.input.value, page: "1" })) },
      searchField.wrap,
      h("button", { type: "submit" }, "Search"),
      sortChoice.wrap,
    ),
    table(
      `${shown.length} ${shown.length === 1 ? "volume" : "volumes"}${search ? ` matching “${search}”` : ""}`,
      ["Select", "Name", "Kind", "Size", "Files", "Created", "Last used", "Live mounts", "Actions"],
      rows,
      search ? "No volume matches." : "No volumes yet: create one above.",
    ),
    h(
      "div",
      { class: "pager" },
      h("button", { type: "button", onclick: () => remove([...selected]) , class: "danger" }, "Delete selected"),
      h("button", { type: "button", disabled: page <= 1, onclick: () => go({ page: String(page - 1) }) }, "Previous page"),
      h("span", {}, `Page ${page} of ${pages}`),
      h("button", { type: "button", disabled: page >= pages, onclick: () => go({ page: String(page + 1) }) }, "Next page"),
    ),
  );
}
