"""Planning of a run's verification: the settling horizon, rule-edited entities, repair jobs and their markers."""

from __future__ import annotations

import pendulum

from sources.pendo.config import validate
from sources.pendo.diff import BucketRepair
from sources.pendo.repair import repair_jobs, replacement_jobs
from sources.pendo.settings import TOMBSTONE_COLUMN
from sources.pendo.settle import unsettled_window
from sources.pendo.sync import changed_entities
from sources.pendo.windows import plan_windows

TZ = "America/New_York"
NOW = pendulum.datetime(2026, 3, 20, 15, 30, tz="UTC")


def _cfg(**changes):  # noqa: ANN202
    args = dict(integration_key="k", region="us", base_url=None, app_ids=None, start_date=None, end_date=None,
                period="day", lookback_days=0, subscription_timezone=TZ, include_anonymous_visitors=False,
                window_days=1, concurrency=2, page_size=10, request_timeout=10, max_attempts=1)
    return validate(**{**args, **changes}, now=NOW)


class _Loaded:
    """The bucket range a warehouse reports: all that unsettled_window reads."""

    def __init__(self, first: pendulum.DateTime | None) -> None:
        self.first = first

    def bucket_range(self, table: str, period: str) -> tuple[int, int] | None:
        return None if self.first is None else (int(self.first.timestamp() * 1000), 0)


def _day(d: int) -> pendulum.DateTime:
    return pendulum.datetime(2026, 3, d, tz=TZ).in_tz("UTC")


def test_the_unsettled_range_is_the_last_settle_days_before_the_cursor_bucket() -> None:
    window = unsettled_window(_cfg(), _Loaded(_day(1)), "page_events", NOW, _day(20))
    assert (window.start, window.end) == (_day(10), _day(20))


def test_the_unsettled_range_never_starts_before_the_first_loaded_bucket_nor_exists_without_one() -> None:
    window = unsettled_window(_cfg(), _Loaded(_day(15)), "page_events", NOW, _day(20))
    assert window.start == _day(15)
    assert unsettled_window(_cfg(), _Loaded(None), "page_events", NOW, _day(20)) is None
    assert unsettled_window(_cfg(settle_days=0), _Loaded(_day(1)), "page_events", NOW, _day(20)) is None


def test_rule_edits_are_entities_added_removed_or_updated_since_the_warehouse_copy() -> None:
    assert changed_entities({"a": 1, "b": 2, "new": 3}, {"a": 1, "b": 1, "gone": 5}) == ["b", "gone", "new"]
    assert changed_entities({"a": 1}, None) == []  # no copy yet: a first load has no history to repair


def test_a_whole_bucket_replacement_marks_every_pair_the_warehouse_holds() -> None:
    cfg = _cfg()
    windows = plan_windows(_day(18), _day(20), "day", TZ, 1)
    d18, d19 = (w.start_ms for w in windows)
    held = {(d18, "a"): (2, 0, 0, 1), (d18, "b"): (3, 0, 0, 1), (d19, "a"): (4, 0, 0, 1)}
    jobs = replacement_jobs(cfg, "page_events", windows, held, single_events=False, advances_cursor=True)
    assert [j.rows_replaced for j in jobs] == [5, 4]
    marks = jobs[0].tombstones.to_pylist()
    assert sorted(m["page_id"] for m in marks) == ["a", "b"] and all(m[TOMBSTONE_COLUMN] for m in marks)
    events = replacement_jobs(cfg, "events", windows, {}, single_events=False, advances_cursor=True)
    assert events[0].tombstones.column_names == ["day", TOMBSTONE_COLUMN]


def test_an_entity_repair_filters_the_query_and_marks_only_its_pairs() -> None:
    cfg = _cfg()
    d18 = plan_windows(_day(18), _day(19), "day", TZ, 1)[0].start_ms
    held = {(d18, "a"): (2, 0, 0, 1), (d18, "b"): (3, 0, 0, 1)}
    (job,) = repair_jobs(cfg, "guide_events", [BucketRepair(d18, ("b", "new"))], held, single_events=True)
    assert job.stages == [{"filter": 'guideId == "b" || guideId == "new"'}]
    assert sorted(m["guide_id"] for m in job.tombstones) == ["b", "new"]
    assert job.rows_replaced == 3 and not job.advances_cursor
    assert (job.window.start_ms, job.window.end_ms) == (d18, _day(19).timestamp() * 1000)
