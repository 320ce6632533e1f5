"""Row-at-a-time pipeline operators: filter, eval, select, sort, limit, skip, identified, count,
unwind and cat.

Each `build_*` validates its argument and compiles its expressions up front (so a bad query fails
before any row is produced) and returns a `RowStage`: a function from an iterator of rows to an
iterator of rows. Stages stream with generators wherever the operator allows; only sort and count
must see every row. Stages never mutate their input rows, which may be the dataset's own dicts.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from simulator.errors import AggregationError, MemoryLimitExceeded
from simulator.expressions import (
    EvalContext,
    Expression,
    compile_expression,
    field_getter,
    parse_path,
    truthy,
)

RowStage = Callable[[Iterator[dict]], Iterator[dict]]
ANONYMOUS_PREFIX = "_PENDO_T_"
MEMORY_LIMIT_MESSAGE = "Query exceeded memory limit"


@dataclass(frozen=True, slots=True)
class StageEnv:
    """What operator builders may depend on besides their argument."""

    ctx: EvalContext
    max_rows: int | None


# -- shared helpers ------------------------------------------------------------------------------
def materialize(rows: Iterable[dict], max_rows: int | None) -> list[dict]:
    """Collect rows for a stage that must see them all, enforcing the memory ceiling as it goes."""
    if max_rows is None:
        return list(rows)
    held: list[dict] = []
    for row in rows:
        held.append(row)
        if len(held) > max_rows:
            raise MemoryLimitExceeded(MEMORY_LIMIT_MESSAGE)
    return held


def sort_key(value: Any) -> tuple[int, Any]:
    """Total order over JSON values: null < booleans < numbers < strings < lists/objects."""
    if value is None:
        return (0, 0)
    kind = type(value)
    if kind is bool:
        return (1, value)
    if kind is int or kind is float:
        return (2, value)
    if kind is str:
        return (3, value)
    return (4, json.dumps(value, sort_keys=True, default=str))


def freeze(value: Any) -> Any:
    """A hashable stand-in for a JSON value, for group keys, distinct counts and join keys."""
    if isinstance(value, list):
        return ("__list__", tuple(freeze(v) for v in value))
    if isinstance(value, dict):
        return ("__dict__", tuple(sorted((k, freeze(v)) for k, v in value.items())))
    return value


def compile_arg(value: Any, what: str) -> Expression:
    if not isinstance(value, str):
        raise AggregationError(f"{what} must be an expression string, got {value!r}")
    return compile_expression(value)


def _expression_map(arg: Any, operator_name: str) -> list[tuple[str, Expression]]:
    if not isinstance(arg, dict) or not arg:
        raise AggregationError(f"{operator_name} takes an object of field: expression")
    return [(out, compile_arg(text, f"{operator_name}.{out}")) for out, text in arg.items()]


def _non_negative_int(arg: Any, operator_name: str) -> int:
    if isinstance(arg, bool) or not isinstance(arg, int) or arg < 0:
        raise AggregationError(f"{operator_name} takes a non-negative integer, got {arg!r}")
    return arg


# -- streaming operators -------------------------------------------------------------------------
def build_filter(arg: Any, env: StageEnv) -> RowStage:
    fn, ctx = compile_arg(arg, "filter").fn, env.ctx

    def run(rows: Iterator[dict]) -> Iterator[dict]:
        for row in rows:
            value = fn(row, ctx)
            if value is True or (value is not False and truthy(value)):
                yield row

    return run


def build_eval(arg: Any, env: StageEnv) -> RowStage:
    """Add or replace fields; every expression sees the row as it was before this stage."""
    fields, ctx = [(out, expr.fn) for out, expr in _expression_map(arg, "eval")], env.ctx

    def run(rows: Iterator[dict]) -> Iterator[dict]:
        for row in rows:
            out = dict(row)
            for name, fn in fields:
                out[name] = fn(row, ctx)
            yield out

    return run


def build_select(arg: Any, env: StageEnv) -> RowStage:
    fields, ctx = [(out, expr.fn) for out, expr in _expression_map(arg, "select")], env.ctx

    def run(rows: Iterator[dict]) -> Iterator[dict]:
        for row in rows:
            yield {name: fn(row, ctx) for name, fn in fields}

    return run


def build_limit(arg: Any, env: StageEnv) -> RowStage:
    n = _non_negative_int(arg, "limit")
    return lambda rows: itertools.islice(rows, n)


def build_skip(arg: Any, env: StageEnv) -> RowStage:
    n = _non_negative_int(arg, "skip")
    return lambda rows: itertools.islice(rows, n, None)


def build_identified(arg: Any, env: StageEnv) -> RowStage:
    """`"visitorId"` keeps identified ids; `"!visitorId"` keeps only anonymous (`_PENDO_T_`) ids."""
    if not isinstance(arg, str) or arg in ("", "!"):
        raise AggregationError(f"identified takes a field name, optionally prefixed by '!', got {arg!r}")
    anonymous = arg.startswith("!")
    get = field_getter(arg[1:] if anonymous else arg)

    def run(rows: Iterator[dict]) -> Iterator[dict]:
        for row in rows:
            value = get(row)
            is_anonymous = isinstance(value, str) and value.startswith(ANONYMOUS_PREFIX)
            if anonymous:
                if is_anonymous:
                    yield row
            elif not is_anonymous and value is not None and value != "":
                yield row

    return run


def build_unwind(arg: Any, env: StageEnv) -> RowStage:
    """One row per element of a list field; the element replaces the list in the output row.

    `index` names a field that receives the element's position. With `keepEmpty`, rows whose
    list is empty, null or missing pass through once (index null) instead of being dropped.
    A non-list value counts as a one-element list. `prefix` is accepted and ignored.
    """
    if not isinstance(arg, dict) or not isinstance(arg.get("field"), str):
        raise AggregationError("unwind takes an object with a field name in 'field'")
    segments = parse_path(arg["field"])
    if any(not isinstance(seg, str) for seg in segments):
        raise AggregationError(f"unwind field must be a dotted field name, got {arg['field']!r}")
    index = arg.get("index")
    if index is not None and not isinstance(index, str):
        raise AggregationError("unwind.index must be a field name")
    keep_empty = bool(arg.get("keepEmpty", False))
    get = field_getter(arg["field"])

    def run(rows: Iterator[dict]) -> Iterator[dict]:
        for row in rows:
            value = get(row)
            items = value if isinstance(value, list) else ([] if value is None else [value])
            if not items:
                if keep_empty:
                    yield row if index is None else {**row, index: None}
                continue
            for position, item in enumerate(items):
                out = _with_path(row, segments, item)  # type: ignore[arg-type]
                if index is not None:
                    out[index] = position
                yield out

    return run


def _with_path(row: dict, segments: list[str], value: Any) -> dict:
    """Copy of `row` with the nested field replaced, copying only the dicts along the path."""
    out = dict(row)
    if len(segments) == 1:
        out[segments[0]] = value
    else:
        child = row.get(segments[0])
        out[segments[0]] = _with_path(child if isinstance(child, dict) else {}, segments[1:], value)
    return out


def build_cat(arg: Any, env: StageEnv) -> RowStage:
    return lambda rows: rows


# -- operators that must see every row -----------------------------------------------------------
def build_sort(arg: Any, env: StageEnv) -> RowStage:
    """Stable multi-key sort; `-field` descends; mixed types order by `sort_key`, nulls first."""
    if isinstance(arg, str):
        arg = [arg]
    if not isinstance(arg, list) or not arg or not all(isinstance(k, str) and k.strip("-") for k in arg):
        raise AggregationError(f"sort takes a list of field names, got {arg!r}")
    keys = [(field_getter(k[1:]), True) if k.startswith("-") else (field_getter(k), False) for k in arg]
    max_rows = env.max_rows

    def run(rows: Iterator[dict]) -> Iterator[dict]:
        held = materialize(rows, max_rows)
        for get, descending in reversed(keys):  # least significant key first; sorts are stable
            held.sort(key=_row_key(get), reverse=descending)
        yield from held

    return run


def _row_key(get: Callable[[dict], Any]) -> Callable[[dict], tuple[int, Any]]:
    return lambda row: sort_key(get(row))


def build_count(arg: Any, env: StageEnv) -> RowStage:
    if arg is not None:
        raise AggregationError(f"count takes null, got {arg!r}")

    def run(rows: Iterator[dict]) -> Iterator[dict]:
        n = 0
        for _ in rows:
            n += 1
        yield {"count": n}

    return run
