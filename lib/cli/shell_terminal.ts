/**
 * Reading one command line of `bftp shell` from a terminal: raw mode while
 * the line is typed (restored on every path out), the keys of
 * {@linkcode LineEditor}, and Tab completion from {@linkcode completeWord}.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../framing/types.ts";
import { writeText } from "./io.ts";
import { type EditResult, type Key, KeyDecoder, type LineEditor } from "./line_editor.ts";
import { commonPrefix, completeWord, type CompletionSources, escapeWord } from "./completion.ts";
import { visible } from "./format.ts";
import { displayWidth } from "./text_width.ts";

/** The terminal a line is read from. */
export interface LineTerminal {
  /** The terminal's input. */
  stdin: ByteReader;
  /** Where the prompt and the echo go. */
  stderr: ByteWriter;
  /** Switches the terminal's raw mode on or off. */
  setRaw(raw: boolean): void;
  /** The terminal's width in columns (80 when absent). */
  columns?: () => number;
}

/** What the line is read with. */
export interface ReadLineOptions {
  /** The prompt, already safe to show. */
  prompt: string;
  /** The line and its history. */
  editor: LineEditor;
  /** Where Tab completion looks. */
  completion: CompletionSources;
  /** The keys read and not used yet, kept from line to line. */
  keys: TerminalKeys;
  /** Ends the wait for a key (the line reads as `null`). */
  signal?: AbortSignal;
}

/**
 * The keys read from a terminal and not used yet: what follows the Enter
 * of a paste of several lines waits for the next prompt.
 */
export class TerminalKeys {
  /** Turns bytes into keys. */
  readonly decoder: KeyDecoder = new KeyDecoder();
  /** Keys decoded and not used yet, oldest first. */
  readonly queue: Key[] = [];

  /**
   * Drops the keys not used yet, as a terminal flushes its input at
   * Ctrl-C: the lines of a paste behind a cancelled command are not run.
   */
  discard(): void {
    this.queue.length = 0;
  }
}

/**
 * Reads one edited line from a terminal.
 *
 * @param term The terminal.
 * @param options The prompt, editor and completion sources.
 * @returns The line, or `null` at Ctrl-D on an empty line or end of input.
 *
 * @example
 * ```ts ignore
 * import { readEditedLine, TerminalKeys } from "./shell_terminal.ts";
 * import { LineEditor } from "./line_editor.ts";
 *
 * const term = { stdin: Deno.stdin, stderr: Deno.stderr, setRaw: (raw: boolean) => Deno.stdin.setRaw(raw) };
 * const completion = { commands: [], remote: () => Promise.resolve([]), local: () => Promise.resolve([]) };
 * const line = await readEditedLine(term, {
 *   prompt: "> ",
 *   editor: new LineEditor(),
 *   completion,
 *   keys: new TerminalKeys(),
 * });
 * ```
 */
export async function readEditedLine(
  term: LineTerminal,
  options: ReadLineOptions,
): Promise<string | null> {
  const { editor, prompt, keys } = options;
  const buf = new Uint8Array(4096);
  let tabs = 0;
  const view = new LineView(term, prompt);
  let stop = () => {};
  const stopped = new Promise<null>((resolve) => stop = () => resolve(null));
  options.signal?.addEventListener("abort", stop, { once: true });
  term.setRaw(true);
  try {
    await view.draw(editor);
    while (true) {
      const key = keys.queue.shift();
      if (key === undefined) {
        const n = options.signal?.aborted
          ? null
          : await Promise.race([term.stdin.read(buf), stopped]);
        if (options.signal?.aborted) return null;
        if (n === null) {
          await view.leave("");
          return editor.text !== "" ? editor.submit() : null;
        }
        keys.queue.push(...keys.decoder.push(buf.subarray(0, n)));
        continue;
      }
      const result = editor.apply(key);
      tabs = result === "complete" ? tabs + 1 : 0;
      const line = await act(view, options, result, tabs >= 2);
      if (line !== undefined) return line;
    }
  } finally {
    term.setRaw(false);
    options.signal?.removeEventListener("abort", stop);
  }
}

/**
 * Does what a key asks on the screen.
 *
 * @returns The line at Enter, `null` at the end of input, `undefined` to go on.
 */
async function act(
  view: LineView,
  options: ReadLineOptions,
  result: EditResult,
  secondTab: boolean,
): Promise<string | null | undefined> {
  const { editor } = options;
  switch (result) {
    case "redraw":
      await view.draw(editor);
      break;
    case "submit":
      await view.leave("");
      return editor.submit();
    case "eof":
      await view.leave("");
      return null;
    case "interrupt":
      await view.leave("^C");
      options.keys.discard();
      editor.reset();
      await view.draw(editor);
      break;
    case "clear":
      await view.leave("\x1b[H\x1b[2J", "");
      await view.draw(editor);
      break;
    case "complete":
      await complete(view, options, secondTab);
      break;
  }
  return undefined;
}

const up = (rows: number) => (rows > 0 ? `\x1b[${rows}A` : "");
const down = (rows: number) => (rows > 0 ? `\x1b[${rows}B` : "");

/**
 * Where a character written after `text` starts (row and column from the
 * start of `text`'s first row), as a terminal `width` columns wide lays
 * it out: a character two columns wide (CJK, an emoji) that would not fit
 * at a row's end goes whole to the next row. `next` is that character's
 * width (1 when nothing follows).
 */
function placeAfter(text: string, width: number, next = 1): { row: number; column: number } {
  let row = 0;
  let column = 0;
  const place = (w: number) => {
    if (column + w > width) {
      row++;
      column = 0;
    }
  };
  for (const c of text) {
    const w = displayWidth(c);
    if (w === 0) continue;
    place(w);
    column += w;
  }
  place(next);
  return { row, column };
}

/**
 * The prompt and the line on the screen, over as many rows as they need
 * when they are wider than the terminal; redrawn in place.
 */
class LineView {
  readonly term: LineTerminal;
  readonly #prompt: string;
  readonly #promptLength: number;
  /** The cursor's row and the last row of the line, counted from the prompt's row. */
  #row = 0;
  #lastRow = 0;
  /** The column where the line ends. */
  #endColumn = 0;

  constructor(term: LineTerminal, prompt: string) {
    this.term = term;
    this.#prompt = prompt;
    this.#promptLength = displayWidth(prompt);
  }

  /** Draws the prompt and the line, and puts the cursor where it is in the line. */
  async draw(editor: LineEditor): Promise<void> {
    const width = Math.max(1, this.term.columns?.() ?? 80);
    // In columns, as the terminal draws them: a CJK character or an emoji takes two, and goes
    // whole to the next row when it does not fit at a row's end.
    const end = placeAfter(this.#prompt + editor.text, width);
    const after = editor.text.slice(editor.beforeCursor.length);
    const under = after === "" ? 1 : displayWidth(String.fromCodePoint(after.codePointAt(0)!));
    const at = placeAfter(this.#prompt + editor.beforeCursor, width, Math.max(under, 1));
    let out = `${up(this.#row)}\r${this.#prompt}${editor.text}\x1b[J`;
    // A line that fills its last row leaves the cursor there, waiting to wrap: go to the next row.
    if (end.column === 0 && end.row > 0) out += "\r\n";
    this.#lastRow = end.row;
    this.#endColumn = end.column;
    this.#row = at.row;
    const column = at.column;
    out += `${up(this.#lastRow - this.#row)}\r${column > 0 ? `\x1b[${column}C` : ""}`;
    await writeText(this.term.stderr, out);
  }

  /**
   * Goes below the line, writing `text` at its end, then `after` (a new line by default).
   *
   * @param text What to show after the line (`^C`), or a sequence.
   * @param after What ends it.
   */
  async leave(text: string, after = "\r\n"): Promise<void> {
    const right = this.#endColumn > 0 ? `\x1b[${this.#endColumn}C` : "";
    await writeText(
      this.term.stderr,
      `${down(this.#lastRow - this.#row)}\r${right}${text}${after}`,
    );
    this.#row = 0;
    this.#lastRow = 0;
  }
}

/**
 * Tab: completes the word at the cursor as far as every candidate agrees;
 * on a second Tab with nothing more to add, lists the candidates.
 */
async function complete(view: LineView, options: ReadLineOptions, list: boolean) {
  const { editor } = options;
  const { typed, word, candidates } = await completeWord(
    editor.beforeCursor,
    options.completion,
  );
  if (candidates.length === 0) {
    await writeText(view.term.stderr, "\x07");
    return;
  }
  const common = commonPrefix(candidates);
  const whole = candidates.length === 1 && !common.endsWith("/");
  const replacement = escapeWord(common) + (whole ? " " : "");
  if (replacement.length > typed.length && replacement.startsWith(typed)) {
    editor.insert(replacement.slice(typed.length));
  } else if (replacement !== typed && common.length > 0 && (whole || common.length > word.length)) {
    // The typed word was quoted differently (`"my fi`): retype it escaped, as far as it goes.
    for (let i = 0; i < Array.from(typed).length; i++) editor.apply("backspace");
    editor.insert(replacement);
  } else if (list) {
    const names = candidates.map((c) => visible(c.slice(c.lastIndexOf("/", c.length - 2) + 1)));
    await view.leave("", `\r\n${names.join("  ")}\r\n`);
  } else {
    await writeText(view.term.stderr, "\x07");
    return;
  }
  await view.draw(editor);
}
