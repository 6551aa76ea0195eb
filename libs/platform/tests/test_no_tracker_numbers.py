"""Nothing in the repository needs the issue tracker to be understood: no comment, docstring, doc,
test, Makefile or CI file points at a tracker number. A feature is named by what it is (the
promotions, the data-scale benchmark), which a reader of a lone clone can look up."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PATHSPECS = ["*.py", "*.md", "*.js", "*.ts", "*.html", "*.yaml", "*.yml", "*.toml", "*.css", "*.json", "*.jsonc",
             "*.txt", "*.ini", "*.mako", "*.sh", "*.tpl", "*.env", "Makefile", "Dockerfile", ".ci/*"]
# Where a hash and three or four digits can be a colour (a grey, `333`), not a number: let through there.
COLOUR_FILES = (".css", ".html", ".js", ".ts", ".json", ".jsonc")

# Built from parts, so that this file does not hold the forms it looks for.
HASH = "#"
NUMBER = HASH + r"\d{1,4}(?![\w-])"
REFERENCE = re.compile(
    "|".join([
        r"\bissues?\s+" + HASH + r"?\d{1,4}\b",  # issue NN, issues NN and MM
        r"\(\s*" + NUMBER,  # (NN), (NN: …), (NN, …)
        r"[,;]\s+" + NUMBER + r"\s*[),;]",  # (…, NN), (…; NN, …)
        r"(?:^\s*|\"\"\"|'''|#\s+(?:--\s+)?|//\s+|/\*\s*)" + NUMBER + r"\s*:",  # NN: opening a comment
        r"(?<![\w&#/.:=-])" + HASH + r"\d{2,4}(?![\w-])",  # a bare NN of two digits or more
    ]),
    re.IGNORECASE,
)
ENTITY = re.compile(r"&" + HASH + r"\d+;")


def tracker_references(path: str, text: str) -> list[str]:
    """`path:line: text` of each line of `text` that points at a tracker number."""
    colours = path.endswith(COLOUR_FILES)
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for match in REFERENCE.finditer(ENTITY.sub("", line)):
            digits = re.search(r"\d+", match.group())
            if colours and digits is not None and len(digits.group()) in (3, 4):
                continue
            found.append(f"{path}:{number}: {line.strip()}")
            break
    return found


def test_no_tracked_file_points_at_a_tracker_number() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: no tracked files")
    listed = subprocess.run(["git", "ls-files", "-z", "--", *PATHSPECS], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    found = []
    for name in filter(None, listed.split("\0")):
        path = ROOT / name
        if path.is_file():  # a file deleted but not yet staged is not there to read
            found += tracker_references(name, path.read_text(encoding="utf-8", errors="replace"))
    assert found == [], "name the feature, not its tracker number:\n" + "\n".join(found)


@pytest.mark.parametrize("line", [
    "# The code of a shipping method (" + HASH + "56); none: its first.",
    '"""Issue ' + HASH + "17: what is on sale has one definition.",
    "| figure | target (issue " + HASH + "15) |",
    "in both modes (" + HASH + "56).",
    "The staff API (" + HASH + "36, docs/back-office.md).",
    "measured (2026-11-27, later, " + HASH + "57)",
    "(support and up; " + HASH + "36, docs/back-office.md)",
    '"""' + HASH + "56: a business customer's token",
    "    # -- " + HASH + "50: the IPv6 forms",
    "// Customers (support's, " + HASH + "36 and " + HASH + "53): found by email",
    "what that means for " + HASH + "57's target",
    "a token signed before " + HASH + "56.",
    "never a 500 (issue " + "12).",
    "# Issue " + "50: Bob's account got Alice's name.",
    "fixed in " + HASH + "101 last week",
])
def test_the_checker_finds_each_form(line: str) -> None:
    assert tracker_references("x.py", line) == [f"x.py:1: {line.strip()}"]


@pytest.mark.parametrize(("path", "line"), [
    ("x.css", "color: " + HASH + "333; border: 1px solid " + HASH + "0008;"),
    ("x.css", "background: var(--bg, " + HASH + "fff);"),
    ("x.js", "const shade = (" + HASH + "123);"),
    ("x.html", "<td>caf&" + HASH + "233;</td> and " + HASH + "a1b2c3"),
    ("x.md", "[the heading](docs/a.md" + HASH + "storefronts-41) and page" + HASH + "12"),
    ("x.py", "# 1. the first step, then" + " the order's number one"),
    ("x.md", "Promotions are the team's " + HASH + "1 request."),
    ("x.py", "S0's provider and S4's seed products"),
    ("x.py", "we issue invoices for every paid order"),
])
def test_the_checker_lets_through_what_is_no_tracker_number(path: str, line: str) -> None:
    assert tracker_references(path, line) == []
