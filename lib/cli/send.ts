/**
 * `bftp send`: streams one file, or stdin, to a `bftp recv` at the other
 * end of a one-shot TCP pipe, with a checksum the receiver checks.
 *
 * @module
 */

import { basename } from "../local_path.ts";
import { ConnectionError, localIoError } from "../errors.ts";
import type { ByteReader } from "../framing/types.ts";
import { sendPipe } from "../pipe/pipe.ts";
import type { Command } from "./command.ts";
import { type CliIo, endUnlessInterrupted } from "./io.ts";
import { openPipeEnd, parsePipeArgs, PIPE_OPTIONS_HELP, pipeProgress } from "./pipe_end.ts";

const HELP = `Usage: bftp send [FILE|-] --listen PORT [--host H] [options]
       bftp send [FILE|-] HOST:PORT [options]

Sends FILE (default "-": stdin) to one "bftp recv". One end listens, the
other connects, either way round. A regular file goes with its size, a
stream (stdin, a FIFO) in chunks; either way a checksum follows (XXH3-128;
SHA-256 with --checksum sha256, which a bftp from before pipe version 2 also
takes), and the receiver fails (exit 6) when it does not match or (exit 4) when
the stream is cut. Nothing comes back: send exits 0 once everything is sent.

Exit codes: 0 everything sent, 4 the connection failed or broke (the receiver
went away), 3 FILE cannot be read, 7 timed out, 2 a bad command line,
130 interrupted.

${PIPE_OPTIONS_HELP}

Examples:
  tar c dir | bftp send --listen 9000  # then: bftp recv HOST:9000 | tar x
  bftp send backup.img 192.0.2.7:9000  # to: bftp recv --listen 9000 backup.img

The wire format is in docs/PIPE.md.`;

/** The `send` subcommand. */
export const sendCommand: Command = {
  name: "send",
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { file, end, quiet, checksums } = parsePipeArgs(args);
    let source: ByteReader = endUnlessInterrupted(io.stdin, io.signal);
    let size: number | null = null;
    let opened: Deno.FsFile | undefined;
    if (file !== "-") {
      try {
        opened = await Deno.open(file, { read: true });
        const info = await opened.stat();
        if (info.isDirectory) throw new Deno.errors.IsADirectory();
        // A FIFO or a device has no size to announce: it goes chunked.
        size = info.isFile ? info.size : null;
      } catch (e) {
        opened?.close();
        throw localIoError("read", file, e, {
          isFolder: 'is a folder (send a tar stream: "tar c DIR | bftp send ...")',
        });
      }
      source = opened;
    }
    try {
      using conn = await openPipeEnd(end, io);
      const stop = () => conn.close();
      io.signal.addEventListener("abort", stop);
      try {
        const progress = pipeProgress(io, quiet, file === "-" ? "stdin" : basename(file), size);
        await sendPipe(conn, source, {
          size,
          onProgress: progress.onProgress,
          label: file === "-" ? "stdin" : file,
          checksum: checksums?.[0],
        });
        progress.done();
      } catch (e) {
        if (io.signal.aborted) throw new ConnectionError("Interrupted", { cause: e });
        throw e;
      } finally {
        io.signal.removeEventListener("abort", stop);
      }
      return 0;
    } finally {
      opened?.close();
    }
  },
};
