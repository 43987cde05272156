// Imports made later (lib/import_later.ts): what `deno run` no longer reads before the program
// starts, and the convention scripts/compile relies on to embed each target.

import { deepEqual, equal, ok } from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { requirePeers } from "./peers.ts";

const lib = fromFileUrl(new URL("../lib/", import.meta.url));

/** Every `.ts` file below `dir`. */
function sources(dir: string): string[] {
  return [...Deno.readDirSync(dir)].flatMap((e) =>
    e.isDirectory ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []
  );
}

Deno.test("importLater: every call names its target twice, as scripts/compile finds it, and the target exists", () => {
  const calls: string[] = [];
  for (const file of sources(lib)) {
    const text = Deno.readTextFileSync(file);
    for (const m of text.matchAll(/importLater(<[^>]*>)?\(\s*("[^"]*"|[^,)]*)/g)) {
      if (file.endsWith("import_later.ts")) continue;
      const typed = /^<typeof import\("(\.\/[\w./-]+\.ts)"\)>$/.exec(m[1] ?? "");
      ok(typed, `${file}: importLater without its target as the type argument: ${m[0]}`);
      equal(m[2], `"${typed![1]}"`, `${file}: the type argument and the path differ`);
      ok(Deno.statSync(join(dirname(file), typed![1]!)).isFile, `${file}: no ${typed![1]}`);
      calls.push(`${file.slice(lib.length)} ${typed![1]}`);
    }
  }
  // The commands (lib/cli/mod.ts) and the TLS modules a client loads only for TLS.
  ok(calls.filter((c) => c.startsWith("cli/mod.ts")).length >= 18);
  ok(calls.includes("transport/connect.ts ./node_tls_connect.ts"));
  ok(calls.includes("transport/client_tls_flags.ts ./tls_files.ts"));
});

Deno.test({
  name: "importLater: `bftp --version` reads none of the commands' modules before it starts",
  ignore: Deno.build.os !== "linux",
  async fn() {
    // The modules the runtime opens, as strace sees them.
    requirePeers("strace");
    const log = await Deno.makeTempFile();
    try {
      const out = await new Deno.Command("strace", {
        args: [
          "-f",
          "-e",
          "trace=openat",
          "-o",
          log,
          Deno.execPath(),
          "run",
          "-q",
          "-A",
          "--unstable-net",
          "--config",
          fromFileUrl(new URL("../deno.json", import.meta.url)),
          fromFileUrl(new URL("../main.ts", import.meta.url)),
          "--version",
        ],
        stdout: "piped",
        stderr: "null",
      }).output();
      ok(new TextDecoder().decode(out.stdout).startsWith("bftp"));
      const opened = Deno.readTextFileSync(log).split("\n")
        .filter((l) => !l.includes("ENOENT") && l.includes(`"${lib}cli/`))
        .map((l) => /"([^"]+)"/.exec(l)![1]!.slice(lib.length));
      // mod.ts and what main.ts itself needs: no command.
      deepEqual(
        opened.filter((f) => ["cli/get.ts", "cli/serve.ts", "cli/sync.ts"].includes(f)),
        [],
      );
      ok(opened.includes("cli/mod.ts"));
    } finally {
      await Deno.remove(log);
    }
  },
});
