"""The cart's discount code: applied and removed, shown with what orders says it saves,
refused as orders refuses it, read by orders with the cart, and gone with the order it went into."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from atelier_common.auth import SERVICE_HEADER
from atelier_common.contracts.orders import OrderLine, OrderPlaced, PromotionChanged
from atelier_testing import ServiceHarness
from atelier_testing.storefronts import add_storefront, make_storefront, on_storefront

from ..conftest import Catalog, FakeOrders, Shopper, assert_error

URL = "/api/v1/cart/promotion-code"


async def test_a_code_is_applied_shown_and_removed(harness: ServiceHarness, catalog: Catalog, guest: Shopper,
                                                   fake_orders: FakeOrders, cart_settings) -> None:
    fake_orders.codes["ten"] = "2.00"
    product = await catalog.product(price="20.00")
    await guest.add(product.product_id)
    response = await harness.client.post(URL, json={"code": "TEN"}, headers=guest.headers)
    assert response.status_code == 200, response.text
    cart = response.json()
    # 20.00 + 9% tax 1.80 − 2.00
    assert (cart["promotion_code"], cart["discount_total"], cart["total"]) == ("TEN", "2.00", "19.80")
    assert [(d["code"], d["amount"]) for d in cart["discounts"]] == [("ten", "2.00")]
    asked = fake_orders.asked[-1]
    assert (asked["code"], asked["strict"], asked["owner_id"], asked["user_id"]) == ("TEN", True, str(guest.owner_id),
                                                                                      None)
    assert asked["lines"] == [{"product_id": str(product.product_id), "variant_id": None, "unit_price": "20.00",
                               "quantity": 1, "kind": "physical", "tax_class": "standard"}]
    assert (await guest.cart())["discount_total"] == "2.00"
    # Orders reads the code with the cart (and prices it itself).
    internal = (await harness.client.get(f"/internal/carts/{guest.owner_id}",
                                         headers={SERVICE_HEADER: cart_settings.service_token})).json()
    assert internal["promotion_code"] == "TEN"

    removed = await harness.client.delete(URL, headers=guest.headers)
    assert removed.status_code == 200
    assert (removed.json()["promotion_code"], removed.json()["discount_total"]) == (None, "0.00")


async def test_a_refused_code_is_orders_answer_and_changes_nothing(harness: ServiceHarness, catalog: Catalog,
                                                                    guest: Shopper, fake_orders: FakeOrders) -> None:
    fake_orders.codes["ten"] = "2.00"
    fake_orders.refusals["bad"] = (400, "PROMOTION_CODE_INVALID")
    fake_orders.refusals["gone"] = (409, "PROMOTION_EXHAUSTED")
    await guest.add((await catalog.product()).product_id)
    assert (await harness.client.post(URL, json={"code": "TEN"}, headers=guest.headers)).status_code == 200
    assert_error(await harness.client.post(URL, json={"code": "bad"}, headers=guest.headers),
                 400, "PROMOTION_CODE_INVALID")
    assert_error(await harness.client.post(URL, json={"code": "gone"}, headers=guest.headers),
                 409, "PROMOTION_EXHAUSTED")
    assert_error(await harness.client.post(URL, json={"code": ""}, headers=guest.headers), 400, "VALIDATION_ERROR")
    assert (await guest.cart())["promotion_code"] == "TEN"


async def test_too_many_wrong_codes_is_orders_429_with_when_to_try_again(
        harness: ServiceHarness, catalog: Catalog, guest: Shopper, fake_orders: FakeOrders) -> None:
    """Orders counts wrong codes per caller and per client address: the cart sends it the address
    the gateway forwarded, and passes its 429 on as it said it."""
    fake_orders.codes["ten"] = "2.00"
    fake_orders.refusals["guess"] = (429, "RATE_LIMITED")
    await guest.add((await catalog.product()).product_id)
    assert (await harness.client.post(URL, json={"code": "TEN"}, headers=guest.headers)).status_code == 200
    response = await harness.client.post(URL, json={"code": "guess"},
                                         headers={**guest.headers, "X-Forwarded-For": "198.51.100.7"})
    error = assert_error(response, 429, "RATE_LIMITED")
    assert error["details"]["retry_after"] == 42 and response.headers["Retry-After"] == "42"
    assert (fake_orders.asked[-1]["client_ip"], fake_orders.asked[-1]["strict"]) == ("198.51.100.7", True)
    assert (await guest.cart())["promotion_code"] == "TEN"


async def test_a_code_that_stopped_applying_says_why(harness: ServiceHarness, catalog: Catalog, guest: Shopper,
                                                     fake_orders: FakeOrders) -> None:
    fake_orders.codes["last"] = "1.00"
    await guest.add((await catalog.product()).product_id)
    assert (await harness.client.post(URL, json={"code": "LAST"}, headers=guest.headers)).status_code == 200
    fake_orders.refusals["last"] = (409, "PROMOTION_EXHAUSTED")
    cart = await guest.cart()
    assert (cart["promotion_code"], cart["discount_total"], cart["promotion_code_problem"]["reason"]) == (
        "LAST", "0.00", "used_up")


async def test_the_order_from_the_cart_takes_the_code(harness: ServiceHarness, catalog: Catalog, guest: Shopper,
                                                      fake_orders: FakeOrders) -> None:
    fake_orders.codes["ten"] = "1.00"
    product = await catalog.product()
    await guest.add(product.product_id)
    assert (await harness.client.post(URL, json={"code": "TEN"}, headers=guest.headers)).status_code == 200
    await harness.deliver(OrderPlaced(order_id=uuid.uuid4(), order_number="ORD-20261126-PROMO1", owner_id=guest.owner_id,
                                      from_cart=True, lines=[OrderLine(product_id=product.product_id, sku=product.sku,
                                                                       kind=product.kind, quantity=1,
                                                                       unit_price=product.price)]),
                          producer="orders")
    await guest.add(product.product_id)
    assert (await guest.cart())["promotion_code"] is None


async def test_orders_is_asked_only_while_an_automatic_promotion_runs_or_a_code_is_applied(
        harness: ServiceHarness, catalog: Catalog, guest: Shopper, fake_orders: FakeOrders) -> None:
    """Without a code, a cart asks orders for a quote only while its storefront has a live
    automatic promotion (`promotion.changed`): the add-to-cart hot path makes no call otherwise."""
    product = await catalog.product()
    await guest.add(product.product_id)
    await guest.cart()
    assert fake_orders.asked == []  # no promotion heard of: nothing to ask

    now = datetime.now(UTC)
    promotion = uuid.uuid4()

    def changed(at: datetime, **terms: object) -> PromotionChanged:
        fields: dict[str, object] = {"promotion_id": promotion, "name": "Spring", "kind": "percentage",
                                     "value": Decimal("10"), "is_active": True, "updated_at": at} | terms
        return PromotionChanged.model_validate(fields)

    # A code's promotion, and an automatic one on another storefront or not started yet: no call.
    other = uuid.uuid4()
    await harness.deliver(PromotionChanged(promotion_id=other, name="Code", code="TEN", kind="fixed",
                                           value=Decimal("1"), is_active=True, updated_at=now), producer="orders")
    await harness.deliver(changed(now, storefront="b"), producer="orders")
    await harness.deliver(changed(now + timedelta(seconds=1), starts_at=now + timedelta(days=1)), producer="orders")
    await guest.cart()
    assert fake_orders.asked == []

    # It starts now: every read asks; an older change delivered late does not undo that.
    await harness.deliver(changed(now + timedelta(seconds=2)), producer="orders")
    await harness.deliver(changed(now + timedelta(seconds=1), is_active=False), producer="orders")
    await guest.cart()
    assert len(fake_orders.asked) == 1 and fake_orders.asked[0]["code"] is None

    # Ended (deactivated): no call again; a code applied: asked, whatever runs.
    await harness.deliver(changed(now + timedelta(seconds=3), is_active=False), producer="orders")
    await guest.cart()
    assert len(fake_orders.asked) == 1
    fake_orders.codes["ten"] = "1.00"
    assert (await harness.client.post(URL, json={"code": "TEN"}, headers=guest.headers)).status_code == 200
    assert (await guest.cart())["discount_total"] == "1.00"
    assert [a["code"] for a in fake_orders.asked[1:]] == ["TEN", "TEN"]


async def test_a_padded_code_is_kept_and_sent_trimmed(harness: ServiceHarness, catalog: Catalog, guest: Shopper,
                                                      fake_orders: FakeOrders) -> None:
    """The cart keeps the code as typed, trimmed; orders matches it whatever its case
    (tests-e2e/money/test_promotions.py applies " summer10 " through both)."""
    fake_orders.codes["summer10"] = "1.00"
    await guest.add((await catalog.product()).product_id)
    response = await harness.client.post(URL, json={"code": " summer10 "}, headers=guest.headers)
    assert response.status_code == 200, response.text
    assert (response.json()["promotion_code"], fake_orders.asked[-1]["code"]) == ("summer10", "summer10")


async def test_orders_is_told_the_callers_customer_group(harness: ServiceHarness, catalog: Catalog, guest: Shopper,
                                                         business: Shopper, test_keys,
                                                         fake_orders: FakeOrders) -> None:
    """Promotions may be for some customer groups: every quote names the caller's group on the
    storefront (the token's), none for a visitor or a member of another storefront's group."""
    fake_orders.codes["pro"] = "3.00"
    product = await catalog.product(price="20.00")
    elsewhere = Shopper(harness, test_keys.group_headers("business", uuid.uuid4(), storefront="other"),
                        uuid.uuid4())
    for shopper, group in ((business, "business"), (guest, None), (elsewhere, None)):
        await shopper.add(product.product_id)
        assert (await harness.client.post(URL, json={"code": "PRO"}, headers=shopper.headers)).status_code == 200
        assert fake_orders.asked[-1]["customer_group"] == group
        await shopper.cart()
        assert (fake_orders.asked[-1]["customer_group"], fake_orders.asked[-1]["strict"]) == (group, False)
        shipped = await harness.client.put("/api/v1/cart/shipping", json={"country": "FR"}, headers=shopper.headers)
        assert shipped.status_code == 200, shipped.text
        assert fake_orders.asked[-1]["customer_group"] == group


async def test_orders_is_told_the_callers_language_to_name_promotions_in(
        harness: ServiceHarness, catalog: Catalog, guest: Shopper, fake_orders: FakeOrders) -> None:
    """A storefront in English and Georgian: the cart's quote is asked in the caller's language
    (`?locale=`, else `Accept-Language`), so its promotions and shipping methods read in it."""
    add_storefront(harness.app, make_storefront("comics", currency="USD", locales=["en", "ka"]))
    fake_orders.codes["ten"] = "2.00"
    product = await catalog.product(price="20.00")
    headers = {**guest.headers, **on_storefront("comics")}
    await harness.client.post("/api/v1/cart/items", json={"product_id": str(product.product_id), "quantity": 1},
                              headers=headers)
    for extra, locale in (({"Accept-Language": "ka-GE,ka;q=0.9"}, "ka"), ({"Accept-Language": "fr"}, "en")):
        response = await harness.client.post(URL, json={"code": "TEN"}, headers={**headers, **extra})
        assert response.status_code == 200, response.text
        assert fake_orders.asked[-1]["locale"] == locale
