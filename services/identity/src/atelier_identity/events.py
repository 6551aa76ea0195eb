"""Events identity consumes; each handler only translates the event into a service call."""

from __future__ import annotations

from atelier_common.contracts.catalog import ProductLowStock
from atelier_common.contracts.generation import JobCompleted, JobFailed
from atelier_common.contracts.orders import DraftOrderSent, OrderEditAwaitingPayment, OrderEdited, OrderStatusChanged
from atelier_common.contracts.payments import GiftCardDelivery, OrderPaid
from atelier_common.contracts.staff import StaffActionRecorded
from atelier_common.inbox import EventContext, Filtered, Subscriptions
from atelier_identity.context import IdentityContext
from atelier_identity.service import AutoRegistration, NotificationService
from atelier_identity.service.audit import AuditLog
from atelier_identity.service.webhooks import WebhookFanOut
from atelier_identity.webhooks import PUBLIC_EVENTS


async def on_order_paid(event: OrderPaid, ctx: EventContext[IdentityContext]) -> None:
    await AutoRegistration(ctx.session, ctx.context).on_order_paid(event)


async def on_order_status_changed(event: OrderStatusChanged, ctx: EventContext[IdentityContext]) -> None:
    await NotificationService(ctx.session, ctx.context).order_status_changed(event)


async def on_draft_order_sent(event: DraftOrderSent, ctx: EventContext[IdentityContext]) -> None:
    await NotificationService(ctx.session, ctx.context).draft_order_sent(event)


async def on_order_edited(event: OrderEdited, ctx: EventContext[IdentityContext]) -> None:
    await NotificationService(ctx.session, ctx.context).order_edited(event)


async def on_order_edit_awaiting_payment(event: OrderEditAwaitingPayment, ctx: EventContext[IdentityContext]) -> None:
    await NotificationService(ctx.session, ctx.context).order_edit_awaiting_payment(event)


async def on_gift_card_delivery(event: GiftCardDelivery, ctx: EventContext[IdentityContext]) -> None:
    await NotificationService(ctx.session, ctx.context).gift_card_delivery(event)


async def on_job_completed(event: JobCompleted, ctx: EventContext[IdentityContext]) -> None:
    await NotificationService(ctx.session, ctx.context).job_finished(event)


async def on_job_failed(event: JobFailed, ctx: EventContext[IdentityContext]) -> None:
    await NotificationService(ctx.session, ctx.context).job_finished(event)


async def on_product_low_stock(event: ProductLowStock, ctx: EventContext[IdentityContext]) -> None:
    await NotificationService(ctx.session, ctx.context).low_stock(event)


async def on_staff_action_recorded(event: StaffActionRecorded, ctx: EventContext[IdentityContext]) -> None:
    await AuditLog(ctx.session, ctx.context).keep(event, ctx.envelope.id)


SUBSCRIPTIONS: Subscriptions = {
    StaffActionRecorded: on_staff_action_recorded,
    OrderPaid: Filtered(on_order_paid, wants=AutoRegistration.concerns),
    OrderStatusChanged: Filtered(on_order_status_changed, wants=NotificationService.mails_about),
    DraftOrderSent: on_draft_order_sent,
    GiftCardDelivery: on_gift_card_delivery,
    OrderEdited: on_order_edited,
    OrderEditAwaitingPayment: on_order_edit_awaiting_payment,
    JobCompleted: on_job_completed,
    JobFailed: on_job_failed,
    ProductLowStock: on_product_low_stock,
}


async def on_public_event(_event: object, ctx: EventContext[IdentityContext]) -> None:
    """Any event an outbound webhook may hear: a delivery per endpoint that wants it."""
    await WebhookFanOut(ctx.session, ctx.context).fan_out(ctx.envelope)


# Heard on identity's own worker queue (`identity-worker`), apart from the consumer above: the
# webhook fan-out never delays a customer's mail, nor the other way round. No inbox: the deliveries'
# unique (event, endpoint) key makes a redelivered event add nothing.
WORKER_SUBSCRIPTIONS: Subscriptions = {cls: on_public_event for cls in PUBLIC_EVENTS}
