"""The benchmarks: figures and ratios, never timed assertions (bench/README.md says what each one
measures and needs). Each runs from the repository root as `uv run python -m bench.<name>`."""

import argparse
from pathlib import Path

# The repository root: where `python -m bench.<name>` finds this package, so the child processes a
# benchmark starts (`-m bench.load`, uvicorn's `bench.ceiling:…`) start there too.
ROOT = Path(__file__).resolve().parent.parent


def add_servers(parser: argparse.ArgumentParser, *, amqp: bool = True) -> None:
    """The servers a benchmark runs against: the local ones unless named."""
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    if amqp:
        parser.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672/")


def command_line(doc: str | None, *, amqp: bool = True) -> argparse.ArgumentParser:
    """A benchmark's command line: its module docstring as the help, and the servers."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_servers(parser, amqp=amqp)
    return parser
