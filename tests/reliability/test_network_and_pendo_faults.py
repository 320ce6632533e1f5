"""Faults spread over a whole ``pendo-elt run``: either the run completes equal to the ground truth, or it fails
after bounded retries with one clear line and exit 1, leaves the warehouse untouched, and the next run is exact.

tests/e2e/test_faults.py covers one burst at the start of an in-process run; here the faults are scripted over
every request of a CLI run (``after`` lets requests through between bursts, so the storm reaches the visitor
pages, the event windows and the GETs), and the persistent ones hit a run in the middle of its work.
"""

from __future__ import annotations

import pytest

from tests.reliability.harness import AGG, CORE, EXIT_FAILURE, Workspace, one_error_line

RESOURCES = ",".join(CORE)


def storm(fault: dict, bursts: int, every: int, path: str = "/api/") -> list[dict]:
    """``bursts`` bursts of ``fault``, each after ``every`` untouched requests: a storm over the whole run."""
    return [{"path": path, **fault, "after": every} for _ in range(bursts)]


def _pending(ws: Workspace) -> list:
    return ws.sim.control("GET", "faults")["pending"]


# name -> (fault, bursts, requests let through between bursts, extra environment)
STORMS = {
    "429-with-retry-after": ({"kind": "status", "status": 429, "retry_after": 0.2, "times": 2}, 8, 6, {}),
    "429-without-retry-after": ({"kind": "status", "status": 429, "times": 3}, 8, 6, {}),
    "429-with-retry-after-1s": ({"kind": "status", "status": 429, "retry_after": 1, "times": 1}, 5, 10, {}),
    "500-burst": ({"kind": "status", "status": 500, "times": 3}, 6, 8, {}),
    "502-burst": ({"kind": "status", "status": 502, "times": 2}, 6, 8, {}),
    "503-burst": ({"kind": "status", "status": 503, "times": 3}, 6, 8, {}),
    "504-burst": ({"kind": "status", "status": 504, "times": 2}, 6, 8, {}),
    "slower-than-request-timeout": ({"kind": "delay", "seconds": 2.5, "times": 1}, 4, 12,
                                    {"SOURCES__PENDO__REQUEST_TIMEOUT": "1"}),
    "cut-mid-body": ({"kind": "cut", "after_bytes": 120, "times": 2}, 8, 6, {}),
    "truncated-json": ({"kind": "truncate", "after_bytes": 90, "times": 2}, 8, 6, {}),
}
DEFAULT_STORMS = ("429-with-retry-after", "503-burst", "cut-mid-body")


def _storm_params() -> list:
    return [pytest.param(name, id=name, marks=() if name in DEFAULT_STORMS else pytest.mark.slow) for name in STORMS]


@pytest.mark.parametrize("name", _storm_params())
def test_a_storm_spread_over_a_whole_run_completes_equal_to_the_truth(ws: Workspace, name: str) -> None:
    fault, bursts, every, env = STORMS[name]
    ws.sim.inject(*storm(fault, bursts, every))
    result = ws.cli("run", "--resources", RESOURCES, **env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _pending(ws) == [], "the storm did not last the whole run"
    ws.assert_equals_truth(CORE)
    ws.assert_cursors_consistent(CORE)


# name -> (fault, path, extra environment, what the error line must say)
PERSISTENT = {
    "429-with-retry-after": ({"kind": "status", "status": 429, "retry_after": 0.1}, AGG, {}, "429"),
    "429-without-retry-after": ({"kind": "status", "status": 429}, AGG, {}, "429"),
    "500": ({"kind": "status", "status": 500}, AGG, {}, "500"),
    "502": ({"kind": "status", "status": 502}, AGG, {}, "502"),
    "503": ({"kind": "status", "status": 503}, AGG, {}, "503"),
    "slower-than-request-timeout": ({"kind": "delay", "seconds": 1.6}, "/api/v1/page",
                                    {"SOURCES__PENDO__REQUEST_TIMEOUT": "1"}, "timed out"),
    "cut-mid-body": ({"kind": "cut", "after_bytes": 120}, AGG, {}, "cut"),
    "truncated-json": ({"kind": "truncate", "after_bytes": 90}, AGG, {}, "cut"),
}
DEFAULT_PERSISTENT = ("429-without-retry-after",)


def _persistent_params() -> list:
    return [pytest.param(name, id=name, marks=() if name in DEFAULT_PERSISTENT else pytest.mark.slow)
            for name in PERSISTENT]


@pytest.mark.parametrize("name", _persistent_params())
def test_a_fault_that_outlasts_the_retries_fails_with_one_line_and_exit_1_then_the_next_run_is_exact(
    ws: Workspace, name: str
) -> None:
    fault, path, env, says = PERSISTENT[name]
    ws.loader().run(list(CORE))  # yesterday's load ...
    ws.sim.advance(hours=30)  # ... and a day of new data the failing run must not half-load
    before, cursors = ws.snapshot(), ws.cursors()

    # Fails the run in the middle: the fourth aggregation on (the run's only GET /page: at once).
    ws.sim.inject({"path": path, "times": 500, "after": 0 if path == "/api/v1/page" else 3, **fault})
    failed = ws.cli("run", "--resources", RESOURCES, SOURCES__PENDO__MAX_ATTEMPTS="3", **env)
    assert failed.returncode == EXIT_FAILURE, failed.stderr[-2000:]
    line = one_error_line(failed)
    assert path in line and says in line and "3 attempts" in line, line
    assert ws.snapshot() == before, "a failed run changed the warehouse"
    assert ws.cursors() == cursors, "a failed run moved the cursors"

    ws.sim.clear_faults()
    rerun = ws.cli("run", "--resources", RESOURCES)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    ws.assert_equals_truth(CORE)
    ws.assert_cursors_consistent(CORE)


def test_an_outage_of_the_pendo_clock_query_fails_the_run_and_the_next_run_is_exact(ws: Workspace) -> None:
    """Finding F1 (fixed in 0274a83 for outages): the run fell back to the machine's clock.

    The simulator's clock stands in for Pendo's; the machine's clock is months away from it (a skewed host). The
    first aggregation of a ``page_events`` run is the clock query (``now()``): two 503s exhaust its two attempts.
    Falling back to the local clock moved the cursor to the machine's today, and the rows Pendo served after that
    were never loaded. Now the run fails, and a later run loads everything.
    """
    ws.sim.inject({"kind": "status", "status": 503, "times": 2, "path": AGG})
    # 31-day windows keep the run short should it plan windows up to the machine's clock.
    failed = ws.cli("run", "--resources", "page_events", SOURCES__PENDO__MAX_ATTEMPTS="2",
                    SOURCES__PENDO__WINDOW_DAYS="31")
    assert failed.returncode == EXIT_FAILURE and "server clock" in one_error_line(failed)
    ws.sim.advance(days=1)
    rerun = ws.cli("run", "--resources", "page_events")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    ws.assert_equals_truth(["page_events"])


def test_a_refused_pendo_clock_query_never_moves_a_cursor_past_pendos_now(ws: Workspace) -> None:
    """Rest of finding F1 (fixed in 8bd7a9f): a 400 (or an empty answer) to the clock query still fell back to the
    machine's clock *and moved the cursors to it*; now the run ends its windows at the guessed clock but leaves
    every event cursor where it was, so the next run re-reads from there."""
    ws.sim.inject({"kind": "status", "status": 400, "body": "Invalid aggregation request", "times": 1, "path": AGG})
    guessed = ws.cli("run", "--resources", "page_events", SOURCES__PENDO__WINDOW_DAYS="31")
    assert guessed.returncode == 0 and "cursors stay where they are" in guessed.stderr
    assert "page_events" not in ws.cursors()
    ws.sim.advance(days=1)
    rerun = ws.cli("run", "--resources", "page_events")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    ws.assert_equals_truth(["page_events"])
