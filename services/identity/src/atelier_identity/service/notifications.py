"""Customer mail about other services' events: order status changes, and (optionally) generation jobs."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.contracts.generation import JobCompleted, JobFailed
from atelier_common.contracts.orders import OrderStatusChanged
from atelier_common.service import UseCase
from atelier_identity.context import IdentityContext
from atelier_identity.mail import job_mail, order_status_mail
from atelier_identity.repository import UserRepository


class NotificationService(UseCase[IdentityContext]):
    def __init__(self, session: AsyncSession, context: IdentityContext) -> None:
        super().__init__(session, context)
        self.settings = context.settings
        self.mailer = context.mailer

    @staticmethod
    def mails_about(event: OrderStatusChanged, context: IdentityContext) -> bool:
        """The statuses customers care about (a setting); the others are not looked at."""
        return event.new_status in context.settings.order_notification_statuses

    async def order_status_changed(self, event: OrderStatusChanged) -> bool:
        """Mail the order's customer for the statuses customers care about; whether a mail was queued."""
        if not self.mails_about(event, self.context):
            return False
        user = await UserRepository(self.session).contact(event.user_id) if event.user_id else None
        if user is not None and not user.is_active:
            return False
        # The account's current address wins; an anonymous order has the one typed at checkout.
        recipient = (user.email if user is not None else None) or event.email
        if not recipient:
            return False
        # From the storefront the order was placed on, linking to its order page.
        storefront = await self.context.storefront_of_event(event.storefront)
        url = storefront.link("order", order_id=str(event.order_id), email=recipient)
        self.mailer.queue(self.session, order_status_mail(to=recipient, first_name=user.first_name if user else None,
                                                          order_number=event.order_number, status=event.new_status,
                                                          tracking_number=event.tracking_number, url=url),
                          storefront)
        return True

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
        self.mailer.queue(self.session, job_mail(to=user.email, first_name=user.first_name, kind=event.kind,
                                                 succeeded=not failed, reason=reason), storefront)
        return True
