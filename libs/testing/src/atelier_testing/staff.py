"""Every staff route of an app, called by every staff role: the roles a route's `RequireRole`
names (and admin) get through, every other role is refused with 403 before the handler runs.

Found from the routes themselves, so a staff operation added later is checked without a test
written for it; each service's tests run `assert_staff_roles` on its own app.

`StaffDirectory`: what identity answers a money-moving staff write about its caller.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts

from atelier_common.auth import (
    KEY_SCOPES,
    NO_KEY_ACCESS,
    SERVICE_HEADER,
    STAFF_ROLES,
    KeyAccess,
    RequireRole,
    endpoint_key_access,
)
from atelier_testing.tokens import TestKeys

_PARAM = re.compile(r"\{[^}]+\}")


@dataclass(frozen=True)
class StaffRoute:
    method: str
    path: str
    roles: frozenset[str]  # the roles let through, admin included
    key_access: KeyAccess = NO_KEY_ACCESS  # what API keys may do with it (`key_access`)

    def url(self) -> str:
        # A well-formed id nobody has: past the role check, the handler answers 404 or 400.
        return _PARAM.sub(str(uuid.uuid4()), self.path)


def _checks(dependant: Dependant) -> Iterator[RequireRole]:
    for sub in dependant.dependencies:
        if isinstance(sub.call, RequireRole):
            yield sub.call
        yield from _checks(sub)


def staff_routes(app: FastAPI) -> Iterator[StaffRoute]:
    # Routers are included lazily: the contexts carry each route with its router's dependencies.
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute):
            continue
        checks = list(_checks(route.dependant))
        if not checks:
            continue
        roles = frozenset[str]().union(*(check.roles for check in checks)) | {"admin"}
        access = endpoint_key_access(route.original_route.endpoint)
        for method in sorted(route.methods or ()):
            yield StaffRoute(method, route.path_format or "", roles, access)


async def assert_staff_roles(app: FastAPI, client: httpx.AsyncClient, keys: TestKeys,
                             expected: dict[tuple[str, str], set[str]]) -> None:
    """`expected`: (method, path) → the roles the issue gives that operation (admin implied). The
    app's staff routes must be exactly those, each refusing every other role with 403 in the common
    error format, and letting its roles through (any answer but 401/403)."""
    found = {(r.method, r.path): r for r in staff_routes(app)}
    assert set(found) == set(expected), f"staff routes differ: {sorted(set(found) ^ set(expected))}"
    for key, route in found.items():
        assert route.roles == expected[key] | {"admin"}, (key, sorted(route.roles))
        for role in STAFF_ROLES:
            response = await client.request(route.method, route.url(), headers=keys.staff_headers(role), json={})
            if role in route.roles:
                assert response.status_code not in (401, 403), (route, role, response.text)
            else:
                assert response.status_code == 403, (route, role, response.text)
                assert response.json()["error"]["code"] == "PERMISSION_DENIED"
        customer = await client.request(route.method, route.url(), headers=keys.user_headers(), json={})
        assert customer.status_code == 403, (route, "customer")


async def assert_api_key_limits(app: FastAPI, client: httpx.AsyncClient, keys: TestKeys, *,
                                storefront_scoped: set[tuple[str, str]],
                                scoped_in: dict[str, set[tuple[str, str]]]) -> None:
    """What API keys may do on the app's staff routes (docs/security.md, "API keys"), found from
    the routes' `key_access`:

    - `storefront_scoped`: exactly the staff routes whose use case honours a key's storefront
      scope. An admin key limited to a storefront nobody uses is refused (403) by every other one,
      and let past the check by these (an unknown id then answers 404, a list answers an empty page).
    - `scoped_in`: narrow scope → exactly the staff routes it names. A key with that scope and no
      role calls those (any answer but 401/403) and is refused (403) by every other staff route.
    """
    routes = list(staff_routes(app))
    found = {(r.method, r.path) for r in routes if r.key_access.storefront_scoped}
    assert found == storefront_scoped, f"storefront-scoped routes differ: {sorted(found ^ storefront_scoped)}"
    for scope in KEY_SCOPES:
        named = {(r.method, r.path) for r in routes if scope in r.key_access.scopes}
        wanted = scoped_in.get(scope, set())
        assert named == wanted, f"{scope} routes differ: {sorted(named ^ wanted)}"
    elsewhere = keys.api_key_headers(["admin"], ["nowhere"])
    for route in routes:
        response = await client.request(route.method, route.url(), headers=elsewhere, json={})
        if route.key_access.storefront_scoped:
            assert response.status_code not in (401, 403) and response.status_code < 500, (route, response.text)
            if response.status_code < 300 and "{" in route.path:
                raise AssertionError(f"{route}: another storefront's resource was found: {response.text}")
        else:
            assert response.status_code == 403, (route, response.text)
            assert response.json()["error"]["code"] == "PERMISSION_DENIED"
    for scope in KEY_SCOPES:
        only = keys.api_key_headers([], ["*"], scopes=[scope])
        for route in routes:
            response = await client.request(route.method, route.url(), headers=only, json={})
            if scope in route.key_access.scopes:
                assert response.status_code not in (401, 403) and response.status_code < 500, (scope, route,
                                                                                               response.text)
            else:
                assert response.status_code == 403, (scope, route, response.text)
                assert response.json()["error"]["code"] == "PERMISSION_DENIED"


class StaffDirectory:
    """Identity's `/internal/users/{id}/access` as a money-moving staff write asks it
    (`atelier_common.staff_access`), added to a fake identity app of a service's tests (`install`).

    An account `set` here answers what was set; any other answers an active admin, so that a test's
    token alone decides (its role check runs first), as it did before services asked identity.
    `gone`: the account no longer exists (404 `USER_NOT_FOUND`); `unavailable`: identity answers 503.
    """

    def __init__(self, service_token: str | None = None) -> None:
        self.service_token = service_token
        self.accounts: dict[uuid.UUID, dict[str, Any] | None] = {}
        self.unavailable = False
        self.asked: list[uuid.UUID] = []

    def set(self, user_id: uuid.UUID, *staff_roles: str, active: bool = True) -> None:
        """The account now holds exactly `staff_roles` (none: a customer) and is active or suspended."""
        roles = ["customer", "staff", *sorted(staff_roles)] if staff_roles else ["customer"]
        self.accounts[user_id] = {"id": str(user_id), "is_active": active, "roles": roles}

    def gone(self, user_id: uuid.UUID) -> None:
        self.accounts[user_id] = None

    def install(self, app: FastAPI) -> FastAPI:
        @app.get("/internal/users/{user_id}/access")
        async def access(user_id: uuid.UUID, request: Request) -> JSONResponse:
            if self.service_token is not None and request.headers.get(SERVICE_HEADER) != self.service_token:
                return _error(401, "AUTHENTICATION_REQUIRED")
            self.asked.append(user_id)
            if self.unavailable:
                return _error(503, "SERVICE_UNAVAILABLE")
            if user_id not in self.accounts:
                return JSONResponse({"id": str(user_id), "is_active": True, "roles": ["customer", "staff", "admin"]})
            account = self.accounts[user_id]
            return _error(404, "USER_NOT_FOUND") if account is None else JSONResponse(account)

        return app


def _error(status: int, code: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": code, "details": {}}}, status_code=status)
