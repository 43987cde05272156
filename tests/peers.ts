/**
 * The real peers some tests talk to (nc, socat, openssl, curl, rsync, python3,
 * tmux): `scripts/test` installs the missing ones (scripts/_peers.sh). A test
 * whose peer is still missing fails with one line naming it, never skips.
 *
 * @module
 */

/** Whether `name` is an executable file in one of PATH's folders. */
function onPath(name: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    try {
      const info = Deno.statSync(`${dir}/${name}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return true;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound) && !(e instanceof Deno.errors.PermissionDenied)) {
        throw e;
      }
    }
  }
  return false;
}

/**
 * Throws one line naming every peer of `names` that is not on PATH.
 *
 * @param names Commands the test runs, such as `"nc"` or `"socat"`.
 * @example
 * ```ts
 * import { requirePeers } from "./peers.ts";
 * requirePeers("sh");
 * ```
 */
export function requirePeers(...names: string[]): void {
  const missing = names.filter((name) => !onPath(name));
  if (missing.length === 0) return;
  throw new Error(
    `Missing test peer: ${missing.map((n) => `"${n}"`).join(", ")} ` +
      "(scripts/test installs it with apt-get unless BFTP_NO_PEER_INSTALL=1)",
  );
}
