"""The commands that print a document built from the code: the merged OpenAPI, the configuration
reference, and an env file of fresh production secrets. They start nothing and need no server, so
`make clients`, `make docs` and a first deployment can run them anywhere."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from atelier_gateway.settings import SERVICES


def dump_openapi(output: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None) -> None:
    """The merged OpenAPI document the gateway serves at /api/schema, built without starting anything
    (what the client generators read: `make clients`)."""
    import tempfile

    from atelier_gateway.openapi import merge
    from atelier_platform.embedded import service_settings

    with tempfile.TemporaryDirectory(prefix="atelier-openapi-") as data_dir:  # no service opens it: no lifespan
        documents = {s: importlib.import_module(f"atelier_{s}.app").create_app(
            service_settings(s, Path(data_dir))).openapi() for s in SERVICES}
    text = json.dumps(merge(documents), indent=2, sort_keys=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)


def config_docs(output: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
                check: Annotated[bool, typer.Option(help="exit 1 when OUTPUT differs from what would be written")]
                = False) -> None:
    """docs/configuration.md, generated from the settings classes (`make docs` writes it)."""
    from atelier_platform.configdocs import render

    text = render()
    if check:
        if output is None or not output.exists() or output.read_text() != text:
            typer.echo(f"{output} is stale: run atelier config-docs --output {output}", err=True)
            raise typer.Exit(1)
        return
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)


def generate_secrets() -> None:
    """Print fresh values for every secret production requires, as an env file (docs/deploy.md: Secrets)."""
    from atelier_platform.production import env_file

    typer.echo(env_file(), nl=False)
