/**
 * A client of one strata server: volumes, files, forks, snapshots, sandboxes, keys.
 *
 * Only `fetch` is used, so it runs in Node (20 and later) and in browsers alike. Every
 * route it calls is a path of the API's OpenAPI document (`openapi.ts`, made from it), and
 * every body and answer one of its schemas.
 */
import { InvalidInput, Unavailable, fromBody } from "./errors.js";
/** One path segment, percent-encoded. */
export function segment(value) {
    return encodeURIComponent(value);
}
const ref = (volume) => (typeof volume === "string" ? volume : volume.name);
/** A moment as the API takes it (RFC 3339, or a span before now). */
export function moment(at) {
    return at instanceof Date ? at.toISOString() : at;
}
/** The HTTP transport: the key, the timeout, errors as exceptions. */
export class Http {
    base;
    #token;
    #timeoutMs;
    transferTimeoutMs;
    #fetch;
    #signal;
    constructor(options) {
        this.base = (options.endpoint.split(",")[0] ?? "").trim().replace(/\/+$/, "");
        this.#token = options.token ?? null;
        this.#timeoutMs = options.timeoutMs ?? 120_000;
        this.transferTimeoutMs = options.transferTimeoutMs ?? 1_800_000;
        this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
        this.#signal = options.signal;
    }
    /** Calls a route of the API whose answer says nothing more than that it succeeded. */
    async call(method, route, call = {}) {
        await this.#exchange(method, route, call, (response) => response.arrayBuffer());
    }
    /** Calls a route and reads its answer with `read`, within the call's timeout. */
    async #exchange(method, route, call, read) {
        let path = route;
        for (const [name, value] of Object.entries(call.params ?? {})) {
            // URLs take `.` and `..` (encoded or not) as steps: no name is either.
            if (value === "." || value === "..")
                throw new InvalidInput(`${name} may not be "${value}"`, "invalid_input", name);
            path = path.replace(`{${name}}`, segment(value));
        }
        const url = new URL(this.base + path);
        for (const [name, value] of Object.entries(call.query ?? {})) {
            if (value !== undefined && value !== null)
                url.searchParams.set(name, String(value));
        }
        const headers = {};
        if (this.#token)
            headers.authorization = `Bearer ${this.#token}`;
        let body;
        if (call.json !== undefined) {
            headers["content-type"] = "application/json";
            body = JSON.stringify(call.json);
        }
        else if (call.body !== undefined) {
            headers["content-type"] = "application/octet-stream";
            body = call.body;
        }
        const timeoutMs = call.timeoutMs ?? this.#timeoutMs;
        const signal = linked(this.#signal, AbortSignal.timeout(timeoutMs));
        try {
            let response;
            try {
                // The key is never carried on to where a redirect points: strata answers without them.
                response = await this.#fetch(url, { method, headers, body, redirect: "manual", signal: signal.signal });
            }
            catch (e) {
                throw this.#unavailable(e, method, timeoutMs);
            }
            if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) {
                throw new Unavailable(`${this.base} answered with a redirect, which no strata server sends`, "unavailable");
            }
            if (!response.ok)
                throw fromBody(response.status, await this.#read(method, timeoutMs, () => response.text()));
            return await this.#read(method, timeoutMs, () => read(response));
        }
        finally {
            signal.release();
        }
    }
    /** What a failed or timed-out exchange is to the caller; a call the client's own signal
     * cancelled rejects with that signal's reason. */
    #unavailable(e, method, timeoutMs) {
        if (this.#signal?.aborted)
            return this.#signal.reason;
        if (e instanceof Error && e.name === "TimeoutError") {
            const maybe = method === "GET" ? "" : "; it may have taken effect";
            return new Unavailable(`no answer from the strata server at ${this.base} within ${timeoutMs / 1000} s${maybe}`, "unavailable");
        }
        const why = e instanceof Error ? e.message : String(e);
        return new Unavailable(`cannot reach the strata server at ${this.base}: ${why}`, "unavailable");
    }
    /** Reads an answer's body: a body cut off or timed out is `Unavailable` too. */
    async #read(method, timeoutMs, read) {
        try {
            return await read();
        }
        catch (e) {
            if (e instanceof SyntaxError)
                throw e;
            throw this.#unavailable(e, method, timeoutMs);
        }
    }
    json(method, route, call = {}) {
        return this.#exchange(method, route, call, (response) => response.json());
    }
    bytes(method, route, call = {}) {
        const limit = call.limit;
        return this.#exchange(method, route, call, async (response) => limit === undefined || !response.body ? new Uint8Array(await response.arrayBuffer()) : prefix(response.body, limit));
    }
    text(method, route, call = {}) {
        return this.#exchange(method, route, call, (response) => response.text());
    }
}
/**
 * `timeout`, also aborted when `outer` is (with `outer`'s reason). `release` drops the link
 * once the call is over, so a client's long-lived signal keeps no listener per call.
 */
function linked(outer, timeout) {
    if (!outer)
        return { signal: timeout, release: () => undefined };
    const both = new AbortController();
    const fromOuter = () => both.abort(outer.reason);
    const fromTimeout = () => both.abort(timeout.reason);
    if (outer.aborted)
        fromOuter();
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
async function prefix(stream, limit) {
    const reader = stream.getReader();
    const bound = Math.max(0, Math.floor(limit));
    const chunks = [];
    let filled = 0;
    try {
        while (filled < bound) {
            const { done, value } = await reader.read();
            if (done)
                break;
            const take = value.subarray(0, bound - filled);
            chunks.push(take);
            filled += take.length;
        }
    }
    finally {
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
    http;
    constructor(http) {
        this.http = http;
    }
    /** Creates a volume; `AlreadyExists` if the name is taken. */
    create(name) {
        return this.http.json("POST", "/v1/volumes", { json: { name, exist_ok: false } });
    }
    /** A volume by name or id; with `create` it is made if missing. */
    get(name, options = {}) {
        if (options.create)
            return this.http.json("POST", "/v1/volumes", { json: { name, exist_ok: true } });
        return this.http.json("GET", "/v1/volumes/{volume}", { params: { volume: name } });
    }
    list() {
        return this.http.json("GET", "/v1/volumes");
    }
    /** Deletes a volume and its snapshots; `Conflict` while mounted or in a sandbox. */
    async delete(volume, options = {}) {
        await this.http.call("DELETE", "/v1/volumes/{volume}", {
            params: { volume: ref(volume) },
            query: { force: options.force ?? false },
        });
    }
    rename(volume, name) {
        return this.http.json("POST", "/v1/volumes/{volume}/rename", { params: { volume: ref(volume) }, json: { name } });
    }
    /** Sets a volume's quota (`null`: no bound); a write past it raises `QuotaExceeded`. */
    setQuota(volume, quota) {
        const json = { bytes: quota.bytes ?? null, files: quota.files ?? null };
        return this.http.json("POST", "/v1/volumes/{volume}/quota", { params: { volume: ref(volume) }, json });
    }
    /** How a volume's new blocks are compressed: `off`, `zstd`, `zstd:LEVEL` (`null`: the server's). */
    setCompression(volume, compression) {
        return this.http.json("POST", "/v1/volumes/{volume}/compression", {
            params: { volume: ref(volume) },
            json: { compression },
        });
    }
    /** The blocks a volume's layers name and what the store keeps for them. */
    usage(volume) {
        return this.http.json("GET", "/v1/volumes/{volume}/usage", { params: { volume: ref(volume) } });
    }
    /** The windows of changes the volume's history keeps, newest first. */
    history(volume, limit = 100) {
        return this.http.json("GET", "/v1/volumes/{volume}/history", { params: { volume: ref(volume) }, query: { limit } });
    }
    /** The volume as it was at a moment: a read-only volume named `VOLUME@TIME`. */
    at(volume, when) {
        return this.get(`${volume}@${moment(when)}`);
    }
    /** Returns the volume to a moment of its history, in one change. */
    restore(volume, to) {
        return this.http.json("POST", "/v1/volumes/{volume}/restore", {
            params: { volume: ref(volume) },
            json: { to: moment(to) },
        });
    }
    /** How long the volume keeps its past (`"24h"`, `"0"` for not at all; `null`: the server's). */
    setHistory(volume, keep) {
        return this.http.json("POST", "/v1/volumes/{volume}/history", { params: { volume: ref(volume) }, json: { keep } });
    }
}
/** `strata.snapshot`: read-only points in time of a volume. */
export class Snapshots {
    http;
    constructor(http) {
        this.http = http;
    }
    create(volume, name) {
        return this.http.json("POST", "/v1/volumes/{volume}/snapshots", { params: { volume: ref(volume) }, json: { name } });
    }
    list(volume) {
        return this.http.json("GET", "/v1/volumes/{volume}/snapshots", { params: { volume: ref(volume) } });
    }
    async delete(volume, name, options = {}) {
        await this.http.call("DELETE", "/v1/volumes/{volume}/snapshots/{name}", {
            params: { volume: ref(volume), name },
            query: { force: options.force ?? false },
        });
    }
    /** Puts the volume back as it was at the snapshot; later changes are gone. */
    restore(volume, name) {
        return this.http.json("POST", "/v1/volumes/{volume}/snapshots/{name}/restore", {
            params: { volume: ref(volume), name },
        });
    }
}
/** `strata.fs`: files of a volume without mounting it (paths start with `/`). */
export class Files {
    http;
    constructor(http) {
        this.http = http;
    }
    /** Writes a whole file, making missing folders; resolves to its attributes. */
    put(volume, path, data, options = {}) {
        return this.http.json("PUT", "/v1/volumes/{volume}/fs/content", {
            params: { volume: ref(volume) },
            query: { path, mode: options.mode },
            body: data,
            timeoutMs: this.http.transferTimeoutMs,
        });
    }
    /** A file's bytes; with `limit`, only its first `limit` bytes are transferred. */
    get(volume, path, options = {}) {
        return this.http.bytes("GET", "/v1/volumes/{volume}/fs/content", {
            params: { volume: ref(volume) },
            query: { path },
            timeoutMs: this.http.transferTimeoutMs,
            limit: options.limit,
        });
    }
    /** A file's content as text (UTF-8). */
    async text(volume, path) {
        return new TextDecoder().decode(await this.get(volume, path));
    }
    /** The entries of a folder: each with `name` and its attributes. */
    list(volume, path = "/") {
        return this.http.json("GET", "/v1/volumes/{volume}/fs/list", { params: { volume: ref(volume) }, query: { path } });
    }
    stat(volume, path) {
        return this.http.json("GET", "/v1/volumes/{volume}/fs/stat", { params: { volume: ref(volume) }, query: { path } });
    }
    mkdir(volume, path, options = {}) {
        const json = { path, parents: options.parents ?? false, mode: options.mode ?? null };
        return this.http.json("POST", "/v1/volumes/{volume}/fs/mkdir", { params: { volume: ref(volume) }, json });
    }
    /** Moves a file or folder, atomically; with `noReplace` an existing target is an error. */
    async rename(volume, from, to, options = {}) {
        const json = { from, to, no_replace: options.noReplace ?? false };
        await this.http.call("POST", "/v1/volumes/{volume}/fs/rename", { params: { volume: ref(volume) }, json });
    }
    /** Copies a file, sharing its blocks: no data is copied. */
    async copy(volume, from, to) {
        const json = { from, to };
        await this.http.call("POST", "/v1/volumes/{volume}/fs/copy", { params: { volume: ref(volume) }, json });
    }
    /** Removes a file, or a folder (with `recursive`, all it holds). */
    async remove(volume, path, options = {}) {
        const json = { path, recursive: options.recursive ?? false };
        await this.http.call("POST", "/v1/volumes/{volume}/fs/remove", { params: { volume: ref(volume) }, json });
    }
    async symlink(volume, path, target) {
        const json = { path, target };
        await this.http.call("POST", "/v1/volumes/{volume}/fs/symlink", { params: { volume: ref(volume) }, json });
    }
    async chmod(volume, path, mode) {
        const json = { path, mode };
        await this.http.call("POST", "/v1/volumes/{volume}/fs/chmod", { params: { volume: ref(volume) }, json });
    }
}
/** `strata.org`: organizations, their usage and quotas, and their encryption. */
export class Orgs {
    http;
    constructor(http) {
        this.http = http;
    }
    /** The key's own organization, or `name` (another: admin keys only). */
    async get(name) {
        const org = name ?? (await this.http.json("GET", "/v1/whoami")).organization;
        return this.http.json("GET", "/v1/orgs/{org}", { params: { org } });
    }
    list() {
        return this.http.json("GET", "/v1/orgs");
    }
    create(name) {
        return this.http.json("POST", "/v1/orgs", { json: { name } });
    }
    /** Sets an organization's quota of bytes (`null`: no bound). */
    setQuota(name, bytes) {
        return this.http.json("POST", "/v1/orgs/{org}/quota", { params: { org: name }, json: { bytes } });
    }
    /** Makes an organization encrypt the blocks it stores from now on (admin keys). */
    encrypt(name) {
        return this.http.json("POST", "/v1/orgs/{org}/encryption", { params: { org: name } });
    }
    rotateKey(name) {
        return this.http.json("POST", "/v1/orgs/{org}/rotate-key", { params: { org: name } });
    }
    reencrypt(name) {
        return this.http.json("POST", "/v1/orgs/{org}/reencrypt", { params: { org: name } });
    }
}
/** `strata.keys`: API keys and scoped tokens; a new secret is shown only in the answer. */
export class Keys {
    http;
    constructor(http) {
        this.http = http;
    }
    /** The organization's keys (another's: admin keys only). */
    list(org) {
        return this.http.json("GET", "/v1/keys", { query: { org } });
    }
    create(key) {
        return this.http.json("POST", "/v1/keys", { json: key });
    }
    /** A token that reaches one volume (below `subpath`, perhaps read-only), for a sandbox or a user. */
    token(token) {
        return this.http.json("POST", "/v1/tokens", { json: token });
    }
    async revoke(id) {
        await this.http.call("DELETE", "/v1/keys/{key}", { params: { key: id } });
    }
}
/** `strata.sessions`: the organization's live mounts. */
export class Sessions {
    http;
    constructor(http) {
        this.http = http;
    }
    list() {
        return this.http.json("GET", "/v1/sessions");
    }
}
/** `sandbox.fs`: files anywhere inside a sandbox. */
export class SandboxFiles {
    http;
    id;
    constructor(http, id) {
        this.http = http;
        this.id = id;
    }
    /** Writes `data` to the absolute `path` inside the sandbox (folders are made). */
    async uploadFile(data, path) {
        await this.http.call("PUT", "/v1/sandboxes/{id}/files", {
            params: { id: this.id },
            query: { path },
            body: data,
            timeoutMs: this.http.transferTimeoutMs,
        });
    }
    downloadFile(path) {
        return this.http.bytes("GET", "/v1/sandboxes/{id}/files", {
            params: { id: this.id },
            query: { path },
            timeoutMs: this.http.transferTimeoutMs,
        });
    }
}
/** `sandbox.process`: commands inside a sandbox. */
export class SandboxProcess {
    http;
    id;
    constructor(http, id) {
        this.http = http;
        this.id = id;
    }
    /** Runs `sh -c command`; waits at most `timeout` seconds (default 60). */
    async exec(command, options = {}) {
        const json = { command, timeout_secs: options.timeout ?? null };
        // The call waits for the command: its own bound (the server's default is 60 s), then some.
        const timeoutMs = ((options.timeout ?? 60) + 30) * 1000;
        const r = await this.http.json("POST", "/v1/sandboxes/{id}/exec", { params: { id: this.id }, json, timeoutMs });
        return { exitCode: r.exit_code, result: r.stdout, stderr: r.stderr, truncated: r.truncated, timedOut: r.timed_out };
    }
}
/** A sandbox: a process tree on the server's machine with volumes mounted in it. */
export class SandboxHandle {
    http;
    id;
    state;
    createdAt;
    volumes;
    limits;
    network;
    fs;
    process;
    constructor(http, data) {
        this.http = http;
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
    async delete() {
        await this.http.call("DELETE", "/v1/sandboxes/{id}", { params: { id: this.id } });
    }
}
/** `strata.sandbox`: list and find sandboxes (create them with `Strata.create`). */
export class Sandboxes {
    http;
    constructor(http) {
        this.http = http;
    }
    async create(params = {}) {
        const json = {
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
        return new SandboxHandle(this.http, await this.http.json("POST", "/v1/sandboxes", { json }));
    }
    async get(id) {
        return new SandboxHandle(this.http, await this.http.json("GET", "/v1/sandboxes/{id}", { params: { id } }));
    }
    async list() {
        const all = await this.http.json("GET", "/v1/sandboxes");
        return all.map((s) => new SandboxHandle(this.http, s));
    }
}
/** A client of one strata server. `Strata.connect()` finds the server and key as the
 * `strata` command does (in Node); `new Strata({endpoint, token})` uses those given. */
export class Strata {
    endpoint;
    /** The volume of the CLI's current context (`strata ctx use`), if `connect` found one. */
    contextVolume;
    volume;
    snapshot;
    fs;
    org;
    keys;
    sessions;
    sandbox;
    #http;
    constructor(options) {
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
    static async connect(options = {}) {
        const { discover } = await import("./config.js");
        const found = await discover(options.endpoint, options.token);
        return new Strata({ ...options, endpoint: found.endpoint, token: found.token, contextVolume: found.contextVolume });
    }
    /** A new volume `name` with exactly `source`'s content, made at once at any size. */
    fork(source, name) {
        return this.#http.json("POST", "/v1/volumes/{volume}/fork", { params: { volume: ref(source) }, json: { name } });
    }
    /** Makes a fork its source volume (same name and id); the source keeps its last tree as a snapshot. */
    promote(fork) {
        return this.#http.json("POST", "/v1/volumes/{volume}/promote", { params: { volume: ref(fork) } });
    }
    /** Applies a fork's changes since it was made to its source (or `into`), in one change.
     * Paths both changed are conflicts: nothing is applied unless `prefer` says whose wins. */
    merge(fork, options = {}) {
        const json = {
            into: options.into ? ref(options.into) : null,
            prefer: options.prefer ?? null,
            dry_run: options.dryRun ?? false,
        };
        return this.#http.json("POST", "/v1/volumes/{volume}/merge", { params: { volume: ref(fork) }, json });
    }
    /** What differs between two volumes or snapshots (`VOLUME@SNAPSHOT`). */
    diff(from, to) {
        return this.#http.json("GET", "/v1/diff", { query: { from: ref(from), to: ref(to) } });
    }
    /** Starts a sandbox; resolves once every volume is mounted. */
    create(params = {}) {
        return this.sandbox.create(params);
    }
    /** Who the key is: its name, organization, role, and a scoped token's volume and folder. */
    whoami() {
        return this.#http.json("GET", "/v1/whoami");
    }
    health() {
        return this.#http.json("GET", "/v1/health");
    }
    /** The server's Prometheus metrics, as text. */
    async metrics() {
        return this.#http.text("GET", "/metrics");
    }
    /** Collects garbage (admin keys); with `dryRun` only counts. */
    gc(options = {}) {
        return this.#http.json("POST", "/v1/gc", { query: { dry_run: options.dryRun ?? false } });
    }
}
