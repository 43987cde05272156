/**
 * Keeps docs/SYNC.md ("Include and exclude rules") true: each row of its
 * examples table is checked against {@linkcode PathFilter}, and its
 * `--exclude-from` file is read as a file and checked too.
 *
 * @module
 */

import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { PathFilter, readExcludeFrom } from "../../lib/sync/filter.ts";

const DOC = new URL("../../docs/SYNC.md", import.meta.url);

/** The section "## Include and exclude rules", up to the next "## ". */
async function section(): Promise<string> {
  const doc = await Deno.readTextFile(DOC);
  const start = doc.indexOf("## Include and exclude rules");
  ok(start >= 0, "docs/SYNC.md has no include and exclude rules");
  const end = doc.indexOf("\n## ", start + 3);
  return doc.slice(start, end < 0 ? undefined : end);
}

/** The entries a cell names: `a/` is a folder, anything else a file. */
function entries(cell: string): { path: string; isFolder: boolean }[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map(([, text]) => {
    const isFolder = text!.endsWith("/");
    return { path: isFolder ? text!.slice(0, -1) : text!, isFolder };
  });
}

Deno.test("sync doc: each example of the rules table holds", async () => {
  const text = await section();
  let rows = 0;
  for (const line of text.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    const flag = /^`--exclude '?(.+?)'?`$/.exec(cells[1] ?? "");
    if (flag === null || cells.length < 5) continue;
    rows++;
    const pattern = flag[1]!;
    const filter = PathFilter.from([{ kind: "exclude", pattern }]);
    const [matches, misses] = [entries(cells[2]!), entries(cells[3]!)];
    ok(matches.length > 0 && misses.length > 0, line);
    for (const { path, isFolder } of matches) {
      equal(filter.includes(path, isFolder), false, `${pattern} should match "${path}"`);
    }
    for (const { path, isFolder } of misses) {
      equal(filter.includes(path, isFolder), true, `${pattern} should not match "${path}"`);
    }
  }
  ok(rows >= 8, `only ${rows} rows`);
});

Deno.test("sync doc: the --exclude-from example reads as it says", async () => {
  const text = await section();
  const block = /```text\n([^]*?)```/.exec(text)?.[1];
  ok(block !== undefined, "no --exclude-from example");
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "rules");
    await Deno.writeTextFile(file, block);
    const filter = PathFilter.from(await readExcludeFrom(file));
    ok(filter.includes("build", true));
    ok(filter.includes("build/NOTES.txt", false));
    ok(!filter.includes("build/out.js", false));
    ok(!filter.includes("src/a.o", false));
    ok(!filter.includes("x.tmp", false));
    ok(filter.includes("src/a.c", false));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
