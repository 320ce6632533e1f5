"""Pendo buckets live in the subscription time zone; these tests pin how we cut windows.

Facts relied on (docs/pendo-api.md §3.3-3.4): ``dayRange`` buckets start at local midnight (Pendo's
own sample ``day`` values sit on New York midnight in EST *and* EDT), ``hourRange`` buckets on local
hour starts, and ``timeSeries.first`` is rounded down to its bucket. So a New York DST day has 23
or 25 hour buckets, and a +05:30 zone has hour buckets on ``:30`` UTC.
"""

from __future__ import annotations

import datetime as dt
import random

import pendulum
import pytest

from sources.pendo.windows import (
    Window,
    bucket_starts,
    count_buckets,
    floor_to_bucket,
    incremental_start,
    plan_windows,
    split_window,
)

NY = "America/New_York"


def utc(*args: int) -> pendulum.DateTime:
    return pendulum.datetime(*args, tz="UTC")


def ms(ts: pendulum.DateTime) -> int:
    return ts.int_timestamp * 1000


def iso(points: list[pendulum.DateTime]) -> list[str]:
    return [p.strftime("%Y-%m-%dT%H:%MZ") for p in points]


# --- floor_to_bucket --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "day_ms",
    [1543726800000, 1531108800000, 1540008000000],  # Pendo sample rows: EST, EDT, EDT
)
def test_pendo_sample_day_values_are_new_york_midnights(day_ms: int) -> None:
    day = pendulum.from_timestamp(day_ms / 1000)
    assert floor_to_bucket(day, "day", NY) == day
    assert floor_to_bucket(day.add(hours=23), "day", NY) == day


def test_day_floor_is_local_midnight_returned_in_utc() -> None:
    assert floor_to_bucket(utc(2026, 1, 15, 3, 0), "day", NY) == utc(2026, 1, 14, 5)  # 22:00 EST, day before
    assert floor_to_bucket(utc(2026, 7, 15, 3, 59), "day", NY) == utc(2026, 7, 14, 4)  # EDT
    result = floor_to_bucket(pendulum.datetime(2026, 7, 15, 12, tz=NY), "day", NY)
    assert result.utcoffset() == dt.timedelta(0) and result == utc(2026, 7, 15, 4)


def test_hour_floor_in_half_and_quarter_hour_zones() -> None:
    assert floor_to_bucket(utc(2026, 1, 1, 0, 10), "hour", "Asia/Kolkata") == utc(2025, 12, 31, 23, 30)
    assert floor_to_bucket(utc(2026, 1, 1, 0, 50), "hour", "Asia/Kolkata") == utc(2026, 1, 1, 0, 30)
    assert floor_to_bucket(utc(2026, 1, 1, 0, 10), "hour", "Asia/Kathmandu") == utc(2025, 12, 31, 23, 15)
    assert floor_to_bucket(utc(2026, 1, 1, 0, 10), "day", "Asia/Kolkata") == utc(2025, 12, 31, 18, 30)


def test_repeated_fall_back_hour_is_two_buckets() -> None:
    # 2026-11-01 01:00-02:00 happens twice in New York (EDT then EST): two distinct hour buckets.
    assert floor_to_bucket(utc(2026, 11, 1, 5, 30), "hour", NY) == utc(2026, 11, 1, 5)
    assert floor_to_bucket(utc(2026, 11, 1, 6, 30), "hour", NY) == utc(2026, 11, 1, 6)


def test_midnight_skipped_or_repeated_by_dst() -> None:
    # Sao Paulo 2018-11-04: clocks jumped 00:00 -> 01:00, the local day starts at 01:00 (-02:00).
    assert floor_to_bucket(utc(2018, 11, 4, 12), "day", "America/Sao_Paulo") == utc(2018, 11, 4, 3)
    # Havana 2020-11-01: 01:00 -> 00:00, the day starts at the *first* midnight (-04:00).
    assert floor_to_bucket(utc(2020, 11, 1, 12), "day", "America/Havana") == utc(2020, 11, 1, 4)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        floor_to_bucket(dt.datetime(2026, 1, 1), "day", NY)
    with pytest.raises(ValueError, match="period"):
        floor_to_bucket(utc(2026, 1, 1), "week", NY)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "tz", [NY, "Europe/London", "Asia/Kolkata", "Australia/Adelaide", "UTC", "Pacific/Chatham"]
)
@pytest.mark.parametrize("period", ["day", "hour"])
def test_floor_is_idempotent_and_contains_the_instant(tz: str, period: str) -> None:
    rng = random.Random(7)
    for _ in range(300):
        ts = utc(2024, 1, 1).add(seconds=rng.randrange(0, 3 * 366 * 86400))
        bucket = floor_to_bucket(ts, period, tz)  # type: ignore[arg-type]
        assert bucket <= ts
        assert floor_to_bucket(bucket, period, tz) == bucket  # type: ignore[arg-type]
        span = bucket.add(days=2) if period == "day" else bucket.add(hours=3)
        nxt = bucket_starts(Window(bucket, span), period, tz)[1]  # type: ignore[arg-type]
        assert ts < nxt


# --- Window ---------------------------------------------------------------------------------------
def test_window_is_utc_half_open_with_ms_and_readable_str() -> None:
    w = Window(pendulum.datetime(2026, 3, 8, tz=NY), pendulum.datetime(2026, 3, 9, tz=NY))
    assert str(w) == "2026-03-08T05:00:00Z..2026-03-09T04:00:00Z"
    assert w.start_ms == 1772946000000 and w.end_ms == 1773028800000
    assert w.start.timezone_name == "UTC"
    with pytest.raises(ValueError):
        Window(w.end, w.start)
    with pytest.raises(ValueError):
        Window(w.start, w.start)


# --- bucket_starts / count_buckets ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("local_day", "hours"),
    [((2026, 3, 8), 23), ((2026, 11, 1), 25), ((2026, 6, 1), 24)],
)
def test_new_york_day_has_23_24_or_25_hour_buckets(local_day: tuple[int, int, int], hours: int) -> None:
    day = Window(pendulum.datetime(*local_day, tz=NY), pendulum.datetime(*local_day, tz=NY).add(days=1))
    starts = bucket_starts(day, "hour", NY)
    assert len(starts) == hours == count_buckets(day, "hour", NY)
    assert count_buckets(day, "day", NY) == 1
    assert all(b.in_tz(NY).minute == 0 for b in starts)
    assert len({b.in_tz(NY).hour for b in starts}) == 23 if hours == 23 else True


def test_day_buckets_across_spring_forward_stay_on_local_midnight() -> None:
    w = Window(utc(2026, 3, 7, 5), utc(2026, 3, 10, 4))
    assert iso(bucket_starts(w, "day", NY)) == ["2026-03-07T05:00Z", "2026-03-08T05:00Z", "2026-03-09T04:00Z"]


def test_bucket_starts_skips_a_partial_leading_bucket() -> None:
    w = Window(utc(2026, 6, 1, 4, 30), utc(2026, 6, 1, 7))
    assert iso(bucket_starts(w, "hour", NY)) == ["2026-06-01T05:00Z", "2026-06-01T06:00Z"]


# --- plan_windows ---------------------------------------------------------------------------------
def test_plan_floors_start_and_extends_end_to_the_next_boundary() -> None:
    windows = plan_windows(utc(2026, 3, 7, 12), utc(2026, 3, 10, 3), "day", NY, 1)
    assert [str(w) for w in windows] == [
        "2026-03-07T05:00:00Z..2026-03-08T05:00:00Z",
        "2026-03-08T05:00:00Z..2026-03-09T04:00:00Z",  # the 23-hour DST day
        "2026-03-09T04:00:00Z..2026-03-10T04:00:00Z",  # end 03:00Z = 23:00 local -> raised to midnight
    ]


def test_plan_end_exactly_on_a_boundary_is_exclusive() -> None:
    windows = plan_windows(utc(2026, 6, 1, 4), utc(2026, 6, 3, 4), "day", NY, 1)
    assert [str(w) for w in windows] == [
        "2026-06-01T04:00:00Z..2026-06-02T04:00:00Z",
        "2026-06-02T04:00:00Z..2026-06-03T04:00:00Z",
    ]
    assert plan_windows(utc(2026, 6, 1, 4), utc(2026, 6, 1, 4), "day", NY, 1) == []


def test_plan_multi_bucket_windows_last_one_shorter_and_contiguous() -> None:
    windows = plan_windows(utc(2026, 10, 20, 12), utc(2026, 11, 5, 12), "day", NY, 7)
    assert [count_buckets(w, "day", NY) for w in windows] == [7, 7, 3]
    assert all(a.end == b.start for a, b in zip(windows, windows[1:], strict=False))
    assert all(w.start.in_tz(NY).hour == 0 and w.end.in_tz(NY).hour == 0 for w in windows)
    # the window containing the fall-back day is 7 local days = 169 hours
    assert count_buckets(windows[1], "hour", NY) == 7 * 24 + 1


def test_plan_hour_windows_in_half_hour_zone() -> None:
    windows = plan_windows(utc(2026, 1, 1, 0, 10), utc(2026, 1, 1, 5), "hour", "Asia/Kolkata", 2)
    assert [str(w) for w in windows] == [
        "2025-12-31T23:30:00Z..2026-01-01T01:30:00Z",
        "2026-01-01T01:30:00Z..2026-01-01T03:30:00Z",
        "2026-01-01T03:30:00Z..2026-01-01T05:30:00Z",
    ]


def test_plan_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        plan_windows(utc(2026, 1, 1), utc(2026, 1, 2), "day", NY, 0)


# --- split_window ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("local_day", "halves"),
    [((2026, 6, 1), (12, 12)), ((2026, 3, 8), (11, 12)), ((2026, 11, 1), (12, 13))],
)
def test_one_day_splits_on_a_local_hour(local_day: tuple[int, int, int], halves: tuple[int, int]) -> None:
    day = Window(pendulum.datetime(*local_day, tz=NY), pendulum.datetime(*local_day, tz=NY).add(days=1))
    first, second = split_window(day, NY)  # type: ignore[misc]
    assert first.start == day.start and first.end == second.start and second.end == day.end
    assert (count_buckets(first, "hour", NY), count_buckets(second, "hour", NY)) == halves
    assert first.end.in_tz(NY).minute == 0


def test_multi_day_window_splits_on_local_midnight_so_day_range_still_works() -> None:
    w = plan_windows(utc(2026, 10, 30, 12), utc(2026, 11, 3, 3), "day", NY, 7)[0]
    first, second = split_window(w, NY)  # type: ignore[misc]
    assert str(first) == "2026-10-30T04:00:00Z..2026-11-01T04:00:00Z"
    assert str(second) == "2026-11-01T04:00:00Z..2026-11-03T05:00:00Z"


def test_split_stops_at_one_hour_and_at_one_day_when_asked() -> None:
    assert split_window(Window(utc(2026, 1, 1, 5), utc(2026, 1, 1, 6)), NY) is None
    two = split_window(Window(utc(2026, 1, 1, 5), utc(2026, 1, 1, 7)), NY)
    assert two is not None and [str(w) for w in two] == [
        "2026-01-01T05:00:00Z..2026-01-01T06:00:00Z",
        "2026-01-01T06:00:00Z..2026-01-01T07:00:00Z",
    ]
    day = Window(pendulum.datetime(2026, 6, 1, tz=NY), pendulum.datetime(2026, 6, 2, tz=NY))
    assert split_window(day, NY, min_period="day") is None


def test_repeated_splitting_covers_the_window_exactly() -> None:
    day = Window(pendulum.datetime(2026, 11, 1, tz=NY), pendulum.datetime(2026, 11, 2, tz=NY))
    pending, leaves = [day], []
    while pending:
        w = pending.pop()
        halves = split_window(w, NY)
        if halves is None:
            leaves.append(w)
        else:
            pending.extend(halves)
    leaves.sort(key=lambda w: w.start)
    assert len(leaves) == 25 and leaves[0].start == day.start and leaves[-1].end == day.end
    assert all(a.end == b.start for a, b in zip(leaves, leaves[1:], strict=False))


# --- incremental_start ----------------------------------------------------------------------------
START = utc(2026, 1, 10, 15)


def test_first_run_starts_at_the_start_date_bucket() -> None:
    assert incremental_start(None, START, 3, "day", NY) == utc(2026, 1, 10, 5)
    assert incremental_start(None, START, 3, "hour", NY) == utc(2026, 1, 10, 15)


def test_lookback_counts_local_calendar_days_across_dst() -> None:
    last = utc(2026, 3, 10, 18, 20)  # 14:20 EDT
    assert incremental_start(last, START, 3, "hour", NY) == utc(2026, 3, 7, 19)  # 14:00 EST
    assert incremental_start(last, START, 3, "day", NY) == utc(2026, 3, 7, 5)  # midnight EST
    assert incremental_start(last, START, 0, "day", NY) == utc(2026, 3, 10, 4)  # midnight EDT


def test_lookback_never_reaches_before_start_date() -> None:
    assert incremental_start(utc(2026, 1, 11, 12), START, 30, "day", NY) == utc(2026, 1, 10, 5)
    with pytest.raises(ValueError):
        incremental_start(utc(2026, 1, 11, 12), START, -1, "day", NY)
