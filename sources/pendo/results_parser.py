"""Parsing Pendo's aggregation answers: ``{"results": [...]}`` bodies, whole or streamed.

A body up to :data:`MAX_BODY_IN_MEMORY` is read whole and parsed by orjson (about twice as fast as ijson); a
larger one is streamed with ijson from the bytes already read, never loaded whole. A body that ends early
(:class:`TruncatedBody`) is retried by the client; one that is not the JSON we expect is :class:`MalformedBody`.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, BinaryIO

import ijson
import orjson

from sources.pendo import parse_turn


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
    parse_turn.take()  # a window fetcher parses and converts one answer at a time (sources/pendo/parse_turn.py)
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
