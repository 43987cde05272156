// Confinement under a concurrent rename: while a racer process swaps a folder `d` inside the
// root with a link to a folder outside it (renameat2 with RENAME_EXCHANGE, as fast as it can),
// sessions send every verb through `/d/...`. Nothing from outside may be served, and nothing
// outside may be created, changed, renamed or removed, for an absolute link, a relative one
// and a link to `/`.
import { equal, ok } from "node:assert/strict";
import type { BftpClient } from "../../lib/client/client.ts";
import { RemoteError } from "../../lib/errors.ts";
import { MemoryReader, MemoryWriter } from "../framing/helpers.ts";
import { startTestServer, writeLayout } from "../server/helpers.ts";
import { snapshot } from "./hostile_root.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Seconds each kind of link is raced. */
const RACE_SECONDS = 3;
/** Sessions sending requests at once. */
const CLIENTS = 4;

const SECRET = `OUTSIDE-SECRET-${crypto.randomUUID()}`;
const INSIDE = "inside";

/** The racer: swaps two names until its time is up, and leaves them as they were. */
const RACER = `
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b, secs = sys.argv[1].encode(), sys.argv[2].encode(), float(sys.argv[3])
end, n = time.monotonic() + secs, 0
while time.monotonic() < end:
    if libc.renameat2(-100, a, -100, b, 2) != 0:
        raise OSError(ctypes.get_errno(), "renameat2")
    n += 1
if n % 2 and libc.renameat2(-100, a, -100, b, 2) != 0:
    raise OSError(ctypes.get_errno(), "renameat2")
print(n)
`;
import { requirePeers } from "../peers.ts";
import { sha256 } from "../helpers.ts";

/** The same files inside (under `/d/<rel>`) and outside, with different contents. */
function layout(text: string): Record<string, string> {
  return {
    "f.txt": text,
    "victim.txt": text,
    "keep.txt": text,
    "rmd/": "",
    ...(text === SECRET ? { "secret-only.txt": SECRET } : {}),
  };
}

interface Tally {
  ok: number;
  refused: number;
  leaks: string[];
}

/** One session's loop of every verb through `/d/<rel>`, until `done()`. */
async function hammer(
  client: BftpClient,
  dir: string,
  id: number,
  done: () => boolean,
  tally: Tally,
) {
  const leak = (what: string) => tally.leaks.push(what);
  const ops: [string, (i: number) => Promise<void>][] = [
    ["GET", async () => {
      const sink = new MemoryWriter();
      await client.get(`${dir}/f.txt`, sink);
      if (decoder.decode(sink.bytes) !== INSIDE) leak(`GET gave ${decoder.decode(sink.bytes)}`);
    }],
    ["HASH", async () => {
      const { sha256: got } = await client.hash(`${dir}/f.txt`);
      if (got !== sha256(INSIDE)) leak(`HASH gave ${got}`);
    }],
    ["STAT", async () => {
      const entry = await client.stat(`${dir}/f.txt`);
      if (entry.size !== INSIDE.length) leak(`STAT gave size ${entry.size}`);
    }],
    ["LIST", async () => {
      const names = (await client.list(dir)).map((e) => e.name);
      if (names.includes("secret-only.txt")) leak(`LIST gave ${names.join(",")}`);
    }],
    ["CD", async () => {
      try {
        await client.cd(dir);
        const sink = new MemoryWriter();
        await client.get("f.txt", sink);
        if (decoder.decode(sink.bytes) !== INSIDE) leak(`GET after CD gave outside bytes`);
      } finally {
        await client.cd("/");
      }
    }],
    ["PUT", async (i) => {
      const body = encoder.encode(`payload ${id} ${i}`);
      await client.put(`${dir}/new-${id}-${i}.txt`, new MemoryReader(body), {
        size: body.byteLength,
      });
    }],
    ["PUT resume", async (i) => {
      const body = encoder.encode(`resumable ${id} ${i}`);
      await client.put(`${dir}/res-${id}-${i}.txt`, new MemoryReader(body), {
        size: body.byteLength,
        resume: { sha256: sha256(body), seek: () => Promise.resolve() },
      });
    }],
    ["MKDIR", (i) => client.mkdir(`${dir}/m-${id}-${i}`)],
    ["MKDIR -p", (i) => client.mkdir(`${dir}/p-${id}-${i}/q`, true)],
    ["RMDIR", () => client.rmdir(`${dir}/rmd`)],
    ["DELETE", () => client.delete(`${dir}/victim.txt`)],
    ["RENAME", (i) => client.rename(`${dir}/keep.txt`, `${dir}/moved-${id}-${i}.txt`)],
    ["SETSTAT", (i) => client.setStat(`${dir}/victim.txt`, { mtime: 1e12 + i, mode: 0o640 })],
  ];
  for (let i = 0; !done(); i++) {
    for (const [, op] of ops) {
      try {
        await op(i);
        tally.ok++;
      } catch (e) {
        if (!(e instanceof RemoteError)) throw e;
        tally.refused++;
      }
    }
  }
}

for (
  const [kind, link, rel] of [
    ["absolute", (base: string) => `${base}/outside`, (_base: string) => ""],
    ["relative", (_base: string) => "../outside", (_base: string) => ""],
    ["to /", (_base: string) => "/", (base: string) => `${base.slice(1)}/outside`],
  ] as const
) {
  Deno.test(`root: a folder swapped with a link ${kind} to the outside serves nothing from outside and changes nothing there`, async () => {
    await using srv = await startTestServer();
    const base = srv.base;
    await writeLayout(`${base}/outside`, layout(SECRET));
    const inside = `${srv.root}/d/${rel(base)}`.replace(/\/$/, "");
    await writeLayout(inside, layout(INSIDE));
    await Deno.symlink(link(base), `${srv.root}/l`);
    const before = await snapshot(base, srv.root);
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => srv.connect()));
    try {
      requirePeers("python3");
      const racer = new Deno.Command("python3", {
        args: ["-c", RACER, `${srv.root}/d`, `${srv.root}/l`, String(RACE_SECONDS)],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      let finished = false;
      const raced = racer.output().finally(() => finished = true);
      const tally: Tally = { ok: 0, refused: 0, leaks: [] };
      const dir = `/d/${rel(base)}`.replace(/\/$/, "");
      await Promise.all(clients.map((c, id) => hammer(c, dir, id, () => finished, tally)));
      const out = await raced;
      equal(out.code, 0, decoder.decode(out.stderr));
      const swaps = Number(decoder.decode(out.stdout).trim());
      ok(swaps > 100, `only ${swaps} swaps`);
      // The race was real: requests got through while `d` was the folder, and were refused
      // while it was the link.
      ok(tally.ok > 50 && tally.refused > 50, JSON.stringify({ ...tally, leaks: undefined }));
      equal(tally.leaks.length, 0, tally.leaks.slice(0, 5).join("\n"));
      equal(await snapshot(base, srv.root), before, "the outside changed");
      // The server still serves.
      equal((await clients[0]!.stat("/d")).type, "dir");
    } finally {
      for (const c of clients) c.close();
    }
  });
}
