"""Identity's rows: an address as a plain dataclass, read and written with the statements of
`repository.py` and `queries.py` built once (no ORM object on an address's paths: a guest's
address is written at checkout, read when the order is placed, moved to the account at sign-up).

A row's fields are its table's columns, by name and in order (`tests/unit/test_rows.py` checks):
the statements select the columns the row names and insert its fields as they are.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(kw_only=True)
class AddressRow:
    """An address (table `address`). A change is a statement; the use case changes its row to match."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    owner_id: uuid.UUID
    label: str
    type: str = "shipping"
    first_name: str
    last_name: str = ""
    company: str | None = None
    address_line_1: str
    address_line_2: str | None = None
    city: str
    state: str = ""
    postal_code: str = ""
    country: str
    phone: str | None = None
    email: str | None = None
    is_primary: bool = False
    created_at: datetime
    updated_at: datetime

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)
