"""A loopback fake of a CDN's purge-by-tag endpoint (`atelier_common.cdn`): it records what the
platform's services ask it to drop. Started once per session, before the platforms, whose
`ATELIER_CDN_PURGE_URL` points at it."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "e2e-cdn-token"


class FakeCdn:
    def __init__(self, url: str) -> None:
        self.url = url
        self.purged: list[list[str]] = []  # the tags of each accepted call, in order
        self.lock = threading.Lock()  # the server's threads append while a test reads

    def keys(self) -> set[str]:
        with self.lock:
            return {key for call in self.purged for key in call}

    def env(self) -> dict[str, str]:
        return {"ATELIER_CDN_PURGE_URL": f"{self.url}/purge", "ATELIER_CDN_PURGE_TOKEN": TOKEN}


@contextlib.contextmanager
def served_cdn() -> Iterator[FakeCdn]:
    cdn: FakeCdn

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if self.headers.get("authorization") != f"Bearer {TOKEN}":
                self.send_response(403)
            else:
                with cdn.lock:
                    cdn.purged.append(list(json.loads(body)["tags"]))
                self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    cdn = FakeCdn(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield cdn
    finally:
        server.shutdown()
        server.server_close()
