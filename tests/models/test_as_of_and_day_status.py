"""Marts end at an as-of date (the last loaded day, or the one passed) and never at the machine's clock; each day
is flagged partial / unsettled / settled, from the loader's bucket ledger (_pendo_buckets) where it says final or
extracted-before-the-end, else from Pendo's clock at the last load (the loader's state)."""

from __future__ import annotations

import shutil
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from pipelines.models import PROJECT_DIR, run_models
from tests.models import truth as T
from tests.models.conftest import Built, Scenario


def test_days_are_flagged_from_pendos_clock_at_the_load(built: Built, truth: T.Truth) -> None:
    rows = built.rows("int_pendo__calendar")
    assert {r["date_day"]: r["day_status"] for r in rows} == {d: truth.day_status(d) for d in truth.calendar}
    assert {r["last_complete_date"] for r in rows} == {truth.last_complete_day}
    assert truth.day_status(truth.calendar[-1]) == "partial", "the simulator's last day was still running"


def test_no_model_reads_the_machine_clock() -> None:
    for path in (PROJECT_DIR / "models").rglob("*.sql"):
        text = path.read_text(encoding="utf-8").lower()
        for clock in ("current_date", "current_timestamp", "now()", "getdate()", "sysdate"):
            assert clock not in text, f"{path.name} uses {clock}"


def test_an_as_of_date_and_the_bucket_ledger(scenario: Scenario, tmp_path: Path) -> None:
    truth = scenario.truth
    source = scenario.built["duckdb"]
    path = tmp_path / "pendo.duckdb"
    shutil.copy(source.duckdb_path, path)
    open_day, zone = truth.open_day, ZoneInfo(truth.tz)

    def bucket(days_before: int) -> datetime:
        return datetime.combine(open_day - timedelta(days=days_before), time(), zone)

    ledger = [  # (bucket, final, extracted after the bucket ended by)
        (bucket(6), True, timedelta(days=2)),     # verified final: settled
        (bucket(7), False, timedelta(hours=30)),  # over when extracted, not final: the clock decides
        (bucket(8), False, timedelta(hours=-3)),  # extracted before the day ended: partial
    ]
    with duckdb.connect(str(path)) as conn:
        conn.execute("create table if not exists pendo_data._pendo_buckets (table_name varchar, bucket timestamptz, "
                     "period varchar, rows bigint, fingerprint varchar, extracted_at timestamptz, "
                     "verified_at timestamptz, final boolean)")
        conn.execute("delete from pendo_data._pendo_buckets")  # the load wrote one: replace it with a known one
        for start, final, after_end in ledger:
            extracted = start + timedelta(days=1) + after_end
            conn.execute("insert into pendo_data._pendo_buckets values ('events', ?, 'day', 1, 'x', ?, ?, ?)",
                         [start, extracted, extracted if final else None, final])
    as_of = open_day - timedelta(days=2)
    result = run_models("duckdb", "pendo_data", duckdb_path=str(path), timezone=truth.tz, work_dir=tmp_path / "dbt",
                        as_of_date=as_of.isoformat())
    with duckdb.connect(str(path), read_only=True) as conn:
        status = dict(conn.execute(f"select date_day, day_status from {result.staging_schema}.int_pendo__calendar")
                      .fetchall())
        last_active = conn.execute(f"select max(date_day) from {result.target_schema}.active_users").fetchone()[0]
        health = {r[0] for r in conn.execute(f"select as_of_date from {result.target_schema}.account_health")
                  .fetchall()}
    assert max(status) == as_of == last_active, "the marts end at the as-of date"
    assert status[open_day - timedelta(days=6)] == "settled"
    assert status[open_day - timedelta(days=7)] == "settled", "beyond the settle days"
    assert status[open_day - timedelta(days=8)] == "partial"
    assert status[as_of] == "unsettled" and status[open_day - timedelta(days=20)] == "settled", "others: the clock"
    assert health == {as_of}, "headline windows end at the last complete day"
