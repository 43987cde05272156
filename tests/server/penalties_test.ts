import { equal, match, ok } from "node:assert/strict";
import { BftpClient } from "../../lib/client/client.ts";
import { BufferedReader } from "../../lib/framing/buffered_reader.ts";
import { readSized } from "../../lib/framing/size_header.ts";
import { writeAll } from "../../lib/framing/write_all.ts";
import { decodeReply, encodeMessage } from "../../lib/protocol/messages.ts";
import { encodeSized } from "../../lib/framing/size_header.ts";
import { ServedRoot } from "../../lib/root/served_root.ts";
import { TokenSet } from "../../lib/server/auth.ts";
import { SourcePenalties } from "../../lib/server/penalties.ts";
import { startServer } from "../../lib/server/server.ts";
import { tempDir } from "../helpers.ts";

const encoder = new TextEncoder();

/** Hello, then `tokens` AUTHs; returns the code of each reply (the hello's first). */
async function tryTokens(hostname: string, port: number, tokens: string[]): Promise<string[]> {
  const conn = await Deno.connect({ hostname, port });
  const reader = new BufferedReader(conn);
  const codes: string[] = [];
  const reply = async () => {
    const frame = await readSized(reader, { maxBytes: 65536 });
    if (frame === null) return "closed";
    const r = decodeReply(frame) as { ok: boolean; code?: string; message?: string };
    return r.ok ? "ok" : `${r.code}: ${r.message}`;
  };
  try {
    await writeAll(conn, encoder.encode("BFTP/1\n"));
    codes.push(await reply());
    if (codes[0] !== "ok") return codes;
    for (const token of tokens) {
      await writeAll(conn, encodeSized(encodeMessage({ op: "AUTH", token })));
      codes.push(await reply());
    }
    return codes;
  } finally {
    conn.close();
  }
}

/** A server whose one token is "right", refusing an address for 60 s after 3 wrong ones. */
async function penalisingServer(root: string, hostname: string) {
  const tokens = new TokenSet();
  tokens.add("right", "rw");
  return startServer({
    root: await ServedRoot.open(root),
    hostname,
    port: 0,
    tokens,
    authDelay: 0,
    penalties: new SourcePenalties({ strikes: 3, firstMs: 60_000 }),
  });
}

Deno.test("server: an address that sends too many wrong tokens is refused, another is not", async () => {
  await using tmp = await tempDir();
  const server = await penalisingServer(tmp.path, "::");
  try {
    const port = server.addr.port;
    const first = await tryTokens("127.0.0.1", port, ["a", "b", "c"]);
    equal(first.length, 4);
    // The penalised address is refused in place of the hello, even with the right token.
    const again = await tryTokens("127.0.0.1", port, ["right"]);
    equal(again.length, 1);
    match(again[0]!, /^DENIED: Too many wrong tokens from this address: try again in 60 s$/);
    // Another address is untouched.
    const other = await BftpClient.connect({ hostname: "::1", port, token: "right" });
    ok(!other.readOnly);
    await other.quit();
  } finally {
    await server.close();
  }
});

Deno.test("server: a connection opened before its address was refused gets no more guesses, the right token included", async () => {
  await using tmp = await tempDir();
  const server = await penalisingServer(tmp.path, "127.0.0.1");
  try {
    const port = server.addr.port;
    // Opened and greeted first, then three wrong tokens on another connection refuse the address.
    const early = await Deno.connect({ hostname: "127.0.0.1", port });
    const reader = new BufferedReader(early);
    try {
      await writeAll(early, encoder.encode("BFTP/1\n"));
      ok(decodeReply((await readSized(reader, { maxBytes: 65536 }))!).ok);
      await tryTokens("127.0.0.1", port, ["a", "b", "c"]);
      await writeAll(early, encodeSized(encodeMessage({ op: "AUTH", token: "right" })));
      const reply = decodeReply((await readSized(reader, { maxBytes: 65536 }))!) as {
        ok: boolean;
        message?: string;
      };
      equal(reply.ok, false);
      match(reply.message!, /^Too many wrong tokens from this address: try again in 60 s$/);
      // And the session is over.
      equal(await readSized(reader, { maxBytes: 65536 }), null);
    } finally {
      early.close();
    }
  } finally {
    await server.close();
  }
});
