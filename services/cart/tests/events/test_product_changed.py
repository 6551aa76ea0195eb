"""catalog.product_changed feeds the read-model; a redelivered or late event never rolls it back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from atelier_cart.models import CartProduct
from atelier_common.inbox import InboxMessage

from ..conftest import Catalog, FakeCatalog, Shopper, assert_error, deliver_at, line_of

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


async def rows(harness) -> list[CartProduct]:
    async with harness.runtime.db.read_only() as session:
        return list((await session.exec(select(CartProduct))).all())


class TestReadModel:
    async def test_one_row_per_product_and_variant(self, harness, catalog: Catalog) -> None:
        product = await catalog.product(price="10.00")
        await catalog.change(product, price="12.00")
        variant = await catalog.product(product.product_id, variant_id=uuid.uuid4(), variant_name="v", price="9.00")
        await catalog.change(variant, price="8.00")
        stored = sorted(await rows(harness), key=lambda r: r.variant_id is not None)
        assert [(r.product_id, r.variant_id, str(r.price)) for r in stored] == [
            (product.product_id, None, "12.00"), (product.product_id, variant.variant_id, "8.00")]

    async def test_the_event_is_stored_as_sent(self, harness, catalog: Catalog) -> None:
        event = await catalog.product(name="Onyx", sku="ONYX-1", kind="physical", price="55.10", currency="GEL",
                                      stock=7, track_inventory=True, image_url="/m/onyx.jpg")
        [row] = await rows(harness)
        assert (row.name, row.sku, row.kind, str(row.price), row.currency, row.stock_quantity, row.track_inventory,
                row.is_active, row.image_url) == ("Onyx", "ONYX-1", "physical", "55.10", "GEL", 7, True, True,
                                                  "/m/onyx.jpg")
        assert row.product_id == event.product_id


class TestOrdering:
    async def test_an_older_event_arriving_late_is_ignored(self, harness, catalog: Catalog, guest: Shopper) -> None:
        old = catalog.event(price="10.00", stock=50)
        new = old.model_copy(update={"price": old.price * 2, "stock_quantity": 5})
        await deliver_at(harness, new, T0 + timedelta(seconds=2))
        await deliver_at(harness, old, T0 + timedelta(seconds=1))
        [row] = await rows(harness)
        assert (str(row.price), row.stock_quantity) == ("20.00", 5)
        assert_error(await guest.add_raw(old.product_id, 6), 409, "INSUFFICIENT_STOCK")
        assert line_of(await guest.add(old.product_id, 5), old.product_id)["unit_price"] == "20.00"

    async def test_a_deactivation_is_not_undone_by_an_older_activation(self, harness, catalog: Catalog,
                                                                       guest: Shopper) -> None:
        active = catalog.event()
        await deliver_at(harness, active.model_copy(update={"is_active": False}), T0 + timedelta(seconds=2))
        await deliver_at(harness, active, T0 + timedelta(seconds=1))
        assert_error(await guest.add_raw(active.product_id), 404, "PRODUCT_NOT_FOUND")

    async def test_a_newer_event_applies(self, harness, catalog: Catalog) -> None:
        event = catalog.event(price="10.00")
        await deliver_at(harness, event, T0)
        await deliver_at(harness, event.model_copy(update={"stock_quantity": 3}), T0 + timedelta(microseconds=1))
        assert (await rows(harness))[0].stock_quantity == 3

    async def test_times_in_other_offsets_compare_as_instants(self, harness, catalog: Catalog) -> None:
        event = catalog.event(price="10.00")
        plus_two = timezone(timedelta(hours=2))
        # 13:30+02:00 is 11:30 UTC: older than 12:00 UTC, although its digits are larger.
        await deliver_at(harness, event.model_copy(update={"stock_quantity": 1}), T0)
        await deliver_at(harness, event.model_copy(update={"stock_quantity": 2}),
                         datetime(2026, 11, 21, 13, 30, tzinfo=plus_two))
        assert (await rows(harness))[0].stock_quantity == 1

    async def test_a_redelivered_event_is_applied_once(self, harness, catalog: Catalog) -> None:
        event = catalog.event(stock=4)
        envelope_id = uuid.uuid4()
        await deliver_at(harness, event, T0, envelope_id=envelope_id)
        await deliver_at(harness, event.model_copy(update={"stock_quantity": 9}), T0 + timedelta(seconds=1))
        # The first envelope again (the broker redelivers it): the inbox skips it.
        await deliver_at(harness, event, T0 + timedelta(seconds=5), envelope_id=envelope_id)
        assert [r.stock_quantity for r in await rows(harness)] == [9]
        assert harness.bus.dead_letters == []

    async def test_events_replace_nothing_but_their_own_row(self, harness, catalog: Catalog,
                                                            fake_catalog: FakeCatalog, guest: Shopper) -> None:
        variant_id = str(uuid.uuid4())
        product = fake_catalog.add(price="10.00", variants=[
            {"id": variant_id, "name": "v", "sku": "V-9", "price": "30.00", "stock_quantity": 9, "attributes": {},
             "is_active": True}])
        await guest.add(product["id"])
        await catalog.product(uuid.UUID(product["id"]), price="11.00")
        cart = await guest.add(product["id"], 1, variant_id=variant_id)
        assert line_of(cart, product["id"], variant_id)["unit_price"] == "30.00"



class TestAStockChangeNoCartDecisionDependsOn:
    """A sale of a well-stocked product costs the cart no transaction: a stock-only change
    from and to at least the line limit (99) allows the same lines; one that crosses it always applies."""

    async def test_plenty_to_plenty_is_skipped_a_crossing_applies(self, harness, catalog: Catalog,
                                                                 new_shopper) -> None:
        product = await catalog.product(stock=1000)
        await catalog.change(product, stock_quantity=999, stock_only=True, previous_stock_quantity=1000)
        [row] = await rows(harness)
        assert row.stock_quantity == 1000  # not written: every stock from 99 up is the same to a cart
        assert await _inbox(harness) == 1  # the first announcement's row only: the skip left none
        await new_shopper().add(product.product_id, 99)
        # Down across the limit: applied, and the cart refuses what is not there.
        await catalog.change(product, stock_quantity=3, stock_only=True, previous_stock_quantity=120)
        [row] = await rows(harness)
        assert row.stock_quantity == 3
        other = new_shopper()
        assert_error(await other.add_raw(product.product_id, 4), 409, "INSUFFICIENT_STOCK")
        # Back up across it: applied.
        await catalog.change(product, stock_quantity=500, stock_only=True, previous_stock_quantity=3)
        [row] = await rows(harness)
        assert row.stock_quantity == 500
        await other.add(product.product_id, 4)

    async def test_a_change_that_says_no_stock_before_or_changes_more_applies(self, harness,
                                                                             catalog: Catalog) -> None:
        product = await catalog.product(stock=1000)
        await catalog.change(product, stock_quantity=900, stock_only=True)  # an older producer: no before
        [row] = await rows(harness)
        assert row.stock_quantity == 900
        await catalog.change(product, stock_quantity=800, stock_only=False, previous_stock_quantity=900, price="11.00")
        [row] = await rows(harness)
        assert (row.stock_quantity, str(row.price)) == (800, "11.00")


async def _inbox(harness) -> int:
    async with harness.runtime.db.read_only() as session:
        return len((await session.exec(select(InboxMessage))).all())
