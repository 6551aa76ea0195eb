"""`atelier users`: accounts and their staff roles changed from a shell, through identity's own use
cases against its database, so that the first admin exists before any staff API can be used."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from atelier_platform.cli.services import with_database

users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)


def _new_password(stdin: bool) -> str:
    """A password from a hidden prompt (typed twice) or the first line of stdin; never an argument,
    which would stay in the shell's history and the process list."""
    if stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise typer.BadParameter("no password on stdin", param_hint="--stdin")
        return line
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password



def _access_ttl(settings: Any) -> Any:
    from datetime import timedelta

    return timedelta(minutes=getattr(settings, "access_token_ttl_minutes", 15))



StdinOption = Annotated[bool, typer.Option("--stdin", help="read the password from the first line of stdin")]


@users_app.command("create")
def create_user(email: str, staff: Annotated[bool, typer.Option(help="a staff account (admin unless --role)")] = False,
                role: Annotated[list[str] | None, typer.Option(
                    help="staff role(s): support, merchandiser, finance, admin (implies --staff)")] = None,
                stdin: StdinOption = False) -> None:
    """Create (or keep, and promote with --staff/--role) a verified account; the password is
    prompted for, or read from stdin with --stdin."""
    from atelier_identity.service import change_staff_roles
    from atelier_identity.service import create_user as create

    password = _new_password(stdin)
    roles = list(role or [])

    async def work(db: Any, settings: Any) -> dict[str, Any]:
        user = await create(db, email=email, password=password, staff=staff and not roles, verified=True)
        if roles:
            await change_staff_roles(db, email=email, grant=roles, access_ttl=_access_ttl(settings))
        return {"id": str(user.id), "email": user.email, "staff": bool(staff or roles),
                **({"roles": sorted(roles)} if roles else {})}

    typer.echo(json.dumps(with_database("identity", work)))


@users_app.command("set-password")
def set_password(email: str, stdin: StdinOption = False) -> None:
    """Set an account's password (prompted, or from stdin with --stdin); its sessions end."""
    from atelier_identity.service import set_password as set_it

    password = _new_password(stdin)

    async def work(db: Any, settings: Any) -> dict[str, Any]:
        user = await set_it(db, email=email, password=password, access_ttl=_access_ttl(settings))
        return {"id": str(user.id), "email": user.email, "password": "set"}

    typer.echo(json.dumps(with_database("identity", work)))


def _suspend(email: str, suspended: bool) -> None:
    from atelier_identity.service import set_suspended

    async def work(db: Any, settings: Any) -> bool:
        return await set_suspended(db, email=email, suspended=suspended, access_ttl=_access_ttl(settings))

    changed = with_database("identity", work)
    typer.echo(json.dumps({"email": email, "suspended": suspended, "changed": changed}))


@users_app.command("suspend")
def suspend(email: str) -> None:
    """Suspend an account: no sign-in or refresh (403 ACCOUNT_DISABLED); every session ends."""
    _suspend(email, True)


@users_app.command("reactivate")
def reactivate(email: str) -> None:
    """Let a suspended account sign in again."""
    _suspend(email, False)


def _change_roles(email: str, *, grant: list[str], revoke: list[str]) -> None:
    from atelier_identity.service import change_staff_roles

    async def work(db: Any, settings: Any) -> tuple[list[str], list[str]]:
        return await change_staff_roles(db, email=email, grant=grant, revoke=revoke, access_ttl=_access_ttl(settings))

    before, after = with_database("identity", work)
    typer.echo(json.dumps({"email": email, "before": before, "roles": after}))


@users_app.command("grant-role")
def grant_role(email: str, role: str) -> None:
    """Give a staff role (support, merchandiser, finance, admin) to an account; its sessions end."""
    _change_roles(email, grant=[role], revoke=[])


@users_app.command("revoke-role")
def revoke_role(email: str, role: str) -> None:
    """Take a staff role back; with none left the account is a customer only. Its sessions end."""
    _change_roles(email, grant=[], revoke=[role])
