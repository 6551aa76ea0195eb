"""The benchmarks: figures and ratios, never timed assertions (bench/README.md says what each one
measures and needs). Each runs from the repository root as `uv run python -m bench.<name>`."""

from pathlib import Path

# The repository root: where `python -m bench.<name>` finds this package, so the child processes a
# benchmark starts (`-m bench.load`, uvicorn's `bench.ceiling:…`) start there too.
ROOT = Path(__file__).resolve().parent.parent
