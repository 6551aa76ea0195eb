"""`atelier subscriptions`: a development aid that ends a subscription period at once through the
running platform's dev route, so renewals can be tried without waiting a month."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from atelier_platform.cli.services import settings_of

subscriptions_app = typer.Typer(help="Subscriptions of the local payment provider (dev).", no_args_is_help=True)


@subscriptions_app.command("advance")
def advance_subscription(email: str,
                         outcome: Annotated[str, typer.Option(help="paid or failed")] = "paid",
                         gateway_url: Annotated[str, typer.Option(help="the running platform")] = "http://127.0.0.1:8000",
                         ) -> None:
    """End EMAIL's current period now (payments' dev route; `dev_endpoints` must be on)."""
    import httpx
    from sqlmodel import col, select

    from atelier_common.db import Database
    from atelier_identity.models import User

    if outcome not in ("paid", "failed"):
        raise typer.BadParameter("outcome is paid or failed", param_hint="--outcome")
    settings = settings_of("identity")

    async def user_id() -> str:
        db = Database(settings.resolved_database_url, service="identity")
        try:
            async with db.read_only() as session:
                found = (await session.exec(select(User).where(col(User.email) == email.strip().lower()))).first()
        finally:
            await db.dispose()
        if found is None:
            raise typer.BadParameter(f"no user {email!r}")
        return str(found.id)

    response = httpx.post(gateway_url.rstrip("/") + "/api/dev/subscriptions/advance",
                          json={"user_id": asyncio.run(user_id()), "outcome": outcome}, timeout=30)
    typer.echo(response.text)
    if response.status_code != 200:
        raise typer.Exit(1)
