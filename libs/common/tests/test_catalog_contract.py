"""The shared product rules of `atelier_common.contracts.catalog` and the money helpers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from atelier_common.contracts.catalog import (
    ProductKind,
    ProductSnapshot,
    credits_granted,
    is_purchasable,
    pack_grant,
    retries_granted,
    tax_due,
)
from atelier_common.money import to_minor_units

D = Decimal


@pytest.mark.parametrize(("attributes", "quantity", "expected"), [
    ({"credits": 5}, 3, 15), ({"credits": "10"}, 1, 10), ({"credits": 0}, 1, None), ({}, 1, None),
    ({"credits": True}, 1, None), ({"credits": "many"}, 1, None), ({"credits": 5}, 0, None),
    ({"credits": 2.5}, 1, None), ({"credits": -3}, 1, None),
])
def test_credits_a_pack_line_grants(attributes: dict, quantity: int, expected: int | None) -> None:
    assert credits_granted(attributes, quantity) == expected


def test_retries_and_other_kinds() -> None:
    assert retries_granted({"retries": 3}, 2) == 6
    assert retries_granted({"credits": 3}, 1) is None
    assert pack_grant(ProductKind.PHYSICAL, {"credits": 5}, 1) is None
    assert pack_grant("a_kind_added_later", {"credits": 5}, 1) is None


def test_only_plans_are_not_purchasable() -> None:
    assert [k for k in ProductKind if not is_purchasable(k)] == [ProductKind.SUBSCRIPTION_PLAN]


def test_tax_is_added_on_tax_exclusive_kinds_only() -> None:
    lines = [(ProductKind.CREDIT_PACK, D("4.99")), (ProductKind.PHYSICAL, D("12.50")), ("print_tier", D("10.00"))]
    assert tax_due(lines, D("0.09")) == D("2.03")  # 22.50 × 9% = 2.025 → 2.03 (half up)
    assert tax_due(lines, D("0.09"), inclusive_kinds=()) == D("2.47")  # 27.49 × 9%
    assert tax_due([], D("0.09")) == D("0.00")


def test_a_snapshot_reads_unknown_fields_and_writes_money_as_text() -> None:
    snapshot = ProductSnapshot.model_validate({
        "id": "6f1c2c7e-0000-4000-8000-000000000001", "name": "Pack", "sku": "PACK_5", "kind": "credit_pack",
        "price": "4.99", "currency": "USD", "later": 1,
        "variants": [{"id": "6f1c2c7e-0000-4000-8000-000000000002", "name": "A", "sku": "A", "price": "5"}]})
    assert snapshot.model_dump(mode="json")["price"] == "4.99"
    assert snapshot.variant(snapshot.variants[0].id) is not None


@pytest.mark.parametrize(("amount", "currency", "minor"), [
    ("85.50", "USD", 8550), ("2", "GEL", 200), ("0.005", "USD", 1), ("500", "JPY", 500), ("499.5", "jpy", 500),
    ("1.25", "KWD", 1250), ("0.0005", "KWD", 1),
])
def test_minor_units_follow_the_currency_exponent(amount: str, currency: str, minor: int) -> None:
    assert to_minor_units(D(amount), currency) == minor
