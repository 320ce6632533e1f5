"""A caching replay server in front of the simulator: the same HTTP answers, served at disk speed.

The simulator generates every answer on demand (sessions, hour rows, day sums) under one lock, so at the
large scale it serves slower than a client can parse. Measured through it, pendo-elt and the raw baseline
would both mostly wait for the simulator. The benchmark therefore records each answer once (that pass is the
"simulator serving" figure) into a store directory, and this server replays the stored bytes with
``sendfile``; requests it has never seen are forwarded to the simulator and stored on the way back.

Answers are keyed by method, path, query and the canonical JSON of the request body, so the raw baseline and
pendo-elt read byte-identical answers for the same aggregation. Run as ``python -m bench.replay --upstream URL
--key KEY --store DIR``; the first stdout line is ``base_url=http://127.0.0.1:PORT``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import socket
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import orjson
import requests

KEY_HEADER = "x-pendo-integration-key"
UPSTREAM_TIMEOUT_S = 600.0


def cache_key(method: str, path: str, body: bytes) -> str:
    """Store name of one request: sorted query and canonical JSON body, so formatting does not matter."""
    url = urlsplit(path)
    query = sorted(parse_qsl(url.query, keep_blank_values=True))
    canonical = b""
    if body:
        try:
            canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
        except orjson.JSONDecodeError:
            canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), url.path.encode(), orjson.dumps(query), canonical):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def store_answer(store: Path, key: str, body: bytes) -> Path:
    """Write atomically: a concurrent reader sees the whole answer or none."""
    path = store / f"{key}.json"
    fd, tmp = tempfile.mkstemp(dir=store, prefix=".part-")
    with os.fdopen(fd, "wb") as out:
        out.write(body)
    os.replace(tmp, path)
    return path


class ReplayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PendoReplay/1.0"
    store: Path
    upstream: str
    integration_key: str
    local = threading.local()
    stats: dict[str, int]
    stats_lock = threading.Lock()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle holds a small body's last segment until
        # the client's delayed ACK (~40 ms per request on loopback).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            if method == "GET" and self.path == "/_replay/stats":
                with self.stats_lock:
                    self._send(200, orjson.dumps(self.stats))
                return
            if self.headers.get(KEY_HEADER) != self.integration_key:
                self._send(403, b"")
                return
            key = cache_key(method, self.path, body)
            path = self.store / f"{key}.json"
            hit = path.exists()
            with self.stats_lock:
                self.stats["hits" if hit else "misses"] += 1
            if not hit:
                status, answer = self._forward(method, body)
                if status != 200:
                    self._send(status, answer)
                    return
                path = store_answer(self.store, key, answer)
            with open(path, "rb") as answer_file:
                size = os.fstat(answer_file.fileno()).st_size
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                self.wfile.flush()
                self.connection.sendfile(answer_file)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _forward(self, method: str, body: bytes) -> tuple[int, bytes]:
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        headers = {KEY_HEADER: self.integration_key, "content-type": "application/json"}
        response = session.request(method, f"{self.upstream}{self.path}", data=body or None, headers=headers,
                                   timeout=UPSTREAM_TIMEOUT_S)
        return response.status_code, response.content

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replay")
    parser.add_argument("--upstream", required=True, help="simulator base URL")
    parser.add_argument("--key", required=True, help="integration key to accept and forward")
    parser.add_argument("--store", required=True, help="directory of stored answers")
    args = parser.parse_args(argv)
    store = Path(args.store)
    store.mkdir(parents=True, exist_ok=True)
    handler = type("Handler", (ReplayHandler,), {
        "store": store, "upstream": args.upstream.rstrip("/"), "integration_key": args.key,
        "stats": {"hits": 0, "misses": 0},
    })
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    stop = threading.Event()

    def shutdown(*_: object) -> None:
        if not stop.is_set():
            stop.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    print(f"base_url=http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
