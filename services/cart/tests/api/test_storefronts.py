"""Carts per storefront: one cart per owner and storefront, what each storefront's cart
accepts (`Storefront.offers`), its currency and its tax, and orders' read with `?storefront=`."""

from __future__ import annotations

import uuid

import pytest

from atelier_common.auth import SERVICE_HEADER
from atelier_common.contracts.identity import StorefrontTax
from atelier_testing import ServiceHarness
from atelier_testing.storefronts import add_storefront, make_storefront, on_storefront

from ..conftest import Catalog, FakeCatalog, Shopper, assert_error, line_of


@pytest.fixture
def storefronts(harness: ServiceHarness) -> None:
    """A: USD, 9 % added, sells everything. B: EUR, 20 % added (5.5 % on the reduced class), sells
    goods only. C: USD, prices include tax (20 %)."""
    add_storefront(harness.app, make_storefront("a", currency="USD", tax=StorefrontTax(rate="0.09")))
    add_storefront(harness.app, make_storefront("b", currency="EUR", tax=StorefrontTax(
        rate="0.20", tax_rates={"reduced": "0.055"}), sells=["physical"]))
    add_storefront(harness.app, make_storefront("c", currency="USD", tax=StorefrontTax(rate="0.20", inclusive=True)))


@pytest.fixture
def service(cart_settings) -> dict[str, str]:
    return {SERVICE_HEADER: cart_settings.service_token}


def totals(cart: dict) -> tuple:
    return cart["currency"], cart["item_count"], cart["subtotal"], cart["tax_amount"], cart["total"]


@pytest.mark.usefixtures("storefronts")
class TestWhatMayBeAdded:
    async def test_a_product_scoped_to_another_storefront_is_404_and_the_cart_is_unchanged(
            self, catalog: Catalog, guest: Shopper) -> None:
        kept = await catalog.product(currency="EUR", price="5.00")
        only_a = await catalog.product(currency="EUR", storefronts=["a"])
        before = await guest.on("b").add(kept.product_id, 2)
        error = assert_error(await guest.on("b").add_raw(only_a.product_id), 404, "PRODUCT_NOT_FOUND")
        assert error["details"]["product_id"] == str(only_a.product_id)
        assert await guest.on("b").cart() == before

    async def test_a_product_scoped_to_the_storefront_or_to_none_is_added(self, catalog: Catalog,
                                                                          guest: Shopper) -> None:
        for_b = await catalog.product(currency="EUR", storefronts=["a", "b"])
        everywhere = await catalog.product(currency="EUR")
        await guest.on("b").add(for_b.product_id)
        assert (await guest.on("b").add(everywhere.product_id))["item_count"] == 2

    async def test_a_kind_the_storefront_does_not_sell_is_404(self, catalog: Catalog, guest: Shopper) -> None:
        pack = await catalog.product(kind="retry_pack", currency="EUR", price="4.99")
        assert_error(await guest.on("b").add_raw(pack.product_id), 404, "PRODUCT_NOT_FOUND")
        assert (await guest.on("b").cart())["items"] == []
        # A sells every kind: the same product is added there.
        usd_pack = await catalog.product(kind="retry_pack", price="4.99")
        assert (await guest.on("a").add(usd_pack.product_id))["item_count"] == 1

    async def test_a_subscription_plan_b_does_not_sell_is_404_not_400(self, catalog: Catalog,
                                                                       guest: Shopper) -> None:
        plan = await catalog.product(kind="subscription_plan", currency="EUR")
        assert_error(await guest.on("b").add_raw(plan.product_id), 404, "PRODUCT_NOT_FOUND")
        assert_error(await guest.on("a").add_raw(plan.product_id), 400, "NOT_PURCHASABLE")

    async def test_catalogs_snapshot_brings_the_storefronts(self, guest: Shopper, fake_catalog: FakeCatalog) -> None:
        # No event yet: catalog's snapshot is read and kept, storefronts included.
        product = fake_catalog.add(storefronts=["a"])
        assert_error(await guest.on("b").add_raw(product["id"]), 404, "PRODUCT_NOT_FOUND")
        assert (await guest.on("a").add(product["id"]))["item_count"] == 1
        calls = len(fake_catalog.calls)
        # Known now: the storefront is checked on what the read-model holds, without a call.
        assert_error(await guest.on("b").add_raw(product["id"]), 404, "PRODUCT_NOT_FOUND")
        assert_error(await guest.on("c").add_raw(product["id"]), 404, "PRODUCT_NOT_FOUND")
        assert len(fake_catalog.calls) == calls

    async def test_a_line_whose_product_left_the_storefront_is_kept_like_an_inactive_ones(
            self, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product(currency="EUR", price="10.00")
        line = line_of(await guest.on("b").add(product.product_id, 2), product.product_id)
        await catalog.change(product, storefronts=["a"])
        # As for a product gone inactive: the line stays as it was, cannot grow or change, and
        # can be removed.
        assert line_of(await guest.on("b").cart(), product.product_id) == line
        assert_error(await guest.on("b").add_raw(product.product_id), 404, "PRODUCT_NOT_FOUND")
        assert_error(await guest.on("b").set_quantity(line["id"], 3), 404, "PRODUCT_NOT_FOUND")
        assert (await guest.on("b").remove(line["id"])).json()["items"] == []


@pytest.mark.usefixtures("storefronts")
class TestCurrencyAndTax:
    async def test_a_new_cart_is_in_its_storefronts_currency(self, guest: Shopper) -> None:
        cart = await guest.on("b").cart()
        assert (cart["currency"], cart["storefront"]) == ("EUR", "b")
        assert ((await guest.on("a").cart())["currency"], (await guest.cart())["currency"]) == ("USD", "USD")

    async def test_bs_cart_is_taxed_at_bs_rate(self, catalog: Catalog, guest: Shopper) -> None:
        slab = await catalog.product(currency="EUR", price="85.50")
        cart = await guest.on("b").add(slab.product_id, 2)
        assert totals(cart) == ("EUR", 2, "171.00", "34.20", "205.20")  # 20 %
        assert (await guest.on("b").cart())["tax_amount"] == "34.20"

    async def test_each_line_is_taxed_at_its_tax_classs_rate_as_catalog_last_said(self, catalog: Catalog,
                                                                                  guest: Shopper) -> None:
        slab = await catalog.product(currency="EUR", price="85.50")
        book = await catalog.product(currency="EUR", price="2.10", tax_class="reduced")
        guide = await catalog.product(currency="EUR", price="4.10", tax_class="reduced")
        await guest.on("b").add(slab.product_id, 2)
        await guest.on("b").add(book.product_id)
        # 171.00 at 20 % and 6.20 of books at 5.5 %, rounded once per rate: 34.20 + 0.34.
        assert totals(await guest.on("b").add(guide.product_id)) == ("EUR", 4, "177.20", "34.54", "211.74")
        await catalog.change(guide, tax_class="zero")
        # 2.10 at 5.5 % = 0.1155 → 0.12; the guide untaxed now.
        assert totals(await guest.on("b").cart()) == ("EUR", 4, "177.20", "34.32", "211.52")

    async def test_the_same_goods_on_a_are_taxed_at_as_rate(self, catalog: Catalog, guest: Shopper) -> None:
        slab = await catalog.product(price="85.50")
        assert totals(await guest.on("a").add(slab.product_id, 2)) == ("USD", 2, "171.00", "15.39", "186.39")

    async def test_digital_goods_stay_tax_inclusive_where_tax_is_added(self, catalog: Catalog,
                                                                       guest: Shopper) -> None:
        slab, pack = await catalog.product(price="100.00"), await catalog.product(kind="credit_pack", price="4.99")
        await guest.on("a").add(slab.product_id)
        assert totals(await guest.on("a").add(pack.product_id)) == ("USD", 2, "104.99", "9.41", "113.99")

    async def test_an_inclusive_storefront_adds_no_tax_on_any_kind(self, catalog: Catalog, guest: Shopper) -> None:
        slab, tier = await catalog.product(price="100.00"), await catalog.product(kind="print_tier", price="20.00")
        await guest.on("c").add(slab.product_id)
        assert totals(await guest.on("c").add(tier.product_id, 2)) == ("USD", 3, "140.00", "23.33", "140.00")

    async def test_a_product_in_another_currency_is_refused(self, catalog: Catalog, guest: Shopper) -> None:
        usd = await catalog.product(currency="USD")
        error = assert_error(await guest.on("b").add_raw(usd.product_id), 400, "CURRENCY_MISMATCH")
        assert error["details"] == {"cart_currency": "EUR", "product_currency": "USD"}
        assert totals(await guest.on("b").cart()) == ("EUR", 0, "0.00", "0.00", "0.00")

    async def test_an_emptied_cart_does_not_take_another_currency(self, catalog: Catalog, guest: Shopper) -> None:
        eur, usd = await catalog.product(currency="EUR"), await catalog.product(currency="USD")
        await guest.on("b").add(eur.product_id)
        await guest.on("b").clear()
        assert_error(await guest.on("b").add_raw(usd.product_id), 400, "CURRENCY_MISMATCH")
        assert (await guest.on("b").cart())["currency"] == "EUR"


@pytest.mark.usefixtures("storefronts")
class TestOneCartPerStorefront:
    async def test_one_owner_has_a_cart_on_each_storefront(self, catalog: Catalog, user: Shopper) -> None:
        usd, eur = await catalog.product(price="10.00"), await catalog.product(currency="EUR", price="7.00")
        on_a = await user.on("a").add(usd.product_id, 2)
        on_b = await user.on("b").add(eur.product_id, 1)
        default = await user.cart()
        assert len({on_a["id"], on_b["id"], default["id"]}) == 3
        assert [(c["storefront"], c["item_count"]) for c in (on_a, on_b, default)] == [("a", 2), ("b", 1),
                                                                                         ("default", 0)]
        assert [i["product_id"] for i in (await user.on("a").cart())["items"]] == [str(usd.product_id)]
        assert [i["product_id"] for i in (await user.on("b").cart())["items"]] == [str(eur.product_id)]

    async def test_clearing_one_storefronts_cart_leaves_the_others(self, catalog: Catalog, user: Shopper) -> None:
        usd = await catalog.product()
        await user.on("a").add(usd.product_id, 2)
        await user.on("c").add(usd.product_id, 3)
        assert (await user.on("a").clear()).json()["items"] == []
        assert (await user.on("c").cart())["item_count"] == 3

    async def test_a_line_of_the_cart_on_another_storefront_is_not_found(self, catalog: Catalog,
                                                                          user: Shopper) -> None:
        usd = await catalog.product()
        line = (await user.on("a").add(usd.product_id, 2))["items"][0]
        assert_error(await user.on("c").set_quantity(line["id"], 1), 404, "NOT_FOUND")
        assert_error(await user.on("c").remove(line["id"]), 404, "NOT_FOUND")
        assert_error(await user.set_quantity(line["id"], 1), 404, "NOT_FOUND")
        assert (await user.on("a").cart())["items"][0]["quantity"] == 2

    async def test_an_unknown_storefront_is_400(self, harness, guest: Shopper) -> None:
        assert_error(await guest.on("nope").add_raw(uuid.uuid4()), 400, "UNKNOWN_STOREFRONT")
        response = await harness.client.get("/api/v1/cart", headers={**guest.headers, **on_storefront("nope")})
        assert_error(response, 400, "UNKNOWN_STOREFRONT")


@pytest.mark.usefixtures("storefronts")
class TestInternalCartsOfAStorefront:
    async def test_orders_reads_the_cart_of_the_storefront_it_names(self, harness, catalog: Catalog,
                                                                    guest: Shopper, service) -> None:
        usd, eur = await catalog.product(price="10.00"), await catalog.product(currency="EUR", price="50.00")
        on_a = await guest.on("a").add(usd.product_id, 1)
        on_b = await guest.on("b").add(eur.product_id, 2)
        await guest.add(usd.product_id, 3)
        for slug, shown in (("a", on_a), ("b", on_b)):
            response = await harness.client.get(f"/internal/carts/{guest.owner_id}", params={"storefront": slug},
                                                headers=service)
            assert response.status_code == 200, response.text
            assert response.json() == {**_internal(shown), "owner_id": str(guest.owner_id)}
        assert totals(on_b) == ("EUR", 2, "100.00", "20.00", "120.00")
        # Without the parameter (a caller older than storefronts): the default storefront's cart.
        default = (await harness.client.get(f"/internal/carts/{guest.owner_id}", headers=service)).json()
        assert (default["storefront"], default["item_count"], default["tax_amount"]) == ("default", 3, "2.70")

    async def test_no_cart_on_that_storefront_reads_empty_in_its_currency(self, harness, catalog: Catalog,
                                                                          guest: Shopper, service) -> None:
        await guest.on("a").add((await catalog.product()).product_id)
        body = (await harness.client.get(f"/internal/carts/{guest.owner_id}?storefront=b", headers=service)).json()
        assert body == {"id": None, "owner_id": str(guest.owner_id), "items": [], "item_count": 0,
                        "subtotal": "0.00", "tax_amount": "0.00", "tax_included": "0.00", "total": "0.00", "currency": "EUR",
                        "storefront": "b", "promotion_code": None, "shipping_address_id": None,
                        "shipping_method_id": None}

    async def test_an_unknown_storefront_is_400(self, harness, service) -> None:
        owner = uuid.uuid4()
        assert_error(await harness.client.get(f"/internal/carts/{owner}?storefront=nope", headers=service),
                     400, "UNKNOWN_STOREFRONT")
        assert_error(await harness.client.post(f"/internal/carts/{owner}/prices?storefront=nope", headers=service,
                                               json={"items": []}), 400, "UNKNOWN_STOREFRONT")
        assert_error(await harness.client.get(f"/internal/carts/{owner}?storefront={'x' * 65}", headers=service),
                     400, "VALIDATION_ERROR")

    async def test_repricing_changes_only_that_storefronts_cart(self, harness, catalog: Catalog, guest: Shopper,
                                                                service) -> None:
        product = await catalog.product(price="11.00")
        await guest.on("a").add(product.product_id, 1)
        await guest.on("c").add(product.product_id, 1)
        response = await harness.client.post(
            f"/internal/carts/{guest.owner_id}/prices?storefront=c", headers=service,
            json={"items": [{"product_id": str(product.product_id), "unit_price": "13.00"}]})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["storefront"], body["subtotal"], body["tax_amount"]) == ("c", "13.00", "2.17")
        assert line_of(await guest.on("a").cart(), product.product_id)["unit_price"] == "11.00"
        assert line_of(await guest.on("c").cart(), product.product_id)["unit_price"] == "13.00"
        # No cart on B: 404, as for an owner without a cart.
        assert_error(await harness.client.post(f"/internal/carts/{guest.owner_id}/prices?storefront=b",
                                               headers=service, json={"items": []}), 404, "NOT_FOUND")


def _internal(shown: dict) -> dict:
    """What orders reads of a cart the customer is shown: the same but for what the promotions save
    and shipping costs (orders prices them itself), with the shipping choice (none here)."""
    return {**{k: v for k, v in shown.items() if k not in ("discount_total", "promotion_code_problem", "discounts",
                                                           "free_shipping", "shipping")},
            "shipping_address_id": None, "shipping_method_id": None}
