"""Request models: no money field is ever read, lines name exactly one product, S0 names accepted."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from atelier_orders.schemas import OrderCreate, OrderItemCreate, OrderStatusUpdate


class TestOrderCreate:
    def test_client_amounts_are_not_even_parsed(self) -> None:
        data = OrderCreate.model_validate({
            "items": [{"product_id": str(uuid.uuid4()), "quantity": 2, "unit_price": "0.01"}],
            "total_amount": "0.01", "subtotal": "0", "shipping_cost": "0", "discount": "99"})
        dumped = data.model_dump()
        for field in ("total_amount", "subtotal", "shipping_cost", "discount"):
            assert field not in dumped
        assert "unit_price" not in dumped["items"][0]

    def test_s0_names_and_the_order_tier_fill_book_lines(self) -> None:
        address, book = uuid.uuid4(), uuid.uuid4()
        data = OrderCreate.model_validate({"tier_name": "basic", "delivery_address_id": str(address),
                                           "items": [{"book_id": str(book), "quantity": 1},
                                                     {"book_id": str(book), "tier": "premium"}]})
        assert data.shipping_address_id == address
        assert [item.tier for item in data.items or ()] == ["basic", "premium"]

    def test_without_items_it_is_a_cart_checkout(self) -> None:
        assert OrderCreate.model_validate({}).items is None

    @pytest.mark.parametrize("item", [
        {},
        {"product_id": str(uuid.uuid4()), "tier": "basic", "book_id": str(uuid.uuid4())},
        {"tier": "basic"},
        {"book_id": str(uuid.uuid4()), "tier": "basic", "variant_id": str(uuid.uuid4())},
        {"sku": "PACK", "content_id": str(uuid.uuid4())},
        {"sku": "PACK", "quantity": True},
        {"sku": "PACK", "quantity": 1.0},
    ])
    def test_a_line_names_one_product(self, item: dict) -> None:
        with pytest.raises(ValidationError):
            OrderItemCreate.model_validate(item)

    def test_content_type_is_normalised(self) -> None:
        item = OrderItemCreate.model_validate({"sku": "RETRY", "content_type": " cover ",
                                               "content_id": str(uuid.uuid4())})
        assert item.content_type == "COVER"


def test_status_update_takes_a_known_status_only() -> None:
    assert OrderStatusUpdate.model_validate({"status": "shipped", "tracking_number": " T1 "}).tracking_number == "T1"
    with pytest.raises(ValidationError):
        OrderStatusUpdate.model_validate({"status": "lost"})
