"""One simulator, loaded once into DuckDB and once into Postgres; the dbt models built on both, concurrently.

Built once per test run and shared by every test file and xdist worker (shared_build.py), so the proofs and the
report tests share a single load and build.
"""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.models import ModelsResult, run_models
from pipelines.run import make_pipeline
from simulator.testing import SimulatorProcess
from tests.conftest import SHARED_DIR_ENV, SIM_NOW
from tests.e2e.harness import Loader
from tests.models.shared_build import shared
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
        return self.query(f"SELECT * FROM {schema}.{relation} {where}")

    def query(self, sql: str) -> list[dict[str, Any]]:
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


def build_scenario(workdir: Path) -> tuple[Scenario, list[str]]:
    """Load and build DuckDB and Postgres side by side (two threads: dlt keeps one pipeline context per thread).

    Returns the scenario and the Postgres schemas it created (dropped when the test run ends)."""
    workdir.mkdir(parents=True, exist_ok=True)
    pg_reason = postgres_unreachable()
    pg_dataset = f"pendo_models_{uuid.uuid4().hex[:8]}"
    duckdb_path = workdir / "duck" / "pendo.duckdb"
    # the dataset, dlt's merge staging dataset, the marts, the models' staging schema, the compatibility views
    schemas = [] if pg_reason else [pg_dataset, f"{pg_dataset}_staging", f"{pg_dataset}_analytics",
                                    f"{pg_dataset}_analytics_staging", f"{pg_dataset}_analytics_stitch"]
    with SimulatorProcess(scale="tiny", now=SIM_NOW) as sim:
        tz = sim.info()["tz"]

        def duckdb_flow() -> Built:
            Loader(sim, workdir / "duck").run()
            result = run_models("duckdb", "pendo_data", duckdb_path=str(duckdb_path), timezone=tz,
                                work_dir=workdir / "dbt-duckdb", stitch_compat=True)
            return Built("duckdb", result, duckdb_path)

        def postgres_flow() -> Built:
            _PostgresLoader(sim, workdir / "pg", destination="postgres", dataset=pg_dataset).run()
            result = run_models("postgres", pg_dataset, postgres_credentials=PG_URL, timezone=tz,
                                work_dir=workdir / "dbt-postgres", stitch_compat=True)
            return Built("postgres", result)

        def failing_flow() -> BaseException | None:
            """A build that must fail, run alongside the loads (it mostly waits on dbt starting up)."""
            empty = workdir / "empty.duckdb"
            duckdb.connect(str(empty)).close()
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
    return Scenario(truth, built, {"postgres": pg_reason} if pg_reason else {}, failure), schemas


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    """Built once per test run, whatever the number of xdist workers (tests/models/shared_build.py)."""
    return shared(os.environ[SHARED_DIR_ENV], build_scenario)


@pytest.fixture(params=["duckdb", "postgres"])
def built(request: pytest.FixtureRequest, scenario: Scenario) -> Built:
    if request.param in scenario.skipped:
        pytest.skip(scenario.skipped[request.param])
    return scenario.built[request.param]


@pytest.fixture
def truth(scenario: Scenario) -> Truth:
    return scenario.truth


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The first test to ask for the warehouse waits for the whole load and build (minutes on a busy machine)."""
    for item in items:
        if "scenario" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(900))
