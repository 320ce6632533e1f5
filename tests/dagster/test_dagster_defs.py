"""The Dagster definitions, run in process on the simulator: a daily partition is exactly one backfill day."""

from __future__ import annotations

import multiprocessing
import re
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pendulum
import pytest

dg = pytest.importorskip("dagster", reason="the dagster extra is not installed: pip install -e '.[dagster]'")

from pipelines import dagster_defs  # noqa: E402
from pipelines.dagster_defs import BACKFILL_PREFIX, build_definitions  # noqa: E402
from pipelines.run import make_pipeline  # noqa: E402
from pipelines.status import table_status  # noqa: E402
from simulator.testing import SimulatorProcess  # noqa: E402
from sources.pendo.errors import ConfigError  # noqa: E402
from tests.e2e.harness import Loader  # noqa: E402

DAYS = ["2026-03-01", "2026-03-02", "2026-03-03"]
EVENT_TABLES = {"events", "page_events", "feature_events", "track_events", "guide_events", "poll_events"}
PG = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"  # trust auth: dlt wants a password, PG ignores it


class Reader(Loader):
    """The e2e harness's queries and ground truth, through a pipeline of its own (never one the runs use)."""

    def pipeline(self) -> Any:
        credentials = str(self.workdir / "pendo.duckdb") if self.destination == "duckdb" else PG
        return make_pipeline(self.destination, self.dataset, str(self.workdir / "reader"),
                             destination_config={"credentials": credentials})


class Env:
    """A simulator, a destination, and the Definitions configured for them the way a user does: env vars."""

    def __init__(self, sim: SimulatorProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 destination: str = "duckdb", dataset: str = "pendo_data") -> None:
        self.sim, self.tmp_path = sim, tmp_path
        info = sim.info()
        self.tz = info["tz"]
        start = pendulum.from_timestamp(info["history_start_ms"] / 1000, tz=self.tz).to_date_string()
        for name, value in {
            "BASE_URL": sim.base_url, "INTEGRATION_KEY": sim.integration_key, "SUBSCRIPTION_TIMEZONE": self.tz,
            "START_DATE": start, "RETRY_BACKOFF_SECONDS": "0.05",
        }.items():
            monkeypatch.setenv(f"SOURCES__PENDO__{name}", value)
        monkeypatch.setenv("PENDO_ELT_DESTINATION", destination)
        monkeypatch.setenv("PENDO_ELT_DATASET", dataset)
        monkeypatch.setenv("PENDO_ELT_PARTITIONS_START", start)
        monkeypatch.setenv("PENDO_ELT_PIPELINES_DIR", str(tmp_path / "pipelines"))
        monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(tmp_path / "pendo.duckdb"))
        monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", PG)
        self.defs = build_definitions()
        self.loader = Reader(sim, tmp_path, destination=destination, dataset=dataset)

    def backfill(self, day: str, tables: list[str] | None = None) -> Any:
        job = self.defs.resolve_job_def("pendo_backfill_job")
        selection = [dg.AssetKey([BACKFILL_PREFIX, t]) for t in tables] if tables else None
        return job.execute_in_process(partition_key=day, asset_selection=selection, raise_on_error=False)

    def incremental(self) -> Any:
        return self.defs.resolve_job_def("pendo_incremental_job").execute_in_process(raise_on_error=False)

    def ms(self, day: str) -> int:
        return int(pendulum.parse(day, tz=self.tz).timestamp() * 1000)

    def loaded(self, table: str = "page_events") -> Counter:
        return self.loader.rollup_rows(table)

    def truth(self, first: str, end: str, table: str = "page_events") -> Counter:
        return self.loader.truth_rollup_rows(table, start_ms=self.ms(first), end_ms=self.ms(end))

    def cursor(self) -> str:
        """The incremental pipeline's page_events cursor, as stored in the destination."""
        pipeline = make_pipeline("duckdb", "pendo_data", str(self.tmp_path / f"fresh_{uuid.uuid4().hex[:6]}"),
                                 destination_config={"credentials": str(self.tmp_path / "pendo.duckdb")})
        pipeline.sync_destination()
        return pipeline.state["sources"]["pendo"]["resources"]["page_events"]["cursor"]

    def pipeline_names(self) -> set[str]:
        return {r[0] for r in self.loader.query(
            f"SELECT DISTINCT pipeline_name FROM {self.loader.table('_dlt_pipeline_state')}")}

    def schemas(self, like: str) -> set[str]:
        return {r[0] for r in self.loader.query(
            f"SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '{like}'")}


@pytest.fixture
def env(make_sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return Env(make_sim(), tmp_path, monkeypatch)


def _materialized(result: Any) -> dict[str, int]:
    return {m.asset_key.path[-1]: m.metadata["rows_loaded"].value
            for m in result.asset_materializations_for_node("pendo_backfill")}


def _error(result: Any) -> str:
    failures = result.get_step_failure_events()
    data = failures[0].step_failure_data
    return data.user_failure_data.description if data.user_failure_data else data.error.message


def test_the_definitions_have_daily_partitions_in_pendo_time_and_the_writer_tag_and_pool(env: Env) -> None:
    job = env.defs.resolve_job_def("pendo_backfill_job")
    keys = job.partitions_def.get_partition_keys()
    assert keys[0] <= DAYS[0] and DAYS[-1] in keys
    assert keys[-1] < pendulum.today(env.tz).to_date_string()  # only days that are over
    assert job.partitions_def.timezone == env.tz
    assert job.tags["pendo-elt/writer"] == "duckdb"
    assert env.defs.resolve_job_def("pendo_incremental_job").tags["pendo-elt/writer"] == "duckdb"
    assets = env.defs.resolve_assets_def(dg.AssetKey([BACKFILL_PREFIX, "page_events"]))
    assert {k.path[-1] for k in assets.keys} == EVENT_TABLES
    assert assets.node_def.pool == "pendo_elt_duckdb"
    assert assets.backfill_policy == dg.BackfillPolicy.multi_run(1)  # one run per day
    assert env.defs.resolve_schedule_def("pendo_incremental_schedule").job_name == "pendo_incremental_job"
    with pytest.raises(ConfigError, match="PENDO_ELT_DESTINATION"):
        build_definitions(destination="bigquery")


def test_three_partitions_load_exactly_their_days_each_through_its_own_pipeline(env: Env, monkeypatch) -> None:
    staged: list[tuple[str, str]] = []
    drop = dagster_defs._drop_staging

    def spy(pipeline: Any) -> None:
        with pipeline.sql_client() as client, client.with_staging_dataset():
            staged.append((pipeline.pipeline_name, client.dataset_name))
        drop(pipeline)

    monkeypatch.setattr(dagster_defs, "_drop_staging", spy)
    for day in DAYS:
        result = env.backfill(day)
        assert result.success, _error(result)
        assert set(_materialized(result)) == EVENT_TABLES
    truth = env.truth(DAYS[0], "2026-03-04")
    assert truth and env.loaded() == truth
    assert sum(_materialized(result).values()) > 0
    assert env.loaded("feature_events") == env.truth(DAYS[0], "2026-03-04", "feature_events")
    names = [f"pendo_backfill_{d.replace('-', '')}" for d in DAYS]
    assert staged == [(n, f"pendo_data_staging_{n.removeprefix('pendo_')}") for n in names]
    assert env.pipeline_names() == set(names)  # no state of the incremental "pendo" pipeline
    assert not env.schemas("%staging%"), "a partition left its staging dataset behind"


def test_partitions_leave_the_cursor_alone_and_a_rerun_replaces_its_day(env: Env) -> None:
    assert env.incremental().success
    cursor, everything = env.cursor(), env.loaded()
    assert everything == env.loader.truth_rollup_rows("page_events")
    for day in DAYS[:2]:
        assert env.backfill(day, ["page_events"]).success
    assert env.loaded() == everything and env.cursor() == cursor

    before = env.truth(DAYS[1], DAYS[2])
    env.sim.retag(DAYS[1])
    after = env.truth(DAYS[1], DAYS[2])
    assert after != before
    assert env.backfill(DAYS[1], ["page_events"]).success
    assert env.loaded() == everything - before + after  # that day replaced, every other day as it was
    assert env.cursor() == cursor
    # A fresh machine still sees every table: no partition stored a "pendo" schema narrower than the run's.
    fresh = make_pipeline("duckdb", "pendo_data", str(env.tmp_path / "fresh"),
                          destination_config={"credentials": str(env.tmp_path / "pendo.duckdb")})
    assert {"page_events", "visitors", "pages"} <= {s.table for s in table_status(fresh)}


def test_a_failing_partition_fails_its_run_with_the_one_line_error(env: Env, monkeypatch) -> None:
    monkeypatch.setenv("SOURCES__PENDO__MAX_ATTEMPTS", "2")
    env.sim.inject({"kind": "status", "status": 503, "times": 100, "path": "/api/v1/aggregation"})
    result = env.backfill(DAYS[0], ["page_events"])
    assert not result.success
    # The first aggregation of a run asks Pendo for its clock; with every aggregation failing, that one fails.
    assert re.fullmatch(r"POST /api/v1/aggregation \((page_events 2026-03-01T05:00:00Z\.\.2026-03-02T05:00:00Z|"
                        r"server clock)\): "
                        r"HTTP 503 \(gave up after 2 attempts; try again later\)", _error(result)), _error(result)
    assert len(result.get_step_failure_events()) == 1  # Pendo errors were retried per request: no step retry
    for event in result.all_events:
        assert env.sim.integration_key not in (event.message or ""), "the integration key leaked into Dagster"


def _partition_in_own_process(day: str) -> tuple[str, bool, str]:
    """One partition run, as Dagster's run launcher starts it: a process of its own."""
    result = build_definitions().resolve_job_def("pendo_backfill_job").execute_in_process(
        partition_key=day, asset_selection=[dg.AssetKey([BACKFILL_PREFIX, "page_events"])], raise_on_error=False)
    return day, result.success, "" if result.success else _error(result)


def test_partitions_run_in_parallel_on_postgres_without_tripping_over_each_other(
    make_sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        psycopg2.connect(PG, connect_timeout=3).close()
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({exc}); .ci/run starts it")
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs the fork start method")
    dataset = f"pendo_dagster_{uuid.uuid4().hex[:8]}"
    env = Env(make_sim(), tmp_path, monkeypatch, destination="postgres", dataset=dataset)
    try:
        assert env.backfill("2026-03-10", ["page_events"]).success  # the tables exist before the parallel runs
        # fork: the children start warm (Dagster and dlt imported), so the runs overlap instead of importing.
        with ProcessPoolExecutor(len(DAYS), mp_context=multiprocessing.get_context("fork")) as pool:
            outcomes = list(pool.map(_partition_in_own_process, DAYS, timeout=240))
        assert all(ok for _, ok, _ in outcomes), outcomes
        truth = env.truth(DAYS[0], "2026-03-04") + env.truth("2026-03-10", "2026-03-11")
        assert env.loaded() == truth
        assert env.schemas(f"{dataset}%") == {dataset}  # every partition dropped its own staging dataset
    finally:
        with psycopg2.connect(PG) as conn, conn.cursor() as cur:
            for schema in env.schemas(f"{dataset}%"):
                cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_the_asset_check_on_the_event_assets_passes_and_then_fails_on_drift(env: Env) -> None:
    assert env.incremental().success
    def run_check() -> dict[str, bool]:
        result = env.defs.resolve_job_def("pendo_verify_job").execute_in_process(raise_on_error=False)
        evaluations = {e.asset_key.path[-1]: e.passed for e in result.get_asset_check_evaluations()}
        assert set(evaluations) == EVENT_TABLES
        return {t: evaluations[t] for t in ("page_events", "events")}

    assert run_check() == {"page_events": True, "events": True}
    day = pendulum.from_timestamp(env.sim.info()["now_ms"] / 1000, tz=env.tz).subtract(days=15).to_date_string()
    env.sim.late(day, visitors=3)
    assert run_check() == {"page_events": False, "events": False}
