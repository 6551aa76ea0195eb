"""The money rules on the cart side: a subscription plan is never put in a cart, and the totals show the
price charged (digital goods tax-inclusive, goods with tax added)."""

from __future__ import annotations

from ..conftest import Catalog, Shopper


async def test_a_subscription_plan_is_refused(catalog: Catalog, guest: Shopper) -> None:
    plan = await catalog.product(kind="subscription_plan", price="9.99", track_inventory=False)
    response = await guest.add_raw(plan.product_id, 1)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "NOT_PURCHASABLE"
    assert (await guest.cart())["items"] == []


async def test_digital_goods_show_their_price_goods_get_tax_added(catalog: Catalog, guest: Shopper) -> None:
    pack = await catalog.product(kind="credit_pack", price="4.99", track_inventory=False)
    cart = await guest.add(pack.product_id, 1)
    # Its price includes its tax, reported (4.99 × 0.09 / 1.09 = 0.41) and not added.
    assert (cart["subtotal"], cart["tax_amount"], cart["tax_included"], cart["total"]) == ("4.99", "0.41", "0.41", "4.99")
    lamp = await catalog.product(price="10.00")
    cart = await guest.add(lamp.product_id, 1)
    assert (cart["subtotal"], cart["tax_amount"], cart["total"]) == ("14.99", "1.31", "15.89")
