/**
 * The GET handler's whole-file path (`get_handler.ts`, a file the session
 * lends its body buffer to): read before its reply, so a file that shrank
 * after it was opened is refused in band and nothing is written; the
 * trailer is the hash of the bytes sent, a remembered SHA-256 only while
 * the file is unchanged since it was opened; one changed meanwhile is
 * refused in band too.
 */

import { deepEqual, equal, rejects } from "node:assert/strict";
import { RemoteError } from "../../lib/errors.ts";
import type { ChecksumName } from "../../lib/protocol/limits.ts";
import {
  BODY_HEADER_LENGTH,
  decodeBodyHeader,
  decodeTrailer,
} from "../../lib/protocol/body_format.ts";
import type { OpenedFile } from "../../lib/root/served_root.ts";
import { handleGet } from "../../lib/server/get_handler.ts";
import type { HandlerContext } from "../../lib/server/handler_context.ts";
import { hashIn, sha256 } from "../helpers.ts";

const REMEMBERED = "ab".repeat(32);

/** An open file of `bytes` whose reads stop after `readable` of them; what it was told. */
function openedFile(bytes: Uint8Array, readable: number, still: boolean, remembers = true) {
  let at = 0;
  const remembered: string[] = [];
  const opened = {
    size: bytes.byteLength,
    mtime: 1_000,
    mode: 0o644,
    sha256: undefined,
    file: {
      readSync: (p: Uint8Array) => {
        const n = Math.min(p.byteLength, readable - at);
        if (n <= 0) return null;
        p.set(bytes.subarray(at, at + n));
        at += n;
        return n;
      },
    },
    known: (checksum: ChecksumName) => checksum === "sha256" && remembers ? REMEMBERED : undefined,
    unchanged: () => still,
    changed: () => !still,
    remember: (hash: string) => void remembered.push(hash),
    close: () => {},
  };
  return { opened: opened as unknown as OpenedFile, remembered };
}

/** A session context lending a buffer, and the replies and bytes it was given. */
function context(opened: OpenedFile, checksum: ChecksumName) {
  const replies: unknown[] = [];
  const written: number[] = [];
  const ctx = {
    root: { openRead: () => Promise.resolve(opened) },
    writer: { write: (p: Uint8Array) => (written.push(...p), Promise.resolve(p.byteLength)) },
    bodyBuffer: (size: number) => new Uint8Array(size + 7),
    reply: (fields: unknown) => (replies.push(fields), Promise.resolve()),
    setInBody: () => {},
    checksum,
  };
  return { ctx: ctx as unknown as HandlerContext, replies, written: () => new Uint8Array(written) };
}

/** The body and trailer in `wire`. */
function bodyOf(wire: Uint8Array): { data: Uint8Array; trailer: string } {
  const size = decodeBodyHeader(wire.subarray(0, BODY_HEADER_LENGTH))!;
  const end = BODY_HEADER_LENGTH + size;
  return {
    data: wire.subarray(BODY_HEADER_LENGTH, end),
    trailer: decodeTrailer(wire.subarray(end)),
  };
}

const bytes = new TextEncoder().encode("hello, small file");

Deno.test("server: a small file that shrank after it was opened is refused as CHANGED before anything is written", async () => {
  const { opened } = openedFile(bytes, 5, true);
  const { ctx, replies, written } = context(opened, "xxh3-128");
  await rejects(
    handleGet(ctx, "/a.txt", { op: "GET", path: "a.txt" }),
    (e) => e instanceof RemoteError && e.code === "CHANGED",
  );
  deepEqual(replies, []);
  equal(written().byteLength, 0);
});

for (const checksum of ["xxh3-128", "sha256"] as const) {
  Deno.test(`server: a small file's reply, body and trailer (${checksum}): the trailer hashes the bytes sent`, async () => {
    const { opened, remembered } = openedFile(bytes, bytes.byteLength, true, false);
    const { ctx, replies, written } = context(opened, checksum);
    equal(await handleGet(ctx, "/a.txt", { op: "GET", path: "a.txt" }), bytes.byteLength);
    deepEqual(replies, [{ size: bytes.byteLength, mtime: 1_000, mode: 0o644 }]);
    const { data, trailer } = bodyOf(written());
    deepEqual(data, bytes);
    equal(trailer, await hashIn(checksum, bytes));
    // Nothing remembered yet: a SHA-256 is remembered for the next time; XXH3-128 is not kept.
    deepEqual(remembered, checksum === "sha256" ? [sha256(bytes)] : []);
  });
}

Deno.test("server: a small file changed since it was opened is refused as CHANGED before anything is written (its bytes may mix two versions)", async () => {
  const { opened, remembered } = openedFile(bytes, bytes.byteLength, false);
  const { ctx, replies, written } = context(opened, "sha256");
  await rejects(
    handleGet(ctx, "/a.txt", { op: "GET", path: "a.txt" }),
    (e) =>
      e instanceof RemoteError && e.code === "CHANGED" &&
      /changed while it was read/.test(e.message),
  );
  deepEqual(replies, []);
  equal(written().byteLength, 0);
  deepEqual(remembered, []);
});

Deno.test("server: a small file unchanged since it was opened is sent with its remembered SHA-256", async () => {
  const { opened, remembered } = openedFile(bytes, bytes.byteLength, true);
  const { ctx, written } = context(opened, "sha256");
  await handleGet(ctx, "/a.txt", { op: "GET", path: "a.txt" });
  equal(bodyOf(written()).trailer, REMEMBERED);
  deepEqual(remembered, []);
});
