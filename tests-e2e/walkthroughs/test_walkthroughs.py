"""The walkthroughs (docs/walkthroughs/) run as written, so they cannot go stale.

`atelier dev` is started as `make dev` starts it (no ATELIER_ variable but the span files'), on a
free port; the development staff account's password is read from what it printed. Each
walkthrough listed by docs/walkthroughs/README.md is then run by bash as a reader would paste it:
its ```bash blocks in order, in one shell, with `BASE` (and `ADMIN_PASSWORD`) set and `set -euo
pipefail`. Each block must succeed (the blocks use `curl -fsS`), and the JSON it printed last must
have the shape of the ```json answer shown after it: the keys shown with the values shown, where
`…` in a string stands for anything.

The platform's log is then read as an operator would: one business line per order placed, paid
and refunded and per job finished, each with its number or id and storefront; every access line
and every span names the service that did the work (the embedded mode runs all of them in one
process).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from atelier_testing.platform import make_dev

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).resolve().parents[2] / "docs" / "walkthroughs"
DONE = "@@walkthrough-block-done@@"
SERVICES = {"gateway", "identity", "catalog", "cart", "orders", "payments", "generation"}


@dataclass
class Block:
    line: int
    code: str
    answer: Any = None  # the ```json shape shown after it, if any


def walkthroughs() -> list[str]:
    """The walkthroughs in the order the index lists them."""
    index = (DOCS / "README.md").read_text()
    names = re.findall(r"\]\(([a-z-]+\.md)\)", index)
    return list(dict.fromkeys(names))


def bash_blocks(text: str) -> list[Block]:
    """Every ```bash block in order, each with the ```json block that follows it (before the next
    bash block), parsed."""
    found: list[Block] = []
    for match in re.finditer(r"^```(\w*)\n(.*?)^```\s*$", text, flags=re.MULTILINE | re.DOTALL):
        language, body = match.group(1), match.group(2)
        line = text.count("\n", 0, match.start()) + 1
        if language == "bash":
            found.append(Block(line, body))
        elif language == "json":
            assert found and found[-1].answer is None, f"line {line}: an answer shown without its request"
            found[-1].answer = json.loads(body)
    return found


def last_json(text: str) -> Any:
    """The last JSON object or array in `text` (what a block printed last)."""
    decoder, values, at = json.JSONDecoder(), [], 0
    while at < len(text):
        if text[at] in "{[":
            try:
                value, at = decoder.raw_decode(text, at)
            except ValueError:
                at += 1
            else:
                values.append(value)
            continue
        at += 1
    return values[-1] if values else None


def mismatches(shape: Any, actual: Any, where: str = "$") -> list[str]:
    """How `actual` differs from the documented `shape` (keys and items shown; `…` is anything)."""
    if isinstance(shape, str) and "…" in shape:
        pattern = ".*".join(re.escape(part) for part in shape.split("…"))
        ok = shape == "…" or (isinstance(actual, str) and re.fullmatch(pattern, actual, flags=re.DOTALL))
        return [] if ok else [f"{where}: {actual!r} is not {shape!r}"]
    if isinstance(shape, dict):
        if not isinstance(actual, dict):
            return [f"{where}: {actual!r} is not an object"]
        return [problem for key, value in shape.items()
                for problem in (mismatches(value, actual[key], f"{where}.{key}") if key in actual
                                else [f"{where}: no {key!r} in {sorted(actual)}"])]
    if isinstance(shape, list):
        if not isinstance(actual, list) or len(actual) < len(shape):
            return [f"{where}: {actual!r} has not the {len(shape)} items of {shape!r}"]
        return [problem for n, value in enumerate(shape) for problem in mismatches(value, actual[n], f"{where}[{n}]")]
    same = shape == actual and isinstance(shape, bool) == isinstance(actual, bool)
    return [] if same else [f"{where}: {actual!r} is not {shape!r}"]


@dataclass
class DevPlatform:
    url: str
    admin_password: str
    log: Path
    data_dir: Path

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for raw in self.log.read_text().splitlines():
            with contextlib.suppress(ValueError):
                lines.append(json.loads(raw))
        return lines

    def spans(self) -> list[dict[str, Any]]:
        spans = []
        for path in (self.data_dir / "traces").glob("*.jsonl"):
            for raw in path.read_text().splitlines():
                with contextlib.suppress(ValueError):
                    spans.append(json.loads(raw))
        return spans


@pytest.fixture(scope="module")
def dev_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevPlatform]:
    """`atelier dev` as `make dev` runs it, on a free port; the spans written to files (for the
    last test: the API is the same without)."""
    with make_dev(tmp_path_factory.mktemp("walkthroughs"), {"ATELIER_OTEL_EXPORTER": "file"}) as started:
        password = re.search(r"password: (\S+)", started.printed())
        assert password is not None, started.printed()
        with urllib.request.urlopen(f"{started.url}/api/health", timeout=30) as health:
            assert health.status == 200
        yield DevPlatform(started.url, password.group(1), started.log, started.data_dir)


@dataclass
class Walked:
    name: str
    outputs: list[Any]  # the last JSON each block printed


def walk(platform: DevPlatform, name: str, workdir: Path, carried: dict[str, str]) -> Walked:
    blocks = bash_blocks((DOCS / name).read_text())
    assert blocks, f"{name} has no ```bash block"
    script = "set -euo pipefail\n" + "".join(f"{block.code}\nprintf '\\n%s\\n' '{DONE}'\n" for block in blocks)
    env = {**os.environ, "BASE": platform.url, "ADMIN_PASSWORD": platform.admin_password, **carried}
    result = subprocess.run(["bash", "-c", script], env=env, cwd=workdir, capture_output=True, text=True, timeout=900)
    outputs = result.stdout.split(DONE)
    if result.returncode != 0:
        failed = blocks[len(outputs) - 1]
        raise AssertionError(f"{name}, the block at line {failed.line} exited {result.returncode}:\n{failed.code}\n"
                             f"stdout: {outputs[-1][-2000:]}\nstderr: {result.stderr[-3000:]}")
    printed = [last_json(output) for output in outputs[:len(blocks)]]
    for block, actual in zip(blocks, printed, strict=True):
        if block.answer is not None:
            problems = mismatches(block.answer, actual)
            assert not problems, f"{name}, the answer after line {block.line}: {problems}\nprinted: {actual!r}"
    return Walked(name, printed)


@pytest.fixture(scope="module")
def walked(dev_platform: DevPlatform, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Walked]:
    """Each walkthrough from a fresh terminal, in the index's order; the refund is given the
    purchase's `$ORDER_NUMBER`, as it is when a reader runs both in one terminal (refund.md)."""
    done: dict[str, Walked] = {}
    carried: dict[str, str] = {}
    for name in walkthroughs():
        done[name] = walk(dev_platform, name, tmp_path_factory.mktemp(name.removesuffix(".md")), carried)
        if name == "purchase.md":
            carried["ORDER_NUMBER"] = _order_number(done[name])
    return done


def test_the_index_lists_every_walkthrough() -> None:
    assert walkthroughs() == ["purchase.md", "image.md", "storybook.md", "restoration.md", "refund.md", "erp.md",
                              "accounting.md"]
    assert sorted(walkthroughs()) == sorted(p.name for p in DOCS.glob("*.md") if p.name != "README.md")


def test_every_walkthrough_runs_as_written(walked: dict[str, Walked]) -> None:
    assert list(walked) == walkthroughs()


def _answers(walk: Walked) -> list[dict[str, Any]]:
    return [output for output in walk.outputs if isinstance(output, dict)]


def _order_number(walk: Walked) -> str:
    numbers = {a["order_number"] for a in _answers(walk) if "order_number" in a}
    assert len(numbers) == 1, numbers
    return str(numbers.pop())


def test_the_log_tells_each_order_and_job_by_its_number(dev_platform: DevPlatform, walked: dict[str, Walked]) -> None:
    """One INFO line per order placed, paid and refunded and per job finished, written by the
    service that did it, with the order's number (or the job's id) and its storefront."""
    number = _order_number(walked["purchase.md"])
    assert _order_number(walked["refund.md"]) == number
    jobs = {a["job_id"] for a in _answers(walked["image.md"]) if "job_id" in a}
    assert len(jobs) == 1

    def business() -> list[dict[str, Any]]:
        return [line for line in dev_platform.log_lines() if line.get("logger") in ("atelier.orders",
                                                                                   "atelier.generation.worker")]

    deadline = time.monotonic() + 60
    while not any(line.get("order_event") == "refunded" for line in business()):
        assert time.monotonic() < deadline, [line["message"] for line in business()]
        time.sleep(0.5)
    orders = [line for line in business() if line.get("order_number") == number]
    assert [line["order_event"] for line in orders] == ["placed", "paid", "refunded"]
    for line in orders:
        assert line["level"] == "INFO" and line["service"] == "orders" and line["storefront"] == "default"
        assert line["message"].startswith(f"order {number} {line['order_event']} on storefront default: ")
    (job,) = [line for line in business() if line.get("job_id") in jobs]
    assert job["service"] == "generation" and job["job_status"] == "completed" and job["storefront"] == "default"
    assert job["message"].startswith(f"job {job['job_id']} completed: image on storefront default")


def test_each_access_line_and_span_names_the_service_that_did_the_work(
        dev_platform: DevPlatform, walked: dict[str, Walked]) -> None:
    """One access line per call per hop: the gateway's and the owning service's, each named; never
    the mode's name. The spans likewise name the gateway and each service, not the first one started."""
    access = [line for line in dev_platform.log_lines() if line.get("logger") == "atelier.access"]
    assert access and {line["service"] for line in access} <= SERVICES
    placed: dict[str, list[str]] = {}  # the orders placed (purchase.md, storybook.md), by request id
    for line in access:
        if line["method"] == "POST" and line["path"] == "/api/v1/orders":
            placed.setdefault(line["request_id"], []).append(line["service"])
    assert len(placed) == 2 and all(sorted(hops) == ["gateway", "orders"] for hops in placed.values()), placed
    spans = dev_platform.spans()
    named = {span["service"] for span in spans}
    assert {f"atelier-{service}" for service in SERVICES} <= named, named
    publish = [span for span in spans if span["name"] == "publish order.placed"]
    assert publish and {span["service"] for span in publish} == {"atelier-orders"}
    consumers = {span["service"] for span in spans if span["name"] == "process order.placed"}
    assert {"atelier-catalog", "atelier-cart"} <= consumers
