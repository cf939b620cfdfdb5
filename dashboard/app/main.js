// The dashboard: signs in with an API key (kept in this tab's session storage only), then
// shows the page the address names (`#/volumes`, `#/volumes/NAME`, ...), offering only
// what the key may do.
import { Strata } from "./sdk/index.js";
import { h, why, cancelled, submitting } from "./ui.js";
import * as overview from "./pages/overview.js";
import * as volumes from "./pages/volumes.js";
import * as volume from "./pages/volume.js";
import * as mounts from "./pages/mounts.js";
import * as sandboxes from "./pages/sandboxes.js";
import * as access from "./pages/access.js";

const KEY = "strata.key";

/**
 * What a page is given: the client, who the key is, and what it may do.
 * @typedef {{
 *   strata: Strata,
 *   me: import("./sdk/index.js").Whoami,
 *   can: { org: boolean, keys: boolean, admin: boolean },
 *   go: (hash: string) => Promise<void>,
 *   refresh: () => Promise<void>,
 *   leaving: AbortController,
 * }} App
 */

/** The pages, by the first part of the address, with the nav's label and who sees them. */
const PAGES = [
  { path: "overview", label: "Overview", page: overview, shown: () => true },
  { path: "volumes", label: "Volumes", page: volumes, shown: (/** @type {App} */ app) => app.can.org },
  { path: "mounts", label: "Mounts", page: mounts, shown: (/** @type {App} */ app) => app.can.org },
  { path: "sandboxes", label: "Sandboxes", page: sandboxes, shown: (/** @type {App} */ app) => app.can.org },
  { path: "access", label: "Access", page: access, shown: (/** @type {App} */ app) => app.can.keys },
];

const main = /** @type {HTMLElement} */ (document.getElementById("main"));
const nav = /** @type {HTMLElement} */ (document.getElementById("nav"));
const who = /** @type {HTMLElement} */ (document.getElementById("who"));
/** What a signed-in page says; hidden while signed out, so nothing a signed-out key's
 * last calls say is shown. */
const status = /** @type {HTMLElement} */ (document.getElementById("status"));

/** @type {App | null} */
let app = null;

/** The address as a page name, its further parts and its query (a part that does not
 * decode is kept as written). */
function route() {
  const [path = "", query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const decode = (/** @type {string} */ part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  };
  return { parts: path.split("/").filter(Boolean).map(decode), query: new URLSearchParams(query) };
}

async function signIn(token) {
  // Cancels every call of this key when it signs out.
  const leaving = new AbortController();
  const strata = new Strata({ endpoint: location.origin, token, timeoutMs: 60_000, signal: leaving.signal });
  const me = await strata.whoami();
  const unscoped = !me.scope;
  const can = {
    org: unscoped,
    keys: unscoped && (me.role === "admin" || me.role === "org-admin"),
    admin: unscoped && me.role === "admin",
  };
  /** @type {App} */
  const signed = { strata, me, can, go, refresh: show, leaving };
  return signed;
}

function signInPage(message) {
  nav.replaceChildren();
  who.replaceChildren();
  status.replaceChildren();
  status.hidden = true;
  const note = h("p", { class: "message error", role: "alert", hidden: true });
  const tell = (/** @type {string} */ text) => ((note.hidden = false), note.replaceChildren(`Error: ${text}`));
  const input = /** @type {HTMLInputElement} */ (
    h("input", { id: "key", type: "password", autocomplete: "off", required: true, "aria-describedby": "key-help" })
  );
  const form = h(
    "form",
    {
      class: "signin",
      "aria-label": "Sign in",
      onsubmit: submitting(async () => {
        try {
          app = await signIn(input.value.trim());
          sessionStorage.setItem(KEY, input.value.trim());
          status.replaceChildren();
          status.hidden = false;
          if (!location.hash || location.hash === "#/") location.hash = app.can.org ? "#/volumes" : "#/overview";
          await show();
        } catch (e) {
          tell(`Not signed in: ${why(e)}`);
        }
      }),
    },
    h("h1", {}, "Sign in to strata"),
    h("label", { for: "key" }, "API key or scoped token"),
    input,
    h("p", { id: "key-help", class: "help" }, "It is kept in this browser tab's session storage until you sign out (a browser that restores closed tabs restores it too), and sent only to this server."),
    h("button", { type: "submit" }, "Sign in"),
    note,
  );
  main.replaceChildren(form);
  if (message) tell(message);
  input.focus();
}

function signOut() {
  sessionStorage.removeItem(KEY);
  // What the key was still doing stops, and no page it was drawing is shown.
  app?.leaving.abort();
  drawings++;
  main.inert = false;
  main.removeAttribute("aria-busy");
  app = null;
  location.hash = "";
  signInPage();
}

function drawNav(current) {
  if (!app) return;
  const signed = app;
  const items = PAGES.filter((p) => p.shown(signed)).map((p) =>
    h("li", {}, h("a", { href: `#/${p.path}`, "aria-current": p.path === current ? "page" : false }, p.label)),
  );
  if (signed.me.scope) {
    const name = signed.me.scope.volume ?? signed.me.scope.volume_id;
    items.push(h("li", {}, h("a", { href: `#/volumes/${encodeURIComponent(name)}`, "aria-current": current === "volumes" ? "page" : false }, "My volume")));
  }
  nav.replaceChildren(h("ul", {}, ...items));
  const scope = signed.me.scope ? ` · scoped to ${signed.me.scope.volume}:${signed.me.scope.subpath}${signed.me.scope.read_only ? " (read-only)" : ""}` : "";
  who.replaceChildren(
    h("span", {}, `${signed.me.key_name} (${signed.me.role}) in ${signed.me.organization}${scope}`),
    h("button", { type: "button", onclick: signOut }, "Sign out"),
  );
}

/** How many times a page was asked for: only the newest drawing is shown. */
let drawings = 0;

/** Draws the page the address names. */
async function show() {
  if (!app) return;
  const mine = ++drawings;
  // The page being replaced takes no input meanwhile.
  main.inert = true;
  main.setAttribute("aria-busy", "true");
  const { parts, query } = route();
  const first = parts[0] ?? (app.can.org ? "volumes" : "overview");
  drawNav(first);
  let page;
  if (first === "volumes" && parts[1] !== undefined) page = volume;
  else page = PAGES.find((p) => p.path === first && app && p.shown(app))?.page ?? overview;
  const heading = main.querySelector("h1");
  const loading = h("p", { class: "loading" }, "Loading…");
  if (!heading) main.replaceChildren(loading);
  try {
    const content = await page.render(app, parts.slice(1), query);
    if (mine !== drawings) return;
    main.replaceChildren(content);
    main.inert = false;
    main.removeAttribute("aria-busy");
    const title = main.querySelector("h1")?.textContent ?? "strata";
    document.title = `${title} · strata`;
  } catch (e) {
    if (mine !== drawings || cancelled(e)) return;
    main.inert = false;
    main.removeAttribute("aria-busy");
    main.replaceChildren(h("h1", {}, "Something went wrong"), h("p", { class: "message error" }, `Error: ${why(e)}`));
  }
}

document.querySelector(".skip")?.addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});

/** Called once the page an address change asked for is drawn. */
let drawn = () => {};

/**
 * Goes to `hash`; resolves once its page is drawn, so what is said next stays on screen.
 * @param {string} hash
 */
function go(hash) {
  const before = location.hash;
  location.hash = hash;
  if (location.hash === before) return show();
  const earlier = drawn;
  return new Promise((resolve) => (drawn = () => (earlier(), resolve())));
}

window.addEventListener("hashchange", () => {
  status.replaceChildren();
  const arrived = drawn;
  drawn = () => {};
  show().then(() => (main.focus(), arrived()));
});

const saved = sessionStorage.getItem(KEY);
if (saved) {
  signIn(saved).then(
    (signed) => ((app = signed), show()),
    (e) => {
      sessionStorage.removeItem(KEY);
      signInPage(`The saved key no longer works: ${why(e)}`);
    },
  );
} else {
  signInPage();
}
