"""Pendo's C-like expression language, compiled once and evaluated per row.

Expressions run for every row of a filter/eval/select, so `compile_expression` turns the parsed AST
into nested Python closures: evaluation is a handful of function calls, with no tree walking and
no per-row dispatch on node kinds.

Semantics (what the simulated Pendo promises; see the Pendo API notes, pendo-api.md §3.6):
- missing fields and missing intermediate objects read as null;
- `==`/`!=`: null equals only null; numbers compare numerically; other mixed types are unequal;
- `< <= > >=`: numbers numerically, strings by code point; anything else (null, mixed) is false;
- `&& || !` short-circuit on JS-like truthiness (0, "", null and false are falsy), yield booleans;
- arithmetic on non-numbers (or division by zero) yields null; `+` also joins two strings.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from simulator.errors import ExpressionError
from simulator.expression_parser import Node, parse, parse_error

__all__ = [
    "EvalContext",
    "Expression",
    "ExpressionError",
    "compile_expression",
    "field_getter",
    "parse_path",
    "truthy",
]

Fn = Callable[[dict, "EvalContext"], Any]
_NUMBER_TYPES = (int, float)


@dataclass(frozen=True, slots=True)
class EvalContext:
    """What an expression may see besides the row: the request's clock and the subscription zone."""

    now_ms: int
    tz: str


class Expression:
    """A compiled expression; `fn(row, ctx)` is exposed so hot loops can skip a method call."""

    __slots__ = ("text", "fn")

    def __init__(self, text: str, fn: Fn) -> None:
        self.text = text
        self.fn = fn

    def evaluate(self, row: dict, ctx: EvalContext) -> Any:
        return self.fn(row, ctx)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


def compile_expression(text: str) -> Expression:
    """Parse `text` and compile it; raises ExpressionError with a Pendo-like message."""
    if not isinstance(text, str):
        raise ExpressionError(f"Cannot parse filter expression: {text!r}: expected a string")
    try:
        return Expression(text, _compile(parse(text), text))
    except RecursionError:
        raise parse_error(text, "expression is nested too deeply") from None


def parse_path(text: str) -> list[str | int]:
    """Parse a bare field path such as `metadata.auto.lastupdated` or `polls[0].id`."""
    node = parse(text) if isinstance(text, str) else None
    if node is None or node[0] != "path":
        raise ExpressionError(f"Invalid field path: {text!r}")
    return node[1]


def field_getter(text: str) -> Callable[[dict], Any]:
    """Compile a field path into a one-argument getter (for sort keys, group keys, joins)."""
    return _getter(parse_path(text))


def truthy(value: Any) -> bool:
    """JS-like truthiness: null, false, 0, NaN and "" are false; everything else is true."""
    if value is None or value is False:
        return False
    if value is True:
        return True
    kind = type(value)
    if kind is int:
        return value != 0
    if kind is float:
        return value == value and value != 0.0
    if kind is str:
        return value != ""
    return True


def _is_number(value: Any) -> bool:
    kind = type(value)
    return kind is int or kind is float


def equals(a: Any, b: Any) -> bool:
    """Pendo `==`: null only equals null, numbers compare by value, other types must match."""
    if a is None or b is None:
        return a is b
    if type(a) is type(b):
        return a == b
    return _is_number(a) and _is_number(b) and a == b


# -- paths ---------------------------------------------------------------------------------------
def _getter(segments: list[str | int]) -> Callable[[dict], Any]:
    first, rest = segments[0], segments[1:]
    if not rest:
        return lambda row: row.get(first)

    def get(row: dict) -> Any:
        cur = row.get(first)
        for seg in rest:
            if type(seg) is int:
                cur = cur[seg] if isinstance(cur, list) and 0 <= seg < len(cur) else None
            elif isinstance(cur, dict):
                cur = cur.get(seg)
            else:
                return None
        return cur

    return get


# -- operators -----------------------------------------------------------------------------------
_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def _ordered(cmp: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        ta, tb = type(a), type(b)
        if ta is str:
            return tb is str and cmp(a, b)
        return (ta is int or ta is float) and (tb is int or tb is float) and cmp(a, b)

    return compare


def _add(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        return a + b
    if type(a) is str and type(b) is str:
        return a + b
    return None


def _numeric(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    return lambda a, b: op(a, b) if _is_number(a) and _is_number(b) else None


def _divide(a: Any, b: Any) -> Any:
    if b == 0:
        return None
    if type(a) is int and type(b) is int and a % b == 0:
        return a // b  # keep epoch-ms arithmetic integral
    return a / b


def _remainder(a: Any, b: Any) -> Any:
    """C-style remainder: the sign follows the dividend."""
    if b == 0:
        return None
    if type(a) is int and type(b) is int:
        rem = abs(a) % abs(b)
        return -rem if a < 0 else rem
    return math.fmod(a, b)


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "==": equals,
    "!=": lambda a, b: not equals(a, b),
    **{op: _ordered(cmp) for op, cmp in _ORDER_OPS.items()},
    "+": _add,
    "-": _numeric(operator.sub),
    "*": _numeric(operator.mul),
    "/": _numeric(_divide),
    "%": _numeric(_remainder),
}


def _negate(value: Any) -> Any:
    return -value if _is_number(value) else None


# -- functions -----------------------------------------------------------------------------------
def _contains(haystack: Any, needle: Any) -> bool:
    if type(haystack) is str:
        return type(needle) is str and needle in haystack
    if isinstance(haystack, list):
        return any(equals(item, needle) for item in haystack)
    if isinstance(haystack, dict):
        return type(needle) is str and needle in haystack
    return False


def _length(value: Any) -> Any:
    if value is None:
        return 0
    if isinstance(value, str | list | dict):
        return len(value)
    return None


def local_time_ms(tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0,
                  second: int = 0) -> int:
    """Epoch ms of a wall-clock time in `tz`; out-of-range parts roll over (Go's time.Date)."""
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    wall = datetime(year, month, 1) + timedelta(days=day - 1, hours=hour, minutes=minute, seconds=second)
    return int(wall.replace(tzinfo=ZoneInfo(tz)).timestamp()) * 1000


def _date(ctx: EvalContext, *parts: Any) -> Any:
    try:
        if not all(_is_number(p) and p == int(p) for p in parts):
            return None
        return local_time_ms(ctx.tz, *(int(p) for p in parts))
    except (OverflowError, ValueError):
        return None


# name -> (min args, max args or None, builder(arg fns) -> fn)
def _simple(impl: Callable[..., Any]) -> Callable[[list[Fn]], Fn]:
    def build(args: list[Fn]) -> Fn:
        if len(args) == 1:
            (a,) = args
            return lambda row, ctx: impl(a(row, ctx))
        return lambda row, ctx: impl(*(f(row, ctx) for f in args))

    return build


def _build_if(args: list[Fn]) -> Fn:
    cond, then, other = args
    return lambda row, ctx: then(row, ctx) if truthy(cond(row, ctx)) else other(row, ctx)


_FUNCTIONS: dict[str, tuple[int, int | None, Callable[[list[Fn]], Fn]]] = {
    "isNull": (1, 1, _simple(lambda v: v is None)),
    "isNil": (1, 1, _simple(lambda v: v is None)),
    "contains": (2, 2, _simple(_contains)),
    "len": (1, 1, _simple(_length)),
    "if": (3, 3, _build_if),
    "now": (0, 0, lambda args: lambda row, ctx: ctx.now_ms),
    "date": (3, 6, lambda args: lambda row, ctx: _date(ctx, *(f(row, ctx) for f in args))),
    "list": (0, None, lambda args: lambda row, ctx: [f(row, ctx) for f in args]),
    # Only the all-apps form is meaningful to the simulator; callers test for the "*" marker.
    "expandAppIds": (1, 1, lambda args: lambda row, ctx: "*"),
}


# -- compiler ------------------------------------------------------------------------------------
def _compile(node: Node, text: str) -> Fn:
    kind = node[0]
    if kind == "lit":
        value = node[1]
        return lambda row, ctx: value
    if kind == "path":
        segments = node[1]
        if len(segments) == 1:
            key = segments[0]
            return lambda row, ctx: row.get(key)
        get = _getter(segments)
        return lambda row, ctx: get(row)
    if kind == "call":
        return _compile_call(node[1], node[2], text)
    if kind in ("not", "neg"):
        inner = _compile(node[1], text)
        if kind == "not":
            fn: Fn = lambda row, ctx: not truthy(inner(row, ctx))  # noqa: E731
        else:
            fn = lambda row, ctx: _negate(inner(row, ctx))  # noqa: E731
        return _fold(fn, node[1:])
    left, right = _compile(node[-2], text), _compile(node[-1], text)
    if kind == "and":
        fn = lambda row, ctx: truthy(left(row, ctx)) and truthy(right(row, ctx))  # noqa: E731
    elif kind == "or":
        fn = lambda row, ctx: truthy(left(row, ctx)) or truthy(right(row, ctx))  # noqa: E731
    else:
        op = _BINARY[node[1]]
        fn = lambda row, ctx: op(left(row, ctx), right(row, ctx))  # noqa: E731
    return _fold(fn, node[-2:])


def _fold(fn: Fn, children: tuple[Node, ...]) -> Fn:
    """Pre-compute operators whose operands are all literals (e.g. `2 * 24 * 60 * 60 * 1000`)."""
    if all(child[0] == "lit" for child in children):
        value = fn({}, None)  # type: ignore[arg-type]  # literal operators never read ctx
        return lambda row, ctx: value
    return fn


def _compile_call(name: str, arg_nodes: list[Node], text: str) -> Fn:
    spec = _FUNCTIONS.get(name)
    if spec is None:
        raise parse_error(text, f"unknown function {name}()")
    low, high, build = spec
    if len(arg_nodes) < low or (high is not None and len(arg_nodes) > high):
        wanted = str(low) if low == high else f"{low} to {high}" if high is not None else f"at least {low}"
        raise parse_error(text, f"{name}() takes {wanted} arguments, got {len(arg_nodes)}")
    return build([_compile(arg, text) for arg in arg_nodes])
