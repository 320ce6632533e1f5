"""String literals inside Pendo filter expressions.

Pendo's expression language is "basic C expression syntax" with double-quoted strings. A peer
extractor broke on ids containing ``"`` or ``\\`` ("Cannot parse filter expression", HTTP 400), so
every id we put into a filter goes through ``quote()``: backslash and double quote escaped, newline,
tab and CR as ``\\n \\t \\r``, other control characters as ``\\uXXXX``, non-ASCII unchanged (the body is
UTF-8 JSON). These tests pin the exact output and prove it round-trips through a C-like parser.
"""

from __future__ import annotations

import orjson
import pytest

from sources.pendo.aggregation import quote

NASTY_IDS = [
    "",
    "plain-id_123",
    'say "hi"',
    "back\\slash",
    "trailing backslash\\",
    '\\"',
    "two words  and\ttab",
    "line\nbreak\r\n",
    "nul\x00bell\x07esc\x1bdel\x7f",
    "ünïcödé 日本語 emoji 🚀",
    "_PENDO_T_abc",
    "`backtick` and 'single'",
    'expr injection" || true || "',
    "/slashes/and?query=1&x=%20",
    "\u2028line separator\u2029",
]


def c_like_unquote(literal: str) -> str:
    """A minimal reference parser for one double-quoted C/JSON-style string literal."""
    assert literal[0] == '"' and literal[-1] == '"'
    body, out, i = literal[1:-1], [], 0
    simple = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
    while i < len(body):
        ch = body[i]
        if ch == '"':
            raise AssertionError(f"unescaped quote at {i} in {literal!r}")
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        esc = body[i + 1]
        if esc == "u":
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        else:
            out.append(simple[esc])
            i += 2
    return "".join(out)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", '"abc"'),
        ("", '""'),
        ('a"b', '"a\\"b"'),
        ("a\\b", '"a\\\\b"'),
        ("a\nb\tc\rd", '"a\\nb\\tc\\rd"'),
        ("\x00\x1f\x7f", '"\\u0000\\u001f\\u007f"'),
        ("café 日本", '"café 日本"'),
        ("a b", '"a b"'),
    ],
)
def test_quote_exact_output(value: str, expected: str) -> None:
    assert quote(value) == expected


@pytest.mark.parametrize("value", NASTY_IDS)
def test_quote_round_trips_through_a_c_like_parser(value: str) -> None:
    literal = quote(value)
    assert c_like_unquote(literal) == value
    assert not any(ord(c) < 0x20 for c in literal), "raw control characters never reach Pendo"


@pytest.mark.parametrize("value", NASTY_IDS)
def test_quoted_filter_survives_the_json_body_unchanged(value: str) -> None:
    flt = f"visitorId > {quote(value)}"
    assert orjson.loads(orjson.dumps({"filter": flt}))["filter"] == flt


def test_non_ascii_is_sent_as_utf8_not_escaped() -> None:
    assert quote("日本") == '"日本"'
    assert "\\u" not in quote("🚀")


def test_lone_surrogate_cannot_be_utf8_so_it_is_escaped() -> None:
    assert quote("a\ud800b") == '"a\\ud800b"'


def test_quote_refuses_non_strings() -> None:
    with pytest.raises(TypeError):
        quote(123)  # type: ignore[arg-type]


# --- against the simulator's expression engine (a parallel engineer's Pendo model) -------------------
simulator_expressions = pytest.importorskip("simulator.expressions")
CTX = simulator_expressions.EvalContext(now_ms=0, tz="UTC")


@pytest.mark.parametrize("value", NASTY_IDS)
def test_quote_round_trips_through_the_simulator_expression_engine(value: str) -> None:
    equal = simulator_expressions.compile_expression(f"visitorId == {quote(value)}")
    assert equal.evaluate({"visitorId": value}, CTX) is True
    assert equal.evaluate({"visitorId": value + "x"}, CTX) is False
    # An id crafted to close the string and inject "|| true" stays one literal.
    assert equal.evaluate({"visitorId": "something else"}, CTX) is False


@pytest.mark.parametrize("value", NASTY_IDS)
def test_string_ordering_in_filters_matches_python_code_point_order(value: str) -> None:
    greater = simulator_expressions.compile_expression(f"visitorId > {quote(value)}")
    for other in NASTY_IDS:
        assert greater.evaluate({"visitorId": other}, CTX) is (other > value), (other, value)
