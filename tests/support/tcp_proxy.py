#!/usr/bin/env python3
"""A TCP proxy for fault injection: forwards LISTEN_PORT to UPSTREAM_HOST:PORT and, while
dropping is on, cuts every connection every --drop-every seconds (both sides, abruptly).

    tcp_proxy.py --listen 19095 --upstream 127.0.0.1:19094 --drop-every 0.3 --drop-for 6

Prints "ready" on stdout once listening, and "dropped N" on stderr for each cut; with
--count-file, keeps the number of connections cut so far in that file."""
import argparse
import asyncio
import os
import socket
import sys
import time


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError, OSError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--drop-every", type=float, default=0.0)
    ap.add_argument("--drop-for", type=float, default=0.0, help="seconds of dropping, then pass-through")
    ap.add_argument("--count-file", help="where the number of connections cut so far is kept")
    args = ap.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    connections = set()

    async def handle(client_reader, client_writer):
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            client_writer.close()
            return
        pair = (client_writer, up_writer)
        connections.add(pair)
        try:
            await asyncio.gather(pipe(client_reader, up_writer), pipe(up_reader, client_writer))
        finally:
            connections.discard(pair)

    server = await asyncio.start_server(handle, "127.0.0.1", args.listen, reuse_address=True)
    print("ready", flush=True)
    start = time.monotonic()
    total = 0
    if args.drop_every > 0:
        while args.drop_for <= 0 or time.monotonic() - start < args.drop_for:
            await asyncio.sleep(args.drop_every)
            dropped = 0
            for a, b in list(connections):
                for w in (a, b):
                    sock = w.get_extra_info("socket")
                    try:
                        # RST instead of FIN: the peer sees a hard connection loss.
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    except OSError:
                        pass
                    w.transport.abort()
                dropped += 1
            print(f"dropped {dropped}", file=sys.stderr, flush=True)
            total += dropped
            if args.count_file:
                with open(args.count_file + ".tmp", "w") as f:
                    f.write(f"{total}\n")
                os.replace(args.count_file + ".tmp", args.count_file)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
