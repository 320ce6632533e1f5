"""Pendo's expression language (filter / eval / select arguments), as the simulator implements it.

Source material: the shared Pendo API notes (pendo-api.md §3.6). Each test states one rule.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from simulator.errors import AggregationError, ExpressionError
from simulator.expressions import EvalContext, compile_expression, field_getter, parse_path

NEW_YORK = "America/New_York"
NOW_MS = 1_773_000_000_000  # 2026-03-08T20:00:00Z
CTX = EvalContext(now_ms=NOW_MS, tz=NEW_YORK)


def ev(text: str, row: dict | None = None, ctx: EvalContext = CTX):
    return compile_expression(text).evaluate(row or {}, ctx)


def local_ms(tz: str, *parts: int) -> int:
    return int(datetime(*parts, tzinfo=ZoneInfo(tz)).timestamp()) * 1000


# -- literals and strings ------------------------------------------------------------------------
def test_integer_float_and_exponent_literals():
    assert ev("1700000000000") == 1_700_000_000_000
    assert ev("2.5") == 2.5
    assert ev("1e3") == 1000.0


def test_true_false_null_literals():
    assert ev("true") is True
    assert ev("false") is False
    assert ev("null") is None


def test_double_quoted_string_with_escaped_quote_and_backslash():
    row = {"visitorId": 'a"b\\c'}
    assert ev(r'visitorId == "a\"b\\c"', row) is True


def test_keyset_filter_on_an_id_containing_quote_and_backslash():
    assert ev(r'visitorId > "a\"b\\c"', {"visitorId": 'a"b\\d'}) is True
    assert ev(r'visitorId > "a\"b\\c"', {"visitorId": 'a"b\\c'}) is False


def test_backticks_quote_strings_too():
    assert ev("id == `yourGuideId`", {"id": "yourGuideId"}) is True


def test_escaped_backtick_inside_backtick_string():
    assert ev(r"`tick\`tock`") == "tick`tock"


def test_a_double_quote_needs_no_escape_inside_backticks():
    assert ev('`say "hi"`') == 'say "hi"'


def test_newline_tab_and_unicode_escapes():
    assert ev(r'"a\nb\tc\u00e9"') == "a\nb\tcé"


def test_surrogate_pair_escape_decodes_to_one_code_point():
    assert ev(r'"\ud83d\ude00"') == "😀"


def test_non_ascii_characters_are_allowed_verbatim():
    assert ev('name == "Zoë 日本 😀"', {"name": "Zoë 日本 😀"}) is True


def test_unknown_escape_is_a_syntax_error():
    with pytest.raises(ExpressionError, match="invalid escape"):
        compile_expression(r'"a\qb"')


def test_unterminated_string_is_a_syntax_error():
    with pytest.raises(ExpressionError, match="unterminated string"):
        compile_expression('visitorId > "abc')


# -- paths ---------------------------------------------------------------------------------------
def test_dotted_path_reads_nested_field():
    row = {"metadata": {"auto": {"lastupdated": 123}}}
    assert ev("metadata.auto.lastupdated", row) == 123


def test_missing_intermediate_object_reads_as_null():
    assert ev("metadata.auto.lastupdated", {"metadata": {}}) is None
    assert ev("metadata.auto.lastupdated == null", {}) is True


def test_path_through_a_scalar_reads_as_null():
    assert ev("a.b", {"a": 5}) is None


def test_list_index_in_path():
    row = {"polls": [{"id": "p1"}, {"id": "p2"}]}
    assert ev("polls[1].id", row) == "p2"


def test_list_index_out_of_range_reads_as_null():
    assert ev("polls[5].id", {"polls": [{"id": "p1"}]}) is None


def test_quoted_key_in_brackets_reads_odd_field_names():
    assert ev('metadata["my field"]', {"metadata": {"my field": 1}}) == 1


def test_field_getter_and_parse_path_accept_only_plain_paths():
    assert field_getter("a.b[0]")({"a": {"b": [7]}}) == 7
    assert parse_path("polls[0].id") == ["polls", 0, "id"]
    with pytest.raises(ExpressionError):
        parse_path("a + 1")


# -- comparisons and null ------------------------------------------------------------------------
def test_null_equals_only_null():
    assert ev("x == null", {"x": None}) is True
    assert ev("x == null", {"x": 0}) is False
    assert ev("x != null", {"x": ""}) is True


def test_ordering_against_null_is_always_false():
    for op in ("<", "<=", ">", ">="):
        assert ev(f"x {op} 1", {}) is False
        assert ev(f"1 {op} x", {}) is False
    assert ev("null <= null") is False


def test_negated_null_comparison_is_true():
    assert ev("!(x < 1)", {}) is True


def test_comparing_string_with_number_is_false_not_an_error():
    assert ev('"10" == 10') is False
    assert ev('"10" < 20') is False
    assert ev('x > ""', {"x": 5}) is False


def test_numbers_compare_numerically_across_int_and_float():
    assert ev("1 == 1.0") is True
    assert ev("lastupdated >= 1700000000000", {"lastupdated": 1700000000000}) is True
    assert ev("2 < 10") is True


def test_strings_compare_lexicographically_by_code_point():
    assert ev('"B" < "a"') is True
    assert ev('"abc" < "abd"') is True
    assert ev('"z" < "é"') is True
    assert ev('"ab" < "abc"') is True


def test_any_id_is_greater_than_the_empty_string():
    assert ev('visitorId > ""', {"visitorId": " "}) is True


# -- logic ---------------------------------------------------------------------------------------
def test_and_binds_tighter_than_or():
    assert ev("true || false && false") is True
    assert ev("(true || false) && false") is False


def test_not_binds_tighter_than_and():
    assert ev("!false && false") is False
    assert ev("!(false && false)") is True


def test_logic_uses_js_truthiness_and_yields_booleans():
    assert ev('0 || ""') is False
    assert ev('"a" && 1') is True
    assert ev("!x", {"x": []}) is False


def test_keyset_condition_groups_as_written():
    text = 'k > 5 || (k == 5 && id > "b")'
    assert ev(text, {"k": 5, "id": "c"}) is True
    assert ev(text, {"k": 5, "id": "a"}) is False
    assert ev(text, {"k": 6, "id": "a"}) is True


# -- arithmetic ----------------------------------------------------------------------------------
def test_multiplication_binds_tighter_than_addition():
    assert ev("1 + 2 * 3") == 7
    assert ev("(1 + 2) * 3") == 9


def test_comparison_binds_looser_than_arithmetic():
    assert ev("1 + 2 * 3 == 7") is True


def test_unary_minus():
    assert ev("-x", {"x": 4}) == -4
    assert ev("3 - -2") == 5


def test_exact_integer_division_stays_integral():
    assert ev("86400000 / 1000") == 86400
    assert isinstance(ev("86400000 / 1000"), int)
    assert ev("7 / 2") == 3.5


def test_remainder_takes_the_sign_of_the_dividend():
    assert ev("7 % 3") == 1
    assert ev("-7 % 3") == -1


def test_division_by_zero_yields_null():
    assert ev("1 / 0") is None
    assert ev("1 % 0") is None


def test_arithmetic_with_null_or_strings_yields_null():
    assert ev("x + 1", {}) is None
    assert ev('"a" * 2') is None


def test_plus_joins_two_strings():
    assert ev('"a" + "b"') == "ab"


# -- functions -----------------------------------------------------------------------------------
def test_isnull_and_isnil():
    assert ev("isNull(a.b)", {}) is True
    assert ev("isNil(a)", {"a": 0}) is False


def test_contains_on_strings_and_lists():
    assert ev('contains(url, "/admin")', {"url": "https://x/admin/users"}) is True
    assert ev('contains(ids, "b")', {"ids": ["a", "b"]}) is True
    assert ev('contains(missing, "b")', {}) is False


def test_len_of_strings_and_lists():
    assert ev("len(name)", {"name": "héllo"}) == 5
    assert ev("len(ids)", {"ids": [1, 2, 3]}) == 3
    assert ev("len(missing)", {}) == 0


def test_if_picks_a_branch_by_truthiness():
    assert ev('if(n > 1, "many", "one")', {"n": 2}) == "many"
    assert ev('if(missing, "yes", "no")', {}) == "no"


def test_now_is_the_request_clock():
    assert ev("now()") == NOW_MS
    assert ev("now() - 2 * 24 * 60 * 60 * 1000") == NOW_MS - 172_800_000


def test_date_is_local_midnight_in_the_subscription_zone():
    assert ev("date(2026, 3, 8)") == local_ms(NEW_YORK, 2026, 3, 8)
    assert ev("date(2026, 3, 8)") == 1_772_946_000_000  # 05:00Z, still EST


def test_date_with_time_of_day_after_the_dst_change():
    assert ev("date(2026, 3, 8, 12, 30, 15)") == local_ms(NEW_YORK, 2026, 3, 8, 12, 30, 15)


def test_date_depends_on_the_time_zone():
    kolkata = EvalContext(now_ms=NOW_MS, tz="Asia/Kolkata")
    assert ev("date(2026, 1, 1)", ctx=kolkata) == local_ms("UTC", 2025, 12, 31, 18, 30)


def test_date_rolls_over_out_of_range_parts():
    assert ev("date(2025, 13, 1)") == local_ms(NEW_YORK, 2026, 1, 1)
    assert ev("date(2026, 3, 0)") == local_ms(NEW_YORK, 2026, 2, 28)


def test_list_builds_a_list():
    assert ev('list("a", 1, x)', {"x": None}) == ["a", 1, None]


def test_expand_app_ids_returns_the_all_apps_marker():
    assert ev('expandAppIds("*")') == "*"


def test_unknown_function_is_a_syntax_error():
    with pytest.raises(ExpressionError, match=r"unknown function hash\(\)"):
        compile_expression("hash(visitorId)")


def test_wrong_number_of_arguments_is_a_syntax_error():
    with pytest.raises(ExpressionError, match="takes 1 arguments"):
        compile_expression("isNull(a, b)")


# -- syntax errors -------------------------------------------------------------------------------
def test_in_list_is_rejected():
    with pytest.raises(ExpressionError, match="'in' operator is not supported"):
        compile_expression('visitorId in ["a", "b"]')


def test_list_literal_is_rejected():
    with pytest.raises(ExpressionError, match="not supported"):
        compile_expression('["a"]')


def test_syntax_error_message_names_the_expression():
    with pytest.raises(ExpressionError) as info:
        compile_expression("visitorId = 1")
    assert str(info.value).startswith("Cannot parse filter expression: visitorId = 1: ")


@pytest.mark.parametrize(
    "text",
    ["", "   ", "a ==", "(a == 1", "a == 1)", "a &", "a | b", "a.", "1abc", "'single'", "f(1,)", "a b"],
)
def test_malformed_expressions_are_rejected(text):
    with pytest.raises(ExpressionError, match="^Cannot parse filter expression: "):
        compile_expression(text)


def test_expression_error_is_an_aggregation_error():
    assert issubclass(ExpressionError, AggregationError)


def test_deep_nesting_is_an_error_not_a_crash():
    with pytest.raises(ExpressionError, match="nested too deeply"):
        compile_expression("(" * 5000 + "1" + ")" * 5000)


def test_compiled_expression_is_reusable_across_rows():
    expr = compile_expression("n * 2")
    assert [expr.evaluate({"n": n}, CTX) for n in range(3)] == [0, 2, 4]
