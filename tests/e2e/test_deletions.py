"""Deletions reach the warehouse: a visitor deleted in Pendo leaves ``visitors`` and every event table, whatever
the age of its rows; an account leaves ``accounts``; a Pendo that lists too few ids deletes nothing; the id scan
runs once per ``reconcile_deletions_hours``, on the schedule recorded in the destination."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest

from pipelines.deletions import DeletionRefused, last_reconciled_ms, reconcile_deletions
from tests.e2e.harness import Loader

ROLLUP_TABLES = ("page_events", "feature_events", "track_events", "events")
SINGLE_TABLES = ("guide_events", "poll_events")



def _most_active_visitor(load: Loader) -> str:
    """An identified visitor with weeks of history: its oldest rows lie far outside any lookback."""
    days: dict[str, set[int]] = {}
    for row in load.sim.truth("events", include_anonymous=False):
        days.setdefault(row["visitorId"], set()).add(row["day"])
    victim = max(days, key=lambda v: (len(days[v]), v))
    assert len(days[victim]) >= 14
    return victim


def _assert_equals_truth(load: Loader) -> None:
    for table in ROLLUP_TABLES:
        assert load.rollup_rows(table) == load.truth_rollup_rows(table), table
    for table in SINGLE_TABLES:
        assert load.single_event_rows(table) == load.truth_single_event_rows(table), table
    visitors = load.sim.truth("visitors", include_anonymous=False)
    assert load.ids("visitors", "visitor_id") == Counter(v["visitorId"] for v in visitors)
    assert load.ids("accounts", "account_id") == Counter(a["accountId"] for a in load.sim.truth("accounts"))


@pytest.mark.parametrize("destination", ["duckdb", "postgres"])
def test_a_deleted_visitor_leaves_every_table_over_the_whole_history(loader, destination, request) -> None:
    dataset = request.getfixturevalue("pg_dataset") if destination == "postgres" else "pendo_data"
    load: Loader = loader(destination=destination, dataset=dataset)
    load.run()
    victim = _most_active_visitor(load)
    account = load.sim.truth("accounts")[-1]["accountId"]
    assert sum(load.ids(t, "visitor_id")[victim] for t in ROLLUP_TABLES) > 0
    load.sim.delete_visitor(victim)
    load.sim.delete_account(account)
    summary = load.run(reconcile_deletions_hours=0)
    report = summary.deletions
    assert report is not None and report.applied
    assert report.missing == {"visitors": [victim], "accounts": [account]}
    assert report.rows["visitors"] == 1 and report.rows["accounts"] == 1
    assert report.rows["events"] > 0 and report.rows["page_events"] > 0
    _assert_equals_truth(load)
    for table in (*ROLLUP_TABLES, *SINGLE_TABLES):
        assert load.ids(table, "visitor_id")[victim] == 0, table
    again = load.run(reconcile_deletions_hours=0).deletions  # nothing left to delete
    assert again is not None and not again.drift
    _assert_equals_truth(load)


def test_a_dry_run_pages_through_every_id_counts_what_would_go_and_deletes_nothing(loader) -> None:
    load: Loader = loader()
    load.run()
    victim = _most_active_visitor(load)
    load.sim.delete_visitor(victim)
    before = load.ids("events", "visitor_id")[victim]
    config = {**_source_config(load), "page_size": 3}  # many pages: keyset on ids with quotes, \\ and non-ASCII
    report = reconcile_deletions(load.pipeline(), config, apply=False)
    assert report.missing == {"visitors": [victim], "accounts": []}  # every other id was listed
    assert report.requests == sum(n // 3 + 1 for n in report.pendo_ids.values())  # pages of 3, then a short one
    assert report.rows["events"] == before > 0
    assert load.ids("events", "visitor_id")[victim] == before
    assert load.ids("visitors", "visitor_id")[victim] == 1


def test_a_pendo_listing_more_than_half_fewer_visitors_deletes_nothing(loader) -> None:
    load: Loader = loader()
    load.run()
    visitors = [v["visitorId"] for v in load.sim.truth("visitors", include_anonymous=False)]
    events_before, visitors_before = load.rollup_rows("events"), load.ids("visitors", "visitor_id")
    for visitor_id in visitors[: len(visitors) // 2 + 1]:
        load.sim.delete_visitor(visitor_id)
    with pytest.raises(DeletionRefused) as refused:
        load.run(resources=["visitors", "accounts"], reconcile_deletions_hours=0)
    message = str(refused.value)
    assert "more than half" in message and "nothing was deleted" in message and "\n" not in message
    assert refused.value.exit_code == 1
    assert load.ids("visitors", "visitor_id") == visitors_before
    assert load.rollup_rows("events") == events_before


def test_reconciliation_runs_once_per_interval_recorded_in_the_destination(loader) -> None:
    load: Loader = loader()
    first = load.run()
    assert first.deletions is not None  # never reconciled: due at once
    recorded = last_reconciled_ms(load.pipeline())
    assert recorded is not None
    victim = _most_active_visitor(load)
    load.sim.delete_visitor(victim)
    assert load.run().deletions is None  # within the default 24 hours: no id scan
    shutil.rmtree(load.workdir / "pipelines")  # a new machine: the schedule lives in the dataset
    load.sim.control("DELETE", "requests")
    assert load.run().deletions is None
    assert load.ids("visitors", "visitor_id")[victim] == 1
    scan = load.run(reconcile_deletions_hours=0).deletions
    assert scan is not None and scan.missing["visitors"] == [victim] and scan.requests >= 2
    assert last_reconciled_ms(load.pipeline()) >= recorded
    _assert_equals_truth(load)


def _source_config(load: Loader) -> dict:
    return {"base_url": load.sim.base_url, "integration_key": load.sim.integration_key,
            "retry_backoff_seconds": 0.05}
