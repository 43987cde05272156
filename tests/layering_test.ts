// The layers' import rules (README's Layout): the served root imports no
// layer above it, and the body wire format is the protocol's.
import { deepEqual } from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const lib = resolve(dirname(fileURLToPath(import.meta.url)), "../lib");

/** Every relative import of every .ts file in `folder`, as paths under lib/. */
async function importsOf(folder: string): Promise<{ file: string; target: string }[]> {
  const found: { file: string; target: string }[] = [];
  for await (const entry of Deno.readDir(join(lib, folder))) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    const path = join(lib, folder, entry.name);
    const text = await Deno.readTextFile(path);
    // Only import/export statements at the start of a line: @example imports are indented.
    for (const match of text.matchAll(/^(?:import|export)\b[^;]*?from "(\.[^"]+)"/gms)) {
      const target = relative(lib, resolve(dirname(path), match[1]!));
      found.push({ file: `${folder}/${entry.name}`, target });
    }
  }
  return found;
}

function outside(
  imports: { file: string; target: string }[],
  allowed: (target: string) => boolean,
): string[] {
  return imports.filter((i) => !allowed(i.target)).map((i) => `${i.file} -> ${i.target}`);
}

Deno.test("lib/libc imports nothing of bftp's own", async () => {
  deepEqual(outside(await importsOf("libc"), (t) => t.startsWith("libc/")), []);
});

Deno.test("lib/root imports neither protocol/ nor transfer/ nor any layer above", async () => {
  const allowed = (t: string) =>
    t.startsWith("root/") || t.startsWith("framing/") || t.startsWith("local_file/") ||
    t.startsWith("libc/") ||
    [
      "errors.ts",
      "bytes.ts",
      "file_hash.ts",
      "checksum.ts",
      "terminal_text.ts",
      "local_path.ts",
    ].includes(t);
  deepEqual(outside(await importsOf("root"), allowed), []);
});

Deno.test("lib/protocol imports only framing/, errors.ts, terminal_text.ts and what the root and checksum.ts define", async () => {
  const allowed = (t: string) =>
    t.startsWith("protocol/") || t.startsWith("framing/") || t === "errors.ts" ||
    t === "root/entry.ts" || t === "checksum.ts" || t === "terminal_text.ts";
  deepEqual(outside(await importsOf("protocol"), allowed), []);
});

Deno.test("lib/transfer takes the body wire format from protocol/body_format.ts only", async () => {
  const allowed = (t: string) => !t.startsWith("protocol/") || t === "protocol/body_format.ts";
  deepEqual(outside(await importsOf("transfer"), allowed), []);
});
