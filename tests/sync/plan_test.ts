// The comparison of two tree plans (lib/sync/plan.ts): what is sent, what is
// removed, what a filter keeps out of both, and the report's lines.
import { deepEqual, ok } from "node:assert/strict";
import { EXCLUDED, type PlannedFile, type TreePlan } from "../../lib/client/tree_plan.ts";
import { planDownload } from "../../lib/client/remote_plan.ts";
import { planUpload } from "../../lib/client/local_plan.ts";
import { startTestServer } from "../server/helpers.ts";
import { compareTrees, quickDiffers } from "../../lib/sync/plan.ts";
import { PathFilter } from "../../lib/sync/filter.ts";
import { changeLine, plannedChanges, plannedTotals } from "../../lib/sync/report.ts";

function file(relative: string, size = 1, mtime = 1000, mode = 0o644): PlannedFile {
  return { remote: `/t/${relative}`, local: `l/${relative}`, relative, size, mtime, mode };
}

function folder(relative: string) {
  return {
    remote: relative === "" ? "/t" : `/t/${relative}`,
    local: relative === "" ? "l" : `l/${relative}`,
    relative,
  };
}

function tree(files: PlannedFile[], folders: string[] = [], skipped: string[] = []): TreePlan {
  return {
    files,
    folders: ["", ...folders].map(folder),
    totalBytes: files.reduce((n, f) => n + f.size, 0),
    skipped: skipped.map((relative) => ({ path: `/t/${relative}`, why: "link", relative })),
  };
}

const sends = (plan: ReturnType<typeof compareTrees>) =>
  plan.sends.map((s) => `${s.kind} ${s.file.relative}`);
const deletes = (plan: ReturnType<typeof compareTrees>) => plan.deletes.map((d) => d.path);

Deno.test("quick check: new, changed by size, by time, by mode; same when all agree", () => {
  const source = tree([
    file("new"),
    file("size", 2),
    file("time", 1, 2000),
    file("mode", 1, 1000, 0o600),
    file("same"),
  ]);
  const target = tree([file("size", 3), file("time"), file("mode"), file("same")]);
  const plan = compareTrees(source, target, { targetSide: "remote" });
  deepEqual(sends(plan), ["new new", "changed size", "changed time", "changed mode"]);
  deepEqual(plan.checked, 5);
  deepEqual(plan.deletes, []);
});

Deno.test("an unknown time or mode on one side does not count as a difference", () => {
  deepEqual(quickDiffers(file("a", 1, 1000), { ...file("a"), mtime: null, mode: null }), false);
  // Sub-millisecond parts are not compared: both ends keep whole milliseconds.
  deepEqual(quickDiffers(file("a", 1, 1000.4), file("a", 1, 1000)), false);
});

Deno.test("without --delete nothing is removed; with it, files first, then folders deepest first", () => {
  const source = tree([file("keep")], ["kept"]);
  const target = tree(
    [file("keep"), file("gone"), file("old/a"), file("old/deep/b")],
    ["kept", "old", "old/deep"],
    ["link"],
  );
  deepEqual(compareTrees(source, target, { targetSide: "remote" }).deletes, []);
  const plan = compareTrees(source, target, { targetSide: "remote", deleting: true });
  deepEqual(deletes(plan), [
    "/t/gone",
    "/t/old/a",
    "/t/old/deep/b",
    "/t/link",
    "/t/old/deep",
    "/t/old",
  ]);
  deepEqual(plan.deletes.filter((d) => d.folder).map((d) => d.relative), ["old/deep", "old"]);
  // A local target's paths are its local ones.
  const local = compareTrees(source, target, { targetSide: "local", deleting: true });
  deepEqual(local.deletes[0]?.path, "l/gone");
});

Deno.test("the target's top is never removed, and a name the source skips is not removed", () => {
  const source = tree([], [], ["a-link"]);
  const target = tree([file("a-link")], []);
  const plan = compareTrees(source, target, { targetSide: "remote", deleting: true });
  deepEqual(plan.deletes, []);
  deepEqual(plan.missingFolders, new Set());
});

Deno.test("a missing target: every folder is missing and every file new", () => {
  const source = tree([file("a"), file("d/b")], ["d"]);
  const plan = compareTrees(source, { files: [], folders: [], totalBytes: 0, skipped: [] }, {
    targetSide: "local",
  });
  deepEqual(plan.missingFolders, new Set(["", "d"]));
  deepEqual(sends(plan), ["new a", "new d/b"]);
});

Deno.test("with --checksum, files of one size wait for the content check; other sizes are sent", () => {
  const source = tree([file("same-size", 4, 1), file("other-size", 5), file("new")]);
  const target = tree([file("same-size", 4, 2), file("other-size", 6)]);
  const plan = compareTrees(source, target, { targetSide: "remote", checksum: true });
  deepEqual(sends(plan), ["changed other-size", "new new"]);
  deepEqual(plan.unsure.map((p) => p.source.relative), ["same-size"]);
});

Deno.test("-u leaves a file newer on the target alone; --ignore-existing leaves every file it has", () => {
  const source = tree([
    file("new"),
    file("older", 2, 1000),
    file("newer", 2, 5000),
    file("same", 1, 3000),
  ]);
  const target = tree([
    file("older", 1, 500),
    file("newer", 1, 3000),
    file("same", 9, 3000),
    file("gone"),
  ]);
  deepEqual(sends(compareTrees(source, target, { targetSide: "remote" })), [
    "new new",
    "changed older",
    "changed newer",
    "changed same",
  ]);
  // -u: a target copy modified earlier goes (a); one modified later is kept (b); one of the same
  // time but another size goes (c), as with rsync -u.
  const updating = compareTrees(
    tree([file("a", 1, 9000), file("b", 2, 1000), file("c", 2, 1000)]),
    tree([
      file("a", 2, 5000),
      file("b", 1, 2000),
      file("c", 1, 1000),
    ]),
    { targetSide: "remote", update: true },
  );
  deepEqual(sends(updating), ["changed a", "changed c"]);
  // --checksum with -u: a newer target copy is not even compared.
  deepEqual(
    compareTrees(tree([file("b", 1, 1000)]), tree([file("b", 1, 2000)]), {
      targetSide: "local",
      update: true,
      checksum: true,
    }).unsure,
    [],
  );
  const existing = compareTrees(source, target, {
    targetSide: "remote",
    ignoreExisting: true,
    deleting: true,
  });
  deepEqual(sends(existing), ["new new"]);
  // What the source lacks still goes with --delete.
  deepEqual(deletes(existing), ["/t/gone"]);
});

Deno.test("an excluded path is neither sent nor deleted; a folder holding one stays", () => {
  const filter = PathFilter.from([
    { kind: "exclude", pattern: "*.tmp" },
    { kind: "exclude", pattern: "cache/" },
  ]);
  const source = tree([file("a.tmp"), file("a.txt"), file("cache/x")], ["cache"]);
  const target = tree(
    [file("b.tmp"), file("old/c.tmp"), file("old/d"), file("gone/e"), file("cache/y")],
    ["old", "gone", "cache"],
  );
  const plan = compareTrees(source, target, { targetSide: "remote", deleting: true, filter });
  deepEqual(sends(plan), ["new a.txt"]);
  deepEqual(plan.checked, 1);
  // old/ holds old/c.tmp, which the filter keeps: old/d goes, old/ stays.
  deepEqual(deletes(plan), ["/t/old/d", "/t/gone/e", "/t/gone"]);
});

Deno.test("an include before an exclude wins, in command-line order", () => {
  const filter = PathFilter.from([
    { kind: "include", pattern: "keep.log" },
    { kind: "exclude", pattern: "*.log" },
  ]);
  const source = tree([file("keep.log"), file("drop.log"), file("x")]);
  const plan = compareTrees(source, tree([]), { targetSide: "remote", filter });
  deepEqual(sends(plan), ["new keep.log", "new x"]);
});

Deno.test("the dry run's lines and totals come from the plan", () => {
  const source = tree([file("a", 3), file("b", 4, 5)]);
  const target = tree([file("b", 4), file("c")], [], []);
  const plan = compareTrees(source, target, { targetSide: "remote", deleting: true });
  const lines = plannedChanges(plan).map((c) => changeLine(c, (s) => s));
  deepEqual(lines, ["- c", "+ a", "* b"]);
  deepEqual(plannedTotals(plan), {
    sent: 2,
    new: 1,
    changed: 1,
    deleted: 1,
    bytes: 7,
    failed: 0,
    notTried: 0,
  });
});

Deno.test("a filtered listing does not look inside an excluded folder, on either side", async () => {
  const files = { "t/a.txt": "a", "t/cache/x": "x", "t/cache/deep/y": "y", "t/old/cache/z": "z" };
  await using server = await startTestServer({ files });
  const filter = PathFilter.from([{ kind: "exclude", pattern: "cache/" }]);
  const include = (relative: string, isFolder: boolean) => filter.includes(relative, isFolder);
  using client = await server.connect();
  const remote = await planDownload(client, "/t", "out", { filter: include });
  deepEqual(remote.files.map((f) => f.relative), ["a.txt"]);
  deepEqual(remote.skipped.map((s) => [s.relative, s.why]), [
    ["cache", EXCLUDED],
    ["old/cache", EXCLUDED],
  ]);
  ok(server.log.some((l) => / LIST "\/t\/old"/.test(l)), server.log.join("\n"));
  deepEqual(server.log.filter((l) => / LIST .*cache/.test(l)), []);
  const local = await planUpload(`${server.root}/t`, "/t", { filter: include });
  deepEqual(local.files.map((f) => f.relative), ["a.txt"]);
  deepEqual(local.skipped.map((s) => s.relative), ["cache", "old/cache"]);
  // Compared with a source that lacks old/: old/ holds an excluded folder, so it stays; nothing
  // excluded is announced as skipped.
  const source = { files: [], folders: [folder("")], totalBytes: 0, skipped: [] };
  const plan = compareTrees(source, remote, { targetSide: "remote", deleting: true, filter });
  deepEqual(deletes(plan), ["/t/a.txt"]);
  const back = compareTrees(remote, tree([]), { targetSide: "local", filter });
  deepEqual(back.skipped, []);
  await client.quit();
});

Deno.test("folders whose time the target lacks are stale: another time, a missing folder", () => {
  const timed = (relative: string, mtime: number | null) => ({ ...folder(relative), mtime });
  const source: TreePlan = {
    ...tree([]),
    folders: [
      timed("", 5),
      timed("same", 6),
      timed("other", 7),
      timed("missing", 8),
      timed("unknown", null),
    ],
  };
  const target: TreePlan = {
    ...tree([]),
    folders: [timed("", 5), timed("same", 6), timed("other", 9), timed("unknown", 1)],
  };
  const plan = compareTrees(source, target, { targetSide: "remote" });
  deepEqual([...plan.staleTimes].sort(), ["missing", "other"]);
  deepEqual([...plan.missingFolders], ["missing"]);
});

Deno.test("the target's folders that give their owner no write or search are named, with their bits, whatever the source has", () => {
  const moded = (relative: string, mode: number | null) => ({ ...folder(relative), mode });
  const target: TreePlan = {
    ...tree([]),
    folders: [
      moded("", 0o755),
      moded("ro", 0o500),
      moded("ro/x", 0o600),
      moded("open", 0o700),
      moded("unknown", null),
      moded("theirs", 0o555),
    ],
  };
  const source: TreePlan = { ...tree([]), folders: [moded("", 0o755), moded("ro", 0o500)] };
  const plan = compareTrees(source, target, { targetSide: "remote", deleting: true });
  deepEqual(plan.lockedFolders?.map((f) => [f.relative, f.mode]), [
    ["ro", 0o500],
    ["ro/x", 0o600],
    ["theirs", 0o555],
  ]);
});

Deno.test("a file that differs in its bits alone is marked so; one that differs otherwise is not", () => {
  const source = tree([
    file("mode", 1, 1000, 0o600),
    file("both", 2, 1000, 0o600),
    file("time", 1, 2000),
  ]);
  const target = tree([file("mode"), file("both"), file("time")]);
  const plan = compareTrees(source, target, { targetSide: "remote" });
  deepEqual(plan.sends.map((s) => [s.file.relative, s.attributesOnly === true]), [
    ["mode", true],
    ["both", false],
    ["time", false],
  ]);
});
