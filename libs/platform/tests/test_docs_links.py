"""A clone carries its own docs: cloned into an empty directory with nothing beside it, every
relative link of every Markdown file resolves (the file, and the heading an `#anchor` names), no
link leaves the repository, and no tracked file refers to the directory beside the repository the
design once lived in. And README.md stays a front door, not a manual."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# Built from parts, so that this file does not hold the string it looks for.
OUTSIDE = "../" + "shared"
README_MAX_LINES = 220

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
HTML_LINK = re.compile(r"<(?:a|img)\s[^>]*?(?:href|src)=\"([^\"]+)\"", re.IGNORECASE)
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$", re.MULTILINE)
HTML_ANCHOR = re.compile(r"<a\s[^>]*?(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed HEAD of this checkout, cloned alone into a fresh directory."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    head = _git("rev-parse", "HEAD", cwd=ROOT).strip()
    target = tmp_path_factory.mktemp("empty") / "atelier"
    subprocess.run(["git", "clone", "--no-local", "--quiet", "--no-checkout", str(ROOT), str(target)], check=True)
    _git("checkout", "--quiet", head, cwd=target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["atelier"]  # nothing beside it
    return target.resolve()


def _prose(text: str) -> str:
    """The Markdown without its code: fenced blocks and code spans hold examples, not links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, inline markup and punctuation dropped, spaces → '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"<[^>]+>", "", text).lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    out = set(HTML_ANCHOR.findall(text))
    for _, title in HEADING.findall(text):
        base = slug(title)
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return frozenset(out)


def links(text: str) -> list[str]:
    prose = _prose(text)
    return INLINE_LINK.findall(prose) + REFERENCE_DEF.findall(prose) + HTML_LINK.findall(prose)


def _broken(clone: Path, source: Path, target: str) -> str | None:
    """Why `target`, a link in `source`, does not resolve inside the clone; None when it does."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("//"):
        return None  # another site (http:, https:, mailto:): not this test's to fetch
    path_part, _, anchor = target.partition("#")
    path_part = path_part.split("?", 1)[0]
    resolved = (source.parent / path_part).resolve() if path_part else source
    if not resolved.is_relative_to(clone):
        return "leaves the repository"
    if not resolved.exists():
        return "no such file"
    if anchor and resolved.suffix == ".md" and anchor.lower() not in anchors(resolved):
        return f"no heading #{anchor}"
    return None


def test_every_relative_link_of_every_markdown_file_resolves_in_a_lone_clone(clone: Path) -> None:
    files = [clone / name for name in _git("ls-files", "*.md", cwd=clone).split()]
    assert clone / "README.md" in files and clone / "docs" / "architecture.md" in files
    problems = []
    for source in files:
        for target in links(source.read_text(encoding="utf-8")):
            if (why := _broken(clone, source, target)) is not None:
                problems.append(f"{source.relative_to(clone)}: ({target}) {why}")
    assert problems == []


def test_no_tracked_file_refers_outside_the_repository(clone: Path) -> None:
    found = subprocess.run(["git", "grep", "-n", "-F", OUTSIDE], cwd=clone, capture_output=True, text=True)
    assert found.returncode == 1, f"files refer to {OUTSIDE}:\n{found.stdout}"


def test_the_readme_is_a_front_door() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines: move the detail into docs/"


def test_the_checker_finds_what_is_broken(tmp_path: Path) -> None:
    """The parser is this test's own: a broken link, a missing anchor and a link out are caught,
    and code is not mistaken for links."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# Title\n\n## The `atelier` command\n\n## Dup\n\n## Dup\n")
    readme = tmp_path / "README.md"
    readme.write_text("[ok](docs/a.md#the-atelier-command) [dup](docs/a.md#dup-1) [web](https://x.example)\n"
                      "[gone](docs/b.md) [bad anchor](docs/a.md#nope) [out](../elsewhere/x.md)\n"
                      "`[code](nowhere.md)`\n\n```\n[fenced](nowhere.md)\n```\n[self](#top)\n\n[ref]: docs/a.md\n")
    found = {target: _broken(tmp_path.resolve(), readme.resolve(), target) for target in links(readme.read_text())}
    assert found == {"docs/a.md#the-atelier-command": None, "docs/a.md#dup-1": None, "https://x.example": None,
                     "docs/b.md": "no such file", "docs/a.md#nope": "no heading #nope",
                     "../elsewhere/x.md": "leaves the repository", "#top": "no heading #top", "docs/a.md": None}
