"""An answer that trickles is cut at ``request_timeout`` for the whole answer, then retried or split as a timeout
(issue 13, item 6).

Before: ``requests``' read timeout restarts with every packet, so an answer dripping 512 bytes a second with
``request_timeout=5`` ran for minutes with no output. The simulator's ``drip`` fault sends the real answer at
``bytes_per_second``.
"""

from __future__ import annotations

import re
import time

from tests.reliability.harness import AGG, EXIT_FAILURE, Workspace, one_error_line

DRIP = {"kind": "drip", "bytes_per_second": 512}
SLOW_DRIP = {"kind": "drip", "bytes_per_second": 256}  # the 8.7 kB page list would take 34 s: far over any bound
TIMEOUT = {"SOURCES__PENDO__REQUEST_TIMEOUT": "5"}


def _plain_run_seconds(ws: Workspace) -> float:
    """How long ``run --resources pages`` takes here without any fault (CLI start-up dominates on a busy machine),
    into a warehouse of its own, so the bounds below measure the attempts and not the machine."""
    plain = ws.cli("run", "--resources", "pages", pipelines_dir=ws.dir / "plain-pipelines",
                   DESTINATION__DUCKDB__CREDENTIALS=str(ws.dir / "plain.duckdb"))
    assert plain.returncode == 0, plain.stderr[-2000:]
    return plain.seconds


def _body_bytes(ws: Workspace, path: str) -> int:
    return len(ws.sim.api("GET", path, params={"expand": "*"}).content)


def test_a_trickling_list_answer_times_out_after_request_timeout_and_the_retry_loads_it(ws: Workspace) -> None:
    assert _body_bytes(ws, "page") > 6 * 256 * 5, "the answer must take far longer than 5 s to trickle"
    plain = _plain_run_seconds(ws)
    ws.sim.inject({**SLOW_DRIP, "path": "/api/v1/page", "times": 1})
    result = ws.cli("run", "--resources", "pages", **TIMEOUT)
    assert result.returncode == 0, result.stderr[-2000:]
    warnings = [line for line in result.stderr.splitlines() if "timed out after 5s" in line]
    assert len(warnings) == 1 and "GET /api/v1/page" in warnings[0], result.stderr
    print(f"one trickling attempt, then a retry: {result.seconds:.1f}s, a plain run {plain:.1f}s")
    # "timed out" itself proves the deadline: a per-read timeout never fires while bytes keep coming
    assert result.seconds < plain + 5 + 5, f"{result.seconds:.1f}s, {plain:.1f}s without the fault"
    ws.assert_equals_truth(["pages"])


def test_a_trickling_event_window_is_split_as_a_timeout_and_every_row_arrives(ws: Workspace) -> None:
    ws.sim.inject({**DRIP, "path": AGG, "body_contains": "pageEvents", "times": 1})
    started = time.monotonic()
    result = ws.cli("run", "--resources", "page_events", **TIMEOUT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r"page_events .* timed out after 5s .*; splitting", result.stderr), result.stderr
    assert time.monotonic() - started < 60
    ws.assert_equals_truth(["page_events"])


def test_an_answer_that_always_trickles_fails_with_one_line_in_about_request_timeout_per_attempt(
    ws: Workspace,
) -> None:
    plain = _plain_run_seconds(ws)
    ws.sim.inject({**SLOW_DRIP, "path": "/api/v1/page", "times": 100})
    result = ws.cli("run", "--resources", "pages", SOURCES__PENDO__MAX_ATTEMPTS="2", **TIMEOUT)
    ws.sim.clear_faults()
    assert result.returncode == EXIT_FAILURE, result.stderr[-2000:]
    line = one_error_line(result)
    assert "GET /api/v1/page timed out after 5s" in line and "request_timeout" in line and "2 attempts" in line
    # without the deadline the two attempts alone take 68 s
    assert result.seconds < plain + 2 * 5 + 5, f"{result.seconds:.1f}s, {plain:.1f}s without the fault"
    print(f"two trickling attempts: {result.seconds:.1f}s, a plain run {plain:.1f}s")
    assert "pages" not in ws.tables()
