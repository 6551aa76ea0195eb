"""The HTTP protocol of every process (`atelier_common.fast.protocol`): nothing is lost or reordered
on a kept-alive connection, a streamed body or a closing one, and trailers are never headers. Every
test runs in both positions of the `protocol` fast path (uvicorn's h11 when it is off)."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from atelier_common.fast.protocol import HTTPTOOLS, PLAIN


async def _numbers(request: Request) -> JSONResponse:
    return JSONResponse({"n": int(request.path_params["n"]), "echo": (await request.body()).decode()})


async def _stream(request: Request) -> StreamingResponse:
    async def chunks() -> Any:
        for i in range(50):
            yield f"chunk {i}\n".encode()
            if i % 10 == 0:
                await asyncio.sleep(0)
    return StreamingResponse(chunks(), media_type="text/plain")


async def _headers(request: Request) -> JSONResponse:
    body = await request.body()  # the whole body, trailers included, before the headers are read
    return JSONResponse({"body": body.decode(), "headers": [k.decode() for k, _ in request.headers.raw]})


@pytest.fixture(params=[HTTPTOOLS, PLAIN], ids=["fast", "plain"])
async def server(request: pytest.FixtureRequest) -> Any:
    app = Starlette(routes=[Route("/n/{n:int}", _numbers, methods=["GET", "POST"]), Route("/stream", _stream),
                           Route("/headers", _headers, methods=["POST"])])
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()  # clients may connect at once: the server accepts them when it has started
    config = uvicorn.Config(app, http=request.param, log_config=None, access_log=False, lifespan="off")
    served = uvicorn.Server(config)
    task = asyncio.create_task(served.serve(sockets=[listening]))
    yield f"http://127.0.0.1:{listening.getsockname()[1]}"
    served.should_exit = True
    await task
    listening.close()


async def test_a_kept_alive_connection_gets_every_answer_whole_and_in_order(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, limits=httpx.Limits(max_connections=1)) as client:
        for n in range(200):
            response = await client.post(f"/n/{n}", content=f"body {n}")
            assert response.json() == {"n": n, "echo": f"body {n}"}
        streamed = await client.get("/stream")
        assert streamed.text == "".join(f"chunk {i}\n" for i in range(50))
        closing = await client.get("/n/7", headers={"Connection": "close"})
        assert closing.json() == {"n": 7, "echo": ""} and closing.headers["connection"] == "close"
        assert (await client.get("/n/8")).json()["n"] == 8  # on a new connection


async def test_concurrent_clients_get_their_own_answers(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as client:
        answers = await asyncio.gather(*(client.get(f"/n/{n}") for n in range(100)))
    assert [a.json()["n"] for a in answers] == list(range(100))


async def test_a_chunked_bodys_trailers_never_become_request_headers(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"POST /headers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                 b"5\r\nhello\r\n0\r\nAuthorization: Bearer smuggled\r\nX-Trailer: yes\r\n\r\n")
    await writer.drain()
    answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    echoed = json.loads(body)
    assert echoed["body"] == "hello"
    assert not {b"authorization", b"x-trailer"} & {name.encode() for name in echoed["headers"]}


def _lane(scope: Any, default_headers: list[tuple[bytes, bytes]], keep_alive: bool) -> bytes | None:
    """An `EarlyAnswer` for `/early/<n>`; `/boom` is a fault of the lane."""
    path: str = scope["path"]
    if path == "/boom":
        raise RuntimeError("a fault of the lane")
    if not path.startswith("/early/"):
        return None
    body = json.dumps({"early": int(path.rsplit("/", 1)[1])}).encode()
    head = [b"HTTP/1.1 200 OK\r\n", *(k + b": " + v + b"\r\n" for k, v in default_headers),
            b"content-type: application/json\r\ncontent-length: " + str(len(body)).encode() + b"\r\n"]
    if not keep_alive:
        head.append(b"connection: close\r\n")
    return b"".join([*head, b"\r\n", body])


@pytest.fixture
async def early(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A server whose protocol answers `/early/<n>` itself (`answer_early`, the `hits` fast path)."""
    from atelier_common import fast
    from atelier_common.fast.protocol import answer_early

    monkeypatch.setattr(fast, "_on", frozenset(fast.NAMES))
    app = Starlette(routes=[Route("/{rest:path}", _numbers_or_anything, methods=["GET", "POST"])])
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    answer_early(_lane)
    served = uvicorn.Server(uvicorn.Config(app, http=HTTPTOOLS, log_config=None, access_log=False, lifespan="off"))
    task = asyncio.create_task(served.serve(sockets=[listening]))
    yield f"http://127.0.0.1:{listening.getsockname()[1]}"
    answer_early(None)
    served.should_exit = True
    await task
    listening.close()


async def _numbers_or_anything(request: Request) -> JSONResponse:
    return JSONResponse({"app": request.url.path, "echo": (await request.body()).decode()})


async def test_early_answers_and_the_apps_share_a_connection_in_order(early: str) -> None:
    async with httpx.AsyncClient(base_url=early, limits=httpx.Limits(max_connections=1)) as client:
        for n in range(30):
            assert (await client.get(f"/early/{n}")).json() == {"early": n}
            assert (await client.get(f"/other/{n}")).json() == {"app": f"/other/{n}", "echo": ""}
            # Only a GET is answered early: a POST to the same path goes to the app, body and all.
            assert (await client.post(f"/early/{n}", content="b")).json() == {"app": f"/early/{n}", "echo": "b"}
        # A fault of the lane: the app answers, the connection lives on.
        assert (await client.get("/boom")).json() == {"app": "/boom", "echo": ""}
        assert (await client.get("/early/7")).json() == {"early": 7}
        closing = await client.get("/early/8", headers={"Connection": "close"})
        assert closing.json() == {"early": 8} and closing.headers["connection"] == "close"
        assert (await client.get("/early/9")).json() == {"early": 9}  # on a new connection


async def test_pipelined_requests_are_answered_in_order_whoever_answers(early: str) -> None:
    host, port = early.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET /early/1 HTTP/1.1\r\nHost: x\r\n\r\n"
                 b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
                 b"GET /early/3 HTTP/1.1\r\nHost: x\r\n\r\n"
                 b"GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=60)  # the last one closes the connection
    writer.close()
    bodies = [json.loads(part.split(b"\r\n\r\n", 1)[1]) for part in answer.split(b"HTTP/1.1 200 OK\r\n")[1:]]
    assert bodies == [{"early": 1}, {"app": "/slow", "echo": "body"}, {"early": 3}, {"app": "/other", "echo": ""}]
