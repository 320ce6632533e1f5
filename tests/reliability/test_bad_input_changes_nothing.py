"""Bad input - settings, dates, resources, config files, keys, destinations - gives one clear line, the documented
exit code (2 usage/configuration, 1 destination), and no change at all in the warehouse.

Every case runs the real CLI against one loaded warehouse (shared by the module: a case that changed it would
fail here, and its snapshot check names the case). Configuration errors must also be refused before any request
reaches Pendo. Destination cases use a working directory of their own, so a package a failed load leaves behind
cannot leak into the next case. Tests run as root, which ignores file modes, so "read-only" is made real: a DuckDB
path under /proc (no file can be created there), a directory where the file should be, the warehouse attached
read-only, or held by another process's write lock.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.testing import SimulatorProcess
from tests.conftest import SIM_NOW
from tests.reliability.harness import CORE, EXIT_FAILURE, EXIT_USAGE, KEY, Workspace, one_error_line


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Iterator[Workspace]:
    with SimulatorProcess(scale="tiny", now=SIM_NOW, key=KEY) as sim:
        ws = Workspace(sim, tmp_path_factory.mktemp("bad-input"))
        ws.loader().run(list(CORE))
        yield ws


@pytest.fixture
def unchanged(loaded: Workspace) -> Iterator[Workspace]:
    """The warehouse, the cursors and the completed loads are exactly as before the case; it made no request."""
    before = (loaded.snapshot(), loaded.stored_state(), loaded.completed_loads())
    loaded.sim.control("DELETE", "requests")
    yield loaded
    assert (loaded.snapshot(), loaded.stored_state(), loaded.completed_loads()) == before, "the warehouse changed"


def _no_request(ws: Workspace) -> None:
    assert ws.sim.request_counts() == {}, "a request reached Pendo before the bad setting was refused"


RUN = ("run", "--resources", "pages,page_events")

# (environment, what the error line must name)
BAD_SETTINGS = {
    "unknown-region": ({"SOURCES__PENDO__REGION": "mars", "SOURCES__PENDO__BASE_URL": ""}, "sources.pendo.region"),
    "negative-lookback": ({"SOURCES__PENDO__LOOKBACK_DAYS": "-1"}, "sources.pendo.lookback_days"),
    "zero-window": ({"SOURCES__PENDO__WINDOW_DAYS": "0"}, "sources.pendo.window_days"),
    "zero-concurrency": ({"SOURCES__PENDO__CONCURRENCY": "0"}, "sources.pendo.concurrency"),
    "non-numeric-app-ids": ({"SOURCES__PENDO__APP_IDS": "abc"}, "sources.pendo.app_ids"),
    "unknown-time-zone": ({"SOURCES__PENDO__SUBSCRIPTION_TIMEZONE": "Mars/Olympus"},
                          "sources.pendo.subscription_timezone"),
    "ftp-base-url": ({"SOURCES__PENDO__BASE_URL": "ftp://app.pendo.io"}, "sources.pendo.base_url"),
    "negative-timeout": ({"SOURCES__PENDO__REQUEST_TIMEOUT": "-5"}, "sources.pendo.request_timeout"),
    "hourly-period-typo": ({"SOURCES__PENDO__PERIOD": "hours"}, "sources.pendo.period"),
    "start-month-13": ({"SOURCES__PENDO__START_DATE": "2026-13-01"}, "sources.pendo.start_date"),
    "start-in-words": ({"SOURCES__PENDO__START_DATE": "yesterday"}, "sources.pendo.start_date"),
    "start-day-first": ({"SOURCES__PENDO__START_DATE": "18/02/2026"}, "sources.pendo.start_date"),
    "start-in-the-future": ({"SOURCES__PENDO__START_DATE": "2099-01-01"}, "sources.pendo.start_date"),
    "end-february-30": ({"SOURCES__PENDO__END_DATE": "2026-02-30"}, "sources.pendo.end_date"),
    "end-before-start": ({"SOURCES__PENDO__END_DATE": "2026-02-10"}, "sources.pendo.end_date"),
    "end-equals-start": ({"SOURCES__PENDO__END_DATE": "2026-02-18"}, "sources.pendo.end_date"),
    "empty-key": ({"SOURCES__PENDO__INTEGRATION_KEY": ""}, "integration_key"),
}
DEFAULT_SETTINGS = ("unknown-region", "start-in-words", "end-before-start", "zero-concurrency")


@pytest.mark.parametrize("case", [pytest.param(c, marks=() if c in DEFAULT_SETTINGS else pytest.mark.slow)
                                  for c in BAD_SETTINGS])
def test_a_bad_setting_exits_2_with_one_line_naming_it_before_any_request(unchanged: Workspace, case: str) -> None:
    env, names = BAD_SETTINGS[case]
    result = unchanged.cli(*RUN, **env)
    assert result.returncode == EXIT_USAGE, result.stderr[-2000:]
    assert names in one_error_line(result)
    _no_request(unchanged)


# Values dlt itself must convert to the parameter's type (int, float, bool) before pendo-elt's validation runs.
# Finding F4 (fixed in 0274a83): they exited 1 with "ValueError: invalid literal for int()" naming no setting.
UNCONVERTIBLE = {
    "request_timeout": "fast", "max_attempts": "x", "page_size": "many", "retry_backoff_seconds": "soon",
    "include_anonymous_visitors": "maybe",
}


@pytest.mark.parametrize("key", [pytest.param(k, marks=() if k == "max_attempts" else pytest.mark.slow)
                                 for k in UNCONVERTIBLE])
def test_a_setting_that_is_not_a_number_or_boolean_exits_2_naming_it(unchanged: Workspace, key: str) -> None:
    result = unchanged.cli(*RUN, **{f"SOURCES__PENDO__{key.upper()}": UNCONVERTIBLE[key]})
    _no_request(unchanged)
    assert f"sources.pendo.{key}" in one_error_line(result)
    assert result.returncode == EXIT_USAGE


USAGE_ERRORS = {
    "unknown-resource": ("run", "--resources", "pagez"),
    "unknown-among-known": ("run", "--resources", "pages,,nope"),
    "no-resource": ("run", "--resources", ""),
    "unknown-destination": ("run", "--destination", "sqlite"),
    "backfill-end-before-start": ("backfill", "--start", "2026-03-05", "--end", "2026-03-01"),
    "backfill-of-an-entity-list": ("backfill", "--start", "2026-03-01", "--end", "2026-03-05", "--resources", "pages"),
    "backfill-zero-chunk": ("backfill", "--start", "2026-03-01", "--end", "2026-03-05", "--chunk-days", "0"),
}
DEFAULT_USAGE = ("unknown-among-known", "backfill-of-an-entity-list")


@pytest.mark.parametrize("args", [pytest.param(a, id=c, marks=() if c in DEFAULT_USAGE else pytest.mark.slow)
                                  for c, a in USAGE_ERRORS.items()])
def test_a_usage_error_exits_2_with_one_line_before_any_request(unchanged: Workspace, args: tuple[str, ...]) -> None:
    result = unchanged.cli(*args)
    assert result.returncode == EXIT_USAGE, result.stderr[-2000:]
    one_error_line(result)
    _no_request(unchanged)


def test_a_wrong_key_exits_2_says_what_to_check_and_loads_nothing(unchanged: Workspace) -> None:
    result = unchanged.cli(*RUN, SOURCES__PENDO__INTEGRATION_KEY="not-the-key-4f1e")
    assert result.returncode == EXIT_USAGE
    line = one_error_line(result)
    assert "integration key" in line and "region" in line and "not-the-key-4f1e" not in line


@pytest.mark.slow
def test_a_key_of_another_region_exits_2_and_loads_nothing(unchanged: Workspace, make_sim) -> None:
    other_region = make_sim(key="a-key-of-the-eu-region")  # another host: it does not know our key
    result = unchanged.cli(*RUN, SOURCES__PENDO__BASE_URL=other_region.base_url)
    assert result.returncode == EXIT_USAGE
    assert "region" in one_error_line(result)


# --- a malformed .dlt/config.toml (the CLI is run in a directory holding it) --------------------------------
# Finding F5 (fixed in 0274a83): exit 1 with "UnexpectedCharError: Unexpected character ..." naming no file.
MALFORMED = {
    "unclosed-section": "[sources.pendo\nregion = \"us\"\n",
    "unquoted-string": "[sources.pendo]\nregion = us\n",
    "text-for-a-number": "[sources.pendo]\nlookback_days = \"three\"\n",
}


@pytest.mark.parametrize("case", [pytest.param(c, marks=() if c == "unclosed-section" else pytest.mark.slow)
                                  for c in MALFORMED])
def test_a_malformed_config_file_exits_2_naming_the_file(unchanged: Workspace, tmp_path: Path, case: str) -> None:
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "config.toml").write_text(MALFORMED[case])
    result = unchanged.cli(*RUN, cwd=tmp_path)
    _no_request(unchanged)
    line = one_error_line(result)
    assert "config.toml" in line or "sources.pendo.lookback_days" in line, line
    assert result.returncode == EXIT_USAGE


@pytest.mark.slow
def test_an_unknown_key_in_the_config_file_is_ignored_and_the_run_is_exact(loaded: Workspace, tmp_path: Path) -> None:
    """dlt reads only the keys it knows: a misspelt key is ignored (documented), never half-applied."""
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "config.toml").write_text("[sources.pendo]\nlookback_dayz = 30\n")
    result = loaded.cli(*RUN, cwd=tmp_path, pipelines_dir=tmp_path / "pipelines")
    assert result.returncode == 0, result.stderr[-2000:]
    loaded.assert_equals_truth(["pages", "page_events"])


# --- destinations that cannot be written ----------------------------------------------------------------------
def _destination_cases(tmp_path: Path) -> dict[str, dict[str, str]]:
    directory = tmp_path / "a-directory.duckdb"
    directory.mkdir()
    return {
        "under-proc": {"DESTINATION__DUCKDB__CREDENTIALS": "/proc/pendo-elt/pendo.duckdb"},
        "directory-in-place-of-the-file": {"DESTINATION__DUCKDB__CREDENTIALS": str(directory)},
        "missing-parent-directory": {"DESTINATION__DUCKDB__CREDENTIALS": str(tmp_path / "no" / "such" / "x.duckdb")},
    }


@pytest.mark.parametrize("case", ["under-proc", "directory-in-place-of-the-file",
                                  pytest.param("missing-parent-directory", marks=pytest.mark.slow)])
def test_an_unwritable_duckdb_path_exits_1_with_one_line_naming_it(unchanged: Workspace, tmp_path: Path,
                                                                    case: str) -> None:
    env = _destination_cases(tmp_path)[case]
    result = unchanged.cli(*RUN, pipelines_dir=tmp_path / "pipelines", **env)
    assert result.returncode == EXIT_FAILURE, result.stderr[-2000:]
    assert env["DESTINATION__DUCKDB__CREDENTIALS"] in one_error_line(result)


def _not_a_database(tmp_path: Path) -> Path:
    precious = tmp_path / "accounts.csv"
    precious.write_text("account_id,arr\nacme,1200\n")
    return precious


def test_a_file_that_is_not_a_duckdb_database_exits_1_and_is_left_byte_for_byte_untouched(
    unchanged: Workspace, tmp_path: Path
) -> None:
    precious = _not_a_database(tmp_path)
    digest = hashlib.sha256(precious.read_bytes()).hexdigest()
    result = unchanged.cli(*RUN, pipelines_dir=tmp_path / "pipelines", DESTINATION__DUCKDB__CREDENTIALS=str(precious))
    assert hashlib.sha256(precious.read_bytes()).hexdigest() == digest
    assert result.returncode == EXIT_FAILURE
    assert result.stderr.splitlines()[-1].startswith("error: ")


def test_a_failed_load_job_is_reported_in_one_line_without_a_traceback(unchanged: Workspace, tmp_path: Path) -> None:
    """Finding F6 (fixed in 0274a83): dlt logged each failed job's traceback at ERROR level on stderr."""
    precious = _not_a_database(tmp_path)
    result = unchanged.cli(*RUN, pipelines_dir=tmp_path / "pipelines", DESTINATION__DUCKDB__CREDENTIALS=str(precious))
    assert result.returncode == EXIT_FAILURE
    one_error_line(result)


def test_a_warehouse_locked_by_another_writer_exits_1_with_one_line_naming_the_lock(
    unchanged: Workspace, tmp_path: Path
) -> None:
    holder = subprocess.Popen([sys.executable, "-c", (
        "import duckdb, sys, time\n"
        f"con = duckdb.connect({str(unchanged.db)!r})\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = unchanged.cli(*RUN, pipelines_dir=tmp_path / "pipelines")
    finally:
        holder.communicate(input="", timeout=30)  # closing stdin ends the holder
    assert result.returncode == EXIT_FAILURE, result.stderr[-2000:]
    assert "lock" in one_error_line(result)


def _fail_read_only(ws: Workspace, pipelines: Path) -> None:
    before, loads = ws.snapshot(), ws.completed_loads()
    result = ws.cli(*RUN, pipelines_dir=pipelines, DESTINATION__DUCKDB__CREDENTIALS__READ_ONLY="true")
    assert result.returncode == EXIT_FAILURE
    assert "read-only" in one_error_line(result)
    assert (ws.snapshot(), ws.completed_loads()) == (before, loads)


def test_a_read_only_warehouse_exits_1_with_one_line_and_is_left_unchanged(loaded: Workspace, tmp_path: Path) -> None:
    _fail_read_only(loaded, tmp_path / "pipelines")


@pytest.mark.slow
def test_after_a_read_only_failure_the_next_writable_run_is_exact(loaded: Workspace, tmp_path: Path) -> None:
    pipelines = tmp_path / "pipelines"
    _fail_read_only(loaded, pipelines)
    again = loaded.cli(*RUN, pipelines_dir=pipelines)  # whatever the failed load left behind is dealt with first
    assert again.returncode == 0, again.stderr[-2000:]
    loaded.assert_equals_truth(["pages", "page_events"])
