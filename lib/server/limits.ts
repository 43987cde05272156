/**
 * The server's default limits: what `bftp serve` uses unless told
 * otherwise, documented in docs/SECURITY.md (a test compares the two).
 *
 * @module
 */

/** Sessions at once over the whole server (`--max-connections`). */
export const DEFAULT_MAX_CONNECTIONS = 1000;

/** Sessions at once from one client address (`--max-per-client`). */
export const DEFAULT_MAX_PER_CLIENT = 32;

/**
 * Seconds a new connection has to finish its handshake: TLS, the hello line
 * and, when tokens are required, a successful AUTH (`--handshake-timeout`).
 */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10;

/** Seconds a client may stay silent, between requests or inside a body (`--idle-timeout`). */
export const DEFAULT_IDLE_TIMEOUT = 300;

/** Milliseconds the server waits before it answers a wrong token. */
export const DEFAULT_AUTH_DELAY_MS = 1000;

/** Wrong tokens on one connection before the server closes it. */
export const MAX_AUTH_FAILURES = 3;

/**
 * Clients at once that are being told BUSY (each holds a descriptor for at
 * most about a second); beyond that, new ones are closed without a word.
 */
export const MAX_REFUSING = 1024;

/** The most pipelined uploads a session commits together (group commit, `commit_group.ts`). */
export const MAX_GROUP = 64;

/**
 * The bytes of uploads past which a group lands, however few they are: a
 * group waits for the pipeline to pause, and large files would otherwise
 * wait to be answered until the whole stream had been read (a flush a
 * file costs little beside 8 MiB of data).
 */
export const MAX_GROUP_BYTES = 8 * 1024 * 1024;
