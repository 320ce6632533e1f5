"""Rows for buckets the warehouse holds nothing of are appended once; everything else still replaces its buckets.

A first load and a backfill of days never loaded skip dlt's staging copy and merge (``sources/pendo/fresh_buckets``);
a backfill over loaded days, an overlapping one, and every incremental run keep the delete-insert. Either way the
warehouse equals the simulator's truth with no duplicate, and a package left pending by a run that stopped before
its append was loaded is extracted again instead of loaded.
"""

from __future__ import annotations

import logging
import subprocess
import sys

import pendulum
import pytest
from dlt.common.destination.exceptions import DestinationException

from pipelines.run import backfill
from pipelines.warehouse_fingerprints import WarehouseFingerprints
from sources.pendo import pendo_source, window_fetch
from sources.pendo.bucket_rows import shape_single_events
from tests.e2e.harness import Loader, _iso_date

ROLLUPS = ["events", "page_events", "feature_events", "track_events"]
SINGLES = ["guide_events", "poll_events"]
EVENT_TABLES = ROLLUPS + SINGLES


def _equal_truth(loader: Loader, **params: object) -> None:
    for table in ROLLUPS:
        assert loader.rollup_rows(table) == loader.truth_rollup_rows(table, **params), table
    for table in SINGLES:
        assert loader.single_event_rows(table) == loader.truth_single_event_rows(table, **params), table


def _disposition(loader: Loader, table: str) -> str:
    return loader.pipeline().default_schema.get_table(table)["write_disposition"]


def _staged(loader: Loader, table: str) -> bool:
    """Whether dlt's staging dataset holds a table of that name (the merge's first copy)."""
    staging = f"{loader.dataset}_staging"
    rows = loader.query("SELECT count(*) FROM information_schema.tables "
                        f"WHERE table_schema = '{staging}' AND table_name = '{table}'")
    return bool(rows[0][0])


def info_day_ms(loader: Loader, days_back: int) -> int:
    return loader.sim.info()["now_ms"] - days_back * 86_400_000


def _source_args(loader: Loader) -> dict:
    info = loader.sim.info()
    return {"base_url": loader.sim.base_url, "integration_key": loader.sim.integration_key,
            "subscription_timezone": info["tz"], "retry_backoff_seconds": 0.05}


def test_a_first_load_appends_then_runs_merge_again(loader) -> None:
    load = loader()
    load.run(EVENT_TABLES)
    for table in EVENT_TABLES:
        assert _disposition(load, table) == "append", table
        assert not _staged(load, table), f"{table} went through the staging copy"
    _equal_truth(load)

    load.sim.advance(hours=30)  # new buckets and a partial one the first load holds: replaced, not appended
    late = load.sim.late(_iso_date(info_day_ms(load, days_back=2), load.sim.info()["tz"]))
    assert late["rows"]
    load.run(EVENT_TABLES)
    _equal_truth(load)


def test_backfills_append_new_days_and_replace_loaded_ones(loader) -> None:
    load = loader()
    info = load.sim.info()
    tz = info["tz"]
    first = pendulum.parse(_iso_date(info["history_start_ms"], tz)).date()
    last = pendulum.from_timestamp(info["now_ms"] / 1000, tz=tz).date().add(days=1)
    middle = first.add(days=(last - first).days // 2)
    args = _source_args(load)

    backfill(load.pipeline(), str(middle), str(last), EVENT_TABLES, chunk_days=400, **args)  # fresh: appended
    assert _disposition(load, "page_events") == "append"
    backfill(load.pipeline(), str(first), str(last), EVENT_TABLES, chunk_days=400, **args)  # overlaps: merged
    assert _disposition(load, "page_events") == "merge"
    _equal_truth(load)
    backfill(load.pipeline(), str(first), str(last), EVENT_TABLES, chunk_days=400, **args)  # again: no duplicate
    _equal_truth(load)


def test_a_pending_append_is_extracted_again_not_loaded(loader, caplog: pytest.LogCaptureFixture) -> None:
    load = loader()
    info = load.sim.info()
    pipeline = load.pipeline()
    source = pendo_source(start_date=_iso_date(info["history_start_ms"], info["tz"]), **_source_args(load))
    pipeline.extract(source.with_resources(*EVENT_TABLES))  # a run stopped after extracting: its package waits
    assert pipeline.has_pending_data

    load.sim.rule_edit("page")  # Pendo changes meanwhile: the old package is stale
    with caplog.at_level(logging.WARNING, logger="pendo_elt"):
        load.run(EVENT_TABLES)
    assert any("abandoning its package" in r.getMessage() for r in caplog.records), caplog.text
    assert not load.pipeline().has_pending_data
    _equal_truth(load)


@pytest.mark.parametrize("table", ["page_events", "guide_events"])
def test_postgres_first_load_appends(loader, pg_dataset: str, table: str) -> None:
    load = loader(destination="postgres", dataset=pg_dataset)
    load.run([table])
    assert _disposition(load, table) == "append"
    assert not _staged(load, table)
    if table in ROLLUPS:
        assert load.rollup_rows(table) == load.truth_rollup_rows(table)
    else:
        assert load.single_event_rows(table) == load.truth_single_event_rows(table)
    load.run([table])  # the second run merges into what the first appended: still no duplicate
    if table in ROLLUPS:
        assert load.rollup_rows(table) == load.truth_rollup_rows(table)
    else:
        assert load.single_event_rows(table) == load.truth_single_event_rows(table)


def test_dict_pages_with_lists_keep_the_merge(loader, monkeypatch: pytest.MonkeyPatch) -> None:
    """dlt gives child rows their root key only in a merge table: a dict page that nests a list merges the run."""
    def with_a_list(rows, period, tz, types):  # the dict path, as a page Arrow would store differently takes it
        return shape_single_events([{**row, "tags": ["a", "b"]} for row in rows], period, tz)

    monkeypatch.setattr(window_fetch, "single_event_page", with_a_list)
    load = loader()
    load.run(SINGLES)
    assert _disposition(load, "guide_events") == "merge"
    (children,), = load.query(f"SELECT count(*) FROM {load.table('guide_events__tags')}")
    assert children
    load.sim.advance(hours=30)
    load.run(SINGLES)  # a merge into the table and its child table: would fail if the first run had appended
    for table in SINGLES:
        assert load.single_event_rows(table) == load.truth_single_event_rows(table), table


def test_a_fingerprint_query_that_fails_is_an_error_not_an_empty_table(loader, tmp_path) -> None:
    """Another process holding the DuckDB file: the reader raises instead of answering "no such table"."""
    load = loader()
    load.run(["page_events"])
    reader = WarehouseFingerprints(load.pipeline())
    assert reader.has_table("page_events", "day") and not reader.has_table("page_events", "hour")
    assert not reader.has_table("no_such_table")
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); sys.stdin.read()", str(tmp_path / "pendo.duckdb")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(DestinationException):  # a connection refused: not "no such table"
            reader.has_table("page_events", "day")
    finally:
        holder.kill()
        holder.wait()
