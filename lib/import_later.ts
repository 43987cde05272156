/**
 * Imports a module of this program only when it is needed, by a specifier
 * `deno run` cannot see before the program starts. A dynamic import of a
 * plain string is followed when the module graph is built: `deno run` then
 * reads and parses every module it leads to before the first line runs
 * (every command's code for `bftp --version`: 206 modules, 44 ms against 32
 * with 16). `deno compile` cannot see these imports either, so
 * `scripts/compile` embeds each `importLater("./x.ts", …)` target it finds
 * in `lib/` with `--include`: call it with a literal relative path. A
 * bundle of a command (`scripts/bundle.ts`, which `scripts/bftp` runs)
 * holds these modules and says so in {@linkcode BUNDLED}: they are taken
 * from it, not from the sources.
 *
 * @module
 */

/**
 * Imports `relative` (a literal path such as `"./serve.ts"`) from the
 * module at `base` (its `import.meta.url`).
 *
 * @param relative The module's path, relative to the caller.
 * @param base The caller's `import.meta.url`.
 * @returns The module's namespace, typed by the caller.
 *
 * @example
 * ```ts
 * import { importLater } from "./import_later.ts";
 * import { equal } from "node:assert/strict";
 *
 * const { VERSION } = await importLater<typeof import("./version.ts")>("./version.ts", import.meta.url);
 * equal(typeof VERSION, "string");
 * ```
 */
export function importLater<T>(relative: string, base: string): Promise<T> {
  const url = new URL(relative, base).href;
  const bundled = (globalThis as BundledGlobal)[BUNDLED]?.[url];
  return bundled === undefined ? import(url) : bundled() as Promise<T>;
}

/**
 * Where a bundle of this program (`scripts/bundle.ts`) keeps the modules it
 * holds that {@linkcode importLater} would import: each module's `file:`
 * URL, as `importLater` resolves it, to a function that imports the
 * bundled copy. Set by the bundle's first lines; absent otherwise.
 */
export const BUNDLED: unique symbol = Symbol.for("bftp.bundled");

/** `globalThis` with a bundle's modules. */
type BundledGlobal = { [BUNDLED]?: Record<string, () => Promise<unknown>> };
