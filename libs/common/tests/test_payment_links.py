"""A payment link's token pays its order until it expires, and nothing else."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from atelier_common import payment_links

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ORDER = uuid.uuid4()


def test_a_token_pays_its_order_until_it_expires() -> None:
    token = payment_links.sign("secret", ORDER, NOW + timedelta(hours=1))
    assert payment_links.verify("secret", ORDER, token, now=NOW)
    assert not payment_links.verify("secret", ORDER, token, now=NOW + timedelta(hours=1))
    assert not payment_links.verify("secret", uuid.uuid4(), token, now=NOW)
    assert not payment_links.verify("another install", ORDER, token, now=NOW)


@pytest.mark.parametrize("token", ["", ".", "abc", "1796232655.", ".sig", "9999999999.forged", "x.y", "1.é", "²³.sig", "١٢.sig"])
def test_a_malformed_or_forged_token_pays_nothing(token: str) -> None:
    assert not payment_links.verify("secret", ORDER, token, now=NOW)


def test_a_later_expiry_cannot_be_written_in() -> None:
    token = payment_links.sign("secret", ORDER, NOW + timedelta(hours=1))
    signature = token.partition(".")[2]
    stretched = f"{int((NOW + timedelta(days=365)).timestamp())}.{signature}"
    assert not payment_links.verify("secret", ORDER, stretched, now=NOW)
