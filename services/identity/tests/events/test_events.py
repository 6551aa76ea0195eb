"""Events identity consumes: order.paid (a guest's account, docs/storefronts.md#guest-accounts),
order.status_changed and job mail."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from atelier_common.contracts.generation import JobCompleted, JobFailed
from atelier_common.contracts.orders import OrderStatusChanged
from atelier_common.contracts.payments import BuyerAddress, OrderPaid
from atelier_common.inbox import InboxMessage
from atelier_testing import TestKeys

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")

BUYER = "buyer@example.com"


def _paid(anon_id: uuid.UUID | None, email: str | None = BUYER, user_id: uuid.UUID | None = None, *,
          register_buyer: bool = True) -> OrderPaid:
    """A paid order; `register_buyer`: orders' decision when it was placed (True: the guest gets an account)."""
    return OrderPaid(order_id=uuid.uuid4(), order_number="ORD-20261121-ABCDEF", owner_id=user_id or anon_id,
                     user_id=user_id, anon_id=anon_id, amount=Decimal("25.00"), currency="GEL",
                     payment_id=uuid.uuid4(), provider="local",
                     buyer=BuyerAddress(email=email, first_name="Nino", last_name="Beridze", phone="+995 555 000 111")
                     if email else None, register_buyer=register_buyer)


async def _recorded(api) -> list[str]:
    """The event types identity's inbox recorded (a filtered event leaves no row)."""
    async with api.h.runtime.db.read_only() as session:
        return list((await session.execute(select(InboxMessage.event_type))).scalars().all())


# What `order.paid` carries for a guest, per storefront policy and the buyer's `create_account`
# (orders' `domain.registers_buyer`, decided when the order was placed).
POLICIES = {"create": True, "create, asked": True, "offer, asked": True, "offer": False, "never": False,
            "never, asked": False}


class TestEachPolicy:
    """docs/storefronts.md#guest-accounts: identity registers a guest when the paid order says so, and
    only then; whether it does is read from the event alone."""

    @pytest.mark.parametrize("policy", list(POLICIES))
    async def test_a_guest_is_registered_as_the_order_says(self, api, harness, test_keys: TestKeys,
                                                           policy: str) -> None:
        anon_id = uuid.uuid4()
        await api.client.post("/api/v1/addresses", json=_address(), headers=test_keys.anon_headers(anon_id))
        await harness.deliver(_paid(anon_id, register_buyer=POLICIES[policy]))
        if POLICIES[policy]:
            [welcome] = await api.wait_for_mail(BUYER)
            assert welcome["subject"] == "Your account is ready: set your password"
            [registered] = harness.published("identity.user_registered")
            assert registered.data["via"] == "order"
            [claimed] = harness.published("identity.anonymous_claimed")
            assert claimed.data == {"anon_id": str(anon_id), "user_id": registered.data["user_id"]}
            assert await _recorded(api) == ["order.paid"]
        else:
            assert harness.published("identity.user_registered") == []
            assert harness.published("identity.anonymous_claimed") == []
            assert await api.mail_count(BUYER) == 0
            nobody = await api.client.post("/internal/users/lookup", json={"email": BUYER},
                                           headers={"X-Service-Token": "changethis"})
            assert nobody.status_code == 404, nobody.text  # no account by the buyer's email
            # Acknowledged from the event alone: no transaction, no inbox row.
            assert await _recorded(api) == []

    async def test_an_event_from_before_the_policy_registers_nobody(self, api, harness) -> None:
        """Its `register_buyer` is missing: False, the safe reading (docs/storefronts.md#guest-accounts)."""
        data = _paid(uuid.uuid4()).model_dump(mode="json")
        del data["register_buyer"]
        old = OrderPaid.model_validate(data)
        assert old.register_buyer is False
        await harness.deliver(old)
        assert harness.published("identity.anonymous_claimed") == []
        assert await api.mail_count(BUYER) == 0
        assert await _recorded(api) == []

    async def test_the_account_the_provider_names_gets_the_order_even_where_guests_stay_guests(
            self, api, harness) -> None:
        """S0's `customer_id` names an existing account: a claim, not a registration."""
        customer = await api.verified_user("customer@example.com")
        anon_id = uuid.uuid4()
        await harness.deliver(_paid(anon_id, register_buyer=False).model_copy(
            update={"customer_id": uuid.UUID(customer["id"])}))
        [claimed] = harness.published("identity.anonymous_claimed")
        assert claimed.data == {"anon_id": str(anon_id), "user_id": customer["id"]}
        # One it does not know is not a reason to register the buyer there.
        await harness.deliver(_paid(uuid.uuid4(), register_buyer=False).model_copy(
            update={"customer_id": uuid.uuid4()}))
        assert len(harness.published("identity.anonymous_claimed")) == 1
        assert [e.data["via"] for e in harness.published("identity.user_registered")] == ["password"]  # the customer's own
        assert await api.mail_count(BUYER) == 0


def _address() -> dict[str, Any]:
    return {"label": "Delivery", "first_name": "Nino", "address_line_1": "1 Rustaveli Ave", "city": "Tbilisi",
            "country": "GE", "email": BUYER}


class TestAutoRegistration:
    async def test_an_anonymous_buyer_gets_an_account_a_welcome_mail_and_the_claim(self, api, harness,
                                                                                   test_keys: TestKeys) -> None:
        anon_id = uuid.uuid4()
        await api.client.post("/api/v1/addresses", json=_address(), headers=test_keys.anon_headers(anon_id))
        await harness.deliver(_paid(anon_id, "Buyer@Example.com"))
        [welcome] = await api.wait_for_mail(BUYER)
        assert welcome["subject"] == "Your account is ready: set your password"
        assert "/set-password?token=" in welcome["text"]
        [claimed] = harness.published("identity.anonymous_claimed")
        assert claimed.data["anon_id"] == str(anon_id)
        user_id = uuid.UUID(claimed.data["user_id"])
        addresses = await api.client.get("/api/v1/addresses", headers=test_keys.user_headers(user_id))
        assert [a["label"] for a in addresses.json()["results"]] == ["Delivery"]
        # The welcome link sets the password (a reset token), which also proves the address.
        token = await api.mailed_token(BUYER)
        response = await api.client.post("/api/v1/auth/password-reset/confirm", json={
            "token": token, "new_password": "my own password", "new_password_confirm": "my own password"})
        assert response.status_code == 200, response.text
        login = await api.login(BUYER, "my own password")
        assert login.status_code == 200, login.text
        user = login.json()["user"]
        assert (user["id"], user["first_name"], user["last_name"], user["phone"], user["is_verified"]) == (
            str(user_id), "Nino", "Beridze", "+995 555 000 111", True)

    async def test_an_existing_account_is_claimed_for_without_a_welcome_mail(self, api, harness) -> None:
        user = await api.verified_user(BUYER)
        mails_before = await api.mail_count(BUYER)
        anon_id = uuid.uuid4()
        await harness.deliver(_paid(anon_id))
        [claimed] = harness.published("identity.anonymous_claimed")
        assert claimed.data == {"anon_id": str(anon_id), "user_id": user["id"]}
        assert await api.mail_count(BUYER) == mails_before

    async def test_a_redelivered_event_registers_and_claims_once(self, api, harness) -> None:
        event = _paid(uuid.uuid4())
        envelope = await harness.deliver(event)
        await harness.deliver(event, envelope_id=envelope.id)
        assert len(harness.published("identity.anonymous_claimed")) == 1
        assert await api.mail_count(BUYER) == 1

    async def test_the_customer_the_provider_names_claims_the_order(self, api, harness) -> None:
        """S0: `customer_id` in the webhook names the buyer's account; no account is registered."""
        customer = await api.verified_user("customer@example.com")
        anon_id = uuid.uuid4()
        await harness.deliver(_paid(anon_id).model_copy(update={"customer_id": uuid.UUID(customer["id"])}))
        [claimed] = harness.published("identity.anonymous_claimed")
        assert claimed.data == {"anon_id": str(anon_id), "user_id": customer["id"]}
        assert await api.mail_count(BUYER) == 0  # nobody registered from the delivery address

    async def test_an_unknown_customer_falls_back_to_the_delivery_address(self, api, harness) -> None:
        anon_id = uuid.uuid4()
        await harness.deliver(_paid(anon_id).model_copy(update={"customer_id": uuid.uuid4()}))
        [claimed] = harness.published("identity.anonymous_claimed")
        assert claimed.data["anon_id"] == str(anon_id)
        assert len(await api.wait_for_mail(BUYER)) == 1  # registered from the address, as without one

    async def test_nothing_happens_for_a_signed_in_buyer_or_without_an_email(self, api, harness) -> None:
        await harness.deliver(_paid(uuid.uuid4(), user_id=uuid.uuid4()))
        await harness.deliver(_paid(uuid.uuid4(), email=None))
        await harness.deliver(_paid(uuid.uuid4(), email="not an email"))
        assert harness.published("identity.anonymous_claimed") == []
        assert await api.mail_count(BUYER) == 0
        # The signed-in buyer's payment was not even looked at: no transaction, no inbox row.
        assert (await _recorded(api)).count("order.paid") == 2


def _status(new_status: str, *, user_id: uuid.UUID | None = None, email: str | None = None,
            tracking: str | None = None) -> OrderStatusChanged:
    return OrderStatusChanged(order_id=uuid.uuid4(), order_number="ORD-20261121-XYZ123",
                              owner_id=user_id or uuid.uuid4(), user_id=user_id, email=email, old_status="paid",
                              new_status=new_status, tracking_number=tracking)


class TestOrderStatusMail:
    async def test_the_users_current_address_is_written_to(self, api, harness) -> None:
        user = await api.verified_user("ada@example.com")
        await harness.deliver(_status("shipped", user_id=uuid.UUID(user["id"]), email="typed@example.com",
                                      tracking="TRK-1"))
        mail = (await api.wait_for_mail("ada@example.com", 2))[0]
        assert mail["subject"] == "Order ORD-20261121-XYZ123: shipped"
        assert "has been shipped" in mail["text"] and "TRK-1" in mail["text"]
        assert await api.mail_count("typed@example.com") == 0

    async def test_a_georgian_order_is_mailed_in_georgian_and_an_unknown_language_in_english(
            self, api, harness) -> None:
        await harness.deliver(_status("shipped", email="ka@example.com", tracking="TRK-2").model_copy(
            update={"locale": "ka"}))
        [mail] = await api.wait_for_mail("ka@example.com")
        assert mail["subject"] == "შეკვეთა ORD-20261121-XYZ123: გაგზავნილია"
        assert "გზავნილის ნომერი: TRK-2" in mail["text"] and "შეკვეთის ნახვა" in mail["text"]
        await harness.deliver(_status("delivered", email="de@example.com").model_copy(update={"locale": "de"}))
        [mail] = await api.wait_for_mail("de@example.com")
        assert mail["subject"] == "Order ORD-20261121-XYZ123: delivered"

    async def test_an_anonymous_order_uses_the_email_it_carries(self, api, harness) -> None:
        await harness.deliver(_status("delivered", email="guest@example.com"))
        [mail] = await api.wait_for_mail("guest@example.com")
        assert "has been delivered" in mail["text"]

    async def test_statuses_outside_the_setting_send_nothing(self, api, harness) -> None:
        for status in ("processing", "awaiting_payment", "pending"):
            await harness.deliver(_status(status, email="guest@example.com"))
        assert await api.mail_count("guest@example.com") == 0
        # Not even looked at: acknowledged before any transaction, so no inbox row either.
        async with api.h.runtime.db.read_only() as session:
            assert (await session.execute(select(func.count()).select_from(InboxMessage))).scalar_one() == 0

    async def test_the_statuses_are_a_setting(self, start_identity) -> None:
        async with start_identity(order_notification_statuses=["processing"]) as api:
            await api.h.deliver(_status("processing", email="guest@example.com"))
            await api.h.deliver(_status("shipped", email="guest@example.com"))
            assert [m["subject"] for m in await api.mailbox_after_delivery("guest@example.com")] == [
                "Order ORD-20261121-XYZ123: processing"]


class TestJobMail:
    async def test_off_by_default(self, api, harness) -> None:
        user = await api.verified_user()
        await harness.deliver(JobCompleted(job_id=uuid.uuid4(), owner_id=uuid.UUID(user["id"]), kind="generation"))
        assert await api.mail_count("ada@example.com") == 1  # the verification only

    async def test_with_the_setting_owners_hear_about_finished_jobs(self, start_identity) -> None:
        async with start_identity(job_notification_mail=True) as api:
            user = await api.verified_user()
            owner = uuid.UUID(user["id"])
            await api.h.deliver(JobCompleted(job_id=uuid.uuid4(), owner_id=owner, kind="generation"))
            await api.h.deliver(JobFailed(job_id=uuid.uuid4(), owner_id=owner, kind="restoration", reason="timeout"))
            await api.h.deliver(JobCompleted(job_id=uuid.uuid4(), owner_id=uuid.uuid4(), kind="generation"))
            subjects = [m["subject"] for m in await api.mailbox_after_delivery("ada@example.com")]
            assert subjects[:2] == ["Your job failed", "Your images are ready"]
