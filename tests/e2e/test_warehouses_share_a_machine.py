"""Several warehouses loaded from one machine and one pipelines dir never share local state.

Alternating incremental runs between two DuckDB files and a Postgres dataset while Pendo's clock moves: with one
shared working dir, each run started from the cursors another warehouse had reached, and whole days outside the
lookback were never loaded (and Postgres read DuckDB's file formats). Each warehouse must equal the ground truth
after each of its runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.identity import resolve_identity
from pipelines.run import make_pipeline
from tests.e2e.harness import Loader

PG = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"


@dataclass
class Warehouse(Loader):
    """A Loader whose working dirs live in one pipelines dir shared with every other warehouse of the test."""

    pipelines_dir: Path | None = None
    duckdb_file: Path | None = None

    def pipeline(self):  # noqa: ANN201 - dlt.Pipeline
        credentials = str(self.duckdb_file) if self.destination == "duckdb" else PG
        return make_pipeline(self.destination, self.dataset, str(self.pipelines_dir),
                             destination_config={"credentials": credentials})


def assert_equals_truth(load: Loader) -> None:
    for table in ("page_events", "feature_events", "track_events", "events"):
        assert load.rollup_rows(table) == load.truth_rollup_rows(table), (load.destination, table)
    for table in ("guide_events", "poll_events"):
        assert load.single_event_rows(table) == load.truth_single_event_rows(table), (load.destination, table)
    truth = load.sim.truth("visitors", include_anonymous=False)
    assert set(load.ids("visitors", "visitor_id")) == {v["visitorId"] for v in truth}, load.destination



@pytest.mark.timeout(900)  # nine real runs; minutes on a busy machine
def test_alternating_runs_into_two_duckdb_files_and_postgres_each_equal_the_truth(
    make_sim, tmp_path: Path, pg_dataset: str
) -> None:
    sim = make_sim()
    shared = tmp_path / "pipelines"  # as root, every project on the machine shares /var/dlt/pipelines like this
    warehouses = [
        Warehouse(sim, tmp_path, pipelines_dir=shared, duckdb_file=tmp_path / "dev.duckdb"),
        Warehouse(sim, tmp_path, pipelines_dir=shared, duckdb_file=tmp_path / "prod" / "pendo.duckdb"),
        Warehouse(sim, tmp_path, destination="postgres", dataset=pg_dataset, pipelines_dir=shared),
    ]
    (tmp_path / "prod").mkdir()
    for _ in range(2):
        for warehouse in warehouses:
            warehouse.run()
            assert_equals_truth(warehouse)
            sim.advance(days=2)  # each warehouse's runs are 6 days apart, twice the lookback
    roots = {w.pipeline().pipelines_dir for w in warehouses}
    assert len(roots) == 3 and all(Path(r).parent == shared for r in roots)


def test_the_identity_is_the_destination_the_location_and_the_dataset(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = resolve_identity("duckdb", "pendo_data", {"credentials": "pendo.duckdb"})
    assert relative.location == str(tmp_path / "pendo.duckdb")  # against the current dir
    assert resolve_identity("duckdb", "pendo_data").location == relative.location  # the default file
    assert resolve_identity("duckdb", "other", {"credentials": "pendo.duckdb"}).key != relative.key
    pg = resolve_identity("postgres", "pendo_data", {"credentials": "postgresql://u:secret@DB.example:5433/wh"})
    same_place_other_user = resolve_identity("postgres", "pendo_data",
                                             {"credentials": "postgresql://v:other@db.example:5433/wh"})
    assert pg.location == "db.example:5433/wh" and pg.key == same_place_other_user.key
    assert "secret" not in pg.describe() and "u:" not in pg.describe()
    assert pg.key != resolve_identity("postgres", "pendo_data",
                                      {"credentials": "postgresql://u:secret@db.example:5433/other"}).key
