// Small helpers that build the pages: elements, tables, forms, dialogs, messages.

/**
 * An element with attributes (`on*` are listeners; `false`/`null` are left out) and children.
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "value") /** @type {HTMLInputElement} */ (node).value = String(value);
    else if (name === "checked") /** @type {HTMLInputElement} */ (node).checked = Boolean(value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
  return node;
}

/** The message of an error, as the server or the browser gave it. */
export function why(e) {
  if (e && typeof e === "object" && "message" in e) {
    const field = "field" in e && e.field ? ` (${e.field})` : "";
    return `${e.message}${field}`;
  }
  return String(e);
}

/** Whether `e` is a call cancelled by signing out: nothing to say about it. */
export function cancelled(e) {
  return e instanceof DOMException && e.name === "AbortError";
}

/** Says something in the page's status line (read out by screen readers). */
export function say(message, kind = "info") {
  const status = /** @type {HTMLElement} */ (document.getElementById("status"));
  status.textContent = "";
  status.append(h("p", { class: `message ${kind}` }, kind === "error" ? `Error: ${message}` : message));
}

/** Runs an action, saying its error if it fails; resolves to its result (`true` for an
 * action that has none), or `undefined` if it failed. */
export async function attempt(action, done) {
  try {
    const result = await action();
    if (done) say(done);
    return result === undefined ? true : result;
  } catch (e) {
    if (!cancelled(e)) say(why(e), "error");
    return undefined;
  }
}

/**
 * A table with a caption, column headings and rows of cells.
 * @param {string} caption
 * @param {string[]} headings
 * @param {(Node | string | number)[][]} rows
 * @param {string} [empty]
 */
export function table(caption, headings, rows, empty = "Nothing here yet.") {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  // A region of its own that the keyboard can scroll when the screen is narrower than it.
  return h(
    "div",
    { class: "table-wrap", role: "region", "aria-label": caption, tabindex: "0" },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, ...headings.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, ...rows.map((cells) => h("tr", {}, ...cells.map((c) => h("td", {}, c))))),
    ),
  );
}

let fieldIds = 0;

/**
 * A labelled input.
 * @param {string} label
 * @param {Record<string, any>} [attrs]
 * @returns {{ wrap: HTMLElement, input: HTMLInputElement }}
 */
export function field(label, attrs = {}) {
  const id = `f${++fieldIds}`;
  const input = /** @type {HTMLInputElement} */ (h("input", { id, ...attrs }));
  const wrap =
    attrs.type === "checkbox"
      ? h("div", { class: "field check" }, input, h("label", { for: id }, label))
      : h("div", { class: "field" }, h("label", { for: id }, label), input);
  return { wrap, input };
}

/**
 * A labelled select of options (`[value, text]`).
 * @param {string} label
 * @param {[string, string][]} options
 * @param {string} [selected]
 */
export function choice(label, options, selected) {
  const id = `f${++fieldIds}`;
  const select = /** @type {HTMLSelectElement} */ (
    h("select", { id }, ...options.map(([value, text]) => h("option", { value, selected: value === selected }, text)))
  );
  return { wrap: h("div", { class: "field" }, h("label", { for: id }, label), select), select };
}

/**
 * Runs `action` for a form, once at a time: its buttons wait meanwhile, so a double click
 * does not make two of anything.
 * @param {HTMLFormElement} form
 * @param {() => unknown} action
 */
export async function busy(form, action) {
  if (form.getAttribute("aria-busy") === "true") return;
  const buttons = [...form.querySelectorAll("button")].filter((b) => !b.disabled);
  const address = location.hash;
  form.setAttribute("aria-busy", "true");
  buttons.forEach((b) => (b.disabled = true));
  try {
    await action();
  } finally {
    // A form whose action went to another page stays spent until that page replaces it.
    if (form.isConnected && location.hash === address) {
      form.removeAttribute("aria-busy");
      buttons.forEach((b) => (b.disabled = false));
    }
  }
}

/**
 * A form's submit listener: the page does not reload, and `handler` runs once at a time.
 * @param {() => unknown} handler
 */
export function submitting(handler) {
  return (/** @type {SubmitEvent} */ event) => {
    event.preventDefault();
    return busy(/** @type {HTMLFormElement} */ (event.currentTarget), handler);
  };
}

/**
 * A form whose submit runs `onSubmit` (the page does not reload).
 * @param {string} label what the form is for, for assistive technology
 * @param {(HTMLElement)[]} parts
 * @param {string} submit the button's text
 * @param {() => unknown} onSubmit
 */
export function form(label, parts, submit, onSubmit) {
  return h(
    "form",
    { "aria-label": label, onsubmit: submitting(onSubmit) },
    ...parts,
    h("button", { type: "submit" }, submit),
  );
}

/**
 * Asks the user to confirm; resolves to whether they did.
 * @param {string} question
 * @param {string} action the confirming button's text
 * @returns {Promise<boolean>}
 */
export function confirm(question, action) {
  return new Promise((resolve) => {
    const dialog = /** @type {HTMLDialogElement} */ (
      h(
        "dialog",
        { "aria-labelledby": "confirm-question" },
        h("p", { id: "confirm-question" }, question),
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", class: "danger", onclick: () => close(true) }, action),
          // Cancel has the focus: a second Enter does not delete anything.
          h("button", { type: "button", autofocus: true, onclick: () => close(false) }, "Cancel"),
        ),
      )
    );
    const close = (/** @type {boolean} */ answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    dialog.addEventListener("cancel", () => close(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Shows a secret once, with a button that copies it. */
export function secretBox(title, secret) {
  const box = h(
    "section",
    { class: "secret", "aria-label": title },
    h("h3", {}, title),
    h("p", {}, "Copy it now: it is shown only this once."),
    h("code", { class: "secret-value" }, secret),
    h(
      "button",
      {
        type: "button",
        onclick: () =>
          (navigator.clipboard ? navigator.clipboard.writeText(secret) : Promise.reject(new Error("no clipboard"))).then(
            () => say("Copied."),
            () => say("This browser does not let the page copy here: select the secret and copy it.", "error"),
          ),
      },
      "Copy",
    ),
  );
  return box;
}

/** Hands bytes to the browser as a download named `name`. */
export function download(data, name) {
  const blob = data instanceof Blob ? data : new Blob([data], { type: "application/octet-stream" });
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A link to a page of the dashboard. */
export function link(text, hash, attrs = {}) {
  return h("a", { href: hash, ...attrs }, text);
}

/**
 * Asks for one value; resolves to it, or null if the user cancelled.
 * @param {string} question
 * @param {string} label
 * @param {string} [initial]
 * @returns {Promise<string | null>}
 */
export function ask(question, label, initial = "") {
  return new Promise((resolve) => {
    const input = field(label, { value: initial, required: true, autocomplete: "off" });
    const dialog = /** @type {HTMLDialogElement} */ (
      h(
        "dialog",
        { "aria-labelledby": "ask-question" },
        h(
          "form",
          { method: "dialog", onsubmit: (/** @type {Event} */ e) => (e.preventDefault(), close(input.input.value.trim() || null)) },
          h("p", { id: "ask-question" }, question),
          input.wrap,
          h("div", { class: "actions" }, h("button", { type: "submit" }, "OK"), h("button", { type: "button", onclick: () => close(null) }, "Cancel")),
        ),
      )
    );
    const close = (/** @type {string | null} */ answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    dialog.addEventListener("cancel", () => close(null));
    document.body.append(dialog);
    dialog.showModal();
    input.input.select();
  });
}
