"""Aggregation request bodies and expression-string escaping.

Pure functions: nothing here does HTTP. The resource code POSTs the dicts built here to
``/api/v1/aggregation``; :mod:`sources.pendo.results_parser` reads the answers.

Why the care:
- IDs containing ``"`` or ``\\`` broke peers' filters ("Cannot parse filter expression"), so
  every string literal goes through :func:`quote`.
- Many rows share one cursor value (``metadata.auto.lastupdated``), so object sources are
  paged by the keyset ``(cursor, id)``, never by the cursor alone and never by ``skip``.
"""

from __future__ import annotations

import re
from typing import Any

from sources.pendo.windows import Period, Window, count_buckets

# --- expression strings ---------------------------------------------------------------------------

_SIMPLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}
# C0 controls, DEL and lone surrogates (which cannot be encoded as UTF-8) become \uXXXX.
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f\ud800-\udfff]')


def _escape_char(match: re.Match[str]) -> str:
    ch = match.group(0)
    return _SIMPLE_ESCAPES.get(ch) or f"\\u{ord(ch):04x}"


def quote(value: str) -> str:
    """A Pendo expression string literal: ``"..."`` with C-style escapes.

    Backslash and double quote are escaped, newline/tab/CR as ``\\n \\t \\r``, other control
    characters as ``\\uXXXX``. Non-ASCII passes through unchanged (the body is UTF-8 JSON).
    """
    if not isinstance(value, str):
        raise TypeError(f"quote() takes a str, got {type(value).__name__}")
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, value) + '"'


# --- request bodies -------------------------------------------------------------------------------

ALL_APPS = 'expandAppIds("*")'

CURSOR_ALIAS = "_cursor"
"""Helper field added by :func:`keyset_body`: the cursor with null read as 0. Read by
:func:`next_after`; ``shaping.flatten_metadata`` drops it so it never reaches the warehouse."""


def envelope(pipeline: list[dict[str, Any]], request_id: str) -> dict[str, Any]:
    """The POST body around a pipeline; ``name``/``requestId`` make Pendo-side logs traceable."""
    return {
        "response": {"mimeType": "application/json"},
        "request": {"name": request_id, "requestId": request_id, "pipeline": pipeline},
    }


def app_id_param(app_ids: list[int] | None) -> str | list[int]:
    """``appId`` source param: all apps unless a list is given (no appId = default app only)."""
    if not app_ids:
        return ALL_APPS
    return [int(a) for a in app_ids]


def time_series(period: Period, window: Window, tz: str) -> dict[str, Any]:
    """``timeSeries`` covering exactly the window's buckets (``first`` + ``count``, never ``last``)."""
    return {
        "period": {"day": "dayRange", "hour": "hourRange"}[period],
        "first": window.start_ms,
        "count": count_buckets(window, period, tz),
    }


def rollup_body(
    source: str,
    window: Window,
    period: Period,
    tz: str,
    app_ids: list[int] | None,
    request_id: str | None = None,
    stages: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One query for ALL entities of an event source in the window (or those ``stages`` filter in).

    Works for rollups (``events``, ``pageEvents``, ``featureEvents``, ``trackEvents``: one row
    per entity x visitor x ... x bucket) and for single events (``guideEvents``,
    ``pollEvents``: Pendo selects them by ``browserTime`` within the window). No per-page or
    per-guide fan-out and no limit: when a window is too big, split the window instead.
    """
    pipeline = [
        {
            "source": {
                source: {"appId": app_id_param(app_ids)},
                "timeSeries": time_series(period, window, tz),
            }
        },
        *(stages or []),
    ]
    return envelope(pipeline, request_id or f"pendo-elt:{source}:{window}")


def _cursor_expr(cursor_field: str) -> str:
    return f"if(isNull({cursor_field}), 0, {cursor_field})"


def keyset_body(
    source: str,
    params: dict[str, Any] | None,
    cursor_field: str,
    id_field: str,
    lower_bound_ms: int | None,
    after: tuple[int, str] | None,
    page_size: int,
    identified_only: bool,
    request_id: str | None = None,
) -> dict[str, Any]:
    """One page of an object source (``visitors``, ``accounts``) in ``(cursor, id)`` order.

    Pipeline: ``source`` -> [``identified``] -> ``eval _cursor`` -> [``filter``] ->
    ``sort [_cursor, id]`` -> ``limit``.

    Null cursors: ``_cursor = if(isNull(c), 0, c)`` is used in both the sort key and the
    filter, so rows without ``lastupdated`` sort first as 0. They are read by a full load
    (``lower_bound_ms`` None or <= 0) and skipped by incremental runs with a positive lower
    bound, never lost mid-pagination.

    Keyset: after ``(c, i)`` a page holds rows with ``_cursor > c`` or ``_cursor == c and
    id > i``, so any number of rows sharing one cursor value are paged through exactly once.
    A page shorter than ``page_size`` is the last one (see :func:`is_last_page`).
    Rows updated during a run move to the end of the order: read again, never skipped.
    """
    if page_size < 1:
        raise ValueError(f"page_size must be >= 1, got {page_size}")
    pipeline: list[dict[str, Any]] = [{"source": {source: params}}]
    if identified_only:
        pipeline.append({"identified": id_field})
    pipeline.append({"eval": {CURSOR_ALIAS: _cursor_expr(cursor_field)}})
    clauses = []
    if lower_bound_ms is not None:
        clauses.append(f"{CURSOR_ALIAS} >= {int(lower_bound_ms)}")
    if after is not None:
        c, i = int(after[0]), quote(after[1])
        clauses.append(f"({CURSOR_ALIAS} > {c} || ({CURSOR_ALIAS} == {c} && {id_field} > {i}))")
    if clauses:
        pipeline.append({"filter": " && ".join(clauses)})
    pipeline.append({"sort": [CURSOR_ALIAS, id_field]})
    pipeline.append({"limit": int(page_size)})
    return envelope(pipeline, request_id or f"pendo-elt:{source}:keyset")


def _get_path(row: dict[str, Any], dotted: str) -> Any:
    value: Any = row
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def next_after(row: dict[str, Any], cursor_field: str, id_field: str) -> tuple[int, str]:
    """Keyset position of a page's last row: ``(cursor or 0, id)``.

    Prefers the ``_cursor`` helper Pendo computed; falls back to the dotted ``cursor_field``.
    """
    cursor = row.get(CURSOR_ALIAS)
    if cursor is None:
        cursor = _get_path(row, cursor_field)
    ident = _get_path(row, id_field)
    if ident is None:
        raise ValueError(f"row has no {id_field!r}; cannot continue keyset pagination")
    return int(cursor or 0), str(ident)


def is_last_page(rows_in_page: int, page_size: int) -> bool:
    """A page shorter than the limit is the last one (a full page needs one more request)."""
    return rows_in_page < page_size
