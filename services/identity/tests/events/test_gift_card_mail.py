"""gift_card.delivery: a gift card bought in an order is mailed to its recipient on its send date."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlmodel import col

from atelier_common.contracts.payments import GiftCardDelivery
from atelier_identity.models import MailMessage

pytestmark = pytest.mark.databases("sqlite", "postgres", why="the mail sender's due lease is written per dialect")

FRIEND = "friend@example.com"


def _delivery(send_at: datetime | None = None) -> GiftCardDelivery:
    return GiftCardDelivery(storefront="default", gift_card_id=uuid.uuid4(), code="ABCD-EFGH-JKLM-NPQR",
                            recipient_email=FRIEND, amount=Decimal("50.00"), currency="EUR",
                            expires_at=datetime(2027, 12, 4, tzinfo=UTC), order_id=uuid.uuid4(),
                            order_number="ORD-20261204-G00001", message="Happy birthday!", send_at=send_at)


class TestGiftCardMail:
    async def test_the_code_is_mailed_to_the_recipient_at_once(self, api, harness) -> None:
        await harness.deliver(_delivery())
        [mail] = await api.wait_for_mail(FRIEND)
        assert "50.00 EUR" in mail["subject"]
        assert "ABCD-EFGH-JKLM-NPQR" in mail["text"] and "Happy birthday!" in mail["text"]
        assert "2027-12-04" in mail["text"]

    async def test_a_future_send_date_holds_the_mail_until_it_comes(self, api, harness) -> None:
        await harness.deliver(_delivery(send_at=datetime.now(UTC) + timedelta(days=3)))
        assert await api.mailbox_after_delivery(FRIEND) == []
        # The send date has come (moved into the past rather than waited for): the sender's poll sends it.
        async with api.h.runtime.db.transaction() as session:
            await session.execute(update(MailMessage).where(col(MailMessage.recipient) == FRIEND)
                                  .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
        [mail] = await api.mailbox_after_delivery(FRIEND)
        assert "ABCD-EFGH-JKLM-NPQR" in mail["text"]
