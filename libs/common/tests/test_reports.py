"""The per-day reports' window: the last `days` UTC days, today included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from atelier_common.reports import day_window


def test_one_day_is_today_from_its_first_instant_in_utc() -> None:
    window = day_window(1, datetime(2026, 11, 26, 0, 30, tzinfo=UTC))
    assert (window.since, window.until) == (date(2026, 11, 26), date(2026, 11, 26))
    assert window.start == datetime(2026, 11, 26, tzinfo=UTC)


def test_thirty_days_end_today_and_a_local_clock_is_read_in_utc() -> None:
    tbilisi = timezone(timedelta(hours=4))
    window = day_window(30, datetime(2026, 11, 27, 2, 0, tzinfo=tbilisi))  # still the 26th in UTC
    assert (window.since, window.until) == (date(2026, 10, 28), date(2026, 11, 26))
