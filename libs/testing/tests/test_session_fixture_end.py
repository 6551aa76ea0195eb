"""A session fixture ended once no later test needs it (`end_session_fixture`), through pytest's
own fixture teardown: what the end-to-end tests do with their session platforms."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CONFTEST = '''
import pytest
from atelier_testing.plugin import end_session_fixture, no_later_test_needs

LOG = []

@pytest.fixture(scope="session")
def server():
    LOG.append("up")
    yield "server"
    LOG.append("down")

@pytest.fixture(scope="module")
def uses_server(server):
    LOG.append("module up")
    yield server
    LOG.append("module down")

@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    if no_later_test_needs(item, nextitem, lambda each: "server" in each.fixturenames):
        end_session_fixture(item, "server")
'''


TESTS = {"test_a": '''
from conftest import LOG

def test_one(uses_server): pass
def test_two(server): pass
def test_plain(): assert LOG == {during_plain!r}
''', "test_b": '''
from conftest import LOG

def test_again(server): assert LOG == {during_again!r}
def test_last(): assert LOG[-1] == "down"
'''}


def _run(pytester: pytest.Pytester, conftest: str, **logs: list[str]) -> None:
    pytester.makeconftest(conftest)
    pytester.makepyfile(**{name: body.format(**logs) for name, body in TESTS.items()})
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:xdist", "-p", "no:cacheprovider", "test_a.py", "test_b.py")
    result.assert_outcomes(passed=5)


def test_alone_it_ends_after_the_last_test_needing_it(pytester: pytest.Pytester) -> None:
    _run(pytester, CONFTEST, during_plain=["up", "module up"],
         during_again=["up", "module up", "module down"])


def test_a_worker_guesses_from_its_next_test_and_sets_it_up_again_when_asked(pytester: pytest.Pytester) -> None:
    as_worker = CONFTEST + "\ndef pytest_configure(config):\n    config.workerinput = {}\n"
    _run(pytester, as_worker, during_plain=["up", "module up", "module down", "down"],
         during_again=["up", "module up", "module down", "down", "up"])
