// The bundles scripts/bftp runs (scripts/bundle.ts): how one is made, that every command's runs as
// its sources do, and that scripts/bftp builds one again when a source is newer or the checkout
// moved.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  bundleHeading,
  commandModule,
  commandNames,
  entrySource,
  withModuleUrls,
} from "../scripts/bundle.ts";
import { tempDir } from "./helpers.ts";
import { requirePeers } from "./peers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const REGISTRY = Deno.readTextFileSync(join(ROOT, "lib/cli/mod.ts"));

Deno.test("bundle: each command in the registry is found with its module", () => {
  const names = commandNames(REGISTRY);
  ok(names.length >= 18, names.join(" "));
  for (const name of ["get", "put", "sync", "serve", "http-get", "echo-server"]) {
    ok(names.includes(name), name);
  }
  equal(commandModule(REGISTRY, "get"), "lib/cli/get.ts");
  equal(commandModule(REGISTRY, "http-get"), "lib/cli/http_get.ts");
  equal(commandModule(REGISTRY, "echo-server"), "lib/cli/echo_server.ts");
  equal(commandModule(REGISTRY, "args"), undefined);
  for (const name of names) ok(Deno.statSync(join(ROOT, commandModule(REGISTRY, name)!)).isFile);
});

Deno.test("bundle: every import.meta.url becomes its own module's URL; one before any module is refused", () => {
  const bundle = [
    "var x = 1;",
    "// lib/a/one.ts",
    'new URL("./w.ts", import.meta.url);',
    "// lib/b/two.ts",
    "f(import.meta.url, import.meta.url);",
  ].join("\n");
  deepEqual(withModuleUrls(bundle, "/r").split("\n").slice(2), [
    'new URL("./w.ts", "file:///r/lib/a/one.ts");',
    "// lib/b/two.ts",
    'f("file:///r/lib/b/two.ts", "file:///r/lib/b/two.ts");',
  ]);
  throws(() => withModuleUrls("import.meta.url;\n// lib/a.ts", "/r"), /outside a module/);
});

Deno.test("bundle: the entry sets the command's module for importLater, then runs main", () => {
  const entry = entrySource("/r", ["lib/cli/get.ts"]);
  ok(entry.includes('"file:///r/lib/cli/get.ts": () => import("file:///r/lib/cli/get.ts"),'));
  ok(entry.trimEnd().endsWith("await runMain(Deno.args);"), entry);
  equal(bundleHeading("/r"), "// bftp bundle of /r");
});

Deno.test("bundle: scripts/bftp's freshness check sees every module: none is below lib/*/", () => {
  for (const top of Deno.readDirSync(join(ROOT, "lib"))) {
    if (!top.isDirectory) continue;
    for (const e of Deno.readDirSync(join(ROOT, "lib", top.name))) {
      ok(!e.isDirectory, `lib/${top.name}/${e.name}: a folder two deep`);
    }
  }
});

/** Runs `scripts/bftp ARGS` of the checkout at `root` (from `cwd`, as `program` when given). */
async function bftpAt(
  root: string,
  args: string[],
  env: Record<string, string> = {},
  how: { cwd?: string; program?: string; uid?: number } = {},
) {
  // A relative program is run by bash from `cwd` (Deno would look for it from this process's).
  const relative = how.program?.startsWith(".") === true;
  const out = await new Deno.Command(
    relative ? "bash" : how.program ?? join(root, "scripts", "bftp"),
    {
      args: relative ? [how.program!, ...args] : args,
      env: { DENO: Deno.execPath(), ...env },
      stdout: "piped",
      stderr: "piped",
      ...(how.cwd === undefined ? {} : { cwd: how.cwd }),
      ...(how.uid === undefined ? {} : { uid: how.uid, gid: how.uid }),
    },
  ).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** A copy of this checkout's program (no .deno) in a new folder `name` of `dir`. */
async function copyCheckout(dir: string, name: string): Promise<string> {
  const copy = join(dir, name);
  await Deno.mkdir(copy);
  const paths = ["main.ts", "deno.json", "deno.lock", "lib", "scripts"].map((p) => join(ROOT, p));
  ok((await new Deno.Command("cp", { args: ["-a", ...paths, copy] }).output()).success);
  return copy;
}

/** When the bundle of `command` in the checkout at `root` was built (ms), or `null`. */
function builtAt(root: string, command = "stat"): number | null {
  try {
    return Deno.statSync(join(root, ".deno", "bundle", `${command}.js`)).mtime!.getTime();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

Deno.test("bundle: every command's bundle prints the help its sources print", async () => {
  for (const name of commandNames(REGISTRY)) {
    const bundled = await bftpAt(ROOT, [name, "--help"]);
    const sources = await bftpAt(ROOT, [name, "--help"], { BFTP_NO_BUNDLE: "1" });
    deepEqual([bundled.code, bundled.stdout, bundled.stderr], [0, sources.stdout, ""], name);
    const bundle = Deno.readTextFileSync(join(ROOT, ".deno", "bundle", `${name}.js`));
    ok(bundle.startsWith(`${bundleHeading(ROOT)}\n`), name);
  }
});

Deno.test("bundle: scripts/bftp builds a command's bundle on first use, again once a source is newer or the checkout moved, not for another spelling of its path", async () => {
  await using dir = await tempDir();
  const copy = await copyCheckout(dir.path, "copy");
  const stat = async (root: string, how: { cwd?: string; program?: string } = {}) => {
    const r = await bftpAt(root, ["stat", "--help"], {}, how);
    equal(r.code, 0, r.stderr);
    return builtAt(root)!;
  };
  const first = await stat(copy);
  equal(await stat(copy), first, "fresh: not built again");
  // ./scripts/bftp, ../scripts/bftp: the same checkout.
  equal(await stat(copy, { cwd: copy, program: "./scripts/bftp" }), first, "./scripts/bftp");
  const lib = join(copy, "lib");
  equal(await stat(copy, { cwd: lib, program: "../scripts/bftp" }), first, "../scripts/bftp");
  const later = new Date(first + 5000);
  await Deno.utime(join(copy, "lib", "errors.ts"), later, later);
  ok(await stat(copy) > first, "a newer source: built again");
  const moved = dir.join("moved");
  await Deno.rename(copy, moved);
  await stat(moved);
  ok(
    Deno.readTextFileSync(join(moved, ".deno/bundle/stat.js")).startsWith(
      `${bundleHeading(moved)}\n`,
    ),
  );
});

Deno.test("bundle: a build that fails is not tried again until a source changes; a killed build's leftovers go", async () => {
  await using dir = await tempDir();
  const copy = await copyCheckout(dir.path, "copy");
  const bundles = join(copy, ".deno", "bundle");
  await Deno.mkdir(bundles, { recursive: true });
  // Leftovers of a build killed long ago.
  const old = new Date(Date.now() - 3_600_000);
  for (const name of ["entry-stat-123.ts", "stat.js.123"]) {
    await Deno.writeTextFile(join(bundles, name), "half");
    await Deno.utime(join(bundles, name), old, old);
  }
  const broken = join(copy, "lib", "cli", "stat.ts");
  const good = await Deno.readTextFile(broken);
  await Deno.writeTextFile(broken, `${good}\nconst x = ;\n`);
  const run = () => bftpAt(copy, ["stat", "--help"]);
  equal((await run()).code, 1, "the sources' own error");
  const failed = join(bundles, "stat.js.failed");
  const markedAt = Deno.statSync(failed).mtime!.getTime();
  await run();
  equal(Deno.statSync(failed).mtime!.getTime(), markedAt, "not tried again");
  equal(builtAt(copy), null);
  await Deno.writeTextFile(broken, good);
  equal((await run()).code, 0);
  ok(builtAt(copy) !== null, "built once the source is mended");
  deepEqual(
    [...Deno.readDirSync(bundles)].map((e) => e.name).filter((n) => !n.startsWith("stat.js")),
    [],
    "the killed build's leftovers are gone",
  );
});

Deno.test({
  name: "bundle: a checkout this user cannot write runs from the sources, and no build is tried",
  ignore: Deno.build.os !== "linux",
  async fn() {
    requirePeers("strace");
    await using dir = await tempDir();
    const copy = await copyCheckout(dir.path, "copy");
    const home = dir.join("home");
    await Deno.mkdir(home);
    // As nobody where the tests run as root (whom no bits stop); else the checkout made read-only.
    const asRoot = Deno.uid() === 0;
    if (asRoot) {
      await Deno.chmod(dir.path, 0o755);
      await Deno.chown(home, 65534, 65534);
    } else await Deno.chmod(copy, 0o555);
    const log = dir.join("execs.log");
    try {
      const r = await bftpAt(
        copy,
        ["-f", "-v", "-s", "4096", "-e", "trace=execve", "-o", log]
          .concat(asRoot ? ["-u", "nobody"] : [])
          .concat([join(copy, "scripts", "bftp"), "stat", "--help"]),
        { HOME: home, DENO_DIR: join(home, "deno") },
        { program: "strace" },
      );
      equal(r.code, 0, r.stderr);
      ok(r.stdout.startsWith("Usage: bftp stat"), r.stdout);
    } finally {
      await Deno.chmod(copy, 0o755);
    }
    const execs = await Deno.readTextFile(log);
    ok(execs.includes(join(copy, "main.ts")), "the sources ran");
    ok(!execs.includes("bundle.ts"), "no build was tried");
    ok(!(await Array.fromAsync(Deno.readDir(copy))).some((e) => e.name === ".deno"));
  },
});
