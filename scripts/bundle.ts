/**
 * Builds one bundle of bftp for one command, for `scripts/bftp` to run:
 * `.deno/bundle/COMMAND.js`, this checkout's main.ts and that command's
 * modules in one file (`deno bundle`; npm packages are left outside). `deno run`
 * then reads, checks and compiles one file instead of about a hundred
 * modules: an empty `bftp get -r` started in 42 ms instead of 56 here.
 *
 *     deno run -A scripts/bundle.ts get      # one command
 *     deno run -A scripts/bundle.ts --all    # every command
 *
 * The bundle keeps every module's own `import.meta.url` (written in as the
 * module's `file:` URL), so workers and files found beside a module are
 * found as from the sources; the modules `importLater` would load (the
 * command's, the client's TLS modules) are set in `globalThis[BUNDLED]`
 * before `runMain` starts. (Those load Node's TLS modules only when first
 * used: `lib/node_builtin.ts`.)
 * The file gets the time the build began, and a first line naming the
 * checkout: `scripts/bftp` builds it again when a source is newer or the
 * checkout moved. Exit 2: not a command.
 *
 * @module
 */

import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The checkout. */
const ROOT = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");
/** Where the bundles go. */
const OUT = join(ROOT, ".deno", "bundle");

/**
 * The module that `lib/cli/mod.ts` loads for `command`, as a path from the
 * checkout, or `undefined` when it names no command.
 *
 * @param registry The text of `lib/cli/mod.ts`.
 * @param command A command's name (`get`, `http-get`).
 * @returns Its module, such as `lib/cli/get.ts`.
 */
export function commandModule(registry: string, command: string): string | undefined {
  const at = registry.indexOf(`name: ${JSON.stringify(command)},`);
  if (at < 0) return undefined;
  const found = /importLater<typeof import\("\.\/([a-z_]+\.ts)"\)>/.exec(registry.slice(at));
  return found === null ? undefined : `lib/cli/${found[1]}`;
}

/** Every command's name in `lib/cli/mod.ts`. */
export function commandNames(registry: string): string[] {
  return [...registry.matchAll(/^\s+name: "([a-z-]+)",$/gm)].map((m) => m[1]!);
}

/**
 * The modules that `importLater` loads from elsewhere than the command
 * registry (the client's TLS modules), as paths from the checkout: bundled
 * too, so that they and the command share one copy of every module (an
 * error thrown by a second copy of `lib/errors.ts` is no `BftpError` to the
 * first).
 *
 * @param sources Each `lib/` module's path from the checkout, and its text.
 * @returns Their targets.
 */
export function laterModules(sources: ReadonlyMap<string, string>): string[] {
  const found = new Set<string>();
  for (const [path, text] of sources) {
    if (path === "lib/cli/mod.ts" || path === "lib/import_later.ts") continue;
    for (const m of text.matchAll(/importLater<typeof import\("(\.\/[A-Za-z0-9_./-]+\.ts)"\)>/g)) {
      found.add(join(dirname(path), m[1]!));
    }
  }
  return [...found].sort();
}

/** Every `.ts` file below `lib/`, from the checkout, with its text. */
async function libSources(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(join(ROOT, dir))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) out.set(path, await Deno.readTextFile(join(ROOT, path)));
    }
  };
  await walk("lib");
  return out;
}

/**
 * A bundle's first line, which names the checkout it was built from (read
 * by `scripts/bftp`).
 *
 * @param root The checkout.
 * @returns The line.
 */
export function bundleHeading(root: string): string {
  return `// bftp bundle of ${root}`;
}

/**
 * The entry module of a bundle: the modules given, for `importLater`, then
 * `runMain`.
 *
 * @param root The checkout.
 * @param modules The modules the bundle holds for `importLater`, from the checkout.
 * @returns Its text.
 */
export function entrySource(root: string, modules: readonly string[]): string {
  const url = (path: string) => JSON.stringify(pathToFileURL(join(root, path)).href);
  return [
    `import { runMain } from ${url("main.ts")};`,
    `import { BUNDLED } from ${url("lib/import_later.ts")};`,
    `(globalThis as Record<symbol, unknown>)[BUNDLED] = {`,
    ...modules.map((m) => `  ${url(m)}: () => import(${url(m)}),`),
    `};`,
    `await runMain(Deno.args);`,
    ``,
  ].join("\n");
}

/**
 * Writes each module's own URL for `import.meta.url` in a bundle: its code
 * follows a `// PATH` line (PATH from the checkout), as `deno bundle` writes
 * it without `--minify`.
 *
 * @param bundle The bundle's text.
 * @param root The checkout.
 * @returns The text with every `import.meta.url` written out.
 * @throws {Error} On an `import.meta.url` before any module's line.
 */
export function withModuleUrls(bundle: string, root: string): string {
  let url: string | null = null;
  return bundle.split("\n").map((line) => {
    const heading = /^\/\/ (\S+\.[jt]s)$/.exec(line);
    if (heading !== null) url = pathToFileURL(join(root, heading[1]!)).href;
    if (!line.includes("import.meta.url")) return line;
    if (url === null) throw new Error(`import.meta.url outside a module: ${line.trim()}`);
    return line.replaceAll("import.meta.url", JSON.stringify(url));
  }).join("\n");
}

/** Builds `.deno/bundle/COMMAND.js`; `false` when `command` is none. */
async function build(
  command: string,
  registry: string,
  later: string[],
  externals: string[],
): Promise<boolean> {
  const module = commandModule(registry, command);
  if (module === undefined) return false;
  const began = new Date();
  const entry = join(OUT, `entry-${command}-${Deno.pid}.ts`);
  const made = join(OUT, `${command}.js.${Deno.pid}`);
  await Deno.writeTextFile(entry, entrySource(ROOT, [module, ...later]));
  try {
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--config", join(ROOT, "deno.json")]
        .concat(externals.flatMap((name) => ["--external", name]))
        .concat(["--output", made, relative(ROOT, entry)]),
      cwd: ROOT,
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!run.success) throw new Error(`deno bundle failed for "${command}"`);
    // Its first line names the checkout: moved elsewhere, the bundle is built again. (No source
    // map: reading one cost each start about 5 ms; BFTP_DEBUG runs the sources instead.)
    const text = withModuleUrls(await Deno.readTextFile(made), ROOT);
    await Deno.writeTextFile(made, `${bundleHeading(ROOT)}\n${text}`);
    // The build's start: a source changed while it ran is newer, and builds again.
    await Deno.utime(made, began, began);
    await Deno.rename(made, join(OUT, `${command}.js`));
  } finally {
    await removeIfThere(entry);
    await removeIfThere(made);
  }
  return true;
}

/** Removes `path`; one gone already (renamed into place, or by another build) is no error. */
async function removeIfThere(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** How old a build's temporary file is before another build takes it for a killed one's. */
const LEFTOVER_MS = 10 * 60_000;

/** Removes what builds killed midway left behind (their entries and half-written bundles). */
async function removeLeftovers(): Promise<void> {
  for await (const e of Deno.readDir(OUT)) {
    if (!/^entry-.*\.ts$|\.js\.\d+$/.test(e.name)) continue;
    const path = join(OUT, e.name);
    let mtime: number | undefined;
    try {
      mtime = (await Deno.stat(path)).mtime?.getTime();
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    if (mtime !== undefined && Date.now() - mtime > LEFTOVER_MS) await removeIfThere(path);
  }
}

if (import.meta.main) {
  const registry = await Deno.readTextFile(join(ROOT, "lib/cli/mod.ts"));
  const wanted = Deno.args[0] === "--all" ? commandNames(registry) : Deno.args;
  await Deno.mkdir(OUT, { recursive: true });
  await removeLeftovers();
  // npm packages stay outside, found through deno.json's imports when first imported.
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const externals = Object.keys(config.imports ?? {});
  const later = laterModules(await libSources());
  for (const command of wanted) {
    if (!await build(command, registry, later, externals)) Deno.exit(2);
  }
}
