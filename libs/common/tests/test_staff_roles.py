"""`RequireRole`: the one staff permission check, its 403 and what OpenAPI says of it."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from atelier_common.auth import (
    STAFF_ROLES,
    AdminPrincipal,
    FinancePrincipal,
    JwksCache,
    OrderReaderPrincipal,
    Principal,
    RequireRole,
    StaffPrincipal,
    TokenVerifier,
    key_access,
)
from atelier_common.errors import install_error_handlers
from atelier_common.openapi import install_openapi
from atelier_testing import TestKeys


def _principal(*roles: str) -> Principal:
    return Principal(user_id=uuid.uuid4(), roles=frozenset(roles))


class TestHasRole:
    @pytest.mark.parametrize("role", STAFF_ROLES)
    def test_a_staffer_holds_its_role_and_an_admin_holds_every_one(self, role: str) -> None:
        assert _principal("customer", "staff", role).has_role(role)
        assert _principal("customer", "staff", "admin").has_role(role)

    def test_another_role_is_not_enough(self) -> None:
        assert not _principal("customer", "staff", "merchandiser").has_role("finance")
        assert _principal("customer", "staff", "support").has_role("support", "finance")

    def test_a_role_without_staff_counts_for_nothing(self) -> None:
        # The claim is identity's; a token saying `admin` without `staff` was not issued for staff.
        assert not _principal("customer", "admin").has_role("admin")

    def test_only_known_roles_can_be_required(self) -> None:
        with pytest.raises(ValueError, match="owner"):
            RequireRole("owner")
        with pytest.raises(ValueError):
            RequireRole()


@pytest.fixture
def keys() -> TestKeys:
    return TestKeys()


@pytest.fixture
def app(keys: TestKeys) -> FastAPI:
    app = FastAPI()
    app.state.verifier = TokenVerifier(JwksCache(None, static_json=keys.jwks_json), issuer=keys.issuer,
                                       audience=keys.audience)
    install_error_handlers(app)
    writes: list[str] = []
    app.state.writes = writes

    @app.post("/refunds")
    async def refund(staff: FinancePrincipal) -> dict[str, str]:
        writes.append("refund")
        return {"by": str(staff.user_id)}

    @app.get("/orders")
    async def orders(staff: OrderReaderPrincipal) -> dict[str, str]:
        return {}

    @app.delete("/storefronts")
    async def storefronts(staff: AdminPrincipal) -> dict[str, str]:
        return {}

    @app.get("/scoped")
    @key_access()
    async def scoped(staff: AdminPrincipal) -> dict[str, str]:
        return {}

    @app.get("/invoices")
    @key_access("invoices:read")
    async def invoices(staff: OrderReaderPrincipal) -> dict[str, str]:
        return {}

    @app.get("/staff-only")
    async def staff_only(staff: StaffPrincipal) -> dict[str, str]:
        return {}

    install_openapi(app, "test")
    return app


async def _call(app: FastAPI, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.request(method, path, headers=headers)


class TestRequireRole:
    @pytest.mark.parametrize(("roles", "status"), [(("finance",), 200), (("admin",), 200),
                                                   (("support",), 403), (("merchandiser",), 403)])
    async def test_a_role_without_permission_is_403_and_nothing_runs(self, app: FastAPI, keys: TestKeys,
                                                                      roles: tuple[str, ...], status: int) -> None:
        response = await _call(app, "POST", "/refunds", keys.staff_headers(*roles))
        assert response.status_code == status, response.text
        assert app.state.writes == (["refund"] if status == 200 else [])
        if status == 403:
            assert response.json()["error"]["code"] == "PERMISSION_DENIED"
            assert "finance" in response.json()["error"]["message"]

    async def test_a_customer_is_403_and_no_token_401(self, app: FastAPI, keys: TestKeys) -> None:
        assert (await _call(app, "POST", "/refunds", keys.user_headers())).status_code == 403
        assert (await _call(app, "POST", "/refunds", {})).status_code == 401

    @pytest.mark.parametrize(("roles", "status"), [(("support",), 200), (("finance",), 200),
                                                   (("merchandiser",), 403)])
    async def test_orders_are_read_by_support_and_finance(self, app: FastAPI, keys: TestKeys,
                                                          roles: tuple[str, ...], status: int) -> None:
        assert (await _call(app, "GET", "/orders", keys.staff_headers(*roles))).status_code == status

    def test_openapi_names_the_roles_and_the_403(self, app: FastAPI) -> None:
        paths = app.openapi()["paths"]
        assert paths["/refunds"]["post"]["x-staff-roles"] == ["admin", "finance"]
        assert paths["/orders"]["get"]["x-staff-roles"] == ["admin", "finance", "support"]
        assert paths["/storefronts"]["delete"]["x-staff-roles"] == ["admin"]
        assert "403" in paths["/refunds"]["post"]["responses"]
        assert paths["/refunds"]["post"]["security"]


class TestApiKeyLimits:
    """`key_access`: what API keys may do beyond their roles, checked beneath every `RequireRole`."""

    async def test_a_key_limited_to_some_storefronts_calls_only_the_scoped_routes(self, app: FastAPI,
                                                                                  keys: TestKeys) -> None:
        limited = keys.api_key_headers(["admin"], ["shop"])
        assert (await _call(app, "GET", "/scoped", limited)).status_code == 200
        for method, path in (("DELETE", "/storefronts"), ("POST", "/refunds"), ("GET", "/staff-only")):
            response = await _call(app, method, path, limited)
            assert response.status_code == 403 and response.json()["error"]["code"] == "PERMISSION_DENIED"
        assert app.state.writes == []
        # Every storefront, or a person: the roles alone decide, as before.
        for headers in (keys.api_key_headers(["admin"], ["*"]), keys.staff_headers()):
            assert (await _call(app, "DELETE", "/storefronts", headers)).status_code == 200

    async def test_a_scope_only_key_calls_only_what_its_scopes_name(self, app: FastAPI, keys: TestKeys) -> None:
        reader = keys.api_key_headers([], ["*"], scopes=["invoices:read"])
        assert (await _call(app, "GET", "/invoices", reader)).status_code == 200
        for method, path in (("GET", "/orders"), ("POST", "/refunds"), ("GET", "/staff-only"), ("GET", "/scoped")):
            assert (await _call(app, method, path, reader)).status_code == 403, path
        # A scope adds to roles: a support key with `invoices:read` still reads orders.
        both = keys.api_key_headers(["support"], ["*"], scopes=["invoices:read"])
        assert (await _call(app, "GET", "/orders", both)).status_code == 200
        # A malformed scope claim grants nothing.
        garbled = {"Authorization": f"Bearer {keys.api_key_token(uuid.uuid4(), [], ['*'], scopes=[])}"}
        assert (await _call(app, "GET", "/invoices", garbled)).status_code == 403

    def test_only_known_scopes_can_be_declared(self) -> None:
        with pytest.raises(ValueError, match="orders:write"):
            key_access("orders:write")
