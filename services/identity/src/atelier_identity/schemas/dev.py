"""The dev mailbox (development only)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class MailboxMessage(BaseModel):
    """A mail the dev mailbox captured."""

    model_config = ConfigDict(populate_by_name=True)

    id: uuid.UUID
    to: str
    # The From it was sent with: the storefront's sender.
    from_: str = Field(alias="from")
    subject: str
    text: str
    html: str
    sent_at: datetime | None


class Mailbox(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"results": [{"id": "ac02b552-7ed7-4fd9-b690-cf2b1a61a3f6", "to": "ada.lovelace@example.com",
           "from": "Atelier <no-reply@atelier.example>", "subject": "Confirm your email address",
           "text": "Hello Ada,\n\nPlease confirm your email address by opening this link:\nhttp://localhost:3000/verify-email?token=GM7iTPHJLhQsgW44MDtU7AyNNiT18nHVM7vapuZaiVc\n\nOr enter this code: GM7iTPHJLhQsgW44MDtU7AyNNiT18nHVM7vapuZaiVc\n\nThe link is valid for 24 hours. If you did not create an account, ignore this mail.\n",
           "html": "<p>Hello Ada,</p><p>Please confirm your email address: <a href=\"http://localhost:3000/verify-email?token=GM7iTPHJLhQsgW44MDtU7AyNNiT18nHVM7vapuZaiVc\">verify my email</a>.</p><p>Or enter this code: <code>GM7iTPHJLhQsgW44MDtU7AyNNiT18nHVM7vapuZaiVc</code></p><p>The link is valid for 24 hours. If you did not create an account, ignore this mail.</p>",
           "sent_at": "2026-11-26T02:15:22.433400Z"}]}]})

    results: list[MailboxMessage]
