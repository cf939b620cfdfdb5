/**
 * Where a client in Node finds its server and key, as the `strata` command does.
 *
 * In order: the arguments, `STRATA_ENDPOINT`/`STRATA_TOKEN`; then the CLI's config file
 * (`$STRATA_CONFIG_DIR/config.json`, else `~/.config/strata/config.json`) with its current
 * context; then the local server (the address in `DATA_DIR/endpoint`, else
 * `http://127.0.0.1:7878`, and `DATA_DIR/admin.token`). A saved key is sent only to the
 * endpoint it was saved with, and the local admin key only to the local server on a loopback
 * address. Node's modules are imported when asked for, so a browser can load this SDK.
 */
export declare const DEFAULT_ENDPOINT = "http://127.0.0.1:7878";
/** What discovery found: the endpoint, the key (if any) and the current context's volume. */
export interface Discovered {
    endpoint: string;
    token: string | null;
    contextVolume: string | null;
}
/** Whether two endpoints are the same, but for spaces and a trailing slash. */
export declare function sameEndpoint(a: string, b: string): boolean;
/** Whether an endpoint's host is this machine (`localhost` or a loopback address). */
export declare function isLoopback(endpoint: string): boolean;
/** Finds the endpoint and key to use, given what the caller passed. */
export declare function discover(endpoint?: string | null, token?: string | null): Promise<Discovered>;
