"""Credit wallets and their log, credit packs, subscription quotas, usage.

The balance never goes negative: every debit is one guarded UPDATE (balance >= :n), and the
table has a CHECK behind it. Grants from `order.paid` are idempotent per (order, product).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from atelier_common import outbox
from atelier_common.contracts.catalog import ProductChanged, ProductKind, credits_granted
from atelier_common.contracts.generation import CreditConsumed
from atelier_common.contracts.identity import Storefront
from atelier_common.contracts.payments import OrderPaid, SubscriptionChanged
from atelier_common.errors import ServiceUnavailable
from atelier_common.money import to_minor_units
from atelier_common.service import UseCase
from atelier_generation import domain
from atelier_generation.context import GenerationContext
from atelier_generation.domain import JobKind, TransactionKind
from atelier_generation.errors import InsufficientCredits
from atelier_generation.models import CreditPack, CreditTransaction, GenerationJob
from atelier_generation.repository import (
    CreditPackRepository,
    JobRepository,
    OwnerRepository,
    RestorationRepository,
    ShareRepository,
    SubscriptionRepository,
    TransactionRepository,
    WalletRepository,
)
from atelier_generation.schemas import CreditPackRead, QuotaRead, TransactionRead, UsageRead
from atelier_generation.service._shared import utcnow

log = logging.getLogger("atelier.generation.credits")


@dataclass(frozen=True)
class Charge:
    credits: int = 0
    quota: int = 0
    quota_period_end: datetime | None = None


class CreditService(UseCase[GenerationContext]):

    # -- reads ---------------------------------------------------------------------------------

    async def balance(self, owner_id: uuid.UUID) -> int:
        return await WalletRepository(self.session).balance(owner_id)

    async def transactions(self, owner_id: uuid.UUID) -> list[TransactionRead]:
        rows = await TransactionRepository(self.session).latest(owner_id, self.context.settings.transactions_limit)
        return [TransactionRead(id=t.id, amount=t.amount, transaction_type=t.kind, balance_after=t.balance_after,
                                reference_id=t.reference_id, order_id=t.order_id, description=t.description,
                                storefront=t.storefront, created_at=t.created_at) for t in rows]

    async def packs(self, storefront: Storefront) -> list[CreditPackRead]:
        """The packs `storefront` sells: none where it sells no credit packs, else those catalog
        scoped to it or to every storefront."""
        if not storefront.sells_kind(ProductKind.CREDIT_PACK):
            return []
        return [CreditPackRead(id=p.product_id, sku=p.sku, name=p.name, credits=p.credits, price=p.price,
                               currency=p.currency, price_cents=to_minor_units(p.price, p.currency), active=p.is_active)
                for p in await CreditPackRepository(self.session).list_active()
                if storefront.offers(ProductKind.CREDIT_PACK, p.storefronts)]

    async def tier(self, user_id: uuid.UUID | None, now: datetime) -> str:
        subscription = await SubscriptionRepository(self.session).get(user_id) if user_id else None
        if subscription is None:
            return domain.FREE_TIER
        return domain.effective_tier(subscription.tier, subscription.status, subscription.current_period_end, now)

    async def is_subscriber(self, user_id: uuid.UUID | None) -> bool:
        return await self.tier(user_id, utcnow()) != domain.FREE_TIER

    async def usage(self, user_id: uuid.UUID) -> UsageRead:
        now = utcnow()
        balance = await self.balance(user_id)
        subscription = await SubscriptionRepository(self.session).get(user_id)
        tier, quota_left = domain.FREE_TIER, 0
        if subscription is not None:
            tier = domain.effective_tier(subscription.tier, subscription.status, subscription.current_period_end, now)
            if domain.subscription_is_active(subscription.status, subscription.current_period_end, now):
                quota_left = domain.quota_remaining(subscription.monthly_quota, subscription.quota_used)
        share = await ShareRepository(self.session).get(user_id)
        return UsageRead(images_generated=await JobRepository(self.session).images_generated(user_id),
                         credits_balance=balance, images_remaining=domain.images_remaining(quota_left, balance),
                         subscription_tier=tier,
                         free_preview_used=await RestorationRepository(self.session).any_for_owner(user_id),
                         social_share_unlock_used=share is not None and share.used_at is not None)

    async def quota(self, user_id: uuid.UUID) -> QuotaRead:
        """This period's subscription quota: zeros without an active subscription."""
        subscription = await SubscriptionRepository(self.session).get(user_id)
        if subscription is None or not domain.subscription_is_active(subscription.status,
                                                                      subscription.current_period_end, utcnow()):
            return QuotaRead(monthly=0, used=0, remaining=0)
        return QuotaRead(monthly=subscription.monthly_quota, used=subscription.quota_used,
                         remaining=domain.quota_remaining(subscription.monthly_quota, subscription.quota_used),
                         period_end=subscription.current_period_end)

    # -- spending ------------------------------------------------------------------------------

    async def spend(self, owner_id: uuid.UUID, amount: int, *, kind: TransactionKind,
                    reason: str, reference_id: uuid.UUID, description: str, storefront: str) -> int:
        """Debit `amount`, log it and announce `credit.consumed`; the balance left. The account's
        one wallet pays; the row and the event carry the `storefront` of what it was spent on."""
        now = utcnow()
        wallets = WalletRepository(self.session)
        balance = await wallets.debit(owner_id, amount, now)
        if balance is None:
            raise InsufficientCredits(details={"required": amount, "balance": await wallets.balance(owner_id)})
        TransactionRepository(self.session).add(CreditTransaction(
            owner_id=owner_id, kind=kind, amount=-amount, balance_after=balance, reference_id=reference_id,
            description=description, storefront=storefront, created_at=now))
        await outbox.add(self.session, CreditConsumed(user_id=owner_id, credits=amount, reason=reason,
                                                      reference_id=reference_id, balance_after=balance,
                                                      storefront=storefront))
        return balance

    async def charge_job(self, owner_id: uuid.UUID, *, images: int, credits: int,
                         job_id: uuid.UUID, description: str, storefront: str) -> Charge:
        """The subscription quota pays for the whole batch when it can (S4), credits otherwise. A free
        model costs nothing: neither quota nor a wallet, which an account that never bought has none of."""
        if credits == 0:
            return Charge()
        now = utcnow()
        subscriptions = SubscriptionRepository(self.session)
        taken = await subscriptions.use_quota(owner_id, images, now)
        if taken is None:
            try:
                await self.spend(owner_id, credits, kind=TransactionKind.CONSUME, reason="generation",
                                 reference_id=job_id, description=description, storefront=storefront)
                return Charge(credits=credits)
            except InsufficientCredits:
                if not await self._plan_known_now(owner_id, now):
                    raise
                taken = await subscriptions.use_quota(owner_id, images, now)
                if taken is None:
                    raise  # the plan's quota is what ran out
        return Charge(quota=images, quota_period_end=taken[0])

    async def _plan_known_now(self, user_id: uuid.UUID, now: datetime) -> bool:
        """Whether an active plan is known now, the quota having refused: one heard of since the
        first try (the event, or a parallel job that asked payments, committed in between: the quota
        is tried again), or one payments holds that this copy has not heard of yet (a job posted the
        moment the subscription was paid, its `subscription.changed` still on the way), applied as
        that event will be, ordered by when payments' row changed. Payments is asked only when no
        active plan is known: out of reach, the refusal stands."""
        heard = await SubscriptionRepository(self.session).get(user_id)
        if heard is not None and domain.subscription_is_active(heard.status, heard.current_period_end, now):
            return True
        try:
            told = await self.context.clients.plan(user_id)
        except ServiceUnavailable:
            log.warning("payments unreachable: a refused job's owner %s may hold a plan not heard of yet", user_id)
            return False
        if told is None or not domain.subscription_is_active(told.event.status, told.event.current_period_end, now):
            return False
        await self.apply_subscription(told.event, told.changed_at)
        return True

    async def charge_again(self, job: GenerationJob) -> Charge:
        """A refunded job run once more (staff retry) is paid again as a new one would be: the
        quota for an image batch when it can, else credits at what the job cost."""
        model = self.context.catalogue.get(job.model)
        credits = job.credits_charged or (domain.job_cost(model, job.batch_size) if model else 0)
        if job.kind == JobKind.IMAGE and (job.quota_charged or job.credits_charged):
            return await self.charge_job(job.owner_id, images=job.batch_size, credits=credits, job_id=job.id,
                                         description=f"Retry of {job.model} × {job.batch_size}",
                                         storefront=job.storefront)
        if job.credits_charged:
            await self.spend(job.owner_id, job.credits_charged, kind=TransactionKind.CONSUME, reason="generation",
                             reference_id=job.id, description=f"Retry of a {job.kind} job", storefront=job.storefront)
        return Charge(credits=job.credits_charged)

    async def refund_job(self, job: GenerationJob) -> int:
        """Give back what a failed job took (quota and/or credits); the credits refunded."""
        now = utcnow()
        if job.quota_charged:
            await SubscriptionRepository(self.session).return_quota(job.owner_id, job.quota_charged,
                                                               job.quota_period_end, now)
        if job.credits_charged:
            balance = await WalletRepository(self.session).credit(job.owner_id, job.credits_charged, now)
            TransactionRepository(self.session).add(CreditTransaction(
                owner_id=job.owner_id, kind=TransactionKind.REFUND, amount=job.credits_charged,
                balance_after=balance, reference_id=job.id, description="Refund of a failed job",
                storefront=job.storefront, created_at=now))
        return job.credits_charged

    # -- projections from other services' events -----------------------------------------------

    async def grant_order(self, event: OrderPaid) -> int:
        """Credits for every credit-pack line of a paid order, once per (order, product). An
        anonymous buyer who signed up meanwhile (the claim came first): the credits are the user's.
        An owner erased meanwhile (`identity.user_deleted` came first): nothing is kept."""
        now, granted = utcnow(), 0
        buyer = await OwnerRepository(self.session).buyer(event.user_id or event.owner_id, now)
        if buyer is None:
            log.info("order %s paid for an owner erased before: no credits kept", event.order_id)
            return 0
        owner_id = buyer
        transactions, wallets = TransactionRepository(self.session), WalletRepository(self.session)
        for line in event.lines:
            if line.kind != ProductKind.CREDIT_PACK:
                continue
            credits = credits_granted(line.attributes, line.quantity)
            if credits is None:
                log.error("order %s: credit pack %s has no usable 'credits' attribute", event.order_id, line.sku)
                continue
            grant = CreditTransaction(owner_id=owner_id, kind=TransactionKind.PURCHASE, amount=credits,
                                      balance_after=0, order_id=event.order_id, product_id=line.product_id,
                                      description=f"{line.sku} × {line.quantity}", storefront=event.storefront,
                                      created_at=now)
            if not await transactions.add_purchase_once(grant):
                continue
            await transactions.set_balance_after(grant.id, await wallets.credit(owner_id, credits, now))
            granted += credits
        return granted

    async def project_product(self, event: ProductChanged) -> None:
        """Keep the credit-pack list (`GET /credits/packs`) from catalog's announcements."""
        packs = CreditPackRepository(self.session)
        credits = credits_granted(event.attributes, 1)
        if event.variant_id is not None:
            return  # a pack is sold as a product; variants add nothing to the list
        if event.kind != ProductKind.CREDIT_PACK or credits is None:
            await packs.remove(event.product_id)
            return
        await packs.upsert(CreditPack(product_id=event.product_id, sku=event.sku, name=event.name, credits=credits,
                                      price=event.price, currency=event.currency, is_active=event.is_active,
                                      storefronts=list(event.storefronts), updated_at=utcnow()))

    async def apply_subscription(self, event: SubscriptionChanged,
                                 occurred_at: datetime) -> None:
        subscriptions = SubscriptionRepository(self.session)
        subscription = await subscriptions.get(event.user_id, for_update=True)
        if subscription is None:
            subscription = await subscriptions.make(event.user_id, event.status, occurred_at, utcnow())
        if subscription.source_occurred_at > occurred_at:
            return  # an older change arriving late
        subscription.plan_sku, subscription.tier, subscription.status = event.plan_sku, event.tier, event.status
        subscription.monthly_quota = event.monthly_quota
        subscription.current_period_end = event.current_period_end
        subscription.cancel_at_period_end = event.cancel_at_period_end
        subscription.storefront = event.storefront
        if subscription.quota_period_end != event.current_period_end:
            # A new billing period starts with the whole quota.
            subscription.quota_used, subscription.quota_period_end = 0, event.current_period_end
        subscription.source_occurred_at = occurred_at
        subscription.updated_at = utcnow()
