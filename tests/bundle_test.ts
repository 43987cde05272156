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

/** Runs `scripts/bftp ARGS` of the checkout at `root`; its exit code and output. */
async function bftpAt(root: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(join(root, "scripts", "bftp"), {
    args,
    env: { DENO: Deno.execPath(), ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
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

Deno.test("bundle: scripts/bftp builds a command's bundle on first use, again once a source is newer or the checkout moved", async () => {
  await using dir = await tempDir();
  const copy = dir.join("copy");
  await Deno.mkdir(copy);
  const paths = ["main.ts", "deno.json", "deno.lock", "lib", "scripts"].map((p) => join(ROOT, p));
  ok((await new Deno.Command("cp", { args: ["-a", ...paths, copy] }).output()).success);
  const bundleOf = (root: string) => join(root, ".deno", "bundle", "stat.js");
  const stat = async (root: string) => {
    const r = await bftpAt(root, ["stat", "--help"]);
    equal(r.code, 0, r.stderr);
    return Deno.statSync(bundleOf(root)).mtime!.getTime();
  };
  const first = await stat(copy);
  equal(await stat(copy), first, "fresh: not built again");
  const later = new Date(first + 5000);
  await Deno.utime(join(copy, "lib", "errors.ts"), later, later);
  ok(await stat(copy) > first, "a newer source: built again");
  const moved = dir.join("moved");
  await Deno.rename(copy, moved);
  await stat(moved);
  ok(Deno.readTextFileSync(bundleOf(moved)).startsWith(`${bundleHeading(moved)}\n`));
});
