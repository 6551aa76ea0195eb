"""Events identity consumes; each handler only translates the event into a service call."""

from __future__ import annotations

from atelier_common.contracts.generation import JobCompleted, JobFailed
from atelier_common.contracts.orders import OrderStatusChanged
from atelier_common.contracts.payments import OrderPaid
from atelier_common.inbox import EventContext


async def on_order_paid(event: OrderPaid, ctx: EventContext) -> None:
    await ctx.context.identity.auto_registration.on_order_paid(ctx.session, event)


async def on_order_status_changed(event: OrderStatusChanged, ctx: EventContext) -> None:
    await ctx.context.identity.notifications.order_status_changed(ctx.session, event)


async def on_job_completed(event: JobCompleted, ctx: EventContext) -> None:
    await ctx.context.identity.notifications.job_finished(ctx.session, event)


async def on_job_failed(event: JobFailed, ctx: EventContext) -> None:
    await ctx.context.identity.notifications.job_finished(ctx.session, event)


SUBSCRIPTIONS = {
    OrderPaid: on_order_paid,
    OrderStatusChanged: on_order_status_changed,
    JobCompleted: on_job_completed,
    JobFailed: on_job_failed,
}
