/**
 * The characters of a peer's text that must not reach a terminal as they
 * are, and the one way every module finds them: C0 and C1 controls (ESC
 * starts escape sequences; U+009B is an 8-bit CSI) and DEL, which a
 * terminal acts on; the bidirectional marks and overrides, which make text
 * read differently from its characters; and the invisible ones (zero-width
 * space and joiners, word joiner, byte-order mark, line and paragraph
 * separators), which make two different names look the same.
 *
 * @module
 */

/** One unsafe character, as a regular expression's character class. */
const UNSAFE_CLASS =
  "[\\x00-\\x1f\\x7f-\\x9f\\u061c\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff]";

const UNSAFE_ANY = new RegExp(UNSAFE_CLASS);
const UNSAFE_ALL = new RegExp(UNSAFE_CLASS, "g");

/**
 * Whether `text` holds a character a terminal would act on or hide
 * (see the module's comment).
 *
 * @param text Text from a peer.
 * @returns `true` when {@linkcode replaceUnsafe} would change it.
 *
 * @example
 * ```ts
 * import { hasUnsafe } from "./terminal_text.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(hasUnsafe("plain.txt"), false);
 * deepEqual(hasUnsafe("a\u202etxt.exe"), true);
 * deepEqual(hasUnsafe("a\x1b[2J"), true);
 * ```
 */
export function hasUnsafe(text: string): boolean {
  return UNSAFE_ANY.test(text);
}

/**
 * Replaces each character a terminal would act on or hide with what
 * `by` makes of it (an escape that shows it, or a stand-in such as `?`).
 *
 * @param text Text from a peer.
 * @param by The replacement of one unsafe character.
 * @returns The text with no unsafe character left (unless `by` puts one back).
 *
 * @example
 * ```ts
 * import { replaceUnsafe } from "./terminal_text.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(replaceUnsafe("a\x1b[2Jb", () => "?"), "a?[2Jb");
 * deepEqual(replaceUnsafe("wide\u200bzero", () => "?"), "wide?zero");
 * ```
 */
export function replaceUnsafe(text: string, by: (c: string) => string): string {
  return text.replace(UNSAFE_ALL, by);
}

/**
 * An unsafe character written as a visible escape: `\xHH` below U+0100,
 * `\u{HHHH}` above.
 *
 * @param c One character.
 * @returns Its escape.
 *
 * @example
 * ```ts
 * import { escapeCharacter } from "./terminal_text.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(escapeCharacter("\x1b"), "\\x1b");
 * deepEqual(escapeCharacter("\u202e"), "\\u{202e}");
 * ```
 */
export function escapeCharacter(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
}

/**
 * Quotes untrusted text for a one-line message: in double quotes (a quote
 * and a backslash in it escaped), cut after `max` characters, every
 * character {@linkcode hasUnsafe} finds written as a visible escape.
 *
 * @param text What a peer sent (a path, a header line, a reason phrase).
 * @param max The most characters shown; more are cut, and `...` added.
 * @returns The quoted text.
 *
 * @example
 * ```ts
 * import { quoteUnsafe } from "./terminal_text.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(quoteUnsafe('a"\x1b[2J', 60), '"a\\"\\x1b[2J"');
 * deepEqual(quoteUnsafe("abcdef", 3), '"abc..."');
 * ```
 */
export function quoteUnsafe(text: string, max: number): string {
  const shown = text.length > max ? `${text.slice(0, max)}...` : text;
  return `"${replaceUnsafe(shown.replace(/["\\]/g, (c) => `\\${c}`), escapeCharacter)}"`;
}
