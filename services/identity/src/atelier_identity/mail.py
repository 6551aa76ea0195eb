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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import urlencode

import aiosmtplib
from sqlalchemy import event
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.db import Database
from atelier_identity.domain import normalise_email
from atelier_identity.models import MailMessage
from atelier_identity.repository import MailRepository
from atelier_identity.settings import IdentitySettings

log = logging.getLogger("atelier.identity.mail")

BATCH = 50
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


def link(base_url: str, path: str, **params: str) -> str:
    return f"{base_url.rstrip('/')}{path}?{urlencode(params)}"


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


class Mailer:
    def __init__(self, db: Database, settings: IdentitySettings) -> None:
        self.db = db
        self.settings = settings
        self._sender_domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "atelier.example"
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # -- queueing (inside the caller's transaction) --------------------------------------------

    def queue(self, session: AsyncSession, mail: Mail) -> None:
        MailRepository(session).add(MailMessage(recipient=mail.to, kind=mail.kind, subject=mail.subject,
                                                text=mail.text, html=mail.html))
        if not session.info.get("mail_queued"):
            session.info["mail_queued"] = True
            # Deliver right after the commit rather than at the next poll.
            event.listen(session.sync_session, "after_commit", self._after_commit, once=True)

    def _after_commit(self, _session: object) -> None:
        self._wake.set()

    async def mailbox(self, session: AsyncSession, to: str | None) -> Sequence[MailMessage]:
        """Delivered mail, newest first, optionally for one address."""
        recipient = normalise_email(to) if to else None
        return await MailRepository(session).delivered_to(recipient, MAILBOX_LIMIT)

    # -- the sender ----------------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.settings.mail_poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                while await self.flush() == BATCH:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the rows stay; the next sweep retries
                log.warning("mail sender could not run (%s); will retry", exc)

    async def flush(self) -> int:
        """Deliver one batch of due messages; return how many were attempted."""
        async with self._lock:
            now = datetime.now(UTC)
            async with self.db.transaction() as session:
                batch = await MailRepository(session).lease_due(now, now + LEASE, BATCH,
                                                                skip_locked=not self.db.is_sqlite)
            # Delivered outside any transaction: a slow SMTP server must not hold database locks.
            for message in batch:
                await self._deliver(message)
            return len(batch)

    async def _deliver(self, message: MailMessage) -> None:
        try:
            if self.settings.smtp_host:
                await self._send_smtp(message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self._record_failure(message, f"{type(exc).__name__}: {exc}")
            return
        async with self.db.transaction() as session:
            await MailRepository(session).mark_sent(message.id, datetime.now(UTC))

    async def _record_failure(self, message: MailMessage, error: str) -> None:
        now = datetime.now(UTC)
        attempts = message.attempts + 1
        give_up = attempts >= self.settings.mail_max_attempts
        retry_at = None if give_up else now + min(timedelta(seconds=30 * 2 ** (attempts - 1)), timedelta(hours=1))
        log.warning("mail %s to %s failed (attempt %s%s): %s", message.id, message.recipient, attempts,
                    ", giving up" if give_up else "", error)
        async with self.db.transaction() as session:
            await MailRepository(session).mark_failed_attempt(message.id, error, retry_at=retry_at, now=now)

    async def _send_smtp(self, message: MailMessage) -> None:
        s = self.settings
        mime = EmailMessage()
        mime["From"] = s.mail_from
        mime["To"] = message.recipient
        mime["Subject"] = message.subject
        mime["Date"] = formatdate(usegmt=True)
        mime["Message-ID"] = make_msgid(idstring=message.id.hex, domain=self._sender_domain)
        mime.set_content(message.text)
        mime.add_alternative(message.html, subtype="html")
        await aiosmtplib.send(mime, hostname=s.smtp_host, port=s.smtp_port, username=s.smtp_username,
                              password=s.smtp_password, use_tls=s.smtp_use_tls, start_tls=s.smtp_start_tls,
                              timeout=s.smtp_timeout_seconds)
