// Organizations (admin keys), API keys and scoped tokens (org-admin and admin keys). A new
// secret is shown once, when it is made.
import { h, table, field, choice, form, confirm, say, attempt, secretBox } from "../ui.js";
import { bytes, time, ago } from "../format.js";

/** @param {import("../main.js").App} app */
export async function render(app) {
  const [keys, volumes, orgs] = await Promise.all([
    app.strata.keys.list(),
    app.strata.volume.list(),
    app.can.admin ? app.strata.org.list() : Promise.resolve([]),
  ]);
  // A new secret is shown in this drawing of the page only, with the list of keys drawn
  // again beside it: nothing keeps the secret once the page is left.
  const shown = h("div", { class: "secret-slot" });
  const keyList = h("div", {}, keyTable(app, keys));
  const reveal = async (/** @type {string} */ title, /** @type {string} */ secret) => {
    shown.replaceChildren(secretBox(title, secret));
    const heading = /** @type {HTMLElement} */ (shown.querySelector("h3"));
    heading.setAttribute("tabindex", "-1");
    heading.focus();
    const listed = await attempt(() => app.strata.keys.list());
    if (Array.isArray(listed)) keyList.replaceChildren(keyTable(app, listed));
  };

  const keyName = field("Key name", { required: true, autocomplete: "off", placeholder: "ci-runner" });
  const roles = app.can.admin ? [["member", "member"], ["org-admin", "org-admin"], ["admin", "admin"]] : [["member", "member"], ["org-admin", "org-admin"]];
  const role = choice("Role", /** @type {[string, string][]} */ (roles), "member");
  const keyTtl = field("Expires after (empty: never)", { placeholder: "30d", autocomplete: "off" });
  const newKey = form("Create an API key", [h("h3", {}, "New API key"), keyName.wrap, role.wrap, keyTtl.wrap], "Create key", async () => {
    const key = await attempt(() =>
      app.strata.keys.create({ name: keyName.input.value.trim(), role: role.select.value, ttl: keyTtl.input.value.trim() || null }),
    );
    if (key) await reveal(`The secret of ${key.key.name}`, key.secret);
  });

  const tokenVolume = choice("Volume", volumes.map((v) => [v.name, v.name]));
  const subpath = field("Folder (empty: all of it)", { placeholder: "users/alice", autocomplete: "off" });
  const readOnly = field("Read-only", { type: "checkbox" });
  const tokenTtl = field("Expires after", { value: "24h", autocomplete: "off" });
  const tokenName = field("Token name (optional)", { autocomplete: "off" });
  const newToken = form(
    "Create a scoped token",
    [h("h3", {}, "New scoped token"), h("p", {}, "A token that reaches one folder of one volume, for a sandbox or a user."), tokenVolume.wrap, subpath.wrap, readOnly.wrap, tokenTtl.wrap, tokenName.wrap],
    "Create token",
    async () => {
      const token = await attempt(() =>
        app.strata.keys.token({
          volume: tokenVolume.select.value,
          subpath: subpath.input.value.trim(),
          read_only: readOnly.input.checked,
          ttl: tokenTtl.input.value.trim() || null,
          name: tokenName.input.value.trim() || null,
        }),
      );
      if (token) await reveal(`The secret of the token ${token.key.name}`, token.secret);
    },
  );

  const sections = [
    h("h1", { id: "access-title" }, "Access"),
    shown,
    h("h2", {}, `Keys of ${app.me.organization}`),
    keyList,
    h("div", { class: "columns" }, newKey, volumes.length ? newToken : h("p", {}, "Create a volume to make scoped tokens for it.")),
  ];

  if (app.can.admin) {
    const orgRows = orgs.map((o) => [
      o.name,
      bytes(o.used_bytes ?? 0),
      o.quota_bytes === null || o.quota_bytes === undefined ? "none" : bytes(o.quota_bytes),
      o.data_key ? `encrypted (key ${o.data_key})` : "not encrypted",
      h("span", { title: time(o.created_at) }, ago(o.created_at)),
    ]);
    const orgName = field("Organization name", { required: true, autocomplete: "off" });
    const quotaOrg = choice("Organization", orgs.map((o) => [o.name, o.name]));
    const quota = field("Quota in GiB (empty: none)", { type: "number", min: "0", step: "any" });
    sections.push(
      h("h2", {}, "Organizations"),
      table(`${orgs.length} organizations`, ["Name", "Used", "Quota", "Encryption", "Created"], orgRows),
      h(
        "div",
        { class: "columns" },
        form("Create an organization", [h("h3", {}, "New organization"), orgName.wrap], "Create organization", async () => {
          const org = await attempt(() => app.strata.org.create(orgName.input.value.trim()));
          if (org) {
            await app.refresh();
            say(`Created the organization ${org.name}.`);
          }
        }),
        form("Set an organization's quota", [h("h3", {}, "Quota"), quotaOrg.wrap, quota.wrap], "Set quota", async () => {
          const gib = quota.input.value.trim();
          const value = gib === "" ? null : Math.round(Number(gib) * 2 ** 30);
          const set = await attempt(() => app.strata.org.setQuota(quotaOrg.select.value, value));
          if (set) {
            await app.refresh();
            say(`${set.name}'s quota is ${value === null ? "none" : bytes(value)}.`);
          }
        }),
      ),
    );
  }
  return h("section", { "aria-labelledby": "access-title" }, ...sections);
}

/**
 * The organization's keys, each with a button that revokes it.
 * @param {import("../main.js").App} app
 * @param {import("../sdk/index.js").KeyInfo[]} keys
 */
function keyTable(app, keys) {
  const rows = keys.map((k) => [
    k.name === app.me.key_name ? `${k.name} (this key)` : k.name,
    k.scope ? "scoped token" : k.role,
    k.scope ? `${k.scope.volume ?? "(deleted)"}:${k.scope.subpath}${k.scope.read_only ? " (read-only)" : ""}` : "whole organization",
    h("span", { title: time(k.created_at) }, ago(k.created_at)),
    k.expires_at ? time(k.expires_at) : "never",
    h("button", { type: "button", class: "danger", "aria-label": `Revoke ${k.name}`, onclick: async () => {
      if (!(await confirm(`Revoke the key ${k.name}? Everything using it stops working, its mounts included.`, "Revoke"))) return;
      if ((await attempt(() => app.strata.keys.revoke(k.id))) !== undefined) {
        await app.refresh();
        say(`Revoked ${k.name}.`);
      }
    } }, "Revoke"),
  ]);
  return table(`${keys.length} ${keys.length === 1 ? "key" : "keys"}`, ["Name", "Role", "Reaches", "Created", "Expires", "Actions"], rows);
}
