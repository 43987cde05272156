/**
 * Real HTTP servers that no one here wrote, run as child processes on a
 * loopback port the OS chooses: Python's `http.server`, and `openssl
 * s_server -WWW` with a self-signed certificate that `openssl req` makes.
 * Each is stopped (and its exit awaited) by `close()`.
 *
 * @module
 */

import { selfSigned } from "../transport/certs.ts";
import { requirePeers } from "../peers.ts";

/** A server child process and where it listens. */
export class ChildServer implements AsyncDisposable {
  /** The port it listens on. */
  readonly port: number;
  #child: Deno.ChildProcess;
  #drain: Promise<void>;

  private constructor(child: Deno.ChildProcess, port: number, drain: Promise<void>) {
    this.#child = child;
    this.port = port;
    this.#drain = drain;
  }

  /**
   * Starts a child and waits until its stdout announces the port.
   *
   * @param command The program.
   * @param args Its arguments.
   * @param cwd Its working folder.
   * @param portPattern Finds the port in a stdout line (group 1).
   * @returns The running server.
   */
  static async start(
    command: string,
    args: string[],
    cwd: string,
    portPattern: RegExp,
  ): Promise<ChildServer> {
    const child = new Deno.Command(command, {
      args,
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    let port: number | undefined;
    try {
      const deadline = setTimeout(() => child.kill("SIGKILL"), 10000);
      try {
        while (port === undefined) {
          const { value, done } = await lines.read();
          if (done) throw new Error(`${command} exited before listening: ${JSON.stringify(text)}`);
          text += value;
          const match = portPattern.exec(text);
          if (match) port = Number(match[1]);
        }
      } finally {
        clearTimeout(deadline);
      }
    } catch (e) {
      child.kill("SIGKILL");
      await lines.cancel();
      await child.status;
      throw e;
    }
    const drain = (async () => {
      while (!(await lines.read()).done) {
        // Keep the pipe empty so the server never blocks on stdout.
      }
    })();
    return new ChildServer(child, port, drain);
  }

  /**
   * A URL on this server.
   *
   * @param scheme `http` or `https`.
   * @param path The path, starting with `/`.
   * @param host The host as it goes in a URL.
   * @returns The URL.
   */
  url(scheme: "http" | "https", path: string, host = "127.0.0.1"): string {
    return `${scheme}://${host}:${this.port}${path}`;
  }

  /** Stops the server and waits for it to exit. */
  async close(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch (e) {
      if (!(e instanceof TypeError)) throw e; // already exited
    }
    await this.#child.status;
    await this.#drain;
  }

  /** Same as {@linkcode ChildServer.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Starts `python3 -m http.server` serving `dir`.
 *
 * @param dir The folder to serve.
 * @param bind The address to listen on.
 * @returns The running server.
 */
export function startPythonServer(dir: string, bind = "127.0.0.1"): Promise<ChildServer> {
  requirePeers("python3");
  return ChildServer.start(
    "python3",
    ["-u", "-m", "http.server", "0", "--bind", bind, "--directory", dir],
    dir,
    /Serving HTTP on \S+ port (\d+)/,
  );
}

/** A self-signed certificate and its key, as files. */
export interface SelfSigned {
  /** The certificate (PEM), valid for 127.0.0.1, ::1 and localhost. */
  certFile: string;
  /** The private key (PEM). */
  keyFile: string;
}

/**
 * Makes a self-signed certificate with `openssl req`, through
 * {@linkcode selfSigned}.
 *
 * @param dir Where to write the certificate and its key.
 * @param options `markedAsCa`: leave openssl's default (CA:TRUE) instead of CA:FALSE.
 * @returns The two paths.
 */
export async function makeSelfSigned(
  dir: string,
  options: { markedAsCa?: boolean } = {},
): Promise<SelfSigned> {
  // openssl's own default marks a self-signed certificate as a CA.
  const cert = await selfSigned(dir, "server", { ca: options.markedAsCa === true });
  return { certFile: cert.certPath, keyFile: cert.keyPath };
}

/**
 * Starts `openssl s_server -WWW`, which serves the files of `dir` over
 * HTTPS (HTTP/1.0, body ended by close).
 *
 * @param dir The folder to serve.
 * @param cert The certificate and key.
 * @returns The running server.
 */
export function startOpensslServer(dir: string, cert: SelfSigned): Promise<ChildServer> {
  requirePeers("openssl");
  return ChildServer.start(
    "openssl",
    ["s_server", "-WWW", "-accept", "0", "-cert", cert.certFile, "-key", cert.keyFile],
    dir,
    /ACCEPT \S*:(\d+)/,
  );
}
