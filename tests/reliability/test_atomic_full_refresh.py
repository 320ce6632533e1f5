"""``pendo-elt run --full-refresh`` killed (SIGKILL) at any moment leaves the old data or the complete new data.

Before: the refresh emptied the tables when its load began; a kill one second in lost 4 of 8 days of every event
table and 163 of 203 accounts for good (issue 13 item 1). Now the fresh copy loads aside and is swapped in by one
transaction. Each trial: a complete first load, then a day and a bit of new data and a re-tagged day (so the old
and the new copy differ), then the refresh is killed during its extraction, during its load, or at a precise
moment of the swap (the CLI SIGKILLs itself there). Right after the kill the dataset must hold exactly the old
rows with the old cursors, or exactly the ground truth with the new cursors; then one plain ``run`` must converge
to the truth with consistent cursors and leave nothing of the aside copy behind. On DuckDB and on Postgres.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pendulum
import pytest

from pipelines.identity import resolve_identity
from tests.reliability.harness import (
    AGG,
    CORE,
    DATASET,
    EXIT_OK,
    Completed,
    Workspace,
    loading_packages,
    one_error_line,
)

PG = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
RESOURCES = ",".join(CORE)
ASIDE_DIR = ".pendo-refresh"

# The refresh, SIGKILLing itself at one moment of the swap (pipelines/refresh.py), else running normally.
KILL_AT = r"""
import os, signal, sys
import dlt
from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient
from dlt.destinations.impl.postgres.sql_client import Psycopg2SqlClient
import pipelines.refresh as refresh

moment = os.environ["PENDO_TEST_KILL_AT"]
def die(*_):
    os.kill(os.getpid(), signal.SIGKILL)
swap, drop = refresh._swap, dlt.Pipeline.drop
if moment == "before-swap":      # the aside copy is complete, the swap marker written, nothing swapped
    refresh._swap = die
elif moment == "after-swap":     # the swap committed; the working dir still holds the old cursors
    refresh._swap = lambda *a: (swap(*a), die())
elif moment == "after-drop":     # the working dir dropped; the aside datasets and dir not yet removed
    dlt.Pipeline.drop = lambda self, *a: (drop(self, *a), die())
elif moment == "in-swap":        # inside the swap transaction: old tables dropped, new ones half moved
    moved = [0]
    for cls in (DuckDbSqlClient, Psycopg2SqlClient):
        def execute_sql(self, sql, *args, _original=cls.execute_sql, **kwargs):
            if isinstance(sql, str) and (sql.startswith("INSERT INTO") or "SET SCHEMA" in sql):
                moved[0] += 1
                if moved[0] == 3:
                    die()
            return _original(self, sql, *args, **kwargs)
        cls.execute_sql = execute_sql
from pipelines.cli import main
sys.exit(main(sys.argv[1:]))
"""
SWAP_MOMENTS = ("before-swap", "in-swap", "after-swap", "after-drop")


@dataclass
class PgWorkspace(Workspace):
    """The same judge as the DuckDB workspace, reading a Postgres dataset of the machine's server."""

    dataset: str = ""

    def query(self, sql: str) -> list[tuple]:
        import psycopg2

        sql = sql.replace(f"{DATASET}.", f'"{self.dataset}".').replace(f"'{DATASET}'", f"'{self.dataset}'")
        sql = re.sub(r"epoch_ms\((\w+)\)", r"CAST(EXTRACT(EPOCH FROM \1) * 1000 AS BIGINT)", sql)
        with psycopg2.connect(PG) as conn, conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    def tables(self) -> list[str]:
        return [r[0] for r in self.query(f"SELECT table_name FROM information_schema.tables WHERE table_schema = "
                                         f"'{DATASET}' ORDER BY table_name")]

    def schemas(self) -> list[str]:
        return [r[0] for r in self.query("SELECT schema_name FROM information_schema.schemata")]

    @property
    def working_dir(self) -> Path:
        """The working dir of this Postgres dataset's identity (not the DuckDB file's)."""
        identity = resolve_identity("postgres", self.dataset, {"credentials": PG})
        return identity.working_root(str(self.pipelines)) / "pendo"


def _workspace(make_workspace, destination: str) -> Workspace:
    if destination == "duckdb":
        return make_workspace()
    import psycopg2

    try:
        psycopg2.connect(PG, connect_timeout=3).close()
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({exc})")
    base = make_workspace()
    ws = PgWorkspace(base.sim, base.dir, dataset=f"pendo_test_{uuid.uuid4().hex[:8]}")
    ws.extra_env.update({"DESTINATION__POSTGRES__CREDENTIALS": PG})
    return ws


def _aside_dir(ws: Workspace) -> Path:
    """The refresh's side working dir: next to the pipeline's own, in its destination identity's root."""
    return ws.working_dir.parent / ASIDE_DIR


def _args(ws: Workspace, *args: str) -> tuple[str, ...]:
    if isinstance(ws, PgWorkspace):
        return (*args, "--destination", "postgres", "--dataset", ws.dataset)
    return args


def _aside_schemas(ws: Workspace) -> list[str]:
    name = ws.dataset if isinstance(ws, PgWorkspace) else DATASET
    if isinstance(ws, PgWorkspace):
        schemas = ws.schemas()
    else:
        schemas = [r[0] for r in ws.query("SELECT schema_name FROM information_schema.schemata")]
    return [s for s in schemas if s.startswith(f"{name}_refresh")]


def _old_copy(ws: Workspace) -> tuple[dict[str, Counter], dict]:
    return ws.snapshot(), ws.cursors()


def _holds_old_or_complete_new(ws: Workspace, old: tuple[dict[str, Counter], dict]) -> str:
    """'old' or 'new'; fails when the dataset is anything else (half of one, a mix, the wrong cursors)."""
    snapshot, cursors = ws.snapshot(), ws.cursors()
    if snapshot == old[0]:
        assert cursors == old[1], "the old rows came back with other cursors"
        return "old"
    assert ws.differences(CORE) == {}, "the dataset holds neither the old copy nor the complete new one"
    assert {t: cursors.get(t) for t in ws.expected_cursors(CORE)} == ws.expected_cursors(CORE)
    return "new"


def _prepare(ws: Workspace, retag_days_back: int = 2) -> tuple[dict[str, Counter], dict]:
    first = ws.cli(*_args(ws, "run", "--resources", RESOURCES))
    assert first.returncode == EXIT_OK, first.stderr[-2000:]
    ws.sim.advance(hours=30)
    local = pendulum.from_timestamp(ws.sim.info()["now_ms"] / 1000, tz=ws.tz)
    ws.sim.retag(local.subtract(days=retag_days_back).to_date_string())
    return _old_copy(ws)


def _wait_for(ws: Workspace, process: subprocess.Popen, phase: str, timeout: float = 120) -> None:
    aside = _aside_dir(ws) / "pendo"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the refresh finished before the planned kill"
        if phase == "extract" and sum(ws.sim.request_counts().values()) > 3:
            return
        if phase == "load" and loading_packages(aside):  # the aside load began and has jobs left
            return
        time.sleep(0.005)
    raise AssertionError(f"the refresh never reached {phase}")


def _kill_during(ws: Workspace, phase: str) -> None:
    ws.sim.control("DELETE", "requests")
    if phase == "extract":
        ws.sim.inject({"kind": "delay", "seconds": 0.25, "times": 10_000, "path": AGG})
    process = ws.popen(*_args(ws, "run", "--full-refresh", "--resources", RESOURCES))
    try:
        _wait_for(ws, process, phase)
        if phase == "extract":
            time.sleep(0.5)  # a few delayed answers in
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        ws.sim.clear_faults()
    assert process.returncode == -signal.SIGKILL, "the refresh ended before it was killed"
    if phase == "load":  # the kill landed inside the aside load, not after it
        assert loading_packages(_aside_dir(ws) / "pendo"), "the kill came after the aside load, not during it"


def _kill_at(ws: Workspace, moment: str) -> None:
    argv = ws.argv(_args(ws, "run", "--full-refresh", "--resources", RESOURCES), None)[1:]
    killed = subprocess.run([sys.executable, "-c", KILL_AT, *argv], env={**ws.env, "PENDO_TEST_KILL_AT": moment},
                            cwd=ws.dir, capture_output=True, text=True, timeout=240)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]


def _then_a_plain_run_converges(ws: Workspace) -> Completed:
    rerun = ws.cli(*_args(ws, "run", "--resources", RESOURCES))
    assert rerun.returncode == EXIT_OK, rerun.stderr[-2000:]
    assert "Traceback" not in rerun.stderr
    ws.assert_equals_truth(CORE)
    ws.assert_cursors_consistent(CORE)
    assert not _aside_dir(ws).exists() and _aside_schemas(ws) == [], "the aside copy was left behind"
    return rerun


def _trial(ws: Workspace, moment: str) -> str:
    try:
        old = _prepare(ws)
        if moment in ("extract", "load"):
            _kill_during(ws, moment)
        else:
            _kill_at(ws, moment)
        held = _holds_old_or_complete_new(ws, old)
        expected = {"extract": "old", "load": "old", "before-swap": "old", "in-swap": "old"}.get(moment, "new")
        assert held == expected, f"killed {moment}: expected the {expected} copy, found the {held} one"
        rerun = _then_a_plain_run_converges(ws)
        warnings = [line for line in rerun.stderr.splitlines() if "--full-refresh was interrupted" in line]
        assert len(warnings) == 1, rerun.stderr[-2000:]
        return held
    finally:
        if isinstance(ws, PgWorkspace):
            for schema in [ws.dataset, *_aside_schemas(ws), f"{ws.dataset}_staging"]:
                ws.query(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE; SELECT 1')


MOMENTS = ("extract", "load", *SWAP_MOMENTS)
DEFAULT = {("duckdb", "load"), ("duckdb", "after-swap"), ("postgres", "in-swap")}  # the rest: -m slow


@pytest.mark.parametrize(("destination", "moment"), [
    pytest.param(d, m, marks=() if (d, m) in DEFAULT else pytest.mark.slow)
    for d in ("duckdb", "postgres") for m in MOMENTS])
def test_a_killed_full_refresh_leaves_the_old_or_the_complete_new_data(make_workspace, destination: str,
                                                                      moment: str) -> None:
    _trial(_workspace(make_workspace, destination), moment)


@pytest.mark.parametrize("destination", ["duckdb", "postgres"])
def test_a_full_refresh_replaces_every_table_and_cursor_in_one_swap(make_workspace, destination: str) -> None:
    ws = _workspace(make_workspace, destination)
    try:
        _prepare(ws, retag_days_back=5)  # outside the lookback: only a refresh reloads it
        refreshed = ws.cli(*_args(ws, "run", "--full-refresh", "--resources", RESOURCES))
        assert refreshed.returncode == EXIT_OK, refreshed.stderr[-2000:]
        ws.assert_equals_truth(CORE)  # the re-tagged day outside the lookback included
        ws.assert_cursors_consistent(CORE)
        assert len(ws.completed_loads()) == 1, "the dataset's bookkeeping is the fresh copy's"
        assert not _aside_dir(ws).exists() and _aside_schemas(ws) == []
        _then_a_plain_run_converges(ws)
    finally:
        if isinstance(ws, PgWorkspace):
            for schema in [ws.dataset, *_aside_schemas(ws), f"{ws.dataset}_staging"]:
                ws.query(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE; SELECT 1')



@pytest.mark.slow
def test_a_refresh_blocked_by_dependent_views_changes_nothing_and_says_what_to_do(make_workspace) -> None:
    """Postgres: a view over a table (dbt's staging models) blocks its drop; CASCADE would delete the user's views,
    so the swap rolls back instead, with one line (exit 2), and the old data and cursors stay."""
    ws = _workspace(make_workspace, "postgres")
    views = f"{ws.dataset}_views"
    try:
        old = _prepare(ws)
        ws.query(f'CREATE SCHEMA "{views}"; CREATE VIEW "{views}".v AS SELECT * FROM "{ws.dataset}".page_events; '
                 "SELECT 1")
        blocked = ws.cli(*_args(ws, "run", "--full-refresh", "--resources", RESOURCES))
        assert blocked.returncode == 2, blocked.stderr[-2000:]
        line = one_error_line(blocked)
        assert "other objects depend on it" in line and "the dataset is unchanged" in line
        assert _holds_old_or_complete_new(ws, old) == "old"
        assert not _aside_dir(ws).exists() and _aside_schemas(ws) == []
        _then_a_plain_run_converges(ws)
    finally:
        for schema in [views, ws.dataset, *_aside_schemas(ws), f"{ws.dataset}_staging"]:
            ws.query(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE; SELECT 1')
