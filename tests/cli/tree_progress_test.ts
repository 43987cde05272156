import { deepEqual, ok } from "node:assert/strict";
import type { TreePlan } from "../../lib/client/tree_plan.ts";
import { fitLine } from "../../lib/cli/progress.ts";
import { displayWidth } from "../../lib/cli/text_width.ts";
import { TreeProgress } from "../../lib/cli/tree_progress.ts";
import { textWriter } from "../helpers.ts";

const capture = textWriter;

const HOSTILE = "sub/\x1b]0;owned\x07evil\u202etxt.exe";

function plan(): TreePlan {
  const file = (relative: string, size: number) => ({
    remote: `/t/${relative}`,
    local: `t/${relative}`,
    relative,
    size,
  });
  const files = [file("a.txt", 1000), file(HOSTILE, 1000), file("b/c.bin", 2000)];
  return { files, folders: [], totalBytes: 4000, skipped: [] };
}

const draws = (text: string) => text.split("\r\x1b[K").slice(1).map((d) => d.replace(/\n$/, ""));

Deno.test("tree progress: one line for the whole tree, files and bytes of the plan, the current path escaped", () => {
  const out = capture();
  const tree = new TreeProgress({ verb: "Downloaded", out, intervalMs: 0, columns: () => 140 });
  const { onPlan, progress, onFile } = tree.options();
  onPlan!(plan());
  deepEqual(draws(out.text).at(-1)!.slice(0, 35), "0/3 files  0 B / 3.9 KiB (0%)  0 B/");
  progress!("a.txt", 1000).onProgress!(1000);
  onFile!("/t/a.txt", "t/a.txt", { size: 1000, checksum: "sha256", hash: "" });
  const b = progress!(HOSTILE, 1000);
  b.onProgress!(500);
  const last = draws(out.text).at(-1)!;
  ok(
    last.startsWith(
      "sub/\\x1b]0;owned\\x07evil\\u{202e}txt.exe  1/3 files  1.5 KiB / 3.9 KiB (37%)",
    ),
    last,
  );
  ok(!/[\x00-\x1f\x7f-\x9f\u202e]/.test(out.text.replaceAll("\r\x1b[K", "").replaceAll("\n", "")));
  for (const d of draws(out.text)) ok(displayWidth(d) <= 137, d);
  tree.finish({ files: 3, bytes: 4000 });
});

Deno.test("tree progress: a file bigger than listed raises the total; the summary takes the line's place", () => {
  const out = capture();
  const tree = new TreeProgress({ verb: "Uploaded", out, intervalMs: 0, columns: () => 100 });
  const { onPlan, progress, onFile } = tree.options();
  onPlan!(plan());
  // b/c.bin grew from 2000 to 5000 bytes since the listing pass.
  progress!("b/c.bin", 5000).onProgress!(5000);
  onFile!("/t/b/c.bin", "t/b/c.bin", { size: 5000, checksum: "sha256", hash: "" });
  const last = draws(out.text).at(-1)!;
  ok(last.includes("1/3 files  4.9 KiB / 6.8 KiB (71%)"), last);
  tree.finish({ files: 3, bytes: 7000 });
  ok(out.text.endsWith("\n") && !out.text.slice(0, -1).includes("\n"), JSON.stringify(out.text));
  ok(
    /^Uploaded 3 files, 6\.8 KiB in \d+\.\d s \([\d.]+ [KMG]iB\/s\)$/.test(draws(out.text).at(-1)!),
  );
});

Deno.test("tree progress: a tree that failed in its listing pass draws nothing; an empty one sums up", () => {
  const out = capture();
  new TreeProgress({ verb: "Downloaded", out });
  deepEqual(out.text, "");
  const empty = new TreeProgress({ verb: "Downloaded", out });
  empty.options().onPlan!({ files: [], folders: [], totalBytes: 0, skipped: [] });
  empty.finish({ files: 0, bytes: 0 });
  ok(/^Downloaded 0 files, 0 B in /.test(draws(out.text).at(-1)!), out.text);
});

Deno.test("tree progress: the listing pass shows how far it has got, and the plan's line replaces it", () => {
  const out = capture();
  const tree = new TreeProgress({ verb: "Downloaded", out, intervalMs: 0, columns: () => 100 });
  const { onListed, onPlan } = tree.options();
  onListed!({ folders: 1, files: 1, bytes: 10 });
  onListed!({ folders: 2, files: 3, bytes: 4000 });
  deepEqual(draws(out.text), [
    "Listing: 1 folder, 1 file, 10 B",
    "Listing: 2 folders, 3 files, 3.9 KiB",
  ]);
  onPlan!(plan());
  ok(draws(out.text).at(-1)!.startsWith("0/3 files  0 B / 3.9 KiB (0%)"), out.text);
  tree.finish({ files: 0, bytes: 0 });
});

Deno.test("fitLine without a name shows the figures alone", () => {
  const f = { name: "", amount: "0/3 files  0 B / 1.0 KiB (0%)", rate: "0 B/s", time: "" };
  deepEqual(fitLine(f, 80), "0/3 files  0 B / 1.0 KiB (0%)  0 B/s");
});

Deno.test("tree progress: the listing line in a narrow terminal drops its words first, never cuts a number", () => {
  for (
    const [columns, expected] of [
      [80, "Listing: 1 folder, 20001 files, 100.9 KiB"],
      [40, "1 folder, 20001 files, 100.9 KiB"],
      [30, "20001 files, 100.9 KiB"],
      [16, "20001 files"],
    ] as const
  ) {
    const out = capture();
    const tree = new TreeProgress({
      verb: "Downloaded",
      out,
      intervalMs: 0,
      columns: () => columns,
    });
    tree.options().onListed!({ folders: 1, files: 20001, bytes: 103_321 });
    deepEqual(draws(out.text).at(-1), expected, `${columns} columns`);
    tree.finish({ files: 0, bytes: 0 });
  }
});
