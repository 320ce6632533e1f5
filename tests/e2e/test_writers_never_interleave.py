"""Writers of one Postgres dataset never interleave, from two machines at once; disjoint days still load in parallel.

"Two machines" are two processes with their own pipelines dirs (their local locks never meet): only the locks the
warehouse holds (pipelines/writer_lock.py) keep them apart. Before, two overlapping backfills both exited 0 with
every row of the overlap doubled, and a run with a backfill doubled buckets.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pendulum
import pytest

from pipelines import writer_lock
from pipelines.run import make_pipeline
from tests.e2e.harness import Loader

PG = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
BIN = Path(sys.executable).parent / "pendo-elt"
pytestmark = pytest.mark.timeout(900)  # concurrent CLI processes; minutes on a busy machine
ROLLUPS = ("page_events", "feature_events", "track_events", "events")


@pytest.fixture
def dataset(pg_dataset: str) -> str:
    return pg_dataset

@pytest.fixture
def machines(make_sim, tmp_path: Path, dataset: str):
    sim = make_sim()
    info = sim.info()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("DESTINATION__", "SOURCES__"))},
           "SOURCES__PENDO__BASE_URL": sim.base_url, "SOURCES__PENDO__INTEGRATION_KEY": sim.integration_key,
           "SOURCES__PENDO__SUBSCRIPTION_TIMEZONE": info["tz"], "SOURCES__PENDO__RETRY_BACKOFF_SECONDS": "0.05",
           "SOURCES__PENDO__START_DATE": pendulum.from_timestamp(info["history_start_ms"] / 1000,
                                                                 tz=info["tz"]).to_date_string(),
           "DESTINATION__POSTGRES__CREDENTIALS": PG}

    def start(machine: str, *args: str, **extra: str) -> subprocess.Popen:
        return subprocess.Popen([str(BIN), *args, "--destination", "postgres", "--dataset", dataset,
                                 "--pipelines-dir", str(tmp_path / machine)], env={**env, **extra}, cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def finish(proc: subprocess.Popen) -> tuple[int, str]:
        _, err = proc.communicate(timeout=400)
        return proc.returncode, err

    reader = Loader(sim, tmp_path / "reader", destination="postgres", dataset=dataset)
    assert finish(start("setup", "run"))[0] == 0  # the tables exist before writers race (README)
    return start, finish, reader


def _assert_equals_truth(reader: Loader) -> None:
    for table in ROLLUPS:
        assert reader.rollup_rows(table) == reader.truth_rollup_rows(table), table
    for table in ("guide_events", "poll_events"):
        assert reader.single_event_rows(table) == reader.truth_single_event_rows(table), table


def test_two_overlapping_backfills_at_once_take_turns_and_double_nothing(machines) -> None:
    start, finish, reader = machines
    reader.sim.inject({"kind": "delay", "seconds": 3, "times": 2, "path": "/api/v1/aggregation"})  # long overlap
    first = start("machine-a", "backfill", "--start", "2026-03-01", "--end", "2026-03-06")
    second = start("machine-b", "backfill", "--start", "2026-03-04", "--end", "2026-03-09")
    for proc in (first, second):
        code, err = finish(proc)
        assert code == 0, err
    _assert_equals_truth(reader)


def test_a_run_and_a_backfill_at_once_double_nothing(machines) -> None:
    start, finish, reader = machines
    reader.sim.retag("2026-03-18")  # the run's lookback and the backfill both rewrite these buckets
    reader.sim.inject({"kind": "delay", "seconds": 3, "times": 2, "path": "/api/v1/aggregation"})
    run = start("machine-a", "run")
    backfill = start("machine-b", "backfill", "--start", "2026-03-15", "--end", "2026-03-20")
    for proc in (run, backfill):
        code, err = finish(proc)
        assert code == 0, err
    _assert_equals_truth(reader)


def test_disjoint_days_load_in_parallel_and_a_shared_day_waits_then_names_its_holder(
    machines, tmp_path: Path, dataset: str
) -> None:
    start, finish, reader = machines
    # This process holds day 2026-03-10 the way a Dagster partition does: its own pipeline and staging dataset.
    partition = make_pipeline("postgres", dataset, str(tmp_path / "dagster"), pipeline_name="pendo_backfill_20260310",
                              destination_config={"credentials": PG,
                                                  "staging_dataset_name_layout": "%s_staging_backfill_20260310"})
    with writer_lock.writing(partition, [pendulum.date(2026, 3, 10)]):
        other_day = start("machine-a", "backfill", "--start", "2026-03-11", "--end", "2026-03-12",
                          PENDO_ELT_WRITER_WAIT_SECONDS="20")
        code, err = finish(other_day)
        assert code == 0, err  # a disjoint day: loaded while the partition held its day
        same_day = start("machine-b", "backfill", "--start", "2026-03-09", "--end", "2026-03-11",
                         PENDO_ELT_WRITER_WAIT_SECONDS="2")
        run = start("machine-c", "run", PENDO_ELT_WRITER_WAIT_SECONDS="2")
        for proc, what in ((same_day, "day 2026-03-10"), (run, f"dataset '{dataset}'")):
            code, err = finish(proc)
            errors = [line for line in err.splitlines() if line.startswith("error:")]
            assert code == 1 and len(errors) == 1 and "Traceback" not in err, err
            assert what in errors[0] and f"pendo-elt backfill 2026-03-10..2026-03-10 pid {os.getpid()}" in errors[0]
            assert "this run loaded nothing" in errors[0]
    _assert_equals_truth(reader)  # nothing the refused writers did changed a row


def test_a_day_is_locked_within_its_dataset_only() -> None:
    """Backfills of one day into two datasets on one server do not wait for each other; into one dataset they do."""
    import pendulum

    from pipelines.identity import DestinationIdentity
    from pipelines.writer_lock import wanted_locks

    day = [pendulum.date(2026, 3, 9)]
    server = "127.0.0.1:5432/postgres"

    def day_keys(dataset: str) -> set[int]:
        identity = DestinationIdentity("postgres", server, dataset)
        return {key for key, _, what in wanted_locks(identity, f"{dataset}_staging", day) if what.startswith("day")}

    assert day_keys("pendo_a") == day_keys("pendo_a")
    assert not day_keys("pendo_a") & day_keys("pendo_b")
