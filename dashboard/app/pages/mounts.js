// The organization's live mounts (mount sessions) and its sandboxes' volumes.
import { h, table, link } from "../ui.js";
import { time, ago } from "../format.js";

/** @param {import("../main.js").App} app */
export async function render(app) {
  const [sessions, sandboxes] = await Promise.all([app.strata.sessions.list(), app.strata.sandbox.list()]);
  const rows = sessions.map((s) => [
    s.volume ? link(s.volume, `#/volumes/${encodeURIComponent(s.volume)}`) : `(deleted) ${s.volume_id}`,
    s.read_only ? "read-only" : "read-write",
    h("span", { title: time(s.created_at) }, ago(s.created_at)),
    time(s.alive_until),
    s.key ?? "—",
    s.id ? h("code", {}, s.id) : "—",
  ]);
  const inSandboxes = sandboxes.flatMap((s) =>
    s.volumes.map((v) => [
      link(s.id.slice(0, 8), `#/sandboxes/${s.id}`),
      s.state,
      link(v.volume, `#/volumes/${encodeURIComponent(v.volume)}`),
      h("code", {}, v.mount_path),
      v.subpath ?? "/",
      v.read_only ? "read-only" : "read-write",
    ]),
  );
  return h(
    "section",
    { "aria-labelledby": "mounts-title" },
    h("h1", { id: "mounts-title" }, "Mounts"),
    h("p", {}, "Every mount of a volume holds a session with a lease it renews; a mount that stops renewing it ends. A session's id and key are shown to key admins and to the key that opened it."),
    table(`${sessions.length} live ${sessions.length === 1 ? "mount" : "mounts"}`, ["Volume", "Access", "Opened", "Lease until", "Key", "Session"], rows, "No volume is mounted now."),
    h("h2", {}, "Volumes in sandboxes"),
    table("Volumes mounted in sandboxes", ["Sandbox", "State", "Volume", "Mounted at", "Subpath", "Access"], inSandboxes, "No sandbox has a volume."),
  );
}
