"""Background loops stop between two steps, never inside one; and stopping never hangs."""

from __future__ import annotations

import asyncio
import logging

import pytest

from atelier_common.loops import BackgroundLoop


class Steps:
    """A loop body that counts its steps; the first waits for `go_on` (or forever)."""

    def __init__(self, loop: BackgroundLoop) -> None:
        self.loop = loop
        self.begun = 0
        self.ended = 0
        self.cancelled_inside = False
        self.inside = asyncio.Event()
        self.go_on = asyncio.Event()

    async def run(self) -> None:
        while True:
            async with self.loop.step():
                self.begun += 1
                self.inside.set()
                try:
                    await self.go_on.wait()
                except asyncio.CancelledError:
                    self.cancelled_inside = True
                    raise
                self.ended += 1
            await asyncio.sleep(0)  # between two steps, as a loop that finds more work goes on


class TestStop:
    async def test_waits_for_the_step_under_way_then_cancels_before_the_next(self) -> None:
        loop = BackgroundLoop("test")
        steps = Steps(loop)
        loop.start(steps.run())
        async with asyncio.timeout(10):
            await steps.inside.wait()
            stopping = asyncio.create_task(loop.stop())
            await asyncio.sleep(0)  # stop() is under way
            assert not stopping.done()  # it waits for the step
            steps.go_on.set()
            await stopping
        assert (steps.begun, steps.ended, steps.cancelled_inside) == (1, 1, False)

    async def test_a_step_that_hangs_past_the_timeout_is_cancelled_with_a_warning(
            self, caplog: pytest.LogCaptureFixture) -> None:
        loop = BackgroundLoop("hanging", stop_timeout=0.05)
        steps = Steps(loop)  # go_on is never set
        loop.start(steps.run())
        async with asyncio.timeout(10):
            await steps.inside.wait()
            with caplog.at_level(logging.WARNING, logger="atelier.loops"):
                await loop.stop()
        assert steps.cancelled_inside and steps.ended == 0
        assert "hanging: a step still ran after 0.05 s" in caplog.text

    async def test_a_loop_waiting_between_steps_stops_at_once(self) -> None:
        loop = BackgroundLoop("idle")
        idle = asyncio.Event()

        async def run() -> None:
            idle.set()
            await asyncio.Event().wait()  # waits for work that never comes

        loop.start(run())
        async with asyncio.timeout(10):
            await idle.wait()
            assert loop.running
            await loop.stop()
        assert not loop.running

    async def test_stop_without_start_and_twice_is_harmless(self) -> None:
        loop = BackgroundLoop("never started")
        await loop.stop()
        loop.start(asyncio.sleep(0))
        await loop.stop()
        await loop.stop()

    async def test_a_step_taken_outside_the_task_waits_for_the_loops(self) -> None:
        loop = BackgroundLoop("shared")
        steps = Steps(loop)
        loop.start(steps.run())
        outside: list[int] = []

        async def flush() -> None:  # as a test's or the bus drain's flush() does
            async with loop.step():
                outside.append(steps.ended)

        async with asyncio.timeout(10):
            await steps.inside.wait()
            flushing = asyncio.create_task(flush())
            await asyncio.sleep(0)
            assert outside == []
            steps.go_on.set()
            await flushing
            await loop.stop()
        assert outside == [1]


class TestEvery:
    async def test_a_failed_round_is_logged_and_the_loop_goes_on(self, caplog: pytest.LogCaptureFixture) -> None:
        loop = BackgroundLoop("chore")
        rounds: list[int] = []
        third = asyncio.Event()

        async def round() -> None:
            rounds.append(len(rounds))
            if len(rounds) == 3:
                third.set()
            if len(rounds) == 1:
                raise RuntimeError("a bad round")

        with caplog.at_level(logging.ERROR, logger="atelier.loops"):
            loop.every(0.001, round)
            async with asyncio.timeout(10):
                await third.wait()
            await loop.stop()
        assert "chore: a round failed" in caplog.text

    async def test_zero_seconds_is_one_round_and_not_now_waits_first(self) -> None:
        once = BackgroundLoop("once")
        ran: list[str] = []

        done = asyncio.Event()

        async def round() -> None:
            ran.append("once")
            done.set()

        once.every(0, round)
        async with asyncio.timeout(10):
            await done.wait()
        for _ in range(5):  # let the loop's task go on as far as it would
            await asyncio.sleep(0)
        assert ran == ["once"] and not once.running

        later = BackgroundLoop("later")
        later.every(3600, round, now=False)
        for _ in range(5):
            await asyncio.sleep(0)
        await later.stop()
        assert ran == ["once"]  # the first round waits its period
