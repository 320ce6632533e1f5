"""The marts analysts know from Fivetran's dbt_pendo (summaries, visitor x feature, guide daily metrics, paths)
equal the same numbers computed from the simulator's ground truth, on DuckDB and Postgres."""

from __future__ import annotations

import pytest

from tests.models import truth as T
from tests.models import truth_summaries as S
from tests.models.conftest import Built


def test_visitor_summary(built: Built, truth: T.Truth) -> None:
    rows = {r["visitor_id"]: r for r in built.rows("visitor_summary")}
    expected = S.visitor_summary(truth)
    assert set(rows) == set(expected)
    for visitor, e in expected.items():
        assert {k: rows[visitor][k] for k in e} == e, visitor
    assert {r["frequency_class_last_30d"] for r in rows.values()} >= {"weekly", "monthly"}


def test_account_summary(built: Built, truth: T.Truth) -> None:
    rows = {r["account_id"]: r for r in built.rows("account_summary")}
    expected = S.account_summary(truth)
    assert set(rows) == set(expected)
    for account, e in expected.items():
        got = {k: rows[account][k] for k in e}
        assert got == {**e, "account_nps": pytest.approx(e["account_nps"]) if e["account_nps"] is not None
                       else None}, account


@pytest.mark.parametrize(("mart", "table", "id_column", "id_field", "catalog"), [
    ("page_summary", "page_events", "page_id", "pageId", "pages"),
    ("feature_summary", "feature_events", "feature_id", "featureId", "features"),
])
def test_entity_summaries(built: Built, truth: T.Truth, mart: str, table: str, id_column: str, id_field: str,
                          catalog: str) -> None:
    rows = {r[id_column]: r for r in built.rows(mart)}
    expected = S.entity_summary(truth, getattr(truth, table), id_field, getattr(truth, catalog))
    assert set(rows) == set(expected)
    for key, e in expected.items():
        assert {k: rows[key][k] for k in e} == e, key
    names = S.app_names(truth)
    assert all(r["app_name"] == names[r["app_id"]] for r in rows.values())


def test_guide_summary(built: Built, truth: T.Truth) -> None:
    rows = {r["guide_id"]: r for r in built.rows("guide_summary")}
    expected = S.guide_summary(truth)
    assert set(rows) == set(expected)
    for guide, e in expected.items():
        assert {k: rows[guide][k] for k in e} == e, guide
    completed = {g: v["completed"] for (g, _), v in T.guide_funnel(truth).items()}
    assert {g: r["completed_visitors"] for g, r in rows.items() if g in completed} == completed
    assert sum(r["control_visitors"] for r in rows.values()) > 0, "a control group was loaded"


def test_guide_daily_metrics(built: Built, truth: T.Truth) -> None:
    rows = built.rows("guide_daily_metrics")
    got = {(r["guide_id"], r["date_day"]): (r["seen_visitors"], r["seen_events"], r["first_time_viewers"],
                                            r["returning_viewers"], r["advanced_visitors"], r["dismissed_visitors"])
           for r in rows}
    assert len(got) == len(rows)
    expected = S.guide_daily_metrics(truth)
    assert got == expected
    assert any(v[3] > 0 for v in expected.values()), "some viewers return"


def test_visitor_feature(built: Built, truth: T.Truth) -> None:
    rows = built.rows("visitor_feature")
    got = {(r["visitor_id"], r["feature_id"]): (r["first_clicked_date"], r["last_clicked_date"], r["active_days"],
                                                r["num_events"], r["num_minutes"]) for r in rows}
    assert len(got) == len(rows)
    assert got == S.visitor_feature(truth)


@pytest.mark.parametrize(("mart", "table", "id_column", "id_field"), [
    ("page_event_paths", "page_events", "page_id", "pageId"),
    ("feature_event_paths", "feature_events", "feature_id", "featureId"),
])
def test_event_paths_know_the_previous_page_or_feature(built: Built, truth: T.Truth, mart: str, table: str,
                                                       id_column: str, id_field: str) -> None:
    rows = built.rows(mart)
    assert len(rows) == len(T.identified(getattr(truth, table)))
    expected = S.previous_in_path(truth, getattr(truth, table), id_field)
    got = {(r["visitor_id"], r["first_event_at"], r[id_column]): r[f"previous_{id_column}"] for r in rows}
    checked = 0
    for (visitor, first_ms, thing), previous in expected.items():
        assert got[(visitor, truth.local(first_ms), thing)] == previous, (visitor, first_ms)
        checked += previous is not None
    assert checked > 10
