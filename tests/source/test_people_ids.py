"""The id scan's bodies: select-only, keyed on the id alone, ids escaped, anonymous visitors left out on request."""

from __future__ import annotations

import pytest

from pipelines.deletions import DeletionRefused, check_trustworthy
from sources.pendo.people_ids import id_page_body, ids_of, next_after


def test_first_page_lists_identified_visitor_ids_only() -> None:
    pipeline = id_page_body("visitors", "visitorId", None, 1000, identified_only=True)["request"]["pipeline"]
    assert pipeline == [{"source": {"visitors": None}}, {"identified": "visitorId"}, {"sort": ["visitorId"]},
                        {"limit": 1000}, {"select": {"visitorId": "visitorId"}}]


def test_next_pages_start_after_the_last_id_escaped() -> None:
    body = id_page_body("accounts", "accountId", 'Acme "Q" \\ Inc', 10, identified_only=False)
    pipeline = body["request"]["pipeline"]
    assert {"filter": 'accountId > "Acme \\"Q\\" \\\\ Inc"'} in pipeline
    assert {"identified": "accountId"} not in pipeline


def test_a_short_page_is_the_last() -> None:
    assert next_after(["a", "b"], 3) is None
    assert next_after(["a", "b", "c"], 3) == "c"
    with pytest.raises(ValueError):
        id_page_body("visitors", "visitorId", None, 0, identified_only=True)


def test_a_row_without_an_id_is_a_malformed_answer() -> None:
    assert ids_of([{"visitorId": 7}, {"visitorId": "x"}], "visitorId") == ["7", "x"]
    with pytest.raises(ValueError):
        ids_of([{"other": 1}], "visitorId")


@pytest.mark.parametrize(("listed", "held", "missing", "words"), [
    (0, 10, 10, "listed no visitors"), (4, 10, 6, "more than half")])
def test_an_untrustworthy_id_list_is_refused(listed: int, held: int, missing: int, words: str) -> None:
    with pytest.raises(DeletionRefused, match=words):
        check_trustworthy("visitors", listed, held, missing)
    check_trustworthy("visitors", 6, 10, 4)
    check_trustworthy("visitors", 0, 0, 0)
