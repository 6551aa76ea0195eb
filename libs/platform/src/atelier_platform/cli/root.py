"""The root command and its two entries: `main` (the `atelier` script) and `run` (what a child that
`atelier up` forked runs its command line with). Apart from the package's `__init__`, which hangs
the commands on `app`, because `up` hands `run` to its children: a command module can import this
one, not the package that imports it."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import typer

app = typer.Typer(help="Atelier platform command line.", no_args_is_help=True, add_completion=False)


CONFIGURATION_ERROR = 2  # like a usage error: the command cannot run as configured


@contextlib.contextmanager
def _configuration_errors() -> Iterator[None]:
    """A setting's invalid value ends the command with one line per setting (its name, its variable,
    what is wrong) and exit code 2, not a traceback; any other error keeps its traceback."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from atelier_common.settings import explain_settings_error

    try:
        yield
    except (ValidationError, SettingsError) as error:
        lines = explain_settings_error(error)
        if lines is None:
            raise
        for line in lines:
            typer.echo(line, err=True)
        sys.exit(CONFIGURATION_ERROR)


def main() -> None:
    with _configuration_errors():
        app()


def run(args: list[str]) -> None:
    """One command line in this process (a child `atelier up` forked runs its own with it)."""
    with _configuration_errors():
        app(args=args, prog_name="atelier")
