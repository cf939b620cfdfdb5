// The SDK's types are the server's: src/openapi.ts is what scripts/openapi.mjs makes of the
// document the server serves now, and dist/ is what the compiler makes of src/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { Server } from "./server.js";
import { generate, target } from "../scripts/openapi.mjs";

const root = resolve(import.meta.dirname, "..");

test("the types match the OpenAPI document the server serves", async () => {
  const server = await Server.start();
  try {
    const document = await (await fetch(`${server.endpoint}/v1/openapi.json`)).json();
    const fresh = await generate(document);
    assert.ok(fresh.includes("LiveSession"), "the generated types name the schemas");
    assert.ok(
      fresh === readFileSync(target, "utf8"),
      "src/openapi.ts is out of date: run `npm run openapi && npm run build` in sdk/typescript",
    );
  } finally {
    await server.close();
  }
});

test("the committed build is what the compiler makes of the sources", async () => {
  const out = mkdtempSync(join(tmpdir(), "strata-ts-build-"));
  try {
    await promisify(execFile)(join(root, "node_modules/.bin/tsc"), ["-p", root, "--outDir", out]);
    const built = readdirSync(out).sort();
    assert.deepEqual(readdirSync(join(root, "dist")).sort(), built);
    for (const file of built) {
      assert.ok(
        readFileSync(join(out, file), "utf8") === readFileSync(join(root, "dist", file), "utf8"),
        `dist/${file} is out of date: run \`npm run build\` in sdk/typescript`,
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
