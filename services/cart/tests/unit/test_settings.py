"""The tax rule cart shows is orders' (`PricingSettings`): one setting, one set of bounds."""

from decimal import Decimal

import pytest

from atelier_cart.settings import CartSettings
from atelier_common.settings import PricingSettings


def test_cart_takes_the_shared_tax_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    assert issubclass(CartSettings, PricingSettings)
    monkeypatch.setenv("ATELIER_TAX_RATE", "0.2")
    assert CartSettings().tax_rate == Decimal("0.2")
