"""Mail about other services' events comes from the event's storefront and links into it; an
account registered from `order.paid` records that storefront."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from atelier_common.contracts.generation import JobCompleted
from atelier_common.contracts.orders import (
    DraftOrderSent,
    OrderEditAwaitingPayment,
    OrderEditChange,
    OrderEdited,
    OrderEditLine,
    OrderStatusChanged,
)
from atelier_common.contracts.payments import BuyerAddress, OrderPaid
from atelier_identity.models import User
from atelier_testing.storefronts import add_storefront, make_storefront

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")

BUYER = "buyer@example.com"
B_FROM = "B <hello@b.example>"
B_PATHS = {"order": "/account/orders/{order_id}", "set_password": "/account/password?token={token}&email={email}"}


@pytest.fixture
def storefront_b(api) -> None:
    add_storefront(api.h.app, make_storefront("b", link_paths=B_PATHS))


def _status(storefront: str, order_id: uuid.UUID) -> OrderStatusChanged:
    return OrderStatusChanged(storefront=storefront, order_id=order_id, order_number="ORD-20261125-B00001",
                              owner_id=uuid.uuid4(), email=BUYER, old_status="paid", new_status="shipped")


class TestPaymentLinkMail:
    async def test_the_customer_of_a_sent_draft_gets_the_link_that_pays_it(self, api, harness,
                                                                          storefront_b) -> None:
        order_id = uuid.uuid4()
        url = f"https://b.example/pay?order_id={order_id}&token=123.abc"
        await harness.deliver(DraftOrderSent(
            storefront="b", draft_id=uuid.uuid4(), order_id=order_id, order_number="ORD-20261201-D00001",
            email=BUYER, total_amount=Decimal("79.50"), currency="EUR", payment_url=url,
            expires_at=datetime(2026, 12, 4, 10, 0, tzinfo=UTC)))
        [mail] = await api.wait_for_mail(BUYER)
        assert mail["from"] == B_FROM
        assert "79.50 EUR" in mail["subject"] and url in mail["text"]
        assert "2026-12-04 10:00" in mail["text"]


class TestOrderEditMail:
    async def test_an_edit_that_leaves_an_amount_due_mails_the_link_that_pays_it(self, api, harness,
                                                                               storefront_b) -> None:
        order_id, edit_id = uuid.uuid4(), uuid.uuid4()
        url = f"https://b.example/pay?order_id={order_id}&edit_id={edit_id}&token=123.abc"
        await harness.deliver(OrderEditAwaitingPayment(
            storefront="b", edit_id=edit_id, edit_version=2, order_id=order_id, order_number="ORD-20261201-E00001",
            owner_id=uuid.uuid4(), email=BUYER, reason="Customer asked", old_total=Decimal("30.00"),
            new_total=Decimal("42.00"), amount_due=Decimal("12.00"), currency="EUR",
            lines=[OrderEditChange(product_id=uuid.uuid4(), sku="HAT-1", name="Felt hat", old_quantity=0,
                                   new_quantity=1)],
            payment_url=url, expires_at=datetime(2026, 12, 4, 10, 0, tzinfo=UTC)))
        [mail] = await api.wait_for_mail(BUYER)
        assert mail["from"] == B_FROM and "12.00 EUR" in mail["subject"]
        assert url in mail["text"] and "Felt hat: 1 added" in mail["text"] and "42.00 EUR" in mail["text"]
        assert "2026-12-04 10:00" in mail["text"]

    async def test_an_applied_edit_says_what_changed_and_the_refund(self, api, harness, storefront_b) -> None:
        order_id = uuid.uuid4()
        await harness.deliver(OrderEdited(
            storefront="b", edit_id=uuid.uuid4(), edit_version=1, order_id=order_id,
            order_number="ORD-20261201-E00002", owner_id=uuid.uuid4(), email=BUYER, reason="Fewer",
            old_total=Decimal("60.00"), new_total=Decimal("30.00"), refund=Decimal("30.00"), currency="EUR",
            lines=[OrderEditLine(order_item_id=uuid.uuid4(), product_id=uuid.uuid4(), sku="LAMP-1", old_quantity=2,
                                 new_quantity=1)]))
        [mail] = await api.wait_for_mail(BUYER)
        assert mail["from"] == B_FROM and "was changed" in mail["subject"]
        assert "LAMP-1: 2 → 1" in mail["text"] and "30.00 EUR is refunded" in mail["text"]
        assert f"https://b.example/account/orders/{order_id}" in mail["text"]


class TestOrderStatusMail:
    async def test_comes_from_the_orders_storefront_and_links_to_its_order_page(self, api, harness,
                                                                                storefront_b) -> None:
        order_id = uuid.uuid4()
        await harness.deliver(_status("b", order_id))
        [mail] = await api.wait_for_mail(BUYER)
        assert mail["from"] == B_FROM
        assert f"https://b.example/account/orders/{order_id}" in mail["text"]
        assert f'href="https://b.example/account/orders/{order_id}"' in mail["html"]

    async def test_the_default_storefront_links_to_the_platforms_order_page(self, api, harness) -> None:
        order_id = uuid.uuid4()
        await harness.deliver(_status("default", order_id))
        [mail] = await api.wait_for_mail(BUYER)
        assert mail["from"] == "Atelier <no-reply@atelier.example>"
        assert f"http://localhost:3000/orders/{order_id}" in mail["text"]

    async def test_a_storefront_nobody_knows_falls_back_to_the_default(self, api, harness) -> None:
        order_id = uuid.uuid4()
        await harness.deliver(_status("deleted-since", order_id))
        [mail] = await api.wait_for_mail(BUYER)  # the event did not fail
        assert mail["from"] == "Atelier <no-reply@atelier.example>"
        assert f"http://localhost:3000/orders/{order_id}" in mail["text"]


class TestAutoRegistration:
    async def test_the_welcome_comes_from_the_orders_storefront_which_the_account_records(
            self, api, harness, storefront_b) -> None:
        anon_id = uuid.uuid4()
        await harness.deliver(OrderPaid(
            storefront="b", order_id=uuid.uuid4(), order_number="ORD-20261125-B00002", owner_id=anon_id,
            anon_id=anon_id, amount=Decimal("25.00"), currency="EUR", payment_id=uuid.uuid4(), provider="local",
            buyer=BuyerAddress(email=BUYER, first_name="Nino", last_name="Beridze"), register_buyer=True))
        [welcome] = await api.wait_for_mail(BUYER)
        assert welcome["subject"] == "Your account is ready: set your password"
        assert welcome["from"] == B_FROM
        token = await api.mailed_token(BUYER)
        assert f"https://b.example/account/password?token={token}&email=buyer%40example.com" in welcome["text"]
        async with api.h.runtime.db.read_only() as session:
            user = (await session.exec(select(User).where(User.email == BUYER))).one()
        assert user.signup_storefront == "b"


class TestJobMail:
    async def test_comes_from_the_jobs_storefront(self, start_identity) -> None:
        async with start_identity(job_notification_mail=True) as api:
            add_storefront(api.h.app, make_storefront("b"))
            user = await api.verified_user("ada@example.com")
            await api.h.deliver(JobCompleted(storefront="b", job_id=uuid.uuid4(), owner_id=uuid.UUID(user["id"]),
                                             kind="portrait"))
            mail = (await api.wait_for_mail("ada@example.com", 2))[0]
            assert mail["subject"] == "Your images are ready" and mail["from"] == B_FROM
