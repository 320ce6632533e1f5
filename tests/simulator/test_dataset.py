"""The simulated subscription (simulator.data.Dataset), read as a specification.

What the HTTP server, the aggregation interpreter and the extractor may rely on: determinism,
rollup arithmetic, time-zone buckets, visibility by the processing cutoff, and the ways history
changes (re-tagging, new metadata fields, the clock moving on).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest

from simulator.data import SCALES, Dataset

NOW = int(datetime(2026, 3, 20, 15, 30, tzinfo=UTC).timestamp() * 1000)  # after New York's spring DST change
HOUR = 3_600_000
DAY = 24 * HOUR
ROLLUPS = ("pageEvents", "featureEvents", "trackEvents")
DIMS = ("visitorId", "accountId", "appId", "server", "remoteIp", "userAgent", "tabId")  # tabId: a grain dimension
ENTITY = {"pageEvents": "pageId", "featureEvents": "featureId", "trackEvents": "trackTypeId"}


@pytest.fixture(scope="module")
def small() -> Dataset:
    """Read-only: tests that change the dataset build their own."""
    return Dataset(seed=1, scale="small", now_ms=NOW)


def day_range(ds: Dataset, day: str) -> tuple[int, int]:
    return ds.clock.day_start(day), ds.clock.day_end(day)


def rows(ds: Dataset, source: str, day: str, period: str = "day") -> list[dict]:
    start, end = day_range(ds, day)
    return list(ds.event_rows(source, period, start, end, ds.app_ids))


def key(row: dict, source: str) -> tuple:
    entity = (row[ENTITY[source]],) if source in ENTITY else ()
    return tuple(row[d] for d in DIMS) + entity


def summed(hour_rows: list[dict], source: str) -> dict[tuple, tuple]:
    out: dict[tuple, list] = {}
    for r in hour_rows:
        g = out.setdefault(key(r, source), [r["firstTime"], r["lastTime"], 0, 0])
        g[0], g[1] = min(g[0], r["firstTime"]), max(g[1], r["lastTime"])
        g[2] += r["numEvents"]
        g[3] += r["numMinutes"]
    return {k: tuple(v) for k, v in out.items()}


def as_sums(day_rows: list[dict], source: str) -> dict[tuple, tuple]:
    return {key(r, source): (r["firstTime"], r["lastTime"], r["numEvents"], r["numMinutes"]) for r in day_rows}


# --- determinism ------------------------------------------------------------------------------------

def snapshot(ds: Dataset) -> str:
    start = ds.clock.day_start("2026-03-10")
    parts = [ds.entities(k) for k in ("page", "feature", "guide", "tracktype", "report")]
    parts += [ds.truth("visitors"), ds.truth("accounts"), ds.metadata_schema("visitor")]
    parts += [ds.truth(t, start_ms=start, end_ms=start + 2 * DAY) for t in
              ("page_events", "feature_events", "track_events", "events", "guide_events", "poll_events")]
    return json.dumps(parts, sort_keys=False, ensure_ascii=False)


def test_same_inputs_give_byte_identical_rows() -> None:
    assert snapshot(Dataset(seed=7, scale="tiny", now_ms=NOW)) == snapshot(Dataset(seed=7, scale="tiny", now_ms=NOW))


def test_rows_do_not_depend_on_the_process_hash_seed() -> None:
    code = ("import hashlib, sys; sys.path.insert(0, '.'); from tests.simulator.test_dataset import *; "
            "print(hashlib.sha256(snapshot(Dataset(seed=7, scale='tiny', now_ms=NOW)).encode()).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env=os.environ | {"PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(digests) == 1 and len(digests.pop().strip()) == 64


def test_a_different_seed_gives_different_rows() -> None:
    assert snapshot(Dataset(seed=7, scale="tiny", now_ms=NOW)) != snapshot(Dataset(seed=8, scale="tiny", now_ms=NOW))


def test_a_restart_later_the_same_local_day_rebuilds_the_same_subscription() -> None:
    later = Dataset(seed=7, scale="tiny", now_ms=NOW + 3 * HOUR)
    later.set_now(NOW)
    assert snapshot(later) == snapshot(Dataset(seed=7, scale="tiny", now_ms=NOW))


def test_a_day_is_the_same_whatever_was_generated_before() -> None:
    a, b = Dataset(seed=3, scale="small", now_ms=NOW), Dataset(seed=3, scale="small", now_ms=NOW)
    for day in ("2026-03-01", "2026-03-02", "2026-03-03"):
        rows(a, "events", day)
    assert rows(a, "pageEvents", "2026-03-12") == rows(b, "pageEvents", "2026-03-12")


# --- rollup arithmetic ------------------------------------------------------------------------------

@pytest.mark.parametrize("source", [*ROLLUPS, "events"])
@pytest.mark.parametrize("day", ["2026-03-08", "2026-03-19", "2026-03-20"])  # DST day, full day, today
def test_day_rows_are_the_sum_of_the_visible_hour_rows(small: Dataset, source: str, day: str) -> None:
    day_rows = rows(small, source, day)
    assert day_rows
    assert {r["day"] for r in day_rows} == {small.clock.day_start(day)}
    assert as_sums(day_rows, source) == summed(rows(small, source, day, "hour"), source)


def test_hour_rows_are_inside_their_hour(small: Dataset) -> None:
    for source in ROLLUPS:
        for r in rows(small, source, "2026-03-18", "hour"):
            assert r["hour"] <= r["firstTime"] <= r["lastTime"] < r["hour"] + HOUR
            assert r["numEvents"] >= r["numMinutes"] >= 1 and r["numMinutes"] <= 60


def test_events_are_the_three_rollups_summed(small: Dataset) -> None:
    for period in ("day", "hour"):
        combined: dict[tuple, list] = defaultdict(lambda: [0, 0])
        for source in ROLLUPS:
            for r in rows(small, source, "2026-03-17", period):
                g = combined[tuple(r[d] for d in (*DIMS, period))]
                g[0] += r["numEvents"]
                g[1] += r["numMinutes"]
        events = {tuple(r[d] for d in (*DIMS, period)): [r["numEvents"], r["numMinutes"]]
                  for r in rows(small, "events", "2026-03-17", period)}
        assert events == dict(combined)
    assert max(r["numMinutes"] for r in rows(small, "events", "2026-03-17", "hour")) <= 60


def test_some_rows_of_a_visitor_day_differ_only_in_server_ip_or_user_agent(small: Dataset) -> None:
    day_rows = rows(small, "pageEvents", "2026-03-16")
    by_rest = Counter((r["visitorId"], r["accountId"], r["appId"], r["pageId"]) for r in day_rows)
    assert sum(1 for n in by_rest.values() if n > 1) >= 5
    contexts = {(r["server"], r["remoteIp"], r["userAgent"]) for r in day_rows}
    assert len({c[0] for c in contexts}) > 1 and len({c[2] for c in contexts}) > 1


# --- time zone --------------------------------------------------------------------------------------

def test_spring_forward_day_has_exactly_23_hour_buckets(small: Dataset) -> None:
    start, end = day_range(small, "2026-03-08")
    assert (end - start) == 23 * HOUR
    assert start == int(datetime(2026, 3, 8, 5, tzinfo=UTC).timestamp() * 1000)  # midnight EST
    assert end == int(datetime(2026, 3, 9, 4, tzinfo=UTC).timestamp() * 1000)  # midnight EDT
    hours = sorted({r["hour"] for r in rows(small, "pageEvents", "2026-03-08", "hour")})
    assert hours == [start + i * HOUR for i in range(23)]


def test_fall_back_day_has_25_hour_buckets() -> None:
    ds = Dataset(seed=1, scale="small", now_ms=int(datetime(2025, 11, 20, tzinfo=UTC).timestamp() * 1000))
    start, end = day_range(ds, "2025-11-02")
    assert end - start == 25 * HOUR and len(ds.clock.hour_starts("2025-11-02")) == 25
    hours = {r["hour"] for r in rows(ds, "events", "2025-11-02", "hour")}
    assert hours <= set(ds.clock.hour_starts("2025-11-02")) and len(hours) >= 23


def test_buckets_follow_the_configured_zone() -> None:
    ds = Dataset(seed=1, scale="tiny", tz="Asia/Kolkata", now_ms=NOW)
    start = ds.clock.day_start("2026-03-15")
    assert start == int(datetime(2026, 3, 14, 18, 30, tzinfo=UTC).timestamp() * 1000)
    assert all((r["hour"] - start) % HOUR == 0 for r in rows(ds, "pageEvents", "2026-03-15", "hour"))


# --- visibility and the clock -----------------------------------------------------------------------

def test_nothing_newer_than_the_cutoff_is_served(small: Dataset) -> None:
    assert small.cutoff_ms == NOW - HOUR
    for source in (*ROLLUPS, "events"):
        assert all(r["lastTime"] < small.cutoff_ms for r in small.truth(rows_table(source), period="hour",
                                                                             start_ms=NOW - 2 * DAY))
    for table in ("guide_events", "poll_events"):
        assert all(r["browserTime"] < small.cutoff_ms for r in small.truth(table, start_ms=NOW - 2 * DAY))
    for v in small.truth("visitors"):
        assert v["metadata"]["auto"]["lastupdated"] <= small.cutoff_ms


def rows_table(source: str) -> str:
    return {"pageEvents": "page_events", "featureEvents": "feature_events", "trackEvents": "track_events",
            "events": "events"}[source]


def test_advancing_the_clock_brings_late_data_in() -> None:
    ds = Dataset(seed=1, scale="small", now_ms=NOW)
    today = ds.clock.day_of(NOW)
    before = rows(ds, "pageEvents", today)
    visitors_before = {v["visitorId"]: v for v in ds.truth("visitors")}
    ds.advance(6 * HOUR)
    after = rows(ds, "pageEvents", today)
    assert sum(r["numEvents"] for r in after) > sum(r["numEvents"] for r in before)
    grown = as_sums(after, "pageEvents")
    assert all(grown[k][2] >= v[2] for k, v in as_sums(before, "pageEvents").items())  # rows only grow
    visitors_after = {v["visitorId"]: v for v in ds.truth("visitors")}
    changed = [i for i, v in visitors_after.items() if visitors_before.get(i) != v]
    assert changed and all(visitors_after[i]["metadata"]["auto"]["lastupdated"] > NOW - HOUR for i in changed)


def test_the_served_history_keeps_its_start_when_the_clock_moves() -> None:
    ds = Dataset(seed=1, scale="tiny", now_ms=NOW)
    start = ds.history_start_ms()
    first_day = ds.truth("page_events", end_ms=start + DAY)
    ds.advance(3 * DAY)
    assert ds.history_start_ms() == start == ds.clock.day_start("2026-02-18")
    assert ds.truth("page_events", end_ms=start + DAY) == first_day != []
    assert not list(ds.event_rows("pageEvents", "day", start - 5 * DAY, start, ds.app_ids))  # nothing before it


def test_people_appear_only_after_their_first_update() -> None:
    ds = Dataset(seed=1, scale="small", now_ms=NOW)
    future = [p for p in ds.people.visitors if p.created > ds.cutoff_ms]
    assert future
    assert ds.visitor(future[0].id) is None and ds.visitor_history(future[0].id, NOW - DAY) == []
    ds.set_now(future[0].created + ds.lag_ms)
    assert ds.visitor(future[0].id)["metadata"]["auto"]["firstvisit"] == future[0].created


# --- change -----------------------------------------------------------------------------------------

def test_retag_changes_that_day_only_and_keeps_events_consistent() -> None:
    ds = Dataset(seed=1, scale="small", now_ms=NOW)
    days = ("2026-03-11", "2026-03-12", "2026-03-13")
    before = {(s, d): rows(ds, s, d) for s in (*ROLLUPS, "events") for d in days}
    ds.retag("2026-03-12")
    after = {(s, d): rows(ds, s, d) for s in (*ROLLUPS, "events") for d in days}
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {("pageEvents", "2026-03-12"), ("events", "2026-03-12")}
    old, new = as_sums(before["pageEvents", "2026-03-12"], "pageEvents"), as_sums(after["pageEvents", "2026-03-12"],
                                                                                 "pageEvents")
    assert old.keys() - new.keys() and new.keys() - old.keys()  # rows vanish and appear
    assert any(old[k] != new[k] for k in old.keys() & new.keys())  # counts differ
    totals: Counter = Counter()
    for s in ROLLUPS:
        for r in after[s, "2026-03-12"]:
            totals[tuple(r[d] for d in DIMS)] += r["numEvents"]
    assert {tuple(r[d] for d in DIMS): r["numEvents"] for r in after["events", "2026-03-12"]} == dict(totals)


def test_added_metadata_field_is_in_the_schema_and_moves_lastupdated() -> None:
    ds = Dataset(seed=1, scale="tiny", now_ms=NOW)
    ds.advance(5 * 60_000)
    ds.add_metadata_field("visitor", "nps_segment", "string")
    ds.add_metadata_field("account", "health", "float")
    assert ds.metadata_schema("visitor")["custom"]["nps_segment"]["Type"] == "string"
    assert ds.metadata_schema("account")["custom"]["health"]["Type"] == "float"
    for v in ds.truth("visitors", include_anonymous=False):
        assert isinstance(v["metadata"]["custom"]["nps_segment"], str)
        assert v["metadata"]["auto"]["lastupdated"] == ds.now_ms
    for v in ds.truth("visitors"):
        if v["visitorId"].startswith("_PENDO_T_"):
            assert set(v["metadata"]) == {"auto"} and v["metadata"]["auto"]["lastupdated"] < ds.now_ms
    assert all(isinstance(a["metadata"]["custom"]["health"], float) for a in ds.truth("accounts"))
    with pytest.raises(ValueError):
        ds.add_metadata_field("visitor", "role", "string")


# --- people and their metadata -----------------------------------------------------------------------

@pytest.mark.parametrize("scale", ["tiny", "small"])
def test_many_visitors_share_one_lastupdated(scale: str) -> None:
    visitors = Dataset(seed=1, scale=scale, now_ms=NOW).truth("visitors", include_anonymous=False)
    _, ties = Counter(v["metadata"]["auto"]["lastupdated"] for v in visitors).most_common(1)[0]
    assert ties >= max(15, 0.2 * len(visitors))


def test_ids_with_quotes_backslashes_spaces_and_non_ascii_exist_and_are_active(small: Dataset) -> None:
    visitor_ids = {v["visitorId"] for v in small.truth("visitors")}
    account_ids = {a["accountId"] for a in small.truth("accounts")}
    for vid in ('vis "quoted" 7', "back\\slash", "über-ünïcödé", "日本-ユーザー", "first last (sales)"):
        assert vid in visitor_ids
    assert {'Acme "Quoted" Inc', "acct\\back slash", "Zürich Ünïcödé GmbH", "株式会社テスト"} <= account_ids
    active = {r["visitorId"] for r in small.truth("page_events", start_ms=NOW - 7 * DAY)}
    assert {'vis "quoted" 7', "back\\slash", "日本-ユーザー"} <= active


def test_metadata_has_every_pendo_type(small: Dataset) -> None:
    for kind in ("visitor", "account"):
        schema = small.metadata_schema(kind)
        assert set(schema) == {"auto", "agent", "custom", "pendo"}
        assert {f["Type"] for f in schema["custom"].values()} == {"string", "integer", "float", "boolean",
                                                                 "time", "list"}
        for group in schema.values():
            for descriptor in group.values():
                assert {"Type", "DisplayName", "ElementType", "ElementFormat", "Dirty", "isHidden", "isDeleted",
                        "isCalculated", "isPerApp", "neverIndex"} <= set(descriptor)
    v = small.visitor('vis "quoted" 7')
    assert v is not None and v["id"] == 'vis "quoted" 7'
    assert set(v["metadata"]["custom"]) == set(small.metadata_schema("visitor")["custom"])
    assert v["metadata"]["auto"]["accountid"] in v["metadata"]["auto"]["accountids"]
    assert small.account('Acme "Quoted" Inc')["metadata"]["auto"]["id"] == 'Acme "Quoted" Inc'


def test_anonymous_and_donotprocess_visitors(small: Dataset) -> None:
    visitors = small.truth("visitors")
    anonymous = [v for v in visitors if v["visitorId"].startswith("_PENDO_T_")]
    assert anonymous and all(set(v["metadata"]) == {"auto"} for v in anonymous)
    blocked = {v["visitorId"] for v in visitors if not v["visitorId"].startswith("_PENDO_T_")
               and v["metadata"]["pendo"]["donotprocess"]}
    assert 0 < len(blocked) < 0.1 * len(visitors)
    active = {r["visitorId"] for r in small.truth("events")}
    assert not blocked & active
    assert any(v.startswith("_PENDO_T_") for v in active)
    identified = {r["visitorId"] for r in small.truth("events", include_anonymous=False)}
    assert identified and not any(v.startswith("_PENDO_T_") for v in identified)


def test_activity_only_from_people_that_exist(small: Dataset) -> None:
    first_seen = {v["visitorId"]: v["metadata"]["auto"]["firstvisit"] for v in small.truth("visitors")}
    accounts = {a["accountId"] for a in small.truth("accounts")}
    for r in small.truth("page_events", period="hour"):
        assert first_seen[r["visitorId"]] < r["hour"]
        assert r["accountId"] in accounts or (r["accountId"] == "" and r["visitorId"].startswith("_PENDO_T_"))


# --- entities and single events ---------------------------------------------------------------------

def test_entities_have_full_shapes_and_cover_every_app(small: Dataset) -> None:
    assert small.default_app_id == -323232 and len(small.app_ids) >= 2
    assert all(a > 0 for a in small.app_ids if a != -323232)
    pages = small.entities("page")
    assert {p["appId"] for p in pages} == set(small.app_ids)
    assert all(p["rules"][0]["rule"].startswith("//*") and isinstance(p["createdAt"], int) for p in pages)
    page_ids = {p["id"] for p in pages}
    assert all(f["pageId"] in page_ids and f["elementPathRules"] for f in small.entities("feature"))
    assert all(t["trackTypeName"] for t in small.entities("tracktype"))
    assert all("appId" not in r for r in small.entities("report"))
    guides = small.entities("guide")
    polls = [p for g in guides for p in g["polls"]]
    nps = [p for p in polls if p["attributes"]["type"] == "NPSRating"]  # Pendo's NPS type (dbt_pendo seeds)
    assert len(nps) == 1 and nps[0]["numericResponses"] == list(range(11))
    assert {"NumberScale", "FreeForm", "MultipleChoice", "PositiveNegative"} <= {p["attributes"]["type"] for p in polls}
    for g in guides:
        assert [s["rank"] for s in g["steps"]] == list(range(1, len(g["steps"]) + 1))
        assert all(s["guideId"] == g["id"] for s in g["steps"])
    small.entities("page")[0]["name"] = "mutated"
    assert small.entities("page")[0]["name"] != "mutated"  # callers get copies
    assert list(small.object_rows("pages")) == pages
    assert list(small.object_rows("apps")) == [{"id": a, "name": n} for a, n in
                                               ((a["id"], a["name"]) for a in small.catalog.apps)]


def test_guide_events_follow_plausible_funnels(small: Dataset) -> None:
    events = small.truth("guide_events")
    assert {"guideSeen", "guideAdvanced", "guideDismissed"} <= {e["type"] for e in events}
    seen = {(e["visitorId"], e["guideStepId"]) for e in events if e["type"] == "guideSeen"}
    control = {(e["visitorId"], e["guideId"]) for e in events if e["type"] == "guideNotSeen"}
    assert control, "one guide holds back a control group"
    for e in events:
        assert e["guideTimestamp"] == e["browserTime"]
        if e["type"] == "guideNotSeen":
            continue
        assert (e["visitorId"], e["guideStepId"]) in seen
        assert (e["visitorId"], e["guideId"]) not in control, "a control visitor never sees the guide"
    polls = small.truth("poll_events")
    nps = [p["pollResponse"] for p in polls if p["pollType"] == "NPSRating"]
    assert nps and all(isinstance(x, int) and 0 <= x <= 10 for x in nps)
    assert {p["pollType"] for p in polls} > {"NPSRating", "FreeForm", "MultipleChoice"}
    assert any(isinstance(p["pollResponse"], str) and p["pollType"] == "FreeForm" for p in polls)
    assert all(p["type"] == "pollResponse" for p in polls)


def test_visitor_history_lists_a_day_of_activity(small: Dataset) -> None:
    start = small.clock.day_start("2026-03-16")
    vid = next(r["visitorId"] for r in rows(small, "pageEvents", "2026-03-16"))
    items = small.visitor_history(vid, start)
    assert items and all(start <= i["ts"] < start + DAY for i in items)
    assert [i["ts"] for i in items] == sorted(i["ts"] for i in items)
    assert {"view"} <= {i["type"] for i in items}
    assert small.visitor_history("nobody", start) == []


# --- truth and sizes --------------------------------------------------------------------------------

def test_truth_equals_event_rows_for_the_same_range(small: Dataset) -> None:
    start, end = small.clock.day_start("2026-03-14"), small.clock.day_start("2026-03-16")
    apps = [small.default_app_id]
    for table, source in (("page_events", "pageEvents"), ("events", "events"), ("poll_events", "pollEvents")):
        assert small.truth(table, start_ms=start, end_ms=end, app_ids=apps) == list(
            small.event_rows(source, "day", start, end, apps))
    default = small.truth("track_events", period="hour")
    assert default == list(small.event_rows("trackEvents", "hour", small.history_start_ms(), NOW, small.app_ids))
    assert min(r["hour"] for r in default) >= small.history_start_ms()
    assert small.history_start_ms() == small.clock.day_start("2026-02-18")


@pytest.mark.parametrize(("scale", "low", "high", "visitors"), [("tiny", 20, 60, 40), ("small", 500, 1000, 400)])
def test_scale_sizes(scale: str, low: int, high: int, visitors: int) -> None:
    ds = Dataset(seed=1, scale=scale, now_ms=NOW)
    full_days = list(ds.clock.days(ds.history_start_ms(), ds.clock.floor_day(NOW)))
    per_day = [len(rows(ds, "pageEvents", d)) for d in full_days]
    assert low <= sum(per_day) / len(per_day) <= high
    assert 0.5 * low <= min(per_day) and max(per_day) <= 1.5 * high
    identified = ds.truth("visitors", include_anonymous=False)
    assert 0.8 * visitors <= len(identified) <= visitors
    assert scale in SCALES


def test_bad_arguments_raise_value_error() -> None:
    with pytest.raises(ValueError):
        Dataset(scale="huge")
    with pytest.raises(ValueError):
        Dataset(tz="Mars/Olympus")
    ds = Dataset(seed=1, scale="tiny", now_ms=NOW)
    for call in (lambda: ds.entities("widget"), lambda: list(ds.event_rows("clicks", "day", 0, 1, [])),
                 lambda: ds.truth("nope"), lambda: ds.retag("2026-03-01", "guideEvents"),
                 lambda: ds.add_metadata_field("visitor", "x", "date"), lambda: ds.advance(-1)):
        with pytest.raises(ValueError):
            call()


def test_the_guide_heavy_scale_shows_guides_ten_times_as_often_as_large() -> None:
    """One weekday of guide_heavy: about 90k event rows, ~14% of them guide events (large: ~2%), and deterministic."""
    day_ms = 86_400_000

    def one_day(scale: str) -> dict[str, int]:
        ds = Dataset(seed=1, scale=scale, now_ms=NOW, history_days=2)
        start = ds.clock.day_start(ds.clock.day_of(NOW - day_ms))
        return {s: sum(1 for _ in ds.event_rows(s, "day", start, start + day_ms, ds.app_ids))
                for s in ("pageEvents", "guideEvents", "pollEvents")}

    heavy = one_day("guide_heavy")
    assert 35_000 <= heavy["pageEvents"] <= 55_000
    assert 10_000 <= heavy["guideEvents"] <= 16_000 and heavy["pollEvents"] > 2_000
    assert heavy == one_day("guide_heavy")
