/**
 * A command line read into flags and positional arguments, strictly, by
 * the rules of `node:util`'s `parseArgs` (`strict`, `allowPositionals`)
 * but without it: importing `node:util` makes Deno set up part of its Node
 * layer at every command's start-up (`local_path.ts` has the figures).
 * `args.ts` builds bftp's flags on it.
 *
 * The rules: `--name` and `--name=value`; a string flag takes the next
 * argument as its value (one that starts with `-` is refused as ambiguous:
 * `--name=-1` gives it); `-abc` is `-a -b -c`, where a string flag takes
 * the rest of the group as its value (`-ofile`, `-qofile`); `--` ends the
 * flags; `-` alone is a positional argument.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/** One flag: its type, a one-letter form, and whether it may be given more than once. */
export interface FlagSpec {
  /** A switch, or a flag that takes a value. */
  type: "boolean" | "string";
  /** Its one-letter form (`q` for `-q`). */
  short?: string | undefined;
  /** Given again, it adds a value (an array) rather than replacing the last. */
  multiple?: boolean | undefined;
}

/** What {@linkcode readFlags} found. */
export interface ReadFlags {
  /** The values by long name: a string or `true`, an array for a `multiple` flag. */
  values: Record<string, string | boolean | (string | boolean)[]>;
  /** The positional arguments. */
  positionals: string[];
  /** The flags given, in order, each with its value (`undefined` for a switch). */
  order: { name: string; value: string | undefined }[];
}

/** How a flag is named in a message: `-o, --output` or `--output`. */
function shown(name: string, spec: FlagSpec): string {
  return spec.short === undefined ? `--${name}` : `-${spec.short}, --${name}`;
}

/**
 * Reads `args` by `flags` (see the module's rules).
 *
 * @param args The arguments.
 * @param flags The flags by long name.
 * @returns The values, positionals and the flags in order.
 * @throws {UsageError} For a flag not in `flags`, a missing or ambiguous
 * value, or a value given to a switch.
 *
 * @example
 * ```ts
 * import { readFlags } from "./flag_tokens.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const flags = {
 *   quiet: { type: "boolean", short: "q" },
 *   output: { type: "string", short: "o" },
 * } as const;
 * const read = readFlags(["-qo", "out", "a", "--", "-b"], flags);
 * deepEqual(read.values, { quiet: true, output: "out" });
 * deepEqual(read.positionals, ["a", "-b"]);
 * ```
 */
export function readFlags(
  args: readonly string[],
  flags: Readonly<Record<string, FlagSpec>>,
): ReadFlags {
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(flags)) {
    if (spec.short !== undefined) byShort.set(spec.short, name);
  }
  const read: ReadFlags = { values: {}, positionals: [], order: [] };
  const take = (name: string, value: string | undefined) => {
    const spec = flags[name]!;
    const got = value ?? true;
    if (spec.multiple === true) {
      const list = read.values[name];
      if (Array.isArray(list)) list.push(got);
      else read.values[name] = [got];
    } else read.values[name] = got;
    read.order.push({ name, value });
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      read.positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      read.positionals.push(arg);
      continue;
    }
    // The flag's long name, its raw form for messages, and a value written into the argument.
    let flag: { name: string; raw: string; inline: string | undefined };
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      flag = { name, raw: `--${name}`, inline: eq < 0 ? undefined : arg.slice(eq + 1) };
      if (!Object.hasOwn(flags, name)) throw unknown(flag.raw);
    } else {
      const group = shortGroup(arg, byShort, flags);
      for (const letter of group.switches) take(byShort.get(letter)!, undefined);
      if (group.last === null) continue;
      flag = group.last;
    }
    const spec = flags[flag.name]!;
    if (spec.type === "boolean") {
      if (flag.inline !== undefined) {
        throw new UsageError(`Option "${shown(flag.name, spec)}" does not take an argument`);
      }
      take(flag.name, undefined);
      continue;
    }
    if (flag.inline !== undefined) {
      take(flag.name, flag.inline);
      continue;
    }
    const value = args[i + 1];
    if (value === undefined) {
      throw new UsageError(`Option "${shown(flag.name, spec)} <value>" argument missing`);
    }
    if (value.length > 1 && value.startsWith("-")) throw ambiguous(flag.raw, flag.name, value);
    take(flag.name, value);
    i++;
  }
  return read;
}

/**
 * A short flag or group (`-q`, `-qr`, `-ofile`, `-qofile`): its switches,
 * and the flag that ends it when that one takes a value (with the rest of
 * the group as its value, if any), else `null` as `last`.
 */
function shortGroup(
  arg: string,
  byShort: ReadonlyMap<string, string>,
  flags: Readonly<Record<string, FlagSpec>>,
): { switches: string[]; last: { name: string; raw: string; inline: string | undefined } | null } {
  const switches: string[] = [];
  for (let at = 1; at < arg.length; at++) {
    const letter = arg[at]!;
    const name = byShort.get(letter);
    if (name === undefined) throw unknown(`-${letter}`);
    const rest = arg.slice(at + 1);
    if (flags[name]!.type === "string") {
      return {
        switches,
        last: { name, raw: `-${letter}`, inline: rest === "" ? undefined : rest },
      };
    }
    if (at === arg.length - 1) {
      return { switches, last: { name, raw: `-${letter}`, inline: undefined } };
    }
    switches.push(letter);
  }
  return { switches, last: null };
}

function unknown(raw: string): UsageError {
  return new UsageError(`Unknown option "${raw}"`);
}

/**
 * A value that looks like a flag: a negative number, or a value to give
 * with `=` (`--header=-x`: the long form, since `-H=-x` would give "=-x").
 */
function ambiguous(raw: string, name: string, value: string): UsageError {
  return new UsageError(
    `Invalid value "${value}" for ${raw}` +
      (/^-\d/.test(value) ? ": it cannot be negative" : ` (write --${name}=${value})`),
  );
}
