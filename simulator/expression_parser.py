"""Tokenizer and recursive-descent parser for Pendo's C-like expression language.

Parsing is kept apart from evaluation so the grammar can be read on its own. The parser returns a
tiny tuple AST that `simulator.expressions` compiles into closures:

    ("lit", value)             number, string, true/false/null
    ("path", [seg, ...])       field path; a seg is a str key or an int list index
    ("call", name, [args])     function call
    ("not", x) / ("neg", x)    unary ! and -
    ("bin", op, left, right)   == != < <= > >= + - * / %
    ("and", l, r) / ("or", l, r)

Precedence, loosest first: `||`, `&&`, `== !=`, `< <= > >=`, `+ -`, `* / %`, unary `! -`.
"""

from __future__ import annotations

import re
from typing import Any

from simulator.errors import ExpressionError

Node = tuple[Any, ...]

_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_IDENT = re.compile(r"[^\W\d]\w*")
_TWO_CHAR_OPS = frozenset({"==", "!=", "<=", ">=", "&&", "||"})
_ONE_CHAR_OPS = frozenset("<>!+-*/%(),.[]")
_ESCAPES = {
    '"': '"', "`": "`", "'": "'", "\\": "\\", "/": "/",
    "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f",
}
_KEYWORDS: dict[str, Any] = {"true": True, "false": False, "null": None}
_IN_HINT = "the 'in' operator is not supported; compare with == and join the tests with ||"


def parse_error(text: str, reason: str) -> ExpressionError:
    """Build the plain, Pendo-like message every syntax error uses."""
    return ExpressionError(f"Cannot parse filter expression: {text}: {reason}")


def _read_string(text: str, start: int) -> tuple[str, int]:
    """Read a "..." or `...` literal starting at `start`; return (value, index after it)."""
    quote, i, n = text[start], start + 1, len(text)
    out: list[str] = []
    while i < n:
        ch = text[i]
        if ch == quote:
            return "".join(out), i + 1
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= n:
            break
        esc = text[i + 1]
        if esc == "u":
            code, i = _read_unicode_escape(text, i)
            out.append(chr(code))
        elif esc in _ESCAPES:
            out.append(_ESCAPES[esc])
            i += 2
        else:
            raise parse_error(text, f"invalid escape \\{esc} at position {i}")
    raise parse_error(text, f"unterminated string starting at position {start}")


def _read_unicode_escape(text: str, i: int) -> tuple[int, int]:
    """Decode \\uXXXX at `i` (joining a UTF-16 surrogate pair); return (code point, next index)."""
    code = _hex4(text, i)
    i += 6
    if 0xD800 <= code < 0xDC00 and text.startswith("\\u", i):
        low = _hex4(text, i)
        if 0xDC00 <= low < 0xE000:
            return 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00), i + 6
    if 0xD800 <= code < 0xE000:
        raise parse_error(text, f"lone UTF-16 surrogate in \\u escape at position {i - 6}")
    return code, i


def _hex4(text: str, i: int) -> int:
    digits = text[i + 2 : i + 6]
    if len(digits) != 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise parse_error(text, f"invalid \\u escape at position {i}")
    return int(digits, 16)


def tokenize(text: str) -> list[tuple[str, Any, int]]:
    """Split `text` into (kind, value, position) tokens; kind is num, str, ident, op or end."""
    tokens: list[tuple[str, Any, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in '"`':
            value, end = _read_string(text, i)
            tokens.append(("str", value, i))
            i = end
        elif "0" <= ch <= "9":
            match = _NUMBER.match(text, i)
            assert match is not None
            end = match.end()
            if end < n and (text[end].isalnum() or text[end] in "_."):
                raise parse_error(text, f"malformed number at position {i}")
            lit = match.group()
            tokens.append(("num", float(lit) if any(c in lit for c in ".eE") else int(lit), i))
            i = end
        elif text[i : i + 2] in _TWO_CHAR_OPS:
            tokens.append(("op", text[i : i + 2], i))
            i += 2
        elif ch in _ONE_CHAR_OPS:
            tokens.append(("op", ch, i))
            i += 1
        elif (match := _IDENT.match(text, i)) is not None:
            tokens.append(("ident", match.group(), i))
            i = match.end()
        else:
            raise parse_error(text, f"unexpected character {ch!r} at position {i}")
    tokens.append(("end", None, n))
    return tokens


class _Parser:
    """One-shot recursive-descent parser over a token list."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0

    def parse(self) -> Node:
        if self.tokens[0][0] == "end":
            raise parse_error(self.text, "empty expression")
        node = self._or()
        if self._peek()[0] != "end":
            raise self._unexpected()
        return node

    # -- token helpers -------------------------------------------------------------------------
    def _peek(self) -> tuple[str, Any, int]:
        return self.tokens[self.pos]

    def _next(self) -> tuple[str, Any, int]:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def _accept_op(self, *ops: str) -> str | None:
        kind, value, _ = self.tokens[self.pos]
        if kind == "op" and value in ops:
            self.pos += 1
            return value
        return None

    def _expect_op(self, op: str) -> None:
        if self._accept_op(op) is None:
            raise self._unexpected(f"expected {op!r}")

    def _unexpected(self, expected: str = "") -> ExpressionError:
        kind, value, at = self._peek()
        if kind == "ident" and value == "in":
            return parse_error(self.text, _IN_HINT)
        what = "end of expression" if kind == "end" else f"{value!r} at position {at}"
        return parse_error(self.text, f"unexpected {what}" + (f", {expected}" if expected else ""))

    # -- grammar -------------------------------------------------------------------------------
    def _or(self) -> Node:
        node = self._and()
        while self._accept_op("||"):
            node = ("or", node, self._and())
        return node

    def _and(self) -> Node:
        node = self._binary_level(0)
        while self._accept_op("&&"):
            node = ("and", node, self._binary_level(0))
        return node

    _LEVELS: tuple[tuple[str, ...], ...] = (("==", "!="), ("<", "<=", ">", ">="), ("+", "-"), ("*", "/", "%"))

    def _binary_level(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self._unary()
        node = self._binary_level(level + 1)
        while (op := self._accept_op(*self._LEVELS[level])) is not None:
            node = ("bin", op, node, self._binary_level(level + 1))
        return node

    def _unary(self) -> Node:
        if self._accept_op("!"):
            return ("not", self._unary())
        if self._accept_op("-"):
            return ("neg", self._unary())
        return self._primary()

    def _primary(self) -> Node:
        kind, value, _ = self._peek()
        if kind in ("num", "str"):
            self.pos += 1
            return ("lit", value)
        if kind == "ident":
            self.pos += 1
            if value in _KEYWORDS:
                return ("lit", _KEYWORDS[value])
            if self._accept_op("("):
                return ("call", value, self._arguments())
            return ("path", self._path_rest([value]))
        if self._accept_op("("):
            node = self._or()
            self._expect_op(")")
            return node
        if kind == "op" and value == "[":
            raise parse_error(self.text, "list literals are not supported; " + _IN_HINT)
        raise self._unexpected()

    def _arguments(self) -> list[Node]:
        args: list[Node] = []
        if self._accept_op(")"):
            return args
        while True:
            args.append(self._or())
            if self._accept_op(")"):
                return args
            if self._accept_op(",") is None:
                raise self._unexpected("expected ',' or ')'")

    def _path_rest(self, segments: list[str | int]) -> list[str | int]:
        while True:
            if self._accept_op("."):
                kind, value, _ = self._peek()
                if kind != "ident":
                    raise self._unexpected("expected a field name after '.'")
                self.pos += 1
                segments.append(value)
            elif self._accept_op("["):
                kind, value, _ = self._peek()
                if not ((kind == "num" and type(value) is int) or kind == "str"):
                    raise self._unexpected("expected an integer index or a quoted key")
                self.pos += 1
                segments.append(value)
                self._expect_op("]")
            else:
                return segments


def parse(text: str) -> Node:
    """Parse `text` into the tuple AST described in the module docstring."""
    try:
        return _Parser(text).parse()
    except RecursionError:
        raise parse_error(text, "expression is nested too deeply") from None
