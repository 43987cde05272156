import { deepEqual, ok } from "node:assert/strict";
import { endProgressLines, fitLine, Progress } from "../../lib/cli/progress.ts";
import { RateMeter } from "../../lib/cli/rate_meter.ts";
import { displayWidth, fitWidth } from "../../lib/cli/text_width.ts";
import { textWriter } from "../helpers.ts";

const capture = textWriter;

Deno.test("displayWidth counts East Asian wide characters as two and combining marks as none", () => {
  deepEqual(displayWidth("ファイル.txt"), 12);
  deepEqual(displayWidth("e\u0301"), 1);
});

Deno.test("fitWidth cuts in the middle and never exceeds the width, wide characters too", () => {
  for (const name of ["x".repeat(200), "長い名前".repeat(30), "a\u0301".repeat(90)]) {
    for (let w = 0; w < 60; w++) ok(displayWidth(fitWidth(name, w)) <= w, `${name} at ${w}`);
  }
  deepEqual(fitWidth("0123456789abcdefghij", 10), "012…efghij");
});

Deno.test("fitLine fits any name into narrow terminals, keeping the figures", () => {
  const f = {
    name: "a".repeat(120) + ".iso",
    amount: "12.0 MiB / 700.0 MiB 1%",
    rate: "3.1 MiB/s",
    time: "ETA 3:40",
  };
  for (const columns of [20, 30, 50, 80, 200]) {
    const line = fitLine(f, columns);
    ok(displayWidth(line) <= columns - 3, `${columns}: ${line}`);
  }
  const at50 = fitLine(f, 50);
  ok(at50.includes("…"), at50);
  ok(at50.endsWith("1%  3.1 MiB/s"), at50);
});

Deno.test("fitLine in the narrowest terminals shortens the amount, never cuts a number in two", () => {
  const f = {
    name: "photos/2026/a-long-name.jpg",
    amount: "3/5000 files  12.0 KiB / 19.5 MiB (0%)",
    rate: "4.1 MiB/s",
    time: "ETA 0:05",
  };
  for (let columns = 8; columns <= 60; columns++) {
    const line = fitLine(f, columns);
    ok(displayWidth(line) <= columns - 3, `${columns}: ${line}`);
    ok(!/[\d.]…|…[\d.]/.test(line), `${columns}: a number cut: ${line}`);
  }
  deepEqual(fitLine(f, 20), "3/5000 files  0%");
  deepEqual(fitLine(f, 41), "3/5000 files  12.0 KiB / 19.5 MiB (0%)");
  deepEqual(fitLine(f, 40), "3/5000 files  12.0 KiB (0%)");
  deepEqual(fitLine(f, 10), "0%");
});

Deno.test("RateMeter shows the recent rate, not the average since the start", () => {
  const meter = new RateMeter({ windowMs: 5000 });
  meter.record(0, 0);
  meter.record(10_000, 100 * 1024 * 1024); // fast for 10 s
  for (let t = 11_000; t <= 20_000; t += 1000) meter.record(t, 100 * 1024 * 1024 + (t - 10_000));
  // The last 5 s moved 1,000 B/s; the average since start is over 5 MB/s.
  deepEqual(Math.round(meter.rate(20_000)), 1000);
});

Deno.test("RateMeter marks a stall after two seconds without a byte", () => {
  const meter = new RateMeter();
  meter.record(0, 0);
  meter.record(1000, 500);
  meter.record(2000, 500);
  deepEqual(meter.stalled(2500), false);
  deepEqual(meter.stalled(3000), true);
});

Deno.test("Progress escapes the name, fits the width and redraws with a clear-to-end", () => {
  const out = capture();
  const p = new Progress({
    label: "evil\u202etxt.exe" + "n".repeat(100),
    total: 1000,
    out,
    intervalMs: 0,
    columns: () => 50,
  });
  p.add(100);
  p.add(100);
  p.done();
  ok(!out.text.includes("\u202e"), "the override is escaped");
  const draws = out.text.split("\r\x1b[K").slice(1);
  deepEqual(draws.length, 3);
  for (const d of draws) ok(displayWidth(d.replace(/\n$/, "")) <= 47, d);
  ok(out.text.endsWith("\n"));
});

Deno.test("Progress of a resumed download says where it resumes and counts the whole file", () => {
  const out = capture();
  const p = new Progress({ label: "big.bin", total: 4096, out, intervalMs: 0, offset: 2048 });
  p.add(1024);
  p.done();
  ok(out.text.startsWith("resuming at 2.0 KiB\n"), out.text);
  ok(out.text.includes("3.0 KiB / 4.0 KiB (75%)"), out.text);
});

Deno.test("Progress resumed once its offset is known counts the rate from there, not the bytes already there", () => {
  const out = capture();
  const p = new Progress({ label: "big.iso", total: 2 ** 31, out, intervalMs: 0 });
  // As a resumed download learns its offset from the server's reply.
  p.resumeAt(1 << 30);
  p.add(1);
  p.done();
  ok(out.text.startsWith("resuming at 1.0 GiB\n"), out.text);
  ok(!/[MGT]iB\/s/.test(out.text), `a byte in a moment is no GiB/s: ${out.text}`);
  const meter = new RateMeter();
  meter.record(0, 0);
  meter.restart(1000, 1 << 30);
  meter.record(2000, (1 << 30) + 1000);
  deepEqual(meter.rate(2000), 1000);
});

Deno.test("endProgressLines gives the open line back once and stops its redraws", async () => {
  const out = capture();
  const p = new Progress({ label: "cut.bin", total: 100, out, intervalMs: 0 });
  p.add(10);
  const line = endProgressLines();
  ok(line.startsWith("\r\x1b[Kcut.bin  10 B / 100 B (10%)"), line);
  deepEqual(endProgressLines(), "");
  const before = out.text;
  await new Promise((resolve) => setTimeout(resolve, 1300));
  deepEqual(out.text, before, "no redraw after the line was ended");
});
