"""Incremental runs: nothing changes without new data; new, late and re-tagged data converge exactly."""

from __future__ import annotations

import threading

import pendulum
import pytest

from tests.e2e.harness import Loader

TABLES = ["page_events", "feature_events", "track_events", "events", "guide_events", "poll_events",
          "visitors", "accounts", "pages", "features", "guides"]


def _assert_events_equal_truth(loader: Loader, period: str = "day") -> None:
    for table in ("page_events", "feature_events", "track_events", "events"):
        assert loader.rollup_rows(table, period) == loader.truth_rollup_rows(table, period), table
    for table in ("guide_events", "poll_events"):
        assert loader.single_event_rows(table) == loader.truth_single_event_rows(table), table


def test_a_second_run_with_no_new_data_changes_nothing(loader) -> None:
    load: Loader = loader()
    load.run()
    before = load.snapshot(TABLES)
    load.run()
    assert load.snapshot(TABLES) == before


def test_after_the_clock_advances_new_data_is_added_and_nothing_else(loader) -> None:
    load: Loader = loader()
    load.run()
    load.sim.advance(days=2, hours=5)
    load.run()
    _assert_events_equal_truth(load)
    truth = load.sim.truth("visitors", include_anonymous=False)
    assert set(load.ids("visitors", "visitor_id")) == {v["visitorId"] for v in truth}


def test_a_retroactive_change_inside_the_lookback_converges_to_the_new_truth(loader) -> None:
    load: Loader = loader()
    load.run()
    info = load.sim.info()
    two_days_ago = pendulum.from_timestamp(info["now_ms"] / 1000, tz=info["tz"]).subtract(days=2).to_date_string()
    before = load.truth_rollup_rows("page_events")
    load.sim.retag(two_days_ago)
    assert load.truth_rollup_rows("page_events") != before
    load.run()
    _assert_events_equal_truth(load)


def test_cursor_state_lives_in_the_destination(loader, tmp_path) -> None:
    import shutil

    load: Loader = loader()
    load.run()
    shutil.rmtree(tmp_path / "pipelines")  # a fresh machine: only the destination survives
    load.sim.advance(days=1)
    load.run()
    _assert_events_equal_truth(load)
    state = load.pipeline().state["sources"]["pendo"]["resources"]["page_events"]
    assert pendulum.parse(state["cursor"]) >= pendulum.from_timestamp(load.sim.info()["now_ms"] / 1000).subtract(days=1)


def test_changing_the_period_is_refused_without_a_full_refresh(loader) -> None:
    from sources.pendo.errors import ConfigError

    load: Loader = loader()
    load.run(["page_events"])
    with pytest.raises(ConfigError, match="full-refresh"):
        load.run(["page_events"], period="hour")
    load.run(["page_events"], period="hour", full_refresh=True)
    assert load.rollup_rows("page_events", "hour") == load.truth_rollup_rows("page_events", "hour")


def test_a_custom_field_added_later_becomes_a_new_typed_column(loader) -> None:
    load: Loader = loader()
    load.run(["visitors"])
    load.sim.add_metadata_field("visitor", "health_score", "float")
    load.run(["visitors"])
    column = load.pipeline().default_schema.get_table_columns("visitors")["metadata_custom_health_score"]
    assert column["data_type"] == "double"
    truth = {v["visitorId"]: (v["metadata"].get("custom") or {}).get("health_score")
             for v in load.sim.truth("visitors", include_anonymous=False)}
    loaded = dict(load.query(f"SELECT visitor_id, metadata_custom_health_score FROM {load.table('visitors')}"))
    assert loaded == truth
    assert any(value is not None for value in loaded.values())


def test_a_visitor_updated_while_the_run_pages_keeps_its_newest_version(loader) -> None:
    """Keyset pages run in (lastupdated, id) order; a visitor Pendo updates mid-run sorts after the cursor and is
    met again on a later page. The warehouse keeps the newest copy: it equals Pendo's truth after the update."""
    load: Loader = loader(source_args={"page_size": 10})
    # The fourth aggregation (Pendo's clock, then visitor pages) is held; Pendo's clock jumps meanwhile.
    load.sim.inject({"kind": "delay", "seconds": 2, "times": 1, "after": 3, "path": "/api/v1/aggregation"})
    timer = threading.Timer(0.8, lambda: load.sim.advance(days=3))
    timer.start()
    try:
        load.run(["visitors"])
    finally:
        timer.join()
    truth = {v["visitorId"]: v["metadata"]["auto"]["lastupdated"]
             for v in load.sim.truth("visitors", include_anonymous=False)}
    loaded = load.query(f"SELECT visitor_id, {load.epoch_ms('metadata_auto_lastupdated')} "
                        f"FROM {load.table('visitors')}")
    assert len(loaded) == len(truth)
    stale = {vid: (ms, truth[vid]) for vid, ms in loaded if ms != truth[vid]}
    assert not stale, f"{len(stale)} visitors kept an older version: {list(stale.items())[:3]}"
