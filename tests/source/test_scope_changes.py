"""Which configuration changes widen or narrow what a table holds (pure logic of sources/pendo/scope.py)."""

from __future__ import annotations

import pytest

from sources.pendo.scope import ALL_APPS, changes

A, B, C = -323232, 5236718798373362, 42


@pytest.mark.parametrize(("before", "after", "wider", "narrower"), [
    ([A], ALL_APPS, True, False),
    ([A], [A, B], True, False),
    (ALL_APPS, [A], False, True),
    ([A, B], [A], False, True),
    ([A, B], [B, C], True, True),
    ([A], [A], False, False),
    (ALL_APPS, ALL_APPS, False, False),
])
def test_app_ids(before, after, wider: bool, narrower: bool) -> None:  # noqa: ANN001
    added, left_out = changes({"app_ids": before}, {"app_ids": after})
    assert bool(added) == wider and bool(left_out) == narrower
    assert all("\n" not in line and line.startswith("sources.pendo.app_ids") for line in added + left_out)


def test_anonymous_visitors() -> None:
    key = "include_anonymous_visitors"
    assert changes({key: False}, {key: True}) == (["sources.pendo.include_anonymous_visitors turned on"], [])
    assert changes({key: True}, {key: False}) == ([], ["sources.pendo.include_anonymous_visitors turned off"])
    assert changes({key: True}, {key: True}) == ([], [])


def test_a_setting_that_does_not_scope_the_table_is_no_change() -> None:
    assert changes({}, {"app_ids": [A]}) == ([], [])
    assert changes({"app_ids": ALL_APPS}, {}) == ([], [])
