/**
 * libc through `Deno.dlopen` (Linux): the descriptor-relative calls that
 * confine a path beneath the served root (libc.ts) and their flag numbers
 * (flags.ts), the calls on an open file's own descriptor (fd_file.ts), and
 * libc's error numbers as errors (errno.ts); and XXH3-128 from the system's
 * libxxhash (xxhash.ts). The server's root, the client's reads of small
 * files and the body checksums use them; elsewhere (another OS, no FFI
 * permission) their callers fall back to Deno's own calls and WebAssembly.
 *
 * @module
 */

export * from "./errno.ts";
export * from "./fd_file.ts";
export * from "./flags.ts";
export * from "./libc.ts";
export * from "./open_early.ts";
export * from "./xxhash.ts";
