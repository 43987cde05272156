/**
 * An rsync daemon for the benchmarks (scripts/bench_tree.ts and
 * scripts/bench_sync.ts): bound to 127.0.0.1 on a free port, with a
 * read-only module `src` and a writable module `out`, running as the
 * current user.
 *
 * @module
 */

import { freePort, stopChild, waitForPort } from "./bench_setup.ts";

/** A running daemon, as {@linkcode startRsyncd} returns it. */
export interface RunningRsyncd {
  /** `rsync://127.0.0.1:PORT`: modules go after it (`${url}/src/`). */
  url: string;
  /** The daemon's process id (for /proc readings). */
  pid: number;
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `rsync --daemon --no-detach` with a configuration written into
 * `dir`: module `src` is the folder `src` (read only), module `out` the
 * folder `out` (writable).
 *
 * @param dir Where the configuration and pid file go.
 * @param src The read-only module's folder.
 * @param out The writable module's folder.
 * @returns The daemon, once it listens.
 *
 * @example
 * ```ts ignore
 * import { startRsyncd } from "./bench_rsyncd.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const rsyncd = await startRsyncd(dir, `${dir}/src`, `${dir}/out`);
 * console.log(rsyncd.url); // rsync://127.0.0.1:PORT
 * await rsyncd.stop();
 * ```
 */
export async function startRsyncd(dir: string, src: string, out: string): Promise<RunningRsyncd> {
  const port = freePort();
  const config = `${dir}/rsyncd.conf`;
  const id = (flag: string) =>
    new TextDecoder().decode(new Deno.Command("id", { args: [flag] }).outputSync().stdout).trim();
  await Deno.writeTextFile(
    config,
    [
      "use chroot = no",
      // As root the daemon would otherwise become nobody, who cannot write here.
      `uid = ${id("-u")}`,
      `gid = ${id("-g")}`,
      `pid file = ${dir}/rsyncd.pid`,
      `[src]\npath = ${src}\nread only = yes`,
      `[out]\npath = ${out}\nread only = no`,
      "",
    ].join("\n"),
  );
  const child = new Deno.Command("rsync", {
    args: [
      "--daemon",
      "--no-detach",
      `--config=${config}`,
      `--port=${port}`,
      "--address=127.0.0.1",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitForPort(port);
  return {
    url: `rsync://127.0.0.1:${port}`,
    pid: child.pid,
    stop: stopChild(child),
  };
}
