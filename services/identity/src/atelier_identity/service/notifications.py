"""Mail about other services' events: order status changes, bought gift cards' codes and
(optionally) generation jobs to customers; products running low to a storefront's alert addresses."""

from __future__ import annotations

import uuid

from atelier_common.auth import ROLE_ADMIN, ROLE_MERCHANDISER
from atelier_common.contracts.catalog import ProductLowStock
from atelier_common.contracts.generation import JobCompleted, JobFailed
from atelier_common.contracts.orders import (
    DraftOrderSent,
    OrderEditAwaitingPayment,
    OrderEditChange,
    OrderEdited,
    OrderEditLine,
    OrderStatusChanged,
)
from atelier_common.contracts.payments import GiftCardDelivery
from atelier_identity.context import IdentityContext
from atelier_identity.mail import (
    gift_card_mail,
    job_mail,
    low_stock_mail,
    order_edit_mail,
    order_status_mail,
    payment_link_mail,
)
from atelier_identity.repository import UserRepository
from atelier_identity.repository.staff import StaffAccountRepository
from atelier_identity.service._use_case import IdentityUseCase

# Who hears of low stock on a storefront without `alert_emails`: the staff who restock.
STOCK_ROLES = (ROLE_MERCHANDISER, ROLE_ADMIN)


class NotificationService(IdentityUseCase):
    @staticmethod
    def mails_about(event: OrderStatusChanged, context: IdentityContext) -> bool:
        """The statuses customers care about (a setting); the others are not looked at."""
        return event.new_status in context.settings.order_notification_statuses

    async def order_status_changed(self, event: OrderStatusChanged) -> bool:
        """Mail the order's customer for the statuses customers care about; whether a mail was queued."""
        if not self.mails_about(event, self.context):
            return False
        found = await self._order_recipient(event.user_id, event.email)
        if found is None:
            return False
        recipient, first_name = found
        # From the storefront the order was placed on, linking to its order page.
        storefront = await self.context.storefront_of_event(event.storefront)
        url = storefront.link("order", order_id=str(event.order_id), email=recipient)
        await self.mailer.queue(self.session, order_status_mail(
            to=recipient, first_name=first_name, order_number=event.order_number,
            status=event.new_status, tracking_number=event.tracking_number, url=url,
            # The order's language; an order that kept none: the storefront's default.
            locale=event.locale or storefront.default_locale), storefront)
        return True

    async def draft_order_sent(self, event: DraftOrderSent) -> bool:
        """Mail the customer staff took an order for the link that pays it (whatever the statuses
        customers are mailed about: without it they cannot pay); whether a mail was queued."""
        found = await self._order_recipient(event.user_id, event.email)
        if found is None:
            return False
        recipient, first_name = found
        storefront = await self.context.storefront_of_event(event.storefront)
        await self.mailer.queue(self.session, payment_link_mail(
            to=recipient, first_name=first_name, order_number=event.order_number,
            total=str(event.total_amount), currency=event.currency, url=event.payment_url,
            expires=event.expires_at.strftime("%Y-%m-%d %H:%M")), storefront)
        return True

    async def gift_card_delivery(self, event: GiftCardDelivery) -> None:
        """Mail a bought gift card's code to its recipient, held until its send date."""
        storefront = await self.context.storefront_of_event(event.storefront)
        await self.mailer.queue(self.session, gift_card_mail(
            to=event.recipient_email, amount=str(event.amount), currency=event.currency, code=event.code,
            expires=event.expires_at.strftime("%Y-%m-%d") if event.expires_at else None, message=event.message),
            storefront, not_before=event.send_at)

    async def order_edited(self, event: OrderEdited) -> bool:
        """Mail the customer an edit of their order that applied (whatever the statuses customers are
        mailed about: their order and its total changed): what changed, the new total, and the refund
        on its way or the payment received for it; whether a mail was queued."""
        found = await self._order_recipient(event.user_id, event.email)
        if found is None:
            return False
        recipient, first_name = found
        storefront = await self.context.storefront_of_event(event.storefront)
        await self.mailer.queue(self.session, order_edit_mail(
            to=recipient, first_name=first_name, order_number=event.order_number, version=event.edit_version,
            changes=[_change(line) for line in event.lines], old_total=str(event.old_total),
            new_total=str(event.new_total), currency=event.currency,
            refund=str(event.refund) if event.refund > 0 else None, paid=str(event.paid) if event.paid > 0 else None,
            url=storefront.link("order", order_id=str(event.order_id), email=recipient)), storefront)
        return True

    async def order_edit_awaiting_payment(self, event: OrderEditAwaitingPayment) -> bool:
        """Mail the customer an edit of their paid order that raised its total: what changed, the new
        total and the link that pays the difference, until when; whether a mail was queued."""
        found = await self._order_recipient(event.user_id, event.email)
        if found is None:
            return False
        recipient, first_name = found
        storefront = await self.context.storefront_of_event(event.storefront)
        await self.mailer.queue(self.session, order_edit_mail(
            to=recipient, first_name=first_name, order_number=event.order_number, version=event.edit_version,
            changes=[_change(line) for line in event.lines], old_total=str(event.old_total),
            new_total=str(event.new_total), currency=event.currency, due=str(event.amount_due),
            payment_url=event.payment_url, expires=event.expires_at.strftime("%Y-%m-%d %H:%M")), storefront)
        return True

    async def _order_recipient(self, user_id: uuid.UUID | None, email: str | None) -> tuple[str, str | None] | None:
        """Whom an order's mail goes to and their first name: the account's current address wins; an
        anonymous order has the one typed at checkout. None: a suspended account, or no address."""
        user = await UserRepository(self.session).contact(user_id) if user_id else None
        if user is not None and not user.is_active:
            return None
        recipient = (user.email if user is not None else None) or email
        return (recipient, user.first_name if user else None) if recipient else None

    async def job_finished(self, event: JobCompleted | JobFailed) -> bool:
        if not self.settings.job_notification_mail:
            return False
        # Anonymous owners have no address to write to.
        user = await UserRepository(self.session).contact(event.owner_id)
        if user is None or not user.is_active or user.email is None:
            return False
        failed = isinstance(event, JobFailed)
        reason = event.reason if isinstance(event, JobFailed) else None
        storefront = await self.context.storefront_of_event(event.storefront)
        await self.mailer.queue(self.session, job_mail(to=user.email, first_name=user.first_name, kind=event.kind,
                                                       succeeded=not failed, reason=reason), storefront)
        return True

    async def low_stock(self, event: ProductLowStock) -> int:
        """Mail the storefront's `alert_emails` (none: its active merchandisers and admins) that a
        product ran low; how many mails were queued. Once per event (the inbox)."""
        storefront = await self.context.storefront_of_event(event.storefront)
        recipients = list(dict.fromkeys(storefront.policies.alert_emails)) or \
            await StaffAccountRepository(self.session).emails_with_roles(STOCK_ROLES)
        for to in recipients:
            await self.mailer.queue(self.session, low_stock_mail(to=to, storefront=storefront.name, product=event.name,
                                                                 sku=event.sku, stock=event.stock_quantity,
                                                                 threshold=event.threshold,
                                                                 location=event.location), storefront)
        return len(recipients)


def _change(line: OrderEditLine | OrderEditChange) -> str:
    """One line of an edit as the customer reads it."""
    name = getattr(line, "name", None) or line.sku
    if line.new_quantity == 0:
        return f"{name}: removed ({line.old_quantity} before)"
    if line.old_quantity == 0:
        return f"{name}: {line.new_quantity} added"
    return f"{name}: {line.old_quantity} → {line.new_quantity}"
