"""Every `type: ignore` says which error it silences and why (a bare one hides whatever comes next)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
EXPLAINED = re.compile(r"#\s*type:\s*ignore\[[a-z0-9,\- ]+\]\s*#\s*\S")


def test_every_type_ignore_names_its_error_and_its_reason() -> None:
    bare = []
    for folder in ("libs", "gateway", "services", "bench", "tests-e2e"):
        for path in (ROOT / folder).rglob("*.py"):
            if ".venv" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if re.search(r"#\s*type:\s*ignore", line) and not EXPLAINED.search(line):
                    bare.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not bare, "type: ignore without [code] and a reason after it:\n" + "\n".join(bare)
