"""Late data 2, 5 and 9 days back converges: every event table equals Pendo over the whole loaded range.

With ``lookback_days`` 0 the run re-extracts only the cursor bucket whole; older days are fingerprinted against
Pendo (``settle_days``) and only the (bucket, entity) pairs that differ are read again.
"""

from __future__ import annotations

import pendulum
import pytest

from tests.e2e.harness import Loader, event_drift


def _local_day(load: Loader, days_back: int) -> str:
    info = load.sim.info()
    return pendulum.from_timestamp(info["now_ms"] / 1000, tz=info["tz"]).subtract(days=days_back).to_date_string()


@pytest.mark.parametrize("days_back", [2, 5, 9])
def test_late_data_days_back_converges_over_the_whole_loaded_range(loader, days_back: int) -> None:
    load: Loader = loader()
    load.run()
    assert event_drift(load) == {}
    load.sim.late(_local_day(load, days_back), visitors=5)
    assert event_drift(load) != {}, "the late batch changed nothing the warehouse holds"
    summary = load.run()
    assert event_drift(load) == {}
    sync = summary.sync.tables["page_events"]
    assert sync.buckets_differing == 1 and sync.buckets_repaired == 1


def test_late_data_on_several_days_and_the_clock_moving_converges(loader) -> None:
    load: Loader = loader()
    load.run()
    for days_back in (2, 5, 9):
        load.sim.late(_local_day(load, days_back), visitors=3)
    load.sim.advance(hours=7)
    load.run()
    assert event_drift(load) == {}
    load.sim.late(_local_day(load, 1), visitors=2)
    load.run()
    assert event_drift(load) == {}


def test_late_data_beyond_the_settling_horizon_is_not_read_by_a_run(loader) -> None:
    """Pendo treats a day as final after ~9 days: a run checks 10 days, no more (``pendo-elt verify`` checks all)."""
    load: Loader = loader(source_args={"settle_days": 3})
    load.run()
    load.sim.late(_local_day(load, 6), visitors=3)
    summary = load.run()
    assert summary.sync.tables["page_events"].buckets_differing == 0
    assert "page_events" in event_drift(load)


def test_late_data_with_hour_buckets_converges(loader) -> None:
    load: Loader = loader(source_args={"period": "hour", "settle_days": 4})
    load.run(["page_events", "events", "guide_events"])
    load.sim.late(_local_day(load, 3), visitors=3)
    load.sim.advance(hours=2)
    summary = load.run(["page_events", "events", "guide_events"])
    assert 4 * 24 - 3 <= summary.sync.tables["page_events"].buckets_checked <= 4 * 24  # the hours since the cursor
    assert summary.sync.tables["page_events"].buckets_repaired >= 1
    assert event_drift(load, "hour", ("page_events", "events", "guide_events")) == {}
