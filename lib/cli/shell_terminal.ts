/**
 * Reading one command line of `bftp shell` from a terminal: raw mode while
 * the line is typed (restored on every path out), the keys of
 * {@linkcode LineEditor}, and Tab completion from {@linkcode completeWord}.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../framing/types.ts";
import { writeText } from "./io.ts";
import { type EditResult, KeyDecoder, LineEditor } from "./line_editor.ts";
import { commonPrefix, completeWord, type CompletionSources, escapeWord } from "./completion.ts";
import { visible } from "./format.ts";

/** The terminal a line is read from. */
export interface LineTerminal {
  /** The terminal's input. */
  stdin: ByteReader;
  /** Where the prompt and the echo go. */
  stderr: ByteWriter;
  /** Switches the terminal's raw mode on or off. */
  setRaw(raw: boolean): void;
}

/** What the line is read with. */
export interface ReadLineOptions {
  /** The prompt, already safe to show. */
  prompt: string;
  /** The line and its history. */
  editor: LineEditor;
  /** Where Tab completion looks. */
  completion: CompletionSources;
  /** Ends the wait for a key (the line reads as `null`). */
  signal?: AbortSignal;
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
 * import { readEditedLine } from "./shell_terminal.ts";
 * import { LineEditor } from "./line_editor.ts";
 *
 * const term = { stdin: Deno.stdin, stderr: Deno.stderr, setRaw: (raw: boolean) => Deno.stdin.setRaw(raw) };
 * const completion = { commands: [], remote: () => Promise.resolve([]), local: () => Promise.resolve([]) };
 * const line = await readEditedLine(term, { prompt: "> ", editor: new LineEditor(), completion });
 * ```
 */
export async function readEditedLine(
  term: LineTerminal,
  options: ReadLineOptions,
): Promise<string | null> {
  const { editor, prompt } = options;
  const keys = new KeyDecoder();
  const buf = new Uint8Array(4096);
  let tabs = 0;
  const draw = () => redraw(term, prompt, editor);
  let stop = () => {};
  const stopped = new Promise<null>((resolve) => stop = () => resolve(null));
  options.signal?.addEventListener("abort", stop, { once: true });
  term.setRaw(true);
  try {
    await draw();
    while (true) {
      const n = options.signal?.aborted
        ? null
        : await Promise.race([term.stdin.read(buf), stopped]);
      if (options.signal?.aborted) return null;
      if (n === null) {
        if (editor.text !== "") return editor.submit();
        await writeText(term.stderr, "\r\n");
        return null;
      }
      for (const key of keys.push(buf.subarray(0, n))) {
        const result: EditResult = editor.apply(key);
        tabs = result === "complete" ? tabs + 1 : 0;
        switch (result) {
          case "redraw":
            await draw();
            break;
          case "submit":
            await writeText(term.stderr, "\r\n");
            return editor.submit();
          case "eof":
            await writeText(term.stderr, "\r\n");
            return null;
          case "interrupt":
            await writeText(term.stderr, "^C\r\n");
            editor.reset();
            await draw();
            break;
          case "clear":
            await writeText(term.stderr, "\x1b[H\x1b[2J");
            await draw();
            break;
          case "complete":
            await complete(term, options, tabs >= 2);
            break;
        }
      }
    }
  } finally {
    term.setRaw(false);
    options.signal?.removeEventListener("abort", stop);
  }
}

/** Draws the prompt and the line, and puts the cursor where it is in the line. */
async function redraw(term: LineTerminal, prompt: string, editor: LineEditor): Promise<void> {
  const back = editor.afterCursor > 0 ? `\x1b[${editor.afterCursor}D` : "";
  await writeText(term.stderr, `\r${prompt}${editor.text}\x1b[K${back}`);
}

/**
 * Tab: completes the word at the cursor as far as every candidate agrees;
 * on a second Tab with nothing more to add, lists the candidates.
 */
async function complete(term: LineTerminal, options: ReadLineOptions, list: boolean) {
  const { editor } = options;
  const { typed, candidates } = await completeWord(editor.beforeCursor, options.completion);
  if (candidates.length === 0) {
    await writeText(term.stderr, "\x07");
    return;
  }
  const common = commonPrefix(candidates);
  const whole = candidates.length === 1 && !common.endsWith("/");
  const replacement = escapeWord(common) + (whole ? " " : "");
  if (replacement.length > typed.length && replacement.startsWith(typed)) {
    editor.insert(replacement.slice(typed.length));
  } else if (replacement !== typed && common.length > 0 && whole) {
    // The typed word was quoted differently: retype it escaped.
    for (let i = 0; i < Array.from(typed).length; i++) editor.apply("backspace");
    editor.insert(replacement);
  } else if (list) {
    const names = candidates.map((c) => visible(c.slice(c.lastIndexOf("/", c.length - 2) + 1)));
    await writeText(term.stderr, `\r\n${names.join("  ")}\r\n`);
  } else {
    await writeText(term.stderr, "\x07");
    return;
  }
  await redraw(term, options.prompt, editor);
}
