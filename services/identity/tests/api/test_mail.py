"""The mail outbox: queued in the caller's transaction, delivered by SMTP or to the dev mailbox."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from atelier_identity.mail import Mail
from atelier_identity.models import MailMessage
from atelier_testing import poll_until
from atelier_testing.sqlite import assert_write_lock_free, hold_statement
from atelier_testing.stopping import stop_inside_a_step


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Capture:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[_Capture, int]]:
    capture, port = _Capture(), _free_port()
    controller = Controller(capture, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield capture, port
    finally:
        controller.stop()


async def _messages(api) -> list[MailMessage]:
    async with api.h.runtime.db.read_only() as session:
        return list((await session.exec(select(MailMessage))).all())


class TestDevMailbox:
    async def test_lists_delivered_mail_for_one_address_newest_first(self, api) -> None:
        await api.register("ada@example.com")
        await api.register("bob@example.com")
        await api.wait_for_mail("ada@example.com")
        await api.client.post("/api/v1/auth/resend-verification", json={"email": "ada@example.com"})
        mails = await api.wait_for_mail("Ada@Example.com", count=2)
        assert [m["to"] for m in mails] == ["ada@example.com", "ada@example.com"]
        assert mails[0]["sent_at"] >= mails[1]["sent_at"]
        assert await api.mailed_token("ada@example.com", count=2) in mails[0]["text"]
        assert set(mails[0]) == {"id", "to", "from", "subject", "text", "html", "sent_at"}
        assert mails[0]["from"] == "Atelier <no-reply@atelier.example>"  # the default storefront's sender

    async def test_without_dev_endpoints_the_mailbox_does_not_exist(self, start_identity, expect_error) -> None:
        async with start_identity(dev_endpoints=False) as api:
            expect_error(await api.client.get("/api/dev/mailbox", params={"to": "a@example.com"}), 404, "NOT_FOUND")


class TestMailQueue:
    async def test_mail_goes_out_right_after_the_commit_not_at_the_next_sweep(self, start_identity) -> None:
        async with start_identity(mail_poll_seconds=600) as api:
            await api.register()
            assert len(await api.wait_for_mail("ada@example.com")) == 1  # polls for 10 s at most

    async def test_mail_queued_in_a_rolled_back_transaction_is_never_sent(self, api) -> None:
        mailer = api.h.runtime.context.mailer
        with pytest.raises(RuntimeError):
            async with api.h.runtime.db.transaction() as session:
                await mailer.queue(session, Mail(to="ada@example.com", kind="test", subject="s", text="t", html="h"),
                                   api.h.runtime.storefronts.default)
                raise RuntimeError("the use case failed")
        assert await _messages(api) == []
        assert await api.mailbox_after_delivery("ada@example.com") == []


class TestSenderStop:
    async def test_a_stop_inside_a_statement_leaves_sqlite_unlocked(self, api) -> None:
        db = api.h.runtime.db
        if not db.is_sqlite:
            pytest.skip("SQLite's write lock (the embedded mode)")
        # The sender's lease of due mail waits inside SQLite, the database's write lock taken. The
        # mail is queued alone, not by a sign-up: the sign-up's event would have the relay take the
        # lock as the lease lets it go, and hold it while this test's check blocks the event loop.
        mailer = api.h.runtime.context.mailer
        async with hold_statement(db, "AFTER UPDATE ON mail_message") as lease:
            async with db.transaction() as session:
                await mailer.queue(session, Mail(to="ada@example.com", kind="test", subject="s", text="t", html="h"),
                                   api.h.runtime.storefronts.default)
            await lease.entered()
            await stop_inside_a_step(mailer.stop, lease.release)
        assert_write_lock_free(db.url)


class TestSmtpDelivery:
    async def test_mail_goes_out_by_smtp_when_a_host_is_set(self, start_identity, smtp_server) -> None:
        capture, port = smtp_server
        async with start_identity(smtp_host="127.0.0.1", smtp_port=port, mail_from="Atelier <hello@atelier.example>",
                                  smtp_start_tls=False) as api:
            await api.register()

            async def delivered() -> list:
                return capture.envelopes

            [envelope] = await poll_until(delivered, timeout=10, message="the SMTP delivery")
            assert envelope.mail_from == "hello@atelier.example"
            assert envelope.rcpt_tos == ["ada@example.com"]
            message = message_from_bytes(envelope.content, policy=policy.default)
            assert message["Subject"] == "Confirm your email address"
            text = message.get_body(("plain",)).get_content()
            html = message.get_body(("html",)).get_content()
            assert "token=" in text and "token=" in html
            [mail] = await api.wait_for_mail("ada@example.com")  # recorded as sent
            assert mail["text"] == text.replace("\r\n", "\n")

    async def test_a_failed_delivery_is_kept_for_a_later_attempt(self, start_identity) -> None:
        async with start_identity(smtp_host="127.0.0.1", smtp_port=_free_port(), smtp_timeout_seconds=2) as api:
            await api.register()

            async def attempted() -> list[MailMessage]:
                return [m for m in await _messages(api) if m.attempts]

            [message] = await poll_until(attempted, timeout=10, message="a delivery attempt")
            assert message.sent_at is None and message.failed_at is None
            assert message.last_error
            assert message.next_attempt_at > datetime.now(UTC)
            assert await api.mailbox("ada@example.com") == []

    async def test_delivery_is_given_up_after_the_last_attempt(self, start_identity) -> None:
        async with start_identity(smtp_host="127.0.0.1", smtp_port=_free_port(), mail_max_attempts=1) as api:
            await api.register()

            async def given_up() -> list[MailMessage]:
                return [m for m in await _messages(api) if m.failed_at]

            [message] = await poll_until(given_up, timeout=10, message="giving up")
            assert (message.attempts, message.sent_at) == (1, None)
