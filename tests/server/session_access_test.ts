import { deepEqual, equal, throws } from "node:assert/strict";
import { RemoteError } from "../../lib/errors.ts";
import type { Reply, Request } from "../../lib/protocol/messages.ts";
import { ServedRoot } from "../../lib/root/served_root.ts";
import { TokenSet } from "../../lib/server/auth.ts";
import { SessionAccess } from "../../lib/server/session_access.ts";
import { tempDir } from "../helpers.ts";

/** An access with the given tokens (no delay), and what it sent and logged. */
async function accessWith(dir: string, tokens?: string) {
  const root = await ServedRoot.open(dir);
  const set = tokens === undefined ? undefined : TokenSet.parse(tokens, "tokens.txt");
  const wrong: number[] = [];
  const access = new SessionAccess({
    root,
    remote: "test",
    log: () => {},
    tokens: set,
    authDelay: 0,
    onWrongToken: () => void wrong.push(1),
  });
  const sent: Reply[] = [];
  const logged: string[] = [];
  const io = {
    send: (reply: Reply) => Promise.resolve(void sent.push(reply)),
    log: (line: string) => void logged.push(line),
  };
  return { access, io, sent, logged, wrong, root };
}

Deno.test("server/session_access: the third wrong token ends the session; each is counted", async () => {
  await using tmp = await tempDir();
  const { access, io, sent, logged, wrong, root } = await accessWith(tmp.path, "rw good");
  try {
    const outcomes = [];
    for (let i = 0; i < 3; i++) {
      outcomes.push(await access.beforeAuth({ op: "AUTH", token: "bad" }, io));
    }
    deepEqual(outcomes, [true, true, false]);
    equal(wrong.length, 3);
    equal(access.authenticated, false);
    deepEqual(sent.map((r) => !r.ok && r.code), ["DENIED", "DENIED", "DENIED"]);
    equal(logged.at(-1), "closed after 3 wrong tokens");
  } finally {
    root.close();
  }
});

Deno.test("server/session_access: before a token, other requests are refused and an MPUT or an eager PUT ends the session", async () => {
  await using tmp = await tempDir();
  const { access, io, sent, root } = await accessWith(tmp.path, "rw good");
  try {
    equal(await access.beforeAuth({ op: "LIST", path: "/" }, io), true);
    const mput: Request = { op: "MPUT", paths: ["/a"], sizes: [1], overwrite: true };
    equal(await access.beforeAuth(mput, io), false);
    const put: Request = { op: "PUT", path: "/a", size: 1, overwrite: true };
    equal(await access.beforeAuth(put, io), true);
    equal(await access.beforeAuth({ ...put, eager: true }, io), false);
    deepEqual(sent.map((r) => !r.ok && r.code), ["DENIED", "DENIED", "DENIED", "DENIED"]);
    equal(await access.beforeAuth({ op: "AUTH", token: "good" }, io), true);
    deepEqual([access.authenticated, access.readOnly], [true, false]);
    throws(() => access.authAgain(), (e) => e instanceof RemoteError && e.code === "BAD_REQUEST");
  } finally {
    root.close();
  }
});

Deno.test("server/session_access: without tokens every request is heard, and AUTH tells the access", async () => {
  await using tmp = await tempDir();
  const { access, root } = await accessWith(tmp.path);
  try {
    equal(access.authenticated, true);
    deepEqual(access.authAgain(), { readOnly: false });
  } finally {
    root.close();
  }
});
