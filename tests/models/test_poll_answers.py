"""Poll answers of every type survive typed: free text, choice ids with their labels, numeric scores; the NPS
marts read NPSRating polls (Pendo's NPS type) and pair each score with its free-text follow-up."""

from __future__ import annotations

import pytest

from tests.models import truth as T
from tests.models import truth_summaries as S
from tests.models.conftest import Built


def test_poll_events_are_typed_from_the_schema_not_the_first_row(built: Built) -> None:
    schema = built.result.dataset
    columns = {r["column_name"]: r["data_type"].lower() for r in built.query(
        "select column_name, data_type from information_schema.columns "
        f"where table_schema = '{schema}' and table_name in ('poll_events', 'guide_events')")}
    assert not [c for c in columns if "__v_" in c], "nothing lands in variant columns"
    assert columns["poll_response"] in ("varchar", "text", "character varying")
    assert columns["poll_response_score"] in ("double", "double precision")


def test_poll_responses_keep_text_choices_and_scores(built: Built, truth: T.Truth) -> None:
    rows = built.rows("poll_responses")
    expected = S.poll_answers(truth)
    got = {(r["visitor_id"], r["poll_id"], r["responded_at"]): r for r in rows}
    assert len(got) == len(rows) == len(expected)
    for (visitor, poll, ms), e in expected.items():
        r = got[(visitor, poll, truth.local(ms))]
        assert {k: r[k] for k in e} == e, (visitor, poll, ms)
    kinds = {e["poll_type"] for e in expected.values()}
    assert {"NPSRating", "FreeForm", "MultipleChoice", "NumberScale", "PositiveNegative"} <= kinds
    assert any(r["poll_type"] == "FreeForm" and r["poll_response"] and not r["poll_response"].isdigit()
               for r in rows), "free text is kept"
    assert any(r["poll_type"] == "MultipleChoice" and r["choice_label"] for r in rows), "choices have labels"


def test_nps_latest_visitor(built: Built, truth: T.Truth) -> None:
    rows = {r["visitor_id"]: r for r in built.rows("nps_latest_visitor")}
    expected = S.nps_latest_visitor(truth)
    assert rows and set(rows) == set(expected)
    for visitor, e in expected.items():
        assert {k: rows[visitor][k] for k in e} == e, visitor
    assert any(e["follow_up_text"] for e in expected.values()), "scores come with their free-text reason"


def test_nps_latest_account(built: Built, truth: T.Truth) -> None:
    rows = {r["account_id"]: r for r in built.rows("nps_latest_account")}
    expected = S.nps_latest_account(truth)
    assert rows and set(rows) == set(expected)
    for account, e in expected.items():
        r = rows[account]
        assert (r["responding_visitors"], r["promoters"], r["passives"], r["detractors"]) == (
            e["responding_visitors"], e["promoter"], e["passive"], e["detractor"]), account
        assert r["nps"] == pytest.approx(e["nps"]), account
