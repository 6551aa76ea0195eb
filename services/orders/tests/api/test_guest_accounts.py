"""Guest accounts (docs/storefronts.md#guest-accounts): orders decides when placing an order whether its
buyer gets an account once it is paid, from the storefront's `guest_accounts` and the buyer's
`create_account`, keeps the decision on the order and carries it on `order.placed` and on the internal
read payments snapshots (and so on `order.paid`)."""

from __future__ import annotations

from typing import Any

import pytest

from atelier_testing import ServiceHarness
from atelier_testing.storefronts import add_storefront, make_storefront

from ..conftest import Customer, FakePlatform, assert_error


async def _decision(harness: ServiceHarness, buyer: Customer, platform: FakePlatform, service_headers: dict[str, str],
                    *, storefront: str | None = None, **body: Any) -> dict[str, Any]:
    """What the order placed by `buyer` (on `storefront`) says, on each of its reads and on `order.placed`."""
    on = buyer.on(storefront) if storefront else buyer
    lamp = platform.product(price="20.00", currency="EUR" if storefront else "USD")
    order = await on.placed(items=[{"product_id": lamp["id"]}], shipping_address_id=platform.address(buyer.owner_id),
                            **body)
    await harness.drain()
    [placed] = [e.data for e in harness.published("order.placed") if e.data["order_id"] == order["id"]]
    internal = await harness.client.get(f"/internal/orders/{order['id']}", headers=service_headers)
    assert internal.status_code == 200, internal.text
    return {"answer": order["register_buyer"], "read": (await on.order(order["id"]))["register_buyer"],
            "internal": internal.json()["register_buyer"], "order.placed": placed["register_buyer"]}


def _everywhere(value: bool) -> dict[str, bool]:
    return dict.fromkeys(("answer", "read", "internal", "order.placed"), value)


class TestTheDecision:
    async def test_a_guest_on_the_default_storefront_gets_an_account_only_when_asking(
            self, harness: ServiceHarness, new_customer, platform: FakePlatform,
            service_headers: dict[str, str]) -> None:
        """The default storefront "offer"s: nothing unless the guest asked at checkout."""
        assert await _decision(harness, new_customer(), platform, service_headers) == _everywhere(False)
        assert await _decision(harness, new_customer(), platform, service_headers,
                               create_account=False) == _everywhere(False)
        assert await _decision(harness, new_customer(), platform, service_headers,
                               create_account=True) == _everywhere(True)

    @pytest.mark.parametrize(("policy", "asked", "registers"), [
        ("create", False, True), ("create", True, True),
        ("offer", False, False), ("offer", True, True),
        ("never", False, False), ("never", True, False),
    ])
    async def test_a_guest_as_the_storefront_says(self, harness: ServiceHarness, new_customer, platform: FakePlatform,
                                                  service_headers: dict[str, str], policy: str, asked: bool,
                                                  registers: bool) -> None:
        add_storefront(harness.app, make_storefront("b", guest_accounts=policy))
        assert await _decision(harness, new_customer(), platform, service_headers, storefront="b",
                               create_account=asked) == _everywhere(registers)

    async def test_a_signed_in_buyer_is_never_registered_whatever_they_ask(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform,
            service_headers: dict[str, str]) -> None:
        add_storefront(harness.app, make_storefront("b", guest_accounts="create"))
        assert await _decision(harness, customer, platform, service_headers, storefront="b",
                               create_account=True) == _everywhere(False)

    async def test_a_later_change_of_the_policy_leaves_placed_orders_as_decided(
            self, harness: ServiceHarness, new_customer, platform: FakePlatform,
            service_headers: dict[str, str]) -> None:
        add_storefront(harness.app, make_storefront("b", guest_accounts="create", revision=1))
        guest = new_customer()
        lamp = platform.product(price="20.00", currency="EUR")
        order = await guest.on("b").placed(items=[{"product_id": lamp["id"]}],
                                           shipping_address_id=platform.address(guest.owner_id))
        add_storefront(harness.app, make_storefront("b", guest_accounts="never", revision=2))
        internal = await harness.client.get(f"/internal/orders/{order['id']}", headers=service_headers)
        assert internal.json()["register_buyer"] is True

    async def test_create_account_is_a_boolean(self, new_customer, platform: FakePlatform) -> None:
        guest = new_customer()
        lamp = platform.product(price="20.00")
        error = assert_error(await guest.place(items=[{"product_id": lamp["id"]}], create_account="perhaps",
                                               shipping_address_id=platform.address(guest.owner_id)),
                             400, "VALIDATION_ERROR")
        assert "create_account" in error["details"]["fields"]
