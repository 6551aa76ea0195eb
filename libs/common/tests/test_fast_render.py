"""The bytes of an early answer (`fast.protocol.render_answer`): a well-formed HTTP/1.1 answer as
uvicorn's writer lays it out, read back by httptools' response parser."""

from __future__ import annotations

import httptools

from atelier_common.fast.protocol import render_answer, render_headers


class _Parsed:
    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""
        self.complete = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.complete = True


def _parse(answer: bytes) -> tuple[int, _Parsed, bool]:
    """The status, what was read, and whether the answer ends the connection."""
    parsed = _Parsed()
    parser = httptools.HttpResponseParser(parsed)
    parser.feed_data(answer)
    return parser.get_status_code(), parsed, (b"connection", b"close") in parsed.headers


def test_an_answer_reads_back_in_uvicorns_order() -> None:
    own = render_headers([(b"content-type", b"application/json"), (b"content-length", b"2")])
    uvicorns = [(b"date", b"Sun, 29 Nov 2026 18:00:00 GMT"), (b"server", b"uvicorn")]
    answer = render_answer(200, uvicorns, own, [(b"x-request-id", b"abc")], True, b"{}")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\ndate: ")
    status, parsed, closing = _parse(answer)
    assert (status, parsed.body, parsed.complete, closing) == (200, b"{}", True, False)
    assert parsed.headers == [*uvicorns, (b"content-type", b"application/json"), (b"content-length", b"2"),
                              (b"x-request-id", b"abc")]


def test_a_closing_not_modified_and_any_other_status() -> None:
    answer = render_answer(304, [], render_headers([(b"etag", b'"1"')]), [], False, b"")
    assert answer == b'HTTP/1.1 304 Not Modified\r\netag: "1"\r\nconnection: close\r\n\r\n'
    status, parsed, closing = _parse(answer)
    assert (status, parsed.complete, closing) == (304, True, True)
    assert render_answer(404, [], b"", [(b"content-length", b"0")], True, b"").startswith(b"HTTP/1.1 404 Not Found\r\n")
