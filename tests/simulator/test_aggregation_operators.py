"""The aggregation pipeline as the simulated Pendo runs it: envelope, sources, operators, limits.

Runs against a tiny in-memory DataProvider so each test shows exactly which rows go in.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

import pytest

from simulator.aggregation import AggregationResult, run_aggregation
from simulator.errors import AggregationError, ExpressionError, MemoryLimitExceeded
from simulator.expressions import EvalContext

DEFAULT_APP = -323232
OTHER_APP = 5001
NOW_MS = 1_773_072_000_000  # 2026-03-09T16:00:00Z
DAY_MS = 1_772_946_000_000  # 2026-03-08T05:00:00Z, New York midnight
NEXT_DAY_MS = 1_773_028_800_000  # 2026-03-09T04:00:00Z (the 8th is 23 hours long)
CTX = EvalContext(now_ms=NOW_MS, tz="America/New_York")


class FakeData:
    """In-memory DataProvider: object rows per source, event rows filtered like the real one."""

    def __init__(self, objects: dict[str, list[dict]] | None = None,
                 events: dict[str, list[dict]] | None = None) -> None:
        self.app_ids = [DEFAULT_APP, OTHER_APP]
        self.default_app_id = DEFAULT_APP
        self.objects = objects or {}
        self.events = events or {}
        self.event_calls: list[tuple] = []

    def object_rows(self, source: str) -> Iterable[dict]:
        return iter(self.objects.get(source, []))

    def event_rows(self, source: str, period: str, first_ms: int, end_ms: int,
                   app_ids: list[int]) -> Iterable[dict]:
        self.event_calls.append((source, period, first_ms, end_ms, list(app_ids)))
        time_field = "browserTime" if source in ("guideEvents", "pollEvents") else period
        return (r for r in self.events.get(source, [])
                if first_ms <= r[time_field] < end_ms and r["appId"] in app_ids)


class EndlessVisitors(FakeData):
    def object_rows(self, source: str) -> Iterator[dict]:
        return ({"visitorId": f"v{i:09d}", "n": i} for i in itertools.count())


VISITORS = {"source": {"visitors": None}}


def body(*pipeline: dict, **request) -> dict:
    return {"response": {"mimeType": "application/json"}, "request": {"pipeline": list(pipeline), **request}}


def run(data: FakeData, *pipeline: dict, max_rows: int | None = None) -> list[dict]:
    return list(run_aggregation(body(*pipeline), data, CTX, max_rows).rows)


def visitors(*ids: str, **extra) -> FakeData:
    return FakeData({"visitors": [{"visitorId": i, **extra} for i in ids]})


PAGES = [
    {"id": "p1", "appId": DEFAULT_APP, "name": "Home"},
    {"id": "p2", "appId": OTHER_APP, "name": "Admin"},
    {"id": "p3", "appId": 777, "name": "Gone"},
]
PAGE_EVENTS = [
    {"pageId": "p1", "appId": DEFAULT_APP, "day": DAY_MS, "visitorId": "a", "numEvents": 2},
    {"pageId": "p2", "appId": OTHER_APP, "day": DAY_MS, "visitorId": "b", "numEvents": 3},
    {"pageId": "p1", "appId": DEFAULT_APP, "day": NEXT_DAY_MS, "visitorId": "a", "numEvents": 5},
]
APPS = [{"id": DEFAULT_APP, "name": "Web"}, {"id": OTHER_APP, "name": "iOS"}]
ALL_APPS = 'expandAppIds("*")'


def yesterday(source: str, params: dict | None = None) -> dict:
    return {"source": {source: params, "timeSeries": {"period": "dayRange", "first": "now()", "count": -1}}}


# -- envelope ------------------------------------------------------------------------------------
def test_visitors_source_returns_every_visitor_row():
    assert run(visitors("a", "b"), VISITORS) == [{"visitorId": "a"}, {"visitorId": "b"}]


def test_unknown_envelope_keys_are_ignored():
    request = {"channelId": "", "response": {"location": "request"},
               "request": {"name": "x", "requestId": "x", "sort": ["visitorId"],
                           "pipeline": [VISITORS]}}
    assert list(run_aggregation(request, visitors("a"), CTX, None).rows) == [{"visitorId": "a"}]


def test_object_source_has_no_start_time():
    assert run_aggregation(body(VISITORS), visitors("a"), CTX, None).start_time is None


@pytest.mark.parametrize("request_body", [
    {}, {"request": {}}, {"request": {"pipeline": []}}, {"request": {"pipeline": "x"}}, [],
])
def test_missing_or_empty_pipeline_is_rejected(request_body):
    with pytest.raises(AggregationError, match="Invalid aggregation request"):
        run_aggregation(request_body, FakeData(), CTX, None)


def test_first_stage_must_be_a_source():
    with pytest.raises(AggregationError, match="first pipeline stage must be a source"):
        run(FakeData(), {"limit": 1})


def test_source_later_in_the_pipeline_is_rejected():
    with pytest.raises(AggregationError, match="only as the first stage"):
        run(FakeData(), VISITORS, VISITORS)


def test_stage_with_two_operators_is_rejected():
    with pytest.raises(AggregationError, match="one operator"):
        run(FakeData(), VISITORS, {"limit": 1, "skip": 1})


def test_unknown_operator_is_rejected():
    with pytest.raises(AggregationError, match="unknown pipeline operator: bulkExpand"):
        run(FakeData(), VISITORS, {"bulkExpand": {}})


def test_bad_expressions_fail_before_any_row_is_read():
    for stage in ({"filter": "a ="}, {"eval": {"x": "f("}}, {"select": {"x": "1 +"}},
                  {"group": {"group": ["a"], "fields": {"s": {"sum": "a +"}}}}, {"sort": ["a b"]}):
        with pytest.raises(ExpressionError):
            run_aggregation(body(VISITORS, stage), FakeData(), CTX, None)


# -- sources -------------------------------------------------------------------------------------
def test_unknown_source_is_rejected():
    with pytest.raises(AggregationError, match="unknown source: widgets"):
        run(FakeData(), {"source": {"widgets": None}})


def test_event_source_requires_a_time_series():
    with pytest.raises(AggregationError, match="timeSeries is required for source pageEvents"):
        run(FakeData(), {"source": {"pageEvents": None}})


def test_event_source_reads_the_resolved_buckets_and_reports_start_time():
    data = FakeData(events={"pageEvents": PAGE_EVENTS})
    result = run_aggregation(body(yesterday("pageEvents")), data, CTX, None)
    assert result.start_time == DAY_MS
    assert list(result.rows) == [PAGE_EVENTS[0]]
    assert data.event_calls == [("pageEvents", "day", DAY_MS, NEXT_DAY_MS, [DEFAULT_APP])]


def test_event_source_with_all_apps_passes_every_app_id():
    data = FakeData(events={"pageEvents": PAGE_EVENTS})
    assert run(data, yesterday("pageEvents", {"appId": ALL_APPS})) == PAGE_EVENTS[:2]
    assert data.event_calls[0][-1] == [DEFAULT_APP, OTHER_APP]


def test_object_source_without_app_id_returns_the_default_app_only():
    assert [r["id"] for r in run(FakeData({"pages": PAGES}), {"source": {"pages": None}})] == ["p1"]


@pytest.mark.parametrize(("app_id", "expected"), [
    (OTHER_APP, ["p2"]),
    ([DEFAULT_APP, OTHER_APP], ["p1", "p2"]),
    ([str(DEFAULT_APP), str(OTHER_APP)], ["p1", "p2"]),
    (ALL_APPS, ["p1", "p2"]),
    ([], ["p1"]),
])
def test_app_id_param_forms(app_id, expected):
    rows = run(FakeData({"pages": PAGES}), {"source": {"pages": {"appId": app_id}}})
    assert [r["id"] for r in rows] == expected


def test_invalid_app_id_is_rejected():
    with pytest.raises(AggregationError, match="invalid appId"):
        run(FakeData({"pages": PAGES}), {"source": {"pages": {"appId": "all"}}})


def test_visitors_and_accounts_are_not_filtered_by_app():
    data = FakeData({"accounts": [{"accountId": "acme"}]})
    assert run(data, {"source": {"accounts": {"appId": OTHER_APP}}}) == [{"accountId": "acme"}]


def test_identified_visitors_param_drops_anonymous_visitors():
    rows = run(visitors("a", "_PENDO_T_x1"), {"source": {"visitors": {"identified": True}}})
    assert rows == [{"visitorId": "a"}]


def test_entity_id_param_filters_event_rows():
    data = FakeData(events={"pageEvents": PAGE_EVENTS})
    rows = run(data, yesterday("pageEvents", {"appId": ALL_APPS, "pageId": "p2"}))
    assert rows == [PAGE_EVENTS[1]]


def test_unknown_source_params_are_ignored():
    assert run(visitors("a"), {"source": {"visitors": {"blacklist": "apply"}}}) == [{"visitorId": "a"}]


def test_object_source_ignores_a_time_series():
    source = {"source": {"visitors": None, "timeSeries": {"period": "dayRange", "first": 0, "count": 1}}}
    assert run(visitors("a"), source) == [{"visitorId": "a"}]


def test_guide_events_are_selected_by_browser_time():
    events = [{"guideId": "g", "appId": DEFAULT_APP, "browserTime": DAY_MS + 5, "type": "guideSeen"},
              {"guideId": "g", "appId": DEFAULT_APP, "browserTime": NEXT_DAY_MS, "type": "guideSeen"}]
    rows = run(FakeData(events={"guideEvents": events}), yesterday("guideEvents", {"guideId": "g"}))
    assert rows == events[:1]


# -- streaming operators -------------------------------------------------------------------------
def test_filter_keeps_rows_where_the_expression_is_truthy():
    rows = run(visitors("a", "b", "c"), VISITORS, {"filter": 'visitorId >= "b"'})
    assert [r["visitorId"] for r in rows] == ["b", "c"]


def test_streaming_stages_do_not_read_the_whole_source():
    rows = run(EndlessVisitors(), VISITORS, {"filter": "n % 2 == 0"},
               {"eval": {"half": "n / 2"}}, {"select": {"id": "visitorId", "half": "half"}},
               {"identified": "id"}, {"cat": None}, {"skip": 1}, {"limit": 2})
    assert rows == [{"id": "v000000002", "half": 1}, {"id": "v000000004", "half": 2}]


def test_eval_adds_fields_and_keeps_the_others_without_mutating_the_source():
    data = visitors("a", n=2)
    rows = run(data, VISITORS, {"eval": {"double": "n * 2", "n": "n + 1"}})
    assert rows == [{"visitorId": "a", "n": 3, "double": 4}]
    assert data.objects["visitors"][0] == {"visitorId": "a", "n": 2}


def test_select_outputs_only_the_named_fields():
    row = {"visitorId": "a", "metadata": {"auto": {"lastvisit": 9}}, "polls": [{"id": "q"}]}
    data = FakeData({"visitors": [row]})
    rows = run(data, VISITORS,
               {"select": {"id": "visitorId", "last": "metadata.auto.lastvisit", "poll": "polls[0].id",
                           "at": "now()", "missing": "metadata.agent.email"}})
    assert rows == [{"id": "a", "last": 9, "poll": "q", "at": NOW_MS, "missing": None}]


def test_limit_and_skip():
    data = visitors("a", "b", "c", "d")
    assert [r["visitorId"] for r in run(data, VISITORS, {"skip": 1}, {"limit": 2})] == ["b", "c"]
    assert run(data, VISITORS, {"limit": 0}) == []


@pytest.mark.parametrize("stage", [{"limit": -1}, {"limit": "10"}, {"skip": 1.5}, {"limit": True}])
def test_limit_and_skip_need_a_non_negative_integer(stage):
    with pytest.raises(AggregationError, match="non-negative integer"):
        run(visitors("a"), VISITORS, stage)


def test_identified_keeps_only_identified_ids():
    rows = run(visitors("a", "_PENDO_T_1", "b"), VISITORS, {"identified": "visitorId"})
    assert [r["visitorId"] for r in rows] == ["a", "b"]


def test_negated_identified_keeps_only_anonymous_ids():
    rows = run(visitors("a", "_PENDO_T_1"), VISITORS, {"identified": "!visitorId"})
    assert [r["visitorId"] for r in rows] == ["_PENDO_T_1"]


def test_identified_works_on_any_field():
    data = FakeData({"visitors": [{"accountId": "_PENDO_T_z"}, {"accountId": "acme"}, {}]})
    assert run(data, VISITORS, {"identified": "accountId"}) == [{"accountId": "acme"}]


def test_unwind_emits_one_row_per_element_with_its_index():
    data = FakeData({"visitors": [{"visitorId": "a", "accounts": ["x", "y"]},
                                  {"visitorId": "b", "accounts": []}]})
    rows = run(data, VISITORS, {"unwind": {"field": "accounts", "index": "i"}})
    assert rows == [{"visitorId": "a", "accounts": "x", "i": 0}, {"visitorId": "a", "accounts": "y", "i": 1}]


def test_unwind_keep_empty_passes_rows_without_elements():
    data = FakeData({"visitors": [{"visitorId": "b", "accounts": []}, {"visitorId": "c"}]})
    rows = run(data, VISITORS, {"unwind": {"field": "accounts", "keepEmpty": True}})
    assert rows == [{"visitorId": "b", "accounts": []}, {"visitorId": "c"}]


def test_unwind_a_nested_list_replaces_it_in_a_copy():
    row = {"visitorId": "a", "metadata": {"auto": {"accountids": ["x", "y"], "id": "a"}}}
    rows = run(FakeData({"visitors": [row]}), VISITORS,
               {"unwind": {"field": "metadata.auto.accountids", "prefix": False}})
    assert [r["metadata"]["auto"] for r in rows] == [{"accountids": "x", "id": "a"},
                                                     {"accountids": "y", "id": "a"}]
    assert row["metadata"]["auto"]["accountids"] == ["x", "y"]


# -- sort, count, group, reduce ------------------------------------------------------------------
def test_sort_by_several_keys_with_descending_prefix():
    data = FakeData({"visitors": [{"v": "a", "k": 1}, {"v": "b", "k": 2}, {"v": "c", "k": 1}]})
    rows = run(data, VISITORS, {"sort": ["-k", "v"]})
    assert [r["v"] for r in rows] == ["b", "a", "c"]


def test_sort_is_stable_for_equal_keys():
    data = FakeData({"visitors": [{"v": c, "k": 1} for c in "dbca"]})
    assert [r["v"] for r in run(data, VISITORS, {"sort": ["k"]})] == list("dbca")
    assert [r["v"] for r in run(data, VISITORS, {"sort": ["-k"]})] == list("dbca")


def test_sort_puts_nulls_first_ascending_and_last_descending():
    data = FakeData({"visitors": [{"k": 2}, {}, {"k": 1}]})
    assert [r.get("k") for r in run(data, VISITORS, {"sort": ["k"]})] == [None, 1, 2]
    assert [r.get("k") for r in run(data, VISITORS, {"sort": ["-k"]})] == [2, 1, None]


def test_sort_over_mixed_types_orders_by_type_then_value():
    values = ["b", 3, None, True, {"x": 1}, 1.5, "a", [1]]
    data = FakeData({"visitors": [{"k": v} for v in values]})
    rows = run(data, VISITORS, {"sort": ["k"]})
    assert [r["k"] for r in rows] == [None, True, 1.5, 3, "a", "b", [1], {"x": 1}]


def test_sort_by_nested_path():
    data = FakeData({"visitors": [{"metadata": {"auto": {"lastupdated": t}}} for t in (3, 1, 2)]})
    rows = run(data, VISITORS, {"sort": ["metadata.auto.lastupdated"]})
    assert [r["metadata"]["auto"]["lastupdated"] for r in rows] == [1, 2, 3]


def test_count_replaces_rows_by_their_number():
    assert run(visitors("a", "b", "c"), VISITORS, {"count": None}) == [{"count": 3}]
    assert run(FakeData(), VISITORS, {"count": None}) == [{"count": 0}]


def test_group_with_list_fields_aggregates_per_key_in_first_seen_order():
    data = FakeData(events={"pageEvents": PAGE_EVENTS})
    rows = run(data, {"source": {"pageEvents": {"appId": ALL_APPS},
                                 "timeSeries": {"period": "dayRange", "first": DAY_MS, "count": 2}}},
               {"group": {"group": ["pageId"], "fields": [{"events": {"sum": "numEvents"}},
                                                          {"rows": {"count": None}},
                                                          {"visitors": {"count": "visitorId"}}]}})
    assert rows == [{"pageId": "p1", "events": 7, "rows": 2, "visitors": 1},
                    {"pageId": "p2", "events": 3, "rows": 1, "visitors": 1}]


def test_group_with_map_fields_and_min_max_first_list():
    data = FakeData({"visitors": [{"g": "x", "n": 3}, {"g": "x", "n": 1}, {"g": "y", "n": None}]})
    rows = run(data, VISITORS,
               {"group": {"group": ["g"], "fields": {"lo": {"min": "n"}, "hi": {"max": "n"},
                                                     "first": {"first": "n"}, "all": {"list": "n"}}}})
    assert rows == [{"g": "x", "lo": 1, "hi": 3, "first": 3, "all": [3, 1]},
                    {"g": "y", "lo": None, "hi": None, "first": None, "all": [None]}]


def test_count_of_a_field_counts_distinct_non_null_values():
    data = FakeData({"visitors": [{"a": "x"}, {"a": "x"}, {"a": "y"}, {"a": None}, {}]})
    assert run(data, VISITORS, {"reduce": {"n": {"count": "a"}}}) == [{"n": 2}]


def test_group_without_fields_returns_distinct_key_combinations():
    data = FakeData({"visitors": [{"a": 1, "b": [1]}, {"a": 1, "b": [1]}, {"a": 2, "b": [1]}]})
    rows = run(data, VISITORS, {"group": {"group": ["a", "b"]}})
    assert rows == [{"a": 1, "b": [1]}, {"a": 2, "b": [1]}]


def test_reduce_collapses_everything_to_one_row_in_map_or_list_form():
    data = visitors("a", "b", "a")
    assert run(data, VISITORS, {"reduce": {"unique": {"count": "visitorId"}}}) == [{"unique": 2}]
    assert run(data, VISITORS, {"reduce": [{"rows": {"count": None}}]}) == [{"rows": 3}]


def test_reduce_over_no_rows_still_returns_one_row():
    rows = run(FakeData(), VISITORS, {"reduce": {"n": {"count": None}, "s": {"sum": "x"}}})
    assert rows == [{"n": 0, "s": 0}]


def test_unsupported_aggregator_is_rejected():
    with pytest.raises(AggregationError, match="unsupported aggregator 'median'"):
        run(FakeData(), VISITORS, {"reduce": {"m": {"median": "n"}}})


# -- merge and spawn -----------------------------------------------------------------------------
def test_merge_with_apps_adds_the_app_name_by_mapped_id():
    data = FakeData({"apps": APPS}, events={"pageEvents": PAGE_EVENTS})
    rows = run(data, yesterday("pageEvents", {"appId": ALL_APPS}),
               {"merge": {"fields": ["appId"], "mappings": {"appId": "id", "appName": "name"},
                          "pipeline": [{"source": {"apps": None}}]}},
               {"select": {"pageId": "pageId", "appName": "appName"}})
    assert rows == [{"pageId": "p1", "appName": "Web"}, {"pageId": "p2", "appName": "iOS"}]


def test_merge_leaves_unmatched_rows_unchanged():
    data = FakeData({"apps": APPS[:1], "pages": PAGES})
    rows = run(data, {"source": {"pages": {"appId": ALL_APPS}}},
               {"merge": {"fields": ["appId"], "mappings": {"appId": "id", "appName": "name"},
                          "pipeline": [{"source": {"apps": None}}]}})
    assert [r.get("appName") for r in rows] == ["Web", None]


def test_merge_without_mappings_copies_every_inner_field():
    data = FakeData({"visitors": [{"visitorId": "a"}, {"visitorId": "b"}],
                     "accounts": [{"visitorId": "a", "plan": "pro"}]})
    rows = run(data, VISITORS,
               {"merge": {"fields": ["visitorId"], "pipeline": [{"source": {"accounts": None}}]}})
    assert rows == [{"visitorId": "a", "plan": "pro"}, {"visitorId": "b"}]


def test_merge_inner_pipeline_is_validated_up_front():
    with pytest.raises(AggregationError, match="unknown source"):
        run_aggregation(body(VISITORS,
                             {"merge": {"fields": ["x"], "pipeline": [{"source": {"nope": None}}]}}),
                        FakeData(), CTX, None)


def test_spawn_concatenates_pipelines():
    data = FakeData({"visitors": [{"visitorId": "a"}], "accounts": [{"accountId": "z"}]})
    rows = run(data, {"spawn": [[VISITORS], [{"source": {"accounts": None}}]]},
               {"count": None})
    assert rows == [{"count": 2}]


# -- memory ceiling ------------------------------------------------------------------------------
def test_output_at_the_ceiling_is_fine():
    assert len(run(visitors(*"abc"), VISITORS, max_rows=3)) == 3


def test_output_over_the_ceiling_fails_while_iterating():
    result = run_aggregation(body(VISITORS), visitors(*"abcd"), CTX, 3)
    assert isinstance(result, AggregationResult)
    with pytest.raises(MemoryLimitExceeded, match="^Query exceeded memory limit$"):
        list(result.rows)


def test_sort_holding_more_than_the_ceiling_fails_even_if_limit_cuts_the_output():
    with pytest.raises(MemoryLimitExceeded):
        run(visitors(*"abcd"), VISITORS, {"sort": ["visitorId"]}, {"limit": 1},
            max_rows=3)


def test_group_holding_more_groups_than_the_ceiling_fails():
    with pytest.raises(MemoryLimitExceeded):
        run(visitors(*"abcd"), VISITORS, {"group": {"group": ["visitorId"]}},
            {"count": None}, max_rows=3)


def test_streaming_stages_only_count_what_they_output():
    rows = run(EndlessVisitors(), VISITORS, {"filter": "n >= 100"}, {"limit": 3}, max_rows=3)
    assert len(rows) == 3


def test_memory_limit_is_an_aggregation_error():
    assert issubclass(MemoryLimitExceeded, AggregationError)


# -- keyset pagination over ties -----------------------------------------------------------------
TIE = 1_772_900_000_000
ODD_IDS = ['quote"id', "back\\slash", "with space", "Zoë", "日本", "emoji😀", "tick`id", 'both\\"x', ""]


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _tied_visitors() -> FakeData:
    ids = ODD_IDS + [f"visitor-{i:02d}" for i in range(50 - len(ODD_IDS))]
    rows = [{"visitorId": vid, "metadata": {"auto": {"lastupdated": TIE if i < 30 else TIE + 1000 * i}}}
            for i, vid in enumerate(reversed(ids))]
    return FakeData({"visitors": rows})


def test_keyset_pages_over_a_tied_timestamp_visit_every_row_once():
    data = _tied_visitors()
    seen: list[str] = []
    last: dict | None = None
    while True:
        stages: list[dict] = [VISITORS,
                              {"sort": ["metadata.auto.lastupdated", "visitorId"]}]
        if last is not None:
            ts, vid = last["metadata"]["auto"]["lastupdated"], _quoted(last["visitorId"])
            stages.append({"filter": f"metadata.auto.lastupdated > {ts} || "
                                     f"(metadata.auto.lastupdated == {ts} && visitorId > {vid})"})
        stages.append({"limit": 7})
        page = run(data, *stages)
        seen.extend(r["visitorId"] for r in page)
        if len(page) < 7:
            break
        last = page[-1]
    assert len(seen) == 50
    assert sorted(seen) == sorted(r["visitorId"] for r in data.objects["visitors"])


def test_keyset_pages_on_visitor_id_alone_visit_every_row_once():
    data = _tied_visitors()
    seen: list[str] = []
    cursor = None
    while True:
        stages: list[dict] = [VISITORS, {"sort": ["visitorId"]}]
        if cursor is not None:
            stages.append({"filter": f"visitorId > {_quoted(cursor)}"})
        page = run(data, *stages, {"limit": 7})
        seen.extend(r["visitorId"] for r in page)
        if len(page) < 7:
            break
        cursor = page[-1]["visitorId"]
    assert seen == sorted(r["visitorId"] for r in data.objects["visitors"])
