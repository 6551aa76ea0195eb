"""Signatures, tokens and secrets are compared as bytes: a non-ASCII value is a mismatch, not a 500."""

from __future__ import annotations

import pytest

from atelier_common.keys import same_signature


@pytest.mark.parametrize(("presented", "expected", "same"), [
    ("abc", "abc", True), (b"abc", "abc", True), ("é", "é", True), ("abc", "abd", False),
    ("é", "abc", False), ("\ud800", "abc", False), ("", "abc", False), ("ü" * 64, "0" * 64, False),
])
def test_signatures_compare_as_bytes(presented: str | bytes, expected: str, same: bool) -> None:
    assert same_signature(presented, expected) is same
