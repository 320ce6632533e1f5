"""Calendar arithmetic in the subscription time zone.

Pendo buckets ``day`` rows on local midnight and ``hour`` rows on the local hour start, so a
DST-change day in America/New_York has 23 or 25 hour buckets. Everything here is epoch ms.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
_STEP_MS = 15 * 60_000  # finer than any real DST shift, so no local hour is skipped


class Clock:
    """Local days and hours of one IANA zone."""

    def __init__(self, tz: str) -> None:
        self.tz = tz
        self.zone = ZoneInfo(tz)
        self.day_start = lru_cache(maxsize=4096)(self._day_start)
        self.hour_starts = lru_cache(maxsize=256)(self._hour_starts)

    def local(self, ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, self.zone)

    def day_of(self, ms: int) -> str:
        """The local calendar day ("YYYY-MM-DD") that contains ``ms``."""
        return self.local(ms).date().isoformat()

    def _day_start(self, day: str) -> int:
        d = date.fromisoformat(day)
        return int(datetime(d.year, d.month, d.day, tzinfo=self.zone).timestamp()) * 1000

    def day_end(self, day: str) -> int:
        return self.day_start(next_day(day))

    def floor_day(self, ms: int) -> int:
        return self.day_start(self.day_of(ms))

    def floor_hour(self, ms: int) -> int:
        """Start of the local hour containing ``ms`` (fold-aware, so both 01:00s of a fall-back day)."""
        start = self.local(ms).replace(minute=0, second=0, microsecond=0)
        return int(start.timestamp()) * 1000

    def _hour_starts(self, day: str) -> tuple[int, ...]:
        start, end = self.day_start(day), self.day_end(day)
        seen: list[int] = []
        for t in range(start, end, _STEP_MS):
            h = max(self.floor_hour(t), start)
            if not seen or seen[-1] != h:
                seen.append(h)
        return tuple(seen)

    def hour_of_day(self, ms: int) -> int:
        return self.local(ms).hour

    def days(self, first_ms: int, end_ms: int) -> Iterator[str]:
        """Local days that overlap [first_ms, end_ms), oldest first."""
        if end_ms <= first_ms:
            return
        day, last = self.day_of(first_ms), self.day_of(end_ms - 1)
        while day <= last:
            yield day
            day = next_day(day)


def next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def add_days(day: str, n: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=n)).isoformat()
