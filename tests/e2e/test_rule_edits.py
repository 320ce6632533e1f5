"""A tag rule edit reprocesses an entity's whole lifetime: the next run repairs every day it changed.

The edited entity's ``lastUpdatedAt`` moves; the run sees it in the entity list, fingerprints the loaded history
and re-extracts only the (day, entity) pairs that differ, however old.
"""

from __future__ import annotations

from tests.e2e.harness import Loader, event_drift


def test_a_page_rule_edit_over_a_month_of_history_is_repaired_by_the_next_run(loader) -> None:
    load: Loader = loader()
    load.run()
    edit = load.sim.rule_edit("page")
    assert len(edit["days_changed"]) >= 20, edit  # the page with the most history: most of the month
    summary = load.run()
    assert event_drift(load) == {}
    page = summary.sync.tables["page_events"]
    assert page.buckets_repaired >= len(edit["days_emptied"])
    assert summary.rows["page_events"] < len(load.sim.truth("page_events")) / 2  # a repair, not a reload
    assert summary.sync.tables["events"].buckets_repaired == 0  # events do not change with tagging


def test_a_feature_rule_edit_is_repaired_and_the_next_run_finds_nothing_to_do(loader) -> None:
    load: Loader = loader()
    load.run()
    load.sim.rule_edit("feature")
    load.run()
    assert event_drift(load) == {}
    quiet = load.run()
    assert quiet.sync.tables["feature_events"].buckets_repaired == 0


def test_a_track_type_rule_edit_outside_the_settling_horizon_is_repaired(loader) -> None:
    load: Loader = loader(source_args={"settle_days": 2})
    load.run()
    load.sim.rule_edit("tracktype")
    load.run()
    assert event_drift(load) == {}
