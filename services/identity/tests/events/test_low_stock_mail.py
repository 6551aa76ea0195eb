"""`product.low_stock`: identity mails the storefront's `alert_emails`, else its active
merchandisers and admins; once per event, however often it is delivered (the inbox)."""

from __future__ import annotations

import uuid

import pytest

from atelier_common.contracts.catalog import ProductLowStock
from atelier_common.contracts.identity import StorefrontPolicies
from atelier_common.events.envelope import Envelope
from atelier_testing.storefronts import add_storefront, make_storefront

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


@pytest.fixture(autouse=True)
def storefronts(api) -> None:
    add_storefront(api.h.app, make_storefront("alerting", name="Alerting", policies=StorefrontPolicies(
        low_stock_threshold=10, alert_emails=["stock@alerting.example", "boss@alerting.example"])))
    add_storefront(api.h.app, make_storefront("staffed", policies=StorefrontPolicies(low_stock_threshold=10)))


def _low(storefront: str) -> ProductLowStock:
    return ProductLowStock(storefront=storefront, product_id=uuid.uuid4(), name="Stone Sealer 1 L",
                           sku="SEAL-PRO-1L", stock_quantity=7, previous_stock_quantity=12, threshold=10)


async def test_the_alert_addresses_are_mailed_once_per_event(api, harness) -> None:
    envelope = Envelope.wrap(_low("alerting"), producer="catalog")
    await harness.bus.publish([envelope])
    await harness.bus.publish([envelope])  # redelivered
    await harness.drain()
    [mail] = await api.wait_for_mail("stock@alerting.example")
    assert mail["subject"] == "Low stock: Stone Sealer 1 L"
    assert mail["from"] == "ALERTING <hello@alerting.example>"
    assert "down to 7 in stock on Alerting" in mail["text"] and "threshold of 10" in mail["text"]
    assert await api.mail_count("stock@alerting.example") == 1
    assert await api.mail_count("boss@alerting.example") == 1


async def test_without_addresses_the_merchandisers_and_admins_hear_it(api, harness, test_keys) -> None:
    admin = test_keys.staff_headers()
    for email, roles in (("mia@example.com", ["merchandiser"]), ("ann@example.com", ["admin"]),
                         ("sam@example.com", ["support"]), ("cus@example.com", None)):
        await api.signed_in(email)
        if roles:
            r = await api.client.post("/api/v1/staff/accounts", json={"email": email, "roles": roles}, headers=admin)
            assert r.status_code == 200, r.text
    await harness.deliver(_low("staffed"))
    await api.wait_for_mail("mia@example.com", 2)  # the welcome, then the alert
    [alert] = [m for m in await api.mailbox("ann@example.com") if m["subject"].startswith("Low stock")]
    assert "Stone Sealer 1 L" in alert["text"]
    for nobody in ("sam@example.com", "cus@example.com"):
        assert not [m for m in await api.mailbox_after_delivery(nobody) if m["subject"].startswith("Low stock")]


async def test_an_alert_for_one_location_names_it(api, harness) -> None:
    event = _low("alerting").model_copy(update={"location_id": uuid.uuid4(), "location": "Lyon shop"})
    await harness.bus.publish([Envelope.wrap(event, producer="catalog")])
    await harness.drain()
    [mail] = await api.wait_for_mail("stock@alerting.example")
    assert mail["subject"] == "Low stock: Stone Sealer 1 L at Lyon shop"
    assert "down to 7 in stock at Lyon shop on Alerting" in mail["text"]
