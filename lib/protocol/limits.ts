/**
 * The protocol's fixed strings and size limits, shared by client and server.
 *
 * @module
 */

/** The protocol versions this implementation speaks: 2 adds pipelining (request ids, eager PUT). */
export type ProtocolVersion = 1 | 2;

/** The newest protocol version, which the client asks for. */
export const PROTOCOL_VERSION: ProtocolVersion = 2;

/** The line a client opens a session with (a delimited message), for the newest version. */
export const HELLO_LINE = "BFTP/2";

// The body checksums, in order of preference, and their names as the hello line and its reply
// write them: defined with their hashes (checksum.ts), which the served root uses too.
export { type ChecksumName, CHECKSUMS } from "../checksum.ts";

/** The largest request id (the largest integer a JSON number holds exactly). */
export const MAX_REQUEST_ID = Number.MAX_SAFE_INTEGER;

/** The longest handshake line accepted. */
export const MAX_HELLO_BYTES = 64;

/** The largest request frame a server accepts. */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** The largest reply frame a client accepts (a LIST of a big folder). */
export const MAX_REPLY_BYTES = 64 * 1024 * 1024;

// The host's file-system rules (NAME_MAX, PATH_MAX), defined with the served folder.
export { MAX_NAME_BYTES, MAX_PATH_BYTES } from "../root/entry.ts";

/** The most paths one MGET request may name (feature `"mget"`). */
export const MAX_MGET_PATHS = 1024;

/** The smallest block of a BLOCKS request and of a PUT with `base` (feature `"blocks"`). */
export const MIN_BLOCK_SIZE = 4096;

/** The largest block of a BLOCKS request and of a PUT with `base`. */
export const MAX_BLOCK_SIZE = 16 * 1024 * 1024;

/** The most blocks a file may be cut into for BLOCKS (a larger `blockSize` cuts fewer). */
export const MAX_BLOCKS = 16384;

/** The most numbers in a PUT's `reuse` (pairs of first block and count: 1,024 runs). */
export const MAX_REUSE_NUMBERS = 2048;

/** The largest chunk in a body of unknown size. */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;

/**
 * How deep a request nests: the request object, and the objects or arrays
 * in its fields (GET's `expect`). Deeper requests are refused (BAD_REQUEST).
 */
export const MAX_REQUEST_DEPTH = 2;

/**
 * The largest time, in ms from the epoch either way, that a request may
 * carry (PUT's `mtime`, GET's `expect.mtime`): the range of a JavaScript
 * `Date`, ±100,000,000 days from 1970.
 */
export const MAX_TIME_MS = 8.64e15;
