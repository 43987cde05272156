import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { BadRequestError, Channel } from "../../lib/protocol/channel.ts";
import { encodeSized, writeSized } from "../../lib/framing/size_header.ts";
import { writeAll } from "../../lib/framing/write_all.ts";
import { readSized } from "../../lib/framing/size_header.ts";
import { decodeReply, encodeMessage } from "../../lib/protocol/messages.ts";
import { MAX_REQUEST_BYTES } from "../../lib/protocol/limits.ts";
import { ConnectionError, ProtocolError, RemoteError } from "../../lib/errors.ts";
import { concat, socketPair } from "../framing/helpers.ts";

const encoder = new TextEncoder();

Deno.test("protocol: Channel carries requests and replies over a socket", async () => {
  using pair = await socketPair();
  const client = new Channel(pair.client);
  const server = new Channel(pair.server);
  await client.send({ op: "GET", path: "a.txt" });
  await client.send({ op: "RENAME", from: "a", to: "b" });
  deepEqual(await server.receiveRequest(), { op: "GET", path: "a.txt" });
  deepEqual(await server.receiveRequest(), { op: "RENAME", from: "a", to: "b" });
  await server.send({ ok: true, size: 3 });
  await server.send({ ok: false, code: "NOT_FOUND", message: '"b" not found' });
  deepEqual(await client.expectOk(), { ok: true, size: 3 });
  await rejects(
    client.expectOk(),
    (e) => e instanceof RemoteError && e.code === "NOT_FOUND" && e.message === '"b" not found',
  );
  // A clean close between requests ends the server's loop without an error.
  await pair.client.closeWrite();
  equal(await server.receiveRequest(), null);
});

Deno.test("protocol: Channel.receiveRequest() answers a bad frame with BadRequestError and goes on", async () => {
  using pair = await socketPair();
  const server = new Channel(pair.server);
  await writeAll(
    pair.client,
    concat(
      encodeSized(encoder.encode("{not json")),
      encodeSized(encoder.encode('{"op":"NOPE"}')),
      encodeSized(encoder.encode('{"op":"GET","path":7}')),
      encodeSized(encodeMessage({ op: "PWD" })),
    ),
  );
  for (let i = 0; i < 3; i++) {
    await rejects(server.receiveRequest(), BadRequestError);
  }
  // The frames were consumed whole: the next request is read in step.
  deepEqual(await server.receiveRequest(), { op: "PWD" });
});

Deno.test("protocol: Channel.receiveRequest() treats broken framing as fatal, not a bad request", async () => {
  using pair = await socketPair();
  const server = new Channel(pair.server);
  // An announced size over the request limit: refused before reading it.
  await writeAll(
    pair.client,
    encoder.encode((MAX_REQUEST_BYTES + 1).toString(16).padStart(8, "0")),
  );
  await rejects(
    server.receiveRequest(),
    (e) => e instanceof ProtocolError && !(e instanceof BadRequestError),
  );
  using pair2 = await socketPair();
  await writeAll(pair2.client, encoder.encode("zzzzzzzz{}"));
  await rejects(
    new Channel(pair2.server).receiveRequest(),
    (e) => e instanceof ProtocolError && !(e instanceof BadRequestError),
  );
});

Deno.test("protocol: Channel.receiveReply() reports a closed server as ConnectionError", async () => {
  using pair = await socketPair();
  pair.server.close();
  await rejects(new Channel(pair.client).receiveReply(), ConnectionError);
});

Deno.test("protocol: handshake settles version 2 and the checksum, and accepts a BFTP/1 client", async () => {
  using pair = await socketPair();
  const client = new Channel(pair.client);
  const server = new Channel(pair.server);
  const serverSide = (async () => {
    const accepted = await server.serverReadHello();
    await server.send({
      ok: true,
      version: 2,
      checksum: "xxh3-128",
      server: "bftp test",
      readOnly: false,
    });
    return accepted;
  })();
  const hello = await client.clientHandshake();
  deepEqual(await serverSide, { version: 2, checksum: "xxh3-128" });
  deepEqual(hello, {
    ok: true,
    version: 2,
    checksum: "xxh3-128",
    server: "bftp test",
    readOnly: false,
  });
  {
    using old = await socketPair();
    await writeAll(old.client, encoder.encode("BFTP/1\n"));
    deepEqual(await new Channel(old.server).serverReadHello(), { version: 1, checksum: "sha256" });
  }
  {
    // The client's first choice that the server speaks; no list at all is sha256.
    using pair2 = await socketPair();
    await writeAll(
      pair2.client,
      encoder.encode("BFTP/2 xxh9,sha256\nBFTP/2\nBFTP/2 sha256,xxh3-128\nBFTP/2 xxh3-128\n"),
    );
    const ch = new Channel(pair2.server);
    deepEqual(await ch.serverReadHello(), { version: 2, checksum: "sha256" });
    deepEqual(await ch.serverReadHello(), { version: 2, checksum: "sha256" });
    deepEqual(await ch.serverReadHello(), { version: 2, checksum: "sha256" });
    deepEqual(await ch.serverReadHello(), { version: 2, checksum: "xxh3-128" });
  }
  // The session goes on after the handshake.
  await client.send({ op: "PWD" });
  deepEqual(await server.receiveRequest(), { op: "PWD" });
});

Deno.test("protocol: handshake accepts a CRLF hello line", async () => {
  using pair = await socketPair();
  await writeAll(pair.client, encoder.encode("BFTP/1\r\n"));
  deepEqual(await new Channel(pair.server).serverReadHello(), { version: 1, checksum: "sha256" });
});

Deno.test("protocol: handshake refuses another protocol with BAD_REQUEST", async () => {
  for (
    const hello of [
      "BFTP/3\n",
      "BFTP/2 \n",
      "BFTP/2 SHA256\n",
      "GET / HTTP/1.1\r\n",
      "\x1b[31mBFTP/1\n",
      "B".repeat(200) + "\n",
    ]
  ) {
    using pair = await socketPair();
    await writeAll(pair.client, encoder.encode(hello));
    equal(await new Channel(pair.server).serverReadHello(), false, JSON.stringify(hello));
    const reply = decodeReply((await readSized(pair.client, { maxBytes: 4096 }))!);
    ok(!reply.ok);
    equal(reply.code, "BAD_REQUEST");
    ok(reply.message.includes('this server speaks "BFTP/2" and "BFTP/1"'), reply.message);
    ok(!/[\x00-\x1f]/.test(reply.message), reply.message);
  }
});

Deno.test("protocol: a hello whose checksums the server does not speak is refused, naming both lists", async () => {
  using pair = await socketPair();
  await writeAll(pair.client, encoder.encode("BFTP/2 xxh64,md5\n"));
  equal(await new Channel(pair.server).serverReadHello(), false);
  const reply = decodeReply((await readSized(pair.client, { maxBytes: 4096 }))!);
  equal(
    !reply.ok && reply.message,
    'No checksum in common: the client offers "xxh64,md5", this server speaks "xxh3-128,sha256"',
  );
  // A server held to SHA-256 (`serve --checksum sha256`) refuses a client offering only XXH3.
  using pair2 = await socketPair();
  await writeAll(pair2.client, encoder.encode("BFTP/2 xxh3-128\n"));
  equal(await new Channel(pair2.server).serverReadHello(["sha256"]), false);
  const refused = decodeReply((await readSized(pair2.client, { maxBytes: 4096 }))!);
  equal(
    !refused.ok && refused.message,
    'No checksum in common: the client offers "xxh3-128", this server speaks "sha256"',
  );
});

Deno.test("protocol: handshake sees a client that closes at once", async () => {
  using pair = await socketPair();
  pair.client.close();
  equal(await new Channel(pair.server).serverReadHello(), null);
});

Deno.test("protocol: clientHandshake() refuses a server refusal or another version", async () => {
  {
    using pair = await socketPair();
    await writeSized(
      pair.server,
      encodeMessage({ ok: false, code: "BUSY", message: "Server busy" }),
    );
    await rejects(
      new Channel(pair.client).clientHandshake(),
      (e) => e instanceof RemoteError && e.code === "BUSY",
    );
  }
  {
    using pair = await socketPair();
    await writeSized(pair.server, encoder.encode('{"ok":true,"version":3}'));
    await rejects(
      new Channel(pair.client).clientHandshake(),
      (e) => e instanceof ProtocolError && /version "3"/.test(e.message),
    );
  }
  {
    using pair = await socketPair();
    await writeSized(pair.server, encoder.encode('{"ok":true,"version":2,"checksum":"md5"}'));
    await rejects(
      new Channel(pair.client).clientHandshake(),
      (e) => e instanceof ProtocolError && /not offered: "md5"/.test(e.message),
    );
  }
  {
    // A server of version 1 only refuses the BFTP/2 hello: said as such, in one line.
    using pair = await socketPair();
    await writeSized(
      pair.server,
      encodeMessage({
        ok: false,
        code: "BAD_REQUEST",
        message: 'Unsupported protocol "BFTP/2 sha256": this server speaks "BFTP/1"',
      }),
    );
    await rejects(
      new Channel(pair.client).clientHandshake(),
      (e) => e instanceof ProtocolError && /speaks only "BFTP\/1"/.test(e.message),
    );
  }
});

Deno.test("protocol: a hello over 64 bytes without a line feed is quoted like a line: its first 32 characters, escaped", async () => {
  for (
    const [hello, quoted] of [
      ["GET /" + "x".repeat(100), "GET /" + "x".repeat(27)],
      ["\x1b[2J".repeat(30), "?[2J".repeat(8)],
      // A hello whose first 64 bytes would be one, and then a line feed: 65 bytes are too many.
      [
        "BFTP/2 aaaaaaaaaa,bbbbbbbbbb,cccccccccc,dddddddddd,eeeeee,sha256x\n",
        "BFTP/2 aaaaaaaaaa,bbbbbbbbbb,ccc",
      ],
      ["BFTP/1" + " ".repeat(60) + "\n", "BFTP/1" + " ".repeat(26)],
    ]
  ) {
    using pair = await socketPair();
    await writeAll(pair.client, encoder.encode(hello));
    equal(await new Channel(pair.server).serverReadHello(), false);
    const reply = decodeReply((await readSized(pair.client, { maxBytes: 4096 }))!);
    equal(
      !reply.ok && reply.message,
      `Unsupported protocol "${quoted}": this server speaks "BFTP/2" and "BFTP/1"`,
    );
  }
});
