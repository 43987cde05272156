/**
 * The echo worker's entry: the script each Web Worker of the echo server
 * runs. It hands the main thread's commands to an {@linkcode EchoWorker},
 * and turns any uncaught error into a `fatal` report followed by the
 * worker's end, so that the main thread can replace it (its own clients'
 * connections close with it; the other workers are not touched).
 *
 * `deno compile` does not see this file through imports (server.ts loads
 * it by URL): the compile script must pass
 * `--include lib/echo/echo_worker.ts` (see docs/THREADS.md).
 *
 * Not meant to be imported: it installs handlers on the worker's global
 * scope.
 *
 * @module
 */

import { EchoWorker } from "./worker_loop.ts";
import type { WorkerCommand, WorkerReport } from "./worker_messages.ts";

/** The parts of a worker's global scope this entry uses. */
interface WorkerGlobal {
  postMessage(report: WorkerReport): void;
  close(): void;
  addEventListener(type: string, listener: (event: Event) => void): void;
}

const scope = globalThis as unknown as WorkerGlobal;
let dying = false;

function die(reason: unknown): void {
  if (dying) return;
  dying = true;
  const message = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  scope.postMessage({ type: "fatal", message });
  scope.close();
}

scope.addEventListener("error", (event) => {
  event.preventDefault();
  const e = event as ErrorEvent;
  die(e.error ?? e.message);
});
scope.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  die((event as PromiseRejectionEvent).reason);
});

const worker = new EchoWorker((report) => {
  scope.postMessage(report);
  if (report.type === "stopped" || report.type === "failed") scope.close();
});

scope.addEventListener("message", (event) => {
  const command = (event as MessageEvent<WorkerCommand>).data;
  if (command.type === "crash") {
    // Test hook: an uncaught error, exactly as a bug would raise one.
    setTimeout(() => {
      throw new Error("Crashed on purpose (test hook)");
    }, 0);
    return;
  }
  worker.handle(command);
});
