"""Streaming aggregation bodies.

Pendo answers ``{"startTime": <ms>, "results": [row, ...]}`` and a body can run to gigabytes (one call
may return up to 4 GB), so it is parsed incrementally (``results.item``) and never held whole: peers
ran out of memory doing ``resp.json()``. A connection cut mid-body must surface as ``TruncatedBody``
(retry the window), anything that is not the expected JSON as ``MalformedBody``, so that a partial
answer is never mistaken for a complete, smaller one.
"""

from __future__ import annotations

import io
import itertools
import tracemalloc
from collections.abc import Iterator

import ijson
import orjson
import pytest

from sources.pendo import results_parser
from sources.pendo.results_parser import BACKEND, MalformedBody, TruncatedBody, iter_array, iter_results

ROWS = [
    {
        "accountId": "tempAccount",
        "appId": -323232,
        "day": 1543726800000,
        "numEvents": 1,
        "numMinutes": 1,
        "pageId": "4nB8NFtp6zpThsvts93XukexIDc",
        "remoteIp": "2409:4052:61f:2c3f:76bc:d3ab:6fb4:f18e",
        "server": "www.pendosandbox.com",
        "userAgent": "Mozilla/5.0",
        "visitorId": 'te"mp ü 日本',
        "parameters": {"parameter": None, "ratio": 0.25, "list": [1, 2.5, "x"]},
    },
    {"visitorId": "2", "day": 1543726800000, "numEvents": 3, "numMinutes": 2, "lastTime": 1543727000000},
]
BODY = orjson.dumps({"startTime": 1543726800000, "results": ROWS})


@pytest.fixture(params=["fastest", "python"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Behaviour must not depend on which ijson backend happens to be installed."""
    if request.param == "python":
        monkeypatch.setattr(results_parser, "BACKEND", ijson.get_backend("python"))
    return request.param


def parse(body: bytes, chunk_size: int = 65536) -> list[dict]:
    return list(iter_results(io.BytesIO(body), chunk_size=chunk_size))


def test_fastest_ijson_backend_is_used() -> None:
    assert BACKEND.__name__.rsplit(".", 1)[-1] in ("yajl2_c", "yajl2_cffi", "yajl2", "python")
    assert BACKEND.__name__.endswith("yajl2_c"), "the C backend is installed in the venv and must be picked"


def test_rows_and_numbers_come_back_as_plain_python_values(backend: str) -> None:
    rows = parse(BODY)
    assert rows == ROWS
    assert type(rows[0]["parameters"]["ratio"]) is float  # use_float: no Decimal
    assert type(rows[0]["day"]) is int


def test_start_time_is_reported_after_a_complete_parse() -> None:
    seen: list[object] = []
    assert list(iter_results(io.BytesIO(BODY), on_start_time=seen.append)) == ROWS
    assert seen == [1543726800000]
    seen.clear()
    list(iter_results(io.BytesIO(b'{"results": []}'), on_start_time=seen.append))
    assert seen == [None]


@pytest.mark.parametrize("chunk_size", [1, 2, 7, 64, 65536])
def test_chunk_boundaries_do_not_matter(chunk_size: int, backend: str) -> None:
    assert parse(BODY, chunk_size) == ROWS


def test_an_iterable_of_chunks_works_too() -> None:
    chunks = [BODY[i : i + 5] for i in range(0, len(BODY), 5)]
    assert list(iter_results(iter(chunks))) == ROWS  # e.g. requests' Response.iter_content()


def test_empty_results_and_null_results_are_zero_rows(backend: str) -> None:
    assert parse(b'{"startTime": 1, "results": []}') == []
    assert parse(b'{"startTime": 1, "results": null}') == []  # what a Go server sends for a nil slice


@pytest.mark.parametrize("cut", range(0, len(BODY)))
def test_a_body_cut_anywhere_is_truncated_never_a_shorter_answer(cut: int, backend: str) -> None:
    got: list[dict] = []
    with pytest.raises(TruncatedBody):
        for row in iter_results(io.BytesIO(BODY[:cut]), chunk_size=16):
            got.append(row)
    assert got == ROWS[: len(got)], "rows yielded before the cut are whole rows"


def test_a_body_cut_mid_row_reports_a_short_message() -> None:
    cut = BODY[: BODY.index(b'"numMinutes":2')]
    with pytest.raises(TruncatedBody) as err:
        list(iter_results(io.BytesIO(cut)))
    assert "\n" not in str(err.value) and len(str(err.value)) < 120
    assert isinstance(err.value, ValueError)


def test_empty_body_is_truncated(backend: str) -> None:
    with pytest.raises(TruncatedBody, match="empty"):
        parse(b"")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "invalid JSON"),
        (b'[{"visitorId": "1"}]', "top-level object"),
        (b'"Query exceeded memory limit"', "top-level object"),
        (b'{"startTime": 1}', "no 'results'"),
        (b'{"results": {"visitorId": "1"}}', "not an array"),
        (b'{"results": [1, 2]}', "not an object"),
        (b'{"results": [{"a": 1}]}{"results": []}', "invalid JSON"),
        (b'{"results": [{"a": "\xff"}]}', "invalid JSON"),
    ],
)
def test_unexpected_bodies_are_malformed(body: bytes, message: str, backend: str) -> None:
    with pytest.raises(MalformedBody, match=message) as err:
        parse(body)
    assert isinstance(err.value, ValueError)
    assert "\n" not in str(err.value) and len(str(err.value)) < 160


def test_results_key_after_other_keys_is_found() -> None:
    assert parse(b'{"startTime": 1, "extra": {"results": 5}, "results": [{"a": 1}]}') == [{"a": 1}]


def test_bare_array_get_bodies(backend: str) -> None:
    assert list(iter_array(io.BytesIO(orjson.dumps(ROWS)))) == ROWS
    assert list(iter_array(io.BytesIO(b"[]"))) == []
    with pytest.raises(MalformedBody, match="top-level array"):
        list(iter_array(io.BytesIO(BODY)))
    with pytest.raises(TruncatedBody):
        list(iter_array(io.BytesIO(orjson.dumps(ROWS)[:-3])))


# --- memory stays bounded -------------------------------------------------------------------------
class GeneratedBody(io.RawIOBase):
    """A huge body produced on demand, like a socket: never exists whole in memory."""

    def __init__(self, n_rows: int) -> None:
        self.n_rows = n_rows
        self.size = 0
        self._parts = self._generate()
        self._buffer = b""

    def _generate(self) -> Iterator[bytes]:
        yield b'{"startTime": 1543726800000, "results": ['
        for i in range(self.n_rows):
            row = {
                "visitorId": f"visitor-{i}",
                "accountId": f"account-{i % 977}",
                "appId": -323232,
                "day": 1543726800000,
                "numEvents": i % 17,
                "numMinutes": 1,
                "pageId": "4nB8NFtp6zpThsvts93XukexIDc",
                "server": "www.pendosandbox.com",
            }
            yield (b"," if i else b"") + orjson.dumps(row)
        yield b"]}"

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        parts, have = [self._buffer], len(self._buffer)
        while have < len(b):
            part = next(self._parts, None)
            if part is None:
                break
            parts.append(part)
            have += len(part)
        self._buffer = b"".join(parts)
        n = min(len(b), len(self._buffer))
        b[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        self.size += n
        return n


def test_parsing_is_lazy() -> None:
    body = GeneratedBody(50_000)
    rows = iter_results(body)
    first = next(rows)
    assert first["visitorId"] == "visitor-0"
    assert body.size < 200_000, "the first row arrives after reading a chunk, not the whole body"


def test_200k_rows_parse_in_bounded_memory() -> None:
    body = GeneratedBody(200_000)
    tracemalloc.start()
    try:
        count = 0
        events = 0
        for row in iter_results(body):
            count += 1
            events += row["numEvents"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000
    assert events == sum(i % 17 for i in range(200_000))
    assert body.size > 30_000_000  # ~37 MB of JSON went through
    assert peak < 4_000_000, f"peak {peak} bytes: the body or its rows were materialized"
    assert peak < body.size / 10


def test_rows_are_independent_objects() -> None:
    rows = list(itertools.islice(iter_results(GeneratedBody(10)), 3))
    rows[0]["visitorId"] = "changed"
    assert rows[1]["visitorId"] == "visitor-1"
