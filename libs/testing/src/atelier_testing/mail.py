"""Mail the platform sent, as the dev mailbox (`/api/dev/mailbox`) shows it."""

from __future__ import annotations

import re
from typing import Any


def token_from(mail: dict[str, Any]) -> str:
    """The single-use token of the link in `mail` (verification, reset, magic link)."""
    match = re.search(r"token=([A-Za-z0-9_\-\.]+)", mail["text"])
    assert match, mail["text"]
    return match.group(1)
