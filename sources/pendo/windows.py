"""Time windows aligned to Pendo's buckets in the subscription time zone.

Pendo rounds a ``timeSeries.first`` down to the start of its ``dayRange``/``hourRange`` bucket
*in the subscription's time zone* (sample ``day`` values sit on New York midnight across DST).
Windows that are not aligned the same way re-read or skip buckets, so every window the
source asks for starts and ends on a local bucket start.

All instants handled and returned here are UTC ``pendulum.DateTime``s; local time only
decides *where* the boundaries fall. Bucket arithmetic is done on local calendar dates
(days) or on local wall-clock minutes (hours), never by adding 24h in UTC, because a local
day has 23, 24 or 25 hours.

Known limitation: zones whose DST shift is not a whole hour (Australia/Lord_Howe) get one
irregular hour bucket on transition days; the planner stays correct (no gaps, no overlap).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import pendulum

Period = Literal["day", "hour"]

_PERIODS: tuple[str, ...] = ("day", "hour")
_ONE_HOUR = _dt.timedelta(hours=1)


def _check_period(period: str) -> None:
    if period not in _PERIODS:
        raise ValueError(f"period must be 'day' or 'hour', got {period!r}")


def _as_utc(ts: _dt.datetime) -> pendulum.DateTime:
    """Refuse naive datetimes: guessing their zone is how off-by-one-day windows happen."""
    if not isinstance(ts, _dt.datetime):
        raise TypeError(f"expected a datetime, got {type(ts).__name__}")
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"naive datetime {ts.isoformat()} has no time zone; pass an aware datetime")
    if isinstance(ts, pendulum.DateTime) and ts.tzinfo is pendulum.UTC:
        return ts
    return pendulum.instance(ts.astimezone(_dt.UTC)).in_tz("UTC")


@lru_cache(maxsize=64)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


@lru_cache(maxsize=4096)
def _local_midnight(day: _dt.date, tz: str) -> pendulum.DateTime:
    """First instant of local calendar day ``day`` in ``tz``, as UTC.

    Cached (a pure function): each call builds a pendulum ``Timezone`` from the tzfile, which was a third of
    the time spent on single events, one call per row.

    Midnight can be skipped (DST starting at 00:00, e.g. old America/Sao_Paulo: the day
    starts at 01:00) or repeated (DST ending at 01:00 -> 00:00, e.g. America/Havana: the day
    starts at the *first* 00:00). Both folds are tried and the earliest instant that still
    falls on ``day`` wins.
    """
    candidates = []
    for fold in (0, 1):
        local = pendulum.datetime(day.year, day.month, day.day, tz=tz, fold=fold)
        if local.date() == day:
            candidates.append(local.in_tz("UTC"))
    if not candidates:  # pragma: no cover - a zone skipping a whole calendar day
        raise ValueError(f"local day {day} does not exist in {tz}")
    return min(candidates)


def floor_to_bucket(ts: _dt.datetime, period: Period, tz: str) -> pendulum.DateTime:
    """Start of the local day/hour bucket containing ``ts``, returned in UTC.

    ``hour`` subtracts the local minutes/seconds, so half-hour zones (+05:30) get buckets on
    ``:30`` UTC and a repeated DST hour keeps its own fold.
    """
    _check_period(period)
    utc = _as_utc(ts)
    local = utc.astimezone(_zone(tz))  # stdlib conversion: ~10x faster than pendulum's in_tz
    if period == "day":
        return _local_midnight(local.date(), tz)
    return utc - _dt.timedelta(minutes=local.minute, seconds=local.second, microseconds=local.microsecond)


def _next_bucket(bucket: pendulum.DateTime, period: Period, tz: str) -> pendulum.DateTime:
    """The bucket start after ``bucket`` (which must itself be a bucket start)."""
    if period == "day":
        return _local_midnight(bucket.in_tz(tz).date() + _dt.timedelta(days=1), tz)
    # floor(b + 1h) is b + 1h except on non-whole-hour DST shifts; it is always > b.
    return floor_to_bucket(bucket + _ONE_HOUR, "hour", tz)


def _add_buckets(bucket: pendulum.DateTime, n: int, period: Period, tz: str) -> pendulum.DateTime:
    if period == "day":
        return _local_midnight(bucket.in_tz(tz).date() + _dt.timedelta(days=n), tz)
    for _ in range(n):
        bucket = _next_bucket(bucket, period, tz)
    return bucket


def _to_ms(ts: pendulum.DateTime) -> int:
    return ts.int_timestamp * 1000 + ts.microsecond // 1000


@dataclass(frozen=True)
class Window:
    """Half-open ``[start, end)`` UTC interval whose ends sit on bucket starts."""

    start: pendulum.DateTime
    end: pendulum.DateTime

    def __post_init__(self) -> None:
        start, end = _as_utc(self.start), _as_utc(self.end)
        if end <= start:
            raise ValueError(f"empty window: end {end} is not after start {start}")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @property
    def start_ms(self) -> int:
        """Epoch ms of ``start``: what Pendo expects in ``timeSeries.first`` and filters."""
        return _to_ms(self.start)

    @property
    def end_ms(self) -> int:
        """Epoch ms of ``end`` (exclusive)."""
        return _to_ms(self.end)

    def __str__(self) -> str:
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        return f"{self.start.strftime(fmt)}..{self.end.strftime(fmt)}"


def bucket_starts(window: Window, period: Period, tz: str) -> list[pendulum.DateTime]:
    """Every bucket start ``b`` with ``window.start <= b < window.end`` (UTC)."""
    _check_period(period)
    bucket = floor_to_bucket(window.start, period, tz)
    if bucket < window.start:
        bucket = _next_bucket(bucket, period, tz)
    out: list[pendulum.DateTime] = []
    while bucket < window.end:
        out.append(bucket)
        bucket = _next_bucket(bucket, period, tz)
    return out


def count_buckets(window: Window, period: Period, tz: str) -> int:
    """Number of buckets in the window: the ``timeSeries.count`` to send."""
    return len(bucket_starts(window, period, tz))


def plan_windows(
    start: _dt.datetime, end: _dt.datetime, period: Period, tz: str, window_buckets: int
) -> list[Window]:
    """Cut ``[start, end)`` into consecutive windows of ``window_buckets`` buckets.

    ``start`` is floored to its bucket; ``end`` is raised to the next bucket boundary unless it
    already is one (end is exclusive). The last window may be shorter. Empty range -> ``[]``.
    """
    _check_period(period)
    if window_buckets < 1:
        raise ValueError(f"window_buckets must be >= 1, got {window_buckets}")
    first = floor_to_bucket(start, period, tz)
    last = floor_to_bucket(end, period, tz)
    if last < _as_utc(end):
        last = _next_bucket(last, period, tz)
    windows: list[Window] = []
    cursor = first
    while cursor < last:
        nxt = min(_add_buckets(cursor, window_buckets, period, tz), last)
        windows.append(Window(cursor, nxt))
        cursor = nxt
    return windows


def split_window(window: Window, tz: str, min_period: Period = "hour") -> tuple[Window, Window] | None:
    """Split a window Pendo rejected ("Query exceeded memory limit") into two halves.

    A window of two or more whole local days splits on the local midnight nearest its
    middle, so ``dayRange`` queries stay possible for both halves. Otherwise it splits on
    the middle local-hour boundary (a one-day window -> 12h + 12h, 11h + 12h or 12h + 13h on
    DST days); the halves must then be queried with ``hourRange``.
    Returns ``None`` when no split is possible: one hour or less, or (``min_period="day"``)
    a single day.
    """
    _check_period(min_period)
    days = bucket_starts(window, "day", tz)
    day_aligned = floor_to_bucket(window.start, "day", tz) == window.start and (
        floor_to_bucket(window.end, "day", tz) == window.end
    )
    if day_aligned and len(days) >= 2:
        mid = days[len(days) // 2]
        return Window(window.start, mid), Window(mid, window.end)
    if min_period == "day":
        return None
    hours = bucket_starts(window, "hour", tz)
    if len(hours) < 2:
        return None
    mid = hours[len(hours) // 2]
    return Window(window.start, mid), Window(mid, window.end)


def incremental_start(
    last_bucket: _dt.datetime | None,
    start_date: _dt.datetime,
    lookback_days: int,
    period: Period,
    tz: str,
) -> pendulum.DateTime:
    """Where the next incremental run starts reading.

    First run: ``floor(start_date)``. Later runs: ``floor(last_bucket)`` moved back
    ``lookback_days`` *local calendar* days (same local wall-clock time, so 3 days before
    14:00 EDT is 14:00 EST), to re-read buckets Pendo rewrote after the fact (late events,
    retroactive re-tagging). Never earlier than ``floor(start_date)``.
    """
    _check_period(period)
    if lookback_days < 0:
        raise ValueError(f"lookback_days must be >= 0, got {lookback_days}")
    floor_start = floor_to_bucket(start_date, period, tz)
    if last_bucket is None:
        return floor_start
    last = floor_to_bucket(last_bucket, period, tz)
    local = last.in_tz(tz)
    if period == "day":
        back = _local_midnight(local.date() - _dt.timedelta(days=lookback_days), tz)
    else:
        wall = local.naive() - _dt.timedelta(days=lookback_days)
        # A wall time skipped by DST resolves forward; floor again to land on a bucket start.
        back = floor_to_bucket(
            pendulum.datetime(wall.year, wall.month, wall.day, wall.hour, tz=tz, fold=local.fold), "hour", tz
        )
    return max(back, floor_start)
