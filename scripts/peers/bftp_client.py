#!/usr/bin/env python3
"""A small BFTP client, written from docs/PROTOCOL.md alone, as a check of the spec.

Nothing of bftp's own code was read to write it: every message, size and rule
below comes from docs/PROTOCOL.md (BFTP version 2, falling back to version 1
when the server answers with one). It offers only the `sha256` body checksum,
so that it needs nothing beyond Python's standard library.

Usage:  bftp_client.py HOST PORT COMMAND [ARGS]

    ls PATH                 the names in a folder, one a line
    stat PATH               the entry, as JSON
    get REMOTE LOCAL        download, checking the body's trailer
    put LOCAL REMOTE        upload (sized body, SHA-256 trailer)
    mkdir PATH              make a folder
    rmdir PATH              remove an empty folder
    mv FROM TO              rename within the served root
    rm PATH                 remove a file
    hash PATH               the file's SHA-256, as the server gives it
    mget REMOTE... DIR      download several files into DIR (MGET when offered)
    pipeline-stat N PATH    N STAT requests in flight, replies checked by id

An error reply prints `error CODE: MESSAGE` on stderr and exits 1 (so does a
failure of the client's own, with a client code: PROTOCOL, CONNECTION,
INTEGRITY, LOCAL_IO, USAGE). Success exits 0. A token, when the server asks
for one, is taken from the BFTP_TOKEN environment variable.
"""

import hashlib
import json
import os
import re
import socket
import sys
import tempfile

# Limits from PROTOCOL.md (Limits).
MAX_REQUEST_BYTES = 65536
MAX_REPLY_BYTES = 64 * 1024 * 1024
MAX_CHUNK_BYTES = 16 * 1024 * 1024
MAX_SIZE = 2**53 - 1
MAX_MGET_PATHS = 1024
CHUNKED_MARKER = b"ffffffffffffffff"
BUFFER = 1 << 20
# How many requests pipeline-stat keeps sent but unanswered at most
# (Pipelining, "Flow control": keep what you send unread bounded).
WINDOW = 256

WIRE_CODES = {
    "NOT_FOUND", "EXISTS", "BAD_PATH", "NOT_REGULAR", "IS_DIR", "NOT_DIR", "NOT_EMPTY",
    "DENIED", "BUSY", "NO_SPACE", "BAD_REQUEST", "SERVER", "INTEGRITY", "CHANGED",
}
HEX8 = re.compile(rb"\A[0-9a-fA-F]{8}\Z")
HEX16 = re.compile(rb"\A[0-9a-fA-F]{16}\Z")
HEX64 = re.compile(rb"\A[0-9a-fA-F]{64}\Z")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BftpError(Exception):
    """A failure with a code: an error reply's, or one of the client's own."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def reply_error(reply):
    """The BftpError of an error reply (unknown codes are taken as SERVER)."""
    code = reply.get("code")
    if not isinstance(code, str) or code not in WIRE_CODES:
        code = "SERVER"
    message = reply.get("message")
    if not isinstance(message, str):
        message = ""
    return BftpError(code, CONTROL.sub("", message))


class Session:
    """One BFTP session over one TCP connection."""

    def __init__(self, host, port):
        try:
            self.sock = socket.create_connection((host, port), timeout=30)
        except OSError as e:
            raise BftpError("CONNECTION", f"cannot connect to {host}:{port}: {e}") from e
        self.sock.settimeout(None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb", buffering=BUFFER)
        self.next_id = 1
        self.version = 1
        self.checksum = "sha256"
        self.features = []
        self.handshake()

    # -- bytes ---------------------------------------------------------------

    def read_exactly(self, n):
        data = self.reader.read(n) if n > 0 else b""
        if len(data) != n:
            raise BftpError("CONNECTION", "the connection ended early")
        return data

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise BftpError("CONNECTION", f"the connection broke: {e}") from e

    # -- frames --------------------------------------------------------------

    def encode_frame(self, message):
        try:
            payload = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except UnicodeEncodeError as e:
            raise BftpError("USAGE", "a path is not valid Unicode") from e
        if len(payload) > MAX_REQUEST_BYTES:
            raise BftpError("USAGE", f"request of {len(payload)} bytes, over {MAX_REQUEST_BYTES}")
        return b"%08x" % len(payload) + payload

    def read_frame(self):
        header = self.read_exactly(8)
        if not HEX8.match(header):
            raise BftpError("PROTOCOL", f"frame header is not 8 hex digits: {header!r}")
        size = int(header, 16)
        if size > MAX_REPLY_BYTES:
            raise BftpError("PROTOCOL", f"reply of {size} bytes, over {MAX_REPLY_BYTES}")
        payload = self.read_exactly(size)
        try:
            reply = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise BftpError("PROTOCOL", f"reply is not JSON: {e}") from e
        if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
            raise BftpError("PROTOCOL", "reply is not a JSON object with a boolean ok")
        return reply

    # -- handshake -----------------------------------------------------------

    def handshake(self):
        self.send(b"BFTP/2 sha256\n")
        hello = self.read_frame()
        if not hello["ok"]:
            raise reply_error(hello)
        version = hello.get("version")
        if version not in (1, 2) or isinstance(version, bool):
            raise BftpError("PROTOCOL", f"unsupported protocol version {version!r}")
        self.version = version
        if version == 2:
            checksum = hello.get("checksum")
            if checksum != "sha256":
                raise BftpError("PROTOCOL", f"server chose checksum {checksum!r}, not offered")
            features = hello.get("features")
            self.features = [f for f in features if isinstance(f, str)] \
                if isinstance(features, list) else []
        if hello.get("auth") == "token":
            token = os.environ.get("BFTP_TOKEN")
            if token is None:
                raise BftpError("DENIED", "the server requires a token: set BFTP_TOKEN")
            self.request({"op": "AUTH", "token": token})

    # -- requests ------------------------------------------------------------

    def tag(self, message):
        """Gives a request an id in version 2; returns the id (None in version 1)."""
        if self.version < 2:
            return None
        rid = self.next_id
        self.next_id += 1
        message["id"] = rid
        return rid

    def read_reply(self, rid):
        """Reads the next reply and checks it carries `rid` (version 2)."""
        reply = self.read_frame()
        if rid is not None and reply.get("id") != rid:
            self.close()
            raise BftpError("PROTOCOL",
                            f"reply id {reply.get('id')!r} where {rid} was expected: out of step")
        return reply

    def request(self, message):
        """Sends one request, reads its reply; raises on an error reply."""
        rid = self.tag(message)
        self.send(self.encode_frame(message))
        reply = self.read_reply(rid)
        if not reply["ok"]:
            raise reply_error(reply)
        return reply

    def quit(self):
        try:
            self.request({"op": "QUIT"})
        except BftpError:
            pass
        self.close()

    def close(self):
        try:
            self.reader.close()
            self.sock.close()
        except OSError:
            pass

    # -- bodies --------------------------------------------------------------

    def read_trailer(self):
        trailer = self.read_exactly(64)
        if not HEX64.match(trailer):
            raise BftpError("PROTOCOL", f"body trailer is not 64 hex digits: {trailer[:64]!r}")
        return trailer.decode("ascii").lower()

    def read_body(self, expected_size, out):
        """Reads a body of `expected_size` bytes into the file `out`, hashing it.

        Returns (computed hex, trailer hex). The whole body and trailer are read
        even when the local write fails, so the stream stays in step.
        """
        h = hashlib.sha256()
        write_error = None

        def take(n):
            nonlocal write_error
            while n > 0:
                piece = self.reader.read(min(n, BUFFER))
                if not piece:
                    raise BftpError("CONNECTION", "the connection ended inside a body")
                h.update(piece)
                if write_error is None:
                    try:
                        out.write(piece)
                    except OSError as e:
                        write_error = e
                n -= len(piece)

        header = self.read_exactly(16)
        if header.lower() == CHUNKED_MARKER:
            total = 0
            while True:
                ch = self.read_exactly(8)
                if not HEX8.match(ch):
                    raise BftpError("PROTOCOL", f"chunk header is not 8 hex digits: {ch!r}")
                n = int(ch, 16)
                if n == 0:
                    break
                if n > MAX_CHUNK_BYTES or total + n > expected_size:
                    self.close()
                    raise BftpError("PROTOCOL", "chunked body goes past the reply's size")
                take(n)
                total += n
            if total != expected_size:
                raise BftpError("INTEGRITY", f"body of {total} bytes, expected {expected_size}")
        else:
            if not HEX16.match(header):
                raise BftpError("PROTOCOL", f"body header is not 16 hex digits: {header!r}")
            size = int(header, 16)
            if size != expected_size:
                self.close()
                raise BftpError("PROTOCOL", f"body of {size} bytes, the reply said {expected_size}")
            take(size)
        trailer = self.read_trailer()
        if write_error is not None:
            raise BftpError("LOCAL_IO", f"cannot write: {write_error}")
        return h.hexdigest(), trailer

    def receive_file(self, reply, local, remote):
        """After a GET (or MGET) success reply: receive its body into `local`,
        through a temporary file beside it renamed into place on a match."""
        size = reply.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_SIZE:
            self.close()
            raise BftpError("PROTOCOL", f"GET reply without a valid size: {reply!r}")
        offset = reply.get("offset", 0)
        if offset != 0:
            self.close()
            raise BftpError("PROTOCOL", f"GET reply with offset {offset!r}, none asked")
        folder = os.path.dirname(os.path.abspath(local))
        try:
            fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(local) + ".", suffix=".part",
                                       dir=folder)
        except OSError as e:
            # Nowhere to write: read the body anyway to keep the stream in step.
            with open(os.devnull, "wb") as null:
                self.read_body(size, null)
            raise BftpError("LOCAL_IO", f"cannot create a file in {folder}: {e}") from e
        try:
            with os.fdopen(fd, "wb") as out:
                computed, trailer = self.read_body(size, out)
            if computed != trailer:
                raise BftpError("INTEGRITY",
                                f"{remote}: body hashes to {computed}, trailer says {trailer}")
            known = reply.get("sha256")
            if isinstance(known, str) and known.lower() != computed:
                raise BftpError("INTEGRITY", f"{remote}: body hashes to {computed}, reply says {known}")
            # mkstemp makes the file 0600; give it what a new file gets here.
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)
            os.replace(tmp, local)
            tmp = None
        except OSError as e:
            raise BftpError("LOCAL_IO", f"cannot write {local}: {e}") from e
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


# -- commands ----------------------------------------------------------------

def cmd_ls(s, path):
    reply = s.request({"op": "LIST", "path": path})
    for entry in reply.get("entries", []):
        print(entry.get("name"))


def cmd_stat(s, path):
    reply = s.request({"op": "STAT", "path": path})
    print(json.dumps(reply.get("entry"), sort_keys=True))


def cmd_get(s, remote, local):
    if os.path.isdir(local):
        local = os.path.join(local, remote_basename(remote))
    reply = s.request({"op": "GET", "path": remote})
    s.receive_file(reply, local, remote)


def cmd_put(s, local, remote):
    try:
        src = open(local, "rb")
    except OSError as e:
        raise BftpError("LOCAL_IO", f"cannot read {local}: {e}") from e
    with src:
        size = os.fstat(src.fileno()).st_size
        # Not eager: wait for the ready reply before a byte of the body (PUT on the wire).
        message = {"op": "PUT", "path": remote, "size": size, "overwrite": True}
        rid = s.tag(message)
        s.send(s.encode_frame(message))
        ready = s.read_reply(rid)
        if not ready["ok"]:
            raise reply_error(ready)
        if ready.get("ready") is not True or ready.get("offset", 0) != 0:
            s.close()
            raise BftpError("PROTOCOL", f"unexpected reply to PUT: {ready!r}")
        h = hashlib.sha256()
        s.send(b"%016x" % size)
        left = size
        while left > 0:
            piece = src.read(min(left, BUFFER))
            if not piece:
                # The source ended early inside a sized body: hang up (checklist, step 10).
                s.close()
                raise BftpError("LOCAL_IO", f"{local} became shorter while it was sent")
            h.update(piece)
            s.send(piece)
            left -= len(piece)
        digest = h.hexdigest()
        s.send(digest.encode("ascii"))
    final = s.read_reply(rid)
    if not final["ok"]:
        raise reply_error(final)
    if final.get("sha256") != digest or final.get("size") != size:
        raise BftpError("INTEGRITY",
                        f"server confirmed {final.get('size')!r} bytes, {final.get('sha256')!r}; "
                        f"sent {size} bytes, {digest}")


def cmd_mkdir(s, path):
    s.request({"op": "MKDIR", "path": path, "parents": False})


def cmd_rmdir(s, path):
    s.request({"op": "RMDIR", "path": path})


def cmd_mv(s, src, dst):
    s.request({"op": "RENAME", "from": src, "to": dst})


def cmd_rm(s, path):
    s.request({"op": "DELETE", "path": path})


def cmd_hash(s, path):
    reply = s.request({"op": "HASH", "path": path})
    digest = reply.get("sha256")
    if not isinstance(digest, str) or not HEX64.match(digest.encode("ascii", "replace")):
        raise BftpError("PROTOCOL", f"HASH reply without a SHA-256: {reply!r}")
    print(digest)


def remote_basename(remote):
    name = remote.rstrip("/").rsplit("/", 1)[-1]
    if name in ("", ".", ".."):
        raise BftpError("USAGE", f"cannot name a local file after {remote!r}")
    return name


def cmd_mget(s, *args):
    if len(args) < 2:
        raise BftpError("USAGE", "mget REMOTE... DIR")
    remotes, folder = list(args[:-1]), args[-1]
    if not os.path.isdir(folder):
        raise BftpError("LOCAL_IO", f"{folder} is not a folder")
    locals_ = [os.path.join(folder, remote_basename(r)) for r in remotes]
    failures = []
    if s.version >= 2 and "mget" in s.features:
        for start in range(0, len(remotes), MAX_MGET_PATHS):
            group = remotes[start:start + MAX_MGET_PATHS]
            message = {"op": "MGET", "paths": group}
            rid = s.tag(message)
            s.send(s.encode_frame(message))
            for i, remote in enumerate(group):
                reply = s.read_reply(rid)
                index = reply.get("index")
                if index is None and not reply["ok"]:
                    # An error of the request as a whole: the rest got no answer.
                    err = reply_error(reply)
                    failures.extend((r, err) for r in group[i:])
                    break
                if index != i:
                    s.close()
                    raise BftpError("PROTOCOL", f"MGET reply index {index!r}, expected {i}")
                if not reply["ok"]:
                    failures.append((remote, reply_error(reply)))
                    continue
                try:
                    s.receive_file(reply, locals_[start + i], remote)
                except BftpError as e:
                    if e.code not in ("INTEGRITY", "LOCAL_IO"):
                        raise
                    failures.append((remote, e))
    else:
        # No MGET: one GET per file. In version 2 they are pipelined (all sent
        # at once, small requests; the answers read in order); in version 1 one
        # at a time.
        rids = []
        frames = []
        for remote in remotes:
            message = {"op": "GET", "path": remote}
            rids.append(s.tag(message))
            frames.append(s.encode_frame(message))
        if s.version >= 2:
            s.send(b"".join(frames))
        for i, remote in enumerate(remotes):
            if s.version < 2:
                s.send(frames[i])
            reply = s.read_reply(rids[i])
            if not reply["ok"]:
                failures.append((remote, reply_error(reply)))
                continue
            try:
                s.receive_file(reply, locals_[i], remote)
            except BftpError as e:
                if e.code not in ("INTEGRITY", "LOCAL_IO"):
                    raise
                failures.append((remote, e))
    for remote, err in failures:
        print(f"error {err.code}: {remote}: {err.message}", file=sys.stderr)
    if failures:
        raise SystemExit(1)


def cmd_pipeline_stat(s, count, path):
    try:
        n = int(count)
    except ValueError:
        raise BftpError("USAGE", f"not a count: {count!r}") from None
    if n < 1:
        raise BftpError("USAGE", "the count must be at least 1")
    if s.version < 2:
        raise BftpError("PROTOCOL", "the server gave a version 1 session: no pipelining")
    frames = []
    for _ in range(n):
        message = {"op": "STAT", "path": path}
        rid = s.tag(message)
        frames.append((rid, s.encode_frame(message)))
    # The first WINDOW requests go in one write before any reply is read; after
    # that, one more is sent for each reply read, so what is unread stays bounded.
    first = min(n, WINDOW)
    s.send(b"".join(f for _, f in frames[:first]))
    sent = first
    entries = []
    for i in range(n):
        rid = frames[i][0]
        reply = s.read_reply(rid)  # checks the id: replies come in request order
        if sent < n:
            s.send(frames[sent][1])
            sent += 1
        if not reply["ok"]:
            raise reply_error(reply)
        entries.append(reply.get("entry"))
    if any(e != entries[0] for e in entries):
        raise BftpError("PROTOCOL", "pipelined STAT replies disagree")
    print(f"{n} replies in order, ids {frames[0][0]}..{frames[-1][0]}, before-first-read {first}")
    print(json.dumps(entries[0], sort_keys=True))


COMMANDS = {
    "ls": (cmd_ls, 1, 1),
    "stat": (cmd_stat, 1, 1),
    "get": (cmd_get, 2, 2),
    "put": (cmd_put, 2, 2),
    "mkdir": (cmd_mkdir, 1, 1),
    "rmdir": (cmd_rmdir, 1, 1),
    "mv": (cmd_mv, 2, 2),
    "rm": (cmd_rm, 1, 1),
    "hash": (cmd_hash, 1, 1),
    "mget": (cmd_mget, 2, None),
    "pipeline-stat": (cmd_pipeline_stat, 2, 2),
}


def main(argv):
    if len(argv) < 3 or argv[2] not in COMMANDS:
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 2
    host, port, command, args = argv[0], argv[1], argv[2], argv[3:]
    func, least, most = COMMANDS[command]
    if len(args) < least or (most is not None and len(args) > most):
        print(f"error USAGE: wrong number of arguments for {command}", file=sys.stderr)
        return 1
    session = None
    try:
        session = Session(host, int(port))
        func(session, *args)
        session.quit()
        return 0
    except BftpError as e:
        print(f"error {e.code}: {e.message}", file=sys.stderr)
        return 1
    except SystemExit as e:
        if session is not None:
            session.quit()
        return int(e.code or 0)
    finally:
        if session is not None:
            session.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
