/**
 * The native libraries a download lands its files with, opened ahead of
 * time: libc's two sets of bindings (`libc.ts`, `fd_file.ts`) and
 * libxxhash (`xxhash.ts`). Each `Deno.dlopen` binds its functions at once,
 * about 5 ms for the three here; opened where the process would wait
 * anyway (while the server lists a tree), they are not paid for after the
 * listing, where the transfer waits for them.
 *
 * @module
 */

import { openFdFileCalls } from "./fd_file.ts";
import { Libc } from "./libc.ts";
import { NativeXxh3 } from "./xxhash.ts";

/**
 * Opens libc's bindings and libxxhash now (each once a process; nothing
 * where they cannot be opened).
 *
 * @example
 * ```ts
 * import { openNativeEarly } from "./open_early.ts";
 *
 * openNativeEarly();
 * ```
 */
export function openNativeEarly(): void {
  Libc.load();
  openFdFileCalls();
  NativeXxh3.create()?.digest();
}
