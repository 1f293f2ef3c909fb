"""A real local HTTP receiver for outbound pushes: records every request, answers from a script."""
from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 refuses connections when 32 senders arrive at once
    daemon_threads = True


class Receiver:
    """`answers`: a list of (status, body-dict) popped per request; when empty, `default` answers (or, when
    it is a function, default(request body) does).
    `got`: every request as {"path", "headers", "raw", "body", "status"} (body parsed as JSON).
    While `gate` is cleared, requests are held open and, once it is set again, answered 503."""

    def __init__(self, default=(200, {"ok": True})):
        self.default = default
        self.answers: list[tuple[int, dict]] = []
        self.got: list[dict] = []
        self.lock = threading.Lock()
        self.arrived = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                record = {"path": self.path, "headers": dict(self.headers), "raw": raw, "body": json.loads(raw)}
                with receiver.lock:
                    receiver.got.append(record)
                    held = not receiver.gate.is_set()
                    if not held:
                        status, body = receiver.answers.pop(0) if receiver.answers else receiver.answer(record["body"])
                receiver.arrived.set()
                if held:
                    receiver.gate.wait()
                    status, body = 503, {"error": "held"}
                record["status"] = status
                out = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except OSError:  # the sender is gone (a killed process)
                    record["status"] = 0

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, body: dict) -> tuple[int, dict]:
        return self.default(body) if callable(self.default) else self.default

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def delivery_ids(self) -> Counter:
        with self.lock:
            return Counter(r["body"].get("delivery_id") for r in self.got)

    def delivered(self) -> Counter:
        """delivery_id -> how many times it was answered with a 2xx."""
        with self.lock:
            return Counter(r["body"].get("delivery_id") for r in self.got if 200 <= r.get("status", 0) < 300)

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()
