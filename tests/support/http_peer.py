#!/usr/bin/env python3
"""An HTTP peer for the service tests, on loopback: an external agent and a webhook receiver.

    http_peer.py --port-file FILE --log FILE

POST /agent: the task (JSON) in, {"task_id", "echo", "attempt"} out; task_data "status": N
makes the first "times" attempts answer HTTP N. POST /hook: the body is appended to the log as
one line ("hook <body>"). Every request is logged ("<METHOD> <path>"). Writes its port to
--port-file once listening."""
import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--port-file", required=True)
ap.add_argument("--log", required=True)
args = ap.parse_args()
lock = threading.Lock()
attempts = {}


def log(line):
    with lock, open(args.log, "a") as f:
        f.write(line.replace("\n", " ") + "\n")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, status, body, kind="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("utf-8", "replace")
        log(f"POST {self.path}")
        if self.path == "/hook":
            log(f"hook {body}")
            return self.reply(204, "")
        if self.path == "/agent":
            task = json.loads(body)
            data = task.get("task_data", {})
            with lock:
                n = attempts[task["task_id"]] = attempts.get(task["task_id"], 0) + 1
            if n <= data.get("times", 0):
                return self.reply(data.get("status", 503), "try later", "text/plain")
            return self.reply(200, json.dumps({"task_id": task["task_id"], "echo": data.get("text", ""),
                                               "attempt": n}))
        self.reply(404, "no such path", "text/plain")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os  # noqa: E402
os.replace(args.port_file + ".tmp", args.port_file)
server.serve_forever()
