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
export const DEFAULT_ENDPOINT = "http://127.0.0.1:7878";
const text = (v) => (typeof v === "string" && v !== "" ? v : null);
/** Whether two endpoints are the same, but for spaces and a trailing slash. */
export function sameEndpoint(a, b) {
    const trim = (s) => s.trim().replace(/\/+$/, "");
    return trim(a) === trim(b);
}
/** Whether an endpoint's host is this machine (`localhost` or a loopback address). */
export function isLoopback(endpoint) {
    let host;
    try {
        host = new URL(endpoint.trim()).hostname;
    }
    catch {
        return false;
    }
    host = host.replace(/^\[|\]$/g, "");
    return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
/** The current context of a config, if any. */
function currentContext(config) {
    const name = text(config.current_context);
    const contexts = config.contexts;
    if (!name || !contexts || typeof contexts !== "object")
        return null;
    const context = contexts[name];
    return context && typeof context === "object" ? context : null;
}
/** Finds the endpoint and key to use, given what the caller passed. */
export async function discover(endpoint, token) {
    const fs = await import("node:fs/promises");
    const path = await import("node:path");
    const os = await import("node:os");
    const env = process.env;
    const read = async (file) => {
        try {
            return (await fs.readFile(file, "utf8")).trim();
        }
        catch {
            return "";
        }
    };
    const home = os.homedir();
    const dataDir = text(env.STRATA_DATA_DIR) ?? path.join(text(env.XDG_DATA_HOME) ?? path.join(home, ".local", "share"), "strata");
    const configFile = text(env.STRATA_CONFIG_DIR)
        ? path.join(env.STRATA_CONFIG_DIR, "config.json")
        : path.join(text(env.XDG_CONFIG_HOME) ?? path.join(home, ".config"), "strata", "config.json");
    let config = {};
    try {
        const parsed = JSON.parse(await read(configFile));
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
            config = parsed;
    }
    catch {
        config = {};
    }
    const context = currentContext(config);
    const [savedEndpoint, savedToken] = context && (text(context.endpoint) || text(context.token))
        ? [text(context.endpoint) ?? text(config.endpoint), text(context.token)]
        : [text(config.endpoint), text(config.token)];
    const contextVolume = context ? text(context.volume) : null;
    const local = (await read(path.join(dataDir, "endpoint"))) || DEFAULT_ENDPOINT;
    const chosen = text(endpoint) ?? text(env.STRATA_ENDPOINT) ?? savedEndpoint ?? local;
    const given = text(token) ?? text(env.STRATA_TOKEN);
    if (given)
        return { endpoint: chosen, token: given, contextVolume };
    if (savedToken && savedEndpoint && sameEndpoint(savedEndpoint, chosen)) {
        return { endpoint: chosen, token: savedToken, contextVolume };
    }
    if (sameEndpoint(chosen, local) && isLoopback(chosen)) {
        const admin = await read(path.join(dataDir, "admin.token"));
        if (admin)
            return { endpoint: chosen, token: admin, contextVolume };
    }
    return { endpoint: chosen, token: null, contextVolume };
}
