"""Re-timed answers (bench/replay_shift.py): every row of a recorded day lands in the day it is served for."""

from __future__ import annotations

import orjson
import pendulum

from bench.replay_shift import retime, source_day
from sources.pendo.windows import plan_windows

TZ = "America/New_York"


def _days(first: str, last: str) -> list:
    return plan_windows(pendulum.parse(first, tz=TZ), pendulum.parse(last, tz=TZ), "day", TZ, 1)


def test_source_day_has_the_weekday_and_cycles_through_the_recorded_weeks() -> None:
    recorded = _days("2026-02-18", "2026-03-20")  # 30 full days
    year = _days("2025-03-20", "2026-02-18")
    sources = [source_day(day, recorded) for day in year]
    for day, source in zip(year, sources, strict=True):
        assert round((source.start_ms - day.start_ms) / 86_400_000) % 7 == 0
        assert source.start_ms > day.start_ms
    assert len({s.start_ms for s in sources}) >= 28  # not one week copied over and over


def test_retime_moves_timestamps_into_the_day_and_keeps_everything_else() -> None:
    source, day = _days("2026-03-10", "2026-03-11")[0], _days("2025-11-11", "2025-11-12")[0]  # EDT -> EST
    rows = [{"day": source.start_ms, "firstTime": source.start_ms + 3_600_000, "lastTime": source.end_ms + 60_000,
             "visitorId": str(source.start_ms), "numEvents": 8, "appId": -323232}]
    answer = orjson.dumps({"startTime": source.start_ms, "results": rows})
    moved = retime(answer, source, day)
    assert len(moved) == len(answer)
    got = orjson.loads(moved)
    assert got["startTime"] == day.start_ms
    row = got["results"][0]
    assert row["day"] == day.start_ms
    assert row["firstTime"] == day.start_ms + 3_600_000  # same time since midnight
    assert row["lastTime"] == day.end_ms + 60_000
    assert row["visitorId"] == str(source.start_ms)  # digits inside a string are data, not a timestamp
    assert (row["numEvents"], row["appId"]) == (8, -323232)


def test_a_day_shorter_than_its_source_is_refused() -> None:
    recorded = _days("2026-03-01", "2026-03-08")  # 24-hour days, none of them the 23-hour 2026-03-08
    spring_forward = _days("2026-03-08", "2026-03-09")[0]
    try:
        source_day(spring_forward, [w for w in _days("2026-03-15", "2026-03-16")] + recorded)
    except ValueError as exc:
        assert "shorter" in str(exc)
    else:
        raise AssertionError("a 23-hour day took a 24-hour day's rows")
