"""What `atelier dev` (`make dev`) gives a developer at start: a staff account to sign in to the
console with, and the lines that say where everything is.

The development staff account is made by `atelier dev` only, in the `dev` environment (never
with ATELIER_ENVIRONMENT=test or production, never by `atelier up`, not when a bootstrap staff
account is configured), once per data directory: its random password is printed when it is made
and kept nowhere else (identity stores its hash). `atelier users set-password` gives it a new one.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any

DEV_STAFF_EMAIL = "admin@atelier.example"


@dataclass(frozen=True)
class DevStaff:
    email: str
    # Set only at the start that made the account: the one time it is shown.
    password: str | None


def ensure_dev_staff(settings: Any, migrations: Any) -> DevStaff | None:
    """The development staff account on identity's database (`settings`: identity's), made when
    missing; None where there is none (see the module doc)."""
    if settings.environment != "dev" or settings.bootstrap_staff_email:
        return None
    from atelier_common.db import Database
    from atelier_common.migrations import upgrade
    from atelier_identity.service import create_user_if_new

    upgrade(migrations, settings.resolved_database_url)  # the account's table, before the platform starts
    password = secrets.token_urlsafe(12)

    async def make() -> bool:
        db = Database(settings.resolved_database_url, service="identity")
        try:
            return await create_user_if_new(db, email=DEV_STAFF_EMAIL, password=password, staff=True) is not None
        finally:
            await db.dispose()

    return DevStaff(DEV_STAFF_EMAIL, password if asyncio.run(make()) else None)


def staff_lines(staff: DevStaff) -> list[str]:
    if staff.password is not None:
        return [f"  staff:    {staff.email}  password: {staff.password}",
                "            (shown this once and stored nowhere: keep it)"]
    return [f"  staff:    {staff.email}  (its password was shown at the first start; a new one: "
            f"`uv run atelier users set-password {staff.email}`)"]


def banner(base_url: str, staff: DevStaff | None) -> list[str]:
    """Where everything is, printed once the platform serves."""
    return [f"Atelier (embedded) on {base_url}",
            f"  API:      {base_url}/api/v1/…  ({base_url}/ lists every link)",
            f"  docs:     {base_url}/api/docs",
            f"  console:  {base_url}/console",
            f"  mailbox:  {base_url}/api/dev/mailbox",
            *(staff_lines(staff) if staff else []),
            "  walkthroughs: docs/walkthroughs/README.md"]
