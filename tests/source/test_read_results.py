"""Reading a whole aggregation answer: orjson for bodies that fit the bound, ijson streaming above it.

Both paths must agree row for row and fail alike: a cut body is ``TruncatedBody`` (the window is retried), a
body of the wrong shape is ``MalformedBody`` with the message the streaming parser gives, and a body above the
bound is never held whole.
"""

from __future__ import annotations

import io
import tracemalloc

import orjson
import pytest

from sources.pendo.results_parser import MalformedBody, TruncatedBody, iter_results, read_results
from tests.source.test_stream_parsing import BODY, ROWS, GeneratedBody

SMALL, STREAMED = 1 << 20, 40  # bounds: the body fits / the body is streamed after 40 bytes


def read(body: bytes, bound: int) -> list[dict]:
    return list(read_results(io.BytesIO(body), max_in_memory=bound))


@pytest.mark.parametrize("bound", [SMALL, STREAMED])
def test_both_paths_give_the_rows_of_the_streaming_parser(bound: int) -> None:
    assert read(BODY, bound) == ROWS == list(iter_results(io.BytesIO(BODY)))
    assert read(b'{"startTime": 1, "results": null}', bound) == []
    assert read(b'{"startTime": 1, "extra": {"results": 5}, "results": [{"a": 1}]}', bound) == [{"a": 1}]


def test_a_small_body_is_parsed_whole_and_a_large_one_streamed() -> None:
    assert isinstance(read_results(io.BytesIO(BODY), max_in_memory=SMALL), list)
    streamed = read_results(io.BytesIO(BODY), max_in_memory=STREAMED)
    assert not isinstance(streamed, list)
    assert list(streamed) == ROWS


@pytest.mark.parametrize("bound", [SMALL, STREAMED])
@pytest.mark.parametrize("cut", range(0, len(BODY), 7))
def test_a_cut_body_is_truncated_on_both_paths(cut: int, bound: int) -> None:
    with pytest.raises(TruncatedBody):
        read(BODY[:cut], bound)


@pytest.mark.parametrize("bound", [SMALL, STREAMED])
@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>",
        b"OK",
        b'[{"visitorId": "1"}]',
        b'"Query exceeded memory limit"',
        b'{"startTime": 1}',
        b'{"results": 5}',
        b'{"results": {"visitorId": "1"}}',
        b'{"results": [1, 2]}',
        b'{"results": [{"a": 1}, "x"]}',
        b'{"results": [{"a": 1}]}{"results": []}',
        b'{"results": [{"a": "\xff"}]}',
    ],
)
def test_unexpected_bodies_fail_with_the_streaming_parsers_message(body: bytes, bound: int) -> None:
    with pytest.raises(MalformedBody) as streamed:
        list(iter_results(io.BytesIO(body)))
    with pytest.raises(MalformedBody) as got:
        read(body, bound)
    assert str(got.value) == str(streamed.value)


def test_a_body_above_the_bound_is_never_held_whole() -> None:
    body = GeneratedBody(200_000)
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_results(body, max_in_memory=1 << 20))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000
    assert body.size > 30_000_000
    # The bound, one read ahead and the test body's own buffers: a few MB, not the body's 30+ MB.
    assert peak < 10 << 20, f"peak {peak} bytes: the body or its rows were materialized"


def test_a_body_at_the_bound_is_parsed_whole() -> None:
    body = orjson.dumps({"results": [{"i": i} for i in range(1000)]})
    assert isinstance(read_results(io.BytesIO(body), max_in_memory=len(body)), list)
    assert not isinstance(read_results(io.BytesIO(body), max_in_memory=len(body) - 1), list)
