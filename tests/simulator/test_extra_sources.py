"""The simulator's extra sources agree with its other data, are deterministic, and the read-only key is refused
where Pendo refuses it."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from simulator.aggregation import run_aggregation
from simulator.data import Dataset
from simulator.errors import AggregationError
from simulator.expressions import EvalContext
from simulator.extra_routes import EXTRA_TRUTH_TABLES, truth

NOW = 1774020600000  # 2026-03-20T15:30Z, as tests/conftest.SIM_NOW
DAY = 86_400_000
COUNTERS = ("rageClickCount", "deadClickCount", "errorClickCount", "uTurnCount")
DIMS = ("visitorId", "accountId", "appId", "pageId", "featureId", "server", "remoteIp", "userAgent", "tabId")


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return Dataset(seed=1, scale="tiny", now_ms=NOW)


def _run(ds: Dataset, source: dict) -> list[dict]:
    body = {"request": {"pipeline": [{"source": source}]}}
    return list(run_aggregation(body, ds, EvalContext(now_ms=ds.now_ms, tz=ds.tz), None).rows)


def test_raw_events_sum_to_the_hour_rollups(ds: Dataset) -> None:
    start = ds.history_start_ms()
    raw: Counter = Counter()
    for e in ds.event_rows("singleEvents", "hour", start, ds.now_ms, ds.app_ids):
        raw[(e["visitorId"], e.get("pageId"), e.get("featureId"), e.get("trackTypeId"), e["tabId"],
             e["browserTime"] // 3_600_000)] += 1
    rolled: Counter = Counter()
    for table, key in (("page_events", "pageId"), ("feature_events", "featureId"), ("track_events", "trackTypeId")):
        for r in ds.truth(table, period="hour"):
            ids = {"pageId": None, "featureId": None, "trackTypeId": None, key: r[key]}
            rolled[(r["visitorId"], ids["pageId"], ids["featureId"], ids["trackTypeId"], r["tabId"],
                    r["hour"] // 3_600_000)] += r["numEvents"]
    assert raw and raw == rolled
    ids = [e["eventId"] for e in ds.event_rows("singleEvents", "day", start, ds.now_ms, ds.app_ids)]
    assert len(ids) == len(set(ids))


def test_day_rollups_sum_the_hour_counters_per_tab(ds: Dataset) -> None:
    for table in ("page_events", "feature_events", "events"):
        hours: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(COUNTERS))
        for r in ds.truth(table, period="hour"):
            key = (*(r.get(d) for d in DIMS), ds.clock.floor_day(r["hour"]))
            for i, c in enumerate(COUNTERS):
                hours[key][i] += r[c]
        days = {(*(r.get(d) for d in DIMS), r["day"]): [r[c] for c in COUNTERS] for r in ds.truth(table)}
        assert days == dict(hours), table
        assert any(any(v) for v in days.values())
    assert all(not any(c in r for c in COUNTERS) and "tabId" in r for r in ds.truth("track_events"))


def test_seen_state_folds_the_guide_and_poll_events(ds: Dataset) -> None:
    events = ds.truth("guide_events")
    seen = {(r["visitorId"], r["guideId"]): r for r in _run(ds, {"guidesSeenEver": {"appId": 'expandAppIds("*")'}})}
    views = Counter((e["visitorId"], e["guideId"]) for e in events if e["type"] == "guideSeen")
    assert {k: r["seenCount"] for k, r in seen.items()} == dict(views)
    for (visitor, guide), row in seen.items():
        times = [e["browserTime"] for e in events if (e["visitorId"], e["guideId"]) == (visitor, guide)
                 and e["type"] == "guideSeen"]
        assert (row["firstSeenAt"], row["lastSeenAt"]) == (min(times), max(times))
    answers = {}
    for e in sorted(ds.truth("poll_events"), key=lambda e: e["browserTime"]):
        answers[(e["visitorId"], e["pollId"])] = (e["pollResponse"], e["browserTime"])
    polls = _run(ds, {"pollsSeenEver": {"appId": 'expandAppIds("*")'}})
    assert {(r["visitorId"], r["pollId"]): (r["response"], r["time"]) for r in polls} == answers


def test_windowed_seen_state_needs_a_time_series_and_folds_only_its_events(ds: Dataset) -> None:
    with pytest.raises(AggregationError, match="timeSeries is required"):
        _run(ds, {"guidesSeen": None})
    first = ds.clock.floor_day(ds.now_ms - 5 * DAY)
    window = _run(ds, {"guidesSeen": {"appId": 'expandAppIds("*")'},
                       "timeSeries": {"period": "dayRange", "first": first, "count": 2}})
    assert window and all(first <= r["firstSeenAt"] <= r["lastSeenAt"] < first + 2 * DAY + 3_600_000
                          for r in window)
    assert len(window) < len(_run(ds, {"guidesSeenEver": {"appId": 'expandAppIds("*")'}}))


def test_every_extra_table_is_deterministic_from_the_seed(ds: Dataset) -> None:
    again = Dataset(seed=1, scale="tiny", now_ms=NOW)
    other = Dataset(seed=2, scale="tiny", now_ms=NOW)
    for table in EXTRA_TRUTH_TABLES:
        assert truth(ds, table, {}) == truth(again, table, {}), table
    assert truth(ds, "segments", {}) != truth(other, "segments", {})


def test_product_areas_cover_pages_and_features(ds: Dataset) -> None:
    areas = {g["id"]: g for g in ds.object_rows("groups")}
    objects = ds.entities("page") + ds.entities("feature")
    assigned = Counter(o["group"]["id"] for o in objects if o.get("group"))
    assert {a: g["length"] for a, g in areas.items() if g["length"]} == dict(assigned)
    assert any(o.get("group") is None for o in objects)


def test_the_read_only_key_verifies_but_cannot_aggregate(make_sim) -> None:
    sim = make_sim(read_only_key="read-only-1")
    assert sim.api("GET", "token/verify", key="read-only-1").json() == {"valid": True, "writeAccess": False}
    assert sim.api("GET", "token/verify").json() == {"valid": True, "writeAccess": True}
    assert sim.aggregate([{"source": {"apps": None}}], key="read-only-1").status_code == 403
    assert sim.aggregate([{"source": {"apps": None}}]).status_code == 200
    assert sim.api("GET", "segment", key="read-only-1").status_code == 200
    assert sim.api("GET", "token/verify", key="wrong").status_code == 403


def test_report_results_run_the_saved_pipeline(make_sim) -> None:
    sim = make_sim()
    reports = sim.api("GET", "report").json()
    columns = set()
    for report in reports:
        rows = sim.api("GET", f"report/{report['id']}/results.json").json()
        assert rows == sim.truth("report_results", report_id=report["id"])
        columns.add(frozenset(rows[0]))
        assert set(rows[0]) == {f["field"] for f in report["aggregation"]["fields"]}
    assert len(columns) == 2, "reports have their own columns"
    assert sim.api("GET", "report/no-such-report/results.json").status_code == 404
