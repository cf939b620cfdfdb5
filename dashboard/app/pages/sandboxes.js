// Sandboxes: create one with volumes mounted (volume, path, subpath, read-only), list them;
// one sandbox: an exec console, upload and download of files, delete.
import { h, table, field, choice, confirm, say, why, attempt, download, link, submitting } from "../ui.js";
import { time, ago, bytes } from "../format.js";

/** @param {import("../main.js").App} app */
export async function render(app, parts) {
  if (parts[0]) return one(app, parts[0]);
  const [sandboxes, volumes] = await Promise.all([app.strata.sandbox.list(), app.strata.volume.list()]);
  const names = volumes.map((v) => [v.id, v.name]);

  const mountRows = h("div", { class: "mount-rows" });
  const addMount = () => {
    const n = mountRows.children.length + 1;
    const volume = choice(`Volume ${n}`, /** @type {[string, string][]} */ (names));
    const path = field(`Mount path ${n}`, { value: n === 1 ? "/workspace" : `/volume${n}`, required: true });
    const subpath = field(`Subpath ${n}`, { placeholder: "e.g. users/alice (empty: all of it)" });
    const readOnly = field(`Read-only ${n}`, { type: "checkbox" });
    const row = h("fieldset", { class: "mount-row" }, h("legend", {}, `Volume mount ${n}`), volume.wrap, path.wrap, subpath.wrap, readOnly.wrap);
    Object.assign(row, { read: () => ({ volumeId: volume.select.value, mountPath: path.input.value.trim(), subpath: subpath.input.value.trim() || null, readOnly: readOnly.input.checked }) });
    mountRows.append(row);
  };
  if (names.length) addMount();
  const network = choice("Network", [["none", "None"], ["outbound", "Outbound"]], "none");
  const create = h(
    "form",
    { "aria-label": "Create a sandbox", onsubmit: submitting(async () => {
      const volumes = [...mountRows.children].map((row) => /** @type {any} */ (row).read());
      say("Starting the sandbox…");
      const made = await attempt(() => app.strata.create({ volumes, network: /** @type {any} */ (network.select.value) }));
      if (made) app.go(`#/sandboxes/${made.id}`);
    }) },
    h("h2", {}, "New sandbox"),
    mountRows,
    h("button", { type: "button", onclick: addMount, disabled: !names.length }, "Add a volume"),
    network.wrap,
    h("button", { type: "submit" }, "Create sandbox"),
  );

  const rows = sandboxes.map((s) => [
    link(s.id, `#/sandboxes/${s.id}`),
    s.state,
    h("span", { title: time(s.createdAt) }, ago(s.createdAt)),
    s.volumes.map((v) => `${v.volume}${v.subpath ? `:${v.subpath}` : ""} at ${v.mount_path}${v.read_only ? " (read-only)" : ""}`).join(", ") || "—",
    h("button", { type: "button", class: "danger", "aria-label": `Delete sandbox ${s.id}`, onclick: () => remove(app, s, "#/sandboxes") }, "Delete"),
  ]);
  return h(
    "section",
    { "aria-labelledby": "sandboxes-title" },
    h("h1", { id: "sandboxes-title" }, "Sandboxes"),
    table(`${sandboxes.length} ${sandboxes.length === 1 ? "sandbox" : "sandboxes"}`, ["Id", "State", "Created", "Volumes", "Actions"], rows, "No sandboxes run now."),
    names.length ? create : h("p", {}, "Create a volume first to give a sandbox one."),
  );
}

/**
 * @param {import("../main.js").App} app
 * @param {import("../sdk/index.js").SandboxHandle} sandbox
 * @param {string} after
 */
async function remove(app, sandbox, after) {
  if (!(await confirm(`Delete sandbox ${sandbox.id}? Its processes are killed; its volumes keep their data.`, "Delete"))) return;
  if ((await attempt(() => sandbox.delete())) === undefined) return;
  await app.go(after);
  say(`Deleted sandbox ${sandbox.id}.`);
}

/**
 * @param {import("../main.js").App} app
 * @param {string} id
 */
async function one(app, id) {
  const sandbox = await app.strata.sandbox.get(id);
  const output = h("pre", { class: "console", tabindex: "0", "aria-label": "Command output", "aria-live": "polite" });
  const command = field("Command", { name: "command", autocomplete: "off", placeholder: "ls -la /workspace", required: true });
  const run = h(
    "form",
    { class: "inline", "aria-label": "Run a command", onsubmit: submitting(async () => {
      const line = command.input.value;
      if (!line.trim()) return;
      output.append(`$ ${line}\n`);
      try {
        const r = await sandbox.process.exec(line);
        output.append(r.result, r.stderr, `[exit code ${r.exitCode}${r.timedOut ? ", timed out" : ""}${r.truncated ? ", output truncated" : ""}]\n`);
      } catch (err) {
        output.append(`[failed: ${why(err)}]\n`);
      }
      output.scrollTop = output.scrollHeight;
      command.input.select();
    }) },
    command.wrap,
    h("button", { type: "submit" }, "Run"),
  );

  const file = field("File to upload", { type: "file" });
  const uploadTo = field("Upload to (absolute path)", { value: sandbox.volumes[0] ? `${sandbox.volumes[0].mount_path}/` : "/tmp/", required: true });
  const upload = h(
    "form",
    { "aria-label": "Upload a file into the sandbox", onsubmit: submitting(async () => {
      const chosen = file.input.files?.[0];
      if (!chosen) return say("Choose a file first.", "error");
      let to = uploadTo.input.value.trim();
      if (to.endsWith("/")) to += chosen.name;
      await attempt(() => sandbox.fs.uploadFile(chosen, to), `Uploaded ${chosen.name} (${bytes(chosen.size)}) to ${to}.`);
    }) },
    file.wrap,
    uploadTo.wrap,
    h("button", { type: "submit" }, "Upload"),
  );
  const from = field("Download from (absolute path)", { required: true, placeholder: "/workspace/out.txt" });
  const fetchFile = h(
    "form",
    { class: "inline", "aria-label": "Download a file from the sandbox", onsubmit: submitting(async () => {
      const path = from.input.value.trim();
      const data = await attempt(() => sandbox.fs.downloadFile(path));
      if (data) download(data, path.split("/").pop() || "download");
    }) },
    from.wrap,
    h("button", { type: "submit" }, "Download"),
  );
  return h(
    "section",
    { "aria-labelledby": "sandbox-title" },
    h("p", { class: "crumbs" }, link("Sandboxes", "#/sandboxes"), " / "),
    h("h1", { id: "sandbox-title" }, `Sandbox ${sandbox.id.slice(0, 8)}`),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "State"),
      h("dd", {}, sandbox.state),
      h("dt", {}, "Created"),
      h("dd", {}, time(sandbox.createdAt)),
      h("dt", {}, "Network"),
      h("dd", {}, sandbox.network),
      h("dt", {}, "Limits"),
      h("dd", {}, `${sandbox.limits.memory_mib} MiB memory, ${sandbox.limits.millicpus / 1000} CPU, ${sandbox.limits.processes} processes, ${sandbox.limits.disk_mib} MiB disk`),
      h("dt", {}, "Id"),
      h("dd", {}, h("code", {}, sandbox.id)),
    ),
    table(
      "Volumes mounted",
      ["Volume", "Mounted at", "Subpath", "Access"],
      sandbox.volumes.map((v) => [link(v.volume, `#/volumes/${encodeURIComponent(v.volume)}`), h("code", {}, v.mount_path), v.subpath ?? "/", v.read_only ? "read-only" : "read-write"]),
      "No volumes.",
    ),
    h("h2", {}, "Console"),
    run,
    output,
    h("h2", {}, "Files"),
    upload,
    fetchFile,
    h("h2", {}, "Delete"),
    h("button", { type: "button", class: "danger", onclick: () => remove(app, sandbox, "#/sandboxes") }, "Delete sandbox"),
  );
}
