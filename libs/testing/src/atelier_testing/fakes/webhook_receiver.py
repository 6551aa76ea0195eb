"""A receiver of outbound webhooks for tests: a real HTTP server on a loopback port, in a
thread, so that both a service under test (same process) and a platform in a child process reach
it. It answers `status` (200 unless told otherwise), after `delay` seconds, and keeps every request it got.

Two hostile kinds: `trickle_seconds` answers one byte at a time, that long apart, for about
`trickle_for` seconds (a read timeout never trips, as each read gets a byte); `answer_bytes` answers
a body that long as fast as it can. Each answer is kept too (`answers()`): how much of it went out,
and whether the platform hung up first. Both stop when the receiver does."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered
    at: float  # time.monotonic() on arrival: orders the requests of several receivers


@dataclass(frozen=True)
class Answered:
    request: Received
    bytes_sent: int  # of the whole answer, head included
    hung_up: bool  # the client dropped the connection before the whole answer went out
    at: float  # time.monotonic() when the answer ended


class WebhookReceiver:
    def __init__(self, *, trickle_seconds: float | None = None, trickle_for: float = 120.0,
                 answer_bytes: int = 0) -> None:
        self.status = 200
        # Seconds to wait before answering: a slow receiver.
        self.delay = 0.0
        self.trickle_seconds = trickle_seconds
        self.trickle_for = trickle_for
        self.answer_bytes = answer_bytes
        self.received: list[Received] = []
        self.answered: list[Answered] = []
        self.lock = threading.Lock()
        self._stopped = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                request = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                                   receiver.status, time.monotonic())
                with receiver.lock:
                    receiver.received.append(request)
                if receiver.delay:
                    time.sleep(receiver.delay)  # a slow receiver, in its own request thread
                sent, hung_up = receiver._answer(self, request.status)
                with receiver.lock:
                    receiver.answered.append(Answered(request, sent, hung_up, time.monotonic()))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            # The platform sends many at once (its bounded concurrency): the default backlog of 5
            # reset some connections.
            request_queue_size = 128
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _answer(self, handler: BaseHTTPRequestHandler, status: int) -> tuple[int, bool]:
        """Write the answer; how many bytes went out and whether the client hung up first."""
        reason = handler.responses.get(status, ("",))[0]
        head = f"HTTP/1.1 {status} {reason}\r\n".encode()
        if self.trickle_seconds:
            handler.close_connection = True
            rest = b"\r\ncontent-length: 0\r\n\r\n"
            pad = max(1, int(self.trickle_for / self.trickle_seconds) - len(head) - len(rest) - 8)
            return self._write(handler, [bytes([b]) for b in head + b"x-slow: " + b"." * pad + rest],
                               pause=self.trickle_seconds)
        if self.answer_bytes:
            handler.close_connection = True
            head += f"content-type: application/octet-stream\r\ncontent-length: {self.answer_bytes}\r\n\r\n".encode()
            whole, last = divmod(self.answer_bytes, CHUNK)
            return self._write(handler, [head] + [bytes(CHUNK)] * whole + [bytes(last)], pause=0)
        handler.send_response(status)
        handler.send_header("content-length", "0")
        handler.end_headers()
        return 0, False

    def _write(self, handler: BaseHTTPRequestHandler, pieces: list[bytes], *, pause: float) -> tuple[int, bool]:
        sent = 0
        for piece in pieces:
            if self._stopped.is_set() or (pause and self._stopped.wait(pause)):
                return sent, False
            try:
                handler.wfile.write(piece)
                handler.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return sent, True
            sent += len(piece)
        return sent, False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def requests(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def answers(self) -> list[Answered]:
        with self.lock:
            return list(self.answered)

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
