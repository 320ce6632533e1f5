"""The day cache and dataset snapshots: what lets the simulator reuse generated days and answer
requests outside its lock without ever changing a byte of what it serves."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import orjson
import pytest

from simulator.data import Dataset
from simulator.data.daycache import ENTRY_BYTES, DayCache

NOW = int(datetime(2026, 3, 20, 15, 30, tzinfo=UTC).timestamp() * 1000)
EVENT_TABLES = ("page_events", "feature_events", "track_events", "events", "guide_events", "poll_events")


def weigh(value: object) -> int:
    return 100


# --- DayCache -----------------------------------------------------------------------------------------

def test_the_least_recently_used_entries_go_once_the_budget_is_exceeded() -> None:
    cache = DayCache(3 * (100 + ENTRY_BYTES))
    for key in "abc":
        cache.get((key,), lambda k=key: k.upper(), weigh)
    cache.get(("a",), lambda: pytest.fail("a is cached"), weigh)  # a is now the most recent
    cache.get(("d",), lambda: "D", weigh)
    assert list(cache.items) == [("c",), ("a",), ("d",)]
    assert cache.used == 3 * (100 + ENTRY_BYTES) and cache.builds == 4


def test_an_entry_over_the_whole_budget_is_returned_but_not_kept() -> None:
    cache = DayCache(1000)
    cache.get(("small",), lambda: 1, weigh)
    assert cache.get(("big",), lambda: 2, lambda v: 10_000) == 2
    assert list(cache.items) == [("small",)]


def test_a_zero_budget_keeps_nothing() -> None:
    cache = DayCache(0)
    assert [cache.get(("a",), lambda: 1, weigh) for _ in range(3)] == [1, 1, 1]
    assert cache.builds == 3 and not cache.items


def test_concurrent_readers_of_a_key_being_built_wait_for_that_one_build() -> None:
    cache, release, calls = DayCache(1 << 20), threading.Event(), []

    def build() -> list[int]:
        calls.append(1)
        release.wait(5)
        return [1, 2, 3]

    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get(("day",), build, weigh))) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    release.set()
    for t in threads:
        t.join(5)
    assert len(calls) == 1 and len(got) == 4 and all(g is got[0] for g in got)


def test_other_keys_are_served_while_one_is_being_built() -> None:
    cache, release = DayCache(1 << 20), threading.Event()
    slow = threading.Thread(target=lambda: cache.get(("slow",), lambda: release.wait(5), weigh))
    slow.start()
    time.sleep(0.05)
    started = time.monotonic()
    assert cache.get(("fast",), lambda: "ok", weigh) == "ok"
    assert time.monotonic() - started < 1  # the build of "slow" does not hold the cache
    release.set()
    slow.join(5)


def test_a_failed_build_is_not_cached_and_is_retried() -> None:
    cache = DayCache(1 << 20)

    def broken() -> int:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cache.get(("k",), broken, weigh)
    assert cache.get(("k",), lambda: 7, weigh) == 7 and not cache.building


def test_discard_drops_only_the_rejected_keys_and_their_weight() -> None:
    cache = DayCache(1 << 20)
    for key in [("pageEvents", "d", 0), ("pageEvents", "d", 1), ("sessions", "d")]:
        cache.get(key, lambda: None, weigh)
    cache.discard(lambda k: k[-1] != 0)
    assert list(cache.items) == [("pageEvents", "d", 1), ("sessions", "d")]
    assert cache.used == 2 * (100 + ENTRY_BYTES)


# --- the cache inside a Dataset -----------------------------------------------------------------------

def dump(ds: Dataset) -> bytes:
    """Every event table, by day and by hour, plus one visitor's history: what a client could read."""
    parts: list[object] = [ds.truth(t) for t in EVENT_TABLES]
    start = ds.clock.day_start("2026-03-18")
    parts += [ds.truth(t, period="hour", start_ms=start, end_ms=start + 86_400_000) for t in EVENT_TABLES[:4]]
    visitor = ds.truth("page_events")[0]["visitorId"]
    parts.append(ds.visitor_history(visitor, start))
    return orjson.dumps(parts)


def test_answers_do_not_depend_on_the_cache_budget() -> None:
    cached = Dataset(seed=5, scale="small", now_ms=NOW, history_days=10)
    uncached = Dataset(seed=5, scale="small", now_ms=NOW, history_days=10, cache_mb=0)
    first = dump(cached)
    assert first == dump(uncached) == dump(cached)
    assert uncached.activity.cache.builds > cached.activity.cache.builds


def test_reading_the_whole_history_again_generates_nothing() -> None:
    ds = Dataset(seed=5, scale="small", now_ms=NOW, history_days=30)
    dump(ds)
    builds = ds.activity.cache.builds
    dump(ds)
    assert ds.activity.cache.builds == builds
    assert ds.activity.cache.used < 64 << 20  # a month of the small scale is far below the default budget


def test_retag_drops_the_replaced_revision_from_the_cache() -> None:
    ds = Dataset(seed=5, scale="tiny", now_ms=NOW)
    dump(ds)
    assert ("pageEvents", "2026-03-18", 0) in ds.activity.cache.items
    ds.retag("2026-03-18")
    assert not [k for k in ds.activity.cache.items if k[-3:] == ("pageEvents", "2026-03-18", 0)]
    assert ("featureEvents", "2026-03-18", 0) in ds.activity.cache.items


def changed(ds: Dataset) -> Dataset:
    ds.advance(3 * 3_600_000)
    ds.retag("2026-03-18")
    ds.retag("2026-03-20", "featureEvents")
    ds.add_metadata_field("visitor", "segment", "string")
    ds.lag_ms = 20 * 60_000
    return ds


def test_a_snapshot_keeps_its_state_while_the_dataset_changes() -> None:
    ds = Dataset(seed=5, scale="tiny", now_ms=NOW)
    dump(ds)  # warm the shared cache with the old state
    snap = ds.snapshot()
    changed(ds)
    old, new = Dataset(seed=5, scale="tiny", now_ms=NOW), changed(Dataset(seed=5, scale="tiny", now_ms=NOW))
    assert dump(snap) == dump(old) != dump(new) == dump(ds)
    assert snap.metadata_schema("visitor") == old.metadata_schema("visitor")
    assert orjson.dumps(list(snap.object_rows("visitors"))) == orjson.dumps(list(old.object_rows("visitors")))
    assert orjson.dumps(list(ds.object_rows("visitors"))) == orjson.dumps(list(new.object_rows("visitors")))
