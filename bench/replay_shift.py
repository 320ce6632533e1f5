"""A year of stored answers from a month recorded: days served again, re-timed by whole weeks.

The simulator computes ~140k rows/s on an idle machine (a year of the large scale is ~21M event rows), and far
less on a shared one, so a 365-day benchmark cannot record every day from it. Instead the simulator's own
history (30 days) is recorded, and every older day D is served the stored answer of a recorded day S with the
same weekday (S = D + whole weeks, cycling through the recorded weeks, so the weekday pattern and the row
counts stay realistic), with its timestamps moved from S to D: every epoch-ms number of the answer that lies
around S (``startTime``, ``day``, ``firstTime``, ``lastTime``, ``browserTime``, ``guideTimestamp``, ...) is moved
by the distance between the two local midnights, so each row keeps its time since midnight and lands in D's
bucket. The rewrite is byte for byte (a 13-digit number stays 13 digits), so the answer sizes are the recorded
ones. Every row of S lands in D only if D is no shorter than S (a 23-hour day of a DST change cannot take a
24-hour day's rows); such a day must be recorded, and is refused otherwise.

The ground truth of a re-timed day is its source day's (the simulator's truth for S), and its rows served are
S's: the benchmark's checks hold day by day as for recorded days.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import orjson

from bench.replay import cache_key, store_answer
from sources.pendo.windows import Window

DAY_MS = 86_400_000
# An epoch-ms JSON number (not inside a string: a string's digits follow a quote, not ':', ',' or '[').
_EPOCH_MS = re.compile(rb"(?<=[:,\[])(1\d{12})(?=[,}\]])")
AGGREGATION_PATH = "/api/v1/aggregation"


def source_day(day: Window, recorded: list[Window]) -> Window:
    """The recorded full day with ``day``'s weekday that serves it: weeks back cycle through the recorded weeks."""
    def days_apart(w: Window) -> int:  # whole days; a DST hour does not change the rounding
        return round((w.start_ms - day.start_ms) / DAY_MS)

    same_weekday = sorted((w for w in recorded if days_apart(w) % 7 == 0 and days_apart(w) > 0), key=days_apart)
    if not same_weekday:
        raise ValueError(f"no recorded day after {day} with its weekday")
    weeks_back = days_apart(same_weekday[0]) // 7
    source = same_weekday[weeks_back % len(same_weekday)]
    if day.end_ms - day.start_ms < source.end_ms - source.start_ms:
        raise ValueError(f"{day} is shorter than its source day {source} (a DST change): record it instead")
    return source


def retime(answer: bytes, source: Window, day: Window) -> bytes:
    """``answer`` of ``source`` with every timestamp near ``source`` moved by (day's midnight - source's)."""
    delta = day.start_ms - source.start_ms
    low, high = source.start_ms - DAY_MS, source.end_ms + DAY_MS

    def move(match: re.Match[bytes]) -> bytes:
        value = int(match.group(1))
        return str(value + delta).encode() if low <= value < high else match.group(1)

    return _EPOCH_MS.sub(move, answer)


def extend(store: Path, recorded: list[Window], year: list[Window], bodies: dict[str, Callable[[Window], dict]],
           served: dict[str, dict[str, int]], truth: dict[str, int], sources: dict[str, str]) -> None:
    """Store a re-timed answer for every day of ``year`` not recorded; extend ``served`` and ``truth`` in place.

    ``bodies`` maps each table to the request body of a window (the key the replay server looks answers up by).
    ``sources`` maps each re-timed day (start ms) to the recorded day it came from; days already in it are skipped.
    """
    full_days = recorded[:-1]  # the last recorded window is today, still filling up: never a source
    known = {w.start_ms for w in recorded}
    for day in year:
        if day.start_ms in known or str(day.start_ms) in sources:
            continue
        source = source_day(day, full_days)
        for table, body_of in bodies.items():
            path = store / f"{_key(body_of(source))}.json"
            store_answer(store, _key(body_of(day)), retime(path.read_bytes(), source, day))
            served[table][str(day.start_ms)] = served[table][str(source.start_ms)]
        truth[str(day.start_ms)] = truth[str(source.start_ms)]
        sources[str(day.start_ms)] = str(source.start_ms)  # last: a day is done once all its tables are stored


def _key(body: dict) -> str:
    return cache_key("POST", AGGREGATION_PATH, orjson.dumps(body))
