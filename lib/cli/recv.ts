/**
 * `bftp recv`: receives what one `bftp send` streams over a one-shot TCP
 * pipe, into a file (kept only when its checksum checks out) or stdout.
 *
 * @module
 */

import { basename } from "../local_path.ts";
import { isSpecialDestination, type LocalOutput, openOutput } from "../local_file/mod.ts";
import { ConnectionError, LocalIoError, localIoError } from "../errors.ts";
import type { ByteWriter } from "../framing/types.ts";
import { receivePipe } from "../pipe/pipe.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";
import { openPipeEnd, parsePipeArgs, PIPE_OPTIONS_HELP, pipeProgress } from "./pipe_end.ts";

const HELP = `Usage: bftp recv [FILE|-] --listen PORT [--host H] [options]
       bftp recv [FILE|-] HOST:PORT [options]

Receives one stream from "bftp send" into FILE (default "-": stdout). One end
listens, the other connects, either way round. FILE is written as a
temporary file beside it and renamed into place only when the checksum the
sender chose (XXH3-128 or SHA-256) checks out: on any failure there is no
FILE (an existing one is left as it was). To stdout the bytes stream as they
come; a failure is then told by the exit code.

Exit codes: 0 received and verified, 4 the stream was cut or the connection
failed, 5 the peer is not a bftp sender (or uses a checksum not taken),
6 the checksum (or the size) does not match, 3 FILE cannot be written,
7 timed out, 2 a bad command line, 130 interrupted (no FILE left behind).

${PIPE_OPTIONS_HELP}

Examples:
  bftp recv 192.0.2.7:9000 | tar x  # from: tar c dir | bftp send --listen 9000
  bftp recv --listen 9000 backup.img  # from: bftp send backup.img HOST:9000

The wire format is in docs/PIPE.md.`;

const NO_FOLDER = { notFound: "its folder does not exist" };

/** Opens FILE: in place (a FIFO, a device), or the temporary file beside it. */
async function openFile(dest: string): Promise<LocalOutput> {
  // Names the temporary beside them cannot tell: only the landing would fail, after the stream.
  if (dest === "") throw new LocalIoError('Cannot write "": an empty name');
  if (dest.endsWith("/")) {
    throw new LocalIoError(`Cannot write "${dest}": a file's name cannot end in "/"`);
  }
  if (!(await isSpecialDestination(dest))) {
    try {
      if ((await Deno.stat(dest)).isDirectory) throw new Deno.errors.IsADirectory();
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw localIoError("write", dest, e, NO_FOLDER);
    }
  }
  return await openOutput(dest, NO_FOLDER);
}

/** The `recv` subcommand. */
export const recvCommand: Command = {
  name: "recv",
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { file, end, quiet, checksums } = parsePipeArgs(args);
    // Fail on an unwritable FILE before the sender starts streaming.
    const temp = file === "-" ? undefined : await openFile(file);
    let kept = false;
    try {
      using conn = await openPipeEnd(end, io);
      // A failed sink (full disk, closed stdout) stops the transfer at once.
      let sinkError: unknown = undefined;
      const sinkFailed = (e: unknown) => {
        sinkError ??= e;
        conn.close();
        return Promise.reject(e);
      };
      const sink: ByteWriter = temp === undefined
        ? {
          write: (p) => {
            try {
              return io.stdout.write(p).catch(sinkFailed);
            } catch (e) {
              // The console's writer may throw before it returns a promise.
              return sinkFailed(e);
            }
          },
        }
        // A FIFO's reader sets the pace (an in-place write waits for it); a file takes the fast
        // synchronous write.
        : { write: (p) => temp.write(p).catch(sinkFailed) };
      const stop = () => conn.close();
      io.signal.addEventListener("abort", stop);
      const progress = pipeProgress(io, quiet, file === "-" ? "stdout" : basename(file), null);
      try {
        await receivePipe(conn, sink, { onProgress: progress.onProgress, checksums });
        progress.done();
      } catch (e) {
        if (sinkError !== undefined) throw sinkError;
        if (io.signal.aborted) throw new ConnectionError("Interrupted", { cause: e });
        throw e;
      } finally {
        io.signal.removeEventListener("abort", stop);
      }
      await temp?.commit();
      kept = true;
      return 0;
    } finally {
      if (temp !== undefined && !kept) {
        await temp.discard().catch(() => {});
      }
    }
  },
};
