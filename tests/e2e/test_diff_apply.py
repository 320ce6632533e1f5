"""Diff-applied re-extraction (sources/pendo/pending.py, pipelines/apply_pending.py): the warehouse writes only the
rows that changed, stays equal to Pendo, keeps identical rows as many as Pendo has, and a run killed between its
load and the apply (or inside the apply) is finished by the next run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import dlt
import pendulum
import pytest

from pipelines.apply_pending import apply_pending
from sources.pendo.pending import CLASSIC_COLUMN, MARKER_COLUMN, pending_table
from tests.e2e.harness import EVENT_TABLES, Loader, event_drift

DAY = pendulum.datetime(2026, 3, 2, tz="UTC")
PG = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"


def _local_day(load: Loader, days_back: int) -> str:
    info = load.sim.info()
    return pendulum.from_timestamp(info["now_ms"] / 1000, tz=info["tz"]).subtract(days=days_back).to_date_string()


def _pending_rows(load: Loader) -> int:
    total = 0
    for table in EVENT_TABLES:
        try:
            total += load.query(f"SELECT COUNT(*) FROM {load.table(pending_table(table))}")[0][0]
        except Exception:  # noqa: BLE001 - no side table for this event table
            continue
    return total


def test_an_hourly_run_writes_only_the_rows_that_changed(loader) -> None:
    """Deletes and inserts of each table are exactly the multiset difference of its rows before and after."""
    load: Loader = loader(source_args={"reconcile_deletions_hours": 0})
    load.run()
    load.sim.advance(hours=1)
    load.sim.late(_local_day(load, 2), visitors=3)
    before = load.snapshot(list(EVENT_TABLES))
    summary = load.run()
    after = load.snapshot(list(EVENT_TABLES))
    assert event_drift(load) == {}
    assert _pending_rows(load) == 0
    for table in EVENT_TABLES:
        sync = summary.sync.table(table)
        gone, new = before[table] - after[table], after[table] - before[table]
        assert sync.rows_replaced == 0, table  # nothing replaced whole
        assert sync.rows_applied_deleted == sum(gone.values()), table
        assert sync.rows_applied_inserted == sum(new.values()), table
        assert sync.rows_set_aside >= sync.rows_applied_inserted
    assert summary.rows_deleted == sum(sum((before[t] - after[t]).values()) for t in EVENT_TABLES)
    assert summary.rows_inserted == sum(sum((after[t] - before[t]).values()) for t in EVENT_TABLES)
    # the rows left alone still carry the load that first wrote them
    last_load = load.query(f"SELECT MAX(_dlt_load_id) FROM {load.table('page_events')}")[0][0]
    rewritten = load.query(f"SELECT COUNT(*) FROM {load.table('page_events')} WHERE _dlt_load_id = '{last_load}'")
    assert rewritten[0][0] == summary.sync.table("page_events").rows_applied_inserted
    assert summary.rows_rewritten < sum(summary.rows.get(t, 0) for t in EVENT_TABLES)


def _side_load(workdir: Path, main_rows: list[dict], pending_rows: list[dict],
               pg_dataset: str | None = None) -> dlt.Pipeline:
    """A real DuckDB (or Postgres) dataset holding ``page_events`` and a set-aside load of it, as a run leaves them."""
    target = (dlt.destinations.postgres(PG) if pg_dataset else dlt.destinations.duckdb(str(workdir / "d.duckdb")))
    pipeline = dlt.pipeline(pipeline_name="diff_apply", destination=target, dataset_name=pg_dataset or "diff_data",
                            pipelines_dir=str(workdir / "pipelines"))
    columns = {"day": {"data_type": "timestamp", "nullable": False}, "page_id": {"data_type": "text"},
               "visitor_id": {"data_type": "text"}, "num_events": {"data_type": "bigint"},
               "parameters": {"data_type": "json"}}  # Postgres has no equality for json: compared as jsonb
    pipeline.run(dlt.resource(main_rows, name="page_events", columns=columns))
    pipeline.run(dlt.resource(pending_rows, name=pending_table("page_events"), columns={
        **columns, MARKER_COLUMN: {"data_type": "bool"}, CLASSIC_COLUMN: {"data_type": "bool"}}))
    return pipeline


def _rows(pipeline: dlt.Pipeline, table: str = "page_events") -> Counter:
    epoch = ("CAST(EXTRACT(EPOCH FROM day) * 1000 AS BIGINT)" if pipeline.destination.destination_name == "postgres"
             else "epoch_ms(day)")
    with pipeline.sql_client() as client:
        name = client.make_qualified_table_name(table)
        return Counter(tuple(r) for r in client.execute_sql(
            f"SELECT {epoch}, page_id, visitor_id, num_events FROM {name}"))


def _row(page: str, visitor: str, events: int, day: pendulum.DateTime = DAY) -> dict:
    return {"day": day, "page_id": page, "visitor_id": visitor, "num_events": events, "parameters": {"tab": page}}


def _marker(page: str | None, day: pendulum.DateTime = DAY, classic: bool = False) -> dict:
    return {"day": day, "page_id": page, MARKER_COLUMN: True, CLASSIC_COLUMN: classic}


@pytest.mark.parametrize("destination", ["duckdb", "postgres"])
def test_identical_rows_stay_as_many_as_the_new_answer_has(tmp_path: Path, destination: str, request) -> None:
    ms = int(DAY.timestamp() * 1000)
    main = [_row("p1", "a", 1), _row("p1", "a", 1), _row("p1", "b", 2), _row("p1", "c", 3), _row("p2", "a", 1),
            _row("p2", "a", 1)]
    new = [_row("p1", "a", 1), _row("p1", "b", 2), _row("p1", "c", 4), _row("p1", "d", 1), _row("p1", "d", 1)]
    dataset = request.getfixturevalue("pg_dataset") if destination == "postgres" else None
    pipeline = _side_load(tmp_path, main, [_marker("p1"), *new], dataset)
    applied = apply_pending(pipeline)["page_events"]
    assert _rows(pipeline) == Counter([(ms, "p1", "a", 1), (ms, "p1", "b", 2), (ms, "p1", "c", 4),
                                       (ms, "p1", "d", 1), (ms, "p1", "d", 1), (ms, "p2", "a", 1), (ms, "p2", "a", 1)])
    # a: two copies became one (both deleted, one inserted: no row id tells copies apart); c changed; d twice new;
    # b and the pair p2, outside the scope, untouched
    assert (applied.deleted, applied.inserted) == (3, 4)
    assert _rows(pipeline, pending_table("page_events")) == Counter()
    assert apply_pending(pipeline) == {}  # applied once: nothing left to apply


def test_a_whole_bucket_scope_removes_pairs_the_new_answer_lacks(tmp_path: Path) -> None:
    ms, other = int(DAY.timestamp() * 1000), DAY.add(days=1)
    main = [_row("p1", "a", 1), _row("p2", "a", 1), _row("p2", "a", 1), _row("p3", "a", 5, other)]
    pipeline = _side_load(tmp_path, main, [_marker(None), _row("p1", "a", 1), _row("p2", "a", 1),
                                           _row("p2", "a", 1), _row("p4", "z", 1)])
    applied = apply_pending(pipeline)["page_events"]
    assert _rows(pipeline) == Counter([(ms, "p1", "a", 1), (ms, "p2", "a", 1), (ms, "p2", "a", 1),
                                       (ms, "p4", "z", 1), (int(other.timestamp() * 1000), "p3", "a", 5)])
    assert (applied.deleted, applied.inserted) == (0, 1)


def test_a_scope_replaced_whole_inserts_its_set_aside_rows_as_they_are(tmp_path: Path) -> None:
    ms = int(DAY.timestamp() * 1000)
    pipeline = _side_load(tmp_path, [_row("p9", "x", 1)],
                          [_marker("p1"), _marker("p1", classic=True), _row("p1", "a", 1), _row("p1", "a", 1)])
    applied = apply_pending(pipeline)["page_events"]
    assert _rows(pipeline) == Counter([(ms, "p9", "x", 1), (ms, "p1", "a", 1), (ms, "p1", "a", 1)])
    assert (applied.deleted, applied.inserted) == (0, 2)


KILLED_RUN = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    import pipelines.apply_pending as apply_module
    import pipelines.run as run_module
    from tests.e2e.harness import Loader
    from simulator.testing import SimulatorProcess

    point, spec = sys.argv[1], json.loads(sys.argv[2])
    calls = []
    real = apply_module.apply_pending

    def killing_apply(pipeline, stats=None):
        calls.append(1)
        if len(calls) == 2 and point == "after load":
            os._exit(9)  # the load committed, the apply never began
        if len(calls) == 2 and point == "inside apply":
            from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient
            execute = DuckDbSqlClient.execute_sql

            def dying(self, sql, *args, **kwargs):
                if sql.startswith("INSERT INTO"):
                    os._exit(9)  # the deletes ran inside the transaction, the inserts never did
                return execute(self, sql, *args, **kwargs)

            DuckDbSqlClient.execute_sql = dying
        return real(pipeline, stats)

    run_module.apply_pending = killing_apply
    sim = SimulatorProcess()
    sim.base_url, sim.integration_key = spec["base_url"], spec["key"]
    Loader(sim, Path(spec["workdir"]), source_args=spec["source_args"]).run()
""")


@pytest.mark.parametrize(("point", "wipe"), [("after load", False), ("inside apply", False),
                                           pytest.param("after load", True, marks=pytest.mark.slow)])
@pytest.mark.timeout(900)
def test_a_run_killed_between_its_load_and_the_apply_is_finished_by_the_next_run(loader, tmp_path: Path,
                                                                                 point: str, wipe: bool) -> None:
    """``wipe``: the next run is on a new machine (no working dir): the rows set aside are applied after its own
    load, oldest load first, and its own re-extraction of the same scopes wins."""
    load: Loader = loader(source_args={"reconcile_deletions_hours": 0})
    load.run()
    load.sim.advance(hours=1)
    load.sim.late(_local_day(load, 2), visitors=3)
    before = load.snapshot(list(EVENT_TABLES))
    spec = json.dumps({"base_url": load.sim.base_url, "key": load.sim.integration_key, "workdir": str(load.workdir),
                       "source_args": load.source_args})
    child = subprocess.run([sys.executable, "-c", KILLED_RUN, point, spec], capture_output=True, text=True,
                           env={**os.environ}, cwd=Path(__file__).parents[2], timeout=800)
    assert child.returncode == 9, child.stderr[-2000:]
    # the killed run left the tables as they were, and its rows set aside
    assert load.snapshot(list(EVENT_TABLES)) == before
    assert _pending_rows(load) > 0
    if wipe:
        shutil.rmtree(load.workdir / "pipelines")
    summary = load.run()
    assert event_drift(load) == {}
    assert _pending_rows(load) == 0
    assert summary.rows_deleted + summary.rows_inserted > 0
