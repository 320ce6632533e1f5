"""Rows put into their buckets: hour rollups summed into days, single events given their bucket, and the
per-bucket tombstones that make the destination replace a bucket whole."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pendulum
import pyarrow as pa

from sources.pendo.arrow import tombstone_table
from sources.pendo.settings import PAGE_ROWS, TOMBSTONE_COLUMN
from sources.pendo.shaping import shape
from sources.pendo.spool import RowSpool
from sources.pendo.windows import Window, bucket_starts, floor_to_bucket

# Rollup measures: summed when hours are combined into days. Every other field (tabId, recordingId, server...)
# is a dimension, so a field that splits Pendo's rows (tabId) splits ours the same way.
ROLLUP_SUMS = ("numEvents", "numMinutes", "rageClickCount", "deadClickCount", "errorClickCount", "uTurnCount")


def combine_hours_into_days(spool: RowSpool, tz: str) -> list[dict]:
    """Sum hour rollup rows into day rows, grouped by every other dimension (as Pendo's day rollup does)."""
    day_of: dict[int, int] = {}
    groups: dict[bytes, dict] = {}
    for page in spool.pages(PAGE_ROWS):
        for row in page:
            hour = int(row.pop("hour"))
            if hour not in day_of:
                day_of[hour] = int(floor_to_bucket(pendulum.from_timestamp(hour / 1000), "day", tz).timestamp() * 1000)
            dims = {k: v for k, v in row.items() if k not in ROLLUP_SUMS and k not in ("firstTime", "lastTime")}
            dims["day"] = day_of[hour]
            key = orjson.dumps(dims, option=orjson.OPT_SORT_KEYS)
            current = groups.get(key)
            if current is None:
                # only the measures the row has: a counter Pendo does not send (track rollups) stays absent
                groups[key] = {**dims, **{k: row[k] for k in ROLLUP_SUMS if k in row},
                               "firstTime": row.get("firstTime"), "lastTime": row.get("lastTime")}
                continue
            for k in ROLLUP_SUMS:
                if k in row or k in current:
                    current[k] = (current.get(k) or 0) + (row.get(k) or 0)
            current["firstTime"] = _pick(min, current.get("firstTime"), row.get("firstTime"))
            current["lastTime"] = _pick(max, current.get("lastTime"), row.get("lastTime"))
    return list(groups.values())


def _pick(fn, a, b):  # noqa: ANN001, ANN202 - tiny helper for nullable min/max
    if a is None:
        return b
    if b is None:
        return a
    return fn(a, b)


def page_slices(rows: list[dict]) -> Iterator[list[dict]]:
    for i in range(0, len(rows), PAGE_ROWS):
        yield rows[i : i + PAGE_ROWS]


def shape_single_events(rows: list[dict], period: str, tz: str) -> list[dict]:
    """Single events carry no bucket; derive it so a re-extracted bucket can replace its rows."""
    shaped = [shape(r) for r in rows]
    buckets = SlotBuckets(period, tz)
    for raw, row in zip(rows, shaped, strict=True):
        browser = raw.get("browserTime")
        if browser is not None:
            row[period] = buckets.bucket_of(int(browser))
    return shaped


class SlotBuckets:
    """Bucket starts memoized per 15-minute UTC slot: events of one slot share their bucket.

    UTC offsets in use are multiples of 15 minutes, so bucket boundaries fall on slot edges; a slot is memoized
    only after checking that its first and last millisecond share a bucket, so any other zone stays exact.
    """

    SLOT_MS = 15 * 60_000

    def __init__(self, period: str, tz: str) -> None:
        self.period, self.tz = period, tz
        self._memo: dict[int, pendulum.DateTime | None] = {}
        self._memo_ms: dict[int, int | None] = {}

    def bucket_of(self, ms: int) -> pendulum.DateTime:
        slot = ms // self.SLOT_MS
        if slot not in self._memo:
            first, last = self._floor(slot * self.SLOT_MS), self._floor((slot + 1) * self.SLOT_MS - 1)
            self._memo[slot] = first if first == last else None
        return self._memo[slot] or self._floor(ms)

    def bucket_ms(self, ms: int) -> int:
        """``bucket_of`` as epoch ms, memoized per slot the same way (the Arrow path of single events)."""
        slot = ms // self.SLOT_MS
        if slot not in self._memo_ms:
            self.bucket_of(ms)  # fills the slot's memo: None when a bucket boundary falls inside the slot
            shared = self._memo[slot]
            self._memo_ms[slot] = None if shared is None else int(shared.timestamp() * 1000)
        start = self._memo_ms[slot]
        return start if start is not None else int(self._floor(ms).timestamp() * 1000)

    def _floor(self, ms: int) -> pendulum.DateTime:
        return floor_to_bucket(pendulum.from_timestamp(ms / 1000), self.period, self.tz)


def tombstones(window: Window, period: str, tz: str, *, arrow: bool) -> list[dict] | pa.Table:
    """One marker per bucket of the window: the destination deletes the bucket's old rows, keeps none of these."""
    starts = bucket_starts(window, period, tz)
    if arrow:
        return tombstone_table(period, [int(s.timestamp() * 1000) for s in starts])
    return [{period: start, TOMBSTONE_COLUMN: True} for start in starts]
