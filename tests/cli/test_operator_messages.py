"""What the CLI tells an operator: options anywhere, where the data went, errors that name settings, not classes."""

from __future__ import annotations

import subprocess
import time
import uuid

import duckdb
import pendulum
import pytest

from pipelines.status import _cursor
from sources.pendo.config import PLACEHOLDER_KEY
from tests.cli.test_cli_commands import BIN, _one_error_line, cli  # noqa: F401 - the fixture

POSTGRES = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"


def test_debug_and_log_format_are_accepted_after_the_command(cli) -> None:  # noqa: F811
    after = cli("run", "--resources", "pages", "--debug", "--log-format", "json")
    assert after.returncode == 0, after.stderr
    before = cli("--debug", "--log-format", "json", "status")
    assert before.returncode == 0, before.stderr
    failed = cli("run", "--resources", "pages", "--debug", SOURCES__PENDO__INTEGRATION_KEY="wrong-key")
    assert failed.returncode == 2 and "Traceback" in failed.stderr  # --debug after the command took effect
    assert cli("status", "--log-format", "yaml").returncode == 2


def test_the_summary_names_the_destination_and_dataset(cli) -> None:  # noqa: F811
    result = cli("run", "--resources", "pages")
    assert result.returncode == 0, result.stderr
    assert f"loaded into duckdb {cli.db}, dataset pendo_data" in result.stdout.splitlines()[0]


def test_check_names_the_duckdb_file(cli) -> None:  # noqa: F811
    result = cli("check")
    assert result.returncode == 0, result.stderr
    assert f"duckdb file {cli.db}, dataset 'pendo_data', is writable" in result.stdout


def test_check_names_the_postgres_host(cli) -> None:  # noqa: F811
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        psycopg2.connect(POSTGRES, connect_timeout=3).close()
    except psycopg2.OperationalError:
        pytest.skip("PostgreSQL is not running at 127.0.0.1:5432")
    dataset = f"check_{uuid.uuid4().hex[:10]}"
    try:
        result = cli("check", "--destination", "postgres", "--dataset", dataset,
                     DESTINATION__POSTGRES__CREDENTIALS=POSTGRES)
        assert result.returncode == 0, result.stderr
        assert f"postgres 127.0.0.1:5432/postgres, dataset '{dataset}', is writable" in result.stdout
    finally:
        with psycopg2.connect(POSTGRES) as con, con.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {dataset} CASCADE")


def test_a_missing_key_names_the_setting_not_a_class(cli) -> None:  # noqa: F811
    env = {k: v for k, v in cli.env.items() if k != "SOURCES__PENDO__INTEGRATION_KEY"}
    result = subprocess.run([str(BIN), "check", "--pipelines-dir", str(cli.dir / "p")], capture_output=True,
                            text=True, timeout=120, cwd=cli.dir, env=env)
    assert result.returncode == 2
    line = _one_error_line(result)
    assert "sources.pendo.integration_key (env SOURCES__PENDO__INTEGRATION_KEY)" in line
    assert "Configuration" not in line and "VerifyAccess" not in line


@pytest.mark.parametrize("command", ["run", "check"])
def test_the_example_placeholder_key_is_refused_before_any_request(cli, command: str) -> None:  # noqa: F811
    cli.sim.control("DELETE", "requests")
    result = cli(command, SOURCES__PENDO__INTEGRATION_KEY=PLACEHOLDER_KEY)
    assert result.returncode == 2
    assert "placeholder of .dlt/secrets.toml.example" in _one_error_line(result)
    assert not cli.sim.request_counts()


def test_models_on_a_dataset_that_does_not_exist_fails_at_once(cli) -> None:  # noqa: F811
    duckdb.connect(str(cli.db)).close()  # the file exists, the dataset does not
    started = time.monotonic()
    result = cli("models", "--dataset", "nope")
    assert not (cli.dir / ".pendo-elt").exists(), "refused before dbt was started (it took ~25 s to fail)"
    assert time.monotonic() - started < 60  # a loose bound: the machine may be busy
    assert result.returncode == 2
    line = _one_error_line(result)
    assert "dataset 'nope' does not exist" in line and str(cli.db) in line


def test_status_on_a_missing_duckdb_file_says_so_and_creates_nothing(cli) -> None:  # noqa: F811
    missing = cli.dir / "never-loaded.duckdb"
    result = cli("status", DESTINATION__DUCKDB__CREDENTIALS=str(missing))
    assert result.returncode == 2
    assert f"no DuckDB database at {missing}" in _one_error_line(result)
    assert not missing.exists() and not list(cli.dir.glob("never-loaded*"))


def test_status_measures_behind_against_pendos_clock(cli) -> None:  # noqa: F811
    # The simulator's clock is fixed in March 2026 whatever today is: loaded a moment ago, nothing is behind.
    assert cli("run", "--resources", "page_events,visitors").returncode == 0
    status = cli("status")
    assert status.returncode == 0, status.stderr
    behind = {line.split()[0]: " ".join(line.split()[-2:]) for line in status.stdout.splitlines()[1:]}
    assert behind["page_events"] in ("0 min", "1 min", "2 min"), status.stdout
    assert behind["visitors"] in ("0 min", "1 min", "2 min"), status.stdout


def test_behind_is_what_pendo_has_processed_since_the_last_load() -> None:
    now = pendulum.datetime(2026, 3, 20, 15, 30, tz="UTC")
    today = {"cursor": "2026-03-20T04:00:00+00:00"}  # the current New York day bucket
    # Loaded 5 minutes ago: 5 minutes behind, not the 11.5 hours since the bucket began.
    assert _cursor(today, now.subtract(minutes=5), "day", now)[1] == "5 min"
    # The cursor's bucket ended long before the last load (a run of other tables since): behind since it ended.
    old = {"cursor": "2026-03-17T04:00:00+00:00"}
    assert _cursor(old, now.subtract(minutes=5), "day", now)[1] == "2.5 d"
    # Visitors: a run sees every update before it, however old the newest lastupdated is.
    people = {"cursor_ms": int(now.subtract(days=3).timestamp() * 1000)}
    assert _cursor(people, now.subtract(minutes=30), "day", now)[1] == "30 min"
    # Pendo's clock two hours behind this machine's (the cursor is in Pendo's time): loaded 10 minutes ago.
    lagging = {"cursor": "2026-03-20T13:00:00+00:00"}
    assert _cursor(lagging, now.subtract(minutes=10), "hour", now, pendulum.duration(hours=-2))[1] == "10 min"
    assert _cursor({}, now, "day", now) == (None, None)
