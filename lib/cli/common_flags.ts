/**
 * The flags several commands share, declared once: `-q`, `--timeout`, the
 * client's TLS trust (`--tls`, `--cacert`, `--fingerprint`), a server's
 * certificate (`--tls-cert`, `--tls-key`), its address (`--host`,
 * `--port`), the body checksum (`--checksum`) and a rate (`--limit-rate`).
 * A command spreads the groups it takes into its own flags, and `parseFlags`
 * types them like the rest.
 *
 * @module
 */

import { parseSize } from "../bytes.ts";
import { UsageError } from "../errors.ts";
import { type ChecksumName, CHECKSUMS } from "../protocol/limits.ts";
import type { FlagValues } from "./args.ts";

/** `-q`, `--quiet`: no progress line, no log. */
export const QUIET_FLAG = Object.freeze({ quiet: { type: "boolean", short: "q" } } as const);

/** `--timeout S`: seconds; each command says what it times. */
export const TIMEOUT_FLAG = Object.freeze({ timeout: { type: "string" } } as const);

/** `--cacert FILE` and `--fingerprint HEX`: how a client trusts the server's certificate. */
export const TLS_TRUST_FLAGS = Object.freeze(
  { cacert: { type: "string" }, fingerprint: { type: "string" } } as const,
);

/** `--tls` (speak TLS, trusting the usual roots) and {@linkcode TLS_TRUST_FLAGS}. */
export const CLIENT_TLS_FLAGS = Object.freeze(
  { tls: { type: "boolean" }, ...TLS_TRUST_FLAGS } as const,
);

/** `--tls-cert FILE` and `--tls-key FILE`: a listening end's certificate and key. */
export const SERVER_TLS_FLAGS = Object.freeze(
  { "tls-cert": { type: "string" }, "tls-key": { type: "string" } } as const,
);

/** `--host H` and `--port N`: where a server listens. */
export const LISTEN_FLAGS = Object.freeze(
  { host: { type: "string" }, port: { type: "string" } } as const,
);

/** `--limit-rate RATE`: the most bytes a second a connection moves each way. */
export const RATE_FLAG = Object.freeze({ "limit-rate": { type: "string" } } as const);

/** The help lines of {@linkcode RATE_FLAG}, indented as the option lists are. */
export const RATE_HELP = `  --limit-rate RATE   move at most RATE bytes a second each way, as curl's
                      --limit-rate and rsync's --bwlimit (500K, 2M, 1.5MB: K, M,
                      G are 1024s, KB, MB, GB 1000s)`;

/**
 * Reads `--limit-rate`: a size a second, above 0.
 *
 * @param value The flag's value, if given.
 * @returns Bytes a second, or `undefined` for no limit.
 * @throws {UsageError} When it is not a size, or is 0.
 *
 * @example
 * ```ts
 * import { rateFlag } from "./common_flags.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * equal(rateFlag("500K"), 512_000);
 * equal(rateFlag(undefined), undefined);
 * throws(() => rateFlag("0"), /--limit-rate/);
 * ```
 */
export function rateFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  let rate: number;
  try {
    rate = parseSize(value);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    rate = 0;
  }
  if (rate <= 0) {
    throw new UsageError(
      `Invalid value "${value}" for --limit-rate: expected bytes a second, such as 500K or 2M`,
    );
  }
  return rate;
}

/** `--retry N`: how often a transfer that failed for a passing reason is tried again. */
export const RETRY_FLAG = Object.freeze({ retry: { type: "string" } } as const);

/** The help lines of {@linkcode RETRY_FLAG}, indented as the option lists are. */
export const RETRY_HELP = `  --retry N         try again up to N times after a passing failure (the
                    connection lost or refused, a stall, a busy server),
                    waiting 1 s, then 2, 4... up to a minute, as curl's
                    --retry; with --resume a cut file goes on from where it
                    stopped, else it starts over`;

/**
 * Reads {@linkcode RETRY_FLAG}.
 *
 * @param value The flag's value, if given.
 * @returns The retries, 0 when absent.
 * @throws {UsageError} When it is not a whole number.
 *
 * @example
 * ```ts
 * import { retryFlag } from "./common_flags.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * equal(retryFlag("3"), 3);
 * equal(retryFlag(undefined), 0);
 * throws(() => retryFlag("x"), /--retry/);
 * ```
 */
export function retryFlag(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value) || Number(value) > 1000) {
    throw new UsageError(
      `Invalid value "${value}" for --retry: expected a whole number up to 1000`,
    );
  }
  return Number(value);
}

/** `--checksum NAME`: the one body checksum a client offers, or a server accepts. */
export const CHECKSUM_FLAG = Object.freeze({ checksum: { type: "string" } } as const);

/**
 * Reads {@linkcode CHECKSUM_FLAG}: the checksums to offer or accept.
 *
 * @param value The flag's value, if given.
 * @param allowed The names the command takes.
 * @returns The one checksum named, or `undefined` (the default list) when the flag is absent.
 * @throws {UsageError} For a name not in `allowed`.
 *
 * @example
 * ```ts
 * import { checksumFlag } from "./common_flags.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(checksumFlag(undefined), undefined);
 * deepEqual(checksumFlag("sha256"), ["sha256"]);
 * throws(() => checksumFlag("md5"), /sha256/);
 * ```
 */
export function checksumFlag(
  value: string | undefined,
  allowed: readonly ChecksumName[] = CHECKSUMS,
): ChecksumName[] | undefined {
  if (value === undefined) return undefined;
  const name = allowed.find((c) => c === value);
  if (name === undefined) {
    const shown = value.slice(0, 32).replace(/[^\x20-\x7e]/g, "?");
    throw new UsageError(
      `Invalid value "${shown}" for --checksum: one of ${allowed.map((c) => `"${c}"`).join(", ")}`,
    );
  }
  return [name];
}

/**
 * Reads {@linkcode SERVER_TLS_FLAGS}: both files or neither.
 *
 * @param values The parsed flags, with {@linkcode SERVER_TLS_FLAGS} among them.
 * @returns The certificate and key paths, or `undefined` for no TLS.
 * @throws {UsageError} When only one of the two is given.
 *
 * @example
 * ```ts
 * import { serverTlsFlags } from "./common_flags.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(serverTlsFlags({}), undefined);
 * deepEqual(serverTlsFlags({ "tls-cert": "c.pem", "tls-key": "k.pem" }), { cert: "c.pem", key: "k.pem" });
 * throws(() => serverTlsFlags({ "tls-cert": "c.pem" }), /go together/);
 * ```
 */
export function serverTlsFlags(
  values: FlagValues<typeof SERVER_TLS_FLAGS>,
): { cert: string; key: string } | undefined {
  const cert = values["tls-cert"];
  const key = values["tls-key"];
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  return cert !== undefined && key !== undefined ? { cert, key } : undefined;
}
