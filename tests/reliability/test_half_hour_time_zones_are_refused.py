"""A subscription time zone off the whole hour is refused before any request: one line, exit 2, nothing loaded.

Pendo supports only whole-hour subscription zones; with one, hour windows split by the memory limit put bucket
edges on the half hour and duplicated guide events (issue 13 item 10). The right zone then loads exactly.
"""

from __future__ import annotations

import pytest

from tests.reliability.harness import CORE, EXIT_OK, EXIT_USAGE, Workspace, one_error_line


@pytest.mark.parametrize("tz", ["Asia/Kolkata", pytest.param("Australia/Lord_Howe", marks=pytest.mark.slow),
                                pytest.param("Asia/Kathmandu", marks=pytest.mark.slow)])
def test_a_half_hour_zone_is_refused_before_any_request_and_the_right_zone_then_loads_exactly(
        ws: Workspace, tz: str) -> None:
    refused = ws.cli("run", "--resources", ",".join(CORE), SOURCES__PENDO__SUBSCRIPTION_TIMEZONE=tz,
                     SOURCES__PENDO__PERIOD="hour")
    assert refused.returncode == EXIT_USAGE, refused.stderr[-2000:]
    line = one_error_line(refused)
    assert "sources.pendo.subscription_timezone" in line and tz in line and "whole-hour" in line
    assert ws.sim.request_counts() == {}, "a request reached Pendo before the zone was refused"
    assert ws.tables() == []

    loaded = ws.cli("run", "--resources", ",".join(CORE))
    assert loaded.returncode == EXIT_OK, loaded.stderr[-2000:]
    ws.assert_equals_truth(CORE)
