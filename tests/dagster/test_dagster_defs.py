"""The Dagster definitions, run in process on the simulator: a daily partition is exactly one backfill day."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pendulum
import pytest

dg = pytest.importorskip("dagster", reason="the dagster extra is not installed: pip install -e '.[dagster]'")

from pipelines.dagster_defs import BACKFILL_PREFIX, build_definitions  # noqa: E402
from pipelines.run import make_pipeline  # noqa: E402
from pipelines.status import table_status  # noqa: E402
from simulator.testing import SimulatorProcess  # noqa: E402
from tests.e2e.harness import Loader  # noqa: E402

DAYS = ["2026-03-01", "2026-03-02", "2026-03-03"]


class Env:
    """A simulator, a DuckDB file in tmp_path, and the Definitions configured for them as a user would."""

    def __init__(self, sim: SimulatorProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sim, self.tmp_path = sim, tmp_path
        info = sim.info()
        self.tz = info["tz"]
        start = pendulum.from_timestamp(info["history_start_ms"] / 1000, tz=self.tz).to_date_string()
        for name, value in {
            "BASE_URL": sim.base_url, "INTEGRATION_KEY": sim.integration_key, "SUBSCRIPTION_TIMEZONE": self.tz,
            "START_DATE": start, "RETRY_BACKOFF_SECONDS": "0.05",
        }.items():
            monkeypatch.setenv(f"SOURCES__PENDO__{name}", value)
        monkeypatch.setenv("PENDO_ELT_PARTITIONS_START", start)
        monkeypatch.setenv("PENDO_ELT_PIPELINES_DIR", str(tmp_path / "pipelines"))
        monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(tmp_path / "pendo.duckdb"))
        self.defs = build_definitions()
        self.loader = Loader(sim, tmp_path)  # reads the same DuckDB file through the incremental pipeline

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
        pipeline = self.loader.pipeline()
        pipeline.sync_destination()
        return pipeline.state["sources"]["pendo"]["resources"]["page_events"]["cursor"]

    def schemas(self) -> set[str]:
        return {r[0] for r in self.loader.query("SELECT schema_name FROM information_schema.schemata")}


@pytest.fixture
def env(make_sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return Env(make_sim(), tmp_path, monkeypatch)


def _failure_message(result: Any) -> str:
    [failure] = result.get_step_failure_events()
    return failure.step_failure_data.error.message.strip()


def test_the_definitions_load_with_daily_partitions_and_the_writer_tag(env: Env) -> None:
    job = env.defs.resolve_job_def("pendo_backfill_job")
    keys = job.partitions_def.get_partition_keys()
    assert keys[0] <= DAYS[0] and DAYS[-1] in keys and keys[-1] < pendulum.today(env.tz).to_date_string()
    assert job.tags["pendo-elt/writer"] == "duckdb"
    assert env.defs.resolve_schedule_def("pendo_incremental_schedule").job_name == "pendo_incremental_job"


def test_three_partitions_load_exactly_their_days(env: Env) -> None:
    for day in DAYS:
        result = env.backfill(day)
        assert result.success, _failure_message(result)
        rows = {m.asset_key.path[-1]: m.metadata["rows_loaded"].value for m in result.asset_materializations_for_node(
            "pendo_backfill")}
        assert set(rows) == {"events", "page_events", "feature_events", "track_events", "guide_events",
                             "poll_events"}
    truth = env.truth(DAYS[0], "2026-03-04")
    assert truth and env.loaded() == truth
    assert env.loader.rollup_rows("feature_events") == env.truth(DAYS[0], "2026-03-04", "feature_events")
    assert not [s for s in env.schemas() if "staging" in s], "a partition left its staging dataset behind"
    pipelines = {r[0] for r in env.loader.query(
        f"SELECT DISTINCT pipeline_name FROM {env.loader.table('_dlt_pipeline_state')}")}
    assert pipelines == {f"pendo_backfill_{d.replace('-', '')}" for d in DAYS}  # no state of the "pendo" pipeline


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
    # A fresh machine still sees every table: the partitions stored no narrower "pendo" schema than the run's.
    fresh = make_pipeline("duckdb", "pendo_data", str(env.tmp_path / "fresh"),
                          destination_config={"credentials": str(env.tmp_path / "pendo.duckdb")})
    assert {"page_events", "visitors", "pages"} <= {s.table for s in table_status(fresh)}


def test_a_failing_partition_fails_its_run_with_the_one_line_error(env: Env, monkeypatch) -> None:
    monkeypatch.setenv("SOURCES__PENDO__MAX_ATTEMPTS", "2")
    env.sim.inject({"kind": "status", "status": 503, "times": 100, "path": "/api/v1/aggregation"})
    result = env.backfill(DAYS[0], ["page_events"])
    assert not result.success
    message = _failure_message(result)
    assert "503" in message and "\n" not in message, message
    for event in result.all_events:
        assert env.sim.integration_key not in (event.message or ""), "the integration key leaked into Dagster"
