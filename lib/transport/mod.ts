/**
 * Transports: plain TCP and TLS connections for the server, the client, the
 * pipe and the echo tools, certificate fingerprints, the TLS files, and a
 * client's TLS trust from its `--cacert`/`--fingerprint`/`--tls` flags, and
 * the one inactivity watchdog every connection uses, and the one
 * SO_REUSEPORT worker pool (`serve --workers`, `echo-server`) with the port
 * it reserves.
 *
 * @example
 * ```ts
 * import { formatHostPort, parseFingerprint } from "./mod.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(formatHostPort("::1", 2121), "[::1]:2121");
 * deepEqual(parseFingerprint("ab".repeat(32)).length, 95);
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./address.ts";
export * from "./tcp.ts";
export * from "./fingerprint.ts";
export * from "./node_tls_conn.ts";
export * from "./connect.ts";
export * from "./node_tls_connect.ts";
export * from "./tls_errors.ts";
export * from "./listen.ts";
export * from "./tls_files.ts";
export * from "./client_tls_flags.ts";
export * from "./close.ts";
export * from "./watchdog.ts";
export * from "./reuse_port.ts";
export * from "./worker_pool.ts";
export * from "./rate_limit.ts";
