"""Aggregation bodies: the envelope, event-window queries, and keyset pages for visitors/accounts.

Pendo has no native cursor or offset paging. For the object sources we page on the keyset
``(cursor, id)``: ``sort [cursor, id]`` + ``filter cursor > c || (cursor == c && id > "i")`` + ``limit``.
Sorting on the cursor alone loses or repeats rows when many share one ``lastupdated`` (common), and
``skip`` is unusable on big sets. A page shorter than the limit is the last one. Rows without a
cursor are read as cursor 0 (``if(isNull(c), 0, c)``), in the sort key and in the filter alike.
"""

from __future__ import annotations

import math
import random

import pendulum
import pytest

from sources.pendo.aggregation import (
    ALL_APPS,
    app_id_param,
    envelope,
    is_last_page,
    keyset_body,
    next_after,
    rollup_body,
    time_series,
)
from sources.pendo.windows import Window

CURSOR = "metadata.auto.lastupdated"
NY = "America/New_York"


# --- envelope and event windows -------------------------------------------------------------------
def test_envelope_shape() -> None:
    assert envelope([{"source": {"visitors": None}}], "req-1") == {
        "response": {"mimeType": "application/json"},
        "request": {"name": "req-1", "requestId": "req-1", "pipeline": [{"source": {"visitors": None}}]},
    }


def test_app_ids_default_to_every_app() -> None:
    assert app_id_param(None) == ALL_APPS == 'expandAppIds("*")'
    assert app_id_param([]) == 'expandAppIds("*")'
    assert app_id_param([-323232, 5]) == [-323232, 5]


def test_time_series_counts_local_buckets() -> None:
    dst_day = Window(pendulum.datetime(2026, 3, 8, tz=NY), pendulum.datetime(2026, 3, 9, tz=NY))
    assert time_series("hour", dst_day, NY) == {"period": "hourRange", "first": dst_day.start_ms, "count": 23}
    assert time_series("day", dst_day, NY) == {"period": "dayRange", "first": 1772946000000, "count": 1}


@pytest.mark.parametrize("source", ["pageEvents", "featureEvents", "trackEvents", "events", "guideEvents"])
def test_rollup_body_is_one_query_for_all_entities_of_the_window(source: str) -> None:
    week = Window(pendulum.datetime(2026, 6, 1, tz=NY), pendulum.datetime(2026, 6, 8, tz=NY))
    body = rollup_body(source, week, "day", NY, None)
    assert body["request"]["pipeline"] == [
        {
            "source": {
                source: {"appId": 'expandAppIds("*")'},
                "timeSeries": {"period": "dayRange", "first": week.start_ms, "count": 7},
            }
        }
    ]
    assert body["request"]["requestId"] == f"pendo-elt:{source}:{week}"
    assert rollup_body(source, week, "day", NY, [7], request_id="x")["request"]["pipeline"][0]["source"][
        source
    ] == {"appId": [7]}


# --- keyset page bodies ---------------------------------------------------------------------------
def test_first_page_body() -> None:
    body = keyset_body("visitors", None, CURSOR, "visitorId", None, None, 500, identified_only=True)
    assert body["request"]["pipeline"] == [
        {"source": {"visitors": None}},
        {"identified": "visitorId"},
        {"eval": {"_cursor": "if(isNull(metadata.auto.lastupdated), 0, metadata.auto.lastupdated)"}},
        {"sort": ["_cursor", "visitorId"]},
        {"limit": 500},
    ]


def test_next_page_body_carries_the_keyset_and_lower_bound() -> None:
    body = keyset_body(
        "accounts",
        {"appId": ALL_APPS},
        CURSOR,
        "accountId",
        1700000000000,
        (1700000000500, 'a "b"'),
        100,
        False,
    )
    pipeline = body["request"]["pipeline"]
    assert pipeline[0] == {"source": {"accounts": {"appId": 'expandAppIds("*")'}}}
    assert {"identified": "accountId"} not in pipeline
    assert pipeline[2] == {
        "filter": "_cursor >= 1700000000000 && "
        '(_cursor > 1700000000500 || (_cursor == 1700000000500 && accountId > "a \\"b\\""))'
    }
    assert pipeline[-2:] == [{"sort": ["_cursor", "accountId"]}, {"limit": 100}]


def test_page_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        keyset_body("visitors", None, CURSOR, "visitorId", None, None, 0, True)


def test_next_after_reads_the_last_row() -> None:
    assert next_after(
        {"visitorId": "v", "_cursor": 5, "metadata": {"auto": {"lastupdated": 9}}}, CURSOR, "visitorId"
    ) == (
        5,
        "v",
    )
    assert next_after({"visitorId": "v", "metadata": {"auto": {"lastupdated": 9}}}, CURSOR, "visitorId") == (
        9,
        "v",
    )
    assert next_after({"visitorId": "v", "metadata": {"auto": {}}}, CURSOR, "visitorId") == (0, "v")
    assert next_after({"visitorId": "v", "metadata": None}, CURSOR, "visitorId") == (0, "v")
    with pytest.raises(ValueError):
        next_after({"_cursor": 1}, CURSOR, "visitorId")


def test_a_short_page_is_the_last_one() -> None:
    assert is_last_page(99, 100) and is_last_page(0, 100)
    assert not is_last_page(100, 100)


# --- paging through a Pendo model (simulator expression engine for filter/eval) ----------------------
def run_pipeline(body: dict, dataset: list[dict]) -> list[dict]:
    """Apply the stages keyset_body emits, the way Pendo does, to in-memory rows."""
    expressions = pytest.importorskip("simulator.expressions")
    ctx = expressions.EvalContext(now_ms=0, tz="UTC")
    rows = list(dataset)
    for stage in body["request"]["pipeline"]:
        ((op, arg),) = stage.items()
        if op == "source":
            continue
        if op == "identified":
            rows = [r for r in rows if not str(r[arg]).startswith("_PENDO_T_")]
        elif op == "eval":
            compiled = {k: expressions.compile_expression(v) for k, v in arg.items()}
            rows = [{**r, **{k: e.evaluate(r, ctx) for k, e in compiled.items()}} for r in rows]
        elif op == "filter":
            expr = expressions.compile_expression(arg)
            rows = [r for r in rows if expressions.truthy(expr.evaluate(r, ctx))]
        elif op == "sort":
            rows.sort(key=lambda r: tuple(r[k] for k in arg))
        elif op == "limit":
            rows = rows[:arg]
        else:
            raise AssertionError(f"unexpected stage {op}")
    return rows


NASTY = ['q"uote', "back\\slash", "sp ace", "ünï日本", "tab\tnl\n", "🚀", "", "z", "Z", 'a\\"b']


def make_visitors(seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    rows: list[dict] = []
    tie = 1_700_000_000_000
    for i in range(180):  # one big tie on the cursor
        rows.append(
            {"visitorId": f"tie-{i:03d}-{NASTY[i % len(NASTY)]}", "metadata": {"auto": {"lastupdated": tie}}}
        )
    for nasty in NASTY:  # nasty ids on a second tie
        rows.append({"visitorId": nasty, "metadata": {"auto": {"lastupdated": tie + 1}}})
    for i in range(60):
        rows.append({"visitorId": f"v{i}", "metadata": {"auto": {"lastupdated": tie + rng.randrange(2, 50)}}})
    for i in range(7):  # never updated: no cursor at all
        rows.append({"visitorId": f"null-{i}", "metadata": {"auto": {"lastupdated": None}}})
        rows.append({"visitorId": f"nometa-{i}"})
    rows.append({"visitorId": "_PENDO_T_anon", "metadata": {"auto": {"lastupdated": tie}}})
    rng.shuffle(rows)
    return rows


def cursor_of(row: dict) -> int:
    return ((row.get("metadata") or {}).get("auto") or {}).get("lastupdated") or 0


def page_all(dataset: list[dict], page_size: int, lower_bound: int | None) -> tuple[list[str], int]:
    seen: list[str] = []
    after: tuple[int, str] | None = None
    requests = 0
    while True:
        body = keyset_body("visitors", None, CURSOR, "visitorId", lower_bound, after, page_size, True)
        page = run_pipeline(body, dataset)
        requests += 1
        seen += [r["visitorId"] for r in page]
        if is_last_page(len(page), page_size):
            return seen, requests
        after = next_after(page[-1], CURSOR, "visitorId")


@pytest.mark.parametrize("page_size", [1, 3, 10, 179, 180, 181, 1000])
def test_every_row_is_paged_exactly_once_despite_ties_and_nasty_ids(page_size: int) -> None:
    dataset = make_visitors()
    expected = sorted(
        ((cursor_of(r), r["visitorId"]) for r in dataset if not r["visitorId"].startswith("_PENDO_T_")),
    )
    seen, requests = page_all(dataset, page_size, lower_bound=None)
    assert seen == [i for _, i in expected]  # exactly once, in (cursor, id) order
    assert requests == math.floor(len(expected) / page_size) + 1


def test_rows_without_a_cursor_come_first_on_a_full_load_and_are_skipped_incrementally() -> None:
    dataset = make_visitors()
    full, _ = page_all(dataset, 25, lower_bound=0)
    assert {i for i in full[:14]} == {f"null-{i}" for i in range(7)} | {f"nometa-{i}" for i in range(7)}
    incremental, _ = page_all(dataset, 25, lower_bound=1_700_000_000_001)
    assert not any(i.startswith(("null-", "nometa-", "tie-")) for i in incremental)
    assert set(NASTY) <= set(incremental)


def test_a_row_updated_during_the_run_is_never_lost() -> None:
    dataset = make_visitors()
    page_size = 20
    after: tuple[int, str] | None = None
    seen: list[str] = []
    pages = 0
    while True:
        page = run_pipeline(
            keyset_body("visitors", None, CURSOR, "visitorId", None, after, page_size, True), dataset
        )
        seen += [r["visitorId"] for r in page]
        pages += 1
        if pages == 2:  # Pendo updates one row already read and one not yet read
            for row in dataset:
                if row["visitorId"] in (seen[0], "v59"):
                    row["metadata"] = {"auto": {"lastupdated": 1_800_000_000_000}}
        if is_last_page(len(page), page_size):
            break
        after = next_after(page[-1], CURSOR, "visitorId")
    expected = {r["visitorId"] for r in dataset if not r["visitorId"].startswith("_PENDO_T_")}
    assert set(seen) == expected
    assert seen.count("v59") == 1 and seen.count(seen[0]) == 2  # moved rows are re-read, never skipped
