/**
 * Flag parsing for the subcommands, on `node:util` parseArgs, with every
 * parse failure turned into a {@linkcode UsageError} (exit code 2).
 *
 * @module
 */

import { parseArgs as nodeParseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../errors.ts";

/** One flag's definition, as `node:util` parseArgs takes it. */
export type FlagSpec = NonNullable<ParseArgsConfig["options"]>[string];

/** The result of {@linkcode parseFlags}. */
export interface ParsedFlags {
  /** Flag values by long name. */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  /** Positional arguments. */
  positionals: string[];
}

/**
 * Parses a subcommand's arguments strictly: unknown flags and missing values
 * are usage errors. Every command also gets `--help`/`-h`. A command may give
 * `-h` its own meaning (`ls -lh`); `-h` on its own is still help (main.ts).
 * Otherwise `h` inside a group (`-qh`) is a usage error, never silently dropped.
 *
 * @param args The arguments after the subcommand name.
 * @param flags The flags the command accepts.
 * @returns Values and positionals.
 * @throws {UsageError} On anything parseArgs rejects.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./args.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const { values, positionals } = parseFlags(["-q", "x"], { quiet: { type: "boolean", short: "q" } });
 * deepEqual(values.quiet, true);
 * deepEqual(positionals, ["x"]);
 * ```
 */
export function parseFlags(args: string[], flags: Record<string, FlagSpec>): ParsedFlags {
  const ownH = Object.values(flags).some((f) => f.short === "h");
  let parsed;
  try {
    parsed = nodeParseArgs({
      args,
      options: { help: ownH ? { type: "boolean" } : { type: "boolean", short: "h" }, ...flags },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    if (e instanceof TypeError) {
      // "--timeout -1": node:util takes -1 for a flag and says so at length.
      const ambiguous = /^Option '(--?[\w-]+)[^']*' argument is ambiguous/.exec(e.message);
      if (ambiguous) {
        const flag = ambiguous[1]!;
        const value = args[args.indexOf(flag) + 1] ?? "";
        throw new UsageError(
          `Invalid value "${value}" for ${flag}` +
            (/^-\d/.test(value) ? ": it cannot be negative" : ` (write ${flag}=${value})`),
        );
      }
      // node:util quotes values with single quotes; bftp's messages use double quotes.
      throw new UsageError(
        e.message.replace(/\. To specify a positional.*$/s, "").replace(/\.$/, "")
          .replace(/'([^']*)'/g, '"$1"'),
      );
    }
    throw e;
  }
  if (parsed.values.help === true && !args.includes("-h") && !args.includes("--help")) {
    const group = args.find((a) => /^-[^-]/.test(a) && a.includes("h")) ?? "-h";
    throw new UsageError(`Unknown option "-h" in "${group}" (-h alone is help)`);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/**
 * Reads a string flag.
 *
 * @param values Parsed values.
 * @param name The flag's long name.
 * @returns The value, or `undefined` when not given.
 *
 * @example
 * ```ts
 * import { stringFlag } from "./args.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(stringFlag({ host: "::1" }, "host"), "::1");
 * ```
 */
export function stringFlag(values: ParsedFlags["values"], name: string): string | undefined {
  const v = values[name];
  if (Array.isArray(v)) return v.length ? String(v[v.length - 1]) : undefined;
  return typeof v === "string" ? v : undefined;
}

/**
 * Reads `--host`: the address to listen on.
 *
 * @param values Parsed values.
 * @param fallback The default address.
 * @returns The host.
 * @throws {UsageError} When it is empty.
 *
 * @example
 * ```ts
 * import { hostFlag } from "./args.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(hostFlag({}, "127.0.0.1"), "127.0.0.1");
 * deepEqual(hostFlag({ host: "::" }, "127.0.0.1"), "::");
 * throws(() => hostFlag({ host: "" }, "127.0.0.1"), /--host/);
 * ```
 */
export function hostFlag(values: ParsedFlags["values"], fallback: string): string {
  const host = stringFlag(values, "host");
  if (host === undefined) return fallback;
  if (host.trim() === "") {
    throw new UsageError('Invalid value "" for --host: give an address or a host name');
  }
  return host;
}

/**
 * Reads a string flag given any number of times.
 *
 * @param values Parsed values.
 * @param name The flag's long name (declared with `multiple: true`).
 * @returns Every value given, in order.
 *
 * @example
 * ```ts
 * import { stringsFlag } from "./args.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(stringsFlag({ header: ["A: 1", "B: 2"] }, "header"), ["A: 1", "B: 2"]);
 * ```
 */
export function stringsFlag(values: ParsedFlags["values"], name: string): string[] {
  const v = values[name];
  if (Array.isArray(v)) return v.map(String);
  return typeof v === "string" ? [v] : [];
}

/**
 * Reads a non-negative integer flag.
 *
 * @param values Parsed values.
 * @param name The flag's long name.
 * @param fallback The value when the flag is absent.
 * @returns The number.
 * @throws {UsageError} When the value is not a non-negative integer.
 *
 * @example
 * ```ts
 * import { intFlag } from "./args.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(intFlag({ port: "2121" }, "port", 0), 2121);
 * deepEqual(intFlag({}, "port", 7), 7);
 * ```
 */
export function intFlag(values: ParsedFlags["values"], name: string, fallback: number): number {
  const v = stringFlag(values, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new UsageError(`Invalid value "${v}" for --${name}: expected a whole number`);
  }
  return Number(v);
}

/**
 * Reads a non-negative number flag (decimals allowed), such as a timeout in
 * seconds.
 *
 * @param values Parsed values.
 * @param name The flag's long name.
 * @param fallback The value when the flag is absent.
 * @returns The number.
 * @throws {UsageError} When the value is not a non-negative number.
 *
 * @example
 * ```ts
 * import { numberFlag } from "./args.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(numberFlag({ timeout: "1.5" }, "timeout", 0), 1.5);
 * ```
 */
export function numberFlag(values: ParsedFlags["values"], name: string, fallback: number): number {
  const v = stringFlag(values, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`Invalid value "${v}" for --${name}: expected a non-negative number`);
  }
  return n;
}

/**
 * Reads a port flag (0 to 65535).
 *
 * @param values Parsed values.
 * @param name The flag's long name.
 * @param fallback The port when the flag is absent.
 * @returns The port.
 * @throws {UsageError} When the value is not a port number.
 *
 * @example
 * ```ts
 * import { portFlag } from "./args.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(portFlag({ port: "0" }, "port", 2121), 0);
 * ```
 */
export function portFlag(values: ParsedFlags["values"], name: string, fallback: number): number {
  const port = intFlag(values, name, fallback);
  if (port > 65535) throw new UsageError(`Invalid port "${port}": expected 0 to 65535`);
  return port;
}
