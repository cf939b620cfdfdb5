// Writes src/openapi.ts, the API's types, from the OpenAPI document of a fresh server started
// from the built binary (as the tests find it), or of the URL or file given:
//   npm run openapi            node scripts/openapi.mjs [URL|FILE]
// test/openapi.test.js checks that the file matches what a fresh server serves now.
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
  let text;
  if (!source) {
    const { Server } = await import("../test/server.js");
    const server = await Server.start();
    try {
      text = await (await fetch(`${server.endpoint}/v1/openapi.json`, { signal: AbortSignal.timeout(10_000) })).text();
    } finally {
      await server.close();
    }
  } else if (/^https?:/.test(source)) {
    text = await (await fetch(source, { signal: AbortSignal.timeout(10_000) })).text();
  } else {
    text = await readFile(source, "utf8");
  }
  await writeFile(target, await generate(JSON.parse(text)));
  console.log(`wrote ${target}`);
}
