"""Reliability harness: drive ``pendo-elt`` as cron does and judge the warehouse against the simulator's truth.

A :class:`Workspace` is one simulated Pendo subscription (a private simulator) plus one warehouse: a DuckDB file
and a dlt working directory, shared by the CLI (``pendo-elt run`` in a subprocess) and the in-process
:class:`tests.e2e.harness.Loader`. The warehouse is read with DuckDB directly, never through dlt's local state,
so it can be judged after a crash or after the working directory was deleted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pendulum

from pipelines.identity import resolve_identity
from simulator.testing import SimulatorProcess
from sources.pendo.windows import floor_to_bucket
from tests.e2e.harness import ENTITY_COLUMN, ROLLUP_COLUMNS, SINGLE_EVENT_COLUMNS, Loader

BIN = Path(sys.executable).parent / "pendo-elt"
KEY = "rel-key-5be1c0de-94f3-4a77-secret"  # distinctive, so a leak is found by grep and by nothing else
DATASET = "pendo_data"
AGG = "/api/v1/aggregation"
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

ROLLUPS = ("events", "page_events", "feature_events", "track_events")
SINGLES = ("guide_events", "poll_events")
PEOPLE = {"visitors": ("visitor_id", "visitorId"), "accounts": ("account_id", "accountId")}
ENTITIES = ("pages", "features", "guides", "track_types", "reports")
# A representative selection, ~2x faster than every resource: replace, merge (keyset-paged), bucket replacement
# of rollups and of single events, and the metadata schema.
CORE = ("pages", "metadata_fields", "visitors", "accounts", "page_events", "guide_events")


class Completed(subprocess.CompletedProcess):
    """A finished CLI run, with its wall time."""

    seconds: float


@dataclass
class Workspace:
    sim: SimulatorProcess
    dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)  # every stdout/stderr the CLI printed, for the leak checks
    logs: list[Path] = field(default_factory=list)  # output files of the runs started with popen()

    def __post_init__(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.db = self.dir / "pendo.duckdb"
        self.pipelines = self.dir / "pipelines"
        info = self.sim.info()
        self.tz: str = info["tz"]
        self.start_date = pendulum.from_timestamp(info["history_start_ms"] / 1000, tz=self.tz).to_date_string()

    # --- the CLI ------------------------------------------------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            "SOURCES__PENDO__BASE_URL": self.sim.base_url,
            "SOURCES__PENDO__INTEGRATION_KEY": self.sim.integration_key,
            "SOURCES__PENDO__SUBSCRIPTION_TIMEZONE": self.tz,
            "SOURCES__PENDO__START_DATE": self.start_date,
            "SOURCES__PENDO__RETRY_BACKOFF_SECONDS": "0.05",
            "DESTINATION__DUCKDB__CREDENTIALS": str(self.db),
            **self.extra_env,
        }

    def argv(self, args: tuple[str, ...], pipelines_dir: Path | None) -> list[str]:
        """The command line, always with this workspace's ``--pipelines-dir`` (never dlt's default directory)."""
        command = [str(BIN), *args]
        words = [a for a in args if not a.startswith("-")]
        if words and words[0] in ("run", "backfill", "check", "status") and "--help" not in args:
            command += ["--pipelines-dir", str(pipelines_dir or self.pipelines)]
        return command

    def cli(self, *args: str, cwd: Path | None = None, pipelines_dir: Path | None = None, timeout: float = 240,
            check_leak: bool = True, unset: tuple[str, ...] = (), **env_changes: str) -> Completed:
        """Run ``pendo-elt`` to completion with the workspace's environment changed by ``env_changes``."""
        env = {k: v for k, v in {**self.env, **env_changes}.items() if k not in unset}
        started = time.monotonic()
        result = subprocess.run(self.argv(args, pipelines_dir), capture_output=True, text=True, timeout=timeout,
                                cwd=cwd or self.dir, env=env)
        result.seconds = time.monotonic() - started  # type: ignore[attr-defined]
        self.outputs += [result.stdout, result.stderr]
        if check_leak:
            assert self.sim.integration_key not in result.stdout + result.stderr, "the integration key leaked"
        return result  # type: ignore[return-value]

    def popen(self, *args: str, **env_changes: str) -> subprocess.Popen:
        """Start ``pendo-elt`` and return at once (for the crash trials); output goes to files in the workspace."""
        env = {**self.env, **env_changes}
        log = self.dir / f"background-{len(self.logs)}.log"
        self.logs.append(log)
        handle = log.open("w")
        try:
            return subprocess.Popen(self.argv(args, None), stdout=handle, stderr=subprocess.STDOUT, cwd=self.dir,
                                    env=env, start_new_session=True)
        finally:
            handle.close()

    def source_args(self, **overrides: Any) -> dict[str, Any]:
        """What the CLI reads from the environment, as ``pendo_source`` arguments (for in-process set-ups)."""
        return {"base_url": self.sim.base_url, "integration_key": self.sim.integration_key,
                "subscription_timezone": self.tz, "start_date": self.start_date, "retry_backoff_seconds": 0.05,
                **overrides}

    @property
    def working_dir(self) -> Path:
        """dlt's working dir of the ``pendo`` pipeline for this warehouse (one per destination identity)."""
        identity = resolve_identity("duckdb", "pendo_data", {"credentials": str(self.db)})
        return identity.working_root(str(self.pipelines)) / "pendo"

    def loader(self, **source_args: Any) -> Loader:
        """The in-process runner of tests/e2e on this same warehouse (faster for set-up loads)."""
        return Loader(self.sim, self.dir, source_args=source_args or None)

    # --- the warehouse, read directly ---------------------------------------------------------------
    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.sql(sql).fetchall()

    def tables(self) -> list[str]:
        if not self.db.exists():
            return []
        rows = self.query(f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{DATASET}' "
                          "ORDER BY table_name")
        return [r[0] for r in rows]

    def columns(self, table: str) -> list[str]:
        rows = self.query(f"SELECT column_name FROM information_schema.columns WHERE table_schema = '{DATASET}' "
                          f"AND table_name = '{table}' ORDER BY ordinal_position")
        return [r[0] for r in rows]

    def snapshot(self) -> dict[str, Counter]:
        """Every row of every data table with every column an analyst sees (dlt bookkeeping excluded, and
        ``_pendo_buckets``, whose ``verified_at`` records each run's verification by design). A side table of
        set-aside rows (``_pendo_pending_<table>``, created by the first verified run) counts only when rows were
        left in it: after a finished run it is empty."""
        result: dict[str, Counter] = {}
        for table in self.tables():
            if table.startswith("_dlt") or table == "_pendo_buckets":
                continue
            columns = [c for c in self.columns(table) if not c.startswith("_dlt") and c != "_pendo_deleted"]
            select = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in columns)
            rows = Counter(self.query(f'SELECT {select} FROM {DATASET}."{table}"'))
            if rows or not table.startswith("_pendo_pending_"):
                result[table] = rows
        return result

    def completed_loads(self) -> list[str]:
        if "_dlt_loads" not in self.tables():
            return []
        return [r[0] for r in self.query(f"SELECT load_id FROM {DATASET}._dlt_loads WHERE status = 0 ORDER BY 1")]

    def stored_state(self) -> dict:
        """The pipeline state of the newest completed load, as a fresh machine would restore it."""
        from dlt.common.versioned_state import decompress_state

        if "_dlt_pipeline_state" not in self.tables():
            return {}
        rows = self.query(
            f"SELECT s.state FROM {DATASET}._dlt_pipeline_state s JOIN {DATASET}._dlt_loads l "
            f"ON l.load_id = s._dlt_load_id WHERE l.status = 0 ORDER BY l.load_id DESC LIMIT 1")
        return decompress_state(rows[0][0]) if rows else {}

    def cursors(self, state: dict | None = None) -> dict[str, Any]:
        state = self.stored_state() if state is None else state
        resources = state.get("sources", {}).get("pendo", {}).get("resources", {})
        return {name: r.get("cursor", r.get("cursor_ms")) for name, r in resources.items()
                if "cursor" in r or "cursor_ms" in r}

    def local_cursors(self) -> dict[str, Any]:
        import json

        path = self.working_dir / "state.json"
        if not path.exists():
            return {}
        return self.cursors(json.loads(path.read_text()))

    # --- ground truth -------------------------------------------------------------------------------
    def warehouse_rows(self, table: str) -> Counter:
        if table in ROLLUPS:
            entity = ENTITY_COLUMN[table]
            columns = [*ROLLUP_COLUMNS, *([entity[0]] if entity else []), "epoch_ms(day)"]
        elif table in SINGLES:
            columns = [*list(SINGLE_EVENT_COLUMNS)[:-1], "epoch_ms(browser_time)"]
        elif table in PEOPLE:
            columns = [PEOPLE[table][0], "epoch_ms(metadata_auto_lastupdated)"]
        elif table == "metadata_fields":
            columns = ["kind", '"group"', "field", "type"]
        else:
            columns = ["id"]
        if table not in self.tables():
            return Counter()
        return Counter(self.query(f'SELECT {", ".join(columns)} FROM {DATASET}."{table}"'))

    def truth_rows(self, table: str) -> Counter:
        sim = self.sim
        if table in ROLLUPS:
            entity = ENTITY_COLUMN[table]
            fields = [*ROLLUP_COLUMNS.values(), *([entity[1]] if entity else []), "day"]
            return Counter(tuple(r.get(f) for f in fields) for r in sim.truth(table))
        if table in SINGLES:
            return Counter(tuple(r.get(f) for f in SINGLE_EVENT_COLUMNS.values()) for r in sim.truth(table))
        if table in PEOPLE:
            id_field = PEOPLE[table][1]
            return Counter((r[id_field], r["metadata"]["auto"]["lastupdated"])
                           for r in sim.truth(table, include_anonymous=False))
        if table == "metadata_fields":
            rows: Counter = Counter()
            for kind in ("visitor", "account"):
                for group, fields in sim.api("GET", f"metadata/schema/{kind}").json().items():
                    rows.update((kind, group, name, d["Type"]) for name, d in fields.items())
            return rows
        return Counter((r["id"],) for r in sim.truth(table))

    def differences(self, tables: tuple[str, ...] | list[str] = CORE) -> dict[str, dict[str, int]]:
        """Per table that differs: rows missing from the warehouse (gaps) and rows too many (duplicates/stale)."""
        found = {}
        for table in tables:
            warehouse, truth = self.warehouse_rows(table), self.truth_rows(table)
            if warehouse != truth:
                found[table] = {"missing": sum((truth - warehouse).values()),
                                "extra": sum((warehouse - truth).values()), "truth_rows": sum(truth.values())}
        return found

    def assert_equals_truth(self, tables: tuple[str, ...] | list[str] = CORE) -> None:
        diff = self.differences(tables)
        assert not diff, f"warehouse differs from the simulator's ground truth: {diff}"

    def expected_cursors(self, tables: tuple[str, ...] | list[str] = CORE) -> dict[str, Any]:
        """Where the cursors of a complete run stand: the last (partial) bucket, the newest lastupdated seen."""
        info = self.sim.info()
        now = pendulum.from_timestamp(info["now_ms"] / 1000)
        last_bucket = floor_to_bucket(now, "day", self.tz).to_iso8601_string()
        expected: dict[str, Any] = {}
        for table in tables:
            if table in ROLLUPS or table in SINGLES:
                expected[table] = last_bucket
            elif table in PEOPLE:
                expected[table] = max(lu for _, lu in self.truth_rows(table))
        return expected

    def assert_cursors_consistent(self, tables: tuple[str, ...] | list[str] = CORE) -> None:
        """Cursors in the destination are where a clean run leaves them, and the local copy agrees."""
        stored = self.cursors()
        expected = self.expected_cursors(tables)
        assert {t: stored.get(t) for t in expected} == expected
        local = self.local_cursors()
        assert {t: local.get(t) for t in expected} == expected


def loading_packages(working_dir: Path) -> list[Path]:
    """Packages whose load step is under way: dlt's loader touched them and has jobs left to run.

    A package sits in ``load/normalized`` from the end of normalize on, also while the pipeline is between its
    normalize and load steps; only once the loader began does it write ``applied_schema_updates.json`` or move a job
    to ``started_jobs``/``completed_jobs``. Jobs still in ``new_jobs``/``started_jobs`` mean the load is not over.
    """
    base = working_dir / "load" / "normalized"
    found = []
    for package in (p for p in base.iterdir() if p.is_dir()) if base.is_dir() else ():
        def jobs(folder: str, package: Path = package) -> bool:
            return (package / folder).is_dir() and any((package / folder).iterdir())

        try:
            began = (package / "applied_schema_updates.json").exists() or jobs("started_jobs") or jobs(
                "completed_jobs")
            if began and (jobs("new_jobs") or jobs("started_jobs")):
                found.append(package)
        except FileNotFoundError:  # the package moved to load/loaded while being looked at
            continue
    return found


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The CLI's contract: exactly one ``error:`` line, no traceback."""
    lines = error_lines(result)
    assert len(lines) == 1, f"expected one error line, got:\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return lines[0]
