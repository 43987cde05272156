/**
 * What a hostile BFTP server does to a client, scenario by scenario, for
 * the library test (tests/client/hostile_server_test.ts) and the end-to-end
 * one (tests/e2e/hostile_server_test.ts). Each scenario scripts the answer
 * to a GET (or a LIST) byte by byte, and says how the client must refuse
 * it: which error, which exit code.
 *
 * @module
 */

import {
  BftpError,
  ConnectionError,
  type ErrorCode,
  IntegrityError,
  ProtocolError,
  RemoteError,
} from "../../lib/errors.ts";
import { frame, hexBytes, type Script, type ScriptedRequest } from "../e2e/fake_bftp_server.ts";
import { concat } from "../framing/helpers.ts";
import { sha256 } from "../helpers.ts";

const encoder = new TextEncoder();

/** The file the hostile server pretends to serve. */
export const CONTENT: Uint8Array = new Uint8Array(50_000).map((_, i) => (i * 7919) & 0xff);
const N = CONTENT.byteLength;
const OTHER = CONTENT.map((b) => b ^ 0x55);

/** A hostile answer and how the client must take it. */
export interface HostileScenario {
  /** What the server does. */
  name: string;
  /** Answers GET (after a fair STAT); other requests are refused. */
  get: Script;
  /** The hello frame, when not a fair one. */
  hello?: Uint8Array;
  /** The error class the library throws. */
  error: new (...args: never[]) => BftpError;
  /** Its code. */
  code: ErrorCode;
  /** The documented exit code of `bftp get`. */
  exitCode: number;
}

const ok = (fields: Record<string, unknown>) => frame({ ok: true, ...fields });
const sized = (n: number | bigint) => hexBytes(n, 16);
const trailer = (data: Uint8Array) => encoder.encode(sha256(data));
const chunk = (data: Uint8Array) => concat(hexBytes(data.byteLength, 8), data);
const CHUNKED = encoder.encode("ffffffffffffffff");
const END = encoder.encode("00000000");

/** Every GET scenario. */
export const GET_SCENARIOS: HostileScenario[] = [
  {
    name: "more bytes than announced: a body header larger than the reply's size",
    get: async (_req, send) => {
      const more = concat(CONTENT, new Uint8Array(100));
      await send(concat(ok({ size: N, mtime: 0 }), sized(more.byteLength), more, trailer(more)));
    },
    error: ProtocolError,
    code: "PROTOCOL",
    exitCode: 5,
  },
  {
    name: "more bytes than announced: extra bytes before the trailer",
    get: async (_req, send) => {
      await send(concat(ok({ size: N, mtime: 0 }), sized(N), CONTENT, new Uint8Array(40)));
      await send(trailer(concat(CONTENT, new Uint8Array(40))));
    },
    error: IntegrityError,
    code: "INTEGRITY",
    exitCode: 6,
  },
  {
    name: "more bytes than announced: a chunked body that goes on past the size",
    get: async (_req, send) => {
      await send(concat(ok({ size: N, mtime: 0 }), CHUNKED, chunk(CONTENT)));
      // Then more, for as long as the client reads (it must stop at once).
      for (let i = 0; i < 64; i++) await send(chunk(new Uint8Array(64 * 1024)));
      return "close" as const;
    },
    error: ProtocolError,
    code: "PROTOCOL",
    exitCode: 5,
  },
  {
    name: "fewer bytes than announced, then the connection closes",
    get: async (_req, send) => {
      const half = CONTENT.subarray(0, N / 2);
      await send(concat(ok({ size: N, mtime: 0 }), sized(N), half, trailer(half)));
      return "close" as const;
    },
    error: ConnectionError,
    code: "CONNECTION",
    exitCode: 4,
  },
  {
    name: "fewer bytes than announced: a body header smaller than the reply's size",
    get: async (_req, send) => {
      const less = CONTENT.subarray(0, N - 10);
      await send(concat(ok({ size: N, mtime: 0 }), sized(N - 10), less, trailer(less)));
    },
    error: ProtocolError,
    code: "PROTOCOL",
    exitCode: 5,
  },
  {
    name: "fewer bytes than announced: a chunked body that ends early",
    get: async (_req, send) => {
      const less = CONTENT.subarray(0, N - 10);
      await send(concat(ok({ size: N, mtime: 0 }), CHUNKED, chunk(less), END, trailer(less)));
    },
    error: IntegrityError,
    code: "INTEGRITY",
    exitCode: 6,
  },
  {
    name: "a wrong hash",
    get: async (_req, send) => {
      await send(concat(ok({ size: N, mtime: 0 }), sized(N), CONTENT, trailer(OTHER)));
    },
    error: IntegrityError,
    code: "INTEGRITY",
    exitCode: 6,
  },
  {
    name: "a malformed trailer (not hex)",
    get: async (_req, send) => {
      await send(
        concat(ok({ size: N, mtime: 0 }), sized(N), CONTENT, encoder.encode("z".repeat(64))),
      );
    },
    error: IntegrityError,
    code: "INTEGRITY",
    exitCode: 6,
  },
  {
    name: "a trailer cut short by the connection closing",
    get: async (_req, send) => {
      await send(
        concat(ok({ size: N, mtime: 0 }), sized(N), CONTENT, trailer(CONTENT).subarray(0, 10)),
      );
      return "close" as const;
    },
    error: ConnectionError,
    code: "CONNECTION",
    exitCode: 4,
  },
  {
    name: "a negative size in the reply",
    get: async (_req, send) => {
      await send(ok({ size: -1, mtime: 0 }));
      return "close" as const;
    },
    error: ProtocolError,
    code: "PROTOCOL",
    exitCode: 5,
  },
  {
    name: "a negative size in the body header",
    get: async (_req, send) => {
      await send(concat(ok({ size: N, mtime: 0 }), encoder.encode("-000000000000001"), CONTENT));
      return "close" as const;
    },
    error: ProtocolError,
    code: "PROTOCOL",
    exitCode: 5,
  },
  {
    name: "an enormous size in the reply (2^64, past what JSON numbers hold exactly)",
    get: async (_req, send) => {
      await send(ok({ size: 2 ** 64, mtime: 0 }));
      return "close" as const;
    },
    error: ProtocolError,
    code: "PROTOCOL",
    exitCode: 5,
  },
  {
    name: "an enormous size in the body header (0xfffffffffffffff0)",
    get: async (_req, send) => {
      await send(concat(ok({ size: N, mtime: 0 }), encoder.encode("fffffffffffffff0"), CONTENT));
      return "close" as const;
    },
    error: ProtocolError,
    code: "PROTOCOL",
    exitCode: 5,
  },
  {
    name: "an enormous size larger than any disk (2^53 - 1), then the connection closes",
    get: async (_req, send) => {
      const size = Number.MAX_SAFE_INTEGER;
      await send(concat(ok({ size, mtime: 0 }), sized(size), CONTENT, CONTENT));
      return "close" as const;
    },
    error: ConnectionError,
    code: "CONNECTION",
    exitCode: 4,
  },
  {
    name: "a reply frame announcing 4 GiB",
    get: async (_req, send) => {
      await send(encoder.encode('ffffffff{"ok":true}'));
      return "close" as const;
    },
    error: ProtocolError,
    code: "PROTOCOL",
    exitCode: 5,
  },
  {
    name: "a reply that is not JSON",
    get: async (_req, send) => {
      const junk = encoder.encode("<html>not bftp</html>");
      await send(concat(hexBytes(junk.byteLength, 8), junk));
    },
    error: ProtocolError,
    code: "PROTOCOL",
    exitCode: 5,
  },
  {
    name: "a reply that is an error with escape codes in its message",
    get: async (_req, send) => {
      await send(frame({ ok: false, code: "NOT_FOUND", message: "\x1b]0;evil\x07\x1b[2J gone" }));
    },
    error: RemoteError,
    code: "NOT_FOUND",
    exitCode: 10,
  },
  {
    name: "a reply with an error code no one knows",
    get: async (_req, send) => {
      await send(frame({ ok: false, code: "PWNED", message: "nope" }));
    },
    error: RemoteError,
    code: "SERVER",
    exitCode: 18,
  },
  {
    name: "a hello with another version, carrying escape codes",
    hello: frame({ ok: true, version: "\x1b]0;evil\x07", server: "\x1b[2J", readOnly: false }),
    get: () => "close",
    error: ProtocolError,
    code: "PROTOCOL",
    exitCode: 5,
  },
];

/** A fair STAT, then the scenario's GET; anything else is refused. */
export function scriptFor(scenario: HostileScenario): Script {
  return async (req: ScriptedRequest, send) => {
    if (req.op === "STAT") {
      const name = (req.path ?? "").split("/").pop() ?? "";
      await send(
        frame({ ok: true, entry: { name, type: "file", size: N, mtime: 0, mode: 0o644 } }),
      );
      return;
    }
    if (req.op === "GET") return await scenario.get(req, send);
    if (req.op === "QUIT") return;
    await send(frame({ ok: false, code: "DENIED", message: "Hostile server" }));
  };
}

/**
 * Names no folder can hold (path-like, NUL, empty): a LIST naming one is
 * not a folder's, and must stop a recursive download before it creates
 * anything.
 */
export const HOSTILE_NAMES: string[] = [
  "../x",
  "../../../../tmp/bftp-pwned",
  "/etc/passwd",
  "a/b",
  "..",
  ".",
  "",
  "a\0b",
];

/**
 * Names a folder may hold on the server's side but a request cannot carry
 * (control characters, backslashes, drive letters) or this client does not
 * make (C1 controls, its temporary names): a recursive download leaves each
 * out as a failure, creates none of them, and fetches the rest.
 */
export const UNFETCHABLE_NAMES: string[] = [
  "a\\b",
  "..\\x",
  "C:x",
  "C:\\Windows",
  "\x1b]0;evil\x07",
  "\x1b[2Jclear",
  "a\nb",
  "Icon\r",
  "a\u009bb",
  `.f.bftp-tmp-${crypto.randomUUID()}`,
];

/**
 * A LIST answer that holds `names` (as files), after fair ones.
 *
 * @param names The entries' names.
 * @param type Their type.
 * @returns The script.
 */
export function listScript(names: string[], type = "file"): Script {
  return async (req, send) => {
    if (req.op === "STAT") {
      await send(
        frame({ ok: true, entry: { name: "d", type: "dir", size: 0, mtime: 0, mode: 0o755 } }),
      );
    } else if (req.op === "LIST") {
      const entries = [
        { name: "a-fair-file", type: "file", size: N, mtime: 0, mode: 0o644 },
        ...names.map((name) => ({ name, type, size: N, mtime: 0, mode: 0o644 })),
      ];
      await send(frame({ ok: true, entries }));
    } else if (req.op === "GET") {
      await send(concat(ok({ size: N, mtime: 0 }), sized(N), CONTENT, trailer(CONTENT)));
    } else if (req.op !== "QUIT") {
      await send(frame({ ok: false, code: "DENIED", message: "Hostile server" }));
    }
  };
}
