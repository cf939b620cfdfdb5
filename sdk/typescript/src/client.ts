/**
 * A client of one strata server: volumes, files, forks, snapshots, sandboxes, keys.
 *
 * Only `fetch` is used, so it runs in Node (20 and later) and in browsers alike. Every
 * route it calls is a path of the API's OpenAPI document (`openapi.ts`, made from it), and
 * every body and answer one of its schemas.
 */

import { InvalidInput, Unavailable, fromBody } from "./errors.js";
import type { components, paths } from "./openapi.js";

type Schemas = components["schemas"];
export type Volume = Schemas["Volume"];
export type Org = Schemas["Org"];
export type Stat = Schemas["Stat"];
export type DirEntry = Schemas["DirEntry"];
export type DiffEntry = Schemas["DiffEntry"];
export type HistoryPoint = Schemas["HistoryPoint"];
export type MergeReport = Schemas["MergeReport"];
export type StoreUsage = Schemas["StoreUsage"];
export type Sandbox = Schemas["Sandbox"];
export type SandboxVolume = Schemas["SandboxVolume"];
export type CreateSandbox = Schemas["CreateSandbox"];
export type ExecResult = Schemas["ExecResult"];
export type KeyInfo = Schemas["KeyInfo"];
export type NewKey = Schemas["NewKey"];
export type CreateKey = Schemas["CreateKey"];
export type CreateToken = Schemas["CreateToken"];
export type LiveSession = Schemas["LiveSession"];
export type Whoami = Schemas["Whoami"];
export type Health = Schemas["Health"];
export type GcReport = Schemas["GcReport"];
export type Reencrypted = Schemas["Reencrypted"];

/** A volume, or its name or id. */
export type VolumeLike = string | { name: string };
/** A moment: a Date, RFC 3339 text, or a span before now such as `"-10m"`. */
export type Moment = Date | string;
/** What a file's content may be given as. */
export type Content = string | Uint8Array | ArrayBuffer | Blob;

export interface ClientOptions {
  /** The server, such as `http://127.0.0.1:7878`; several (`URL1,URL2`) use the first. */
  endpoint: string;
  /** An API key or scoped token. */
  token?: string | null;
  /** How long one call may take, in milliseconds (default 120 000). */
  timeoutMs?: number;
  /** How long an upload or download of a file may take, in milliseconds (default 1 800 000). */
  transferTimeoutMs?: number;
  /** The `fetch` to use (the global one by default). */
  fetch?: typeof fetch;
  /** Cancels every call of this client once aborted: a call then rejects with the signal's
   * reason, as `fetch` does (such as a `DOMException` named `AbortError`). */
  signal?: AbortSignal;
}

type Route = keyof paths;
type Method = "GET" | "POST" | "PUT" | "DELETE";
type Query = Record<string, string | number | boolean | null | undefined>;

interface Call {
  params?: Record<string, string>;
  query?: Query;
  json?: unknown;
  body?: Content;
  /** How long this call may take: a file's transfer, or a command's run and then some. */
  timeoutMs?: number;
  /** Read at most this many bytes of the answer, then stop the transfer. */
  limit?: number;
}

/** One path segment, percent-encoded. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

const ref = (volume: VolumeLike): string => (typeof volume === "string" ? volume : volume.name);

/** A moment as the API takes it (RFC 3339, or a span before now). */
export function moment(at: Moment): string {
  return at instanceof Date ? at.toISOString() : at;
}

/** The HTTP transport: the key, the timeout, errors as exceptions. */
export class Http {
  readonly base: string;
  readonly #token: string | null;
  readonly #timeoutMs: number;
  readonly transferTimeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #signal: AbortSignal | undefined;

  constructor(options: ClientOptions) {
    this.base = (options.endpoint.split(",")[0] ?? "").trim().replace(/\/+$/, "");
    this.#token = options.token ?? null;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.transferTimeoutMs = options.transferTimeoutMs ?? 1_800_000;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#signal = options.signal;
  }

  /** Calls a route of the API whose answer says nothing more than that it succeeded. */
  async call(method: Method, route: Route, call: Call = {}): Promise<void> {
    await this.#exchange(method, route, call, (response) => response.arrayBuffer());
  }

  /** Calls a route and reads its answer with `read`, within the call's timeout. */
  async #exchange<T>(method: Method, route: Route, call: Call, read: (response: Response) => Promise<T>): Promise<T> {
    let path: string = route;
    for (const [name, value] of Object.entries(call.params ?? {})) {
      // URLs take `.` and `..` (encoded or not) as steps: no name is either.
      if (value === "." || value === "..") throw new InvalidInput(`${name} may not be "${value}"`, "invalid_input", name);
      path = path.replace(`{${name}}`, segment(value));
    }
    const url = new URL(this.base + path);
    for (const [name, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = {};
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    let body: BodyInit | undefined;
    if (call.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(call.json);
    } else if (call.body !== undefined) {
      headers["content-type"] = "application/octet-stream";
      body = call.body as BodyInit;
    }
    const timeoutMs = call.timeoutMs ?? this.#timeoutMs;
    const signal = linked(this.#signal, AbortSignal.timeout(timeoutMs));
    try {
      let response: Response;
      try {
        // The key is never carried on to where a redirect points: strata answers without them.
        response = await this.#fetch(url, { method, headers, body, redirect: "manual", signal: signal.signal });
      } catch (e) {
        throw this.#unavailable(e, method, timeoutMs);
      }
      if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) {
        throw new Unavailable(`${this.base} answered with a redirect, which no strata server sends`, "unavailable");
      }
      if (!response.ok) throw fromBody(response.status, await this.#read(method, timeoutMs, () => response.text()));
      return await this.#read(method, timeoutMs, () => read(response));
    } finally {
      signal.release();
    }
  }

  /** What a failed or timed-out exchange is to the caller; a call the client's own signal
   * cancelled rejects with that signal's reason. */
  #unavailable(e: unknown, method: Method, timeoutMs: number): unknown {
    if (this.#signal?.aborted) return this.#signal.reason;
    if (e instanceof Error && e.name === "TimeoutError") {
      const maybe = method === "GET" ? "" : "; it may have taken effect";
      return new Unavailable(`no answer from the strata server at ${this.base} within ${timeoutMs / 1000} s${maybe}`, "unavailable");
    }
    const why = e instanceof Error ? e.message : String(e);
    return new Unavailable(`cannot reach the strata server at ${this.base}: ${why}`, "unavailable");
  }

  /** Reads an answer's body: a body cut off or timed out is `Unavailable` too. */
  async #read<T>(method: Method, timeoutMs: number, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (e) {
      if (e instanceof SyntaxError) throw e;
      throw this.#unavailable(e, method, timeoutMs);
    }
  }

  json<T>(method: Method, route: Route, call: Call = {}): Promise<T> {
    return this.#exchange(method, route, call, (response) => response.json() as Promise<T>);
  }

  bytes(method: Method, route: Route, call: Call = {}): Promise<Uint8Array> {
    const limit = call.limit;
    return this.#exchange(method, route, call, async (response) =>
      limit === undefined || !response.body ? new Uint8Array(await response.arrayBuffer()) : prefix(response.body, limit),
    );
  }

  text(method: Method, route: Route, call: Call = {}): Promise<string> {
    return this.#exchange(method, route, call, (response) => response.text());
  }
}

/**
 * `timeout`, also aborted when `outer` is (with `outer`'s reason). `release` drops the link
 * once the call is over, so a client's long-lived signal keeps no listener per call.
 */
function linked(outer: AbortSignal | undefined, timeout: AbortSignal): { signal: AbortSignal; release: () => void } {
  if (!outer) return { signal: timeout, release: () => undefined };
  const both = new AbortController();
  const fromOuter = () => both.abort(outer.reason);
  const fromTimeout = () => both.abort(timeout.reason);
  if (outer.aborted) fromOuter();
  outer.addEventListener("abort", fromOuter, { once: true });
  timeout.addEventListener("abort", fromTimeout, { once: true });
  return {
    signal: both.signal,
    release: () => {
      outer.removeEventListener("abort", fromOuter);
      timeout.removeEventListener("abort", fromTimeout);
    },
  };
}

/** The first `limit` bytes of `stream` (fewer if it ends first); the rest is not read. */
async function prefix(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  const bound = Math.max(0, Math.floor(limit));
  const chunks: Uint8Array[] = [];
  let filled = 0;
  try {
    while (filled < bound) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = value.subarray(0, bound - filled);
      chunks.push(take);
      filled += take.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const out = new Uint8Array(filled);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** `strata.volume`: create, get, list and delete volumes. */
export class Volumes {
  constructor(private readonly http: Http) {}

  /** Creates a volume; `AlreadyExists` if the name is taken. */
  create(name: string): Promise<Volume> {
    return this.http.json("POST", "/v1/volumes", { json: { name, exist_ok: false } });
  }

  /** A volume by name or id; with `create` it is made if missing. */
  get(name: string, options: { create?: boolean } = {}): Promise<Volume> {
    if (options.create) return this.http.json("POST", "/v1/volumes", { json: { name, exist_ok: true } });
    return this.http.json("GET", "/v1/volumes/{volume}", { params: { volume: name } });
  }

  list(): Promise<Volume[]> {
    return this.http.json("GET", "/v1/volumes");
  }

  /** Deletes a volume and its snapshots; `Conflict` while mounted or in a sandbox. */
  async delete(volume: VolumeLike, options: { force?: boolean } = {}): Promise<void> {
    await this.http.call("DELETE", "/v1/volumes/{volume}", {
      params: { volume: ref(volume) },
      query: { force: options.force ?? false },
    });
  }

  rename(volume: VolumeLike, name: string): Promise<Volume> {
    return this.http.json("POST", "/v1/volumes/{volume}/rename", { params: { volume: ref(volume) }, json: { name } });
  }

  /** Sets a volume's quota (`null`: no bound); a write past it raises `QuotaExceeded`. */
  setQuota(volume: VolumeLike, quota: { bytes?: number | null; files?: number | null }): Promise<Volume> {
    const json: Schemas["Quota"] = { bytes: quota.bytes ?? null, files: quota.files ?? null };
    return this.http.json("POST", "/v1/volumes/{volume}/quota", { params: { volume: ref(volume) }, json });
  }

  /** How a volume's new blocks are compressed: `off`, `zstd`, `zstd:LEVEL` (`null`: the server's). */
  setCompression(volume: VolumeLike, compression: string | null): Promise<Volume> {
    return this.http.json("POST", "/v1/volumes/{volume}/compression", {
      params: { volume: ref(volume) },
      json: { compression },
    });
  }

  /** The blocks a volume's layers name and what the store keeps for them. */
  usage(volume: VolumeLike): Promise<StoreUsage> {
    return this.http.json("GET", "/v1/volumes/{volume}/usage", { params: { volume: ref(volume) } });
  }

  /** The windows of changes the volume's history keeps, newest first. */
  history(volume: VolumeLike, limit = 100): Promise<HistoryPoint[]> {
    return this.http.json("GET", "/v1/volumes/{volume}/history", { params: { volume: ref(volume) }, query: { limit } });
  }

  /** The volume as it was at a moment: a read-only volume named `VOLUME@TIME`. */
  at(volume: string, when: Moment): Promise<Volume> {
    return this.get(`${volume}@${moment(when)}`);
  }

  /** Returns the volume to a moment of its history, in one change. */
  restore(volume: VolumeLike, to: Moment): Promise<Volume> {
    return this.http.json("POST", "/v1/volumes/{volume}/restore", {
      params: { volume: ref(volume) },
      json: { to: moment(to) },
    });
  }

  /** How long the volume keeps its past (`"24h"`, `"0"` for not at all; `null`: the server's). */
  setHistory(volume: VolumeLike, keep: string | null): Promise<Volume> {
    return this.http.json("POST", "/v1/volumes/{volume}/history", { params: { volume: ref(volume) }, json: { keep } });
  }
}

/** `strata.snapshot`: read-only points in time of a volume. */
export class Snapshots {
  constructor(private readonly http: Http) {}

  create(volume: VolumeLike, name: string): Promise<Volume> {
    return this.http.json("POST", "/v1/volumes/{volume}/snapshots", { params: { volume: ref(volume) }, json: { name } });
  }

  list(volume: VolumeLike): Promise<Volume[]> {
    return this.http.json("GET", "/v1/volumes/{volume}/snapshots", { params: { volume: ref(volume) } });
  }

  async delete(volume: VolumeLike, name: string, options: { force?: boolean } = {}): Promise<void> {
    await this.http.call("DELETE", "/v1/volumes/{volume}/snapshots/{name}", {
      params: { volume: ref(volume), name },
      query: { force: options.force ?? false },
    });
  }

  /** Puts the volume back as it was at the snapshot; later changes are gone. */
  restore(volume: VolumeLike, name: string): Promise<Volume> {
    return this.http.json("POST", "/v1/volumes/{volume}/snapshots/{name}/restore", {
      params: { volume: ref(volume), name },
    });
  }
}

/** `strata.fs`: files of a volume without mounting it (paths start with `/`). */
export class Files {
  constructor(private readonly http: Http) {}

  /** Writes a whole file, making missing folders; resolves to its attributes. */
  put(volume: VolumeLike, path: string, data: Content, options: { mode?: number } = {}): Promise<Stat> {
    return this.http.json("PUT", "/v1/volumes/{volume}/fs/content", {
      params: { volume: ref(volume) },
      query: { path, mode: options.mode },
      body: data,
      timeoutMs: this.http.transferTimeoutMs,
    });
  }

  /** A file's bytes; with `limit`, only its first `limit` bytes are transferred. */
  get(volume: VolumeLike, path: string, options: { limit?: number } = {}): Promise<Uint8Array> {
    return this.http.bytes("GET", "/v1/volumes/{volume}/fs/content", {
      params: { volume: ref(volume) },
      query: { path },
      timeoutMs: this.http.transferTimeoutMs,
      limit: options.limit,
    });
  }

  /** A file's content as text (UTF-8). */
  async text(volume: VolumeLike, path: string): Promise<string> {
    return new TextDecoder().decode(await this.get(volume, path));
  }

  /** The entries of a folder: each with `name` and its attributes. */
  list(volume: VolumeLike, path = "/"): Promise<DirEntry[]> {
    return this.http.json("GET", "/v1/volumes/{volume}/fs/list", { params: { volume: ref(volume) }, query: { path } });
  }

  stat(volume: VolumeLike, path: string): Promise<Stat> {
    return this.http.json("GET", "/v1/volumes/{volume}/fs/stat", { params: { volume: ref(volume) }, query: { path } });
  }

  mkdir(volume: VolumeLike, path: string, options: { parents?: boolean; mode?: number } = {}): Promise<Stat> {
    const json: Schemas["Mkdir"] = { path, parents: options.parents ?? false, mode: options.mode ?? null };
    return this.http.json("POST", "/v1/volumes/{volume}/fs/mkdir", { params: { volume: ref(volume) }, json });
  }

  /** Moves a file or folder, atomically; with `noReplace` an existing target is an error. */
  async rename(volume: VolumeLike, from: string, to: string, options: { noReplace?: boolean } = {}): Promise<void> {
    const json: Schemas["Rename"] = { from, to, no_replace: options.noReplace ?? false };
    await this.http.call("POST", "/v1/volumes/{volume}/fs/rename", { params: { volume: ref(volume) }, json });
  }

  /** Copies a file, sharing its blocks: no data is copied. */
  async copy(volume: VolumeLike, from: string, to: string): Promise<void> {
    const json: Schemas["Copy"] = { from, to };
    await this.http.call("POST", "/v1/volumes/{volume}/fs/copy", { params: { volume: ref(volume) }, json });
  }

  /** Removes a file, or a folder (with `recursive`, all it holds). */
  async remove(volume: VolumeLike, path: string, options: { recursive?: boolean } = {}): Promise<void> {
    const json: Schemas["Remove"] = { path, recursive: options.recursive ?? false };
    await this.http.call("POST", "/v1/volumes/{volume}/fs/remove", { params: { volume: ref(volume) }, json });
  }

  async symlink(volume: VolumeLike, path: string, target: string): Promise<void> {
    const json: Schemas["Symlink"] = { path, target };
    await this.http.call("POST", "/v1/volumes/{volume}/fs/symlink", { params: { volume: ref(volume) }, json });
  }

  async chmod(volume: VolumeLike, path: string, mode: number): Promise<void> {
    const json: Schemas["Chmod"] = { path, mode };
    await this.http.call("POST", "/v1/volumes/{volume}/fs/chmod", { params: { volume: ref(volume) }, json });
  }
}

/** `strata.org`: organizations, their usage and quotas, and their encryption. */
export class Orgs {
  constructor(private readonly http: Http) {}

  /** The key's own organization, or `name` (another: admin keys only). */
  async get(name?: string): Promise<Org> {
    const org = name ?? (await this.http.json<Whoami>("GET", "/v1/whoami")).organization;
    return this.http.json("GET", "/v1/orgs/{org}", { params: { org } });
  }

  list(): Promise<Org[]> {
    return this.http.json("GET", "/v1/orgs");
  }

  create(name: string): Promise<Org> {
    return this.http.json("POST", "/v1/orgs", { json: { name } });
  }

  /** Sets an organization's quota of bytes (`null`: no bound). */
  setQuota(name: string, bytes: number | null): Promise<Org> {
    return this.http.json("POST", "/v1/orgs/{org}/quota", { params: { org: name }, json: { bytes } });
  }

  /** Makes an organization encrypt the blocks it stores from now on (admin keys). */
  encrypt(name: string): Promise<Org> {
    return this.http.json("POST", "/v1/orgs/{org}/encryption", { params: { org: name } });
  }

  rotateKey(name: string): Promise<Org> {
    return this.http.json("POST", "/v1/orgs/{org}/rotate-key", { params: { org: name } });
  }

  reencrypt(name: string): Promise<Reencrypted> {
    return this.http.json("POST", "/v1/orgs/{org}/reencrypt", { params: { org: name } });
  }
}

/** `strata.keys`: API keys and scoped tokens; a new secret is shown only in the answer. */
export class Keys {
  constructor(private readonly http: Http) {}

  /** The organization's keys (another's: admin keys only). */
  list(org?: string): Promise<KeyInfo[]> {
    return this.http.json("GET", "/v1/keys", { query: { org } });
  }

  create(key: CreateKey): Promise<NewKey> {
    return this.http.json("POST", "/v1/keys", { json: key });
  }

  /** A token that reaches one volume (below `subpath`, perhaps read-only), for a sandbox or a user. */
  token(token: CreateToken): Promise<NewKey> {
    return this.http.json("POST", "/v1/tokens", { json: token });
  }

  async revoke(id: string): Promise<void> {
    await this.http.call("DELETE", "/v1/keys/{key}", { params: { key: id } });
  }
}

/** `strata.sessions`: the organization's live mounts. */
export class Sessions {
  constructor(private readonly http: Http) {}

  list(): Promise<LiveSession[]> {
    return this.http.json("GET", "/v1/sessions");
  }
}

/** `sandbox.fs`: files anywhere inside a sandbox. */
export class SandboxFiles {
  constructor(
    private readonly http: Http,
    private readonly id: string,
  ) {}

  /** Writes `data` to the absolute `path` inside the sandbox (folders are made). */
  async uploadFile(data: Content, path: string): Promise<void> {
    await this.http.call("PUT", "/v1/sandboxes/{id}/files", {
      params: { id: this.id },
      query: { path },
      body: data,
      timeoutMs: this.http.transferTimeoutMs,
    });
  }

  downloadFile(path: string): Promise<Uint8Array> {
    return this.http.bytes("GET", "/v1/sandboxes/{id}/files", {
      params: { id: this.id },
      query: { path },
      timeoutMs: this.http.transferTimeoutMs,
    });
  }
}

/** What a command in a sandbox did; `result` is its standard output. */
export interface ExecResponse {
  exitCode: number;
  result: string;
  stderr: string;
  truncated: boolean;
  timedOut: boolean;
}

/** `sandbox.process`: commands inside a sandbox. */
export class SandboxProcess {
  constructor(
    private readonly http: Http,
    private readonly id: string,
  ) {}

  /** Runs `sh -c command`; waits at most `timeout` seconds (default 60). */
  async exec(command: string, options: { timeout?: number } = {}): Promise<ExecResponse> {
    const json: Schemas["Exec"] = { command, timeout_secs: options.timeout ?? null };
    // The call waits for the command: its own bound (the server's default is 60 s), then some.
    const timeoutMs = ((options.timeout ?? 60) + 30) * 1000;
    const r = await this.http.json<ExecResult>("POST", "/v1/sandboxes/{id}/exec", { params: { id: this.id }, json, timeoutMs });
    return { exitCode: r.exit_code, result: r.stdout, stderr: r.stderr, truncated: r.truncated, timedOut: r.timed_out };
  }
}

/** A sandbox: a process tree on the server's machine with volumes mounted in it. */
export class SandboxHandle {
  readonly id: string;
  readonly state: Sandbox["state"];
  readonly createdAt: number;
  readonly volumes: SandboxVolume[];
  readonly limits: Sandbox["limits"];
  readonly network: Sandbox["network"];
  readonly fs: SandboxFiles;
  readonly process: SandboxProcess;

  constructor(
    private readonly http: Http,
    data: Sandbox,
  ) {
    this.id = data.id;
    this.state = data.state;
    this.createdAt = data.created_at;
    this.volumes = data.volumes;
    this.limits = data.limits;
    this.network = data.network;
    this.fs = new SandboxFiles(http, data.id);
    this.process = new SandboxProcess(http, data.id);
  }

  /** Kills every process and unmounts the volumes; their data stays. */
  async delete(): Promise<void> {
    await this.http.call("DELETE", "/v1/sandboxes/{id}", { params: { id: this.id } });
  }
}

/** A volume to mount in a new sandbox. */
export interface VolumeMount {
  volumeId: string;
  mountPath: string;
  subpath?: string | null;
  readOnly?: boolean;
}

export interface CreateSandboxParams {
  volumes?: VolumeMount[];
  env?: Record<string, string>;
  limits?: Partial<Schemas["SandboxLimitsSpec"]>;
  network?: Schemas["SandboxNetwork"];
}

/** `strata.sandbox`: list and find sandboxes (create them with `Strata.create`). */
export class Sandboxes {
  constructor(private readonly http: Http) {}

  async create(params: CreateSandboxParams = {}): Promise<SandboxHandle> {
    const json: CreateSandbox = {
      volumes: (params.volumes ?? []).map((m) => ({
        volume_id: m.volumeId,
        mount_path: m.mountPath,
        subpath: m.subpath ?? null,
        read_only: m.readOnly ?? false,
      })),
      env: params.env ?? {},
      limits: params.limits ?? {},
      network: params.network ?? "none",
    };
    return new SandboxHandle(this.http, await this.http.json<Sandbox>("POST", "/v1/sandboxes", { json }));
  }

  async get(id: string): Promise<SandboxHandle> {
    return new SandboxHandle(this.http, await this.http.json<Sandbox>("GET", "/v1/sandboxes/{id}", { params: { id } }));
  }

  async list(): Promise<SandboxHandle[]> {
    const all = await this.http.json<Sandbox[]>("GET", "/v1/sandboxes");
    return all.map((s) => new SandboxHandle(this.http, s));
  }
}

/** A client of one strata server. `Strata.connect()` finds the server and key as the
 * `strata` command does (in Node); `new Strata({endpoint, token})` uses those given. */
export class Strata {
  readonly endpoint: string;
  /** The volume of the CLI's current context (`strata ctx use`), if `connect` found one. */
  readonly contextVolume: string | null;
  readonly volume: Volumes;
  readonly snapshot: Snapshots;
  readonly fs: Files;
  readonly org: Orgs;
  readonly keys: Keys;
  readonly sessions: Sessions;
  readonly sandbox: Sandboxes;
  readonly #http: Http;

  constructor(options: ClientOptions & { contextVolume?: string | null }) {
    this.#http = new Http(options);
    this.endpoint = this.#http.base;
    this.contextVolume = options.contextVolume ?? null;
    this.volume = new Volumes(this.#http);
    this.snapshot = new Snapshots(this.#http);
    this.fs = new Files(this.#http);
    this.org = new Orgs(this.#http);
    this.keys = new Keys(this.#http);
    this.sessions = new Sessions(this.#http);
    this.sandbox = new Sandboxes(this.#http);
  }

  /** A client of the server and key found as the `strata` command finds them (Node only):
   * `STRATA_ENDPOINT`/`STRATA_TOKEN`, then the CLI's config file and its current context,
   * then the local server and its admin key (loopback only). */
  static async connect(options: Partial<ClientOptions> = {}): Promise<Strata> {
    const { discover } = await import("./config.js");
    const found = await discover(options.endpoint, options.token);
    return new Strata({ ...options, endpoint: found.endpoint, token: found.token, contextVolume: found.contextVolume });
  }

  /** A new volume `name` with exactly `source`'s content, made at once at any size. */
  fork(source: VolumeLike, name: string): Promise<Volume> {
    return this.#http.json("POST", "/v1/volumes/{volume}/fork", { params: { volume: ref(source) }, json: { name } });
  }

  /** Makes a fork its source volume (same name and id); the source keeps its last tree as a snapshot. */
  promote(fork: VolumeLike): Promise<Volume> {
    return this.#http.json("POST", "/v1/volumes/{volume}/promote", { params: { volume: ref(fork) } });
  }

  /** Applies a fork's changes since it was made to its source (or `into`), in one change.
   * Paths both changed are conflicts: nothing is applied unless `prefer` says whose wins. */
  merge(
    fork: VolumeLike,
    options: { into?: VolumeLike; prefer?: Schemas["Prefer"]; dryRun?: boolean } = {},
  ): Promise<MergeReport> {
    const json: Schemas["MergeRequest"] = {
      into: options.into ? ref(options.into) : null,
      prefer: options.prefer ?? null,
      dry_run: options.dryRun ?? false,
    };
    return this.#http.json("POST", "/v1/volumes/{volume}/merge", { params: { volume: ref(fork) }, json });
  }

  /** What differs between two volumes or snapshots (`VOLUME@SNAPSHOT`). */
  diff(from: VolumeLike, to: VolumeLike): Promise<DiffEntry[]> {
    return this.#http.json("GET", "/v1/diff", { query: { from: ref(from), to: ref(to) } });
  }

  /** Starts a sandbox; resolves once every volume is mounted. */
  create(params: CreateSandboxParams = {}): Promise<SandboxHandle> {
    return this.sandbox.create(params);
  }

  /** Who the key is: its name, organization, role, and a scoped token's volume and folder. */
  whoami(): Promise<Whoami> {
    return this.#http.json("GET", "/v1/whoami");
  }

  health(): Promise<Health> {
    return this.#http.json("GET", "/v1/health");
  }

  /** The server's Prometheus metrics, as text. */
  async metrics(): Promise<string> {
    return this.#http.text("GET", "/metrics");
  }

  /** Collects garbage (admin keys); with `dryRun` only counts. */
  gc(options: { dryRun?: boolean } = {}): Promise<GcReport> {
    return this.#http.json("POST", "/v1/gc", { query: { dry_run: options.dryRun ?? false } });
  }
}
