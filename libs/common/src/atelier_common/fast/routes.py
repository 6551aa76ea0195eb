"""One route state per route for every app of a process: the test-suite's service apps.

FastAPI (0.16x) builds each included route's state (its dependant, its response fields, its
handler) lazily, per app, on the first request that reaches its router: every route of that
router at once. A service test starts an app of its own, so every test paid for whole routers
(about a quarter of identity's API tests' CPU, cProfile). `share_route_contexts` keeps the state
FastAPI built for a route and an inclusion (prefix, dependencies, response class...) and gives
it to every later app that includes the same router the same way.

Only for processes that start many apps of the same routers (atelier_testing installs it); never
in a deployment, where each process has one app. A shared state has no `dependency_overrides_provider`
(it would keep an app alive): an app with `dependency_overrides` builds its own (no code of the
platform sets any). Reads FastAPI's private `_EffectiveRouteContext.from_api_route`
(tests/test_fast_canary.py pins it).
"""

from __future__ import annotations

import dataclasses
from types import FunctionType
from typing import Any

from fastapi import routing
from fastapi.datastructures import DefaultPlaceholder

_original: Any = None
# (route, inclusion) → (the state, the inclusion it was built for: keeps the key's objects alive).
_states: dict[tuple[Any, ...], tuple[Any, Any]] = {}


def _same(value: Any) -> Any:
    """A key part equal only for what behaves the same: lists and dicts by their items, FastAPI's
    default placeholders by their value, a function by its code and what it closes over (each app
    makes its own operation-id function), anything else by identity (kept alive with the state, so
    an id is never reused under it)."""
    if isinstance(value, list | tuple):
        return tuple(_same(each) for each in value)
    if isinstance(value, dict):
        return tuple((key, _same(each)) for key, each in value.items())
    if isinstance(value, DefaultPlaceholder):
        return ("default", _same(value.value))
    if isinstance(value, FunctionType):
        return ("function", value.__code__, _same([cell.cell_contents for cell in value.__closure__ or ()]))
    if isinstance(value, str | int | bool | float | type(None)):
        return value
    return ("id", id(value))


def _inclusion(include_context: Any) -> tuple[Any, ...]:
    return tuple((field.name, _same(getattr(include_context, field.name)))
                 for field in dataclasses.fields(include_context) if field.name != "dependency_overrides_provider")


def share_route_contexts() -> None:
    """Install the shared route states in this process (idempotent)."""
    global _original
    if _original is not None:
        return
    context_class: Any = routing._EffectiveRouteContext  # private: the point of this module
    _original = context_class.from_api_route.__func__

    def from_api_route(cls: Any, *, original_route: Any, include_context: Any) -> Any:
        provider = include_context.dependency_overrides_provider
        if getattr(provider, "dependency_overrides", None):
            return _original(cls, original_route=original_route, include_context=include_context)
        key = (id(original_route), _inclusion(include_context))
        known = _states.get(key)
        if known is None or known[0].original_route is not original_route:
            # Built without the app as its overrides' provider: a state kept for the process must not
            # keep an app alive (a stopped app is collected, tests/test_startup_freeze.py).
            unowned = dataclasses.replace(include_context, dependency_overrides_provider=None)
            known = _states[key] = (_original(cls, original_route=original_route, include_context=unowned), unowned)
        return known[0]

    context_class.from_api_route = classmethod(from_api_route)


def shared() -> int:
    """How many route states are kept (the canary's and the tests' view)."""
    return len(_states)
