// What the browser tests share: a real server, Debian's chromium driven by playwright-core,
// screenshots, and an accessibility check with axe-core.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import assert from "node:assert/strict";

export { Server } from "../../sdk/typescript/test/server.js";

const repo = resolve(import.meta.dirname, "../..");
/** Where screenshots go: $STRATA_SCREENSHOTS, else target/dashboard-screenshots. */
export const shots = process.env.STRATA_SCREENSHOTS || join(repo, "target", "dashboard-screenshots");
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Debian's chromium, headless, with nothing reaching past this machine. */
export async function launch() {
  mkdirSync(shots, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

/**
 * A page of a new browser context on the server, with every request it makes recorded (so a
 * test can check that none left the server's origin) and downloads accepted.
 */
export async function open(browser, server, options = {}) {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${server.endpoint}/`);
  return { context, page, requests, errors };
}

/** Signs in with a key and waits for the first page. */
export async function signIn(page, key) {
  await page.getByLabel("API key or scoped token").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** Saves a screenshot of the whole page as NAME.png in the screenshots folder. */
export async function shoot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** Runs axe-core on the page: no serious or critical violation may be found. */
export async function accessible(page, what) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // @ts-ignore: axe is the script just evaluated
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) }));
  });
  const serious = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(serious, [], `${what}: accessibility violations`);
}

/** Every request went to the server itself (or a blob the page made). */
export function stayedHome(requests, server) {
  const away = requests.filter((url) => !url.startsWith(`${server.endpoint}/`) && !url.startsWith("blob:") && !url.startsWith("data:"));
  assert.deepEqual(away, [], "requests left the server's origin");
}
