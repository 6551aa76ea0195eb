"""`atelier backup` during checkouts, `atelier restore` onto an empty install, both modes.

The backup is taken while guest checkouts run; the restored install must hold exactly what the
archive's manifest counted (orders, users, images and files), serve the images, let a customer
sign in, and accept an access token issued before the backup (the signing keys came along).
"""

from __future__ import annotations

import asyncio
import json
import tarfile
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from infra.cdn import FakeCdn
from infra.identity_steps import bearer, signed_in_customer
from infra.journeys import PASSWORD, login, poll, staff
from infra.oidc import identity_env

from atelier_testing.platform import Platform, cli_env, distributed, embedded, run_atelier

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.modes("embedded", "distributed", why="SQLite files (embedded) or PostgreSQL databases (distributed)"),
]

ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Grace", "last_name": "Hopper",
           "street_address": "1 Harbour Road", "city": "Tbilisi", "postal_code": "0105", "country": "GE",
           "phone": "+995555000111"}
CHECKOUTS = 4


async def guest_checkout(base_url: str, product: dict[str, Any], placed: asyncio.Event) -> str:
    """One anonymous buyer's whole purchase with the local provider; the order's id."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as guest:
        token = (await guest.get("/api/v1/cart")).headers["x-anonymous-token"]
        headers = {"X-Session-ID": token}
        r = await guest.post("/api/v1/cart/items", headers=headers, json={"product_id": product["id"], "quantity": 1})
        assert r.status_code == 201, r.text
        r = await guest.post("/api/v1/addresses", headers=headers,
                             json={**ADDRESS, "email": f"guest-{uuid.uuid4().hex[:10]}@example.com"})
        assert r.status_code == 201, r.text
        r = await guest.post("/api/v1/orders", headers=headers, json={"shipping_address_id": r.json()["id"]})
        assert r.status_code == 201, r.text
        order = r.json()
        placed.set()

        async def reserved() -> bool:
            status = (await guest.get(f"/api/v1/orders/{order['id']}", headers=headers)).json()["status"]
            return status == "awaiting_payment"

        await poll(reserved, timeout=60, message="stock reserved")
        r = await guest.post("/api/v1/payments/checkout", headers=headers, json={
            "order_id": order["id"], "success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"})
        assert r.status_code in (200, 201), r.text
        checkout_url = r.json()["checkout_url"]
        assert (await guest.get(checkout_url)).status_code == 200
        r = await guest.post(f"{checkout_url}/pay", headers={"Accept": "application/json"})
        assert r.status_code == 200, r.text
        return str(order["id"])


async def _count(api: httpx.AsyncClient, path: str, headers: dict[str, str]) -> int:
    r = await api.get(path, headers=headers, params={"limit": 1})
    assert r.status_code == 200, r.text
    return int(r.json()["count"])


def _manifest(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive) as tar:
        return dict(json.loads(tar.extractfile("manifest.json").read()))  # type: ignore[union-attr]  # a regular member


def _files_under(directory: Path) -> int:
    return sum(1 for p in directory.rglob("*") if p.is_file() and not p.name.startswith(".")) if directory.is_dir() else 0


async def test_a_backup_during_checkouts_restores_onto_an_empty_install(
        platform: Platform, api: httpx.AsyncClient, tmp_path: Path, oidc_provider: Any, cdn: FakeCdn,
        request: pytest.FixtureRequest) -> None:
    known = await signed_in_customer(api)
    r = await api.get("/api/v1/products", params={"kind": "physical", "in_stock": "true", "limit": 50})
    product = next(p for p in r.json()["results"] if not p["variants"] and p["stock_quantity"] >= CHECKOUTS)

    # A few concurrent guest checkouts; the backup starts once the first order is placed.
    placed = asyncio.Event()
    checkouts = [asyncio.create_task(guest_checkout(platform.url, product, placed)) for _ in range(CHECKOUTS)]
    await asyncio.wait_for(placed.wait(), timeout=120)
    archive = tmp_path / "atelier.tar"
    result = await platform.atelier("backup", "--out", str(archive))
    assert json.loads(result.stdout.splitlines()[-1])["archive"] == str(archive)
    await asyncio.gather(*checkouts)

    manifest = _manifest(archive)
    orders = manifest["services"]["orders"]["tables"]["customer_order"]
    users = manifest["services"]["identity"]["tables"]["user"]
    images = manifest["services"]["catalog"]["tables"]["product_image"]
    files = {service: sum(1 for m in manifest["members"] if m.startswith(f"files/{service}/"))
             for service in ("catalog", "generation")}
    assert orders >= 1 and users >= 2 and images >= 1 and files["catalog"] >= 1

    # An empty install: a new data directory (and, distributed, new databases).
    restored_dir = tmp_path / "restored"
    prefix = f"atelier_e2e_{uuid.uuid4().hex[:8]}_"
    env = cli_env(restored_dir, platform.postgres_server_url, prefix if platform.postgres_server_url else "")
    await run_atelier(env, "restore", str(archive))
    extra = {**identity_env(oidc_provider), **cdn.env()}
    if platform.mode == "embedded":
        started = embedded(tmp_path, extra, data_dir=restored_dir)
    else:
        # One process per service with small pools: beside the session's platform, within max_connections.
        started = distributed(tmp_path, platform.postgres_server_url, request.getfixturevalue("amqp_url"), extra,
                              database_prefix=prefix, data_dir=restored_dir, split=False)
    with started as restored:
        async with httpx.AsyncClient(base_url=restored.url, timeout=30) as again:
            as_staff = await staff(again)
            assert await _count(again, "/api/v1/staff/orders", as_staff) == orders
            assert await _count(again, "/api/v1/staff/customers", as_staff) == users
            # The catalog's images are back, rows and files: each one is served.
            served = 0
            r = await again.get("/api/v1/products", params={"limit": 100})
            for item in r.json()["results"]:
                for image in item.get("images", []):
                    got = await again.get(image["url"])
                    assert got.status_code == 200 and got.content, image["url"]
                    served += 1
            assert served >= 1
            assert _files_under(restored_dir / "media") == files["catalog"]
            assert _files_under(restored_dir / "assets") == files["generation"]
            # A customer signs in, and a token issued before the backup still verifies.
            tokens = await login(again, known["email"], PASSWORD)
            assert tokens["user"]["id"] == known["id"]
            for access in (tokens["access"], known["access"]):
                r = await again.get("/api/v1/users/me", headers=bearer(access))
                assert r.status_code == 200, r.text
