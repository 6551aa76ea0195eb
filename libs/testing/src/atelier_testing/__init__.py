"""The test kit shared by every service's tests and the end-to-end tests: keys and tokens, the service
harness and its recording bus, polling, the error-format assertion, saga events delivered in every order (`permutations`).

Loaded as a pytest plugin (`-p atelier_testing.plugin`, in the root pytest options) for the fixtures.
Only tests import it: no runtime package may (libs/common/tests/test_boundaries.py checks it).
"""

from atelier_testing.asserts import assert_error
from atelier_testing.bus import RecordingBus
from atelier_testing.harness import ServiceHarness, poll_until
from atelier_testing.permutations import deliver_in_every_order, racing_consumers, redelivering
from atelier_testing.tokens import TestKeys

__all__ = ["RecordingBus", "ServiceHarness", "TestKeys", "assert_error", "deliver_in_every_order", "poll_until", "racing_consumers",
           "redelivering"]
