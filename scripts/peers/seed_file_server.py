#!/usr/bin/env python3
"""The course's Python file server and client (v2), ported to Python 3.

A benchmark peer for scripts/bench, not part of bftp. It keeps the course's
design: one file per connection; the client sends the file's name, the server
answers with the course's 8-hex-digit size header (send_size) and then the
file in fixed chunks (send_file with sendall), and the client receives
exactly that many bytes (recv_fixed_size_to_file). The chunk size is the
seed's 4096 bytes unless --chunk says otherwise (64 KiB for the second row).

Serve:  seed_file_server.py serve ROOT [--port 0] [--chunk 4096]
        prints "listening on PORT" once ready; serves until killed.
Get:    seed_file_server.py get HOST PORT NAME DEST [--chunk 4096]
        DEST may be /dev/null; exits 1 if fewer bytes arrive than announced.
"""

import argparse
import os
import socket
import sys


def recv_fixed_size(sock, size, bufsize=4096):
    """Receives exactly `size` bytes (the course's recv_fixed_size)."""
    parts = []
    got = 0
    while got < size:
        data = sock.recv(min(bufsize, size - got))
        if not data:
            raise RuntimeError("socket connection broken after %d of %d bytes" % (got, size))
        parts.append(data)
        got += len(data)
    return b"".join(parts)


def recv_line(sock, limit=255):
    """Receives the file name, ended by a newline (the course's version read up to 255 bytes)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            raise RuntimeError("file name longer than %d bytes" % limit)
    return data.rstrip(b"\r\n").decode("utf-8")


def send_file(sock, path, bufsize):
    """Sends the size header, then the file in chunks of `bufsize` (the course's send_file)."""
    size = os.path.getsize(path)
    sock.sendall(b"%08x" % size)
    with open(path, "rb") as f:
        while True:
            data = f.read(bufsize)
            if not data:
                break
            sock.sendall(data)
    return size


def recv_fixed_size_to_file(sock, size, path, bufsize):
    """Receives exactly `size` bytes into `path` (the course's recv_fixed_size_to_file)."""
    got = 0
    with open(path, "wb") as f:
        while got < size:
            data = sock.recv(min(bufsize, size - got))
            if not data:
                raise RuntimeError("socket connection broken after %d of %d bytes" % (got, size))
            f.write(data)
            got += len(data)
    return got


def serve(root, port, chunk):
    servsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    servsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    servsock.bind(("127.0.0.1", port))
    servsock.listen(20)
    print("listening on %d" % servsock.getsockname()[1], flush=True)
    root = os.path.realpath(root)
    while True:
        newsock, _ = servsock.accept()
        try:
            name = recv_line(newsock)
            path = os.path.realpath(os.path.join(root, name))
            if os.path.commonpath([root, path]) != root or not os.path.isfile(path):
                continue
            send_file(newsock, path, chunk)
        except (OSError, RuntimeError) as e:
            print("seed_file_server: %s" % e, file=sys.stderr, flush=True)
        finally:
            newsock.close()


def get(host, port, name, dest, chunk):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.connect((host, port))
    try:
        sock.sendall(name.encode("utf-8") + b"\n")
        size = int(recv_fixed_size(sock, 8), 16)
        recv_fixed_size_to_file(sock, size, dest, chunk)
    finally:
        sock.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve")
    s.add_argument("root")
    s.add_argument("--port", type=int, default=12345)
    s.add_argument("--chunk", type=int, default=4096)
    g = sub.add_parser("get")
    g.add_argument("host")
    g.add_argument("port", type=int)
    g.add_argument("name")
    g.add_argument("dest")
    g.add_argument("--chunk", type=int, default=4096)
    args = parser.parse_args()
    try:
        if args.mode == "serve":
            serve(args.root, args.port, args.chunk)
        else:
            get(args.host, args.port, args.name, args.dest, args.chunk)
    except KeyboardInterrupt:
        pass
    except (OSError, RuntimeError) as e:
        print("seed_file_server: %s" % e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
