/**
 * Local files written atomically, one set of rules for every writer of a
 * local file (`get`, `recv`, `http-get -o`) and the lock rule the server's
 * uploads share:
 *
 * - {@linkcode AtomicFile}: a temporary beside DEST (`.NAME.bftp-tmp-<UUID>`),
 *   locked while written, keeping a replaced file's mode, never writing
 *   through a planted link, renamed into place on commit
 * - {@linkcode openOutput}: a FIFO or a device is written in place
 *   ({@linkcode InPlaceFile}), anything else atomically
 * - {@linkcode removeStaleTemporaries}: removes temporaries nobody holds
 * - {@linkcode hiddenStem}: the hidden name beside DEST, within 255 bytes
 * - {@linkcode openLocked}: create, lock, and check the file is still there
 * - {@linkcode LandingFile}: a download's output; with a {@linkcode Lander},
 *   small bodies are held until verified and landed on a second thread
 * - {@linkcode landWhole}: a small verified body landed in one go (a tree's small files)
 * - {@linkcode applyServerAttributes}: what `-p` keeps of a downloaded file
 * - {@linkcode openOwnFile}, {@linkcode writeOwnText}: a resumable download's
 *   partial and state, never opened or written through a planted link
 * - {@linkcode LocalTree}: a download's DEST held by its top; every folder below
 *   reached without following a link, every file made relative to its folder
 *
 * It imports nothing above `errors.ts`, `checksum.ts` and `framing/`'s byte helpers: `cli/`,
 * `client/`, `http/` and `root/` may all use it.
 *
 * @module
 */

export * from "./atomic_file.ts";
export * from "./local_temporaries.ts";
export * from "./lock.ts";
export * from "./output.ts";
export * from "./hidden_names.ts";
export * from "./attributes.ts";
export * from "./own_file.ts";
export * from "./landing_file.ts";
export * from "./lander.ts";
export * from "./land_whole.ts";
export * from "./local_tree.ts";
