/**
 * Line editing for `bftp shell` on a terminal: turns the bytes a terminal
 * in raw mode sends into keys ({@linkcode KeyDecoder}), and keys into an
 * edited line with a history ({@linkcode LineEditor}), as readline does for
 * the keys users expect: Left/Right, Home/End, Ctrl-A/E, Backspace/Delete,
 * Ctrl-U/K/W, Up/Down, Tab, Enter, Ctrl-C and Ctrl-D.
 *
 * @module
 */

/** A key: a named one, or text to insert. */
export type Key =
  | "left"
  | "right"
  | "up"
  | "down"
  | "home"
  | "end"
  | "backspace"
  | "delete"
  | "enter"
  | "tab"
  | "kill-start"
  | "kill-end"
  | "kill-word"
  | "interrupt"
  | "eof"
  | "clear"
  | "ignore"
  | { text: string };

/** The control characters with a meaning; every other one is ignored. */
const CONTROL_KEYS: Record<string, Key> = {
  "\x01": "home",
  "\x02": "left",
  "\x03": "interrupt",
  "\x04": "eof",
  "\x05": "end",
  "\x06": "right",
  "\x08": "backspace",
  "\t": "tab",
  "\n": "enter",
  "\x0b": "kill-end",
  "\x0c": "clear",
  "\r": "enter",
  "\x0e": "down",
  "\x10": "up",
  "\x15": "kill-start",
  "\x17": "kill-word",
  "\x7f": "backspace",
};

/** The final character (and parameter) of the escape sequences with a meaning. */
const SEQUENCE_KEYS: Record<string, Key> = {
  A: "up",
  B: "down",
  C: "right",
  D: "left",
  H: "home",
  F: "end",
  "1~": "home",
  "7~": "home",
  "4~": "end",
  "8~": "end",
  "3~": "delete",
};

/**
 * Decodes what a terminal sends into keys; an escape sequence or UTF-8
 * character cut between two reads is completed by the next one.
 *
 * @example
 * ```ts
 * import { KeyDecoder } from "./line_editor.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const keys = new KeyDecoder();
 * deepEqual(keys.push(new TextEncoder().encode("a\x1b[A\x1b[")), [{ text: "a" }, "up"]);
 * deepEqual(keys.push(new TextEncoder().encode("3~")), ["delete"]);
 * ```
 */
export class KeyDecoder {
  #decoder = new TextDecoder();
  #pending = "";

  /**
   * Adds bytes read from the terminal.
   *
   * @param bytes The bytes.
   * @returns The keys they complete.
   */
  push(bytes: Uint8Array): Key[] {
    const text = this.#pending + this.#decoder.decode(bytes, { stream: true });
    this.#pending = "";
    const keys: Key[] = [];
    let i = 0;
    while (i < text.length) {
      const c = text[i]!;
      if (c === "\x1b") {
        const end = sequenceEnd(text, i);
        if (end < 0) {
          this.#pending = text.slice(i);
          break;
        }
        const body = text.slice(i + 2, end);
        keys.push(SEQUENCE_KEYS[body.replace(/^1;\d+(?=[A-H])/, "")] ?? "ignore");
        i = end;
      } else if (c < " " || c === "\x7f") {
        keys.push(CONTROL_KEYS[c] ?? "ignore");
        i++;
      } else {
        let j = i;
        while (j < text.length && text[j]! >= " " && text[j] !== "\x7f" && text[j] !== "\x1b") j++;
        keys.push({ text: text.slice(i, j) });
        i = j;
      }
    }
    return keys;
  }
}

/** Where the escape sequence at `i` ends (exclusive), or -1 when it is not complete yet. */
function sequenceEnd(text: string, i: number): number {
  const kind = text[i + 1];
  if (kind === undefined) return -1;
  if (kind === "O") return i + 3 <= text.length ? i + 3 : -1;
  if (kind !== "[") return i + 2; // Alt-key: ignored.
  for (let j = i + 2; j < text.length; j++) {
    const code = text.charCodeAt(j);
    if (code >= 0x40 && code <= 0x7e) return j + 1;
  }
  return -1;
}

/** What {@linkcode LineEditor.apply} asks the caller to do. */
export type EditResult = "redraw" | "submit" | "eof" | "interrupt" | "complete" | "clear" | "none";

/**
 * One line being edited, and the session's history.
 *
 * @example
 * ```ts
 * import { LineEditor } from "./line_editor.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const editor = new LineEditor();
 * editor.apply({ text: "ls" });
 * deepEqual(editor.apply("enter"), "submit");
 * deepEqual(editor.submit(), "ls");
 * editor.apply("up");
 * deepEqual(editor.text, "ls");
 * ```
 */
export class LineEditor {
  /** The characters of the line (code points). */
  #chars: string[] = [];
  /** The cursor, as an index into `#chars`. */
  #cursor = 0;
  /** Earlier lines, oldest first. */
  readonly history: string[];
  /** Which history line is shown: `history.length` for the line being typed. */
  #at: number;
  /** The line being typed, kept while the history is browsed. */
  #draft = "";

  /** @param history Earlier lines, oldest first. */
  constructor(history: string[] = []) {
    this.history = history;
    this.#at = history.length;
  }

  /** The line as it stands. */
  get text(): string {
    return this.#chars.join("");
  }

  /** The line up to the cursor. */
  get beforeCursor(): string {
    return this.#chars.slice(0, this.#cursor).join("");
  }

  /** How many characters follow the cursor. */
  get afterCursor(): number {
    return this.#chars.length - this.#cursor;
  }

  /**
   * Inserts text at the cursor.
   *
   * @param text The text (printable characters only).
   */
  insert(text: string): void {
    const chars = Array.from(text);
    this.#chars.splice(this.#cursor, 0, ...chars);
    this.#cursor += chars.length;
  }

  /**
   * Ends the line: returns it, adds it to the history, and starts a new one.
   *
   * @returns The line.
   */
  submit(): string {
    const line = this.text;
    if (line.trim() !== "" && this.history.at(-1) !== line) this.history.push(line);
    this.reset();
    return line;
  }

  /** Drops the line being typed (Ctrl-C) and goes back to the end of the history. */
  reset(): void {
    this.#set("");
    this.#at = this.history.length;
    this.#draft = "";
  }

  #set(line: string): void {
    this.#chars = Array.from(line);
    this.#cursor = this.#chars.length;
  }

  #browse(to: number): EditResult {
    if (to < 0 || to > this.history.length) return "none";
    if (this.#at === this.history.length) this.#draft = this.text;
    this.#at = to;
    this.#set(to === this.history.length ? this.#draft : this.history[to]!);
    return "redraw";
  }

  /**
   * Applies one key.
   *
   * @param key The key.
   * @returns What the caller should do next.
   */
  apply(key: Key): EditResult {
    if (typeof key === "object") {
      this.insert(key.text);
      return "redraw";
    }
    const chars = this.#chars;
    switch (key) {
      case "left":
        this.#cursor = Math.max(0, this.#cursor - 1);
        return "redraw";
      case "right":
        this.#cursor = Math.min(chars.length, this.#cursor + 1);
        return "redraw";
      case "home":
        this.#cursor = 0;
        return "redraw";
      case "end":
        this.#cursor = chars.length;
        return "redraw";
      case "backspace":
        if (this.#cursor === 0) return "none";
        chars.splice(--this.#cursor, 1);
        return "redraw";
      case "delete":
        chars.splice(this.#cursor, 1);
        return "redraw";
      case "kill-start":
        chars.splice(0, this.#cursor);
        this.#cursor = 0;
        return "redraw";
      case "kill-end":
        chars.splice(this.#cursor);
        return "redraw";
      case "kill-word":
        return this.#killWord();
      case "up":
        return this.#browse(this.#at - 1);
      case "down":
        return this.#browse(this.#at + 1);
      case "enter":
        return "submit";
      case "tab":
        return "complete";
      case "interrupt":
        return "interrupt";
      case "clear":
        return "clear";
      case "eof":
        if (chars.length === 0) return "eof";
        chars.splice(this.#cursor, 1);
        return "redraw";
      default:
        return "none";
    }
  }

  /** Ctrl-W: removes the word before the cursor (and the blanks after it). */
  #killWord(): EditResult {
    let start = this.#cursor;
    while (start > 0 && this.#chars[start - 1] === " ") start--;
    while (start > 0 && this.#chars[start - 1] !== " ") start--;
    this.#chars.splice(start, this.#cursor - start);
    this.#cursor = start;
    return "redraw";
  }
}
