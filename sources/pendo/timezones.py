"""Pendo supports only whole-hour subscription time zones: refuse the others before any request.

Pendo cuts its ``hourRange`` buckets on whole local hours and offers only whole-hour zones for a subscription
(pendo-changes-and-peers-2.md §1). A zone that is ever half or three quarters of an hour off UTC (Asia/Kolkata
+05:30, Asia/Kathmandu +05:45, Australia/Lord_Howe's 30-minute DST) cannot be the subscription's zone, and loading
with it misplaces bucket edges (hour windows split by the memory limit then duplicated guide events).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

# Checked up to here: zoneinfo applies a zone's current rules to every later year, so a future half-hour DST rule
# (Lord_Howe's) shows within any one year; 2100 leaves room for rules already announced.
LAST_YEAR_CHECKED = 2100
_STEP = dt.timedelta(hours=6)  # finer than any offset period a zone has ever used (the shortest last weeks)


def check_whole_hour_zone(tz: str, since: dt.datetime) -> str | None:
    """Why ``tz`` cannot be a Pendo subscription's zone for data from ``since`` on, or None when it can."""
    found = _first_partial_hour_offset(tz, since.astimezone(dt.UTC).date())
    if found is None:
        return None
    moment, offset = found
    return (f"is {tz}, which is {describe_offset(offset)} on {moment.date().isoformat()}: Pendo supports only "
            "whole-hour subscription time zones; set the zone your Pendo subscription uses (Settings > Subscription)")


@lru_cache(maxsize=32)
def _first_partial_hour_offset(tz: str, since: dt.date) -> tuple[dt.datetime, dt.timedelta] | None:
    """The first instant from ``since`` on (UTC) at which ``tz`` is not a whole number of hours off UTC."""
    zone = ZoneInfo(tz)
    moment = dt.datetime(since.year, since.month, since.day, tzinfo=dt.UTC)
    end = dt.datetime(LAST_YEAR_CHECKED, 12, 31, tzinfo=dt.UTC)
    seen: set[dt.timedelta] = set()
    while moment < end:
        offset = moment.astimezone(zone).utcoffset()
        assert offset is not None
        if offset not in seen:
            if offset.total_seconds() % 3600:
                return moment, offset
            seen.add(offset)
        moment += _STEP
    return None


def describe_offset(offset: dt.timedelta) -> str:
    seconds = int(offset.total_seconds())
    sign = "+" if seconds >= 0 else "-"
    hours, rest = divmod(abs(seconds), 3600)
    return f"UTC{sign}{hours:02d}:{rest // 60:02d}" + (f":{rest % 60:02d}" if rest % 60 else "")
