// The overview: the server, the organization's usage, and the server's own metrics
// (requests, latency, storage, blocks, garbage collection).
import { h, table, say, attempt } from "../ui.js";
import { bytes, count } from "../format.js";

/**
 * The samples of an OpenMetrics text: name, labels and value of each line.
 * @param {string} text
 */
export function samples(text) {
  const found = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || line.startsWith("#")) continue;
    /** @type {Record<string, string>} */
    const labels = {};
    for (const pair of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] ?? ""] = pair[2] ?? "";
    found.push({ name: m[1] ?? "", labels, value: Number(m[3]) });
  }
  return found;
}

/** @param {import("../main.js").App} app */
export async function render(app) {
  const [health, text, org] = await Promise.all([
    app.strata.health(),
    app.strata.metrics(),
    app.can.org ? app.strata.org.get() : Promise.resolve(null),
  ]);
  const all = samples(text);
  const total = (/** @type {string} */ name) => all.filter((s) => s.name === name).reduce((n, s) => n + s.value, 0);

  const routes = new Map();
  for (const s of all) {
    const route = s.labels.route;
    if (!route) continue;
    const r = routes.get(route) ?? { requests: 0, errors: 0, seconds: 0, count: 0 };
    if (s.name === "strata_http_requests_total") {
      r.requests += s.value;
      if (Number(s.labels.status) >= 400) r.errors += s.value;
    } else if (s.name === "strata_http_request_duration_seconds_sum") r.seconds += s.value;
    else if (s.name === "strata_http_request_duration_seconds_count") r.count += s.value;
    routes.set(route, r);
  }
  const busiest = [...routes.entries()].sort((a, b) => b[1].requests - a[1].requests).slice(0, 15);
  const requests = total("strata_http_requests_total");
  const seconds = total("strata_http_request_duration_seconds_sum");
  const timed = total("strata_http_request_duration_seconds_count");

  const card = (/** @type {string} */ label, /** @type {string} */ value) => h("div", { class: "card" }, h("dt", {}, label), h("dd", {}, value));
  const cards = h(
    "dl",
    { class: "cards" },
    card("Server version", health.version),
    card("Requests answered", count(requests)),
    card("Mean latency", timed ? `${((seconds / timed) * 1000).toFixed(1)} ms` : "—"),
    card("Volumes and snapshots", count(total("strata_volumes"))),
    card("Live mounts", count(total("strata_sessions"))),
    card("Blocks stored", `${count(total("strata_blocks_stored_total"))} (${bytes(total("strata_blocks_stored_bytes_total"))})`),
    card("Written to the store", bytes(total("strata_store_written_bytes_total"))),
    card("Blocks read by mounts", `${count(total("strata_blocks_fetched_total"))} (${bytes(total("strata_blocks_fetched_bytes_total"))})`),
    card("GC passes", count(total("strata_gc_runs_total"))),
    card("GC reclaimed", `${count(total("strata_gc_blocks_reclaimed_total"))} blocks, ${bytes(total("strata_gc_reclaimed_bytes_total"))}`),
  );
  const usage = org
    ? h(
        "p",
        { class: "usage" },
        `${org.name} uses ${bytes(org.used_bytes ?? 0)}`,
        org.quota_bytes !== null && org.quota_bytes !== undefined ? ` of its ${bytes(org.quota_bytes)} quota.` : " (no quota).",
      )
    : h("p", {}, `Signed in with a token for ${app.me.scope?.volume ?? "one volume"}.`);
  const gc = app.can.admin
    ? h("button", { type: "button", onclick: async () => {
        const report = await attempt(() => app.strata.gc());
        if (report) {
          await app.refresh();
          say(`Collected: ${count(report.blocks_deleted)} blocks (${bytes(report.bytes_deleted)}), ${count(report.layers_deleted)} layers.`);
        }
      } }, "Collect garbage now")
    : null;
  return h(
    "section",
    { "aria-labelledby": "overview-title" },
    h("h1", { id: "overview-title" }, "Overview"),
    usage,
    cards,
    gc,
    h("h2", {}, "Requests by route"),
    table(
      "The busiest routes since the server started",
      ["Route", "Requests", "Refused or failed", "Mean latency"],
      busiest.map(([route, r]) => [h("code", {}, route), count(r.requests), count(r.errors), r.count ? `${((r.seconds / r.count) * 1000).toFixed(1)} ms` : "—"]),
      "No requests yet.",
    ),
  );
}
