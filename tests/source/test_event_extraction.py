"""The extraction path of event tables, without HTTP: Arrow tables, single-event buckets, windows in flight.

- ``rollup_table`` builds its table column by column; the types must stay what ``Table.from_pylist`` gave
  (the warehouse columns were created from them): epoch-ms fields as UTC microsecond timestamps,
  ``parameters`` / ``properties`` as JSON text, all-null fields dropped, the bucket column not nullable.
- Single-event buckets are memoized per 15-minute slot; they must equal ``floor_to_bucket`` of each event,
  in any zone, across DST changes, in the dict rows and in the Arrow pages alike.
- ``concurrency`` bounds the windows in flight for the whole source, however many event tables dlt
  extracts round-robin; windows come back whole and in order; no fetch thread outlives the extraction.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pendulum
import pyarrow as pa
import pytest

from sources.pendo import bucket_rows, window_fetch
from sources.pendo.arrow import DECLARED_COLUMNS, TIMESTAMP, rollup_table
from sources.pendo.config import PendoConfig, validate
from sources.pendo.errors import PendoUnavailableError, WindowTooLargeError
from sources.pendo.event_columns import COLUMN_TYPES
from sources.pendo.single_event_table import single_event_page
from sources.pendo.spool import RowSpool
from sources.pendo.windows import Window, floor_to_bucket, plan_windows

DAY_MS = 86_400_000


# --- Arrow tables -----------------------------------------------------------------------------------
def test_declared_columns_an_answer_lacks_are_null_columns_at_the_end() -> None:
    """dlt then writes every file in the schema's column order and its normalize step imports them unrewritten."""
    table = rollup_table([{"visitorId": "v1", "day": 1773806400000, "numEvents": 4}])
    assert table.column_names == ["visitor_id", "day", "num_events", "parameters", "properties", "_pendo_deleted"]
    assert [table.column(c).to_pylist() for c in ("parameters", "properties", "_pendo_deleted")] == [[None]] * 3
    assert table.schema.field("_pendo_deleted").type == pa.bool_()


def test_rollup_table_types_are_those_of_from_pylist() -> None:
    rows = [
        {"visitorId": "v1", "appId": -323232, "day": 1773806400000, "firstTime": 1773806794354, "numEvents": 4,
         "ratio": 1, "gone": None},
        {"visitorId": "v2", "appId": 6424683024596561, "day": 1773806400000, "firstTime": None, "numEvents": 1,
         "ratio": 2.5, "parameters": {"q": "x", "n": [1, 2]}, "gone": None},
        {"visitorId": "v3", "appId": 1, "day": 1773806400000, "numEvents": 2, "parameters": None,
         "properties": "plain", "late": True},
    ]
    table = rollup_table(rows)
    assert table.schema == pa.schema([
        pa.field("visitor_id", pa.string()),
        pa.field("app_id", pa.int64()),
        pa.field("day", TIMESTAMP, nullable=False),
        pa.field("first_time", TIMESTAMP),
        pa.field("num_events", pa.int64()),
        pa.field("ratio", pa.float64()),
        pa.field("parameters", pa.string()),
        pa.field("properties", pa.string()),
        pa.field("late", pa.bool_()),
        pa.field("_pendo_deleted", pa.bool_()),  # declared by the resource: present on every table (arrow.py)
    ])
    assert table.column("day").to_pylist()[0] == pendulum.datetime(2026, 3, 18, 4)
    assert table.column("first_time").to_pylist()[1] is None
    assert table.column("parameters").to_pylist() == [None, '{"q":"x","n":[1,2]}', None]
    assert table.column("properties").to_pylist() == [None, None, '"plain"']
    assert table.column("late").to_pylist() == [None, None, True]


def test_rollup_table_of_uniform_rows_equals_from_pylist() -> None:
    rows = [{"accountId": f"a{i}", "day": 1773806400000 + i, "numEvents": i, "server": None if i % 2 else "s"}
            for i in range(1000)]
    expected = pa.Table.from_pylist(rows)
    table = rollup_table(rows)
    assert table.column_names == ["account_id", "day", "num_events", "server", *DECLARED_COLUMNS]
    for name, column in zip(expected.column_names, table.columns[:4], strict=True):
        if name != "day":
            assert column.equals(expected.column(name))
    assert rollup_table([]).num_rows == 0


def test_rollup_table_refuses_a_column_of_mixed_types_like_from_pylist() -> None:
    rows = [{"day": 1, "x": 1}, {"day": 2, "x": "one"}]
    with pytest.raises(pa.ArrowException):
        pa.Table.from_pylist(rows)
    with pytest.raises(pa.ArrowException):
        rollup_table(rows)


# --- single-event buckets ------------------------------------------------------------------------
@pytest.mark.parametrize("period", ["day", "hour"])
@pytest.mark.parametrize(
    ("tz", "start"),
    [
        ("America/New_York", "2026-03-07"),  # DST starts 2026-03-08
        ("America/New_York", "2025-11-01"),  # DST ends 2025-11-02: a repeated hour
        ("Asia/Kolkata", "2026-01-01"),  # +05:30
        ("Asia/Kathmandu", "2026-01-01"),  # +05:45
        ("Australia/Lord_Howe", "2026-04-04"),  # a 30-minute DST shift
        ("Africa/Monrovia", "1971-12-30"),  # -00:44:30 until 1972: boundaries inside a 15-minute slot
    ],
)
def test_memoized_buckets_equal_floor_to_bucket_of_each_event(period: str, tz: str, start: str) -> None:
    rng = random.Random(7)
    first = int(pendulum.parse(start).timestamp() * 1000)
    times = sorted(rng.randrange(first, first + 3 * DAY_MS) for _ in range(3000))
    times += [first + k * 900_000 + d for k in range(3 * 96) for d in (-1, 0, 1)]  # every slot edge
    rows = [{"browserTime": ms, "guideId": "g"} for ms in times]
    shaped = bucket_rows.shape_single_events(rows, period, tz)
    table = single_event_page(rows, period, tz, COLUMN_TYPES["guide_events"])  # the Arrow path, same memo
    assert isinstance(table, pa.Table)
    for ms, row, arrow_row in zip(times, shaped, table.select([period, "browser_time"]).to_pylist(), strict=True):
        assert row[period] == floor_to_bucket(pendulum.from_timestamp(ms / 1000), period, tz), (ms, tz)
        assert row["browser_time"] == pendulum.from_timestamp(ms / 1000)
        assert (arrow_row[period], arrow_row["browser_time"]) == (row[period], row["browser_time"]), (ms, tz)


def test_single_events_without_browser_time_get_no_bucket() -> None:
    assert bucket_rows.shape_single_events([{"guideId": "g"}], "day", "UTC") == [{"guide_id": "g"}]


# --- windows in flight ------------------------------------------------------------------------------
def config(concurrency: int, days: int = 6) -> PendoConfig:
    return validate(
        integration_key="test-key-k", region=None, base_url="http://127.0.0.1:9", app_ids=None, start_date="2026-03-01",
        end_date=f"2026-03-{1 + days:02d}", period="day", lookback_days=0, subscription_timezone="America/New_York",
        include_anonymous_visitors=False, window_days=1, concurrency=concurrency, page_size=100,
        request_timeout=10, max_attempts=1, now=pendulum.datetime(2026, 3, 20),
    )


class FakeClient:
    """Answers each window with rows that name it, slowly, and counts the requests in flight."""

    def __init__(self, delay: float = 0.01, too_large: set[str] = frozenset(), fail: str | None = None) -> None:
        self.delay, self.too_large, self.fail = delay, too_large, fail
        self.lock = threading.Lock()
        self.in_flight = self.most_in_flight = self.requests = 0

    def aggregate(self, body: dict, label: str, *, splittable: bool = False) -> RowSpool:
        series = body["request"]["pipeline"][0]["source"]["timeSeries"]
        table = label.split()[0]
        with self.lock:
            self.in_flight += 1
            self.requests += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            if table == self.fail:
                raise PendoUnavailableError(f"{label}: HTTP 503")
            if series["period"] == "dayRange" and table in self.too_large:
                raise WindowTooLargeError(f"{label}: HTTP 408")
            period = "day" if series["period"] == "dayRange" else "hour"
            step = DAY_MS if period == "day" else 3_600_000
            rows = [{period: series["first"] + i * step, "visitorId": v, "numEvents": 1, "numMinutes": 1,
                     "firstTime": series["first"], "lastTime": series["first"] + 1}
                    for i in range(series["count"]) for v in ("a", "b")]
            return RowSpool.holding(rows)
        finally:
            with self.lock:
                self.in_flight -= 1


def round_robin(generators: dict[str, Iterator]) -> dict[str, list[tuple[Window, list]]]:
    """Drive the tables' generators one window at a time in turn, as dlt's round-robin extraction does."""
    out: dict[str, list[tuple[Window, list]]] = {name: [] for name in generators}
    live = dict(generators)
    while live:
        for name, gen in list(live.items()):
            item = next(gen, None)
            if item is None:
                del live[name]
                continue
            window, pages = item
            out[name].append((window, list(pages)))
    return out


def window_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("pendo-windows")]


def wait_for_no_window_threads() -> None:
    deadline = time.monotonic() + 5
    while window_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert window_threads() == [], "fetch threads outlived the extraction"


TABLES = {"page_events": "pageEvents", "feature_events": "featureEvents", "track_events": "trackEvents",
          "events": "events"}


@pytest.mark.parametrize("concurrency", [1, 2, 3])
def test_concurrency_bounds_the_windows_in_flight_of_all_tables_together(concurrency: int) -> None:
    cfg = config(concurrency)
    windows = plan_windows(cfg.start_date, cfg.end_date, "day", cfg.timezone, 1)
    client = FakeClient(too_large={"events"})  # its days are split into hours and summed back
    pool = window_fetch.WindowPool(cfg.concurrency)
    generators = {t: window_fetch.fetch_windows(client, t, s, windows, cfg, pool, single_events=False)
                  for t, s in TABLES.items()}
    result = round_robin(generators)
    assert client.most_in_flight <= concurrency  # a pool per table had 4 x concurrency in flight
    for table, got in result.items():
        assert [w for w, _ in got] == windows
        for window, pages in got:
            assert all(isinstance(p, pa.Table) for p in pages)
            day = pa.concat_tables(pages)
            assert day.column("day").to_pylist() == [window.start] * 2, table
            # events: one row per hour and visitor, summed into the day (23 hours on 2026-03-08)
            hours = (window.end - window.start).in_hours()
            assert day.column("num_events").to_pylist() == [hours if table == "events" else 1] * 2
    assert client.requests == 3 * len(windows) + 3 * len(windows)  # events: the refused day, then two halves
    wait_for_no_window_threads()


def test_a_failing_table_stops_the_extraction_and_leaves_no_thread() -> None:
    cfg = config(2, days=10)
    windows = plan_windows(cfg.start_date, cfg.end_date, "day", cfg.timezone, 1)
    client = FakeClient(fail="events")
    pool = window_fetch.WindowPool(cfg.concurrency)
    generators = {t: window_fetch.fetch_windows(client, t, s, windows, cfg, pool, single_events=False)
                  for t, s in TABLES.items()}
    with pytest.raises(PendoUnavailableError, match="events"):
        round_robin(generators)
    for gen in generators.values():  # dlt closes every pipe when one fails
        gen.close()
    wait_for_no_window_threads()
    assert client.requests < 4 * len(windows), "windows kept being fetched after the failure"


def test_a_pool_restarts_for_tables_extracted_one_after_another() -> None:
    cfg = config(2, days=3)
    windows = plan_windows(cfg.start_date, cfg.end_date, "day", cfg.timezone, 1)
    pool = window_fetch.WindowPool(cfg.concurrency)
    for table, source in TABLES.items():
        got = list(window_fetch.fetch_windows(FakeClient(), table, source, windows, cfg, pool, single_events=False))
        assert [w for w, _ in got] == windows
        wait_for_no_window_threads()


def test_single_events_are_shaped_in_the_worker() -> None:
    cfg = config(2, days=2)
    windows = plan_windows(cfg.start_date, cfg.end_date, "day", cfg.timezone, 1)

    class Guides(FakeClient):
        def aggregate(self, body: dict, label: str, *, splittable: bool = False) -> RowSpool:
            first = body["request"]["pipeline"][0]["source"]["timeSeries"]["first"]
            return RowSpool.holding([{"browserTime": first + 1000, "guideId": "g"}])

    got = list(window_fetch.fetch_windows(Guides(), "guide_events", "guideEvents", windows, cfg,
                                     window_fetch.WindowPool(2), single_events=True))
    for window, pages in got:
        (page,) = list(pages)
        assert isinstance(page, pa.Table)  # converted in the worker, the dict path's columns (single_event_table)
        row = page.to_pylist()[0]
        assert (row["browser_time"], row["guide_id"], row["day"]) == (window.start.add(seconds=1), "g", window.start)
        assert row["_dlt_id"] and page.num_rows == 1
    wait_for_no_window_threads()


def test_an_answer_spooled_to_disk_is_converted_as_it_is_loaded() -> None:
    spool = RowSpool(max_in_memory=2)
    for i in range(5):
        spool.append({"day": 1773806400000, "visitorId": str(i), "numEvents": i})
    assert spool.on_disk
    pages = window_fetch._part_pages("day", spool, config(1), single_events=False)
    assert not isinstance(pages, list)
    assert pa.concat_tables(list(pages)).column("num_events").to_pylist() == [0, 1, 2, 3, 4]
    small = RowSpool.holding([{"day": 1773806400000, "visitorId": "v", "numEvents": 1}])
    assert isinstance(window_fetch._part_pages("day", small, config(1), single_events=False), list)

