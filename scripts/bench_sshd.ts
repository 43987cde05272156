/**
 * A throw-away OpenSSH server for the benchmarks: `/usr/sbin/sshd` on
 * 127.0.0.1 with a host key and a client key made with ssh-keygen for the
 * run, run as the current user, and the scp and sftp command lines that
 * reach it. Where sshd cannot start, says why instead.
 *
 * @module
 */

import { freePort, stopChild, waitForPort } from "./bench_setup.ts";

/** A running sshd, and how to reach it. */
export interface RunningSshd {
  ok: true;
  /** `scp -r` from `from` to `to` (a remote side is `127.0.0.1:PATH`). */
  scp(from: string, to: string): string[];
  /** `sftp` running the one batch command `command`. */
  sftp(command: string): string[];
  /** Stops the server. */
  stop(): Promise<void>;
}

/** An sshd that could not start. */
export interface MissingSshd {
  ok: false;
  /** Why, in a few words. */
  reason: string;
}

/** What {@linkcode startSshd} returns. */
export type Sshd = RunningSshd | MissingSshd;

const SSHD = "/usr/sbin/sshd";

async function keygen(path: string): Promise<void> {
  const out = await new Deno.Command("ssh-keygen", {
    args: ["-q", "-t", "ed25519", "-N", "", "-f", path],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr).trim());
}

/**
 * Starts sshd on a free port of 127.0.0.1, configured and keyed in `dir`.
 *
 * @param dir A folder for its keys, configuration and batch files (made here).
 * @returns The server, or why it could not start.
 *
 * @example
 * ```ts ignore
 * import { startSshd } from "./bench_sshd.ts";
 *
 * const sshd = await startSshd(await Deno.makeTempDir());
 * if (sshd.ok) await sshd.stop();
 * ```
 */
export async function startSshd(dir: string): Promise<Sshd> {
  try {
    await Deno.stat(SSHD);
  } catch {
    return { ok: false, reason: `no ${SSHD} (Debian's openssh-server)` };
  }
  await Deno.mkdir(dir, { recursive: true });
  try {
    await keygen(`${dir}/host`);
    await keygen(`${dir}/client`);
  } catch (e) {
    return { ok: false, reason: `ssh-keygen failed: ${(e as Error).message}` };
  }
  await Deno.copyFile(`${dir}/client.pub`, `${dir}/authorized_keys`);
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/sshd_config`,
    [
      "ListenAddress 127.0.0.1",
      `Port ${port}`,
      `HostKey ${dir}/host`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      `PidFile ${dir}/sshd.pid`,
      "StrictModes no",
      "UsePAM no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "Subsystem sftp internal-sftp",
      "",
    ].join("\n"),
  );
  // As root, sshd wants its privilege separation folder (made by the service, which is not running).
  if (Deno.uid() === 0) await Deno.mkdir("/run/sshd", { recursive: true }).catch(() => {});
  const child = new Deno.Command(SSHD, {
    args: ["-f", `${dir}/sshd_config`, "-D", "-E", `${dir}/sshd.log`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await Promise.race([
      waitForPort(port),
      child.status.then((s) => {
        throw new Error(`sshd exited (${s.code})`);
      }),
    ]);
  } catch (e) {
    const log = await Deno.readTextFile(`${dir}/sshd.log`).catch(() => "");
    try {
      child.kill("SIGTERM");
    } catch { /* exited already */ }
    await child.status;
    return { ok: false, reason: `${(e as Error).message}; ${log.trim().split("\n").at(-1) ?? ""}` };
  }
  const options = [
    "-F",
    "/dev/null",
    "-i",
    `${dir}/client`,
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "LogLevel=ERROR",
    "-P",
    String(port),
  ];
  let batches = 0;
  return {
    ok: true,
    scp: (from, to) => ["scp", "-r", "-q", ...options, from, to],
    sftp: (command) => {
      const batch = `${dir}/batch${batches++}`;
      Deno.writeTextFileSync(batch, command + "\n");
      return ["sftp", "-q", "-b", batch, ...options, "127.0.0.1"];
    },
    stop: stopChild(child),
  };
}
