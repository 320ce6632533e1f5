"""Extraction loops behind the resources: entity lists, keyset-paged people, windowed event queries.

Each function talks to :class:`PendoClient` and yields pages (lists) of shaped rows, so dlt never sees a
row of an answer that did not arrive whole.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pendulum
import pyarrow as pa

from sources.pendo import progress_events, quarantine
from sources.pendo.aggregation import keyset_body, next_after, rollup_body
from sources.pendo.arrow import tombstone_table
from sources.pendo.client import PendoClient
from sources.pendo.config import PendoConfig
from sources.pendo.errors import PendoResponseError, WindowTooLargeError
from sources.pendo.memory import release_memory
from sources.pendo.settings import MIN_SPLIT_MS, PEOPLE_CURSOR, TOMBSTONE_COLUMN
from sources.pendo.shaping import MetadataSchema, flatten_metadata, shape
from sources.pendo.spool import RowSpool
from sources.pendo.windows import Window, bucket_starts, floor_to_bucket, split_window

logger = logging.getLogger("pendo_elt")

PAGE_ROWS = 10_000
# Rollup measures: summed when hours are combined into days. Every other field (tabId, recordingId, server...)
# is a dimension, so a field that splits Pendo's rows (tabId) splits ours the same way.
ROLLUP_SUMS = ("numEvents", "numMinutes", "rageClickCount", "deadClickCount", "errorClickCount", "uTurnCount")


# --- entity lists -----------------------------------------------------------------------------------
def fetch_entities(client: PendoClient, endpoint: str, app_ids: tuple[int, ...] | None) -> list[dict]:
    """One GET for all apps (``expand=*``); lists have no pagination in Pendo."""
    rows = client.get_json(f"/{endpoint}", params={"expand": "*"})
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise PendoResponseError(f"GET /api/v1/{endpoint} answered an unexpected body (expected a JSON array of "
                                 "objects); nothing was loaded")
    if app_ids:
        wanted = set(app_ids)
        rows = [r for r in rows if "appId" not in r or r["appId"] in wanted]
    return [shape(r) for r in rows]


def fetch_metadata_schema(client: PendoClient, kind: str) -> MetadataSchema:
    try:
        return MetadataSchema.from_api(kind, client.get_json(f"/metadata/schema/{kind}"))
    except ValueError as exc:
        raise PendoResponseError(f"GET /api/v1/metadata/schema/{kind} answered an unexpected shape ({exc}); "
                                 "nothing was loaded") from None


# --- visitors and accounts: keyset pagination on (lastupdated, id) ------------------------------------
def fetch_people(
    client: PendoClient,
    source: str,
    id_field: str,
    schema: MetadataSchema,
    cfg: PendoConfig,
    lower_bound_ms: int | None,
    state: dict,
) -> Iterator[list[dict]]:
    """Page through every record updated since ``lower_bound_ms``; ties on the cursor cannot lose rows.

    ``state["cursor_ms"]`` is raised to the highest ``lastupdated`` seen, page by page.
    """
    identified_only = source == "visitors" and not cfg.include_anonymous_visitors
    after: tuple[int, str] | None = None
    page_number = 0
    while True:
        page_number += 1
        body = keyset_body(
            source,
            None,
            PEOPLE_CURSOR,
            id_field,
            lower_bound_ms,
            after,
            cfg.page_size,
            identified_only,
        )
        spool = client.aggregate(body, f"{source} page {page_number}")
        count = spool.count
        last_row: dict | None = None
        for page in spool.pages(PAGE_ROWS):
            last_row = page[-1]
            rows = []
            for raw in page:
                cursor = _cursor_ms(raw)
                if cursor is not None and cursor > state.get("cursor_ms", -1):
                    state["cursor_ms"] = cursor
                rows.append(flatten_metadata(raw, id_field, schema))
            yield rows
        if count < cfg.page_size or last_row is None:
            return
        after = next_after(last_row, PEOPLE_CURSOR, id_field)


def _cursor_ms(row: dict) -> int | None:
    value = ((row.get("metadata") or {}).get("auto") or {}).get("lastupdated")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# --- windowed event sources -------------------------------------------------------------------------
Page = list[dict] | pa.Table


class WindowPool:
    """One pool of ``concurrency`` fetch threads shared by every event resource of a source instance.

    dlt extracts the event resources round-robin; with a pool each, ``concurrency`` windows per table were in
    flight at once. Shared, ``concurrency`` bounds the whole source. The pool starts with the first resource
    that fetches and shuts down when the last one finishes or fails, so no thread outlives the extraction.
    Workers never wait for each other or for the consumer, so round-robin consumption cannot deadlock them.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._users = 0

    @contextlib.contextmanager
    def session(self) -> Iterator[ThreadPoolExecutor]:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="pendo-windows")
            self._users += 1
            executor = self._executor
        try:
            yield executor
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    # Do not wait for a window still retrying after a failure: its rows would be thrown away.
                    executor.shutdown(wait=False, cancel_futures=True)
                    self._executor = None
                    release_memory()  # the load step starts next and sets the peak: start it lean


def fetch_windows(
    client: PendoClient,
    table: str,
    source: str,
    windows: list[Window],
    cfg: PendoConfig,
    pool: WindowPool,
    *,
    single_events: bool,
    stages: list[list[dict] | None] | None = None,
) -> Iterator[tuple[Window, Iterator[Page]]]:
    """Each window with its complete rows, in order, while the next windows are already being fetched.

    Up to ``cfg.concurrency`` windows of this table are queued on the source's shared ``pool``, so network and
    Pendo's work overlap with loading. A worker converts its answer (rollups to Arrow tables, single events to
    shaped dicts) before it hands it over, so a window waiting to be loaded is compact. ``stages[i]`` are extra
    pipeline stages for ``windows[i]`` (an entity filter for a repair).
    """
    extra = list(stages) if stages is not None else [None] * len(windows)

    def fetch(window: Window, more: list[dict] | None) -> list[Iterable[Page]]:
        return [_part_pages(part_period, spool, cfg, single_events)
                for part_period, _part, spool in _fetch_adaptive(client, table, source, window, cfg.period, cfg,
                                                                 more)]

    progress_events.windows_planned(table, windows, cfg.timezone)
    with pool.session() as executor:
        pending: deque[Future] = deque()
        try:
            upcoming = iter(zip(windows, extra, strict=True))
            for window, more in itertools.islice(upcoming, cfg.concurrency):
                pending.append(executor.submit(fetch, window, more))
            for number, window in enumerate(windows, 1):
                parts = pending.popleft().result()
                next_window = next(upcoming, None)
                if next_window is not None:
                    pending.append(executor.submit(fetch, *next_window))
                yield window, progress_events.window_pages(table, number, len(windows), window, cfg.timezone,
                                                           itertools.chain.from_iterable(parts))
        finally:
            for future in pending:  # windows of this table not started yet; other tables' stay queued
                future.cancel()


def _part_pages(part_period: str, spool: RowSpool, cfg: PendoConfig, single_events: bool) -> Iterable[Page]:
    """Pages of one answer, converted now; an answer spooled to disk (a huge one) is converted as it is loaded."""
    pages = _convert(part_period, spool, cfg, single_events)
    return pages if spool.on_disk else list(pages)


def _convert(part_period: str, spool: RowSpool, cfg: PendoConfig, single_events: bool) -> Iterator[Page]:
    """Rows of one answer; a day fetched hour by hour is summed back into day rows as Pendo does."""
    with spool:
        if single_events:
            for page in spool.pages(PAGE_ROWS):
                good, bad = quarantine.screen_single_events(page)
                if bad:
                    yield quarantine.Rejected(bad)
                yield _shape_single_events(good, cfg.period, cfg.timezone)
        elif part_period == cfg.period:
            for page in spool.pages(PAGE_ROWS):
                yield from quarantine.rollup_pages(page)
        else:
            for page in _pages(combine_hours_into_days(spool, cfg.timezone)):
                yield from quarantine.rollup_pages(page)


def _fetch_adaptive(
    client: PendoClient, table: str, source: str, window: Window, period: str, cfg: PendoConfig,
    stages: list[dict] | None = None,
) -> Iterator[tuple[str, Window, RowSpool]]:
    body = rollup_body(source, window, period, cfg.timezone, list(cfg.app_ids) if cfg.app_ids else None,
                       stages=stages)
    try:
        yield period, window, client.aggregate(body, f"{table} {window}", splittable=True)
        return
    except WindowTooLargeError as exc:
        if window.end_ms - window.start_ms <= MIN_SPLIT_MS:
            raise exc.at_smallest_window() from None
        logger.warning("%s; splitting %s", exc, window)
    halves = split_window(window, cfg.timezone)
    assert halves is not None  # windows longer than one hour always split
    if period == "day" and len(bucket_starts(window, "day", cfg.timezone)) == 1:
        # Below one day Pendo cannot answer in dayRange: fetch the day's hours into one spool, so the caller
        # sums every hour of the day together (summing each half separately would split day rows).
        day_hours = RowSpool()
        for half in halves:
            for _, _, spool in _fetch_adaptive(client, table, source, half, "hour", cfg, stages):
                for page in spool.pages(PAGE_ROWS):
                    for row in page:
                        day_hours.append(row)
        yield "hour", window, day_hours
        return
    for half in halves:
        yield from _fetch_adaptive(client, table, source, half, period, cfg, stages)


def combine_hours_into_days(spool: RowSpool, tz: str) -> list[dict]:
    """Sum hour rollup rows into day rows, grouped by every other dimension (as Pendo's day rollup does)."""
    import orjson

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


def _pages(rows: list[dict]) -> Iterator[list[dict]]:
    for i in range(0, len(rows), PAGE_ROWS):
        yield rows[i : i + PAGE_ROWS]


def _shape_single_events(rows: list[dict], period: str, tz: str) -> list[dict]:
    """Single events carry no bucket; derive it so a re-extracted bucket can replace its rows."""
    shaped = [shape(r) for r in rows]
    buckets = _SlotBuckets(period, tz)
    for raw, row in zip(rows, shaped, strict=True):
        browser = raw.get("browserTime")
        if browser is not None:
            row[period] = buckets.bucket_of(int(browser))
    return shaped


class _SlotBuckets:
    """Bucket starts memoized per 15-minute UTC slot: events of one slot share their bucket.

    UTC offsets in use are multiples of 15 minutes, so bucket boundaries fall on slot edges; a slot is memoized
    only after checking that its first and last millisecond share a bucket, so any other zone stays exact.
    """

    SLOT_MS = 15 * 60_000

    def __init__(self, period: str, tz: str) -> None:
        self.period, self.tz = period, tz
        self._memo: dict[int, pendulum.DateTime | None] = {}

    def bucket_of(self, ms: int) -> pendulum.DateTime:
        slot = ms // self.SLOT_MS
        if slot not in self._memo:
            first, last = self._floor(slot * self.SLOT_MS), self._floor((slot + 1) * self.SLOT_MS - 1)
            self._memo[slot] = first if first == last else None
        return self._memo[slot] or self._floor(ms)

    def _floor(self, ms: int) -> pendulum.DateTime:
        return floor_to_bucket(pendulum.from_timestamp(ms / 1000), self.period, self.tz)


def tombstones(window: Window, period: str, tz: str, *, arrow: bool) -> list[dict] | pa.Table:
    """One marker per bucket of the window: the destination deletes the bucket's old rows, keeps none of these."""
    starts = bucket_starts(window, period, tz)
    if arrow:
        return tombstone_table(period, [int(s.timestamp() * 1000) for s in starts])
    return [{period: start, TOMBSTONE_COLUMN: True} for start in starts]
