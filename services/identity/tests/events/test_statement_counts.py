"""The SQL statements a guest checkout costs identity (`-s` prints them): the guest's address, the
internal read orders makes while placing the order, `order.paid` (for a guest who gets an account:
registration, welcome mail, claim; for one who stays a guest: none), a mailed `order.status_changed`,
and the mail sender's batch. Under load each one is a round trip plus statement-building CPU. On
PostgreSQL the counts are pinned; change them here when a path changes on purpose."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from atelier_common.auth import SERVICE_HEADER
from atelier_common.contracts.orders import OrderStatusChanged
from atelier_common.contracts.payments import BuyerAddress, OrderPaid
from atelier_testing import ServiceHarness, TestKeys
from atelier_testing.statements import statements

pytestmark = pytest.mark.databases("sqlite", "postgres", why="statement counts differ by dialect")

BUYER = "guest@example.com"


@pytest.fixture
def test_settings_overrides(test_settings_overrides: dict[str, Any]) -> dict[str, Any]:
    # The webhook worker's idle poll (a claim finding nothing) would land in a counted window at
    # random: it polls once an hour here, and is woken only by deliveries (none: no endpoint).
    return {**test_settings_overrides, "outbound_webhooks_poll_seconds": 3600}


async def test_a_guest_checkout(api, harness: ServiceHarness, test_keys: TestKeys, db_backend: str) -> None:
    anon_id = uuid.uuid4()
    mailer = harness.runtime.context.mailer
    await mailer.stop()  # the batch is sent below, by hand
    body = {"first_name": "Nino", "last_name": "Beridze", "address_line_1": "1 Rustaveli Ave", "city": "Tbilisi",
            "country": "GE", "email": BUYER, "phone": "+995 555 000 111"}

    with statements(harness.runtime.db, "POST /api/v1/addresses") as created:
        response = await api.client.post("/api/v1/addresses", json=body, headers=test_keys.anon_headers(anon_id))
        assert response.status_code == 201, response.text
    address = response.json()
    with statements(harness.runtime.db, "GET /internal/addresses/{id} (orders placing the order)") as read:
        response = await api.client.get(f"/internal/addresses/{address['id']}", params={"owner_id": str(anon_id)},
                                        headers={SERVICE_HEADER: "changethis"})
        assert response.status_code == 200, response.text
    assert {k: v for k, v in response.json().items() if k not in ("street_address", "apartment", "owner_tax_number")} == address

    order_id = uuid.uuid4()
    paid = OrderPaid(order_id=order_id, order_number="ORD-20261121-ABCDEF", owner_id=anon_id, anon_id=anon_id,
                     amount=Decimal("25.00"), currency="GEL", payment_id=uuid.uuid4(), provider="local",
                     buyer=BuyerAddress(email=BUYER, first_name="Nino", last_name="Beridze",
                                        phone="+995 555 000 111"), register_buyer=True)
    guest = uuid.uuid4()
    with statements(harness.runtime.db, "order.paid of a guest who stays one") as stays_a_guest:
        await harness.deliver(paid.model_copy(update={"order_id": uuid.uuid4(), "owner_id": guest, "anon_id": guest,
                                                      "register_buyer": False}))
    assert stays_a_guest == []  # acknowledged from the event alone: no transaction, no inbox row
    with statements(harness.runtime.db, "order.paid") as registered:
        await harness.deliver(paid)
    [claimed] = harness.published("identity.anonymous_claimed")
    user_id = uuid.UUID(claimed.data["user_id"])
    with statements(harness.runtime.db, "order.status_changed") as status:
        await harness.deliver(OrderStatusChanged(order_id=order_id, order_number="ORD-20261121-ABCDEF",
                                                 owner_id=user_id, user_id=user_id, email=BUYER,
                                                 old_status="paid", new_status="shipped"))
    with statements(harness.runtime.db, "the mail sender's batch") as sent:
        assert await mailer.flush() == 2
    with statements(harness.runtime.db, "the mail sender with nothing due") as idle:
        assert await mailer.flush() == 0

    mails = await api.mailbox(BUYER)
    assert [m["subject"] for m in mails] == ["Order ORD-20261121-ABCDEF: shipped",
                                             "Your account is ready: set your password"]
    addresses = await api.client.get("/api/v1/addresses", headers=test_keys.user_headers(user_id))
    assert [(a["id"], a["is_primary"]) for a in addresses.json()["results"]] == [(address["id"], True)]
    if db_backend != "postgres":
        return
    # The address: the book created or locked in one upsert, the labels, the INSERT (no reload).
    assert len(created) == 3 and created[0].startswith("INSERT INTO address_book")
    assert len(read) == 1
    # The inbox row; the account found or created in one statement; the welcome's token and mail;
    # both address books in one upsert, then both read at once; the adopted address moved; the claim;
    # its two events (`identity.user_registered`, `identity.anonymous_claimed`) in one INSERT before
    # the COMMIT. No webhook fan-out: with no endpoint, identity's worker queue is bound to nothing
    # and hears neither `order.paid` nor `identity.user_registered`.
    assert len(registered) == 9 and any(s.startswith("WITH created AS (INSERT INTO \"user\"") for s in registered)
    assert registered[-1].startswith("INSERT INTO outbox")
    assert not any(s.startswith("SELECT webhook_endpoint.") for s in registered)
    # The inbox row, the account's address, the mail.
    assert len(status) == 3
    # Outside a transaction (no BEGIN, no COMMIT): a batch is leased in one statement and marked
    # sent in one; a poll that finds nothing costs that one statement.
    assert (len(sent), len(idle)) == (2, 1)
