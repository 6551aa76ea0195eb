"""/internal/orders for other services: the service credential, everything payments needs."""

from __future__ import annotations

import uuid

from atelier_common.auth import SERVICE_HEADER
from atelier_testing import ServiceHarness, TestKeys

from ..conftest import Customer, FakePlatform, assert_error


class TestGetInternalOrder:
    async def test_everything_payments_needs(self, harness: ServiceHarness, customer: Customer,
                                             platform: FakePlatform, service_headers: dict[str, str]) -> None:
        tier = platform.product(kind="print_tier", sku="basic", price="49.00", currency="GEL",
                                attributes={"max_retries_per_unit": 3})
        book = platform.book(customer.owner_id)
        order = await customer.placed(tier="basic", items=[{"book_id": book}],
                                      shipping_address_id=platform.address(customer.owner_id))
        response = await harness.client.get(f"/internal/orders/{order['id']}", headers=service_headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert {k: body[k] for k in ("owner_id", "user_id", "status", "currency", "total_amount", "order_number",
                                     "email", "requires_shipping", "is_payable", "is_paid")} == {
            "owner_id": str(customer.owner_id), "user_id": str(customer.owner_id), "status": "pending",
            "currency": "GEL", "total_amount": order["total_amount"], "order_number": order["order_number"],
            "email": "ada@example.com", "requires_shipping": True, "is_payable": True, "is_paid": False}
        [item] = body["items"]
        assert {k: item[k] for k in ("product_id", "kind", "sku", "attributes", "quantity", "unit_price", "book_id",
                                     "content_type", "content_id")} == {
            "product_id": tier["id"], "kind": "print_tier", "sku": "basic", "attributes": {"max_retries_per_unit": 3},
            "quantity": 1, "unit_price": "49.00", "book_id": book, "content_type": None, "content_id": None}
        assert body["shipping_address"]["full_name"] == "Ada Lovelace"

    async def test_the_service_credential_is_required(self, harness: ServiceHarness, customer: Customer,
                                                      platform: FakePlatform, test_keys: TestKeys) -> None:
        pack = platform.product(kind="credit_pack")
        order = await customer.placed(items=[{"product_id": pack["id"]}])
        for headers in ({}, test_keys.staff_headers(), {SERVICE_HEADER: "wrong"}):
            assert_error(await harness.client.get(f"/internal/orders/{order['id']}", headers=headers),
                         401, "AUTHENTICATION_REQUIRED")
            assert_error(await harness.client.post("/internal/orders", headers=headers,
                                                   json={"owner_id": str(uuid.uuid4()), "items": [{"sku": "X"}]}),
                         401, "AUTHENTICATION_REQUIRED")

    async def test_unknown_order_is_404(self, harness: ServiceHarness, service_headers: dict[str, str]) -> None:
        for ref in (str(uuid.uuid4()), "nope"):
            assert_error(await harness.client.get(f"/internal/orders/{ref}", headers=service_headers),
                         404, "NOT_FOUND")


class TestPlaceInternalOrder:
    async def test_a_credit_pack_bought_for_a_user(self, harness: ServiceHarness, platform: FakePlatform,
                                                   service_headers: dict[str, str], test_keys: TestKeys) -> None:
        platform.product(kind="credit_pack", sku="PACK_5", price="4.99", attributes={"credits": 5})
        user_id = uuid.uuid4()
        response = await harness.client.post("/internal/orders", headers=service_headers, json={
            "owner_id": str(user_id), "user_id": str(user_id), "email": "buyer@example.com",
            "items": [{"sku": "PACK_5", "quantity": 1, "unit_price": "0.00"}]})
        assert response.status_code == 201, response.text
        order = response.json()
        assert (order["status"], order["total_amount"], order["owner_id"], order["email"]) == (
            "pending", "4.99", str(user_id), "buyer@example.com")
        assert order["items"][0]["attributes"] == {"credits": 5}
        # Exactly like a public order: it is the user's, and announced.
        mine = await harness.client.get(f"/api/v1/orders/{order['id']}", headers=test_keys.user_headers(user_id))
        assert mine.status_code == 200
        await harness.drain()
        assert [e.data["order_id"] for e in harness.published("order.placed")] == [order["id"]]

    async def test_a_retry_pack_for_a_named_page(self, harness: ServiceHarness, platform: FakePlatform,
                                                 service_headers: dict[str, str]) -> None:
        pack = platform.product(kind="retry_pack", sku="RETRY_PACK_3", price="2.00", currency="GEL")
        owner_id = uuid.uuid4()
        page_id = platform.book_item(owner_id, "PAGE")
        response = await harness.client.post("/internal/orders", headers=service_headers, json={
            "owner_id": str(owner_id),
            "items": [{"product_id": pack["id"], "content_type": "PAGE", "content_id": page_id}]})
        assert response.status_code == 201, response.text
        assert response.json()["items"][0]["content_id"] == page_id

    async def test_the_same_rules_as_the_public_route(self, harness: ServiceHarness, platform: FakePlatform,
                                                      service_headers: dict[str, str]) -> None:
        lamp = platform.product()
        owner = str(uuid.uuid4())
        assert_error(await harness.client.post("/internal/orders", headers=service_headers, json={
            "owner_id": owner, "items": [{"product_id": lamp["id"]}]}), 400, "ADDRESS_REQUIRED")
        assert_error(await harness.client.post("/internal/orders", headers=service_headers, json={
            "items": [{"product_id": lamp["id"]}]}), 400, "VALIDATION_ERROR")
