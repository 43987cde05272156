/**
 * Giving free heap memory back to the system when a server's load has
 * gone: glibc's `malloc_trim`, reached through `Deno.dlopen` on Linux.
 *
 * @module
 */

let trimmer: { malloc_trim: (pad: bigint) => number } | null | undefined;

/**
 * Gives free heap memory back to the system (`malloc_trim(0)` of glibc),
 * as a server does when its load has gone. Harmless where it cannot: not
 * Linux, no FFI permission, or a libc without `malloc_trim` (musl).
 *
 * @returns Whether `malloc_trim` ran.
 *
 * @example
 * ```ts
 * import { trimMemory } from "./trim_memory.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(typeof trimMemory() === "boolean");
 * ```
 */
export function trimMemory(): boolean {
  if (trimmer === undefined) {
    trimmer = null;
    if (
      Deno.build.os === "linux" &&
      Deno.permissions.querySync({ name: "ffi" }).state === "granted"
    ) {
      try {
        trimmer = Deno.dlopen("libc.so.6", {
          malloc_trim: { parameters: ["usize"], result: "i32" },
        }).symbols;
      } catch (e) {
        if (!(e instanceof Error)) throw e;
      }
    }
  }
  if (trimmer === null) return false;
  trimmer.malloc_trim(0n);
  return true;
}
