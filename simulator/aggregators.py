"""The `group` and `reduce` operators and their aggregators (sum, count, min, max, first, list).

Aggregate specs come in two shapes in the wild, a map `{"alias": {"sum": "numEvents"}}` and a list
of single-key objects `[{"alias": {"sum": "numEvents"}}]`; both are accepted. `count: null` counts
rows while `count: "field"` counts distinct non-null values (Pendo's unique-visitor idiom).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from simulator.errors import AggregationError, MemoryLimitExceeded
from simulator.expressions import compile_expression, field_getter
from simulator.operators import MEMORY_LIMIT_MESSAGE, RowStage, StageEnv, freeze, sort_key


class _Sum:
    """Sum of the numeric values; non-numbers are skipped, no numbers sums to 0."""

    __slots__ = ("total",)

    def __init__(self) -> None:
        self.total: int | float = 0

    def add(self, value: Any) -> None:
        kind = type(value)
        if kind is int or kind is float:
            self.total += value

    def result(self) -> Any:
        return self.total


class _CountRows:
    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0

    def add(self, value: Any) -> None:
        self.n += 1

    def result(self) -> Any:
        return self.n


class _CountDistinct:
    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: set[Any] = set()

    def add(self, value: Any) -> None:
        if value is not None:
            self.seen.add(freeze(value))

    def result(self) -> Any:
        return len(self.seen)


class _Extreme:
    """Smallest (or largest) non-null value under the same total order as `sort`."""

    __slots__ = ("best", "key", "largest")

    def __init__(self, largest: bool) -> None:
        self.best: Any = None
        self.key: Any = None
        self.largest = largest

    def add(self, value: Any) -> None:
        if value is None:
            return
        key = sort_key(value)
        if self.key is None or (key > self.key if self.largest else key < self.key):
            self.best, self.key = value, key

    def result(self) -> Any:
        return self.best


class _First:
    __slots__ = ("value", "seen")

    def __init__(self) -> None:
        self.value: Any = None
        self.seen = False

    def add(self, value: Any) -> None:
        if not self.seen:
            self.value, self.seen = value, True

    def result(self) -> Any:
        return self.value


class _List:
    """Every value in row order, nulls included."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: list[Any] = []

    def add(self, value: Any) -> None:
        self.values.append(value)

    def result(self) -> Any:
        return self.values


_AGGREGATORS: dict[str, Callable[[], Any]] = {
    "sum": _Sum,
    "min": lambda: _Extreme(largest=False),
    "max": lambda: _Extreme(largest=True),
    "first": _First,
    "list": _List,
}

# (alias, value function or None, accumulator factory)
_Aggregate = tuple[str, Callable[..., Any] | None, Callable[[], Any]]


def compile_aggregates(fields: Any, where: str) -> list[_Aggregate]:
    """Validate a map or list of `{alias: {aggregator: field-or-null}}` and compile the fields."""
    if fields is None:
        return []
    if isinstance(fields, list):
        pairs: list[tuple[Any, Any]] = []
        for item in fields:
            if not isinstance(item, dict) or len(item) != 1:
                raise AggregationError(f"{where}: each field must be an object with one alias")
            pairs.extend(item.items())
    elif isinstance(fields, dict):
        pairs = list(fields.items())
    else:
        raise AggregationError(f"{where}: fields must be an object or a list of objects")
    return [_compile_aggregate(alias, spec, where) for alias, spec in pairs]


def _compile_aggregate(alias: str, spec: Any, where: str) -> _Aggregate:
    if not isinstance(spec, dict) or len(spec) != 1:
        raise AggregationError(f"{where}.{alias}: expected one aggregator such as {{\"sum\": \"numEvents\"}}")
    ((name, arg),) = spec.items()
    if name == "count":
        if arg is None:
            return alias, None, _CountRows
        return alias, _compile_field(arg, where, alias), _CountDistinct
    if name not in _AGGREGATORS:
        raise AggregationError(f"{where}.{alias}: unsupported aggregator {name!r}")
    return alias, _compile_field(arg, where, alias), _AGGREGATORS[name]


def _compile_field(arg: Any, where: str, alias: str) -> Callable[..., Any]:
    if not isinstance(arg, str):
        raise AggregationError(f"{where}.{alias}: aggregator needs a field, got {arg!r}")
    return compile_expression(arg).fn


def _accumulate(aggregates: list[_Aggregate], env: StageEnv) -> Callable[[list[Any], dict], None]:
    ctx = env.ctx
    fns = [fn for _, fn, _ in aggregates]

    def add(accumulators: list[Any], row: dict) -> None:
        for acc, fn in zip(accumulators, fns, strict=True):
            acc.add(None if fn is None else fn(row, ctx))

    return add


def build_group(arg: Any, env: StageEnv) -> RowStage:
    """Group rows by key fields (in first-seen order) and aggregate each group.

    Output rows carry the key fields under the names given in `group` plus one field per alias.
    Without `fields` the output is the distinct key combinations.
    """
    if not isinstance(arg, dict):
        raise AggregationError("group takes an object with 'group' and optional 'fields'")
    keys = arg.get("group")
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise AggregationError(f"group.group must be a list of field names, got {keys!r}")
    getters = [field_getter(k) for k in keys]
    aggregates = compile_aggregates(arg.get("fields"), "group.fields")
    add = _accumulate(aggregates, env)
    max_rows = env.max_rows

    def run(rows: Iterator[dict]) -> Iterator[dict]:
        groups: dict[tuple[Any, ...], tuple[list[Any], list[Any]]] = {}
        for row in rows:
            values = [get(row) for get in getters]
            frozen = tuple(freeze(v) for v in values)
            group = groups.get(frozen)
            if group is None:
                group = groups[frozen] = (values, [factory() for _, _, factory in aggregates])
                if max_rows is not None and len(groups) > max_rows:
                    raise MemoryLimitExceeded(MEMORY_LIMIT_MESSAGE)
            add(group[1], row)
        for values, accumulators in groups.values():
            out = dict(zip(keys, values, strict=True))
            for (alias, _, _), acc in zip(aggregates, accumulators, strict=True):
                out[alias] = acc.result()
            yield out

    return run


def build_reduce(arg: Any, env: StageEnv) -> RowStage:
    """Collapse every row into one row of aggregates (one row even when there is no input)."""
    if not arg:
        raise AggregationError("reduce takes an object or list of {alias: {aggregator: field}}")
    aggregates = compile_aggregates(arg, "reduce")
    add = _accumulate(aggregates, env)

    def run(rows: Iterator[dict]) -> Iterator[dict]:
        accumulators = [factory() for _, _, factory in aggregates]
        for row in rows:
            add(accumulators, row)
        yield {alias: acc.result() for (alias, _, _), acc in zip(aggregates, accumulators, strict=True)}

    return run
