"""Single-event rows are typed from Pendo's schema: poll answers always text, a score only where Pendo sent a number."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sources.pendo.event_columns import COLUMN_TYPES, as_text, score_of


@pytest.mark.parametrize(("raw", "text", "score"), [
    (7, "7", 7.0),
    (0, "0", 0.0),
    (7.0, "7", 7.0),
    (2.5, "2.5", 2.5),
    (Decimal("9"), "9", 9.0),
    ("2", "2", None),  # a choice id: Pendo sends it as a string
    ("Too slow", "Too slow", None),
    ("", "", None),
    (True, "true", None),
    (["0", "2"], '["0","2"]', None),  # several choices
    ({"a": "ü"}, '{"a":"ü"}', None),
    (float("nan"), "nan", None),
])
def test_answers_become_text_with_a_score_for_numbers(raw: object, text: str, score: float | None) -> None:
    assert (raw if isinstance(raw, str) else as_text(raw)) == text
    assert score_of(raw) == score


def test_poll_columns_are_declared() -> None:
    assert COLUMN_TYPES["poll_events"]["poll_response"] == "text"
    assert COLUMN_TYPES["poll_events"]["poll_response_score"] == "double"
    assert not {"poll_response", "poll_response_score"} & set(COLUMN_TYPES["guide_events"])
