"""The cart as the checkout: where it ships (`PUT /cart/shipping`), priced by orders on every
answer, refused as orders refuses it, read by orders with the cart, handed to the user at sign-in
and gone with an erased owner."""

from __future__ import annotations

import uuid

from atelier_common.auth import SERVICE_HEADER
from atelier_common.contracts.identity import AnonymousClaimed, UserDeleted
from atelier_testing import ServiceHarness

from ..conftest import Catalog, FakeOrders, Shopper, assert_error

URL = "/api/v1/cart/shipping"


async def _internal(harness: ServiceHarness, owner: uuid.UUID, cart_settings) -> dict:
    response = await harness.client.get(f"/internal/carts/{owner}",
                                        headers={SERVICE_HEADER: cart_settings.service_token})
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


async def test_a_chosen_destination_prices_every_answer_and_goes_with_the_order(
        harness: ServiceHarness, catalog: Catalog, guest: Shopper, fake_orders: FakeOrders, cart_settings) -> None:
    product = await catalog.product(price="20.00")
    await guest.add(product.product_id, 2)
    address, method = uuid.uuid4(), uuid.uuid4()
    response = await harness.client.put(URL, json={"address_id": str(address), "method_id": str(method)},
                                        headers=guest.headers)
    assert response.status_code == 200, response.text
    cart = response.json()
    # Orders' answer, shown as it said it: 40.00 + 5.00 shipping.
    assert (cart["total"], cart["shipping"]["cost"], cart["shipping"]["method_id"]) == ("45.00", "5.00", str(method))
    assert [(line["discount"], line["tax_amount"]) for line in cart["items"]] == [("0.00", "0.00")]
    asked = fake_orders.asked[-1]["shipping"]
    assert asked == {"address_id": str(address), "country": None, "region": None, "method_id": str(method),
                     "strict": True}
    # Every later answer asks again, leniently (a choice that stopped doing is shown, not refused).
    assert (await guest.cart())["shipping"]["address_id"] == str(address)
    assert fake_orders.asked[-1]["shipping"]["strict"] is False
    internal = await _internal(harness, guest.owner_id, cart_settings)
    assert (internal["shipping_address_id"], internal["shipping_method_id"]) == (str(address), str(method))

    forgotten = await harness.client.delete(URL, headers=guest.headers)
    assert forgotten.status_code == 200
    asked_before = len(fake_orders.asked)
    assert ((await guest.cart())["shipping"], (await guest.cart())["total"]) == (None, "43.60")
    assert len(fake_orders.asked) == asked_before  # nothing to price: orders is not asked
    assert (await _internal(harness, guest.owner_id, cart_settings))["shipping_address_id"] is None


async def test_a_choice_orders_refuses_is_its_answer_and_changes_nothing(
        harness: ServiceHarness, catalog: Catalog, guest: Shopper, fake_orders: FakeOrders, cart_settings) -> None:
    await guest.add((await catalog.product()).product_id)
    kept = uuid.uuid4()
    assert (await harness.client.put(URL, json={"address_id": str(kept)}, headers=guest.headers)).status_code == 200
    for refusal in ((404, "ADDRESS_NOT_FOUND"), (400, "SHIPPING_NOT_AVAILABLE"), (400, "SHIPPING_METHOD_UNAVAILABLE")):
        fake_orders.shipping_refusal = refusal
        assert_error(await harness.client.put(URL, json={"country": "JP"}, headers=guest.headers), *refusal)
    assert (await _internal(harness, guest.owner_id, cart_settings))["shipping_address_id"] == str(kept)
    # Stopped doing since: shown with why, the totals without shipping.
    cart = await guest.cart()
    assert (cart["shipping"]["problem"]["reason"], cart["shipping"]["address_id"]) == (
        "SHIPPING_METHOD_UNAVAILABLE", str(kept))
    for body in ({}, {"address_id": str(kept), "country": "FR"}, {"country": "F"}, {"address_id": "nope"}):
        assert_error(await harness.client.put(URL, json=body, headers=guest.headers), 400, "VALIDATION_ERROR")


async def test_the_choice_follows_the_guest_who_signs_in_unless_the_user_has_one(
        harness: ServiceHarness, catalog: Catalog, guest: Shopper, user: Shopper, test_keys, cart_settings) -> None:
    product = await catalog.product()
    await guest.add(product.product_id)
    guests = uuid.uuid4()
    assert (await harness.client.put(URL, json={"address_id": str(guests)}, headers=guest.headers)).status_code == 200
    await harness.deliver(AnonymousClaimed(anon_id=guest.owner_id, user_id=user.owner_id), producer="identity")
    assert (await _internal(harness, user.owner_id, cart_settings))["shipping_address_id"] == str(guests)

    # Another guest session of the same person: the user's own choice stays.
    second_id = uuid.uuid4()
    second = Shopper(harness, test_keys.anon_headers(second_id), second_id)
    await second.add(product.product_id)
    assert (await harness.client.put(URL, json={"country": "FR"}, headers=second.headers)).status_code == 200
    await harness.deliver(AnonymousClaimed(anon_id=second_id, user_id=user.owner_id), producer="identity")
    assert (await _internal(harness, user.owner_id, cart_settings))["shipping_address_id"] == str(guests)


async def test_an_erased_user_leaves_no_choice(harness: ServiceHarness, catalog: Catalog, user: Shopper,
                                               cart_settings) -> None:
    await user.add((await catalog.product()).product_id)
    assert (await harness.client.put(URL, json={"country": "FR"}, headers=user.headers)).status_code == 200
    await harness.deliver(UserDeleted(user_id=user.owner_id), producer="identity")
    assert (await _internal(harness, user.owner_id, cart_settings))["shipping_address_id"] is None
