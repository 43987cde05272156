/**
 * A server that resets or closes the connection at the hello: exit 4 with a
 * clear line, for get and put alike (issue 9 §5). The peer is python3, which
 * can send a real RST (SO_LINGER 0).
 *
 * @module
 */
import { ok } from "node:assert/strict";
import { join } from "node:path";
import { assertFailure, runBftp, tempDir } from "./helpers.ts";

const PEER = `
import socket, struct, sys
mode = sys.argv[1]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    # The hello is read first: closing over unread bytes would reset the connection.
    c.recv(64)
    if mode == "reset":
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
`;

async function withPeer(mode: "reset" | "close", fn: (port: number) => Promise<void>) {
  const child = new Deno.Command("python3", {
    args: ["-c", PEER, mode],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const { value } = await reader.read();
    await fn(Number(value!.trim()));
  } finally {
    child.kill();
    await reader.cancel();
    await child.status;
  }
}

for (const mode of ["reset", "close"] as const) {
  Deno.test(`a server that ${mode}s at the hello is exit 4, for get and put`, async () => {
    await using dir = await tempDir();
    const file = join(dir.path, "up.txt");
    await Deno.writeTextFile(file, "x");
    await withPeer(mode, async (port) => {
      const url = `bftp://127.0.0.1:${port}/f`;
      const expected = mode === "reset"
        ? /reset the connection during the BFTP hello/
        : /closed the connection without answering the BFTP hello \(it may be full, speak TLS \(a bftps:\/\/ URL\), or not be a BFTP server\)$/;
      for (const args of [["get", url, join(dir.path, "down")], ["put", file, url]]) {
        const result = await runBftp(args);
        assertFailure(result, 4, expected);
      }
    });
  });
}

const TLS_PEER = `
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.recv(64)
    c.sendall(bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]))
    c.close()
`;

Deno.test("a server that answers the hello with a TLS record gets the bftps hint", async () => {
  const child = new Deno.Command("python3", {
    args: ["-c", TLS_PEER],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const { value } = await reader.read();
    const result = await runBftp(["get", `bftp://127.0.0.1:${value!.trim()}/f`, "-"]);
    ok(result.code === 4 || result.code === 5, result.stderr);
    ok(/it speaks TLS: use a bftps:\/\/ URL/.test(result.stderr), result.stderr);
  } finally {
    child.kill();
    await reader.cancel();
    await child.status;
  }
});
