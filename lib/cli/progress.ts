/**
 * A progress line for long transfers (bytes, rate, ETA), redrawn in place on
 * a terminal at most a few times a second.
 *
 * @module
 */

import type { ByteWriter } from "../framing/types.ts";
import { formatBytes } from "../bytes.ts";

/** Options for {@linkcode Progress}. */
export interface ProgressOptions {
  /** What is moving, shown first on the line. */
  label: string;
  /** The total size, or `null` when unknown. */
  total: number | null;
  /** Where the line goes (stderr). */
  out: ByteWriter;
  /**
   * Milliseconds between redraws.
   *
   * @default {200}
   */
  intervalMs?: number;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
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
  #bytes = 0;
  #start = performance.now();
  #lastDraw = 0;
  #encoder = new TextEncoder();

  /** @param options Label, total and destination. */
  constructor(options: ProgressOptions) {
    this.#options = options;
  }

  /**
   * Counts more bytes and redraws if enough time has passed.
   *
   * @param n Bytes just moved.
   */
  add(n: number): void {
    this.#bytes += n;
    const now = performance.now();
    if (now - this.#lastDraw >= (this.#options.intervalMs ?? 200)) {
      this.#lastDraw = now;
      this.#draw(now, false);
    }
  }

  /** Draws the final line and ends it with a newline. */
  done(): void {
    this.#draw(performance.now(), true);
  }

  #draw(now: number, final: boolean): void {
    const elapsed = Math.max((now - this.#start) / 1000, 1e-3);
    const rate = this.#bytes / elapsed;
    const { total, label } = this.#options;
    let text = `${label}  ${formatBytes(this.#bytes)}`;
    if (total !== null) {
      const pct = total === 0 ? 100 : Math.floor((this.#bytes / total) * 100);
      text += ` / ${formatBytes(total)} (${pct}%)`;
    }
    text += `  ${formatBytes(rate)}/s`;
    if (total !== null && !final) {
      text += `  ETA ${formatDuration(rate > 0 ? (total - this.#bytes) / rate : Infinity)}`;
    }
    if (final) text += `  in ${formatDuration(elapsed)}`;
    // Fire and forget: progress must never slow the transfer down.
    this.#options.out.write(this.#encoder.encode(`\r\x1b[K${text}${final ? "\n" : ""}`))
      .catch(() => {});
  }
}
