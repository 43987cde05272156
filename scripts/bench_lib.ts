/**
 * What the benchmark scripts share: starting a server process and waiting
 * for the line that says it is ready.
 *
 * @module
 */

/** A server process started by {@linkcode startServerProcess}. */
export interface ServerProcess {
  /** The first stdout line that matched. */
  line: string;
  /** The process id (for /proc readings). */
  pid: number;
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Spawns `command args`, reads its stdout until a line matches `ready`,
 * and returns that line.
 *
 * @param command The program.
 * @param args Its arguments.
 * @param ready What the ready line looks like.
 * @returns The running process.
 *
 * @example
 * ```ts
 * import { startServerProcess } from "./bench_lib.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const p = await startServerProcess("bash", ["-c", "echo listening on 1; sleep 5"], /listening/);
 * deepEqual(p.line, "listening on 1");
 * await p.stop();
 * ```
 */
export async function startServerProcess(
  command: string,
  args: string[],
  ready: RegExp,
): Promise<ServerProcess> {
  const child = new Deno.Command(command, { args, stdout: "piped", stderr: "null" }).spawn();
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (true) {
      // Only whole lines: a line still arriving could hold half a port number.
      const line = text.split("\n").slice(0, -1).find((l) => ready.test(l));
      if (line !== undefined) {
        return {
          line,
          pid: child.pid,
          stop: async () => {
            child.kill("SIGTERM");
            await child.status;
          },
        };
      }
      const { value, done } = await reader.read();
      if (done) {
        await child.status;
        throw new Error(`${command} exited before it was ready`);
      }
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    reader.releaseLock();
    await child.stdout.cancel();
  }
}
