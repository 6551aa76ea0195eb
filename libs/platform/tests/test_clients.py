"""The merged OpenAPI feeds the standard client generators: openapi-python-client and
openapi-typescript generate without a warning, and a small program type-checks against each client
(clients/generate.py, what `make clients` runs)."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from atelier_platform.cli import app as cli
from atelier_testing import poll_until
from atelier_testing.infra import REQUIRE_ENV, infra_required

PASSWORD = "a long enough password"


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in doc["paths"].items() for method, op in item.items()
            if isinstance(op, dict)]


def test_the_document_has_what_generators_need(schema: Path) -> None:
    doc = json.loads(schema.read_text())
    ids = [op["operationId"] for _, _, op in _operations(doc)]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    titles = [s.get("title", name) for name, s in doc["components"]["schemas"].items()]
    assert len(titles) == len(set(titles)), sorted({t for t in titles if titles.count(t) > 1})
    for method, path, op in _operations(doc):
        for parameter in op.get("parameters", ()):
            if parameter["in"] == "path":
                assert parameter["required"] is True and "anyOf" not in parameter["schema"], (method, path, parameter)
    # The storybook versions' routes were the nullable ones (a handler shared with the cover's route).
    versions = doc["paths"]["/api/v1/books/{book_id}/pages/{item_id}/versions"]["get"]["parameters"]
    assert {"type": "string", "format": "uuid"}.items() <= next(p for p in versions if p["name"] == "item_id")[
        "schema"].items()


@pytest.fixture(scope="module")
def python_client(generate: ModuleType, schema: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target: Path = generate.python_client(schema, tmp_path_factory.mktemp("clients"))
    return target


def test_the_python_client_generates_and_type_checks(python_client: Path) -> None:
    assert (python_client / "atelier_client" / "api" / "orders" / "orders_get_order.py").exists()
    assert (python_client / "atelier_client" / "models" / "generation_image_read.py").exists()


def test_the_file_routes_answer_files(python_client: Path) -> None:
    """A stored file is bytes (`format: binary`): the client hands back a `File`, not bytes cast to `str`,
    and a generator without our configuration no longer leaves these answers out."""
    for module in ("products/catalog_get_media.py", "images/generation_get_image_file.py"):
        code = (python_client / "atelier_client" / "api" / module).read_text()
        assert "response_200 = File(" in code, module


def test_the_python_check_fails_on_a_program_the_client_does_not_fit(generate: ModuleType, python_client: Path) -> None:
    """mypy really reads the generated client: a field the schema lacks fails the check."""
    example = python_client / "example.py"
    good = example.read_text()
    example.write_text(good.replace("cart.total", "cart.grand_total"))
    try:
        with pytest.raises(generate.ClientCheckFailed, match="grand_total"):
            generate.check_python(python_client)
    finally:
        example.write_text(good)


def test_the_typescript_client_generates_and_type_checks(generate: ModuleType, schema: Path, tmp_path: Path) -> None:
    if shutil.which("npm") is None:
        message = "npm is not installed (apt-get install -y npm)"
        if infra_required():
            pytest.fail(f"{REQUIRE_ENV}=1 but {message}", pytrace=False)
        pytest.skip(message)
    target = generate.typescript_client(schema, tmp_path)
    generated = (target / "generated" / "atelier.ts").read_text()
    assert '"/api/v1/orders/{order_id}"' in generated
    # tsc really checks: a path the schema lacks fails.
    (target / "example.ts").write_text((target / "example.ts").read_text().replace(
        '"/api/v1/cart/items"', '"/api/v1/cart/lines"'))
    with pytest.raises(generate.ClientCheckFailed, match="cart/lines"):
        generate.check_typescript(target)


async def test_the_python_client_calls_with_an_api_key(python_client: Path, embedded_gateway: FastAPI,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """An integrator's program (clients/README.md): the generated client's `AuthenticatedClient` takes the
    API key as its token; the gateway exchanges it, the key's roles apply, and a revoked key is refused."""
    monkeypatch.syspath_prepend(str(python_client))
    from atelier_client import AuthenticatedClient, Client
    from atelier_client.api.auth import identity_login
    from atelier_client.api.staff import (
        identity_create_api_key,
        identity_revoke_api_key,
        orders_list_credit_notes_issued,
        orders_list_invoices,
        orders_list_paid_orders,
    )
    from atelier_client.models import (
        ApiKeyCreate,
        ApiKeyWithSecret,
        LoginRequest,
        LoginResponse,
        PageInvoiceSummaryRead,
        PaidOrdersRead,
    )

    created = await asyncio.to_thread(CliRunner().invoke, cli, ["users", "create", "ada@example.com", "--role",
                                                                "admin"], f"{PASSWORD}\n{PASSWORD}\n")
    assert created.exit_code == 0, created.output
    transport = {"transport": httpx.ASGITransport(app=embedded_gateway)}
    async with Client(base_url="http://localhost", httpx_args=transport) as anonymous:
        login = await identity_login.asyncio(client=anonymous, body=LoginRequest(email="ada@example.com",
                                                                                 password=PASSWORD))
    assert isinstance(login, LoginResponse)
    async with AuthenticatedClient(base_url="http://localhost", token=login.access, httpx_args=transport) as admin:
        key = await identity_create_api_key.asyncio(client=admin, body=ApiKeyCreate(
            name="Accounting export", roles=["finance"], storefronts=["*"]))
    assert isinstance(key, ApiKeyWithSecret) and key.secret.startswith("atk_live_")

    async with AuthenticatedClient(base_url="http://localhost", token=key.secret, httpx_args=transport) as books:
        invoices = await orders_list_invoices.asyncio(client=books, issued_after=datetime(2026, 11, 1, tzinfo=UTC),
                                                      issued_before=datetime(2026, 12, 1, tzinfo=UTC))
        assert isinstance(invoices, PageInvoiceSummaryRead) and invoices.count == 0
        notes = await orders_list_credit_notes_issued.asyncio_detailed(client=books)
        assert notes.status_code == 200
        feed = await orders_list_paid_orders.asyncio(client=books, limit=10)
        assert isinstance(feed, PaidOrdersRead) and feed.results == []
        # The key's roles, not more: creating keys is the admin's.
        refused = await identity_create_api_key.asyncio_detailed(client=books, body=ApiKeyCreate(
            name="escalation", roles=["admin"], storefronts=["*"]))
        assert refused.status_code == 403
        async with AuthenticatedClient(base_url="http://localhost", token=login.access,
                                       httpx_args=transport) as admin:
            assert (await identity_revoke_api_key.asyncio_detailed(key.id, client=admin)).status_code == 200

        # The embedded mode's bus delivers the revocation a moment after the commit.
        async def refused_now() -> bool | None:
            return (await orders_list_paid_orders.asyncio_detailed(client=books)).status_code == 401 or None

        await poll_until(refused_now, timeout=10, message="the revoked key refused")
