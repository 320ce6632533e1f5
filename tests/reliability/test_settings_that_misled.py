"""Settings and failures whose outcome or message misled (issue 13, item 8): each now works, or gives one line
naming what is wrong with the exit code that says whether retrying can help (2: configuration, 1: retry).

Before: a ``base_url`` path prefix was dropped (404s); ``request_timeout`` 0.001 said "window too large for
Pendo"; a negative ``retry_backoff_seconds`` was accepted; a full disk said ``OSError [Errno 28]`` with no path; a
non-ASCII key ended in ``UnicodeEncodeError`` (exit 1); ``--dataset pendo`` in ``pendo.duckdb`` exited 1; a key
such as ``pendo`` was masked in every line containing the word.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.reliability.harness import AGG, EXIT_FAILURE, EXIT_USAGE, Workspace, one_error_line

RUN = ("run", "--resources", "pages,page_events")


def _no_request(ws: Workspace) -> None:
    assert ws.sim.request_counts() == {}, "a request reached Pendo before the bad setting was refused"


def test_a_base_url_with_a_path_prefix_keeps_it(ws: Workspace) -> None:
    ws.sim.configure(path_prefix="/eu-proxy/pendo")  # the simulator now answers only under the prefix
    dropped = ws.cli("run", "--resources", "pages")  # the plain URL no longer reaches it: proof that the prefix matters
    assert dropped.returncode != 0
    for url in (f"{ws.sim.base_url}/eu-proxy/pendo", f"{ws.sim.base_url}/eu-proxy/pendo/api/v1/"):
        result = ws.cli(*RUN, SOURCES__PENDO__BASE_URL=url)
        assert result.returncode == 0, result.stderr[-2000:]
    ws.assert_equals_truth(["pages", "page_events"])


def test_a_tiny_request_timeout_is_reported_as_a_timeout(ws: Workspace) -> None:
    result = ws.cli(*RUN, SOURCES__PENDO__REQUEST_TIMEOUT="0.001", SOURCES__PENDO__MAX_ATTEMPTS="2")
    assert result.returncode == EXIT_FAILURE, result.stderr[-2000:]
    line = one_error_line(result)
    assert "timed out after 0.001s" in line and "request_timeout" in line and "too large" not in line, line


@pytest.mark.slow
def test_a_window_that_times_out_even_at_one_hour_says_to_raise_request_timeout(ws: Workspace) -> None:
    ws.sim.inject({"kind": "delay", "seconds": 1.5, "path": AGG, "body_contains": "pageEvents", "times": 10_000})
    result = ws.cli("run", "--resources", "page_events", SOURCES__PENDO__REQUEST_TIMEOUT="1",
                    SOURCES__PENDO__START_DATE=ws.start_date, SOURCES__PENDO__CONCURRENCY="8")
    ws.sim.clear_faults()
    assert result.returncode == EXIT_FAILURE, result.stderr[-2000:]
    line = one_error_line(result)
    assert "timed out" in line and "one-hour window" in line and "request_timeout" in line, line
    assert "too large" not in line


def test_a_negative_retry_backoff_is_refused_before_any_request(ws: Workspace) -> None:
    result = ws.cli(*RUN, SOURCES__PENDO__RETRY_BACKOFF_SECONDS="-1")
    assert result.returncode == EXIT_USAGE, result.stderr[-2000:]
    assert "sources.pendo.retry_backoff_seconds" in one_error_line(result)
    _no_request(ws)


def test_a_key_with_a_non_ascii_character_is_a_configuration_error(ws: Workspace) -> None:
    key = ws.sim.integration_key.replace("-", "\u2013", 1)  # an en dash, as a word processor makes it
    result = ws.cli(*RUN, SOURCES__PENDO__INTEGRATION_KEY=key)
    assert result.returncode == EXIT_USAGE, result.stderr[-2000:]
    line = one_error_line(result)
    assert "sources.pendo.integration_key" in line and "non-ASCII" in line and key not in line
    _no_request(ws)


def test_a_short_key_is_refused_and_no_line_is_mangled_by_masking_it(ws: Workspace) -> None:
    """Decision: keys shorter than 8 characters are refused (Pendo's are 36-character UUIDs), and never masked:
    masking ``pendo`` turned ``sources.pendo.integration_key`` into ``sources.***.integration_key``."""
    result = ws.cli(*RUN, SOURCES__PENDO__INTEGRATION_KEY="pendo", check_leak=False)
    assert result.returncode == EXIT_USAGE, result.stderr[-2000:]
    line = one_error_line(result)
    assert "sources.pendo.integration_key" in line and "***" not in result.stderr, line
    _no_request(ws)


def test_a_dataset_named_like_the_duckdb_file_is_refused_with_exit_2(ws: Workspace) -> None:
    result = ws.cli("run", "--resources", "pages", "--dataset", "pendo",
                    DESTINATION__DUCKDB__CREDENTIALS=str(ws.dir / "pendo.duckdb"))
    assert result.returncode == EXIT_USAGE, result.stderr[-2000:]
    assert "--dataset 'pendo'" in one_error_line(result)
    _no_request(ws)


@pytest.fixture
def full_disk(tmp_path: Path):
    """A 120 KB file system of this test's own (tmpfs, unmounted afterwards); skipped where mounting is denied."""
    mount = tmp_path / "full"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=120k", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {made.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_gives_one_line_with_the_path_and_the_next_run_is_exact(ws: Workspace, full_disk: Path) -> None:
    result = ws.cli("run", "--resources", "pages,page_events,guide_events", pipelines_dir=full_disk / "pipelines")
    assert result.returncode == EXIT_FAILURE, result.stderr[-2000:]
    line = one_error_line(result)
    assert "no space left on device" in line and str(full_disk) in line and "Errno" not in line, line
    rerun = ws.cli("run", "--resources", "pages,page_events,guide_events")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    ws.assert_equals_truth(["pages", "page_events", "guide_events"])


@pytest.mark.slow
def test_a_full_disk_under_the_duckdb_file_gives_one_line_with_the_path(ws: Workspace, tmp_path: Path) -> None:
    mount = tmp_path / "full-db"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)]).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        result = ws.cli("run", "--resources", "pages,page_events,guide_events",
                        DESTINATION__DUCKDB__CREDENTIALS=str(mount / "pendo.duckdb"))
    finally:
        subprocess.run(["umount", str(mount)], check=True)
    assert result.returncode == EXIT_FAILURE, result.stderr[-2000:]
    line = one_error_line(result)
    assert "no space left on device" in line and str(mount / "pendo.duckdb") in line, line
