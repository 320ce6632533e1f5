"""``_pendo_buckets``: what the destination holds per event table and bucket, written right after each load.

One row per (table_name, bucket): ``period``, ``rows`` (as extracted or as Pendo's fingerprint counted them),
``fingerprint`` (Pendo's, hashed), ``extracted_at``, ``verified_at`` and ``final`` (it matched Pendo once it was
older than the settling horizon, when Pendo treats a day as final). It lives in the destination, so it survives a
new machine, and the models and analysts can tell final days from unsettled ones. Correctness never depends on
it: drift is always decided by comparing Pendo with the warehouse's actual rows, so a failure to write it is
logged, never fatal. It is written with plain SQL, outside dlt's schema: one run stays one dlt load.
"""

from __future__ import annotations

import logging
from typing import Any

import dlt
import pendulum

from pipelines.warehouse_fingerprints import WarehouseFingerprints

logger = logging.getLogger("pendo_elt")

TABLE = "_pendo_buckets"
COLUMNS = ("table_name", "bucket", "period", "rows", "fingerprint", "extracted_at", "verified_at", "final")
CARRIED = ("rows", "fingerprint", "extracted_at", "verified_at", "final")


def write_bucket_state(pipeline: dlt.Pipeline, period: str, buckets: dict[tuple[str, int], dict[str, Any]]) -> int:
    """Upsert what this run learnt; facts it did not learn keep their stored values. Returns rows written."""
    if not buckets:
        return 0
    try:
        return _write(pipeline, period, buckets)
    except Exception as exc:  # noqa: BLE001 - bookkeeping only: the load itself succeeded
        reason = " ".join(str(exc).split())[:200]
        logger.warning("could not update %s (%s); the loaded data is not affected", TABLE, reason)
        return 0


def _write(pipeline: dlt.Pipeline, period: str, buckets: dict[tuple[str, int], dict[str, Any]]) -> int:
    sql = WarehouseFingerprints(pipeline)
    with pipeline.sql_client() as client:
        name = client.make_qualified_table_name(TABLE)
        q = client.escape_column_name
        client.execute_sql(
            f"CREATE TABLE IF NOT EXISTS {name} ({q('table_name')} VARCHAR(64) NOT NULL, "
            f"{q('bucket')} TIMESTAMP WITH TIME ZONE NOT NULL, {q('period')} VARCHAR(8), {q('rows')} BIGINT, "
            f"{q('fingerprint')} VARCHAR(64), {q('extracted_at')} TIMESTAMP WITH TIME ZONE, "
            f"{q('verified_at')} TIMESTAMP WITH TIME ZONE, {q('final')} BOOLEAN)")
        written = 0
        for table in sorted({t for t, _ in buckets}):
            mine = {b: facts for (t, b), facts in buckets.items() if t == table}
            keys = ", ".join(sql.timestamp(b) for b in mine)
            where = f"{q('table_name')} = {sql.literal(table)} AND {q('bucket')} IN ({keys})"
            stored = {int(r[0]): dict(zip(CARRIED, r[1:], strict=True)) for r in client.execute_sql(
                f"SELECT {sql.epoch_ms(q('bucket'))}, {', '.join(q(c) for c in CARRIED)} FROM {name} WHERE {where}")}
            values = []
            for bucket, facts in sorted(mine.items()):
                row = {**stored.get(bucket, {}), **{k: v for k, v in facts.items() if k in CARRIED}}
                values.append(f"({sql.literal(table)}, {sql.timestamp(bucket)}, {sql.literal(period)}, "
                              f"{_number(row.get('rows'))}, {_text(sql, row.get('fingerprint'))}, "
                              f"{_time(sql, row.get('extracted_at'))}, {_time(sql, row.get('verified_at'))}, "
                              f"{'TRUE' if row.get('final') else 'FALSE'})")
            with client.begin_transaction():
                client.execute_sql(f"DELETE FROM {name} WHERE {where}")
                columns = ", ".join(q(c) for c in COLUMNS)
                client.execute_sql(f"INSERT INTO {name} ({columns}) VALUES {', '.join(values)}")
            written += len(values)
    return written


def _number(value: Any) -> str:
    return "NULL" if value is None else str(int(value))


def _text(sql: WarehouseFingerprints, value: Any) -> str:
    return "NULL" if value is None else sql.literal(str(value))


def _time(sql: WarehouseFingerprints, value: Any) -> str:
    if value is None:
        return "NULL"
    if not isinstance(value, pendulum.DateTime):
        value = pendulum.instance(value)
    return sql.timestamp(int(value.timestamp() * 1000))
