"""The `pendo-elt` command as cron runs it: exit codes, one-line errors, backfill, status, the lock, redaction."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import pendulum
import pytest

from pipelines.identity import resolve_identity
from pipelines.lock import PipelineLock
from simulator.testing import SimulatorProcess
from tests.e2e.harness import ROLLUP_COLUMNS

BIN = Path(sys.executable).parent / "pendo-elt"
KEY = "cli-secret-key-7f3a9c"


@pytest.fixture
def cli(make_sim, tmp_path: Path):
    sim: SimulatorProcess = make_sim(key=KEY)
    info = sim.info()
    env = {
        **os.environ,
        "SOURCES__PENDO__BASE_URL": sim.base_url,
        "SOURCES__PENDO__INTEGRATION_KEY": KEY,
        "SOURCES__PENDO__SUBSCRIPTION_TIMEZONE": info["tz"],
        "SOURCES__PENDO__START_DATE": pendulum.from_timestamp(info["history_start_ms"] / 1000, tz=info["tz"])
        .to_date_string(),
        "SOURCES__PENDO__RETRY_BACKOFF_SECONDS": "0.05",
        "DESTINATION__DUCKDB__CREDENTIALS": str(tmp_path / "pendo.duckdb"),
    }

    def invoke(*args: str, **env_changes: str) -> subprocess.CompletedProcess:
        result = subprocess.run([str(BIN), *args, "--pipelines-dir", str(tmp_path / "pipelines")]
                                if args and args[0] not in ("--help",) else [str(BIN), *args],
                                capture_output=True, text=True, timeout=300, cwd=tmp_path,
                                env={**env, **env_changes})
        assert KEY not in result.stdout + result.stderr, "the integration key leaked into the output"
        return result

    invoke.sim = sim  # type: ignore[attr-defined]
    invoke.db = tmp_path / "pendo.duckdb"  # type: ignore[attr-defined]
    invoke.dir = tmp_path  # type: ignore[attr-defined]
    invoke.env = env  # type: ignore[attr-defined]
    return invoke


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_run_loads_and_prints_a_summary(cli) -> None:
    result = cli("run")
    assert result.returncode == 0, result.stderr
    assert "page_events" in result.stdout and "total" in result.stdout
    with duckdb.connect(str(cli.db), read_only=True) as con:
        assert con.sql("SELECT COUNT(*) FROM pendo_data.page_events").fetchone()[0] > 0


def test_a_wrong_key_exits_2_with_one_line_naming_the_key_setting(cli) -> None:
    result = cli("run", "--resources", "pages", SOURCES__PENDO__INTEGRATION_KEY="not-the-right-key")
    assert result.returncode == 2
    line = _one_error_line(result)
    assert "integration key" in line and "region" in line and "not-the-right-key" not in line


def test_a_key_of_another_region_is_refused_like_pendo_does(cli, make_sim) -> None:
    eu = make_sim(key="eu-subscription-key")  # another region's host does not know this key
    result = cli("run", "--resources", "pages", SOURCES__PENDO__BASE_URL=eu.base_url)
    assert result.returncode == 2
    assert "region" in _one_error_line(result)


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"SOURCES__PENDO__REGION": "mars", "SOURCES__PENDO__BASE_URL": ""}, "sources.pendo.region"),
        ({"SOURCES__PENDO__START_DATE": "2026-02-30"}, "sources.pendo.start_date"),
        ({"SOURCES__PENDO__PERIOD": "week"}, "sources.pendo.period"),
        ({"SOURCES__PENDO__INTEGRATION_KEY": ""}, "integration_key"),
    ],
)
def test_bad_settings_exit_2_before_any_request(cli, env: dict, fragment: str) -> None:
    cli.sim.control("DELETE", "requests")
    result = cli("run", **env)
    assert result.returncode == 2
    assert fragment in _one_error_line(result)
    assert not cli.sim.request_counts()


@pytest.mark.parametrize(
    "args",
    [
        ("run", "--resources", "pagez"),
        ("backfill", "--start", "2026-03-05", "--end", "2026-03-01"),
        ("backfill", "--start", "March 5", "--end", "2026-03-10"),
        ("backfill", "--start", "2026-03-01"),
        ("backfill", "--start", "2026-03-01", "--end", "2026-03-05", "--resources", "visitors"),
        ("frobnicate",),
    ],
)
def test_usage_errors_exit_2_with_one_line(cli, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.returncode == 2
    _one_error_line(result)


def test_an_unreachable_destination_exits_1_and_says_so(cli) -> None:
    result = cli("run", "--resources", "pages", "--destination", "postgres",
                 DESTINATION__POSTGRES__CREDENTIALS="postgresql://loader:pw@127.0.0.1:1/nowhere")
    assert result.returncode == 1
    assert "127.0.0.1" in _one_error_line(result) or "connect" in _one_error_line(result)


def test_an_invalid_duckdb_path_exits_1_and_names_it(cli) -> None:
    result = cli("run", "--resources", "pages", DESTINATION__DUCKDB__CREDENTIALS="/nonexistent/dir/x.duckdb")
    assert result.returncode == 1
    assert "/nonexistent/dir/x.duckdb" in _one_error_line(result)


def test_check_verifies_key_and_destination(cli) -> None:
    result = cli("check")
    assert result.returncode == 0, result.stderr
    assert "accepts the integration key" in result.stdout and "writable" in result.stdout
    assert cli("check", SOURCES__PENDO__INTEGRATION_KEY="nope-nope").returncode == 2


def test_status_reads_rows_loads_and_cursors_from_the_destination(cli, tmp_path: Path) -> None:
    assert cli("run").returncode == 0
    fresh = subprocess.run([str(BIN), "status", "--pipelines-dir", str(tmp_path / "fresh-machine")],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path,
                           env={**os.environ, "DESTINATION__DUCKDB__CREDENTIALS": str(cli.db)})
    assert fresh.returncode == 0, fresh.stderr
    lines = {line.split()[0]: line for line in fresh.stdout.splitlines()[1:]}
    assert {"page_events", "visitors", "pages"} <= set(lines)
    assert "2026-03-20T04:00:00Z" in lines["page_events"]  # cursor: the last (partial) New York day
    assert KEY not in fresh.stdout


def _page_events(db: Path) -> Counter:
    columns = ", ".join([*ROLLUP_COLUMNS, "page_id", "epoch_ms(day)"])
    with duckdb.connect(str(db), read_only=True) as con:
        return Counter(con.sql(f"SELECT {columns} FROM pendo_data.page_events").fetchall())


def _truth_page_events(sim: SimulatorProcess) -> Counter:
    fields = [*ROLLUP_COLUMNS.values(), "pageId", "day"]
    return Counter(tuple(r.get(f) for f in fields) for r in sim.truth("page_events"))


def _page_events_cursor(cli) -> str:
    status = cli("status")
    return next(line.split()[5] for line in status.stdout.splitlines() if line.startswith("page_events "))


def test_backfill_replaces_the_range_and_leaves_cursors_alone(cli) -> None:
    assert cli("run", "--resources", "page_events").returncode == 0
    cursor = _page_events_cursor(cli)
    cli.sim.retag("2026-03-02")
    assert _page_events(cli.db) != _truth_page_events(cli.sim)
    result = cli("backfill", "--start", "2026-03-01", "--end", "2026-03-04", "--resources", "page_events",
                 "--chunk-days", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("chunk ") == 3
    assert _page_events(cli.db) == _truth_page_events(cli.sim)
    assert _page_events_cursor(cli) == cursor


def test_an_interrupted_backfill_resumes_where_it_stopped(cli) -> None:
    args = ("backfill", "--start", "2026-03-01", "--end", "2026-03-05", "--resources", "page_events",
            "--chunk-days", "1")
    # Each chunk sends two aggregations (Pendo's clock, then the day): the third chunk meets an outage.
    cli.sim.inject({"kind": "status", "status": 503, "times": 100, "after": 4, "path": "/api/v1/aggregation"})
    failed = cli(*args, SOURCES__PENDO__MAX_ATTEMPTS="2")
    assert failed.returncode == 1 and "503" in _one_error_line(failed)
    assert failed.stdout.count("rows") == 2
    cli.sim.clear_faults()
    resumed = cli(*args)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.count("already loaded, skipped") == 2
    again = cli(*args)
    assert "skipped" not in again.stdout  # a finished backfill asked for again runs in full


def _working_root(cli) -> str:
    """The lock lives in the working root of the warehouse the run writes (pipelines/identity.py)."""
    identity = resolve_identity("duckdb", "pendo_data", {"credentials": str(cli.db)})
    return str(identity.working_root(str(cli.dir / "pipelines")))


def test_a_second_run_exits_at_once_while_the_first_holds_the_lock(cli) -> None:
    with PipelineLock(_working_root(cli), "pendo"):
        started = time.monotonic()
        result = cli("run", "--resources", "pages")
        assert time.monotonic() - started < 30
    assert result.returncode == 1
    assert "already running" in _one_error_line(result)


def test_a_crashed_run_leaves_no_stale_lock(cli) -> None:
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pipelines.lock import PipelineLock\n"
        f"with PipelineLock({_working_root(cli)!r}, 'pendo'):\n"
        "    print('locked', flush=True); time.sleep(60)\n")], stdout=subprocess.PIPE, text=True,
        cwd=Path(__file__).parents[2])
    assert holder.stdout.readline().strip() == "locked"
    assert cli("run", "--resources", "pages").returncode == 1
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    holder.stdout.close()
    assert cli("run", "--resources", "pages").returncode == 0


def test_help_shows_every_option_with_its_default(cli) -> None:
    for command in ("run", "backfill", "check", "status", "simulate", "demo"):
        result = subprocess.run([str(BIN), command, "--help"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0
        assert "default" in result.stdout
