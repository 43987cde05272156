/**
 * A progress line for long transfers (bytes, recent rate, ETA), redrawn in
 * place on a terminal at most a few times a second. The line is fitted to
 * the terminal's width (a long name is cut in the middle, as scp does) so
 * it never wraps, and a name from a peer is escaped before it is shown.
 *
 * @module
 */

import type { ByteWriter } from "../framing/types.ts";
import { writeAll } from "../framing/write_all.ts";
import { formatBytes } from "../bytes.ts";
import { visible } from "./format.ts";
import { RateMeter } from "./rate_meter.ts";
import { displayWidth, fitWidth } from "./text_width.ts";

/** Options for {@linkcode Progress}. */
export interface ProgressOptions {
  /** What is moving, shown first on the line (escaped before it is shown). */
  label: string;
  /** The total size of the whole file, or `null` when unknown. */
  total: number | null;
  /** Where the line goes (stderr). */
  out: ByteWriter;
  /**
   * Milliseconds between redraws.
   *
   * @default {200}
   */
  intervalMs?: number;
  /**
   * The terminal's width in columns, asked at each redraw.
   *
   * @default {() => 80}
   */
  columns?: (() => number) | undefined;
  /**
   * Bytes already there before this transfer (a resumed download): the
   * line counts from here and says `resuming at N` first.
   *
   * @default {0}
   */
  offset?: number;
  /**
   * Figures shown before the bytes, asked at each redraw (a tree's
   * `3/50 files`).
   */
  count?: (() => string) | undefined;
  /**
   * A line of text instead of the figures, asked at each redraw (a tree's
   * listing pass, before there are bytes to count); or its forms from the
   * longest to the shortest, of which the longest that fits is drawn. Not
   * escaped: no peer's string may be in it.
   */
  text?: (() => string | readonly string[]) | undefined;
}

/**
 * Formats a duration as `m:ss` (or `h:mm:ss`).
 *
 * @param seconds The duration.
 * @returns For example `"1:05"`; `"--:--"` when not finite.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./progress.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(formatDuration(65), "1:05");
 * deepEqual(formatDuration(3725), "1:02:05");
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
}

/** What one redraw shows, before it is fitted to the width. */
export interface ProgressFigures {
  /** The label, escaped. */
  name: string;
  /** Bytes so far, and total and percentage, e.g. `1.0 MiB / 2.0 MiB (50%)`. */
  amount: string;
  /** The recent rate, or `- stalled -`. */
  rate: string;
  /** `ETA 0:12` while moving, `in 0:12` at the end, or empty. */
  time: string;
}

/**
 * Lays the figures out in `columns - 3` columns (the last one is left
 * free so the terminal never wraps, and two more for the `^C` a terminal
 * echoes on Ctrl-C): the name is cut first, then the time, then the rate;
 * with no room for the name, the figures alone, and in the narrowest the
 * amount without its total, then its percentage alone (never a number
 * cut in two).
 *
 * @param f The figures.
 * @param columns The terminal's width.
 * @returns The line, at most `columns - 3` columns wide.
 *
 * @example
 * ```ts
 * import { fitLine } from "./progress.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const f = { name: "a-rather-long-name.bin", amount: "1.0 MiB", rate: "1.0 MiB/s", time: "ETA 0:01" };
 * deepEqual(fitLine(f, 80), "a-rather-long-name.bin  1.0 MiB  1.0 MiB/s  ETA 0:01");
 * deepEqual(fitLine(f, 42), "a-r…e.bin  1.0 MiB  1.0 MiB/s  ETA 0:01");
 * const big = { ...f, amount: "12.0 MiB / 700.0 MiB (1%)" };
 * deepEqual(fitLine(big, 20), "12.0 MiB (1%)");
 * deepEqual(fitLine(big, 12), "1%");
 * ```
 */
export function fitLine(f: ProgressFigures, columns: number): string {
  const room = Math.max(columns - 3, 1);
  const parts = [f.amount, f.rate, f.time].filter((p) => p !== "");
  if (f.name !== "") {
    for (let n = parts.length; n > 0; n--) {
      const figures = parts.slice(0, n).join("  ");
      const nameRoom = room - displayWidth(figures) - 2;
      if (nameRoom >= Math.min(8, displayWidth(f.name))) {
        return `${fitWidth(f.name, nameRoom)}  ${figures}`;
      }
    }
  }
  // No room for the name (or none yet): as many figures as fit, the amount shortened last.
  const alone = parts.map((_, i) => parts.slice(0, parts.length - i).join("  "))
    .concat(shorterAmounts(f.amount));
  return alone.length === 0 ? fitWidth(f.name, room) : longestThatFits(alone, room);
}

/** The first of `forms` (longest first) that fits in `room` columns, else the last one cut. */
function longestThatFits(forms: readonly string[], room: number): string {
  return fitWidth(forms.find((form) => displayWidth(form) <= room) ?? forms.at(-1)!, room);
}

/**
 * `amount` (`[N/M files  ]1.0 MiB / 2.0 MiB (50%)`) in fewer columns,
 * longest first: without its total, then with its percentage alone; none
 * for an amount without a total.
 */
function shorterAmounts(amount: string): string[] {
  const m = /^(.*?)(\S+ \S+) \/ \S+ \S+ \((\d+%)\)$/.exec(amount);
  if (m === null) return [];
  const [, count, done, percent] = m as unknown as [string, string, string, string];
  return [...new Set([`${count}${done} (${percent})`, `${count}${percent}`, percent])];
}

/** Progress lines on the screen now, ended by {@linkcode endProgressLines}. */
const active = new Set<Progress>();

/**
 * Ends any progress line still being drawn, so the next message starts on
 * a line of its own (an error, or `Interrupted` after Ctrl-C).
 *
 * @returns What to print, with a newline, on stderr before the message:
 * the open line drawn again (over an echoed `^C`), or `""` when no line
 * is open.
 *
 * @example
 * ```ts
 * import { endProgressLines } from "./progress.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(endProgressLines(), "");
 * ```
 */
export function endProgressLines(): string {
  let last = "";
  for (const p of active) {
    if (p.drawn) last = `\r\x1b[K${p.lastLine}`;
    p.stop();
  }
  active.clear();
  return last;
}

/**
 * {@linkcode endProgressLines}, the open line written out to `out` when
 * there was one: what each message on stderr does first.
 *
 * @param out Where the line goes (stderr).
 *
 * @example
 * ```ts
 * import { endProgressLinesOn } from "./progress.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const written: Uint8Array[] = [];
 * await endProgressLinesOn({ write: (p: Uint8Array) => (written.push(p), Promise.resolve(p.byteLength)) });
 * deepEqual(written, []); // no line open: nothing written
 * ```
 */
export async function endProgressLinesOn(out: ByteWriter): Promise<void> {
  const line = endProgressLines();
  if (line !== "") await writeAll(out, new TextEncoder().encode(line + "\n"));
}

/**
 * A progress line. Call {@linkcode Progress.add} per chunk and
 * {@linkcode Progress.done} at the end.
 *
 * @example
 * ```ts
 * import { Progress } from "./progress.ts";
 * import { ok } from "node:assert/strict";
 *
 * let text = "";
 * const out = { write: (p: Uint8Array) => (text += new TextDecoder().decode(p), Promise.resolve(p.byteLength)) };
 * const progress = new Progress({ label: "a.bin", total: 2048, out, intervalMs: 0 });
 * progress.add(1024);
 * progress.done();
 * ok(text.includes("a.bin"));
 * ```
 */
export class Progress {
  #options: ProgressOptions;
  #bytes: number;
  #total: number | null;
  #start = performance.now();
  #lastDraw = -Infinity;
  #meter = new RateMeter();
  #timer: ReturnType<typeof setInterval> | undefined;
  #encoder = new TextEncoder();
  #name: string;
  /** The bytes there before this transfer moved any (a resumed one's). */
  #from = 0;
  /** Whether a line has been drawn and not yet ended. */
  drawn = false;
  /** The line last drawn. */
  lastLine = "";

  /** @param options Label, total and destination. */
  constructor(options: ProgressOptions) {
    this.#options = options;
    this.#bytes = 0;
    this.#total = options.total;
    this.#name = visible(options.label);
    this.#meter.record(this.#start, this.#bytes);
    if ((options.offset ?? 0) > 0) this.resumeAt(options.offset!);
    active.add(this);
  }

  /**
   * The transfer goes on from `bytes` (a resumed one, once its offset is
   * known): the line counts from there, and says `resuming at N` first.
   *
   * @param bytes The bytes there already.
   */
  resumeAt(bytes: number): void {
    this.#bytes = bytes;
    this.#from = bytes;
    // Those bytes were there already: the rate counts from here.
    this.#meter.restart(performance.now(), bytes);
    this.#write(`resuming at ${formatBytes(bytes)}\n`);
  }

  /**
   * Counts more bytes and redraws if enough time has passed.
   *
   * @param n Bytes just moved.
   */
  add(n: number): void {
    this.#bytes += n;
    const now = performance.now();
    this.#meter.record(now, this.#bytes);
    if (now - this.#lastDraw >= (this.#options.intervalMs ?? 200)) this.#draw(now, false);
    // Redraw while nothing arrives, so a stall shows.
    if (this.#timer === undefined) {
      const timer = setInterval(() => this.#draw(performance.now(), false), 1000);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /** What is moving now, shown first on the line (escaped before it is shown). */
  set label(text: string) {
    this.#name = visible(text);
  }

  /** The total size, when it turns out other than first thought (`null`: unknown). */
  set total(bytes: number | null) {
    this.#total = bytes;
  }

  /**
   * Stops and puts `summary` in the line's place, ended with a newline.
   *
   * @param summary The last word, e.g. `Downloaded 3 files, 1.0 MiB in 0.5 s (2.0 MiB/s)`.
   */
  finish(summary: string): void {
    this.stop();
    this.drawn = false;
    this.#write(`\r\x1b[K${summary}\n`);
  }

  /** Draws the final line and ends it with a newline. */
  done(): void {
    if (!active.has(this)) return;
    this.#draw(performance.now(), true);
    this.stop();
  }

  /**
   * Wipes the line, so that a message can take its place; the next
   * {@linkcode Progress.add} draws it again.
   */
  clear(): void {
    if (!this.drawn) return;
    this.drawn = false;
    this.#lastDraw = -Infinity;
    this.#write("\r\x1b[K");
  }

  /** Stops redrawing, without drawing again. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    active.delete(this);
  }

  #draw(now: number, final: boolean): void {
    this.#lastDraw = now;
    const columns = this.#options.columns?.() ?? 80;
    const text = this.#options.text?.();
    const room = Math.max(columns - 3, 1);
    const forms = typeof text === "string" ? [text] : text;
    const line = forms === undefined || forms.length === 0
      ? fitLine(this.#figures(now, final), columns)
      : longestThatFits(forms, room);
    this.drawn = !final;
    this.lastLine = line;
    this.#write(`\r\x1b[K${line}${final ? "\n" : ""}`);
  }

  #figures(now: number, final: boolean): ProgressFigures {
    const elapsed = Math.max((now - this.#start) / 1000, 1e-3);
    const total = this.#total;
    const rate = final ? (this.#bytes - this.#from) / elapsed : this.#meter.rate(now);
    let amount = formatBytes(this.#bytes);
    if (total !== null) {
      const pct = total === 0 ? 100 : Math.min(100, Math.floor((this.#bytes / total) * 100));
      amount += ` / ${formatBytes(total)} (${pct}%)`;
    }
    const stalled = !final && this.#meter.stalled(now);
    const time = final
      ? `in ${formatDuration(elapsed)}`
      : total !== null && !stalled
      ? `ETA ${formatDuration(rate > 0 ? Math.max(total - this.#bytes, 0) / rate : Infinity)}`
      : "";
    const count = this.#options.count?.();
    return {
      name: this.#name,
      amount: count === undefined ? amount : `${count}  ${amount}`,
      rate: stalled ? "- stalled -" : `${formatBytes(Math.round(rate))}/s`,
      time,
    };
  }

  #write(text: string): void {
    // Fire and forget: progress must never slow the transfer down.
    this.#options.out.write(this.#encoder.encode(text)).catch(() => {});
  }
}
