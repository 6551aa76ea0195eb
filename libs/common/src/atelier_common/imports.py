"""What an import entry point answers for each source row (`atelier import`): one shape for every
service, so the command line counts and reports them the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["imported", "skipped", "refused"]


@dataclass(frozen=True)
class RowOutcome:
    model: str
    pk: str
    status: Status
    reason: str = ""


class DryRun(Exception):
    """Raised inside an import's transaction to roll back everything it validated."""
