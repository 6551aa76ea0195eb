"""`/api/dev/mailbox`: mail captured by the dev mailbox (only with `dev_endpoints`, else 404)."""

from __future__ import annotations

from fastapi import APIRouter

from atelier_common.db import SessionDep
from atelier_common.openapi import DEV_TAG
from atelier_identity.api.deps import MailerDep, require_dev_endpoints
from atelier_identity.schemas import Mailbox, MailboxMessage

router = APIRouter(prefix="/api/dev", tags=[DEV_TAG], dependencies=[require_dev_endpoints], )


@router.get("/mailbox", summary="Read the dev mailbox", response_model=Mailbox)
async def list_mailbox(session: SessionDep, mailer: MailerDep, to: str | None = None) -> Mailbox:
    """The mail the platform delivered, newest first (the last 100); `to` filters by recipient. Verification links
    and sign-in codes are in `text`."""
    messages = await mailer.mailbox(session, to)
    fallback = mailer.settings.mail_from
    return Mailbox(results=[MailboxMessage(id=m.id, to=m.recipient, from_=m.sender or fallback, subject=m.subject,
                                            text=m.text, html=m.html, sent_at=m.sent_at) for m in messages])
