// Writes src/openapi.ts, the API's types, from a server's OpenAPI document:
//   node scripts/openapi.mjs http://127.0.0.1:7878/v1/openapi.json   (or a saved file)
// test/openapi.test.js checks that the file matches what the server serves now.
import openapiTS, { astToString } from "openapi-typescript";
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const HEADER = "// The strata API's types, made by scripts/openapi.mjs from GET /v1/openapi.json: do not edit.\n\n";

/** The TypeScript source for an OpenAPI document (a parsed object). */
export async function generate(document) {
  return HEADER + astToString(await openapiTS(document, { alphabetize: true }));
}

export const target = fileURLToPath(new URL("../src/openapi.ts", import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const source = process.argv[2];
  if (!source) {
    console.error("usage: node scripts/openapi.mjs URL|FILE");
    process.exit(2);
  }
  const text = /^https?:/.test(source)
    ? await (await fetch(source, { signal: AbortSignal.timeout(10_000) })).text()
    : await readFile(source, "utf8");
  await writeFile(target, await generate(JSON.parse(text)));
  console.log(`wrote ${target}`);
}
