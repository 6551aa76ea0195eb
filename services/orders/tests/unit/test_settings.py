"""The tax rule orders charges is cart's (`PricingSettings`): one setting, one set of bounds."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from atelier_orders.settings import OrdersSettings


def test_a_tax_rate_of_100_percent_or_more_is_refused() -> None:
    with pytest.raises(ValidationError):
        OrdersSettings(tax_rate=Decimal("1"))
    assert OrdersSettings(tax_rate=Decimal("0.99")).tax_rate == Decimal("0.99")


def test_the_shared_tax_rate_variable_sets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_TAX_RATE", "0.2")
    assert OrdersSettings().tax_rate == Decimal("0.2")
