"""Test helpers shared by every service: keys and tokens, the service harness, polling.

Loaded as a pytest plugin (`-p atelier_common.testing.plugin`) for the fixtures.
"""

from atelier_common.testing.harness import ServiceHarness, poll_until
from atelier_common.testing.tokens import TestKeys

__all__ = ["ServiceHarness", "TestKeys", "poll_until"]
