"""Every mart, built by dbt on DuckDB and on Postgres, equals the same numbers computed in Python from the
simulator's ground truth (tests/models/truth.py)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from pipelines.models import MARTS
from tests.models import truth as T
from tests.models import truth_summaries as S
from tests.models.conftest import Built


def approx(value: float | None) -> object:
    return None if value is None else pytest.approx(value, rel=1e-9, abs=1e-12)


def test_build_ran_every_model_and_a_test_on_each(built: Built) -> None:
    result = built.result
    models = {n.name: n.status for n in result.models}
    assert set(MARTS) <= set(models), "every mart was built"
    assert set(models.values()) == {"success"}
    assert result.tests and {t.status for t in result.tests} <= {"pass"}
    manifest = json.loads((result.work_dir / "target" / "manifest.json").read_text())
    tested = {dep for node in manifest["nodes"].values() if node["resource_type"] == "test"
              for dep in node["depends_on"]["nodes"]}
    untested = [uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"
                and uid not in tested]
    assert not untested, f"models without a dbt test: {untested}"
    kinds = {node["test_metadata"]["name"] for node in manifest["nodes"].values()
             if node["resource_type"] == "test" and node.get("test_metadata")}
    assert {"unique", "not_null", "relationships", "accepted_values"} <= kinds


def test_staging_holds_each_rollup_once_in_local_time(built: Built, truth: T.Truth) -> None:
    warehouse = Counter((r["visitor_id"], r["activity_date"], r["first_event_at"], r["last_event_at"],
                         r["num_events"], r["account_id"]) for r in built.rows("stg_pendo__events"))
    expected = Counter((r["visitorId"], truth.day(r["day"]), truth.local(r["firstTime"]),
                        truth.local(r["lastTime"]), r["numEvents"], T.account_of(r)) for r in truth.events)
    assert warehouse == expected
    day_starts = {r["bucket_started_at"] for r in built.rows("stg_pendo__events")}
    assert {(d.hour, d.minute) for d in day_starts} == {(0, 0)}, "day buckets start at local midnight"


def test_daily_activity_visitor(built: Built, truth: T.Truth) -> None:
    rows = built.rows("daily_activity_visitor")
    warehouse = {(r["visitor_id"], r["date_day"]): (r["num_events"], r["num_minutes"], r["active_apps"],
                                                    r["is_active"]) for r in rows}
    assert len(warehouse) == len(rows)
    expected = T.daily_activity_visitor(truth)
    assert any(not active for *_, active in expected.values()), "the calendar zero-fills idle days"
    assert warehouse == expected
    used = S.visitor_day_usage(truth)
    assert {(r["visitor_id"], r["date_day"]): (r["pages_viewed"], r["features_clicked"]) for r in rows} == {
        k: used.get(k, (0, 0)) for k in expected}
    assert {r["day_status"] for r in rows} == {"partial", "unsettled", "settled"}


def test_daily_activity_account(built: Built, truth: T.Truth) -> None:
    rows = built.rows("daily_activity_account")
    warehouse = {(r["account_id"], r["date_day"]): (r["active_visitors"], r["num_events"], r["num_minutes"],
                                                    r["is_active"]) for r in rows}
    assert len(warehouse) == len(rows)
    assert warehouse == T.daily_activity_account(truth)


def test_active_users(built: Built, truth: T.Truth) -> None:
    rows = [r for r in built.rows("active_users") if not r["is_all_apps"]]
    expected = T.active_users(truth)
    assert {(r["app_id"], r["date_day"]): (r["dau"], r["wau"], r["mau"]) for r in rows} == expected
    assert len(rows) == len(expected)
    first_day = truth.calendar[0]
    for r in rows:
        assert r["stickiness"] == approx(r["dau"] / r["mau"] if r["mau"] else None)
        assert r["mau_window_complete"] == ((r["date_day"] - first_day).days >= T.MAU_DAYS - 1)
    assert len({r["app_id"] for r in rows}) == 2, "per app"
    names = S.app_names(truth)
    assert {r["app_id"]: r["app_name"] for r in rows} == {app: names[app] for app in {r["app_id"] for r in rows}}
    assert {(r["date_day"], r["day_status"]) for r in rows} == {(d, truth.day_status(d)) for d in truth.calendar}


@pytest.mark.parametrize(("mart", "table", "id_column", "id_field"), [
    ("feature_adoption", "feature_events", "feature_id", "featureId"),
    ("page_usage", "page_events", "page_id", "pageId"),
])
def test_usage_per_day(built: Built, truth: T.Truth, mart: str, table: str, id_column: str, id_field: str) -> None:
    rows = built.rows(mart)
    warehouse = {(r[id_column], r["date_day"]): (r["visitors"], r["accounts"], r["num_events"], r["num_minutes"],
                                                 r["first_time_visitors"], r["returning_visitors"],
                                                 r["cumulative_visitors"]) for r in rows}
    assert len(warehouse) == len(rows)
    expected = T.usage(truth, getattr(truth, table), id_field)
    assert any(v[5] > 0 for v in expected.values()) and any(v[4] > 0 for v in expected.values())
    assert warehouse == expected
    shares = S.usage_shares(truth, getattr(truth, table), id_field)
    for r in rows:
        events_share, visitors_share = shares[(r[id_column], r["date_day"])]
        assert r["share_of_day_events"] == approx(events_share), (r[id_column], r["date_day"])
        assert r["share_of_day_visitors"] == approx(visitors_share), (r[id_column], r["date_day"])
    catalog = {e["id"]: e["name"] for e in (truth.features if id_column == "feature_id" else truth.pages)}
    name_column = "feature_name" if id_column == "feature_id" else "page_name"
    assert {r[id_column]: r[name_column] for r in rows} == {k: catalog[k] for k in {r[id_column] for r in rows}}


def test_guide_funnel(built: Built, truth: T.Truth) -> None:
    rows = built.rows("guide_funnel")
    expected = T.guide_funnel(truth)
    assert {(r["guide_id"], r["step_id"]) for r in rows} == set(expected)
    for r in rows:
        e = expected[(r["guide_id"], r["step_id"])]
        got = {"step_number": r["step_number"], "step_count": r["step_count"], "seen": r["seen_visitors"],
               "advanced": r["advanced_visitors"], "dismissed": r["dismissed_visitors"],
               "snoozed": r["snoozed_visitors"], "timed_out": r["timed_out_visitors"],
               "seen_events": r["seen_events"], "completed": r["completed_visitors"]}
        assert got == {k: e[k] for k in got}, r["step_id"]
        for rate in ("reach_rate", "advance_rate", "dismiss_rate", "completion_rate"):
            assert r[rate] == approx(e[rate]), (r["step_id"], rate)
    assert sum(r["completed_visitors"] for r in rows) > 0


def test_nps(built: Built, truth: T.Truth) -> None:
    rows = built.rows("nps")
    expected = T.nps(truth)
    assert {"week", "month", "all"} == {k[0] for k in expected}
    warehouse = {(r["period_type"], r["poll_id"], r["period_start"]): r for r in rows}
    assert set(warehouse) == set(expected)
    for key, e in expected.items():
        r = warehouse[key]
        got = {k: r[k] for k in ("period_end", "responses", "promoters", "passives", "detractors", "total_answers")}
        assert got == {k: e[k] for k in got}, key
        assert r["nps"] == approx(e["nps"]), key
    assert any(e["total_answers"] > e["responses"] for e in expected.values()), "some visitor answered twice"


def test_retention(built: Built, truth: T.Truth) -> None:
    rows = built.rows("retention")
    warehouse = {(r["cohort_week"], r["week_number"]): (r["cohort_visitors"], r["active_visitors"]) for r in rows}
    expected = T.retention(truth)
    assert warehouse == expected
    for r in rows:
        assert r["retention_rate"] == approx(r["active_visitors"] / r["cohort_visitors"])
        if r["week_number"] == 0:
            assert r["retention_rate"] == 1.0


def test_account_health(built: Built, truth: T.Truth) -> None:
    rows = {r["account_id"]: r for r in built.rows("account_health")}
    expected = T.account_health(truth)
    assert set(rows) == set(expected)
    labels = set()
    for account, e in expected.items():
        r = rows[account]
        got = {k: r[k] for k in e if k != "custom"}
        assert got == {k: v for k, v in e.items() if k != "custom"}, account
        labels.add(r["activity_trend"])
        for name, value in e["custom"].items():
            column = f"metadata_custom_{name}"
            assert column in r, f"custom metadata column {column} is carried"
            if isinstance(value, bool | str):
                assert r[column] == value, (account, column)
            elif isinstance(value, int | float) and "date" in name:
                assert r[column] == truth.local(value), (account, column)  # local wall-clock time
            elif isinstance(value, int | float):
                assert float(r[column]) == pytest.approx(value), (account, column)
    assert len(labels) >= 2, f"the trend label varies across accounts: {labels}"

