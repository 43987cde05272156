/**
 * Imports a module of this program only when it is needed, by a specifier
 * `deno run` cannot see before the program starts. A dynamic import of a
 * plain string is followed when the module graph is built: `deno run` then
 * reads and parses every module it leads to before the first line runs
 * (every command's code for `bftp --version`: 206 modules, 44 ms against 32
 * with 16). `deno compile` cannot see these imports either, so
 * `scripts/compile` embeds each `importLater("./x.ts", …)` target it finds
 * in `lib/` with `--include`: call it with a literal relative path.
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
  return import(new URL(relative, base).href);
}
