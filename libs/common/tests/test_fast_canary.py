"""The canary of the fast paths (`atelier_common.fast`): the private names of the libraries they read
still exist with the shape they rely on. After an upgrade that changed one, this fails naming the
fast path and its switch: run with it off (`ATELIER_FAST_PATHS=none`, or the list without it) until
the fast path is adapted, or remove it."""

from __future__ import annotations

import importlib.metadata
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from packaging.requirements import Requirement
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, create_engine, literal, select
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg
from sqlalchemy.types import TypeEngine

from atelier_common import fast


def check(path: str, ok: bool, what: str) -> None:
    if not ok and path == "routes":  # the test-suite's alone, not a switch
        pytest.fail(f"the `routes` fast path: {what}. Take `share_route_contexts()` out of atelier_testing.plugin "
                    "and adapt or remove atelier_common/fast/routes.py")
    if not ok:
        pytest.fail(f"the `{path}` fast path: {what}. Switch it off (ATELIER_FAST_PATHS without {path!r}, "
                    f"or =none) and adapt or remove atelier_common/fast/{path}.py")


def test_statements_sqlalchemys_compiled_statement() -> None:
    table = Table("canary", MetaData(), Column("id", Integer, primary_key=True), Column("name", String))
    stmt = select(table.c.id, table.c.name, literal(7).label("seven")).where(table.c.name == bindparam("name"))
    compiled: Any = stmt.compile(dialect=postgresql_psycopg.dialect())  # type: ignore[no-untyped-call]  # untyped constructor
    columns = getattr(compiled, "_result_columns", None)
    check(fast.STATEMENTS, isinstance(columns, list) and len(columns) == 3,
          "SQLAlchemy's compiled statement has no `_result_columns` list")
    check(fast.STATEMENTS, [column.keyname for column in columns] == ["id", "name", "seven"]
          and all(isinstance(column.type, TypeEngine) for column in columns),
          "`_result_columns` entries no longer carry `keyname` and `type`")
    check(fast.STATEMENTS, isinstance(getattr(compiled, "_bind_processors", None), Mapping),
          "SQLAlchemy's compiled statement has no `_bind_processors` mapping")
    binds = compiled.bind_names
    check(fast.STATEMENTS, isinstance(binds, Mapping) and sorted(binds.values()) == ["name", "param_1"]
          and all(hasattr(bind, attr) for bind in binds for attr in ("expanding", "required", "effective_value")),
          "`bind_names` no longer maps bind parameters (expanding, required, effective_value) to their names")
    check(fast.STATEMENTS, compiled.positional is False and "%(name)s" in compiled.string,
          "the psycopg dialect no longer compiles named (pyformat) parameters")


def test_statements_a_value_written_into_the_sql() -> None:
    table = Table("canary", MetaData(), Column("id", Integer, primary_key=True), Column("name", String))
    written = bindparam(None, "o'b%", type_=String, literal_execute=True)
    compiled: Any = select(table.c.id).where(table.c.name.like(written)).compile(
        dialect=postgresql_psycopg.dialect())  # type: ignore[no-untyped-call]  # untyped constructor
    [(bind, name)] = compiled.bind_names.items()
    check(fast.STATEMENTS, bind.literal_execute and f"__[POSTCOMPILE_{name}]" in compiled.string,
          "a `literal_execute` value is no longer left as a `__[POSTCOMPILE_name]` placeholder")
    check(fast.STATEMENTS, compiled.render_literal_value(bind.effective_value, bind.type) == "'o''b%%'",
          "`render_literal_value` no longer writes a string as psycopg's SQL needs it")


def test_statements_a_types_cached_result_processor() -> None:
    method: Callable[..., Any] | None = getattr(TypeEngine, "_cached_result_processor", None)
    check(fast.STATEMENTS, callable(method) and list(inspect.signature(method).parameters) == ["self", "dialect", "coltype"],
          "`TypeEngine._cached_result_processor(dialect, coltype)` changed")


def test_statements_the_engines_dispatch() -> None:
    engine = create_engine("sqlite://")
    seen: list[str] = []
    from sqlalchemy import event

    event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, *rest: seen.append(sql))
    listeners = list(engine.dispatch.before_cursor_execute)
    check(fast.STATEMENTS, len(listeners) == 1, "`engine.dispatch.before_cursor_execute` lists no listeners")
    with engine.connect() as conn:
        listeners[0](conn, None, "SELECT 1", {}, None, False)  # as the fast path calls them
    check(fast.STATEMENTS, seen == ["SELECT 1"], "a `before_cursor_execute` listener takes other arguments")


def test_protocol_uvicorns_httptools_protocol() -> None:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    begin = inspect.getsource(HttpToolsProtocol.on_message_begin)
    check(fast.PROTOCOL, '"headers": self.headers' in begin and "self.headers = []" in begin,
          "uvicorn's HttpToolsProtocol no longer starts each request's scope with its `headers` list")
    check(fast.PROTOCOL, "self.headers.append(" in inspect.getsource(HttpToolsProtocol.on_header),
          "uvicorn's HttpToolsProtocol no longer collects headers (trailers too) into `self.headers`")
    check(fast.PROTOCOL, list(inspect.signature(HttpToolsProtocol.on_headers_complete).parameters) == ["self"],
          "`HttpToolsProtocol.on_headers_complete` changed")


def test_hits_uvicorns_task_start_and_cycle() -> None:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

    check(fast.HITS, list(inspect.signature(HttpToolsProtocol._start_asgi_task).parameters) == ["self", "cycle", "app"],
          "`HttpToolsProtocol._start_asgi_task(cycle, app)` changed")
    check(fast.HITS, "self._start_asgi_task(self.cycle, app)" in inspect.getsource(HttpToolsProtocol.on_headers_complete),
          "`on_headers_complete` no longer starts a request through `_start_asgi_task`")
    completing = inspect.getsource(HttpToolsProtocol.on_response_complete)
    check(fast.HITS, "self.pipeline" in completing and "timeout_keep_alive" in completing,
          "`on_response_complete` no longer starts the next pipelined request or the keep-alive timer")
    check(fast.HITS, all(f".{name}" in inspect.getsource(RequestResponseCycle) for name in (
        "response_started", "response_complete", "keep_alive", "waiting_for_100_continue")),
          "uvicorn's RequestResponseCycle no longer keeps the state the early answer sets and reads")
    for skipped in (HttpToolsProtocol.on_body, HttpToolsProtocol.on_message_complete):
        check(fast.HITS, "self.cycle.response_complete" in inspect.getsource(skipped),
              f"`{skipped.__name__}` no longer skips a complete cycle's body")
    check(fast.HITS, callable(getattr(HttpToolsProtocol, "_unset_keepalive_if_required", None)),
          "`HttpToolsProtocol._unset_keepalive_if_required` is gone")


def test_routes_fastapis_route_state_per_inclusion() -> None:
    from fastapi import APIRouter, FastAPI, routing

    from atelier_common.fast import routes

    method = getattr(routing, "_EffectiveRouteContext", None)
    method = getattr(method, "from_api_route", None)
    check("routes", method is not None and {"original_route", "include_context"} <= set(inspect.signature(method).parameters),
          "FastAPI's `_EffectiveRouteContext.from_api_route(original_route=, include_context=)` is gone")
    routes.share_route_contexts()
    router = APIRouter(prefix="/canary")

    @router.get("/ping")
    async def ping() -> dict[str, str]:
        return {"ok": "yes"}

    from fastapi.testclient import TestClient

    before = routes.shared()
    answers = []
    for _ in range(2):  # two apps of one router: one state for its route
        app = FastAPI()
        app.include_router(router)
        answers.append(TestClient(app).get("/canary/ping").json())
    check("routes", answers == [{"ok": "yes"}] * 2 and routes.shared() == before + 1,
          "two apps of one router no longer share its route's state")


@pytest.mark.parametrize(("package", "distribution", "path"), [("atelier-common", "sqlalchemy", fast.STATEMENTS),
                                                               ("atelier-common", "fastapi", "routes"),
                                                               ("atelier-common", "uvicorn", fast.PROTOCOL),
                                                               ("atelier-common", "uvicorn", fast.HITS),
                                                               ("atelier-platform", "uvicorn", fast.PROTOCOL)])
def test_the_libraries_read_are_pinned_below_their_next_release(package: str, distribution: str, path: str) -> None:
    requirement = next(Requirement(line) for line in importlib.metadata.requires(package) or []
                       if Requirement(line).name == distribution)
    check(path, any(spec.operator == "<" for spec in requirement.specifier),
          f"{package} requires {requirement} without an upper bound")
    check(path, requirement.specifier.contains(importlib.metadata.version(distribution)),
          f"the installed {distribution} {importlib.metadata.version(distribution)} is outside {requirement}")


def test_the_switch() -> None:
    assert fast.parse("all") == frozenset(fast.NAMES) and fast.parse("none") == frozenset() == fast.parse("")
    assert fast.parse(" statements , http1 ") == {"statements", "http1"}
    with pytest.raises(ValueError, match="unknown fast path"):
        fast.parse("statments")
