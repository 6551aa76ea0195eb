"""Storefronts: what a request, an order or a plan of one storefront makes in generation
carries that storefront (jobs, restorations, books, credit rows, retry packs, quotas), and so do
the events about it; the account's one wallet pays on every storefront; the credit-pack list
shows what the request's storefront sells."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from prometheus_client import REGISTRY
from sqlmodel import col, select

from atelier_common.contracts.catalog import ProductChanged
from atelier_common.contracts.payments import SubscriptionChanged
from atelier_generation.models import GenerationJob, RetryPack, Subscription
from atelier_testing.storefronts import add_storefront, make_storefront, on_storefront

from ..conftest import MODEL_API, FakeModelApi, User, assert_error, jpeg_bytes
from .test_books import Owner, call, new_book, new_character, retry_pack_paid, user
from .test_books import with_orders as with_orders  # the fixture


def on(api: Any, slug: str, caller: User | None = None) -> User:
    """A user whose requests come through storefront `slug` (the gateway's header)."""
    caller = caller or api.user()
    caller.headers = {**caller.headers, **on_storefront(slug)}
    return caller


def jobs_finished(storefront: str, kind: str, status: str) -> float:
    labels = {"storefront": storefront, "kind": kind, "status": status}
    return REGISTRY.get_sample_value("atelier_generation_jobs_total", labels) or 0.0


async def job_row(api: Any, job_id: str | uuid.UUID) -> GenerationJob:
    async with api.runtime.db.read_only() as session:
        job = await session.get(GenerationJob, uuid.UUID(str(job_id)))
    assert job is not None
    return job


class TestJobs:
    async def test_a_job_of_storefront_b_carries_b_in_its_read_its_events_and_its_credits(self, api) -> None:
        add_storefront(api.h.app, make_storefront("b"))
        buyer = on(api, "b")
        await api.buy_credits(buyer, 10)  # an order of the default storefront
        completed_before = jobs_finished("b", "image", "completed")

        job = await api.generated(buyer, batch_size=2)

        assert job["status"] == "completed" and job["storefront"] == "b"
        [completed] = api.h.published("job.completed")
        assert completed.data["storefront"] == "b" and completed.data["job_id"] == job["job_id"]
        [consumed] = api.h.published("credit.consumed")
        assert (consumed.data["storefront"], consumed.data["credits"]) == ("b", 4)
        # One wallet per account, whatever storefront: the rows say where credits came from and went.
        assert [(t["transaction_type"], t["amount"], t["storefront"]) for t in await api.transactions(buyer)] == [
            ("consume", -4, "b"), ("purchase", 10, "default")]
        assert jobs_finished("b", "image", "completed") == completed_before + 1

    async def test_the_same_wallet_pays_on_every_storefront(self, api) -> None:
        add_storefront(api.h.app, make_storefront("b"))
        buyer = api.user()
        await api.buy_credits(buyer, 4)
        on_default = await api.generated(buyer)
        on_b = await api.generated(on(api, "b", User(api.keys, buyer.id)))
        assert (on_default["storefront"], on_b["storefront"]) == ("default", "b")
        assert await api.balance(buyer) == 0
        assert [e.data["storefront"] for e in api.h.published("credit.consumed")] == ["default", "b"]

    async def test_a_failed_job_of_b_says_so_and_refunds_on_b(self, start_generation) -> None:
        model_api = FakeModelApi(fail=True)
        async with start_generation(model_backends={"flux-pro": "http"}, mounts={MODEL_API: model_api.app}) as api:
            add_storefront(api.h.app, make_storefront("b"))
            buyer = on(api, "b")
            await api.buy_credits(buyer, 5)
            failed_before = jobs_finished("b", "image", "failed")
            job = await api.generated(buyer)
            assert (job["status"], job["storefront"]) == ("failed", "b")
            [failed] = api.h.published("job.failed")
            assert (failed.data["storefront"], failed.data["refunded_credits"]) == ("b", 2)
            assert [(t["transaction_type"], t["storefront"]) for t in await api.transactions(buyer)][:2] == [
                ("refund", "b"), ("consume", "b")]
            assert jobs_finished("b", "image", "failed") == failed_before + 1

    async def test_without_a_storefront_a_job_is_the_defaults(self, api) -> None:
        buyer = api.user()
        await api.buy_credits(buyer, 2)
        job = await api.generated(buyer)
        assert job["storefront"] == "default"
        assert api.h.published("job.completed")[0].data["storefront"] == "default"
        assert api.h.published("credit.consumed")[0].data["storefront"] == "default"

    async def test_an_unknown_storefront_is_refused_and_charges_nothing(self, api) -> None:
        buyer = on(api, "nowhere")
        await api.buy_credits(buyer, 2)
        response = await api.generate(buyer)
        assert_error(response, 400, "UNKNOWN_STOREFRONT")
        assert await api.balance(api.user(buyer.id)) == 2
        assert api.h.published("credit.consumed") == []


class TestCreditPurchases:
    async def test_credits_granted_from_an_order_of_b_record_b(self, api) -> None:
        buyer = api.user()
        await api.buy_credits(buyer, 5, storefront="b")
        await api.buy_credits(buyer, 3)
        assert await api.balance(buyer) == 8  # one balance
        assert [(t["amount"], t["storefront"]) for t in await api.transactions(buyer)] == [
            (3, "default"), (5, "b")]


class TestRestorations:
    async def test_a_restoration_of_b_carries_b_and_so_does_its_unlock(self, api) -> None:
        add_storefront(api.h.app, make_storefront("b"))
        owner = on(api, "b")
        await api.buy_credits(owner, 1)
        restoration = await api.restored(owner)
        assert restoration["status"] == "completed" and restoration["storefront"] == "b"
        assert (await job_row(api, restoration["job_id"])).storefront == "b"
        assert api.h.published("job.completed")[0].data["storefront"] == "b"
        # Unlocked from the default storefront: the credit is spent on the restoration, of b.
        plain = User(api.keys, owner.id)
        unlocked = await api.client.post(f"/api/v1/restorations/{restoration['id']}/unlock", headers=plain.headers)
        assert unlocked.status_code == 200, unlocked.text
        await api.h.drain()
        assert api.h.published("credit.consumed")[0].data["storefront"] == "b"
        assert (await api.transactions(plain))[0]["storefront"] == "b"

    async def test_the_upload_of_an_unknown_storefront_is_refused(self, api) -> None:
        response = await api.upload(on(api, "nowhere"), jpeg_bytes(800, 600))
        assert_error(response, 400, "UNKNOWN_STOREFRONT")


class TestBooks:
    async def test_a_book_made_on_b_carries_b_and_so_do_its_illustrations(self, api) -> None:
        add_storefront(api.h.app, make_storefront("b"))
        author = user(api)
        on_b = Owner({**author.headers, **on_storefront("b")}, author.id)
        book = await new_book(api, on_b)
        assert book["storefront"] == "b"
        assert (await call(api, author, "GET", f"/books/{book['id']}"))["storefront"] == "b"
        assert [b["storefront"] for b in (await call(api, author, "GET", "/books"))["results"]] == ["b"]
        character = await new_character(api, on_b, book["id"])
        job_id = character["latest_version"]["job_id"]
        await api.h.drain()
        assert (await job_row(api, job_id)).storefront == "b"
        [completed] = api.h.published("job.completed")
        assert (completed.data["job_id"], completed.data["kind"], completed.data["storefront"]) == (
            job_id, "storybook", "b")

    async def test_a_retry_pack_paid_on_b_is_recorded_on_b(self, api) -> None:
        buyer = user(api)
        paid = retry_pack_paid(buyer.id).model_copy(update={"storefront": "b"})
        await api.h.deliver(paid, producer="payments")
        async with api.runtime.db.read_only() as session:
            packs = (await session.exec(select(RetryPack).where(col(RetryPack.order_id) == paid.order_id))).all()
        assert [p.storefront for p in packs] == ["b"]


    async def test_a_retry_pack_read_from_orders_takes_the_orders_storefront(self, with_orders) -> None:
        api, orders = with_orders
        owner = user(api)
        book = await new_book(api, owner)
        await call(api, owner, "POST", f"/books/{book['id']}/cover/versions", 201)
        cover = await call(api, owner, "GET", f"/books/{book['id']}/cover")
        on_b, on_default = orders.add(owner.id, "paid"), orders.add(owner.id, "paid")
        orders.orders[str(on_b)]["storefront"] = "b"  # an orders without storefronts says nothing: the default
        for order_id in (on_b, on_default):
            await call(api, owner, "POST", "/retries/apply",
                       json={"content_type": "COVER", "content_id": cover["id"], "order_id": str(order_id)})
        async with api.runtime.db.read_only() as session:
            packs = {p.order_id: p.storefront for p in (await session.exec(select(RetryPack))).all()}
        assert packs == {on_b: "b", on_default: "default"}


class TestSubscriptions:
    async def test_a_plan_changed_on_b_labels_the_quota_row_b(self, api) -> None:
        member = api.user()
        end = datetime.now(UTC) + timedelta(days=30)
        await api.h.deliver(SubscriptionChanged(user_id=member.id, plan_sku="pro_monthly", tier="pro", status="active",
                                                monthly_quota=10, current_period_end=end, storefront="b"),
                            producer="payments")
        async with api.runtime.db.read_only() as session:
            row = await session.get(Subscription, member.id)
        assert row is not None and row.storefront == "b"


def _pack(sku: str, credits: int, storefronts: list[str], kind: str = "credit_pack") -> ProductChanged:
    return ProductChanged(product_id=uuid.uuid4(), name=f"{sku} pack", sku=sku, kind=kind, price=Decimal("4.99"),
                          currency="USD", stock_quantity=0, is_active=True, attributes={"credits": credits},
                          storefronts=storefronts)


class TestPacks:
    async def packs(self, api: Any, slug: str | None) -> list[str]:
        headers = {**api.user().headers, **(on_storefront(slug) if slug else {})}
        response = await api.client.get("/api/v1/credits/packs", headers=headers)
        assert response.status_code == 200, response.text
        return sorted(p["sku"] for p in response.json())

    async def test_a_storefront_lists_the_packs_it_sells(self, api) -> None:
        add_storefront(api.h.app, make_storefront("reviv", sells=["credit_pack"]))
        add_storefront(api.h.app, make_storefront("figureforge", sells=["credit_pack", "subscription_plan"]))
        add_storefront(api.h.app, make_storefront("shop", sells=["physical"]))
        for event in (_pack("PACK_EVERYWHERE", 5, []), _pack("PACK_REVIV", 10, ["reviv"]),
                      _pack("PACK_FORGE", 20, ["figureforge", "shop"])):
            await api.h.deliver(event, producer="catalog")

        # The default storefront too sees only what is scoped to every storefront (`Storefront.offers`).
        assert await self.packs(api, None) == ["PACK_EVERYWHERE"]
        assert await self.packs(api, "reviv") == ["PACK_EVERYWHERE", "PACK_REVIV"]
        assert await self.packs(api, "figureforge") == ["PACK_EVERYWHERE", "PACK_FORGE"]
        # A storefront that sells no credit packs lists none, even one scoped to it.
        assert await self.packs(api, "shop") == []

    async def test_a_pack_moved_to_another_storefront_leaves_the_first(self, api) -> None:
        add_storefront(api.h.app, make_storefront("reviv", sells=["credit_pack"]))
        pack = _pack("PACK_5", 5, [])
        await api.h.deliver(pack, producer="catalog")
        assert await self.packs(api, "reviv") == ["PACK_5"]
        await api.h.deliver(pack.model_copy(update={"storefronts": ["figureforge"]}), producer="catalog")
        assert await self.packs(api, "reviv") == []
