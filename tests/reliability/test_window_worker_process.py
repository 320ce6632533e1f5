"""The window worker process (issue 15): same rows as the single-process path, and it fails and ends cleanly.

Event windows are fetched, parsed and converted in a worker process when ``sources.pendo.worker_process`` is on
(off by default: it did not pay for its memory on this machine, docs/performance.md); these tests turn it on.
A worker that dies mid-extraction ends the run with one line and exit 1, nothing of it loaded, and the next run
converges; a parent stopped by SIGTERM, or killed, leaves no worker behind. The worker is found as the pendo-elt
process's child running ``sources.pendo.window_worker``; an aggregation answer delayed 60 s keeps it busy.
"""

from __future__ import annotations

import signal
import subprocess
import time

import psutil
import pytest

from tests.reliability.harness import AGG, EXIT_FAILURE, Workspace, error_lines

RESOURCES = "pages,visitors,page_events,guide_events"
TABLES = ["pages", "visitors", "page_events", "guide_events"]
EVENT_TABLES = ("page_events", "guide_events", "feature_events", "poll_events")
GONE_WITHIN_S = 10.0


def _worker_of(process: subprocess.Popen, deadline_s: float = 120) -> psutil.Process:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before its worker was seen"
        try:
            for child in psutil.Process(process.pid).children(recursive=True):
                if "sources.pendo.window_worker" in " ".join(child.cmdline()):
                    return child
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.01)
    raise AssertionError("no window worker process appeared")


def _busy_run(ws: Workspace) -> tuple[subprocess.Popen, psutil.Process]:
    """A run whose worker waits for a page_events answer delayed 60 s (the fault is taken, the reply not sent)."""
    ws.sim.inject({"kind": "delay", "seconds": 60, "path": AGG, "body_contains": "pageEvents", "after": 1})
    process = ws.popen("run", "--resources", RESOURCES, SOURCES__PENDO__WORKER_PROCESS="true")
    worker = _worker_of(process)
    deadline = time.monotonic() + 120
    while ws.sim.control("GET", "faults")["pending"] != []:
        assert process.poll() is None, ws.logs[-1].read_text()[-2000:]
        assert time.monotonic() < deadline, "the delayed answer was never requested"
        time.sleep(0.01)
    return process, worker


def _gone(worker: psutil.Process) -> bool:
    try:
        return worker.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(worker: psutil.Process) -> None:
    deadline = time.monotonic() + GONE_WITHIN_S
    while not _gone(worker):
        assert time.monotonic() < deadline, f"worker {worker.pid} outlived its parent"
        time.sleep(0.05)


def test_the_worker_dying_ends_the_run_with_one_line_and_nothing_loaded(make_workspace) -> None:
    ws: Workspace = make_workspace(scale="small")
    process, worker = _busy_run(ws)
    worker.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    ws.sim.clear_faults()
    output = ws.logs[-1].read_text()
    assert process.returncode == EXIT_FAILURE, output[-3000:]
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output[-3000:]
    assert "worker process" in errors[0] and "SIGKILL" in errors[0], errors[0]
    assert "Traceback" not in output, output[-3000:]
    assert not set(TABLES) & set(ws.tables()) or ws.completed_loads() == [], "something of the run was loaded"

    rerun = ws.cli("run", "--resources", RESOURCES)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    ws.assert_equals_truth(TABLES)
    ws.assert_cursors_consistent(TABLES)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_stopped_parent_leaves_no_worker_behind(make_workspace, sig: int) -> None:
    ws: Workspace = make_workspace(scale="small")
    process, worker = _busy_run(ws)
    process.send_signal(sig)
    process.wait(timeout=60)
    ws.sim.clear_faults()
    assert process.returncode == (143 if sig == signal.SIGTERM else -signal.SIGKILL), ws.logs[-1].read_text()[-2000:]
    _wait_gone(worker)


def test_the_worker_and_the_single_process_path_load_the_same_rows(make_workspace) -> None:
    ws_worker: Workspace = make_workspace(scale="small")
    ws_single = Workspace(ws_worker.sim, ws_worker.dir.parent / "single")
    args = ["run", "--resources", ",".join(EVENT_TABLES)]
    with_worker = ws_worker.cli(*args, SOURCES__PENDO__WORKER_PROCESS="true")
    assert with_worker.returncode == 0, with_worker.stderr[-3000:]
    single = ws_single.cli(*args, SOURCES__PENDO__WORKER_PROCESS="false")
    assert single.returncode == 0, single.stderr[-3000:]
    assert ws_worker.snapshot() == ws_single.snapshot()
    ws_worker.assert_equals_truth(list(EVENT_TABLES))
    assert error_lines(with_worker) == []
