/**
 * Flag parsing for the subcommands, by `node:util` parseArgs' rules
 * (`flag_tokens.ts`), every parse failure a {@linkcode UsageError} (exit
 * code 2). A
 * command declares its flags once, `as const` or inline; the values come
 * back typed from that declaration, so `values.recursive` is a
 * `boolean | undefined` and a misspelt flag name does not compile.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { type FlagSpec, readFlags } from "./flag_tokens.ts";

export type { FlagSpec };

/** A command's flags by long name. */
export type Flags = Readonly<Record<string, FlagSpec>>;

/** What one flag parses to: a string or a boolean, an array of them with `multiple: true`. */
export type FlagValue<S extends FlagSpec> = S extends { type: "boolean" }
  ? S extends { multiple: true } ? boolean[] : boolean
  : S extends { multiple: true } ? string[]
  : string;

type MultipleKeys<F extends Flags> = {
  [K in keyof F]: F[K] extends { multiple: true } ? K : never;
}[keyof F];

/**
 * The parsed values of the flags `F`, by long name: a flag not given is
 * absent, except that a `multiple` flag is always an array (empty when not
 * given). `help` is there for every command.
 */
export type FlagValues<F extends Flags> =
  & { -readonly [K in MultipleKeys<F>]: FlagValue<F[K]> }
  & { -readonly [K in Exclude<keyof F, MultipleKeys<F>>]?: FlagValue<F[K]> }
  & { help?: boolean };

/** The result of {@linkcode parseFlags}. */
export interface ParsedFlags<F extends Flags = Flags> {
  /** Flag values by long name, typed from the flags' declaration. */
  values: FlagValues<F>;
  /** Positional arguments. */
  positionals: string[];
  /** The flags given, in command-line order (where the order of different flags matters). */
  order: { name: string; value: string | undefined }[];
}

/**
 * Parses a subcommand's arguments strictly: unknown flags and missing values
 * are usage errors. Every command also gets `--help`/`-h`. A command may give
 * `-h` its own meaning (`ls -lh`); `-h` on its own is still help (main.ts).
 * Otherwise `h` inside a group (`-qh`) is a usage error, never silently dropped.
 *
 * @param args The arguments after the subcommand name.
 * @param flags The flags the command accepts.
 * @returns Values, typed from `flags`, and positionals.
 * @throws {UsageError} On anything the rules refuse (`flag_tokens.ts`).
 *
 * @example
 * ```ts
 * import { parseFlags } from "./args.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const { values, positionals } = parseFlags(["-q", "x", "-H", "A: 1"], {
 *   quiet: { type: "boolean", short: "q" },
 *   output: { type: "string", short: "o" },
 *   header: { type: "string", short: "H", multiple: true },
 * });
 * const quiet: boolean | undefined = values.quiet;
 * const output: string | undefined = values.output;
 * const headers: string[] = values.header;
 * deepEqual([quiet, output, headers], [true, undefined, ["A: 1"]]);
 * deepEqual(positionals, ["x"]);
 * ```
 */
export function parseFlags<const F extends Flags>(args: string[], flags: F): ParsedFlags<F> {
  const ownH = Object.values(flags).some((f) => f.short === "h");
  const help: FlagSpec = ownH ? { type: "boolean" } : { type: "boolean", short: "h" };
  const options: Record<string, FlagSpec> = { help, ...flags };
  const parsed = readFlags(args, options);
  if (parsed.values.help === true && !args.includes("-h") && !args.includes("--help")) {
    const group = args.find((a) => /^-[^-]/.test(a) && a.includes("h")) ?? "-h";
    throw new UsageError(`Unknown option "-h" in "${group}" (-h alone is help)`);
  }
  const values: Record<string, unknown> = parsed.values;
  for (const [name, spec] of Object.entries(flags)) {
    if (spec.multiple === true) values[name] ??= [];
  }
  return { values: values as FlagValues<F>, positionals: parsed.positionals, order: parsed.order };
}

/**
 * Checks `--host`: the address to listen on.
 *
 * @param value The flag's value, if given.
 * @param fallback The default address.
 * @returns The host.
 * @throws {UsageError} When it is empty.
 *
 * @example
 * ```ts
 * import { hostFlag } from "./args.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(hostFlag(undefined, "127.0.0.1"), "127.0.0.1");
 * deepEqual(hostFlag("::", "127.0.0.1"), "::");
 * throws(() => hostFlag("", "127.0.0.1"), /--host/);
 * ```
 */
export function hostFlag(value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  if (value.trim() === "") {
    throw new UsageError('Invalid value "" for --host: give an address or a host name');
  }
  return value;
}

/**
 * Reads a non-negative integer flag.
 *
 * @param value The flag's value, if given.
 * @param name The flag's long name, for the message.
 * @param fallback The value when the flag is absent.
 * @returns The number.
 * @throws {UsageError} When the value is not a non-negative integer.
 *
 * @example
 * ```ts
 * import { intFlag } from "./args.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(intFlag("2121", "port", 0), 2121);
 * deepEqual(intFlag(undefined, "port", 7), 7);
 * throws(() => intFlag("1.5", "count", 0), /"1.5" for --count: expected a whole number/);
 * ```
 */
export function intFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`Invalid value "${value}" for --${name}: expected a whole number`);
  }
  return Number(value);
}

/**
 * Reads a non-negative number flag (decimals allowed), such as a timeout in
 * seconds.
 *
 * @param value The flag's value, if given.
 * @param name The flag's long name, for the message.
 * @param fallback The value when the flag is absent.
 * @returns The number.
 * @throws {UsageError} When the value is not a non-negative number.
 *
 * @example
 * ```ts
 * import { numberFlag } from "./args.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(numberFlag("1.5", "timeout", 0), 1.5);
 * deepEqual(numberFlag(undefined, "timeout", 30), 30);
 * ```
 */
export function numberFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`Invalid value "${value}" for --${name}: expected a non-negative number`);
  }
  return n;
}

/**
 * The longest time a timer can wait: `setTimeout` takes at most 2^31 - 1
 * ms (about 24.8 days) and fires at once for more.
 */
export const MAX_TIMER_SECONDS = 2_147_483;

/**
 * Reads a number of seconds a timer waits (`--timeout`): a non-negative
 * number up to {@linkcode MAX_TIMER_SECONDS}. A longer one fired at once
 * (a 35-day `--timeout` gave up before it began).
 *
 * @param value The flag's value, if given.
 * @param name The flag's long name, for the message.
 * @param fallback The value when the flag is absent.
 * @returns The seconds.
 * @throws {UsageError} When the value is not a number of seconds a timer can wait.
 *
 * @example
 * ```ts
 * import { secondsFlag } from "./args.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(secondsFlag("2.5", "timeout", 0), 2.5);
 * throws(() => secondsFlag("3000000", "timeout", 0), /at most 2147483 seconds/);
 * ```
 */
export function secondsFlag(value: string | undefined, name: string, fallback: number): number {
  const n = numberFlag(value, name, fallback);
  if (n > MAX_TIMER_SECONDS) {
    throw new UsageError(
      `Invalid value "${value}" for --${name}: at most ${MAX_TIMER_SECONDS} seconds (about 24 days)`,
    );
  }
  return n;
}

/**
 * Reads a port flag (0 to 65535).
 *
 * @param value The flag's value, if given.
 * @param name The flag's long name, for the message.
 * @param fallback The port when the flag is absent.
 * @returns The port.
 * @throws {UsageError} When the value is not a port number.
 *
 * @example
 * ```ts
 * import { portFlag } from "./args.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(portFlag("0", "port", 2121), 0);
 * deepEqual(portFlag(undefined, "port", 2121), 2121);
 * ```
 */
export function portFlag(value: string | undefined, name: string, fallback: number): number {
  const port = intFlag(value, name, fallback);
  if (port > 65535) throw new UsageError(`Invalid port "${port}": expected 0 to 65535`);
  return port;
}
