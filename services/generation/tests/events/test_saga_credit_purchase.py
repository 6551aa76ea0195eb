"""The credit-purchase saga in every delivery order (`atelier_testing.permutations`): an anonymous
buyer's `order.paid` and `identity.anonymous_claimed` (they signed up) may reach generation in
either order, or twice: the credits always end in the user's wallet, once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select

from atelier_common.contracts.identity import AnonymousClaimed, UserDeleted
from atelier_common.contracts.payments import OrderLine, OrderPaid
from atelier_common.events.envelope import IntegrationEvent
from atelier_common.inbox import InboxMessage
from atelier_generation.models import CreditTransaction, CreditWallet, GenerationOwner
from atelier_testing import deliver_in_every_order, redelivering

from ..conftest import User, credit_pack_paid

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


async def _wallets(api, owner_id: uuid.UUID) -> int:
    async with api.runtime.db.read_only() as session:
        stmt = select(func.count()).select_from(CreditWallet).where(CreditWallet.owner_id == owner_id)
        return (await session.execute(stmt)).scalar_one()


class TestCreditPurchaseInEveryOrder:
    async def test_paid_and_claimed_in_any_order_credit_the_user_once(self, api) -> None:
        users: dict[uuid.UUID, User] = {}

        async def scenario() -> list[IntegrationEvent]:
            anon_id, user = uuid.uuid4(), api.user()
            users[anon_id] = user
            return [credit_pack_paid(anon_id, 5, quantity=2, anonymous=True),
                    AnonymousClaimed(anon_id=anon_id, user_id=user.id)]

        async def outcome(events: Sequence[IntegrationEvent]) -> tuple[int, list[str], int]:
            paid = next(e for e in events if isinstance(e, OrderPaid))
            user = users[paid.owner_id]
            kinds = [t["transaction_type"] for t in await api.transactions(user)]
            return await api.balance(user), kinds, await _wallets(api, paid.owner_id)

        await deliver_in_every_order(scenario, redelivering(api.h, producer="payments"), outcome,
                                     expected=(10, ["purchase"], 0))


class TestOrdersOfOtherGoods:
    async def test_a_paid_order_of_slabs_alone_is_not_looked_at(self, api) -> None:
        slabs = credit_pack_paid(uuid.uuid4(), 5, anonymous=True)
        slabs = slabs.model_copy(update={"lines": [OrderLine(product_id=uuid.uuid4(), sku="SLAB-1", kind="physical",
                                                            quantity=2, unit_price=slabs.lines[0].unit_price)]})
        await api.h.deliver(slabs, producer="payments")
        await api.buy_credits(api.user(), 5)  # and the same consumer still acts on a credit pack
        async with api.runtime.db.read_only() as session:
            owners = (await session.execute(select(GenerationOwner.owner_id))).scalars().all()
            inbox = (await session.execute(select(InboxMessage.event_type))).scalars().all()
        assert slabs.owner_id not in owners  # no owner row locked or made for it
        assert inbox == ["order.paid"]  # the credit pack's only


class TestErasureInEveryOrder:
    """`identity.user_deleted` is final: a purchase or a claim heard after it leaves nothing behind."""

    async def test_a_purchase_and_the_erasure_in_any_order_leave_nothing(self, api) -> None:
        async def scenario() -> list[IntegrationEvent]:
            user_id = uuid.uuid4()
            return [credit_pack_paid(user_id, 5), UserDeleted(user_id=user_id)]

        async def outcome(events: Sequence[IntegrationEvent]) -> tuple[int, int]:
            user_id = next(e for e in events if isinstance(e, UserDeleted)).user_id
            return await _wallets(api, user_id), await _transactions(api, user_id)

        await deliver_in_every_order(scenario, redelivering(api.h, producer="identity"), outcome, expected=(0, 0))

    async def test_an_anonymous_purchase_its_claim_and_the_erasure_in_any_order_leave_nothing(self, api) -> None:
        async def scenario() -> list[IntegrationEvent]:
            anon_id, user_id = uuid.uuid4(), uuid.uuid4()
            return [credit_pack_paid(anon_id, 5, anonymous=True), AnonymousClaimed(anon_id=anon_id, user_id=user_id),
                    UserDeleted(user_id=user_id)]

        async def outcome(events: Sequence[IntegrationEvent]) -> tuple[int, int]:
            claim = next(e for e in events if isinstance(e, AnonymousClaimed))
            owners = (claim.anon_id, claim.user_id)
            return (sum([await _wallets(api, o) for o in owners]),
                    sum([await _transactions(api, o) for o in owners]))

        await deliver_in_every_order(scenario, redelivering(api.h, producer="identity"), outcome, expected=(0, 0))


async def _transactions(api, owner_id: uuid.UUID) -> int:
    async with api.runtime.db.read_only() as session:
        stmt = select(func.count()).select_from(CreditTransaction).where(CreditTransaction.owner_id == owner_id)
        return (await session.execute(stmt)).scalar_one()
