"""Fingerprint bodies and parsing, the diff, and the repair plan: pure logic, no HTTP."""

from __future__ import annotations

from decimal import Decimal

import pendulum

from sources.pendo.diff import BucketRepair, differing, plan_repairs
from sources.pendo.fingerprints import (
    entity_filter,
    normalize,
    parse_fingerprints,
    rollup_fingerprint_body,
    single_fingerprint_body,
)
from sources.pendo.windows import Window, plan_windows

TZ = "America/New_York"
DAY = 86_400_000


def _window(days: int) -> Window:
    start = pendulum.datetime(2026, 3, 10, tz=TZ).in_tz("UTC")
    return Window(start, start.add(days=days))


def test_a_rollup_fingerprint_groups_the_window_by_bucket_and_entity() -> None:
    body = rollup_fingerprint_body("pageEvents", "pageId", _window(3), "day", TZ, [-323232])
    source, group = body["request"]["pipeline"]
    assert source["source"]["pageEvents"] == {"appId": [-323232]}
    assert source["source"]["timeSeries"] == {"period": "dayRange", "first": _window(3).start_ms, "count": 3}
    assert group["group"]["group"] == ["day", "pageId"]
    assert group["group"]["fields"]["visitors"] == {"count": "visitorId"}
    assert group["group"]["fields"]["numEvents"] == {"sum": "numEvents"}


def test_an_entity_filtered_fingerprint_escapes_every_id() -> None:
    body = rollup_fingerprint_body("featureEvents", "featureId", _window(1), "day", TZ, None,
                                   entities=['a"b', "c\\d"])
    assert body["request"]["pipeline"][1] == {"filter": 'featureId == "a\\"b" || featureId == "c\\\\d"'}
    assert entity_filter("pageId", ["b", "a", "b"]) == 'pageId == "a" || pageId == "b"'


def test_a_single_event_fingerprint_spawns_one_grouped_pipeline_per_bucket() -> None:
    buckets = plan_windows(_window(2).start, _window(2).end, "day", TZ, 1)
    body = single_fingerprint_body("pollEvents", "pollId", buckets, "day", TZ, None)
    (spawn,) = body["request"]["pipeline"]
    assert len(spawn["spawn"]) == 2
    for bucket, stages in zip(buckets, spawn["spawn"], strict=True):
        assert stages[0]["source"]["timeSeries"]["first"] == bucket.start_ms
        assert stages[0]["source"]["timeSeries"]["count"] == 1
        assert stages[1]["group"]["group"] == ["pollId"]
        assert stages[2] == {"eval": {"bucket": str(bucket.start_ms)}}


def test_answers_parse_to_keys_and_numbers_that_compare_with_sql_values() -> None:
    rows = [{"day": 5, "pageId": "p", "rows": 2, "numEvents": 7, "numMinutes": 1.5, "visitors": 1},
            {"day": 5, "pageId": None, "rows": 1, "numEvents": 0, "numMinutes": 0, "visitors": 1}]
    parsed = parse_fingerprints(rows, "day", "pageId", single_events=False)
    assert parsed == {(5, "p"): (2, 7, 1.5, 1), (5, ""): (1, 0, 0, 1)}
    assert normalize(Decimal("7")) == 7 and normalize(7.0) == 7 and normalize(None) == 0
    assert normalize(Decimal("1.5000000001")) == 1.5


def test_the_diff_finds_changed_and_one_sided_keys_only() -> None:
    pendo = {(1, "a"): (1, 2), (1, "b"): (3, 4), (2, "a"): (5, 6)}
    warehouse = {(1, "a"): (1, 2), (1, "b"): (3, 5), (3, "z"): (1, 1)}
    assert differing(pendo, warehouse) == {(1, "b"), (2, "a"), (3, "z")}
    assert differing(pendo, dict(pendo)) == set()


def test_repairs_name_the_differing_entities_unless_most_of_the_bucket_differs() -> None:
    pendo = {(1, e): (1,) for e in "abcd"} | {(2, "a"): (1,), (2, "b"): (1,)}
    warehouse = {(1, e): (1,) for e in "abcd"} | {(2, "a"): (2,), (2, "b"): (2,)}
    keys = {(1, "c"), (2, "a"), (2, "b")}
    assert plan_repairs(keys, pendo, warehouse, by_entity=True) == [BucketRepair(1, ("c",)), BucketRepair(2, None)]
    assert plan_repairs(keys, pendo, warehouse, by_entity=False) == [BucketRepair(1, None), BucketRepair(2, None)]


def test_a_bucket_pendo_could_not_fingerprint_is_repaired_whole() -> None:
    assert plan_repairs(set(), {}, {}, by_entity=True, whole_buckets=[3 * DAY]) == [BucketRepair(3 * DAY, None)]


def test_a_group_without_an_entity_id_forces_the_whole_bucket() -> None:
    pendo = {(1, ""): (1,), **{(1, e): (1,) for e in "abcdef"}}
    assert plan_repairs({(1, "")}, pendo, {}, by_entity=True) == [BucketRepair(1, None)]
