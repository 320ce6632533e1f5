"""How a `timeSeries` spec becomes day/hour buckets in the subscription's time zone.

Pendo rounds `first` down to the start of its bucket in the subscription zone (days start at local
midnight, so DST days are 23 or 25 hours long), then takes a signed `count` of buckets or every
bucket that starts before `last`.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from simulator.errors import AggregationError, ExpressionError
from simulator.expressions import EvalContext
from simulator.timeseries import TimeRange, buckets, resolve_time_series

NEW_YORK = "America/New_York"
KOLKATA = "Asia/Kolkata"
HOUR = 3_600_000


def local_ms(tz: str, *parts: int) -> int:
    return int(datetime(*parts, tzinfo=ZoneInfo(tz)).timestamp()) * 1000


def ctx(now_ms: int = 0, tz: str = NEW_YORK) -> EvalContext:
    return EvalContext(now_ms=now_ms, tz=tz)


def day_range(first, tz: str = NEW_YORK, now_ms: int = 0, **rest) -> TimeRange:
    return resolve_time_series({"period": "dayRange", "first": first, **rest}, ctx(now_ms, tz))


def hour_range(first, tz: str = NEW_YORK, now_ms: int = 0, **rest) -> TimeRange:
    return resolve_time_series({"period": "hourRange", "first": first, **rest}, ctx(now_ms, tz))


def bucket_hours(span: TimeRange, tz: str = NEW_YORK) -> list[float]:
    starts = buckets(span, tz)
    return [(b - a) / HOUR for a, b in zip(starts, [*starts[1:], span.end_ms], strict=True)]


# -- rounding ------------------------------------------------------------------------------------
def test_day_first_rounds_down_to_local_midnight():
    afternoon = local_ms(NEW_YORK, 2026, 3, 10, 15, 42)
    assert day_range(afternoon, count=1).first_ms == local_ms(NEW_YORK, 2026, 3, 10)


def test_day_first_rounds_in_the_subscription_zone_not_utc():
    # 02:00 UTC on March 10th is still March 9th in New York.
    assert day_range(local_ms("UTC", 2026, 3, 10, 2), count=1).first_ms == local_ms(NEW_YORK, 2026, 3, 9)


def test_utc_midnight_first_lands_on_the_previous_local_day_west_of_utc():
    assert day_range(local_ms("UTC", 2026, 7, 1), count=1).first_ms == local_ms(NEW_YORK, 2026, 6, 30)


def test_spring_forward_day_is_23_hours_long():
    span = day_range(local_ms(NEW_YORK, 2026, 3, 8, 12), count=1)
    assert span.first_ms == 1_772_946_000_000  # 2026-03-08T05:00Z (EST midnight)
    assert span.end_ms == 1_773_028_800_000  # 2026-03-09T04:00Z (EDT midnight)
    assert span.end_ms - span.first_ms == 23 * HOUR


def test_fall_back_day_is_25_hours_long():
    span = day_range(local_ms(NEW_YORK, 2026, 11, 1, 12), count=1)
    assert span.first_ms == local_ms("UTC", 2026, 11, 1, 4)  # EDT midnight
    assert span.end_ms == local_ms("UTC", 2026, 11, 2, 5)  # EST midnight
    assert span.end_ms - span.first_ms == 25 * HOUR


def test_day_buckets_across_the_spring_change_are_local_midnights():
    span = day_range(local_ms(NEW_YORK, 2026, 3, 7), count=3)
    starts = buckets(span, NEW_YORK)
    assert starts == [local_ms(NEW_YORK, 2026, 3, d) for d in (7, 8, 9)]
    assert bucket_hours(span) == [24, 23, 24]


def test_day_buckets_across_the_fall_change_are_local_midnights():
    span = day_range(local_ms(NEW_YORK, 2026, 10, 31), count=3)
    assert bucket_hours(span) == [24, 25, 24]


def test_hour_first_rounds_to_local_hour_start_in_a_half_hour_zone():
    # 10:47 IST is 05:17 UTC; the local hour starts at 10:00 IST = 04:30 UTC.
    first = local_ms(KOLKATA, 2026, 1, 15, 10, 47)
    span = hour_range(first, tz=KOLKATA, count=1)
    assert span.first_ms == local_ms("UTC", 2026, 1, 15, 4, 30)
    assert span.end_ms - span.first_ms == HOUR


def test_hour_buckets_in_kolkata_start_at_half_past_utc():
    span = hour_range(local_ms(KOLKATA, 2026, 1, 15, 0), tz=KOLKATA, count=3)
    assert buckets(span, KOLKATA) == [local_ms("UTC", 2026, 1, 14, h, 30) for h in (18, 19, 20)]


def test_24_hour_buckets_from_midnight_on_spring_forward_day_end_at_1am_next_day():
    span = hour_range(local_ms(NEW_YORK, 2026, 3, 8), count=24)
    assert span.end_ms == local_ms(NEW_YORK, 2026, 3, 9, 1)
    assert len(buckets(span, NEW_YORK)) == 24


def test_fall_back_day_has_25_hour_buckets():
    span = hour_range(local_ms(NEW_YORK, 2026, 11, 1), last=local_ms(NEW_YORK, 2026, 11, 2))
    assert len(buckets(span, NEW_YORK)) == 25


# -- count ---------------------------------------------------------------------------------------
def test_positive_count_takes_that_many_buckets_from_first():
    span = day_range(local_ms(NEW_YORK, 2026, 5, 10, 9), count=3)
    assert span == TimeRange("day", local_ms(NEW_YORK, 2026, 5, 10), local_ms(NEW_YORK, 2026, 5, 13))


def test_negative_count_takes_the_buckets_that_end_at_first():
    span = day_range(local_ms(NEW_YORK, 2026, 5, 10, 9), count=-3)
    assert span == TimeRange("day", local_ms(NEW_YORK, 2026, 5, 7), local_ms(NEW_YORK, 2026, 5, 10))


def test_now_with_count_minus_one_is_the_previous_whole_day():
    now = local_ms(NEW_YORK, 2026, 3, 9, 8, 15)
    span = day_range("now()", now_ms=now, count=-1)
    assert span == TimeRange("day", local_ms(NEW_YORK, 2026, 3, 8), local_ms(NEW_YORK, 2026, 3, 9))
    assert span.end_ms - span.first_ms == 23 * HOUR


def test_negative_hour_count_ends_at_the_current_hour_start():
    now = local_ms(NEW_YORK, 2026, 6, 1, 14, 5)
    span = hour_range("now()", now_ms=now, count=-2)
    assert span == TimeRange("hour", local_ms(NEW_YORK, 2026, 6, 1, 12), local_ms(NEW_YORK, 2026, 6, 1, 14))


def test_count_may_be_a_numeric_string():
    assert day_range(0, count="2") == day_range(0, count=2)


def test_count_zero_is_rejected():
    with pytest.raises(AggregationError, match="count must not be 0"):
        day_range(0, count=0)


# -- last ----------------------------------------------------------------------------------------
def test_last_now_includes_the_current_partial_day():
    now = local_ms(NEW_YORK, 2026, 3, 9, 8, 15)
    span = day_range(local_ms(NEW_YORK, 2026, 3, 7), now_ms=now, last="now()")
    assert buckets(span, NEW_YORK)[-1] == local_ms(NEW_YORK, 2026, 3, 9)
    assert span.end_ms == local_ms(NEW_YORK, 2026, 3, 10)


def test_last_now_includes_the_current_partial_hour():
    now = local_ms(NEW_YORK, 2026, 6, 1, 14, 5)
    span = hour_range(local_ms(NEW_YORK, 2026, 6, 1, 12), now_ms=now, last="now()")
    assert span.end_ms == local_ms(NEW_YORK, 2026, 6, 1, 15)


def test_last_exactly_on_a_bucket_start_is_exclusive():
    span = day_range(local_ms(NEW_YORK, 2026, 5, 1), last=local_ms(NEW_YORK, 2026, 5, 3))
    assert buckets(span, NEW_YORK) == [local_ms(NEW_YORK, 2026, 5, 1), local_ms(NEW_YORK, 2026, 5, 2)]


def test_last_before_first_is_an_empty_range():
    span = day_range(local_ms(NEW_YORK, 2026, 5, 3), last=local_ms(NEW_YORK, 2026, 5, 1))
    assert span.first_ms == span.end_ms
    assert buckets(span, NEW_YORK) == []


# -- first/last forms ----------------------------------------------------------------------------
def test_first_as_expression_relative_to_now():
    now = local_ms(NEW_YORK, 2026, 3, 9, 8, 15)
    span = day_range("now() - 2 * 24 * 60 * 60 * 1000", now_ms=now, count=1)
    assert span.first_ms == local_ms(NEW_YORK, 2026, 3, 7)


def test_first_as_date_expression_in_the_subscription_zone():
    span = day_range("date(2026, 3, 8)", count=1)
    assert span.first_ms == local_ms(NEW_YORK, 2026, 3, 8)


def test_first_as_numeric_string():
    ms = local_ms(NEW_YORK, 2026, 3, 8, 10)
    assert day_range(str(ms), count=1) == day_range(ms, count=1)


def test_first_that_is_not_a_time_is_rejected():
    with pytest.raises(AggregationError, match="first must be a time"):
        day_range('"yesterday"', count=1)


def test_first_with_bad_syntax_is_an_expression_error():
    with pytest.raises(ExpressionError):
        day_range("now( - 1", count=1)


# -- spec errors ---------------------------------------------------------------------------------
def test_count_and_last_together_are_rejected():
    with pytest.raises(AggregationError, match="exactly one of count or last"):
        day_range(0, count=1, last="now()")


def test_neither_count_nor_last_is_rejected():
    with pytest.raises(AggregationError, match="exactly one of count or last"):
        day_range(0)


def test_missing_first_is_rejected():
    with pytest.raises(AggregationError, match="first is required"):
        resolve_time_series({"period": "dayRange", "count": 1}, ctx())


@pytest.mark.parametrize("period", ["weekRange", "monthRange", "yearRange", None])
def test_periods_other_than_day_and_hour_are_unsupported(period):
    with pytest.raises(AggregationError, match="unsupported period"):
        resolve_time_series({"period": period, "first": 0, "count": 1}, ctx())


def test_unknown_time_zone_is_an_aggregation_error():
    with pytest.raises(AggregationError, match="unknown time zone"):
        day_range(0, tz="Mars/Olympus_Mons", count=1)
