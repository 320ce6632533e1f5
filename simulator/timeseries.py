"""Resolve a Pendo `timeSeries` spec into a half-open range of day or hour buckets.

Pendo buckets event rollups by the subscription's time zone, not UTC: a `day` starts at local
midnight (so days are 23, 24 or 25 hours long across DST changes) and an `hour` starts at a local
hour boundary (which is not a UTC hour boundary in zones such as Asia/Kolkata, +05:30). `first` is
rounded down to its bucket; the range then extends by a signed `count` of buckets or up to `last`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from simulator.errors import AggregationError
from simulator.expressions import EvalContext, compile_expression

HOUR_MS = 3_600_000
_INT_TEXT = re.compile(r"\s*[+-]?[0-9]+\s*")
_PERIODS = {"dayRange": "day", "hourRange": "hour"}


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Buckets [first_ms, end_ms); both ends are bucket starts. `period` is "day" or "hour"."""

    period: str
    first_ms: int
    end_ms: int


def zone(tz: str) -> ZoneInfo:
    """The ZoneInfo for `tz`, or an AggregationError naming the bad zone."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise AggregationError(f"unknown time zone: {tz!r}") from None


def resolve_time_series(spec: Any, ctx: EvalContext) -> TimeRange:
    """Turn `{"period", "first", "count"|"last"}` into the bucket range Pendo would evaluate."""
    if not isinstance(spec, dict):
        raise AggregationError("timeSeries must be an object")
    name = spec.get("period")
    period = _PERIODS.get(name) if isinstance(name, str) else None
    if period is None:
        raise AggregationError(f"unsupported period: {name}")
    count, last = spec.get("count"), spec.get("last")
    if (count is None) == (last is None):
        raise AggregationError("timeSeries needs exactly one of count or last")
    if spec.get("first") is None:
        raise AggregationError("timeSeries.first is required")
    tz = zone(ctx.tz)
    first_ms = _instant(spec["first"], "first", ctx)
    last_ms = None if last is None else _instant(last, "last", ctx)
    steps = 0 if count is None else _count(count)
    try:
        first = floor_bucket(period, first_ms, tz)
        if last_ms is not None:
            return TimeRange(period, first, max(first, ceil_bucket(period, last_ms, tz)))
        other = shift_bucket(period, first, steps, tz)
    except (OverflowError, OSError, ValueError):
        raise AggregationError("timeSeries is out of the supported date range") from None
    return TimeRange(period, first, other) if steps > 0 else TimeRange(period, other, first)


def buckets(time_range: TimeRange, tz: str) -> list[int]:
    """Every bucket start in the range, in order."""
    zone_info = zone(tz)
    out: list[int] = []
    start = time_range.first_ms
    while start < time_range.end_ms:
        out.append(start)
        start = next_bucket(time_range.period, start, zone_info)
    return out


# -- bucket arithmetic ---------------------------------------------------------------------------
def _offset_ms(ms: int, tz: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(ms // 1000, tz).utcoffset()
    assert offset is not None
    return offset // timedelta(milliseconds=1)


def _local_date(ms: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(ms // 1000, tz).date()


def day_start(day: date, tz: ZoneInfo) -> int:
    """Epoch ms of local midnight (fold=0 maps a skipped midnight to the first real instant)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()) * 1000


def floor_bucket(period: str, ms: int, tz: ZoneInfo) -> int:
    """Start of the bucket that contains instant `ms`."""
    if period == "day":
        return day_start(_local_date(ms, tz), tz)
    return ms - (ms + _offset_ms(ms, tz)) % HOUR_MS


def ceil_bucket(period: str, ms: int, tz: ZoneInfo) -> int:
    """Smallest bucket start >= `ms`: the exclusive end of a range that must include `ms - 1`."""
    start = floor_bucket(period, ms, tz)
    return start if start == ms else next_bucket(period, start, tz)


def next_bucket(period: str, start: int, tz: ZoneInfo) -> int:
    """Start of the bucket after the one starting at `start`."""
    if period == "hour":
        return floor_bucket("hour", start + HOUR_MS, tz)
    day = _local_date(start, tz)
    while True:  # loops more than once only where a zone skipped a whole calendar day
        day += timedelta(days=1)
        candidate = day_start(day, tz)
        if candidate > start:
            return candidate


def shift_bucket(period: str, start: int, steps: int, tz: ZoneInfo) -> int:
    """Bucket start `steps` buckets after (or, if negative, before) the bucket at `start`."""
    if period == "day":
        return day_start(_local_date(start, tz) + timedelta(days=steps), tz)
    return floor_bucket("hour", start + steps * HOUR_MS, tz)


# -- spec values ---------------------------------------------------------------------------------
def _instant(value: Any, field: str, ctx: EvalContext) -> int:
    """Read `first`/`last`: epoch ms as a number, a numeric string, or an expression string."""
    if isinstance(value, str):
        value = compile_expression(value).evaluate({}, ctx)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AggregationError(f"timeSeries.{field} must be a time in epoch milliseconds")
    return math.floor(value)


def _count(value: Any) -> int:
    if isinstance(value, str) and _INT_TEXT.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise AggregationError(f"timeSeries.count must be an integer, got {value!r}")
    if value == 0:
        raise AggregationError("timeSeries.count must not be 0")
    return value

