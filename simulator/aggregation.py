"""The simulator's interpreter for Pendo's `POST /api/v1/aggregation` pipelines (no HTTP here).

A request is compiled in full before any row is produced: the envelope, every stage's arguments,
every expression and the timeSeries are checked, so a bad query raises `AggregationError` from
`run_aggregation` itself. Rows then flow lazily from the `DataProvider` through generator stages;
only sort, group, reduce, count and merge's inner side hold rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from simulator.aggregators import build_group, build_reduce
from simulator.errors import AggregationError, ExpressionError, MemoryLimitExceeded
from simulator.expressions import EvalContext, compile_expression, field_getter
from simulator.operators import (
    ANONYMOUS_PREFIX,
    MEMORY_LIMIT_MESSAGE,
    RowStage,
    StageEnv,
    build_cat,
    build_count,
    build_eval,
    build_filter,
    build_identified,
    build_limit,
    build_select,
    build_skip,
    build_sort,
    build_unwind,
    freeze,
    materialize,
)
from simulator.timeseries import resolve_time_series, zone

OBJECT_SOURCES = frozenset({"visitors", "accounts", "pages", "features", "guides", "trackTypes", "apps", "groups"})
EVENT_SOURCES = frozenset(
    {"events", "pageEvents", "featureEvents", "trackEvents", "guideEvents", "pollEvents", "singleEvents"}
)
# Per-visitor guide and poll state; the "...Ever" sources are lifetime state and need no timeSeries.
SEEN_SOURCES = frozenset({"guidesSeen", "guidesSeenEver", "pollsSeen", "pollsSeenEver"})
ENTITY_ID_PARAMS = ("pageId", "featureId", "trackTypeId", "guideId", "guideStepId", "pollId")

_BUILDERS: dict[str, Callable[[Any, StageEnv], RowStage]] = {
    "filter": build_filter,
    "eval": build_eval,
    "select": build_select,
    "sort": build_sort,
    "limit": build_limit,
    "skip": build_skip,
    "identified": build_identified,
    "count": build_count,
    "unwind": build_unwind,
    "cat": build_cat,
    "group": build_group,
    "reduce": build_reduce,
}


class DataProvider(Protocol):
    """The subscription's data, as the interpreter reads it (implemented in simulator/data)."""

    app_ids: list[int]
    default_app_id: int

    def object_rows(self, source: str) -> Iterable[dict]:
        """Rows of an object source across all apps, in Pendo's raw row shape."""
        ...

    def event_rows(self, source: str, period: str, first_ms: int, end_ms: int,
                   app_ids: list[int]) -> Iterable[dict]:
        """Event rows of `app_ids` in [first_ms, end_ms): rollups keyed by `period`, or single
        guide/poll events selected by browserTime."""
        ...


@dataclass(frozen=True, slots=True)
class AggregationResult:
    """`start_time` is the first bucket start when the source has a timeSeries, else None."""

    start_time: int | None
    rows: Iterator[dict]


_Producer = Callable[[], Iterator[dict]]
_END = object()


@dataclass(frozen=True, slots=True)
class _Plan:
    start_time: int | None
    run: Callable[[], Iterator[dict]]


def run_aggregation(body: dict, dataset: DataProvider, ctx: EvalContext,
                    max_rows: int | None) -> AggregationResult:
    """Compile the request in `body` and return its start time and a lazy row iterator.

    Raises AggregationError (ExpressionError for syntax) before returning if the request is bad.
    MemoryLimitExceeded ("Query exceeded memory limit") is raised while the caller iterates
    `rows`, once more than `max_rows` rows are output or held by a sort/group: the HTTP layer must
    drain the rows before it commits to a status code.
    """
    zone(ctx.tz)
    env = StageEnv(ctx=ctx, max_rows=max_rows)
    plan = _compile_pipeline(_pipeline_of(body), dataset, env)
    rows = plan.run()
    return AggregationResult(plan.start_time, rows if max_rows is None else _ceiling(rows, max_rows))


def _pipeline_of(body: Any) -> list:
    if not isinstance(body, dict):
        raise AggregationError("Invalid aggregation request: body must be an object")
    request = body.get("request")
    if not isinstance(request, dict):
        raise AggregationError("Invalid aggregation request: missing 'request' object")
    pipeline = request.get("pipeline")
    if not isinstance(pipeline, list) or not pipeline:
        raise AggregationError("Invalid aggregation request: 'request.pipeline' must be a non-empty list")
    return pipeline


def _ceiling(rows: Iterator[dict], max_rows: int) -> Iterator[dict]:
    """Pass up to ``max_rows`` rows through (at C speed: answers run to 10^5 rows), fail on one more."""
    rows = iter(rows)
    yield from itertools.islice(rows, max_rows)
    if next(rows, _END) is not _END:
        raise MemoryLimitExceeded(MEMORY_LIMIT_MESSAGE)


def _operator(stage: Any) -> tuple[str, Any]:
    if not isinstance(stage, dict) or len(stage) != 1:
        raise AggregationError(f"each pipeline stage must be an object with one operator, got {stage!r}")
    ((name, arg),) = stage.items()
    return name, arg


def _compile_pipeline(stages: Any, dataset: DataProvider, env: StageEnv) -> _Plan:
    if not isinstance(stages, list) or not stages:
        raise AggregationError("a pipeline must be a non-empty list of stages")
    name, arg = _operator(stages[0])
    if name == "source":
        start_time, produce = _build_source(arg, dataset, env)
    elif name == "spawn":
        start_time, produce = _build_spawn(arg, dataset, env)
    else:
        raise AggregationError(f"the first pipeline stage must be a source, got {name!r}")
    operators = [_build_stage(stage, dataset, env) for stage in stages[1:]]

    def run() -> Iterator[dict]:
        rows = produce()
        for op in operators:
            rows = op(rows)
        return rows

    return _Plan(start_time, run)


def _build_stage(stage: Any, dataset: DataProvider, env: StageEnv) -> RowStage:
    name, arg = _operator(stage)
    if name == "merge":
        return _build_merge(arg, dataset, env)
    builder = _BUILDERS.get(name)
    if builder is None:
        if name in ("source", "spawn"):
            raise AggregationError(f"{name} is allowed only as the first stage")
        raise AggregationError(f"unknown pipeline operator: {name}")
    return builder(arg, env)


# -- source --------------------------------------------------------------------------------------
def _build_source(arg: Any, dataset: DataProvider, env: StageEnv) -> tuple[int | None, _Producer]:
    if not isinstance(arg, dict):
        raise AggregationError("source must be an object such as {\"visitors\": null}")
    names = [key for key in arg if key != "timeSeries"]
    if len(names) != 1:
        raise AggregationError(f"source must name exactly one row source, got {names}")
    name = names[0]
    if name not in EVENT_SOURCES and name not in OBJECT_SOURCES and name not in SEEN_SOURCES:
        raise AggregationError(f"unknown source: {name}")
    params = arg[name] if arg[name] is not None else {}
    if not isinstance(params, dict):
        raise AggregationError(f"parameters of source {name} must be an object or null")
    series = arg.get("timeSeries")
    app_ids = _app_ids(params.get("appId"), dataset, env.ctx)

    if name in SEEN_SOURCES:
        return _build_seen_source(name, params, series, app_ids, dataset, env)

    if name in EVENT_SOURCES:
        if series is None:
            raise AggregationError(f"timeSeries is required for source {name}")
        span = resolve_time_series(series, env.ctx)
        wanted = [(key, params[key]) for key in ENTITY_ID_PARAMS if params.get(key) is not None]

        def produce_events() -> Iterator[dict]:
            rows = dataset.event_rows(name, span.period, span.first_ms, span.end_ms, app_ids)
            if not wanted:
                yield from rows
                return
            for row in rows:
                if all(_id_matches(row.get(key), value) for key, value in wanted):
                    yield row

        return span.first_ms, produce_events

    start_time = _object_start_time(series, env.ctx)
    allowed = set(app_ids)
    drop_anonymous = name == "visitors" and params.get("identified") is True

    def produce_objects() -> Iterator[dict]:
        for row in dataset.object_rows(name):
            if "appId" in row and row["appId"] not in allowed:
                continue
            if drop_anonymous and str(row.get("visitorId", "")).startswith(ANONYMOUS_PREFIX):
                continue
            yield row

    return start_time, produce_objects


def _build_seen_source(name: str, params: dict, series: Any, app_ids: list[int], dataset: DataProvider,
                       env: StageEnv) -> tuple[int | None, _Producer]:
    """guidesSeen/pollsSeen fold the events of their timeSeries; the "...Ever" sources fold the whole history
    (a timeSeries, if given, only sets startTime)."""
    lifetime = name.endswith("Ever")
    if series is None and not lifetime:
        raise AggregationError(f"timeSeries is required for source {name}")
    span = resolve_time_series(series, env.ctx) if series is not None else None
    first, end = (None, None) if lifetime or span is None else (span.first_ms, span.end_ms)
    wanted = [(key, params[key]) for key in ENTITY_ID_PARAMS if params.get(key) is not None]

    def produce_seen() -> Iterator[dict]:
        for row in dataset.seen_rows(name, first, end, app_ids):
            if all(_id_matches(row.get(key), value) for key, value in wanted):
                yield row

    return (span.first_ms if span is not None else None), produce_seen


def _id_matches(actual: Any, wanted: Any) -> bool:
    return actual in wanted if isinstance(wanted, list) else actual == wanted


def _object_start_time(series: Any, ctx: EvalContext) -> int | None:
    """Object sources select rows without the timeSeries but report its start (assumed, unverified)."""
    if series is None:
        return None
    try:
        return resolve_time_series(series, ctx).first_ms
    except AggregationError:
        return None


def _app_ids(value: Any, dataset: DataProvider, ctx: EvalContext) -> list[int]:
    """appId: missing, null or [] = default app; int; list; numeric or `expandAppIds("*")` string."""
    if value is None or value == []:
        return [dataset.default_app_id]
    if isinstance(value, list):
        ids = itertools.chain.from_iterable(_app_ids(item, dataset, ctx) for item in value)
        return list(dict.fromkeys(ids))
    if isinstance(value, str):
        try:
            resolved = compile_expression(value).evaluate({}, ctx)
        except ExpressionError:
            raise AggregationError(f"invalid appId: {value!r}") from None
        if resolved == "*":
            return list(dataset.app_ids)
        value = resolved
    if isinstance(value, bool) or not isinstance(value, int):
        raise AggregationError(f"invalid appId: {value!r}")
    return [value]


# -- spawn and merge -----------------------------------------------------------------------------
def _build_spawn(arg: Any, dataset: DataProvider, env: StageEnv) -> tuple[int | None, _Producer]:
    """Run several complete pipelines and concatenate their rows."""
    if not isinstance(arg, list) or not arg:
        raise AggregationError("spawn takes a non-empty list of pipelines")
    plans = [_compile_pipeline(stages, dataset, env) for stages in arg]
    start_time = next((p.start_time for p in plans if p.start_time is not None), None)
    return start_time, lambda: itertools.chain.from_iterable(p.run() for p in plans)


def _build_merge(arg: Any, dataset: DataProvider, env: StageEnv) -> RowStage:
    """Left-join the rows of an inner pipeline onto each row, matching on `fields`.

    `mappings` is {output field: inner field}; a join field listed there is read from the mapped
    inner field (`{"appId": "id"}` joins appId to the apps' id). Matched rows get the mapped fields,
    or every inner field when there are no mappings; the first inner row per key wins; unmatched
    rows pass through unchanged.
    """
    if not isinstance(arg, dict):
        raise AggregationError("merge takes an object with 'fields' and 'pipeline'")
    fields, mappings = arg.get("fields"), arg.get("mappings") or {}
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        raise AggregationError("merge.fields must be a non-empty list of field names")
    if not isinstance(mappings, dict) or not all(isinstance(v, str) for v in mappings.values()):
        raise AggregationError("merge.mappings must map output field names to inner field names")
    inner = _compile_pipeline(arg.get("pipeline"), dataset, env)
    outer_keys = [field_getter(f) for f in fields]
    inner_keys = [field_getter(mappings.get(f, f)) for f in fields]
    copies = [(out, field_getter(src)) for out, src in mappings.items()]

    def run(rows: Iterator[dict]) -> Iterator[dict]:
        index: dict[tuple, dict] = {}
        for inner_row in materialize(inner.run(), env.max_rows):
            index.setdefault(tuple(freeze(get(inner_row)) for get in inner_keys), inner_row)
        for row in rows:
            match = index.get(tuple(freeze(get(row)) for get in outer_keys))
            if match is None:
                yield row
                continue
            out = dict(row)
            if copies:
                for name, get in copies:
                    out[name] = get(match)
            else:
                out.update(match)
            yield out

    return run
