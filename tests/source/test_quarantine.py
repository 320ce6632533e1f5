"""Screening of answers Arrow refuses: which rows are set aside, and why (pure logic)."""

from __future__ import annotations

import pyarrow as pa

from sources.pendo.quarantine import Rejected, rollup_pages, screen_rollups, screen_single_events

ROW = {"visitorId": "v1", "accountId": "a1", "day": 1_771_390_800_000, "numEvents": 3, "numMinutes": 1}


def test_a_clean_answer_is_one_arrow_table_and_nothing_is_rejected() -> None:
    pages = list(rollup_pages([ROW, {**ROW, "visitorId": "v2"}]))
    assert len(pages) == 1 and isinstance(pages[0], pa.Table) and pages[0].num_rows == 2


def test_a_minority_type_in_a_column_is_rejected_and_the_rest_is_typed() -> None:
    rows = [ROW, {**ROW, "visitorId": "v2"}, {**ROW, "visitorId": "v3", "accountId": 12345}]
    rejected, table = list(rollup_pages(rows))
    assert isinstance(rejected, Rejected) and [r for r, _ in rejected.rows] == [rows[2]]
    assert "accountId is a number" in rejected.rows[0][1] and "2 other rows" in rejected.rows[0][1]
    assert table.column("account_id").to_pylist() == ["a1", "a1"]


def test_a_rollup_row_without_a_numeric_bucket_is_rejected() -> None:
    good, bad = screen_rollups([ROW, {k: v for k, v in ROW.items() if k != "day"}, {**ROW, "day": "soon"}])
    assert good == [ROW] and len(bad) == 2 and all("bucket" in reason for _, reason in bad)


def test_single_events_without_a_usable_browser_time_are_rejected() -> None:
    ok = {"visitorId": "v1", "browserTime": 1_771_390_800_123}
    good, bad = screen_single_events([ok, {"visitorId": "v2"}, {"visitorId": "v3", "browserTime": "noon"},
                                      {"visitorId": "v4", "browserTime": True}])
    assert good == [ok] and [r["visitorId"] for r, _ in bad] == ["v2", "v3", "v4"]
    assert "browserTime is missing" in bad[0][1]
