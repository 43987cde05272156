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

/**
 * Opens `count` connections to `port` on 127.0.0.1 with python3 and resets
 * each at once (`SO_LINGER` 0, then close), as a hostile or crashing peer
 * may. Synchronously: a listener of this process accepts nothing meanwhile,
 * so every one dies in its listen queue, before it is accepted (where
 * `accept()` then answers `ENOTCONN`).
 *
 * @param port The listening port.
 * @param count How many connections.
 * @example
 * ```ts ignore
 * resetConnections(2121, 20);
 * ```
 */
export function resetConnections(port: number, count: number): void {
  requirePeers("python3");
  const script = [
    "import socket, struct, sys",
    "for _ in range(int(sys.argv[2])):",
    "    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))",
    "    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))",
    "    s.close()",
  ].join("\n");
  const out = new Deno.Command("python3", {
    args: ["-c", script, String(port), String(count)],
    stdout: "null",
    stderr: "piped",
  }).outputSync();
  if (!out.success) throw new Error(`python3 failed: ${new TextDecoder().decode(out.stderr)}`);
}
