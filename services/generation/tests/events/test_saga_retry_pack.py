"""The retry-pack saga in every delivery order (`atelier_testing.permutations`): an anonymous
visitor buys a retry pack for their book's cover and signs up; `order.paid` and
`identity.anonymous_claimed` may reach generation in either order, or twice: the pack always
ends the user's, applied to the cover once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

import pytest

from atelier_common.contracts.identity import AnonymousClaimed
from atelier_common.contracts.payments import OrderPaid
from atelier_common.events.envelope import IntegrationEvent
from atelier_testing import deliver_in_every_order, redelivering

from ..api.test_books import Owner, anonymous, call, new_book, retries_of, retry_pack_line, user

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


class TestRetryPackInEveryOrder:
    async def test_paid_and_claimed_in_any_order_apply_the_pack_once_for_the_user(self, api) -> None:
        runs: dict[uuid.UUID, tuple[Owner, str, str]] = {}

        async def scenario() -> list[IntegrationEvent]:
            visitor, member = anonymous(api), user(api)
            book = await new_book(api, visitor)
            await call(api, visitor, "POST", f"/books/{book['id']}/cover/versions", 201)
            cover = await call(api, visitor, "GET", f"/books/{book['id']}/cover")
            paid = OrderPaid(order_id=uuid.uuid4(), owner_id=visitor.id, anon_id=visitor.id, amount=Decimal("2.00"),
                             currency="GEL", payment_id=uuid.uuid4(), provider="local",
                             lines=[retry_pack_line(target=("COVER", cover["id"]))])
            runs[paid.order_id] = (member, book["id"], cover["id"])
            return [paid, AnonymousClaimed(anon_id=visitor.id, user_id=member.id)]

        async def outcome(events: Sequence[IntegrationEvent]) -> tuple[int, int]:
            member, book_id, cover_id = runs[next(e for e in events if isinstance(e, OrderPaid)).order_id]
            allowance = await retries_of(api, member, book_id, cover_id)
            return allowance["max"], allowance["remaining"]

        first = await deliver_in_every_order(scenario, redelivering(api.h, producer="payments"), outcome)
        assert first[0] >= 3  # the pack's three retries were added to the cover
