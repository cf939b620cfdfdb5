/**
 * The strata TypeScript SDK: persistent, forkable, shareable volumes for sandboxes.
 *
 * ```ts
 * import { Strata } from "@strata/sdk";
 * const strata = await Strata.connect(); // finds the server and key as `strata` does
 * const volume = await strata.volume.get("work", { create: true });
 * await strata.fs.put(volume, "/notes.txt", "hello");
 * ```
 */
export * from "./client.js";
export * from "./errors.js";
export type { Discovered } from "./config.js";
export type { components, paths } from "./openapi.js";
