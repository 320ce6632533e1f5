"""Pendo's own scores and the all-apps rows: PES, Looker frequency classes, guide control-group lift, DAU across
apps (a visitor of two apps counts once), checked against the simulator's ground truth."""

from __future__ import annotations

import pytest

from tests.models import truth as T
from tests.models import truth_scores as P
from tests.models.conftest import Built


def approx(value: float | None) -> object:
    return None if value is None else pytest.approx(value, rel=1e-9, abs=1e-12)


def test_all_apps_active_users_count_each_visitor_once(built: Built, truth: T.Truth) -> None:
    rows = built.rows("active_users")
    all_apps = {r["date_day"]: (r["dau"], r["wau"], r["mau"]) for r in rows if r["is_all_apps"]}
    assert all_apps == P.all_apps_active_users(truth)
    assert {r["app_name"] for r in rows if r["is_all_apps"]} == {"All apps"}
    per_app_sum = {}
    for r in rows:
        if not r["is_all_apps"]:
            per_app_sum[r["date_day"]] = per_app_sum.get(r["date_day"], 0) + r["dau"]
    assert any(all_apps[d][0] < n for d, n in per_app_sum.items()), "a two-app visitor is counted once"


def test_visitor_frequency(built: Built, truth: T.Truth) -> None:
    rows = built.rows("visitor_frequency")
    got = {(r["visitor_id"], r["month_start"]): (r["active_days"], r["frequency_class"], r["month_is_complete"])
           for r in rows}
    assert len(got) == len(rows)
    assert got == P.visitor_frequency(truth)


def test_product_engagement_score(built: Built, truth: T.Truth) -> None:
    rows = {r["app_scope"]: r for r in built.rows("product_engagement_score")}
    expected = P.product_engagement_score(truth)
    assert set(rows) == set(expected) and "all" in rows
    for scope, e in expected.items():
        r = rows[scope]
        for key, value in e.items():
            assert r[key] == (approx(value) if isinstance(value, float) else value), (scope, key)
    assert all(r["as_of_date"] == truth.last_complete_day for r in rows.values()), "PES ends at a complete day"


def test_guide_lift(built: Built, truth: T.Truth) -> None:
    rows = {r["guide_id"]: r for r in built.rows("guide_lift")}
    expected = P.guide_lift(truth)
    assert rows and set(rows) == set(expected)
    for guide, e in expected.items():
        r = rows[guide]
        assert {k: r[k] for k in e} == e, guide
        if e["treatment_visitors"] and e["control_visitors"]:
            lift = e["treatment_converted"] / e["treatment_visitors"] - e["control_converted"] / e["control_visitors"]
            assert r["absolute_lift"] == approx(lift)
