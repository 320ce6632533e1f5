"""Single events as Arrow pages hold what the dict path's rows held, value for value, or keep the dict path.

The dict path is ``bucket_rows.shape_single_events`` followed by ``event_columns.typed_events``'s row shaper
(text answers, the poll score); an Arrow page must give every row the same values in the same columns, plus a
unique ``_dlt_id``. A page Arrow would store differently (nested values, mixed types...) must come back as the
dict path's rows, unchanged. (The bucket column in odd zones: tests/source/test_event_extraction.py.)
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from sources.pendo import event_columns
from sources.pendo.bucket_rows import shape_single_events
from sources.pendo.event_columns import COLUMN_TYPES
from sources.pendo.single_event_table import DLT_ID, single_event_page, with_load_id

MS = 1_773_806_400_000  # 2026-03-18T04:00Z
POLL = {"accountId": "a", "appId": 1, "guideId": "g", "guideStepId": "s", "pollId": "p", "pollType": "NPSRating",
        "type": "pollResponse", "visitorId": "v", "remoteIp": "1.2.3.4", "url": "https://x"}


def dict_rows(rows: list[dict], table: str, period: str = "day", tz: str = "UTC",
              monkeypatch: pytest.MonkeyPatch | None = None) -> list[dict]:
    """What the dict path handed dlt: shaped rows through the table's typing map."""
    if monkeypatch is not None:  # the once-per-run check reads the pipeline's schema; there is none here
        monkeypatch.setattr(event_columns, "refuse_conflicting_columns", lambda table, types: None)
    shaper = event_columns._row_shaper(table, COLUMN_TYPES[table])
    return [shaper(row) for row in shape_single_events([dict(r) for r in rows], period, tz)]


def arrow_rows(table: pa.Table) -> list[dict]:
    """The table's rows without its null cells (a dict row has no key where the Arrow row has a null)."""
    return [{k: v for k, v in row.items() if v is not None and k != DLT_ID} for row in table.to_pylist()]


def test_poll_answers_of_every_type_keep_their_text_and_score(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [7, 0, 2.5, 10.0, "2", "Great product", True, False, None, ["a", 1], {"someKey": 1, "day": MS}, -3]
    rows = [POLL | {"browserTime": MS + i, "guideTimestamp": MS + i, "pollResponse": a, "loadTime": 100 + i}
            for i, a in enumerate(answers)]
    rows[3]["latitude"] = 12  # an integer in a declared double column
    table = single_event_page(rows, "day", "America/New_York", COLUMN_TYPES["poll_events"])
    assert isinstance(table, pa.Table)
    assert arrow_rows(table) == [{k: v for k, v in r.items() if v is not None}
                                 for r in dict_rows(rows, "poll_events", "day", "America/New_York", monkeypatch)]
    assert table.column("poll_response").to_pylist()[:8] == ["7", "0", "2.5", "10", "2", "Great product", "true",
                                                              "false"]
    assert table.column("poll_response_score").to_pylist()[:6] == [7.0, 0.0, 2.5, 10.0, None, None]
    assert table.schema.field("latitude").type == pa.float64()
    assert table.column(DLT_ID).null_count == 0
    assert len(set(table.column(DLT_ID).to_pylist())) == len(rows)


def test_guide_events_with_every_declared_column_type(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"accountId": 42, "appId": 3, "browserTime": MS + i, "guideId": "g", "guideStepId": "s", "eventId": "e",
             "destinationStepId": None, "guideSeenReason": "auto", "loadTime": 500, "type": "guideSeen",
             "visitorId": "v" if i else 7, "longitude": 1.5, "tabId": "t1", "extraFlag": i % 2 == 0}
            for i in range(5)]
    table = single_event_page(rows, "hour", "Asia/Kolkata", COLUMN_TYPES["guide_events"])
    assert isinstance(table, pa.Table)
    assert arrow_rows(table) == [{k: v for k, v in r.items() if v is not None}
                                 for r in dict_rows(rows, "guide_events", "hour", "Asia/Kolkata", monkeypatch)]
    types = {f.name: f.type for f in table.schema}
    assert (types["account_id"], types["visitor_id"], types["app_id"]) == (pa.string(), pa.string(), pa.int64())
    assert types["destination_step_id"] == pa.string()  # declared: a null column of its type, as dlt creates it
    assert (types["tab_id"], types["extra_flag"]) == (pa.string(), pa.bool_())
    assert not table.schema.field("hour").nullable and not table.schema.field(DLT_ID).nullable


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("custom", {"nestedKey": 1}),  # dlt flattens it into custom__nested_key
        ("accountIds", ["a", "b"]),  # dlt makes a child table
        ("mixed", "text"),  # the other rows have a number: dlt makes a variant column
        ("seenAt", "2026-03-18T04:00:00Z"),  # dlt detects an ISO timestamp in text
        ("appId", True),  # a boolean in a declared bigint column
        ("guide_id", "g2"),  # a second key for the guide_id column
        ("_dlt_id", "mine"),  # a column dlt owns
        ("day", 1),  # the bucket column
        ("browserTime", 1773806400000.5),  # not whole milliseconds
        ("huge", 2**64),  # beyond int64
    ],
)
def test_a_page_arrow_would_store_differently_keeps_the_dict_path(field: str, value: object) -> None:
    rows = [POLL | {"browserTime": MS, "mixed": 1}, POLL | {"browserTime": MS + 1, field: value}]
    page = single_event_page(rows, "day", "UTC", COLUMN_TYPES["poll_events"])
    assert page == shape_single_events([dict(r) for r in rows], "day", "UTC")


def test_the_load_id_comes_before_the_row_id_as_dlt_places_it() -> None:
    table = single_event_page([POLL | {"browserTime": MS}], "day", "UTC", COLUMN_TYPES["poll_events"])
    loaded = with_load_id(table, "1773806400.123")
    assert loaded.column_names[-2:] == ["_dlt_load_id", DLT_ID]
    assert loaded.column("_dlt_load_id").to_pylist() == ["1773806400.123"]
    assert with_load_id([{"day": MS}], "x") == [{"day": MS}]  # dict rows get theirs from dlt
