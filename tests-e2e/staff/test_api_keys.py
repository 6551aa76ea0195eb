"""API keys for machine callers, through the gateway in the distributed mode: an admin makes one,
a machine calls staff routes with it (its roles decide, its writes are audited under its name), a
rotation keeps both secrets working, a revocation stops both; the secret shows up in no span. The
console's API keys page does the same as an admin would."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

import httpx
import pytest
from infra.console import SCREEN, confirm, sign_in, status_says
from infra.journeys import customer, poll, staff

from atelier_testing import assert_error
from atelier_testing.browser import chromium, offline_context
from atelier_testing.platform import STAFF_EMAIL, STAFF_PASSWORD, Platform

pytestmark = [pytest.mark.e2e]


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def _refused(api: httpx.AsyncClient, secret: str) -> bool:
    return (await api.get("/api/v1/staff/orders", headers=_bearer(secret))).status_code == 401


async def test_an_api_key_from_creation_to_revocation(platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    made = await api.post("/api/v1/staff/api-keys", headers=admin,
                          json={"name": "ERP", "roles": ["support"], "storefronts": ["*"]})
    assert made.status_code == 201, made.text
    key = made.json()
    secret = key["secret"]
    assert secret.startswith("atk_live_")
    listed = (await api.get("/api/v1/staff/api-keys", headers=admin)).text
    assert key["id"] in listed and secret not in listed

    # Its roles decide: support reads orders and signs a customer out, but writes nothing of an admin's.
    orders = await api.get("/api/v1/staff/orders", headers=_bearer(secret))
    assert orders.status_code == 200, orders.text
    shopper = await customer(api)
    me = (await api.get("/api/v1/users/me", headers=shopper)).json()
    signed_out = await api.post(f"/api/v1/staff/customers/{me['id']}/sign-out", headers=_bearer(secret))
    assert signed_out.status_code == 200, signed_out.text
    assert_error(await api.post("/api/v1/staff/api-keys", headers=_bearer(secret),
                                json={"name": "mine", "roles": ["admin"], "storefronts": ["*"]}),
                 403, "PERMISSION_DENIED")
    # A refund is finance's: refused before anything is looked at.
    assert_error(await api.post("/api/v1/payments/refunds", headers=_bearer(secret),
                                json={"order_id": str(uuid.uuid4()), "amount": "1.00", "reason": "goodwill"}),
                 403, "PERMISSION_DENIED")
    assert_error(await api.get("/api/v1/staff/orders", headers=_bearer(secret[:-2] + "xx")), 401, "INVALID_TOKEN")

    async def audited() -> list[dict] | None:
        rows = (await api.get("/api/v1/staff/audit", headers=admin, params={"actor": key["id"]})).json()["results"]
        return rows or None

    rows = await poll(audited, message="the API key's write in the audit log")
    assert [(r["action"], r["actor_email"]) for r in rows] == [("customer.sign_out", "api-key:ERP")]

    used = (await api.get(f"/api/v1/staff/api-keys/{key['id']}", headers=admin)).json()
    assert used["use_count"] >= 1 and used["last_used_at"] is not None

    # A rotation: the new secret works, and the old one until it retires (24 h by default).
    rotated = await api.post(f"/api/v1/staff/api-keys/{key['id']}/rotate", headers=admin)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    for live in (secret, new):
        assert (await api.get("/api/v1/staff/orders", headers=_bearer(live))).status_code == 200

    # Revoked: both stop, in every gateway process (each heard identity.token_revoked).
    revoked = await api.post(f"/api/v1/staff/api-keys/{key['id']}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    for gone in (secret, new):
        async def refused(gone: str = gone) -> bool:
            # Several requests: each may reach another gateway process, and every one must refuse.
            return all([await _refused(api, gone) for _ in range(6)])

        await poll(refused, timeout=10, message="the revoked key refused by every gateway process")

    # The secrets were never written to a span (every process's spans: <data_dir>/traces).
    for text in _span_texts(platform.data_dir):
        assert secret not in text and new not in text


def _span_texts(data_dir: Path) -> list[str]:
    texts = []
    for path in sorted(Path(data_dir, "traces").glob("*.jsonl")):
        with contextlib.suppress(OSError):
            texts.append(path.read_text())
    assert texts, "no span files"
    return texts


async def test_an_admin_keeps_api_keys_in_the_console(platform: Platform, api: httpx.AsyncClient) -> None:
    name = f"books-{uuid.uuid4().hex[:6]}"
    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, _watch):
        page = await context.new_page()
        await sign_in(page, platform.url, STAFF_EMAIL, STAFF_PASSWORD)
        await page.get_by_role("link", name="API keys", exact=True).click()
        await page.get_by_label("Name", exact=True).fill(name)
        await page.get_by_label("finance", exact=True).check()
        await page.get_by_label("orders:read", exact=True).check()
        await page.get_by_role("button", name="Create key").click()
        await status_says(page, f"Key {name} created.")
        assert "orders:read" in (await page.get_by_role("row").filter(has_text=name).text_content() or "")
        secret = await page.locator("#api-key-secret").text_content()
        assert secret is not None and secret.startswith("atk_live_")
        assert (await api.get("/api/v1/staff/orders", headers=_bearer(secret))).status_code == 200

        await page.get_by_role("button", name=f"Rotate {name}").click()
        await status_says(page, f"Key {name} rotated")
        # Drawn again after the rotation: its last use is the exchange above.
        assert "(1 exchanges)" in (await page.get_by_role("row").filter(has_text=name).text_content() or "")
        new = await page.locator("#api-key-secret").text_content()
        assert new is not None and new != secret
        for live in (secret, new):
            assert (await api.get("/api/v1/staff/orders", headers=_bearer(live))).status_code == 200

        await page.get_by_role("button", name=f"Revoke {name}").click()
        await confirm(page, f"Revoke {name}?", "Revoke it")
        await status_says(page, f"Key {name} revoked.")
        for gone in (secret, new):
            async def refused(gone: str = gone) -> bool:
                return all([await _refused(api, gone) for _ in range(6)])

            await poll(refused, timeout=10, message="the key revoked in the console refused")
