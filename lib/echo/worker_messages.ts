/**
 * The messages between the echo server's main thread and its workers: the
 * main thread sends {@linkcode WorkerCommand}s, a worker answers with
 * {@linkcode WorkerReport}s. Sockets never cross threads (Deno cannot
 * transfer them); each worker opens its own listener on the shared port.
 *
 * @example
 * ```ts
 * import type { WorkerCommand } from "./worker_messages.ts";
 * import { ok } from "node:assert/strict";
 *
 * const stop: WorkerCommand = { type: "stop" };
 * ok(stop.type === "stop");
 * ```
 *
 * @module
 */

import type { ServerTlsOptions } from "../transport/types.ts";

/** Tells a new worker where to listen and how to count. */
export interface StartCommand {
  type: "start";
  /** The worker's number, for messages. */
  id: number;
  /** The address to listen on (an IP address). */
  hostname: string;
  /** The port every worker shares (never 0). */
  port: number;
  /** The most connections this worker holds at once. */
  maxConnections: number;
  /** Each connection's buffer size. */
  bufferSize: number;
  /** The listen queue length. */
  tcpBacklog: number;
  /** The worker's {@linkcode EchoCounters} memory. */
  counters: SharedArrayBuffer;
  /** Speak TLS with this certificate and key (each client then has 10 s for its handshake). */
  tls?: ServerTlsOptions | undefined;
}

/** Asks a worker to close its listener and connections, then report `stopped`. */
export interface StopCommand {
  type: "stop";
}

/**
 * Test hook: makes the worker throw an uncaught error, as a bug would, so
 * that tests can watch it die and be replaced.
 */
export interface CrashCommand {
  type: "crash";
}

/** What the main thread sends a worker. */
export type WorkerCommand = StartCommand | StopCommand | CrashCommand;

/** The worker listens and accepts. */
export interface ListeningReport {
  type: "listening";
}

/** The worker could not listen; it does nothing more. */
export interface FailedReport {
  type: "failed";
  /** The Deno error's class name, such as `AddrInUse`. */
  name: string;
  /** The error's message. */
  message: string;
}

/** The worker closed everything after a {@linkcode StopCommand}. */
export interface StoppedReport {
  type: "stopped";
}

/** The worker met an uncaught error and is ending itself. */
export interface FatalReport {
  type: "fatal";
  /** The error's message. */
  message: string;
}

/** What a worker sends the main thread. */
export type WorkerReport = ListeningReport | FailedReport | StoppedReport | FatalReport;
