"""Aggregation request bodies, expression-string escaping and result parsing.

Pure functions: nothing here does HTTP. The resource code POSTs the dicts built here to
``/api/v1/aggregation`` and feeds the response stream to :func:`read_results`.

Why the care:
- IDs containing ``"`` or ``\\`` broke peers' filters ("Cannot parse filter expression"), so
  every string literal goes through :func:`quote`.
- Many rows share one cursor value (``metadata.auto.lastupdated``), so object sources are
  paged by the keyset ``(cursor, id)``, never by the cursor alone and never by ``skip``.
- Bodies can be gigabytes: one up to :data:`MAX_BODY_IN_MEMORY` is read whole and parsed by orjson
  (about twice as fast as ijson); a larger one is streamed with ijson, never loaded whole.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, BinaryIO

import ijson
import orjson

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


# --- streaming results ----------------------------------------------------------------------------


class TruncatedBody(ValueError):
    """The body ended before its JSON did (connection cut, partial read): retry the request."""


class MalformedBody(ValueError):
    """The body is not the JSON we expect (HTML error page, bare array, garbage)."""


def _fastest_backend() -> Any:
    for name in ("yajl2_c", "yajl2_cffi", "yajl2", "python"):
        try:
            return ijson.get_backend(name)
        except ImportError:
            continue
    raise ImportError("no ijson backend available")  # pragma: no cover


BACKEND = _fastest_backend()
CHUNK_SIZE = 64 * 1024
_SNIPPET = 40


class _Tap:
    """File-like view of the body for ``ijson.items``: passes chunks through untouched while it
    shows the first ones to the shape check, keeps the first bytes for error messages and
    notes end-of-body (only an end-of-input error after it means truncation).

    ``ijson.items`` on a file is ~2.5x faster with yajl2_c than the push (coroutine) API.
    """

    def __init__(self, stream: BinaryIO | Iterable[bytes], shape: _Shape) -> None:
        read = getattr(stream, "read", None)
        self._read: Callable[[int], bytes] = read if read is not None else self._from_iterable(stream)
        self._shape = shape
        self._events: Any = BACKEND.parse_coro(shape)
        self.head = b""
        self.eof = False
        self.problem: MalformedBody | None = None

    @staticmethod
    def _from_iterable(chunks: Iterable[bytes]) -> Callable[[int], bytes]:
        """``read(n)`` over an iterable of chunks (e.g. ``Response.iter_content``); never returns
        more than ``n`` bytes, which the C backend relies on."""
        it = iter(chunks)
        pending = b""
        offset = 0

        def read(size: int) -> bytes:
            nonlocal pending, offset
            if offset >= len(pending):
                pending, offset = next((c for c in it if c), b""), 0
            if size < 0:
                size = len(pending) - offset
            out = pending[offset : offset + size]
            offset += len(out)
            return bytes(out)

        return read

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson probes read(0) to tell bytes from text: not the end of the body
            return b""
        chunk = self._read(size)
        if not chunk:
            self.eof = True
            return b""
        if len(self.head) < _SNIPPET:
            self.head += chunk[: _SNIPPET - len(self.head)]
        if self._events is not None:
            try:
                self._events.send(chunk)
            except (MalformedBody, ijson.JSONError) as err:
                # Don't throw through ijson's frames: end the body here and re-raise afterwards.
                self.problem = err if isinstance(err, MalformedBody) else _malformed(err, self.head)
                self._events = None
                return b""
            if self._shape.decided:
                self.close_events()
        return chunk

    def close_events(self) -> None:
        """Stop the shape check; it saw only part of the body, so its end-of-input error is moot."""
        events, self._events = self._events, None
        if events is not None:
            with contextlib.suppress(ijson.JSONError, MalformedBody):
                events.close()


def _short(err: Exception) -> str:
    """yajl messages carry a multi-line excerpt; keep the first line."""
    text = err.args[0] if err.args else err
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text).strip().splitlines()[0] if str(text).strip() else type(err).__name__


class _Shape:
    """Watches the first parse events to check the top-level container, then stops.

    Fed only until decided, so its per-event Python cost is paid for the first chunk only.
    """

    def __init__(self, container: str) -> None:
        self.container = container  # "results" (object with results array) or "array"
        self.decided = False
        self.empty_results = False  # "results": null
        self.start_time: int | float | None = None
        self._first = True
        self._in_results_key = False
        self._start_time_key = False

    def send(self, event: tuple[str, str, Any]) -> None:
        if self.decided:
            return
        prefix, kind, value = event
        if self._first:
            self._first = False
            if self.container == "array":
                if kind != "start_array":
                    raise MalformedBody(f"expected a top-level array, got {_kind_name(kind)}")
                self.decided = True
                return
            if kind != "start_map":
                raise MalformedBody(f"expected a top-level object with 'results', got {_kind_name(kind)}")
            return
        if self._start_time_key:
            self._start_time_key = False
            if kind == "number":
                self.start_time = int(value) if value == int(value) else float(value)
        if self._in_results_key:
            self._in_results_key = False
            if kind == "start_array":
                self.decided = True
            elif kind == "null":
                self.decided = self.empty_results = True
            else:
                raise MalformedBody(f"'results' is not an array (got {_kind_name(kind)})")
        elif prefix == "" and kind == "map_key":
            self._in_results_key = value == "results"
            self._start_time_key = value == "startTime"
        elif prefix == "" and kind == "end_map":
            raise MalformedBody("object has no 'results' array")


def _kind_name(event: str) -> str:
    return {"start_map": "object", "start_array": "array", "map_key": "key"}.get(event, event)


def _iter_items(
    stream: BinaryIO | Iterable[bytes],
    prefix: str,
    container: str,
    on_start_time: Callable[[int | float | None], None] | None,
    chunk_size: int,
) -> Iterator[dict[str, Any]]:
    shape = _Shape(container)
    tap = _Tap(stream, shape)
    try:
        yield from _checked_items(tap, prefix, chunk_size)
    finally:
        tap.close_events()
    if not shape.decided:  # pragma: no cover - the shape check raises on the closing brace
        raise MalformedBody("unexpected top-level JSON")
    if on_start_time is not None:
        on_start_time(shape.start_time)


def _malformed(err: Exception, head: bytes) -> MalformedBody:
    return MalformedBody(f"invalid JSON ({_short(err)}); body starts {head!r}")


def _checked_items(tap: _Tap, prefix: str, chunk_size: int) -> Iterator[dict[str, Any]]:
    try:
        for row in BACKEND.items(tap, prefix, use_float=True, buf_size=chunk_size):
            if tap.problem is not None:
                break
            if not isinstance(row, dict):
                raise MalformedBody(f"{prefix} is not an object (got {type(row).__name__})")
            yield row
    except ijson.JSONError as err:
        if tap.problem is not None:
            raise tap.problem from None
        # Errors raised while bytes still flow are bad JSON; errors raised once the body has
        # ended ("premature EOF", a token cut in half: "-", "\u12", half a UTF-8 sequence) mean
        # the body stopped early.
        if not tap.eof:
            raise _malformed(err, tap.head) from None
        if not tap.head.strip():
            raise TruncatedBody("empty body") from None
        raise TruncatedBody(f"body ended mid-JSON ({_short(err)})") from None
    if tap.problem is not None:
        raise tap.problem


def iter_results(
    stream: BinaryIO | Iterable[bytes],
    on_start_time: Callable[[int | float | None], None] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[dict[str, Any]]:
    """Stream the rows of an aggregation response ``{"startTime": ms, "results": [...]}``.

    ``stream`` is anything with ``read(n)`` (``resp.raw`` with ``decode_content=True``) or an
    iterable of byte chunks (``resp.iter_content(65536)``). Numbers come back as int/float.
    ``"results": null`` counts as zero rows. ``on_start_time`` is called with ``startTime``
    (None if absent or after ``results``) once the body parsed completely.
    Raises :class:`TruncatedBody` / :class:`MalformedBody` (possibly after some rows): rows
    yielded before are whole rows of an incomplete answer, so discard them and re-run the
    request rather than load a silently shorter result.
    """
    return _iter_items(stream, "results.item", "results", on_start_time, chunk_size)


def iter_array(stream: BinaryIO | Iterable[bytes], chunk_size: int = CHUNK_SIZE) -> Iterator[dict[str, Any]]:
    """Stream the objects of a bare-array GET body (``/api/v1/page``, ``/feature``, ...)."""
    return _iter_items(stream, "item", "array", None, chunk_size)


MAX_BODY_IN_MEMORY = 32 * 2**20
"""Bodies up to this size are parsed whole. Parsed rows take ~3x the body's size (a large-scale day of
page_events is 15 MB of JSON); above it, rows are streamed so memory stays bounded."""
READ_SIZE = 1024 * 1024


def read_results(
    stream: BinaryIO, max_in_memory: int = MAX_BODY_IN_MEMORY
) -> list[dict[str, Any]] | Iterator[dict[str, Any]]:
    """The rows of an aggregation answer: a list when the body fit in ``max_in_memory``, else a stream.

    Reading stops at ``max_in_memory`` bytes: a larger body continues through :func:`iter_results` from the
    bytes already read, so it is never held whole. A small body is parsed by orjson; when it is not the
    expected shape, :func:`iter_results` parses it again to raise the same :class:`TruncatedBody` /
    :class:`MalformedBody` (with the same message) as streaming would have.
    """
    buffer = bytearray()
    while len(buffer) <= max_in_memory:
        chunk = stream.read(READ_SIZE)
        if not chunk:
            return _parse_whole(buffer)
        buffer += chunk
    return iter_results(_chunks([buffer], stream))


def _chunks(held: list[bytearray], stream: BinaryIO) -> Iterator[bytes | bytearray]:
    """The bytes already read, then the rest of the stream; the first chunk is let go once it was parsed."""
    yield held.pop()
    yield from iter(partial(stream.read, READ_SIZE), b"")


def _parse_whole(body: bytearray) -> list[dict[str, Any]]:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict) and "results" in parsed:
        results = parsed["results"]
        if results is None:
            return []
        if isinstance(results, list) and all(type(row) is dict for row in results):
            return results
    return list(iter_results(io.BytesIO(body)))
