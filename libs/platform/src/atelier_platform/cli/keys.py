"""`atelier keys`: rotating and retiring identity's access token signing keys, an operator's step
(docs/operations.md). Written to identity's database, so every identity process picks the change
up on its own."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from atelier_platform.cli.services import with_database

keys_app = typer.Typer(help="Identity's access token signing keys (docs/operations.md).", no_args_is_help=True)



@keys_app.command("rotate")
def keys_rotate() -> None:
    """A new signing key signs from now on (every identity process within seconds); the old one
    stays in the JWKS for the access token lifetime, so nobody is signed out, then retires."""
    from datetime import timedelta

    from atelier_common.keys import SigningKey
    from atelier_identity.service.keys import adopt_configured_key, rotate

    async def work(db: Any, settings: Any) -> Any:
        ttl = timedelta(minutes=settings.access_token_ttl_minutes)
        # Before identity's first start the table is empty: the configured key is the one in use
        # (identity would store it at start, and rotate it in over this rotation's key).
        configured = SigningKey.load(settings.signing_key_pem, settings.data_dir / "keys" / "identity.pem")
        await adopt_configured_key(db, configured, access_ttl=ttl)
        return await rotate(db, access_ttl=ttl)

    typer.echo(json.dumps(with_database("identity", work, details=True).as_json()))


@keys_app.command("retire")
def keys_retire(kid: Annotated[str | None, typer.Argument(help="only this key (default: every key past its overlap)")] = None,
                force: Annotated[bool, typer.Option(
                    help="retire KID now, before the tokens it signed expire (a leaked key: they stop verifying)")] = False,
                ) -> None:
    """Record keys past their overlap as retired and erase their private halves (automatic
    retirement already took them out of the JWKS)."""
    from atelier_identity.service.keys import retire

    for state in with_database("identity", lambda db, _settings: retire(db, kid, force=force)):
        typer.echo(json.dumps(state.as_json()))


@keys_app.command("list")
def keys_list() -> None:
    """Every signing key: active (signs), published (verifies until retire_after) or retired."""
    from atelier_identity.service.keys import list_keys

    for state in with_database("identity", lambda db, _settings: list_keys(db)):
        typer.echo(json.dumps(state.as_json()))
