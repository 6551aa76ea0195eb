"""Credit packs, balance, transactions, subscription quotas and usage (S2, S4)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from atelier_common.contracts.catalog import ProductChanged
from atelier_common.contracts.identity import AnonymousClaimed
from atelier_common.contracts.orders import OrderLine
from atelier_common.contracts.payments import OrderPaid, SubscriptionChanged
from atelier_common.events.envelope import Envelope

from ..conftest import MODEL_API, FakeModelApi, assert_error


def _product(sku: str, credits: int | None, *, kind: str = "credit_pack", price: str = "4.99",
             active: bool = True, product_id: uuid.UUID | None = None, stock_only: bool = False) -> ProductChanged:
    return ProductChanged(product_id=product_id or uuid.uuid4(), name=f"{sku} pack", sku=sku, kind=kind,
                          price=Decimal(price), currency="USD", stock_quantity=0, is_active=active,
                          attributes={"credits": credits} if credits is not None else {}, stock_only=stock_only)


def _subscription(user, *, quota: int, status: str = "active", tier: str = "pro",
                  period_end: datetime | None = None) -> SubscriptionChanged:
    return SubscriptionChanged(user_id=user.id, plan_sku=f"{tier}_monthly", tier=tier, status=status,
                               monthly_quota=quota,
                               current_period_end=period_end or datetime.now(UTC) + timedelta(days=30))


class TestPurchases:
    async def test_quantity_multiplies_and_other_lines_are_ignored(self, api) -> None:
        user = api.user()
        await api.h.deliver(OrderPaid(
            order_id=uuid.uuid4(), owner_id=user.id, user_id=user.id, amount=Decimal("20.00"), currency="USD",
            payment_id=uuid.uuid4(), provider="local",
            lines=[OrderLine(product_id=uuid.uuid4(), sku="PACK_5", kind="credit_pack", quantity=3,
                             unit_price=Decimal("4.99"), attributes={"credits": 5}),
                   OrderLine(product_id=uuid.uuid4(), sku="MARBLE-1", kind="physical", quantity=1,
                             unit_price=Decimal("5.00")),
                   OrderLine(product_id=uuid.uuid4(), sku="BROKEN", kind="credit_pack", quantity=1,
                             unit_price=Decimal("1.00"), attributes={"credits": "lots"})]), producer="payments")
        assert await api.balance(user) == 15
        [purchase] = await api.transactions(user)
        assert purchase["transaction_type"] == "purchase" and purchase["amount"] == 15
        assert purchase["description"] == "PACK_5 × 3"

    async def test_credits_bought_anonymously_move_to_the_user(self, api) -> None:
        anon_id, user = uuid.uuid4(), api.user()
        await api.buy_credits(anon_id, 5, anonymous=True)
        await api.buy_credits(user, 2)
        await api.h.deliver(AnonymousClaimed(anon_id=anon_id, user_id=user.id), producer="identity")
        assert await api.balance(user) == 7
        assert len(await api.transactions(user)) == 2

    async def test_the_routes_need_a_user(self, api) -> None:
        for path in ("balance", "transactions", "packs"):
            assert_error(await api.client.get(f"/api/v1/credits/{path}"), 401, "AUTHENTICATION_REQUIRED")
            assert_error(await api.client.get(f"/api/v1/credits/{path}", headers=api.keys.anon_headers()),
                         401, "AUTHENTICATION_REQUIRED")

    async def test_transactions_are_the_last_fifty_newest_first(self, start_generation) -> None:
        async with start_generation(transactions_limit=3) as api:
            user = api.user()
            for credits in (1, 2, 3, 4):
                await api.buy_credits(user, credits)
            assert [t["amount"] for t in await api.transactions(user)] == [4, 3, 2]


class TestPacks:
    async def test_the_packs_follow_catalogs_announcements(self, api) -> None:
        user = api.user()
        pack_10 = _product("PACK_10", 10, price="8.99")
        for event in (_product("PACK_5", 5), pack_10, _product("RETRY_PACK_3", None, kind="retry_pack"),
                      _product("PACK_OFF", 50, active=False)):
            await api.h.deliver(event, producer="catalog")
        packs = (await api.client.get("/api/v1/credits/packs", headers=user.headers)).json()
        assert [(p["sku"], p["credits"], p["price"], p["price_cents"]) for p in packs] == [
            ("PACK_5", 5, "4.99", 499), ("PACK_10", 10, "8.99", 899)]
        # Deactivated later: gone from the list.
        await api.h.deliver(_product("PACK_10", 10, active=False, product_id=pack_10.product_id), producer="catalog")
        packs = (await api.client.get("/api/v1/credits/packs", headers=user.headers)).json()
        assert [p["sku"] for p in packs] == ["PACK_5"]

    async def test_a_stock_move_is_heard_for_packs_only(self, api) -> None:
        """A slab's sale (`stock_only`) is acknowledged unread; a pack's still updates the list, and
        a pack that became a slab leaves it on the change that says so."""
        user, pack, slab = api.user(), _product("PACK_5", 5), _product("SLAB", None, kind="physical")
        for event in (pack, slab):
            await api.h.deliver(event, producer="catalog")
        await api.h.deliver(_product("SLAB", None, kind="physical", product_id=slab.product_id, stock_only=True),
                            producer="catalog")
        await api.h.deliver(_product("PACK_5", 5, price="3.99", product_id=pack.product_id, stock_only=True),
                            producer="catalog")
        packs = (await api.client.get("/api/v1/credits/packs", headers=user.headers)).json()
        assert [(p["sku"], p["price"]) for p in packs] == [("PACK_5", "3.99")]
        await api.h.deliver(_product("PACK_5", 5, kind="physical", product_id=pack.product_id), producer="catalog")
        assert (await api.client.get("/api/v1/credits/packs", headers=user.headers)).json() == []


class TestSubscriptionQuota:
    async def test_the_quota_pays_before_credits(self, api) -> None:
        user = await api.user_with_credits(10)
        await api.h.deliver(_subscription(user, quota=3), producer="payments")
        first = await api.generated(user, batch_size=2)
        assert first["credits_charged"] == 0 and first["status"] == "completed"
        assert await api.balance(user) == 10
        # One image of quota left cannot pay for two: credits do.
        second = await api.generated(user, batch_size=2)
        assert second["credits_charged"] == 4
        usage = (await api.client.get("/api/v1/me/usage", headers=user.headers)).json()
        assert usage == {"images_generated": 4, "credits_balance": 6, "images_remaining": 1 + 6,
                         "subscription_tier": "pro", "free_preview_used": False,
                         "social_share_unlock_used": False}

    async def test_a_new_period_restores_the_quota_and_old_events_change_nothing(self, api) -> None:
        user = api.user()
        now = datetime.now(UTC)
        await api.h.deliver(_subscription(user, quota=2, period_end=now + timedelta(days=30)), producer="payments")
        await api.generated(user, batch_size=2)
        assert_error(await api.generate(user), 403, "INSUFFICIENT_CREDITS")
        renewed = _subscription(user, quota=2, period_end=now + timedelta(days=60))
        await api.h.deliver(renewed, producer="payments")
        assert (await api.generated(user))["status"] == "completed"
        # Cancelled now; then a change from yesterday (a studio plan) arrives late: it is ignored.
        await api.h.deliver(_subscription(user, quota=0, status="canceled"), producer="payments")
        late = Envelope.wrap(_subscription(user, quota=50, tier="studio"), producer="payments")
        await api.h.bus.publish([late.model_copy(update={"occurred_at": now - timedelta(days=1)})])
        await api.h.drain()
        usage = (await api.client.get("/api/v1/me/usage", headers=user.headers)).json()
        assert usage["subscription_tier"] == "free" and usage["images_remaining"] == 0

    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    async def test_a_plan_paid_a_moment_ago_pays_before_its_event_arrives(self, api) -> None:
        """Jobs posted the moment the checkout was paid: generation has not heard `subscription.changed`
        yet, so before refusing one it asks payments, and the plan pays. The event arriving meanwhile
        or after keeps the count; a change older than payments' word changes nothing."""
        user, now = api.user(), datetime.now(UTC)
        plan = _subscription(user, quota=3)
        api.payments.plans[user.id] = (plan, now - timedelta(seconds=1))
        answers = await asyncio.gather(*(api.generate(user) for _ in range(3)),
                                       api.h.deliver(plan, producer="payments"))
        assert [a.status_code for a in answers[:3]] == [202] * 3, [a.text for a in answers[:3]]
        await api.h.drain()
        assert [(await api.job(user, a.json()["job_id"]))["credits_charged"] for a in answers[:3]] == [0] * 3
        usage = (await api.client.get("/api/v1/me/usage", headers=user.headers)).json()
        assert (usage["subscription_tier"], usage["images_remaining"]) == ("pro", 0)
        # Heard of: its quota running out is a refusal payments is not asked about.
        asked = len(api.payments.asked)
        assert_error(await api.generate(user), 403, "INSUFFICIENT_CREDITS")
        assert len(api.payments.asked) == asked
        late = Envelope.wrap(_subscription(user, quota=50, tier="studio"), producer="payments")
        await api.h.bus.publish([late.model_copy(update={"occurred_at": now - timedelta(days=1)})])
        await api.h.drain()
        usage = (await api.client.get("/api/v1/me/usage", headers=user.headers)).json()
        assert (usage["subscription_tier"], usage["images_remaining"]) == ("pro", 0)

    async def test_without_a_plan_at_payments_the_refusal_stands(self, api) -> None:
        user = api.user()
        assert_error(await api.generate(user), 403, "INSUFFICIENT_CREDITS")  # payments knows of none
        api.payments.plans[user.id] = (_subscription(user, quota=5, status="canceled"), datetime.now(UTC))
        assert_error(await api.generate(user), 403, "INSUFFICIENT_CREDITS")  # one that ended
        api.payments.plans[user.id] = (_subscription(user, quota=5), datetime.now(UTC))
        api.payments.unavailable = True
        assert_error(await api.generate(user), 403, "INSUFFICIENT_CREDITS")  # payments out of reach
        assert set(api.payments.asked) == {user.id} and len(api.payments.asked) >= 3
        usage = (await api.client.get("/api/v1/me/usage", headers=user.headers)).json()
        assert (usage["subscription_tier"], usage["images_remaining"]) == ("free", 0)

    async def test_a_failed_job_gives_the_quota_back(self, start_generation) -> None:
        model_api = FakeModelApi(fail=True)
        async with start_generation(model_backends={"flux-pro": "http"}, mounts={MODEL_API: model_api.app}) as api:
            user = api.user()
            await api.h.deliver(_subscription(user, quota=2), producer="payments")
            job = await api.generated(user, batch_size=2)
            assert job["status"] == "failed"
            usage = (await api.client.get("/api/v1/me/usage", headers=user.headers)).json()
            assert usage["images_remaining"] == 2 and usage["images_generated"] == 0
            assert api.h.published("job.failed")[0].data["refunded_credits"] == 0


class TestUsage:
    async def test_a_new_user_has_nothing(self, api) -> None:
        usage = (await api.client.get("/api/v1/me/usage", headers=api.user().headers)).json()
        assert usage == {"images_generated": 0, "credits_balance": 0, "images_remaining": 0,
                         "subscription_tier": "free", "free_preview_used": False,
                         "social_share_unlock_used": False}

    async def test_credits_count_at_the_cheapest_model(self, api) -> None:
        user = await api.user_with_credits(5)
        usage = (await api.client.get("/api/v1/me/usage", headers=user.headers)).json()
        assert usage["images_remaining"] == 5  # flux-schnell costs 1


class TestModels:
    async def test_the_registry_is_public(self, api) -> None:
        response = await api.client.get("/api/v1/generation/models")
        assert response.status_code == 200
        models = {m["id"]: m for m in response.json()["models"]}
        assert models["flux-pro"] == {"id": "flux-pro", "name": "FLUX Pro", "credits": 2, "kind": "image"}
        assert models["restore-v1"]["kind"] == "restoration"


class TestInternalQuota:
    async def test_payments_reads_the_quota_of_this_period(self, api) -> None:
        user = api.user()
        path, service = f"/internal/users/{user.id}/quota", {"X-Service-Token": api.runtime.settings.service_token}
        assert_error(await api.client.get(path, headers=user.headers), 401, "AUTHENTICATION_REQUIRED")
        none = {"monthly": 0, "used": 0, "remaining": 0, "period_end": None}
        assert (await api.client.get(path, headers=service)).json() == none
        end = datetime.now(UTC) + timedelta(days=30)
        await api.h.deliver(_subscription(user, quota=10, period_end=end), producer="payments")
        body = (await api.client.get(path, headers=service)).json()
        # The period counted in: payments tells by it whether generation heard of the current one.
        assert datetime.fromisoformat(body.pop("period_end")) == end
        assert body == {"monthly": 10, "used": 0, "remaining": 10}
        await api.generated(user, batch_size=2)
        body = (await api.client.get(path, headers=service)).json()
        assert (body["monthly"], body["used"], body["remaining"]) == (10, 2, 8)
        # Lapsed: no quota left to show.
        await api.h.deliver(_subscription(user, quota=10, status="canceled", period_end=end), producer="payments")
        assert (await api.client.get(path, headers=service)).json() == none


class TestSubscriptionPeriods:
    async def test_each_period_from_payments_resets_the_quota(self, api) -> None:
        user = api.user()
        start = datetime.now(UTC)
        first = SubscriptionChanged(user_id=user.id, plan_sku="pro_monthly", plan_id=uuid.uuid4(), tier="pro",
                                    status="active", monthly_quota=5, current_period_start=start,
                                    current_period_end=start + timedelta(days=30))
        await api.h.deliver(first, producer="payments")
        await api.generated(user, batch_size=2)
        path, service = f"/internal/users/{user.id}/quota", {"X-Service-Token": api.runtime.settings.service_token}
        assert (await api.client.get(path, headers=service)).json()["used"] == 2
        renewed = first.model_copy(update={"current_period_start": start + timedelta(seconds=1),
                                           "current_period_end": start + timedelta(days=30, seconds=1)})
        await api.h.deliver(renewed, producer="payments")
        body = (await api.client.get(path, headers=service)).json()
        assert (body["monthly"], body["used"], body["remaining"]) == (5, 0, 5)
