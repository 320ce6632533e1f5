"""One simulator, loaded once into DuckDB and once into Postgres; the dbt models built on both, concurrently.

Session-scoped so the proof (test_marts.py) and the report tests share a single load and build.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.models import ModelsResult, run_models
from pipelines.run import make_pipeline
from simulator.testing import SimulatorProcess
from tests.conftest import SIM_NOW
from tests.e2e.harness import Loader
from tests.models.truth import Truth

PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# dlt insists on a password field even for trust auth; the server ignores it.
PG_LOAD_URL = "postgresql://postgres:unused@127.0.0.1:5432/postgres"


def postgres_unreachable() -> str | None:
    import psycopg2

    try:
        psycopg2.connect(PG_URL, connect_timeout=3).close()
    except psycopg2.OperationalError as exc:
        return f"PostgreSQL is not reachable at 127.0.0.1:5432 ({' '.join(str(exc).split())}); .ci/run starts it"
    return None


class _PostgresLoader(Loader):
    def pipeline(self):  # type: ignore[override]
        return make_pipeline("postgres", self.dataset, str(self.workdir / "pipelines"),
                             destination_config={"credentials": PG_LOAD_URL})


@dataclass
class Built:
    """A loaded dataset with the models built on it, and a way to read the marts."""

    destination: str
    result: ModelsResult
    duckdb_path: Path | None = None

    def rows(self, relation: str, where: str = "") -> list[dict[str, Any]]:
        schema = self.result.target_schema
        if relation.startswith("stg_") or relation.startswith("int_"):
            schema = self.result.staging_schema
        sql = f"SELECT * FROM {schema}.{relation} {where}"
        if self.destination == "duckdb":
            import duckdb

            with duckdb.connect(str(self.duckdb_path), read_only=True) as conn:
                cursor = conn.execute(sql)
                names = [d[0] for d in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        import psycopg2

        with psycopg2.connect(PG_URL) as conn, conn.cursor() as cursor:
            cursor.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@dataclass
class Scenario:
    truth: Truth
    built: dict[str, Built]
    skipped: dict[str, str]
    failure: BaseException | None  # run_models on a DuckDB file without the loaded tables


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """Load and build DuckDB and Postgres side by side (two threads: dlt keeps one pipeline context per thread)."""
    workdir = tmp_path_factory.mktemp("models")
    pg_reason = postgres_unreachable()
    pg_dataset = f"pendo_models_{uuid.uuid4().hex[:8]}"
    duckdb_path = workdir / "duck" / "pendo.duckdb"
    try:
        with SimulatorProcess(scale="tiny", now=SIM_NOW) as sim:
            tz = sim.info()["tz"]

            def duckdb_flow() -> Built:
                Loader(sim, workdir / "duck").run()
                result = run_models("duckdb", "pendo_data", duckdb_path=str(duckdb_path), timezone=tz,
                                    work_dir=workdir / "dbt-duckdb")
                return Built("duckdb", result, duckdb_path)

            def postgres_flow() -> Built:
                _PostgresLoader(sim, workdir / "pg", destination="postgres", dataset=pg_dataset).run()
                result = run_models("postgres", pg_dataset, postgres_credentials=PG_URL, timezone=tz,
                                    work_dir=workdir / "dbt-postgres")
                return Built("postgres", result)

            def failing_flow() -> BaseException | None:
                """A build that must fail, run alongside the loads (it mostly waits on dbt starting up)."""
                empty = workdir / "empty.duckdb"
                with duckdb.connect(str(empty)) as con:  # the dataset exists, without the loaded tables
                    con.execute("CREATE SCHEMA pendo_data")
                try:
                    run_models("duckdb", "pendo_data", duckdb_path=str(empty), work_dir=workdir / "dbt-failing")
                except Exception as exc:  # noqa: BLE001 - the test inspects whatever was raised
                    return exc
                return None

            flows = {"duckdb": duckdb_flow} if pg_reason else {"duckdb": duckdb_flow, "postgres": postgres_flow}
            with ThreadPoolExecutor(max_workers=len(flows) + 1) as pool:
                failing = pool.submit(failing_flow)
                futures = {name: pool.submit(flow) for name, flow in flows.items()}
                built = {name: future.result() for name, future in futures.items()}
                failure = failing.result()
            truth = Truth.fetch(sim)
        yield Scenario(truth, built, {"postgres": pg_reason} if pg_reason else {}, failure)
    finally:
        if pg_reason is None:
            import psycopg2

            with psycopg2.connect(PG_URL) as conn, conn.cursor() as cursor:
                # the dataset, dlt's merge staging dataset, the marts and the models' staging schema
                for schema in (pg_dataset, f"{pg_dataset}_staging", f"{pg_dataset}_analytics",
                               f"{pg_dataset}_analytics_staging"):
                    cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["duckdb", "postgres"])
def built(request: pytest.FixtureRequest, scenario: Scenario) -> Built:
    if request.param in scenario.skipped:
        pytest.skip(scenario.skipped[request.param])
    return scenario.built[request.param]


@pytest.fixture
def truth(scenario: Scenario) -> Truth:
    return scenario.truth
