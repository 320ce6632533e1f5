"""Every row says which load wrote it (`_dlt_load_id`), also when pipelines run side by side in one process.

The rollup tables travel as Arrow, which skips dlt's row normalizer; the column is added only because pendo-elt
asks for it. Orchestrators (Dagster's in-process executor, the models tests) run several pipelines in threads, and a
run that loaded Arrow tables without the column broke every model that reads it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from simulator.testing import SimulatorProcess
from tests.e2e.harness import Loader

TABLES = ["page_events", "feature_events", "guide_events", "pages", "visitors"]


def test_every_table_records_its_load_also_when_pipelines_run_in_parallel_threads(
        shared_sim: SimulatorProcess, tmp_path: Path) -> None:
    loaders = [Loader(shared_sim, tmp_path / f"pipeline-{n}") for n in range(3)]

    def load_twice(loader: Loader) -> None:
        loader.run(TABLES)
        loader.run(TABLES)

    with ThreadPoolExecutor(max_workers=len(loaders)) as pool:
        list(pool.map(load_twice, loaders))

    for loader in loaders:
        loads = {row[0] for row in loader.query(f"SELECT load_id FROM {loader.table('_dlt_loads')} WHERE status = 0")}
        for table in TABLES:
            rows = loader.query(f"SELECT _dlt_load_id, count(*) FROM {loader.table(table)} GROUP BY 1")
            assert rows, f"{table} is empty"
            assert {load_id for load_id, _ in rows} <= loads, f"{table}: rows without a completed load: {rows}"
