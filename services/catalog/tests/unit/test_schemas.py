"""Request models: what a body may and may not say (400 before any rule runs)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from atelier_catalog.schemas import CategoryUpdate, ProductCreate, ProductUpdate, StockAdjustment, VariantUpdate


class TestProductCreate:
    def test_money_accepts_strings_and_numbers_but_not_fractions_of_a_cent(self) -> None:
        assert ProductCreate(name="A", sku="A-1", price="85.50").price == Decimal("85.50")
        assert ProductCreate(name="A", sku="A-1", price=85.5).price == Decimal("85.5")
        with pytest.raises(ValidationError):
            ProductCreate(name="A", sku="A-1", price="85.555")
        with pytest.raises(ValidationError):
            ProductCreate(name="A", sku="A-1", price="-1")

    def test_integers_and_booleans_are_strict(self) -> None:
        with pytest.raises(ValidationError):
            ProductCreate(name="A", sku="A-1", price="1", stock_quantity="5")
        with pytest.raises(ValidationError):
            ProductCreate(name="A", sku="A-1", price="1", is_featured="yes")

    def test_currency_is_an_uppercase_iso_code(self) -> None:
        assert ProductCreate(name="A", sku="A-1", price="1", currency="gel").currency == "GEL"
        with pytest.raises(ValidationError):
            ProductCreate(name="A", sku="A-1", price="1", currency="LARI")

    @pytest.mark.parametrize("slug", ["Upper", "two--dashes", "-lead", "with space", "3f6b1c2e-8d4a-4e59-9b7c-1a2d3e4f5a6b"])
    def test_slugs_are_lowercase_words_and_never_id_shaped(self, slug: str) -> None:
        with pytest.raises(ValidationError):
            ProductCreate(name="A", sku="A-1", price="1", slug=slug)

    def test_unknown_fields_are_ignored(self) -> None:
        assert not hasattr(ProductCreate(name="A", sku="A-1", price="1", colour="red"), "colour")


class TestPartialUpdates:
    def test_only_sent_fields_change(self) -> None:
        assert ProductUpdate(price="9.99").changes() == {"price": Decimal("9.99")}

    def test_nullable_fields_may_be_cleared(self) -> None:
        assert ProductUpdate(compare_price=None, category_id=None).changes() == {
            "compare_price": None, "category_id": None}
        assert VariantUpdate(price=None).changes() == {"price": None}
        assert CategoryUpdate(parent_id=None).changes() == {"parent_id": None}

    @pytest.mark.parametrize("field", ["name", "price", "sku", "kind", "attributes", "is_active"])
    def test_required_fields_may_not_be_sent_as_null(self, field: str) -> None:
        with pytest.raises(ValidationError) as caught:
            ProductUpdate(**{field: None})
        assert caught.value.errors()[0]["loc"] == (field,)

    def test_stock_is_not_updatable_here(self) -> None:
        assert ProductUpdate(stock_quantity=100).changes() == {}


class TestStockAdjustment:
    def test_a_zero_delta_or_missing_reason_is_refused(self) -> None:
        with pytest.raises(ValidationError):
            StockAdjustment(delta=0, reason="count")
        with pytest.raises(ValidationError):
            StockAdjustment(delta=1, reason="  ")
        assert StockAdjustment(delta=-3, reason="breakage").delta == -3
