/**
 * A client of one strata server: volumes, files, forks, snapshots, sandboxes, keys.
 *
 * Only `fetch` is used, so it runs in Node (20 and later) and in browsers alike. Every
 * route it calls is a path of the API's OpenAPI document (`openapi.ts`, made from it), and
 * every body and answer one of its schemas.
 */
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
export type VolumeLike = string | {
    name: string;
};
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
export declare function segment(value: string): string;
/** A moment as the API takes it (RFC 3339, or a span before now). */
export declare function moment(at: Moment): string;
/** The HTTP transport: the key, the timeout, errors as exceptions. */
export declare class Http {
    #private;
    readonly base: string;
    readonly transferTimeoutMs: number;
    constructor(options: ClientOptions);
    /** Calls a route of the API whose answer says nothing more than that it succeeded. */
    call(method: Method, route: Route, call?: Call): Promise<void>;
    json<T>(method: Method, route: Route, call?: Call): Promise<T>;
    bytes(method: Method, route: Route, call?: Call): Promise<Uint8Array>;
    text(method: Method, route: Route, call?: Call): Promise<string>;
}
/** `strata.volume`: create, get, list and delete volumes. */
export declare class Volumes {
    private readonly http;
    constructor(http: Http);
    /** Creates a volume; `AlreadyExists` if the name is taken. */
    create(name: string): Promise<Volume>;
    /** A volume by name or id; with `create` it is made if missing. */
    get(name: string, options?: {
        create?: boolean;
    }): Promise<Volume>;
    list(): Promise<Volume[]>;
    /** Deletes a volume and its snapshots; `Conflict` while mounted or in a sandbox. */
    delete(volume: VolumeLike, options?: {
        force?: boolean;
    }): Promise<void>;
    rename(volume: VolumeLike, name: string): Promise<Volume>;
    /** Sets a volume's quota (`null`: no bound); a write past it raises `QuotaExceeded`. */
    setQuota(volume: VolumeLike, quota: {
        bytes?: number | null;
        files?: number | null;
    }): Promise<Volume>;
    /** How a volume's new blocks are compressed: `off`, `zstd`, `zstd:LEVEL` (`null`: the server's). */
    setCompression(volume: VolumeLike, compression: string | null): Promise<Volume>;
    /** The blocks a volume's layers name and what the store keeps for them. */
    usage(volume: VolumeLike): Promise<StoreUsage>;
    /** The windows of changes the volume's history keeps, newest first. */
    history(volume: VolumeLike, limit?: number): Promise<HistoryPoint[]>;
    /** The volume as it was at a moment: a read-only volume named `VOLUME@TIME`. */
    at(volume: string, when: Moment): Promise<Volume>;
    /** Returns the volume to a moment of its history, in one change. */
    restore(volume: VolumeLike, to: Moment): Promise<Volume>;
    /** How long the volume keeps its past (`"24h"`, `"0"` for not at all; `null`: the server's). */
    setHistory(volume: VolumeLike, keep: string | null): Promise<Volume>;
}
/** `strata.snapshot`: read-only points in time of a volume. */
export declare class Snapshots {
    private readonly http;
    constructor(http: Http);
    create(volume: VolumeLike, name: string): Promise<Volume>;
    list(volume: VolumeLike): Promise<Volume[]>;
    delete(volume: VolumeLike, name: string, options?: {
        force?: boolean;
    }): Promise<void>;
    /** Puts the volume back as it was at the snapshot; later changes are gone. */
    restore(volume: VolumeLike, name: string): Promise<Volume>;
}
/** `strata.fs`: files of a volume without mounting it (paths start with `/`). */
export declare class Files {
    private readonly http;
    constructor(http: Http);
    /** Writes a whole file, making missing folders; resolves to its attributes. */
    put(volume: VolumeLike, path: string, data: Content, options?: {
        mode?: number;
    }): Promise<Stat>;
    /** A file's bytes; with `limit`, only its first `limit` bytes are transferred. */
    get(volume: VolumeLike, path: string, options?: {
        limit?: number;
    }): Promise<Uint8Array>;
    /** A file's content as text (UTF-8). */
    text(volume: VolumeLike, path: string): Promise<string>;
    /** The entries of a folder: each with `name` and its attributes. */
    list(volume: VolumeLike, path?: string): Promise<DirEntry[]>;
    stat(volume: VolumeLike, path: string): Promise<Stat>;
    mkdir(volume: VolumeLike, path: string, options?: {
        parents?: boolean;
        mode?: number;
    }): Promise<Stat>;
    /** Moves a file or folder, atomically; with `noReplace` an existing target is an error. */
    rename(volume: VolumeLike, from: string, to: string, options?: {
        noReplace?: boolean;
    }): Promise<void>;
    /** Copies a file, sharing its blocks: no data is copied. */
    copy(volume: VolumeLike, from: string, to: string): Promise<void>;
    /** Removes a file, or a folder (with `recursive`, all it holds). */
    remove(volume: VolumeLike, path: string, options?: {
        recursive?: boolean;
    }): Promise<void>;
    symlink(volume: VolumeLike, path: string, target: string): Promise<void>;
    chmod(volume: VolumeLike, path: string, mode: number): Promise<void>;
}
/** `strata.org`: organizations, their usage and quotas, and their encryption. */
export declare class Orgs {
    private readonly http;
    constructor(http: Http);
    /** The key's own organization, or `name` (another: admin keys only). */
    get(name?: string): Promise<Org>;
    list(): Promise<Org[]>;
    create(name: string): Promise<Org>;
    /** Sets an organization's quota of bytes (`null`: no bound). */
    setQuota(name: string, bytes: number | null): Promise<Org>;
    /** Makes an organization encrypt the blocks it stores from now on (admin keys). */
    encrypt(name: string): Promise<Org>;
    rotateKey(name: string): Promise<Org>;
    reencrypt(name: string): Promise<Reencrypted>;
}
/** `strata.keys`: API keys and scoped tokens; a new secret is shown only in the answer. */
export declare class Keys {
    private readonly http;
    constructor(http: Http);
    /** The organization's keys (another's: admin keys only). */
    list(org?: string): Promise<KeyInfo[]>;
    create(key: CreateKey): Promise<NewKey>;
    /** A token that reaches one volume (below `subpath`, perhaps read-only), for a sandbox or a user. */
    token(token: CreateToken): Promise<NewKey>;
    revoke(id: string): Promise<void>;
}
/** `strata.sessions`: the organization's live mounts. */
export declare class Sessions {
    private readonly http;
    constructor(http: Http);
    list(): Promise<LiveSession[]>;
}
/** `sandbox.fs`: files anywhere inside a sandbox. */
export declare class SandboxFiles {
    private readonly http;
    private readonly id;
    constructor(http: Http, id: string);
    /** Writes `data` to the absolute `path` inside the sandbox (folders are made). */
    uploadFile(data: Content, path: string): Promise<void>;
    downloadFile(path: string): Promise<Uint8Array>;
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
export declare class SandboxProcess {
    private readonly http;
    private readonly id;
    constructor(http: Http, id: string);
    /** Runs `sh -c command`; waits at most `timeout` seconds (default 60). */
    exec(command: string, options?: {
        timeout?: number;
    }): Promise<ExecResponse>;
}
/** A sandbox: a process tree on the server's machine with volumes mounted in it. */
export declare class SandboxHandle {
    private readonly http;
    readonly id: string;
    readonly state: Sandbox["state"];
    readonly createdAt: number;
    readonly volumes: SandboxVolume[];
    readonly limits: Sandbox["limits"];
    readonly network: Sandbox["network"];
    readonly fs: SandboxFiles;
    readonly process: SandboxProcess;
    constructor(http: Http, data: Sandbox);
    /** Kills every process and unmounts the volumes; their data stays. */
    delete(): Promise<void>;
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
export declare class Sandboxes {
    private readonly http;
    constructor(http: Http);
    create(params?: CreateSandboxParams): Promise<SandboxHandle>;
    get(id: string): Promise<SandboxHandle>;
    list(): Promise<SandboxHandle[]>;
}
/** A client of one strata server. `Strata.connect()` finds the server and key as the
 * `strata` command does (in Node); `new Strata({endpoint, token})` uses those given. */
export declare class Strata {
    #private;
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
    constructor(options: ClientOptions & {
        contextVolume?: string | null;
    });
    /** A client of the server and key found as the `strata` command finds them (Node only):
     * `STRATA_ENDPOINT`/`STRATA_TOKEN`, then the CLI's config file and its current context,
     * then the local server and its admin key (loopback only). */
    static connect(options?: Partial<ClientOptions>): Promise<Strata>;
    /** A new volume `name` with exactly `source`'s content, made at once at any size. */
    fork(source: VolumeLike, name: string): Promise<Volume>;
    /** Makes a fork its source volume (same name and id); the source keeps its last tree as a snapshot. */
    promote(fork: VolumeLike): Promise<Volume>;
    /** Applies a fork's changes since it was made to its source (or `into`), in one change.
     * Paths both changed are conflicts: nothing is applied unless `prefer` says whose wins. */
    merge(fork: VolumeLike, options?: {
        into?: VolumeLike;
        prefer?: Schemas["Prefer"];
        dryRun?: boolean;
    }): Promise<MergeReport>;
    /** What differs between two volumes or snapshots (`VOLUME@SNAPSHOT`). */
    diff(from: VolumeLike, to: VolumeLike): Promise<DiffEntry[]>;
    /** Starts a sandbox; resolves once every volume is mounted. */
    create(params?: CreateSandboxParams): Promise<SandboxHandle>;
    /** Who the key is: its name, organization, role, and a scoped token's volume and folder. */
    whoami(): Promise<Whoami>;
    health(): Promise<Health>;
    /** The server's Prometheus metrics, as text. */
    metrics(): Promise<string>;
    /** Collects garbage (admin keys); with `dryRun` only counts. */
    gc(options?: {
        dryRun?: boolean;
    }): Promise<GcReport>;
}
export {};
