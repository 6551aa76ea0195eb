"""`make clients`: generate the Python and the TypeScript client of the merged OpenAPI, then
type-check a small program against each.

    uv run python clients/generate.py [--out DIR]

1. `atelier openapi` writes the merged document (what the gateway serves at /api/schema).
2. openapi-python-client (a dev dependency, in uv.lock) generates `atelier_client`; mypy --strict
   checks example.py against it.
3. openapi-typescript (pinned with typescript and openapi-fetch in package-lock.json) generates
   `generated/atelier.ts`; `tsc --noEmit` checks example.ts against it.
4. Redocly CLI (pinned there too) lints the document with `redocly.yaml` (and the exceptions listed
   in `.redocly.lint-ignore.yaml`): no error and no warning.

A generator's warning fails the run as much as its error: a warning means a model or an operation
was left out. The npm packages are installed once per lock file into the temporary directory
(keyed by the lock's hash) and reused. libs/platform/tests/test_clients.py runs the same steps.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# A problem as `redocly lint --format stylish` prints it: `  12:5  error  rule-name  message`.
LINT_PROBLEM = re.compile(r"^\s+\d+:\d+\s+(error|warning)\s")
BIN = Path(sys.executable).parent


class ClientCheckFailed(Exception):
    pass


def _run(command: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
         timeout: float = 600) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise ClientCheckFailed(f"{' '.join(command)} exited {result.returncode}:\n{output}")
    return output


def openapi(out: Path) -> Path:
    schema = out / "openapi.json"
    _run([sys.executable, "-m", "atelier_platform.cli", "openapi", "--output", str(schema)])
    return schema


def python_client(schema: Path, out: Path) -> Path:
    target = out / "python"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    output = _run([str(BIN / "openapi-python-client"), "generate", "--path", str(schema),
                   "--output-path", str(target / "atelier_client"), "--meta", "none",
                   "--config", str(HERE / "openapi-python-client.yaml")])
    if "Warning" in output or "Unable" in output or "Error" in output:
        raise ClientCheckFailed(f"openapi-python-client left parts out:\n{output}")
    shutil.copy(HERE / "example.py", target / "example.py")
    check_python(target)
    return target


def check_python(target: Path) -> None:
    """mypy --strict on example.py with the generated package beside it (its cache beside them too:
    a second check of the same client takes a second)."""
    _run([sys.executable, "-m", "mypy", "--strict", "--config-file", os.devnull,
          "--cache-dir", str(target / ".mypy_cache"), "example.py"], cwd=target,
         env={**os.environ, "MYPYPATH": str(target)})


def node_modules() -> Path:
    """The pinned npm packages, installed once per package-lock.json into the temporary directory."""
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm is not installed (apt-get install -y npm)")
    lock = (HERE / "package-lock.json").read_bytes()
    cache = Path(tempfile.gettempdir()) / f"atelier-clients-npm-{hashlib.sha256(lock).hexdigest()[:16]}"
    if (cache / "node_modules" / ".bin" / "tsc").exists():
        return cache / "node_modules"
    staging = Path(tempfile.mkdtemp(prefix="atelier-clients-npm-"))
    shutil.copy(HERE / "package.json", staging / "package.json")
    shutil.copy(HERE / "package-lock.json", staging / "package-lock.json")
    _run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], cwd=staging)
    try:  # another run may have installed the same lock meanwhile: either copy is good
        staging.rename(cache)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return cache / "node_modules"


def typescript_client(schema: Path, out: Path) -> Path:
    modules = node_modules()
    target = out / "typescript"
    shutil.rmtree(target, ignore_errors=True)
    (target / "generated").mkdir(parents=True)
    (target / "node_modules").symlink_to(modules, target_is_directory=True)
    output = _run([str(modules / ".bin" / "openapi-typescript"), str(schema), "--output",
                   str(target / "generated" / "atelier.ts")], cwd=target)
    if "warn" in output.lower() or "error" in output.lower():
        raise ClientCheckFailed(f"openapi-typescript complained:\n{output}")
    for name in ("example.ts", "tsconfig.json"):
        shutil.copy(HERE / name, target / name)
    check_typescript(target)
    return target


def check_typescript(target: Path) -> None:
    _run([str(target / "node_modules" / ".bin" / "tsc"), "--project", str(target / "tsconfig.json")], cwd=target)


def lint(schema: Path) -> str:
    """Redocly's lint of the document with this directory's rules, beside a copy of it (the
    ignore file names the document by its path relative to itself). Fails on any error or warning."""
    modules = node_modules()
    work = Path(tempfile.mkdtemp(prefix="atelier-lint-"))
    try:
        for name in ("redocly.yaml", ".redocly.lint-ignore.yaml"):
            shutil.copy(HERE / name, work / name)
        shutil.copy(schema, work / "openapi.json")
        output = _run([str(modules / ".bin" / "redocly"), "lint", "openapi.json", "--config", "redocly.yaml",
                       "--format", "stylish", "--max-problems", "1000"], cwd=work,
                      env={**os.environ, "NO_COLOR": "1", "REDOCLY_TELEMETRY": "off",
                           "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    problems = [line for line in output.splitlines() if LINT_PROBLEM.match(line)]
    if problems or "Your API description is valid" not in output:
        raise ClientCheckFailed("redocly lint found problems:\n" + "\n".join(problems or [output]))
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="where to generate (default: a new temporary directory)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="atelier-clients-"))
    out.mkdir(parents=True, exist_ok=True)
    try:
        schema = openapi(out)
        print(f"python client: {python_client(schema, out)} (example.py type-checks)")
        print(f"typescript client: {typescript_client(schema, out)} (example.ts type-checks)")
        lint(schema)
        print("openapi lint: no error, no warning (clients/redocly.yaml)")
    except (ClientCheckFailed, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
