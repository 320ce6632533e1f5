"""The simulator rewrites its past as Pendo does: late data, tag-rule edits, deletions (over HTTP).

Each call must change exactly what it claims, in the API and in the ground truth alike, and nothing
else; with the same calls two simulators serve the same bytes.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

TZ = ZoneInfo("America/New_York")
ROLLUP_TABLES = {"page_events": "pageEvents", "feature_events": "featureEvents", "track_events": "trackEvents",
                 "events": "events"}
SINGLE_TABLES = {"guide_events": "guideEvents", "poll_events": "pollEvents"}
EVENT_TABLES = {**ROLLUP_TABLES, **SINGLE_TABLES}
ENTITY = {"page": ("page_events", "pageId"), "feature": ("feature_events", "featureId"),
          "tracktype": ("track_events", "trackTypeId")}


def _day_of(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, TZ).date().isoformat()


def _days_back(sim, n: int) -> str:
    return (datetime.fromtimestamp(sim.info()["now_ms"] / 1000, TZ).date() - timedelta(days=n)).isoformat()


def _by_day(rows: list[dict], at: str = "day") -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in rows:
        out.setdefault(_day_of(row[at]), []).append(row)
    return out


def _truth_by_day(sim, table: str) -> dict[str, list[dict]]:
    return _by_day(sim.truth(table), "browserTime" if table in SINGLE_TABLES else "day")


def _api_day(sim, source: str, day: str) -> list[dict]:
    """One local day of a source as the aggregation endpoint serves it (every app)."""
    first = int(datetime.fromisoformat(day).replace(tzinfo=TZ).timestamp() * 1000)
    response = sim.aggregate([{"source": {source: {"appId": 'expandAppIds("*")'},
                                          "timeSeries": {"period": "dayRange", "first": first, "count": 1}}}])
    response.raise_for_status()
    return response.json()["results"]


def _entity_totals(rows: list[dict], key: str) -> dict[tuple[str, str], int]:
    totals: Counter = Counter()
    for row in rows:
        totals[(_day_of(row["day"]), row[key])] += row["numEvents"]
    return dict(totals)


@pytest.mark.parametrize("days_back", [2, 9])
def test_late_data_lands_on_that_day_only_in_truth_and_api(make_sim, days_back: int) -> None:
    sim = make_sim()
    day = _days_back(sim, days_back)
    before = {t: _truth_by_day(sim, t) for t in EVENT_TABLES}
    answer = sim.late(day, visitors=20)
    assert answer["day"] == day
    assert all(answer["rows"][s] > 0 for s in EVENT_TABLES.values()), answer
    for table, source in EVENT_TABLES.items():
        after = _truth_by_day(sim, table)
        changed = {d for d in set(before[table]) | set(after) if before[table].get(d) != after.get(d)}
        assert changed == {day}, (table, changed)
        assert len(after[day]) >= len(before[table][day])
        if table in ROLLUP_TABLES:
            assert sum(r["numEvents"] for r in after[day]) > sum(r["numEvents"] for r in before[table][day])
            assert _api_day(sim, source, day) == after[day]  # the API serves exactly the new truth


def test_each_late_call_adds_a_batch_and_the_current_day_takes_one_too(make_sim) -> None:
    sim = make_sim()
    day, today = _days_back(sim, 5), _days_back(sim, 0)
    sums = [sum(r["numEvents"] for r in _truth_by_day(sim, "events")[day])]
    for _ in range(2):
        sim.late(day, visitors=5)
        sums.append(sum(r["numEvents"] for r in _truth_by_day(sim, "events")[day]))
    assert sums[0] < sums[1] < sums[2]
    before = sum(r["numEvents"] for r in _api_day(sim, "pageEvents", today))
    sim.late(today, visitors=10)
    after_rows = _api_day(sim, "pageEvents", today)
    assert sum(r["numEvents"] for r in after_rows) > before  # visible at once: the batch uses finished hours
    assert all(r["lastTime"] < sim.info()["cutoff_ms"] for r in after_rows)


@pytest.mark.parametrize("kind", ["page", "feature", "tracktype"])
def test_a_rule_edit_reprocesses_one_entitys_lifetime(make_sim, kind: str) -> None:
    sim = make_sim()
    table, key = ENTITY[kind]
    events_before, rows_before = sim.truth("events"), sim.truth(table)
    entities_before = {e["id"]: e for e in sim.api("GET", f"{kind}?expand=*").json()}
    info = sim.info()
    answer = sim.rule_edit(kind)
    edited, moved_to = answer["id"], answer["moved_to"]
    assert answer["kind"] == kind and answer["days_changed"]
    assert sim.truth("events") == events_before  # all activity, independent of tagging
    before, after = _entity_totals(rows_before, key), _entity_totals(sim.truth(table), key)
    for cell in set(before) | set(after):
        if cell[1] not in (edited, moved_to):
            assert before.get(cell) == after.get(cell), cell  # no other entity changes
    had = {d for d, e in before if e == edited}
    left = {d for d, e in after if e == edited}
    assert had - left, "at least one day that had rows for it is empty for it"
    assert left, "some of its rows stay"
    assert sum(after.get((d, edited), 0) for d in had) < sum(before[(d, edited)] for d in had)
    if moved_to is not None:
        assert sum(v for (_, e), v in after.items() if e == moved_to) > sum(
            v for (_, e), v in before.items() if e == moved_to)
    entities = {e["id"]: e for e in sim.api("GET", f"{kind}?expand=*").json()}
    assert entities[edited]["lastUpdatedAt"] == info["now_ms"]
    rules = {"page": "rules", "feature": "elementPathRules", "tracktype": "trackTypeRules"}[kind]
    assert entities[edited][rules] != entities_before[edited][rules]
    assert {i: e for i, e in entities.items() if i != edited} == {
        i: e for i, e in entities_before.items() if i != edited}


def test_a_rule_edit_on_a_named_page_changes_its_rules_and_today_follows_it(make_sim) -> None:
    sim = make_sim()
    pages = sim.api("GET", "page?expand=*").json()
    target = pages[1]
    answer = sim.rule_edit("page", id=target["id"])
    assert answer["id"] == target["id"]
    edited = next(p for p in sim.api("GET", "page?expand=*").json() if p["id"] == target["id"])
    assert edited["rules"] != target["rules"] and edited["lastUpdatedAt"] > target["lastUpdatedAt"]
    today = _days_back(sim, 0)
    before = sim.truth("page_events")
    sim.advance(hours=3)  # rows that arrive after the edit are tagged by the new rule too
    after = sim.truth("page_events")
    assert _by_day(after)[today] != _by_day(before)[today]
    assert _api_day(sim, "pageEvents", today) == _by_day(after)[today]


def test_deleting_a_visitor_removes_it_from_every_source_and_day(make_sim) -> None:
    sim = make_sim()
    counts = Counter(r["visitorId"] for r in sim.truth("events"))
    victim = max(counts, key=lambda v: (counts[v], v))  # the visitor with the most history
    assert {_day_of(r["day"]) for r in sim.truth("events") if r["visitorId"] == victim}.__len__() > 14
    others = {t: [r for r in sim.truth(t) if r["visitorId"] != victim] for t in EVENT_TABLES}
    assert sim.api("GET", f"visitor/{requests.utils.quote(victim, safe='')}").status_code == 200
    sim.delete_visitor(victim)
    for table in EVENT_TABLES:
        assert sim.truth(table) == others[table], table  # its rows gone, nobody else's
    assert victim not in {v["visitorId"] for v in sim.truth("visitors")}
    served = sim.aggregate([{"source": {"visitors": None}}]).json()["results"]
    assert victim not in {v["visitorId"] for v in served}
    quoted = requests.utils.quote(victim, safe="")
    assert sim.api("GET", f"visitor/{quoted}").status_code == 404
    start = sim.info()["history_start_ms"] + 10 * 86_400_000
    assert sim.api("GET", f"visitor/{quoted}/history", params={"starttime": start}).status_code == 404
    for source in ("pageEvents", "guideEvents"):
        assert all(r["visitorId"] != victim for r in _api_day(sim, source, _days_back(sim, 3)))
    late = sim.late(_days_back(sim, 3), visitors=1000)  # late data never brings it back
    assert late["rows"]["events"] > 0
    assert all(r["visitorId"] != victim for r in sim.truth("events"))


def test_deleting_an_account_keeps_its_visitors_and_their_rows(make_sim) -> None:
    sim = make_sim()
    events = sim.truth("events")
    account = Counter(r["accountId"] for r in events if r["accountId"]).most_common(1)[0][0]
    visitors = sim.truth("visitors")
    sim.delete_account(account)
    assert account not in {a["accountId"] for a in sim.truth("accounts")}
    assert sim.api("GET", f"account/{requests.utils.quote(account, safe='')}").status_code == 404
    assert sim.truth("visitors") == visitors
    assert sim.truth("events") == events


def _answers(sim) -> list[bytes]:
    out = []
    for source, period, count in (("pageEvents", "hourRange", -24 * 8), ("featureEvents", "dayRange", -30),
                                  ("events", "dayRange", -30), ("guideEvents", "dayRange", -30),
                                  ("pollEvents", "dayRange", -30)):
        ts = {"period": period, "first": "now()", "count": count}
        out.append(sim.aggregate([{"source": {source: None, "timeSeries": ts}}]).content)
    return out + [sim.aggregate([{"source": {"visitors": None}}]).content, sim.api("GET", "feature").content]


def test_the_same_calls_give_the_same_bytes(make_sim) -> None:
    answers = []
    for sim in (make_sim(), make_sim()):
        sim.late(_days_back(sim, 4), visitors=7)
        edit = sim.rule_edit("feature")
        sim.delete_visitor(sim.truth("visitors", include_anonymous=False)[3]["visitorId"])
        answers.append((edit, _answers(sim)))
    assert answers[0] == answers[1]


def test_bad_rewrite_calls_get_one_clear_400(make_sim) -> None:
    sim = make_sim()
    for route, body in (("late", {"day": "1999-01-01"}), ("late", {}), ("rule-edit", {"kind": "guide"}),
                        ("rule-edit", {"kind": "page", "id": "nope"}),
                        ("delete-visitor", {"visitor_id": "nobody"}), ("delete-account", {"account_id": "none"})):
        response = requests.post(f"{sim.base_url}/_sim/{route}", json=body, timeout=30)
        assert response.status_code == 400, (route, body)
        assert response.text and "\n" not in response.text.strip()


def test_a_snapshot_taken_before_a_rewrite_keeps_answering_the_old_state() -> None:
    """The server answers from snapshots taken under its lock: a rewrite in between must not leak into them."""
    from simulator.data import Dataset

    ds = Dataset(scale="tiny", now_ms=int(datetime(2026, 3, 20, 15, 30, tzinfo=TZ).timestamp() * 1000))
    tables = ("page_events", "events", "guide_events", "visitors", "pages")
    before = {t: ds.truth(t) for t in tables}
    snapshot = ds.snapshot()
    ds.late(_day_of(ds.now_ms - 3 * 86_400_000), visitors=10)
    ds.rule_edit("page")
    ds.delete_visitor(before["visitors"][2]["visitorId"])
    assert {t: snapshot.truth(t) for t in tables} == before
    assert all(ds.truth(t) != before[t] for t in tables)
