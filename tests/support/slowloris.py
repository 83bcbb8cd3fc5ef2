#!/usr/bin/env python3
"""Slow clients against an HTTP server (issue 18, point 8).

Opens CONNECTIONS sockets that each send a request head one header line every INTERVAL
seconds and never finish it, then, while they trickle, asks PROBE_PATH every half second on a
fresh connection with a one-second timeout. Prints one line per finding:

    opened N refused R
    probes N answered M slowest S
    closed-by-server K of CONNECTIONS after T s

Exits 0 whatever it finds: the calling test decides what is acceptable.
"""
import argparse
import socket
import time


def probe(host, port, path):
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=1.0) as s:
            s.settimeout(1.0)
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            if data.startswith(b"HTTP/1.1 200") or data.startswith(b"HTTP/1.0 200"):
                return time.monotonic() - started
    except OSError:
        pass
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--probe-for", type=float, default=8.0)
    ap.add_argument("--watch-for", type=float, default=20.0,
                    help="how long to keep trickling, waiting for the server to close them")
    ap.add_argument("--probe-path", default="/healthz")
    args = ap.parse_args()

    slow, refused = [], 0
    for i in range(args.connections):
        try:
            s = socket.create_connection((args.host, args.port), timeout=2.0)
            s.sendall(f"GET /api/dashboard HTTP/1.1\r\nHost: {args.host}\r\n".encode())
            slow.append(s)
        except OSError:
            refused += 1
    opened = time.monotonic()
    print(f"opened {len(slow)} refused {refused}", flush=True)

    closed = set()

    def trickle(now):
        for i, s in enumerate(slow):
            if i in closed:
                continue
            try:
                s.sendall(f"X-Slow-{int(now * 10)}: {i}\r\n".encode())
                # A server that gave up on us: the peer closed (a read returns b"" or fails).
                s.setblocking(False)
                try:
                    if s.recv(4096) == b"":
                        closed.add(i)
                except BlockingIOError:
                    pass
                finally:
                    s.setblocking(True)
            except OSError:
                closed.add(i)

    probes, answered, slowest = 0, 0, 0.0
    next_trickle = time.monotonic()
    while time.monotonic() - opened < args.probe_for:
        now = time.monotonic()
        if now >= next_trickle:
            trickle(now)
            next_trickle = now + args.interval
        took = probe(args.host, args.port, args.probe_path)
        probes += 1
        if took is not None:
            answered += 1
            slowest = max(slowest, took)
        time.sleep(0.5)
    print(f"probes {probes} answered {answered} slowest {slowest:.3f}", flush=True)

    while time.monotonic() - opened < args.watch_for and len(closed) < len(slow):
        now = time.monotonic()
        if now >= next_trickle:
            trickle(now)
            next_trickle = now + args.interval
        time.sleep(0.1)
    print(f"closed-by-server {len(closed)} of {len(slow)} after "
          f"{time.monotonic() - opened:.1f} s", flush=True)
    for s in slow:
        s.close()


if __name__ == "__main__":
    main()
