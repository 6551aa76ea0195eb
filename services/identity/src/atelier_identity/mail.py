"""Outgoing mail: templates, the queue (a table written in the caller's transaction) and the sender.

The `mail_message` table is this service's outbox for mail: a use case queues a message in the
same transaction as the change that causes it, so a rollback sends nothing and a crash loses
nothing. The sender delivers due messages by SMTP when `smtp_host` is set; otherwise delivery
is the dev mailbox (the rows themselves, read by `GET /api/dev/mailbox`).
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.contracts.identity import Storefront
from atelier_common.db import Database
from atelier_common.loops import BackgroundLoop, woken_or_timed_out
from atelier_identity.domain import normalise_email
from atelier_identity.models import MailMessage
from atelier_identity.repository import LEASE_BATCH, LeasedMail, MailRepository, OutgoingMail
from atelier_identity.settings import IdentitySettings

log = logging.getLogger("atelier.identity.mail")

# A sender holds a message this long while talking to the SMTP server; after a crash it is retried.
LEASE = timedelta(minutes=5)
MAILBOX_LIMIT = 100


@dataclass(frozen=True)
class Mail:
    to: str
    kind: str
    subject: str
    text: str
    html: str


def _domain_of(sender: str) -> str:
    """The domain of a From address (the Message-ID's right-hand side)."""
    return parseaddr(sender)[1].rpartition("@")[2] or "atelier.example"


def verification_mail(*, to: str, first_name: str, url: str, token: str, valid_hours: int) -> Mail:
    text = (f"Hello {first_name},\n\n"
            f"Please confirm your email address by opening this link:\n{url}\n\n"
            f"Or enter this code: {token}\n\n"
            f"The link is valid for {valid_hours} hours. If you did not create an account, ignore this mail.\n")
    name, href, code = html.escape(first_name), html.escape(url, quote=True), html.escape(token)
    body = (f"<p>Hello {name},</p>"
            f'<p>Please confirm your email address: <a href="{href}">verify my email</a>.</p>'
            f"<p>Or enter this code: <code>{code}</code></p>"
            f"<p>The link is valid for {valid_hours} hours. If you did not create an account, ignore this mail.</p>")
    return Mail(to=to, kind="verify_email", subject="Confirm your email address", text=text, html=body)


def _compose(*, to: str, kind: str, subject: str, greeting: str, lines: list[str],
             action: tuple[str, str] | None = None, code: str | None = None, footer: str = "") -> Mail:
    """One message in plain text and HTML: a greeting, paragraphs, an optional link and code."""
    text_parts, html_parts = [f"{greeting},", *lines], [f"<p>{html.escape(greeting)},</p>"]
    html_parts += [f"<p>{html.escape(line)}</p>" for line in lines]
    if action is not None:
        label, url = action
        text_parts.append(f"{label}:\n{url}")
        html_parts.append(f'<p><a href="{html.escape(url, quote=True)}">{html.escape(label)}</a></p>')
    if code is not None:
        text_parts.append(f"Or enter this code: {code}")
        html_parts.append(f"<p>Or enter this code: <code>{html.escape(code)}</code></p>")
    if footer:
        text_parts.append(footer)
        html_parts.append(f"<p>{html.escape(footer)}</p>")
    return Mail(to=to, kind=kind, subject=subject, text="\n\n".join(text_parts) + "\n", html="".join(html_parts))


def _hello(first_name: str | None) -> str:
    return f"Hello {first_name}" if first_name else "Hello"


def password_reset_mail(*, to: str, first_name: str, url: str, valid_minutes: int) -> Mail:
    return _compose(to=to, kind="password_reset", subject="Reset your password", greeting=_hello(first_name),
                    lines=["Someone asked to reset the password of your account."],
                    action=("Choose a new password", url),
                    footer=f"The link is valid for {valid_minutes} minutes and works once. "
                           "If you did not ask for it, ignore this mail: your password stays as it is.")


def welcome_mail(*, to: str, first_name: str | None, url: str, valid_hours: int) -> Mail:
    return _compose(to=to, kind="welcome", subject="Your account is ready: set your password",
                    greeting=_hello(first_name),
                    lines=["Thank you for your order. We created an account for this address so that you "
                           "can follow your orders and keep what you made."],
                    action=("Set your password", url),
                    footer=f"The link is valid for {valid_hours} hours and works once.")


def email_change_mail(*, to: str, first_name: str, url: str, token: str, valid_hours: int) -> Mail:
    return _compose(to=to, kind="email_change", subject="Confirm your new email address",
                    greeting=_hello(first_name),
                    lines=["Confirm that this is the new email address of your account."],
                    action=("Confirm my new email", url), code=token,
                    footer=f"The link is valid for {valid_hours} hours and works once. Until you confirm, "
                           "your account keeps its current address.")


def email_changed_notice(*, to: str, first_name: str, new_email: str) -> Mail:
    return _compose(to=to, kind="email_changed", subject="Your email address was changed",
                    greeting=_hello(first_name),
                    lines=[f"The email address of your account is now {new_email}. You will sign in with it "
                           "from now on.",
                           "If you did not make this change, reset your password and contact us right away."])


def magic_link_mail(*, to: str, url: str, code: str, valid_minutes: int) -> Mail:
    return _compose(to=to, kind="magic_link", subject=f"Your sign-in code: {code}", greeting="Hello",
                    lines=["Use this link to sign in."], action=("Sign in", url), code=code,
                    footer=f"The link and the code are valid for {valid_minutes} minutes and work once. "
                           "If you did not ask to sign in, ignore this mail.")


ORDER_STATUS_WORDS = {
    "paid": "has been paid", "processing": "is being prepared", "shipped": "has been shipped",
    "delivered": "has been delivered", "cancelled": "has been cancelled", "refunded": "has been refunded",
    "returned": "has been returned", "completed": "is complete",
}

# The order status mail's texts per language (the order's, `OrderStatusChanged.locale`): a dict
# rather than gettext catalogs, as the invoices' labels are (orders' `invoices/labels.py`), since a
# handful of strings in two languages read best side by side and need no compiling. A language
# without texts here is mailed in English.
_ORDER_STATUS_TEXTS: dict[str, dict[str, str]] = {
    "ka": {
        "subject": "შეკვეთა {number}: {status}", "line": "თქვენი შეკვეთა {number}: {status}.",
        "tracking": "გზავნილის ნომერი: {tracking}", "see": "შეკვეთის ნახვა", "hello": "გამარჯობა",
        "paid": "გადახდილია", "processing": "მზადდება", "shipped": "გაგზავნილია", "delivered": "მიტანილია",
        "cancelled": "გაუქმებულია", "refunded": "თანხა დაბრუნებულია", "returned": "დაბრუნებულია",
        "completed": "დასრულებულია",
    },
}


def mail_language(locale: str | None) -> str:
    """The language of `locale` (`ka-GE` → `ka`) if its mails are translated, else English."""
    language = (locale or "").replace("_", "-").split("-", 1)[0].lower()
    return language if language in _ORDER_STATUS_TEXTS else "en"


def order_status_mail(*, to: str, first_name: str | None, order_number: str, status: str,
                      tracking_number: str | None, url: str, locale: str | None = None) -> Mail:
    """The customer's order moved to `status`, told in the order's language `locale`."""
    texts = _ORDER_STATUS_TEXTS.get(mail_language(locale))
    if texts is None:
        lines = [f"Your order {order_number} {ORDER_STATUS_WORDS.get(status, 'is now ' + status)}."]
        if tracking_number:
            lines.append(f"Tracking number: {tracking_number}")
        return _compose(to=to, kind="order_status", subject=f"Order {order_number}: {status}",
                        greeting=_hello(first_name), lines=lines, action=("See your order", url))
    named = texts.get(status, status)
    lines = [texts["line"].format(number=order_number, status=named)]
    if tracking_number:
        lines.append(texts["tracking"].format(tracking=tracking_number))
    greeting = f"{texts['hello']} {first_name}" if first_name else texts["hello"]
    return _compose(to=to, kind="order_status", subject=texts["subject"].format(number=order_number, status=named),
                    greeting=greeting, lines=lines, action=(texts["see"], url))


def payment_link_mail(*, to: str, first_name: str | None, order_number: str, total: str, currency: str,
                      url: str, expires: str) -> Mail:
    """The order staff took for the customer (a draft order sent): what it costs and the link that pays it."""
    return _compose(to=to, kind="payment_link", subject=f"Your order {order_number}: {total} {currency} to pay",
                    greeting=_hello(first_name),
                    lines=[f"We have prepared your order {order_number}: {total} {currency}.",
                           f"Pay it with the link below, until {expires} (UTC)."],
                    action=("Pay your order", url))


def gift_card_mail(*, to: str, amount: str, currency: str, code: str, expires: str | None,
                   message: str | None) -> Mail:
    """A gift card someone bought for `to`: its code, what it holds, until when, and their message."""
    lines = [f"You received a gift card worth {amount} {currency}.", f"Its code: {code}",
             "Enter it at checkout to pay with it."]
    if expires is not None:
        lines.append(f"It can be used until {expires} (UTC).")
    if message:
        lines += ["", message]
    return _compose(to=to, kind="gift_card", subject=f"Your gift card: {amount} {currency}",
                    greeting=_hello(None), lines=lines)


def order_edit_mail(*, to: str, first_name: str | None, order_number: str, version: int, changes: list[str],
                    old_total: str, new_total: str, currency: str, refund: str | None = None,
                    paid: str | None = None, due: str | None = None, payment_url: str | None = None,
                    expires: str | None = None, url: str | None = None) -> Mail:
    """An edit of the customer's order confirmed (`order.edited`, or `order.edit_awaiting_payment`
    with `due` and the link that pays it): what changed, the new total, and the refund on its way,
    what they paid, or what is left to pay."""
    lines = [f"Your order {order_number} was changed (version {version}):", *(f"- {c}" for c in changes),
             f"Total: {old_total} {currency} → {new_total} {currency}."]
    if due is not None:
        lines += [f"{due} {currency} is left to pay for the change. Pay it with the link below, until {expires} "
                  "(UTC); the items added are held for you until then, and the change is cancelled if it is not "
                  "paid in time."]
        return _compose(to=to, kind="order_edit_payment", subject=f"Your order {order_number}: {due} {currency} to "
                        "pay for your change", greeting=_hello(first_name), lines=lines,
                        action=("Pay the difference", payment_url or ""))
    if refund is not None:
        lines.append(f"{refund} {currency} is refunded to your payment method.")
    if paid is not None:
        lines.append(f"We received your payment of {paid} {currency} for the change.")
    return _compose(to=to, kind="order_edited", subject=f"Your order {order_number} was changed",
                    greeting=_hello(first_name), lines=lines, action=("See your order", url) if url else None)


def job_mail(*, to: str, first_name: str | None, kind: str, succeeded: bool, reason: str | None) -> Mail:
    if succeeded:
        lines, subject = [f"Your {kind} job is complete."], "Your images are ready"
    else:
        lines, subject = [f"Your {kind} job failed: {reason or 'unknown reason'}."], "Your job failed"
    return _compose(to=to, kind=f"job_{'completed' if succeeded else 'failed'}", subject=subject,
                    greeting=_hello(first_name), lines=lines)


def low_stock_mail(*, to: str, storefront: str, product: str, sku: str, stock: int, threshold: int,
                   location: str | None = None) -> Mail:
    """To a storefront's alert addresses when a product it sells runs low (`product.low_stock`), at
    one stock location when the event names it."""
    where = f" at {location}" if location else ""
    return _compose(to=to, kind="low_stock", subject=f"Low stock: {product}{where}", greeting="Hello",
                    lines=[f"{product} (SKU {sku}) is down to {stock} in stock{where} on {storefront}, at or below "
                           f"its low-stock threshold of {threshold}.", "Restock it before it sells out."])


def webhook_disabled_mail(*, to: str, url: str, endpoint_id: str, reason: str) -> Mail:
    """To every admin when an outbound webhook endpoint's retries ran out."""
    return _compose(to=to, kind="webhook_disabled", subject="A webhook endpoint was disabled", greeting="Hello",
                    lines=[f"The webhook endpoint {url} ({endpoint_id}) was disabled: {reason}.",
                           "Fix the receiver, enable the endpoint again (PATCH /api/v1/webhook-endpoints/"
                           f"{endpoint_id} with enabled=true) and replay what it missed from its delivery log."])


class Mailer:
    def __init__(self, db: Database, settings: IdentitySettings) -> None:
        self.db = db
        self.settings = settings
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        # Each of the sender's statements (`_connection`) is a step: stop() waits for the one under way.
        self._loop = BackgroundLoop("mail sender")
        # The sender's statements each run on their own, outside a transaction (see OutgoingMail),
        # on PostgreSQL; SQLite's cost no round trip.
        self._engine = db.engine if db.is_sqlite else db.engine.execution_options(isolation_level="AUTOCOMMIT")
        # Deliver right after a commit that queued mail rather than at the next poll.
        db.on_session_commit(self._committed)

    # -- queueing (inside the caller's transaction) --------------------------------------------

    async def queue(self, session: AsyncSession, mail: Mail, storefront: Storefront, *,
                    not_before: datetime | None = None) -> None:
        """Queue `mail` from `storefront`'s sender (else the `mail_from` setting); `not_before`: the
        sender's poll delivers it once that time has come (a gift card's send date), else at once."""
        message = MailMessage(recipient=mail.to, kind=mail.kind, subject=mail.subject, text=mail.text,
                              html=mail.html, sender=storefront.mail_from or self.settings.mail_from)
        if not_before is not None and not_before > message.next_attempt_at:
            message.next_attempt_at = not_before
        await MailRepository(session).add(message)
        session.info["mail_queued"] = True

    async def requeue(self, session: AsyncSession, message: MailMessage) -> MailMessage:
        """Queue a copy of a message already queued (support's resend), same recipient and sender."""
        copy = MailMessage(recipient=message.recipient, kind=message.kind, subject=message.subject,
                           text=message.text, html=message.html, sender=message.sender)
        await MailRepository(session).add(copy)
        session.info["mail_queued"] = True
        return copy

    async def _committed(self, info: dict[str, object]) -> None:
        if info.pop("mail_queued", False):
            self._wake.set()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        async with self._loop.step(), self._engine.begin() if self.db.is_sqlite else self._engine.connect() as conn:
            yield conn

    async def mailbox(self, session: AsyncSession, to: str | None) -> Sequence[MailMessage]:
        """Delivered mail, newest first, optionally for one address."""
        recipient = normalise_email(to) if to else None
        return await MailRepository(session).delivered_to(recipient, MAILBOX_LIMIT)

    # -- the sender ----------------------------------------------------------------------------
    # An entry point like the outbox relay, not a use case: it opens its own short transactions,
    # so that no database lock is held while an SMTP server is talked to.

    async def start(self) -> None:
        self._loop.start(self._run())

    async def stop(self) -> None:
        await self._loop.stop()

    async def _run(self) -> None:
        while True:
            await woken_or_timed_out(self._wake, self.settings.mail_poll_seconds)
            try:
                while await self.flush() == LEASE_BATCH:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("mail sender could not run (%s); will retry", exc)

    async def flush(self) -> int:
        """Deliver one batch of due messages; return how many were attempted."""
        async with self._lock:
            now = datetime.now(UTC)
            async with self._connection() as conn:
                batch = await OutgoingMail(conn).lease_due(now, now + LEASE, skip_locked=not self.db.is_sqlite)
            if not batch:
                return 0
            if not self.settings.smtp_host:
                # The dev mailbox: delivering is marking sent, the whole batch in one statement.
                async with self._connection() as conn:
                    await OutgoingMail(conn).mark_sent([m.id for m in batch], datetime.now(UTC))
                return len(batch)
            # Delivered outside any transaction: a slow SMTP server must not hold database locks.
            for message in batch:
                await self._deliver(message)
            return len(batch)

    async def _deliver(self, message: LeasedMail) -> None:
        try:
            await self._send_smtp(message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self._record_failure(message, f"{type(exc).__name__}: {exc}")
            return
        # Marked as soon as it is sent: a crash later in the batch does not send it twice.
        async with self._connection() as conn:
            await OutgoingMail(conn).mark_sent([message.id], datetime.now(UTC))

    async def _record_failure(self, message: LeasedMail, error: str) -> None:
        now = datetime.now(UTC)
        attempts = message.attempts + 1
        give_up = attempts >= self.settings.mail_max_attempts
        retry_at = None if give_up else now + min(timedelta(seconds=30 * 2 ** (attempts - 1)), timedelta(hours=1))
        log.warning("mail %s to %s failed (attempt %s%s): %s", message.id, message.recipient, attempts,
                    ", giving up" if give_up else "", error)
        async with self._connection() as conn:
            await OutgoingMail(conn).mark_failed_attempt(message.id, error, retry_at=retry_at, now=now)

    async def _send_smtp(self, message: LeasedMail) -> None:
        s = self.settings
        sender = message.sender or s.mail_from
        mime = EmailMessage()
        mime["From"] = sender
        mime["To"] = message.recipient
        mime["Subject"] = message.subject
        mime["Date"] = formatdate(usegmt=True)
        mime["Message-ID"] = make_msgid(idstring=message.id.hex, domain=_domain_of(sender))
        mime.set_content(message.text)
        mime.add_alternative(message.html, subtype="html")
        await aiosmtplib.send(mime, hostname=s.smtp_host, port=s.smtp_port, username=s.smtp_username,
                              password=s.smtp_password, use_tls=s.smtp_use_tls, start_tls=s.smtp_start_tls,
                              timeout=s.smtp_timeout_seconds)
