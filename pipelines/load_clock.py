"""Pendo's clock at the last load, read back from the destination, so the models know which day was still open.

The loader keeps its cursors as dlt state in the destination (``_dlt_pipeline_state``). An event table's cursor
is the bucket that held Pendo's own clock (``now()``) when the run ended its windows: that bucket, and any after,
were not over when loaded. It is passed to dbt as var ``pendo_open_bucket`` (models/macros/pendo_as_of.sql).
A machine clock would not do: `_dlt_loads` holds this machine's time, which need not be Pendo's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dlt.pipeline.state_sync import decompress_state

logger = logging.getLogger("pendo_elt")

STATE_SQL = "select state from {schema}._dlt_pipeline_state where pipeline_name = 'pendo' order by version desc limit 1"
CURSOR_TABLE = "events"  # the all-events rollup decides which days have data at all


def open_bucket_from_state(state: dict[str, Any]) -> str | None:
    """The ISO start of the open bucket in a decoded pipeline state, or None (no incremental load yet)."""
    resources = (state.get("sources", {}).get("pendo", {}) or {}).get("resources", {}) or {}
    cursor = (resources.get(CURSOR_TABLE) or {}).get("cursor")
    return str(cursor) if cursor else None


def read_open_bucket(query: Callable[[str], list[tuple]], schema: str) -> str | None:
    """Run the state query with ``query`` (one destination connection); None when there is nothing to read."""
    try:
        rows = query(STATE_SQL.format(schema=schema))
    except Exception as exc:  # noqa: BLE001 - no state table (a dataset not loaded by dlt): fall back to _dlt_loads
        logger.info("no loader state in %s (%s); days are judged by the last load time", schema,
                    " ".join(str(exc).split())[:200])
        return None
    if not rows or rows[0][0] is None:
        return None
    try:
        return open_bucket_from_state(decompress_state(rows[0][0]))
    except Exception:  # noqa: BLE001 - an unreadable state must not stop the models; the fallback still holds
        logger.warning("the loader state in %s could not be decoded; days are judged by the last load time", schema)
        return None


def duckdb_open_bucket(path: str, schema: str) -> str | None:
    import duckdb

    with duckdb.connect(path, read_only=True) as conn:
        return read_open_bucket(lambda sql: conn.execute(sql).fetchall(), schema)


def postgres_open_bucket(env: dict[str, str], schema: str) -> str | None:
    import psycopg2

    params = {"host": env["PENDO_PG_HOST"], "port": int(env["PENDO_PG_PORT"]), "user": env["PENDO_PG_USER"],
              "password": env["PENDO_PG_PASSWORD"], "dbname": env["PENDO_PG_DATABASE"],
              "sslmode": env.get("PENDO_PG_SSLMODE", "prefer")}
    try:
        conn = psycopg2.connect(connect_timeout=10, **params)
    except psycopg2.Error:
        return None  # dbt reports the connection problem in its own words
    try:
        with conn.cursor() as cursor:
            def query(sql: str) -> list[tuple]:
                cursor.execute(sql)
                return cursor.fetchall()

            return read_open_bucket(query, schema)
    finally:
        conn.close()


__all__ = ["open_bucket_from_state", "read_open_bucket", "duckdb_open_bucket", "postgres_open_bucket"]
