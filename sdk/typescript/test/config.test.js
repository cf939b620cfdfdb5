// Strata.connect() finds the server and key as the `strata` command does, and sends a saved
// or local key only where it belongs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Server } from "./server.js";
import { Strata } from "../dist/index.js";
import { discover, isLoopback } from "../dist/config.js";

let server;
const saved = { ...process.env };
before(async () => (server = await Server.start()));
after(() => server.close());

function environment(values) {
  for (const name of ["STRATA_ENDPOINT", "STRATA_TOKEN", "STRATA_DATA_DIR", "STRATA_CONFIG_DIR"]) delete process.env[name];
  Object.assign(process.env, values);
}

test("the local server and its admin key are found through the data folder", async (t) => {
  t.after(() => environment(saved));
  environment({ STRATA_DATA_DIR: server.dataDir, STRATA_CONFIG_DIR: join(server.home, "none") });
  const strata = await Strata.connect();
  assert.equal(strata.endpoint, server.endpoint);
  assert.equal((await strata.whoami()).role, "admin");
});

test("a context's endpoint, key and volume are used; its key goes only to its endpoint", async (t) => {
  t.after(() => environment(saved));
  const { secret } = await new Strata({ endpoint: server.endpoint, token: server.token }).keys.create({ name: "ctx" });
  const configDir = join(server.home, "ctx-config");
  mkdirSync(configDir, { recursive: true });
  const config = {
    current_context: "dev",
    contexts: { dev: { endpoint: server.endpoint, token: secret, volume: "work" } },
  };
  writeFileSync(join(configDir, "config.json"), JSON.stringify(config));
  environment({ STRATA_CONFIG_DIR: configDir, STRATA_DATA_DIR: join(server.home, "elsewhere") });
  const strata = await Strata.connect();
  assert.equal(strata.contextVolume, "work");
  assert.equal((await strata.whoami()).key_name, "ctx");
  // Another endpoint given: the saved key is not sent there.
  const other = await discover("http://127.0.0.1:1");
  assert.equal(other.token, null);
});

test("the local admin key is never sent to an address that is not loopback", async (t) => {
  t.after(() => environment(saved));
  const dataDir = join(server.home, "remote-data");
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, "endpoint"), "http://10.1.2.3:7878\n");
  writeFileSync(join(dataDir, "admin.token"), "secret\n");
  environment({ STRATA_DATA_DIR: dataDir, STRATA_CONFIG_DIR: join(server.home, "none") });
  assert.deepEqual(await discover(), { endpoint: "http://10.1.2.3:7878", token: null, contextVolume: null });
  assert.ok(isLoopback("http://127.0.0.1:1") && isLoopback("http://[::1]:2") && isLoopback("http://localhost"));
  assert.ok(!isLoopback("http://127.0.0.1.evil.example") && !isLoopback("http://10.0.0.1") && !isLoopback("not a url"));
});
