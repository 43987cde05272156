import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  decodeReply,
  decodeRequest,
  encodeMessage,
  type Request,
} from "../../lib/protocol/messages.ts";
import { ProtocolError } from "../../lib/errors.ts";
import { MAX_TIME_MS } from "../../lib/protocol/limits.ts";

const encoder = new TextEncoder();
const json = (text: string) => encoder.encode(text);

/** One of every request, with unusual but legal values. */
const EVERY_REQUEST: Request[] = [
  { op: "PWD" },
  { op: "CD", path: "../docs" },
  { op: "LIST", path: "/" },
  { op: "STAT", path: "ünïcødé €.txt" },
  { op: "GET", path: "a b/c.txt" },
  { op: "PUT", path: "up.bin", size: 0, overwrite: false },
  { op: "PUT", path: "/big.bin", size: Number.MAX_SAFE_INTEGER, overwrite: true },
  { op: "PUT", path: "stream", size: null, overwrite: true },
  { op: "PUT", path: "private", size: 3, overwrite: true, newMode: 0o600 },
  { op: "MPUT", paths: ["a", "b"], sizes: [1, 2], overwrite: true, newModes: [0o600, null] },
  { op: "DELETE", path: "x" },
  { op: "MKDIR", path: "a/b/c", parents: true },
  { op: "MKDIR", path: "d", parents: false },
  { op: "MKDIR", path: "private", parents: true, newMode: 0o700 },
  { op: "RMDIR", path: "d" },
  { op: "RENAME", from: "a", to: 'b/"quoted"' },
  { op: "HASH", path: "h" },
  { op: "QUIT" },
  { op: "AUTH", token: "s3cr3t-token" },
  { op: "GET", path: "big.iso", offset: 1_048_576, expect: { size: 4_000_000, mtime: 17e11 } },
  {
    op: "GET",
    path: "big.iso",
    offset: 0,
    expect: { size: 1, mtime: null, sha256: "ab".repeat(32) },
  },
  { op: "PUT", path: "r.bin", size: 10, overwrite: true, resume: true, sha256: "0f".repeat(32) },
  { op: "BLOCKS", path: "big.iso", blockSize: 65536 },
  { op: "GET", path: "big.iso", offset: 65536, length: 4096, expect: { size: 9e6, mtime: 17e11 } },
  {
    op: "PUT",
    path: "big.iso",
    size: 9e6,
    overwrite: true,
    base: { size: 8e6, mtime: null },
    blockSize: 65536,
    reuse: [0, 3, 7, 100],
    whole: "ab".repeat(16),
  },
];

Deno.test("protocol: decodeRequest() round-trips every request", () => {
  const ops = new Set<string>();
  for (const req of EVERY_REQUEST) {
    deepEqual(decodeRequest(encodeMessage(req)), req);
    ops.add(req.op);
  }
  equal(ops.size, 15);
});

Deno.test("protocol: decodeRequest() fills defaults and ignores unknown fields", () => {
  deepEqual(decodeRequest(json('{"op":"PUT","path":"a"}')), {
    op: "PUT",
    path: "a",
    size: null,
    overwrite: true,
  });
  deepEqual(decodeRequest(json('{"op":"MKDIR","path":"a"}')), {
    op: "MKDIR",
    path: "a",
    parents: false,
  });
  deepEqual(decodeRequest(json('{"op":"GET","path":"a","extra":[1,2]}')), { op: "GET", path: "a" });
  deepEqual(decodeRequest(json('{"op":"PWD","path":"ignored"}')), { op: "PWD" });
});

Deno.test("protocol: decodeRequest() refuses a newMode out of 0 to 511, or newModes of another length", () => {
  for (
    const text of [
      '{"op":"PUT","path":"a","newMode":512}',
      '{"op":"PUT","path":"a","newMode":"0600"}',
      '{"op":"MKDIR","path":"a","newMode":1.5}',
      '{"op":"MPUT","paths":["a"],"sizes":[1],"newModes":[1,2]}',
      '{"op":"MPUT","paths":["a"],"sizes":[1],"newModes":[-1]}',
    ]
  ) {
    throws(
      () => decodeRequest(json(text)),
      (e) => e instanceof ProtocolError && /Malformed request: "newModes?" must be/.test(e.message),
      text,
    );
  }
});

Deno.test("protocol: decodeRequest() rejects malformed JSON and non-objects", () => {
  const cases: (string | Uint8Array)[] = [
    "",
    "{",
    '{"op":"PWD"',
    "not json",
    "[]",
    '["PWD"]',
    "null",
    "42",
    '"PWD"',
    "true",
    new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), // not UTF-8
  ];
  for (const c of cases) {
    throws(
      () => decodeRequest(typeof c === "string" ? json(c) : c),
      (e) => e instanceof ProtocolError && e.message.startsWith("Malformed request"),
      String(c),
    );
  }
});

Deno.test("protocol: decodeRequest() rejects wrong types and an unknown op", () => {
  const cases = [
    '{"op":"GET"}',
    '{"op":"GET","path":1}',
    '{"op":"GET","path":null}',
    '{"op":"CD","path":["a"]}',
    '{"op":"RENAME","from":"a"}',
    '{"op":"RENAME","from":"a","to":2}',
    '{"op":"PUT","path":"a","size":-1}',
    '{"op":"PUT","path":"a","size":1.5}',
    '{"op":"PUT","path":"a","size":"3"}',
    '{"op":"PUT","path":"a","size":9007199254740992}',
    '{"op":"PUT","path":"a","size":1,"overwrite":"yes"}',
    '{"op":"PUT","path":"a","size":1,"mtime":"yesterday"}',
    '{"op":"PUT","path":"a","size":1,"mtime":1.5}',
    '{"op":"PUT","path":"a","size":1,"mtime":9e15}',
    '{"op":"PUT","path":"a","size":1,"mode":512}',
    '{"op":"PUT","path":"a","size":1,"mode":-1}',
    '{"op":"PUT","path":"a","size":1,"mode":"0644"}',
    '{"op":"MKDIR","path":"a","parents":1}',
    // Delta fields: a block size out of range, reuse not in pairs or too long, a bad whole.
    '{"op":"BLOCKS","path":"a","blockSize":4095}',
    '{"op":"BLOCKS","path":"a","blockSize":16777217}',
    '{"op":"BLOCKS","path":"a"}',
    '{"op":"GET","path":"a","length":-1}',
    '{"op":"PUT","path":"a","size":9,"base":{"size":1,"mtime":null},"blockSize":4096,"reuse":[1],"whole":"' +
    "0".repeat(32) + '"}',
    '{"op":"PUT","path":"a","size":9,"base":{"size":1,"mtime":null},"blockSize":4096,"reuse":[' +
    Array(2050).fill(1).join() + '],"whole":"' + "0".repeat(32) + '"}',
    '{"op":"PUT","path":"a","size":9,"base":{"size":1,"mtime":null},"blockSize":4096,"reuse":[],"whole":"XYZ"}',
    '{"op":"PUT","path":"a","size":null,"base":{"size":1,"mtime":null},"blockSize":4096,"reuse":[],"whole":"' +
    "0".repeat(32) + '"}',
    '{"op":"PUT","path":"a","size":9,"base":1,"blockSize":4096,"reuse":[],"whole":"' +
    "0".repeat(32) + '"}',
    '{"op":"FORMAT","path":"/"}',
    // Found by the property test: an object op whose toString is not a function.
    '{"op":{"toString":false},"path":""}',
    '{"op":["GET"],"path":"a"}',
    '{"op":"get","path":"a"}',
    '{"op":1}',
    '{"path":"a"}',
    "{}",
  ];
  for (const c of cases) {
    throws(() => decodeRequest(json(c)), ProtocolError, c);
  }
  throws(
    () => decodeRequest(json('{"op":"X\\u001b[31m"}')),
    (e) => e instanceof ProtocolError && e.message === 'Unknown request "X?[31m"',
  );
  throws(
    () => decodeRequest(json('{"id":15}')),
    (e) => e instanceof ProtocolError && e.message === 'Malformed request: "op" is missing',
  );
});

Deno.test("protocol: decodeReply() keeps success fields and types error replies", () => {
  deepEqual(decodeReply(json('{"ok":true,"cwd":"/a"}')), { ok: true, cwd: "/a" });
  deepEqual(decodeReply(json('{"ok":false,"code":"NOT_FOUND","message":"No"}')), {
    ok: false,
    code: "NOT_FOUND",
    message: "No",
  });
  // An unknown code becomes SERVER; control characters in a message are made harmless.
  deepEqual(decodeReply(json('{"ok":false,"code":"WAT","message":"a\\u001b[2Jb\\nc"}')), {
    ok: false,
    code: "SERVER",
    message: "a [2Jb c",
  });
  const long = decodeReply(json(`{"ok":false,"code":"DENIED","message":"${"x".repeat(5000)}"}`));
  ok(!long.ok && long.message.length === 1000);
  deepEqual(decodeReply(json('{"ok":false}')), {
    ok: false,
    code: "SERVER",
    message: "Unknown error",
  });
});

Deno.test("protocol: decodeReply() rejects a reply without a boolean ok", () => {
  for (const c of ['{"ok":"true"}', "{}", "[]", "nope", '{"ok":1}']) {
    throws(() => decodeReply(json(c)), ProtocolError, c);
  }
});

Deno.test("protocol: encodeMessage() is compact UTF-8 JSON", () => {
  deepEqual(
    new TextDecoder().decode(encodeMessage({ op: "STAT", path: "é" })),
    '{"op":"STAT","path":"é"}',
  );
});

Deno.test("protocol: the resume and AUTH fields are checked", () => {
  const hash = "Ab".repeat(32);
  // Hashes are taken in either case and kept in lowercase.
  deepEqual(
    decodeRequest(json(`{"op":"PUT","path":"a","size":3,"resume":true,"sha256":"${hash}"}`)),
    { op: "PUT", path: "a", size: 3, overwrite: true, resume: true, sha256: hash.toLowerCase() },
  );
  deepEqual(decodeRequest(json('{"op":"PUT","path":"a","size":3,"resume":false}')), {
    op: "PUT",
    path: "a",
    size: 3,
    overwrite: true,
  });
  deepEqual(decodeRequest(json('{"op":"GET","path":"a","offset":0}')), {
    op: "GET",
    path: "a",
    offset: 0,
  });
  for (
    const c of [
      '{"op":"AUTH"}',
      '{"op":"AUTH","token":5}',
      '{"op":"GET","path":"a","offset":-1}',
      '{"op":"GET","path":"a","offset":"5"}',
      '{"op":"GET","path":"a","offset":1.5}',
      '{"op":"GET","path":"a","expect":5}',
      '{"op":"GET","path":"a","expect":{"mtime":1}}',
      // expect.mtime is required (null says "unknown"), and a time a Date holds.
      '{"op":"GET","path":"a","expect":{"size":1}}',
      `{"op":"GET","path":"a","expect":{"size":1,"mtime":${MAX_TIME_MS + 1}}}`,
      '{"op":"GET","path":"a","expect":{"size":1,"mtime":"x"}}',
      '{"op":"GET","path":"a","expect":{"size":1,"mtime":1,"sha256":"abc"}}',
      // A resumable upload needs its size and its whole hash.
      '{"op":"PUT","path":"a","resume":true,"sha256":"' + hash + '"}',
      '{"op":"PUT","path":"a","size":3,"resume":true}',
      '{"op":"PUT","path":"a","size":3,"resume":"yes","sha256":"' + hash + '"}',
      '{"op":"PUT","path":"a","size":3,"resume":true,"sha256":"' + hash.slice(1) + 'g"}',
    ]
  ) {
    throws(() => decodeRequest(json(c)), ProtocolError, c);
  }
});

Deno.test("protocol: decodeRequest() keeps a PUT's mtime and mode (put -p)", () => {
  deepEqual(
    decodeRequest(json('{"op":"PUT","path":"a","size":1,"mtime":-86400000,"mode":420}')),
    { op: "PUT", path: "a", size: 1, overwrite: true, mtime: -86400000, mode: 0o644 },
  );
});

Deno.test("protocol: a PUT's mtime and expect.mtime are integers within MAX_TIME_MS either way", () => {
  for (const mtime of [-1, 0, MAX_TIME_MS, -MAX_TIME_MS]) {
    const put = decodeRequest(json(`{"op":"PUT","path":"a","size":1,"mtime":${mtime}}`));
    deepEqual(put.op === "PUT" && put.mtime, mtime);
    const get = decodeRequest(json(`{"op":"GET","path":"a","expect":{"size":1,"mtime":${mtime}}}`));
    deepEqual(get.op === "GET" && get.expect?.mtime, mtime);
  }
  deepEqual(
    decodeRequest(json('{"op":"GET","path":"a","expect":{"size":1,"mtime":null}}')),
    { op: "GET", path: "a", expect: { size: 1, mtime: null } },
  );
  for (const mtime of [MAX_TIME_MS + 1, -MAX_TIME_MS - 1, 1e20, -1e20, 0.5]) {
    throws(
      () => decodeRequest(json(`{"op":"PUT","path":"a","size":1,"mtime":${mtime}}`)),
      (e) => e instanceof ProtocolError && e.message.includes(`at most ${MAX_TIME_MS}`),
      String(mtime),
    );
  }
});

Deno.test("protocol: decodeRequest() refuses what JSON.parse lets through, with a clear message", () => {
  const cases: [string | Uint8Array, string][] = [
    ['{"op":"GET","path":"a","path":"b"}', 'has the key "path" twice'],
    ['{"op":"DELETE","op":"STAT","path":"a"}', 'has the key "op" twice'],
    ['{"op":"PWD","__proto__":{"ok":1}}', 'has a key named "__proto__"'],
    ['{"op":"CD","path":"\\ud800"}', "has a lone surrogate (U+D800)"],
    ['{"op":"AUTH","token":"t\\udc00"}', "has a lone surrogate (U+DC00)"],
    ['{"op":"PWD","x":[[1]]}', "nested deeper than 2 levels"],
    ['{"op":"GET","path":"a","expect":{"size":1,"mtime":1,"x":{}}}', "nested deeper than 2 levels"],
    [new Uint8Array([0xef, 0xbb, 0xbf, ...json('{"op":"PWD"}')]), "starts with a byte order mark"],
  ];
  for (const [c, message] of cases) {
    throws(
      () => decodeRequest(typeof c === "string" ? json(c) : c),
      (e) => e instanceof ProtocolError && e.message.startsWith(`Malformed request: it ${message}`),
      String(c),
    );
  }
  // A lone surrogate would become U+FFFD in UTF-8: two different requests, one file.
  deepEqual(decodeRequest(json('{"op":"CD","path":"\\ufffd"}')), { op: "CD", path: "\ufffd" });
});
