/**
 * What one echo worker does, apart from being a worker: open a listener on
 * the shared port with `SO_REUSEPORT` (so that the kernel spreads new
 * connections over all the workers' listeners), accept up to its share of
 * connections, echo each one, and count them in shared memory. The worker
 * entry `echo_worker.ts` wires it to the worker's messages; a test can
 * drive it on its own thread.
 *
 * @module
 */

import { createSecureContext, type SecureContext } from "node:tls";
import { TlsError } from "../errors.ts";
import { goneBeforeAccept } from "../transport/close.ts";
import { serverTls } from "../transport/listen.ts";
import type { TransportConn } from "../transport/types.ts";
import { EchoCounters } from "./counters.ts";
import { echoConnection, isDisconnect } from "./echo_connection.ts";
import type { StartCommand, WorkerCommand, WorkerReport } from "./worker_messages.ts";

/** Milliseconds a TLS client has for its handshake. */
const TLS_HANDSHAKE_MS = 10_000;

/**
 * Serves echo connections on behalf of the main thread. Commands come in
 * through {@linkcode EchoWorker.handle}; reports go out through the
 * callback given to the constructor.
 *
 * @example Driving a worker loop on the test's own thread
 * ```ts
 * import { EchoCounters } from "./counters.ts";
 * import { EchoWorker } from "./worker_loop.ts";
 * import type { WorkerReport } from "./worker_messages.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = probe.addr.port;
 * probe.close();
 * const reports: WorkerReport[] = [];
 * const counters = new EchoCounters();
 * const worker = new EchoWorker((r) => reports.push(r));
 * worker.handle({
 *   type: "start", id: 1, hostname: "127.0.0.1", port, maxConnections: 10,
 *   bufferSize: 1024, tcpBacklog: 16, counters: counters.buffer,
 * });
 * deepEqual(reports, [{ type: "listening" }]);
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port });
 * await conn.write(new Uint8Array([1, 2, 3]));
 * const reply = new Uint8Array(3);
 * deepEqual(await conn.read(reply), 3);
 * conn.close();
 * await worker.stop();
 * deepEqual(reports.at(-1), { type: "stopped" });
 * deepEqual(counters.read().bytes, 3);
 * ```
 */
export class EchoWorker {
  #report: (report: WorkerReport) => void;
  #listener: Deno.TcpListener | undefined;
  #conns = new Set<TransportConn>();
  #serving = new Set<Promise<void>>();
  #accepting: Promise<void> | undefined;
  #slotFreed: (() => void) | undefined;
  #stopping = false;

  /** @param report Receives the worker's reports, in order. */
  constructor(report: (report: WorkerReport) => void) {
    this.#report = report;
  }

  /**
   * Handles one command from the main thread. `crash` is left to the
   * worker entry (throwing is its job, not the loop's).
   *
   * @param command A `start` or a `stop`.
   */
  handle(command: WorkerCommand): void {
    if (command.type === "start") this.#start(command);
    else if (command.type === "stop") void this.stop();
  }

  /**
   * Closes the listener and every connection, waits until every
   * connection's task has ended, and reports `stopped`.
   *
   * @returns When everything is closed.
   */
  async stop(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      this.#listener?.close();
      this.#slotFreed?.();
      for (const conn of this.#conns) conn.close();
      this.#conns.clear();
    }
    await this.#accepting;
    await Promise.all(this.#serving);
    this.#report({ type: "stopped" });
  }

  #start(command: StartCommand): void {
    if (this.#listener || this.#stopping) return;
    try {
      this.#listener = Deno.listen({
        hostname: command.hostname,
        port: command.port,
        reusePort: true,
        tcpBacklog: command.tcpBacklog,
      });
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      this.#report({ type: "failed", name: e.name, message: e.message });
      return;
    }
    this.#report({ type: "listening" });
    this.#accepting = this.#acceptLoop(this.#listener, command);
  }

  async #acceptLoop(listener: Deno.TcpListener, command: StartCommand): Promise<void> {
    const counters = new EchoCounters(command.counters);
    let tls: SecureContext | undefined;
    if (command.tls !== undefined) {
      // Made once, for every connection of this worker.
      tls = createSecureContext({ cert: command.tls.cert, key: command.tls.key });
    }
    while (!this.#stopping) {
      if (this.#conns.size >= command.maxConnections) {
        // At the cap, stop accepting: new clients wait in the listen queue
        // until a connection ends.
        await new Promise<void>((resolve) => this.#slotFreed = resolve);
        this.#slotFreed = undefined;
        continue;
      }
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (this.#stopping && e instanceof Deno.errors.BadResource) return;
        // One connection reset in the queue (any peer can do it at will): the next is accepted.
        if (goneBeforeAccept(e)) continue;
        throw e;
      }
      if (this.#stopping) {
        conn.close();
        return;
      }
      conn.setNoDelay(true);
      let served: TransportConn = conn;
      if (tls !== undefined) {
        try {
          served = serverTls(conn, tls);
        } catch (e) {
          conn.close();
          if (e instanceof TlsError) continue;
          throw e;
        }
      }
      const task = this.#serve(served, counters, command.bufferSize);
      this.#serving.add(task);
      void task.finally(() => this.#serving.delete(task));
    }
  }

  async #serve(conn: TransportConn, counters: EchoCounters, bufferSize: number): Promise<void> {
    this.#conns.add(conn);
    counters.opened();
    try {
      if (conn.handshake !== undefined) {
        // A TLS client has 10 s for its handshake; one that fails it is simply closed.
        const timer = setTimeout(() => conn.close(), TLS_HANDSHAKE_MS);
        try {
          await conn.handshake();
        } catch {
          return;
        } finally {
          clearTimeout(timer);
        }
      }
      await echoConnection(conn, { bufferSize, onChunk: (n) => counters.echoed(n) });
    } catch (e) {
      if (!isDisconnect(e)) throw e;
    } finally {
      if (this.#conns.delete(conn)) conn.close();
      counters.closed();
      this.#slotFreed?.();
    }
  }
}
