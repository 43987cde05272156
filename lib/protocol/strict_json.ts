/**
 * Strict JSON: what `JSON.parse` lets through but a protocol message must
 * not carry. `JSON.parse` keeps the last of two equal keys, turns a lone
 * UTF-16 surrogate escape (`"\ud800"`) into a string no file system can
 * store as such, and accepts any nesting; the text decoder silently drops a
 * leading byte order mark. {@linkcode parseStrictJson} refuses all of these
 * with one clear message, in one linear pass over the text.
 *
 * @module
 */

/** Thrown by {@linkcode parseStrictJson} for text that is not strict JSON. */
export class StrictJsonError extends SyntaxError {
  /** @param message What is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "StrictJsonError";
  }
}

/** Options for {@linkcode parseStrictJson}. */
export interface StrictJsonOptions {
  /**
   * The most levels of objects and arrays: 1 allows `{"a":1}` but not
   * `{"a":{}}`.
   *
   * @default {64}
   */
  maxDepth?: number;
}

/** One open object (its keys so far, and whether a key comes next) or array (`null`). */
type Frame = { keys: Set<string>; keyNext: boolean } | null;

/**
 * Parses JSON text, refusing what `JSON.parse` accepts but a strict reader
 * must not: a leading byte order mark (U+FEFF), the same key twice in one
 * object (after escapes are decoded: `"a"` and `"\u0061"` are one key), a
 * key named `__proto__`, a lone surrogate escape in any string, and more
 * than `maxDepth` levels of nesting.
 *
 * @param text The JSON text (already decoded from UTF-8).
 * @param options The depth limit.
 * @returns The parsed value.
 * @throws {SyntaxError} When the text is not JSON.
 * @throws {StrictJsonError} When it is JSON but not strict JSON.
 *
 * @example
 * ```ts
 * import { parseStrictJson, StrictJsonError } from "./strict_json.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(parseStrictJson('{"op":"PWD"}'), { op: "PWD" });
 * throws(() => parseStrictJson('{"a":1,"\\u0061":2}'), StrictJsonError);
 * throws(() => parseStrictJson('{"a":{"b":1}}', { maxDepth: 1 }), StrictJsonError);
 * ```
 */
export function parseStrictJson(text: string, options: StrictJsonOptions = {}): unknown {
  if (text.charCodeAt(0) === 0xfeff) {
    throw new StrictJsonError("starts with a byte order mark (U+FEFF)");
  }
  const value: unknown = JSON.parse(text);
  // The text is valid JSON from here on: a lexical pass suffices.
  checkStrict(text, options.maxDepth ?? 64);
  return value;
}

/** Walks valid JSON text once: nesting, keys and string escapes. */
function checkStrict(text: string, maxDepth: number): void {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth) {
        throw new StrictJsonError(`nested deeper than ${maxDepth} levels`);
      }
      stack.push(c === 0x7b ? { keys: new Set(), keyNext: true } : null);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top) top.keyNext = true;
    } else if (c === 0x22 /* " */) {
      const [value, end] = readString(text, i);
      i = end;
      const top = stack[stack.length - 1];
      if (top?.keyNext) {
        top.keyNext = false;
        if (value === "__proto__") throw new StrictJsonError(`has a key named "__proto__"`);
        if (top.keys.has(value)) {
          throw new StrictJsonError(`has the key "${shown(value)}" twice in one object`);
        }
        top.keys.add(value);
      }
    }
  }
}

/**
 * Reads the string whose opening quote is at `start`, decoding escapes and
 * refusing a lone surrogate.
 *
 * @returns The string and the index of its closing quote.
 */
function readString(text: string, start: number): [string, number] {
  let out = "";
  let from = start + 1;
  let i = from;
  while (true) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return [out + text.slice(from, i), i];
    if (c !== 0x5c /* \ */) {
      // Raw surrogates cannot come from UTF-8, but the caller may pass any string.
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = text.charCodeAt(i + 1);
        if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) throw loneSurrogate(c);
        i += 2;
      } else i++;
      continue;
    }
    out += text.slice(from, i);
    const kind = text[i + 1]!;
    if (kind !== "u") {
      out += JSON.parse(`"\\${kind}"`) as string;
      i += 2;
    } else {
      const unit = parseInt(text.slice(i + 2, i + 6), 16);
      i += 6;
      if (unit >= 0xd800 && unit <= 0xdbff && text.startsWith("\\u", i)) {
        const low = parseInt(text.slice(i + 2, i + 6), 16);
        if (low < 0xdc00 || low > 0xdfff) throw loneSurrogate(unit);
        out += String.fromCharCode(unit, low);
        i += 6;
      } else if (unit >= 0xd800 && unit <= 0xdfff) {
        throw loneSurrogate(unit);
      } else {
        out += String.fromCharCode(unit);
      }
    }
    from = i;
  }
}

function loneSurrogate(unit: number): StrictJsonError {
  return new StrictJsonError(
    `has a lone surrogate (U+${unit.toString(16).toUpperCase()}) in a string`,
  );
}

/** A key as a message may show it: at most 32 characters, printable ASCII. */
function shown(key: string): string {
  return key.slice(0, 32).replace(/[^\x20-\x7e]/g, "?");
}
