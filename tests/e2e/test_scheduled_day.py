"""A simulated day of hourly runs mixing late data, a rule edit and a visitor deletion: after every run each
event table equals Pendo over the whole loaded range, with no duplicate, and an hourly run reads a small part of
what the old three-day lookback read."""

from __future__ import annotations

import uuid

import pendulum
import psycopg2
import pytest

from tests.e2e.harness import EVENT_TABLES, Loader, event_drift

PG = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"


def _day(load: Loader, days_back: int) -> str:
    info = load.sim.info()
    return pendulum.from_timestamp(info["now_ms"] / 1000, tz=info["tz"]).subtract(days=days_back).to_date_string()


def _scheduled_day(load: Loader, hours: int, every_table_every_hour: bool = True) -> list:
    """``hours`` hourly runs; the past changes between them as Pendo's does.

    After every run the warehouse is compared with Pendo over the whole loaded range: every event table, or (when
    ``every_table_every_hour`` is False, to keep a long day affordable) every table after an hour that changed the
    past and after the hour following it, one table in turn after a quiet hour; every table after the last run.
    """
    load.run()
    deleted: list[str] = []

    def delete_busiest_visitor() -> None:
        deleted.append(load.ids("page_events", "visitor_id").most_common(1)[0][0])
        load.sim.delete_visitor(deleted[-1])

    events = {1: lambda: load.sim.late(_day(load, 2), visitors=3),
              2: lambda: load.sim.rule_edit("page"),
              3: lambda: load.sim.late(_day(load, 9), visitors=2),
              4: delete_busiest_visitor,
              5: lambda: load.sim.late(_day(load, 5), visitors=2),
              12: lambda: load.sim.rule_edit("feature")}
    summaries = []
    for hour in range(1, hours + 1):
        load.sim.advance(hours=1)
        if hour in events:
            events[hour]()
        summaries.append(load.run())
        eventful = hour in events or hour - 1 in events or hour == hours
        tables = EVENT_TABLES if every_table_every_hour or eventful else (EVENT_TABLES[hour % len(EVENT_TABLES)],)
        assert event_drift(load, tables=tables) == {}, f"after hourly run {hour}"
    for visitor in deleted:  # gone from every table that has visitors, whatever the age of its rows
        for table in (*EVENT_TABLES, "visitors"):
            assert load.ids(table, "visitor_id")[visitor] == 0, f"deleted visitor {visitor} still in {table}"
    return summaries


# Slow: 25 runs of every resource cost 276 s of CPU (test and simulator, user + system; 52 min of wall time at load
# average 20-45 on 2 cores), far over what `make test` can spend on one test even on an idle machine.
@pytest.mark.slow
@pytest.mark.timeout(7200)
def test_twenty_four_hourly_runs_stay_equal_to_pendo(loader) -> None:
    load: Loader = loader(source_args={"reconcile_deletions_hours": 0})
    summaries = _scheduled_day(load, 24, every_table_every_hour=False)
    quiet = [s for i, s in enumerate(summaries, 1) if i not in (1, 2, 3, 4, 5, 12, 13)]
    full = len(load.sim.truth("page_events"))
    assert max(s.rows["page_events"] for s in quiet) < full / 10


@pytest.mark.timeout(900)  # five loads and truth comparisons: minutes on a busy two-core machine
def test_four_hourly_runs_stay_equal_to_pendo(loader) -> None:
    load: Loader = loader(source_args={"reconcile_deletions_hours": 0})
    summaries = _scheduled_day(load, 4)
    assert all(s.fingerprint_rows for s in summaries)
    # hour 1 (late data two days back) reads a part; hour 4's deletion touches every day, so it is left out
    assert summaries[0].rows["page_events"] < len(load.sim.truth("page_events")) / 5


@pytest.mark.timeout(900)
def test_a_scheduled_day_on_postgres_stays_equal_to_pendo(make_sim, tmp_path) -> None:
    try:
        psycopg2.connect(PG, connect_timeout=3).close()
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({exc}); .ci/run starts it")
    dataset = f"pendo_test_{uuid.uuid4().hex[:8]}"
    try:
        load = Loader(make_sim(), tmp_path, destination="postgres", dataset=dataset,
                      source_args={"reconcile_deletions_hours": 0})
        _scheduled_day(load, 4)
    finally:
        with psycopg2.connect(PG) as conn, conn.cursor() as cur:
            for schema in (dataset, f"{dataset}_staging"):  # dlt's staging dataset too
                cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
