// A real `strata server` on a free 127.0.0.1 port with a temporary data folder, for tests.
// The binary is $STRATA_BIN, else strata under $CARGO_TARGET_DIR (or the repository's
// target/), debug build first, then release.
import { spawn, execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, openSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { once } from "node:events";

const repo = resolve(import.meta.dirname, "../../..");

export function strataBinary() {
  if (process.env.STRATA_BIN) return process.env.STRATA_BIN;
  const target = process.env.CARGO_TARGET_DIR || join(repo, "target");
  for (const profile of ["debug", "release"]) {
    const candidate = join(target, profile, "strata");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`no strata binary under ${target}: cargo build -p strata-cli first`);
}

async function freePort() {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return port;
}

const answers = (port) =>
  new Promise((done) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), done(true)));
    socket.once("error", () => done(false));
  });

/** A running server: `endpoint`, `token` (the admin key), `cli(...args)`, `close()`. */
export class Server {
  static async start(args = []) {
    const server = new Server();
    await server.#start(args);
    return server;
  }

  home = mkdtempSync(join(tmpdir(), "strata-ts-"));
  dataDir = join(this.home, "data");
  configDir = join(this.home, "config");
  binary = strataBinary();
  endpoint = "";
  exited = null;

  async #start(args) {
    const port = await freePort();
    this.endpoint = `http://127.0.0.1:${port}`;
    const log = openSync(join(this.home, "server.log"), "a");
    this.process = spawn(
      this.binary,
      ["server", "--data-dir", this.dataDir, "--listen", `127.0.0.1:${port}`, ...args],
      { stdio: ["ignore", log, log], env: { ...process.env, STRATA_LOG: "info" } },
    );
    this.ended = new Promise((done) =>
      this.process.once("exit", (code) => {
        this.exited = code ?? -1;
        done();
      }),
    );
    // Ready once it answers and wrote its endpoint file; a process that ended fails at once.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.exited !== null) throw new Error(`strata server exited: ${this.log()}`);
      if ((await answers(port)) && existsSync(join(this.dataDir, "endpoint"))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("strata server did not start");
  }

  get token() {
    return readFileSync(join(this.dataDir, "admin.token"), "utf8").trim();
  }

  log() {
    return readFileSync(join(this.home, "server.log"), "utf8");
  }

  /** Runs the CLI against this server with its admin key; resolves to its stdout. */
  cli(...args) {
    return this.cliAs(this.token, ...args);
  }

  /** Runs the CLI against this server with the key given. */
  async cliAs(token, ...args) {
    const env = { ...process.env, STRATA_ENDPOINT: this.endpoint, STRATA_TOKEN: token, STRATA_DATA_DIR: this.dataDir, STRATA_CONFIG_DIR: this.configDir };
    const { stdout } = await promisify(execFile)(this.binary, args, { env });
    return stdout;
  }

  async close() {
    if (this.exited === null) {
      try {
        for (const sandbox of JSON.parse((await this.cli("sandbox", "list", "--json")) || "[]")) {
          await this.cli("sandbox", "delete", sandbox.id).catch(() => {});
        }
      } catch {
        // a server that cannot list has none to delete
      }
      this.process.kill("SIGTERM");
      await this.ended;
    }
    rmSync(this.home, { recursive: true, force: true });
  }
}
