"""When a promotion runs, written out as cases that its rule and each SQL twin of it are held to.

Orders decides it: `PromotionTerms.live` (active, and `starts_at <= now < ends_at`, a missing bound
open), and its SQL twin `promotions.repository.live_sql`, which picks the promotions a basket is
priced with. The cart cannot import orders: it keeps each automatic promotion's window
(`cart_promotion_window`, from `promotion.changed`) and asks the same question of it in SQL
(`atelier_cart.promotions.live_window`) to know whether a cart must ask orders for a quote at all.
Both services' tests run their SQL on rows of these windows, on SQLite and PostgreSQL, and orders'
its Python rule too, so the three say the same thing at the instants where they could differ: a
bound met exactly (on a whole second and on a fraction of one: SQLite compares timestamps as text),
a microsecond either side, a bound given in another time zone, no bound, an inactive promotion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

# A whole second, and an instant with a fraction of one (the two ways SQLite may write a timestamp).
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NOW_FRACTION = datetime(2026, 12, 1, 12, 0, 0, 250_000, tzinfo=UTC)
MICRO = timedelta(microseconds=1)
HOUR = timedelta(hours=1)
PARIS = timezone(timedelta(hours=1))


@dataclass(frozen=True)
class Window:
    """What a promotion's runs depend on: whether it is active, and its dates (None: open)."""

    is_active: bool
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True)
class Case:
    name: str
    window: Window
    now: datetime
    runs: bool


def _cases() -> list[Case]:
    cases = []
    for now, at in ((NOW, "a whole second"), (NOW_FRACTION, "a fraction of a second")):
        cases += [
            Case(f"no dates, at {at}", Window(True), now, True),
            Case(f"inactive, no dates, at {at}", Window(False), now, False),
            Case(f"inactive within its dates, at {at}", Window(False, now - HOUR, now + HOUR), now, False),
            Case(f"within its dates, at {at}", Window(True, now - HOUR, now + HOUR), now, True),
            Case(f"starts exactly now, at {at}", Window(True, now, None), now, True),
            Case(f"started a microsecond ago, at {at}", Window(True, now - MICRO, None), now, True),
            Case(f"starts in a microsecond, at {at}", Window(True, now + MICRO, None), now, False),
            Case(f"ends exactly now, at {at}", Window(True, None, now), now, False),
            Case(f"ends in a microsecond, at {at}", Window(True, None, now + MICRO), now, True),
            Case(f"ended a microsecond ago, at {at}", Window(True, None, now - MICRO), now, False),
            Case(f"a microsecond long, from now, at {at}", Window(True, now, now + MICRO), now, True),
            Case(f"starts and ends now, at {at}", Window(True, now, now), now, False),
            Case(f"over before it starts, at {at}", Window(True, now + HOUR, now - HOUR), now, False),
            Case(f"starts now in Paris time, at {at}", Window(True, now.astimezone(PARIS), None), now, True),
            Case(f"ends now in Paris time, at {at}", Window(True, None, now.astimezone(PARIS)), now, False),
            Case(f"asked in Paris time as it starts, at {at}", Window(True, now, None), now.astimezone(PARIS),
                 True),
        ]
    return cases


CASES: list[Case] = _cases()
