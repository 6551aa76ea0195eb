"""What generation consumes. Handlers only translate an event into a service call."""

from __future__ import annotations

from atelier_common.contracts.catalog import ProductChanged
from atelier_common.contracts.generation import JobRequested
from atelier_common.contracts.identity import AnonymousClaimed, UserDeleted
from atelier_common.contracts.payments import OrderPaid, SubscriptionChanged
from atelier_common.inbox import EventContext, Filtered, Subscriptions
from atelier_generation import domain
from atelier_generation.context import GenerationContext
from atelier_generation.service import AccountService, CreditService, JobRunner, RetryService

Context = EventContext[GenerationContext]


async def on_order_paid(event: OrderPaid, ctx: Context) -> None:
    await CreditService(ctx.session, ctx.context).grant_order(event)
    await RetryService(ctx.session, ctx.context).order_paid(event, ctx.envelope.occurred_at)


async def on_product_changed(event: ProductChanged, ctx: Context) -> None:
    await CreditService(ctx.session, ctx.context).project_product(event)


async def on_subscription_changed(event: SubscriptionChanged, ctx: Context) -> None:
    await CreditService(ctx.session, ctx.context).apply_subscription(event, ctx.envelope.occurred_at)


async def on_anonymous_claimed(event: AnonymousClaimed, ctx: Context) -> None:
    await AccountService(ctx.session, ctx.context).claim_anonymous(event.anon_id, event.user_id)


async def on_user_deleted(event: UserDeleted, ctx: Context) -> None:
    await AccountService(ctx.session, ctx.context).erase(event.user_id)


async def on_job_requested(event: JobRequested, ctx: Context) -> None:
    await JobRunner(ctx.context).run(event.job_id)


SUBSCRIPTIONS: Subscriptions = {
    OrderPaid: Filtered(on_order_paid, wants=lambda event, _: domain.concerns_generation(event)),
    ProductChanged: Filtered(on_product_changed, wants=lambda event, _: domain.concerns_pack_list(event)),
    SubscriptionChanged: on_subscription_changed,
    AnonymousClaimed: on_anonymous_claimed,
    UserDeleted: on_user_deleted,
}
# Consumed by the `worker` role (`generation-worker`): its own process in the distributed mode.
WORKER_SUBSCRIPTIONS: Subscriptions = {JobRequested: on_job_requested}
