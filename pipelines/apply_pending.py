"""Diff-applied re-extraction, warehouse side: make each set-aside scope of a table equal to its new rows.

``sources.pendo.pending`` loads the rows of every re-extracted scope ((bucket, entity) pair, or bucket whole) into
``_pendo_pending_<table>`` with scope markers. Here, for each completed load found there, one transaction:

1. counts, per distinct row (every data column; NULLs equal), how often the table's scopes hold it and how often
   the new answer has it, keeping the rows whose counts differ (a multiset difference: two identical rows are two);
2. deletes the table's copies of those rows, inserts the new answer's copies of them (a row whose measures changed
   is one delete and one insert; a duplicate whose count changed is rewritten with its twin: there is no row id to
   delete one copy of two);
3. inserts as they are the rows of scopes that switched to whole replacement (``classic`` markers);
4. empties the side table.

Rows the table holds identically are not touched. A run killed after its load but before this leaves the side table
full and the cursors moved: the next run applies it first (``pipelines.run``), before it reads any fingerprint.
Rows of a load that never completed (no ``_dlt_loads`` row: its package was abandoned and is extracted again) are
discarded. DuckDB and Postgres are tested; the SQL keeps to what Snowflake also has, unverified there.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import dlt

from pipelines.duckdb_memory import memory_limit
from sources.pendo.errors import PendoError
from sources.pendo.pending import CLASSIC_COLUMN, MARKER_COLUMN, PENDING_PREFIX
from sources.pendo.settings import ENTITY_FIELDS, TOMBSTONE_COLUMN
from sources.pendo.settle import SyncStats

logger = logging.getLogger("pendo_elt")
DIFF_TABLE = "pendo_pending_diff"  # temporary, inside the apply transaction
LOAD_COLUMNS = ("_dlt_load_id", "_dlt_id")
PERIODS = ("day", "hour")


@dataclass
class Applied:
    deleted: int = 0
    inserted: int = 0


def apply_pending(pipeline: dlt.Pipeline, stats: SyncStats | None = None) -> dict[str, Applied]:
    """Apply every completed set-aside load of every event table; count its deletes and inserts in ``stats``."""
    if not pipeline.default_schema_name:
        return {}
    schema = pipeline.default_schema
    applied: dict[str, Applied] = {}
    for name in sorted(schema.tables):
        if not name.startswith(PENDING_PREFIX):
            continue
        table = name[len(PENDING_PREFIX):]
        if table not in schema.tables:
            continue
        result = _apply_table(pipeline, table, name)
        if result is None:
            continue
        applied[table] = result
        if stats is not None:
            sync = stats.table(table)
            sync.rows_applied_deleted += result.deleted
            sync.rows_applied_inserted += result.inserted
    return applied


def _data_columns(pipeline: dlt.Pipeline, table: str) -> dict[str, dict]:
    columns = pipeline.default_schema.tables[table].get("columns", {})
    return {n: c for n, c in columns.items() if c.get("data_type") and not n.startswith("_dlt_")
            and n not in (TOMBSTONE_COLUMN, CLASSIC_COLUMN)}


def _json_columns(pipeline: dlt.Pipeline, columns: dict[str, dict]) -> set[str]:
    """JSON columns to compare as jsonb (Postgres stores dlt's json as ``json``, which cannot be grouped)."""
    if pipeline.destination is None or pipeline.destination.destination_name != "postgres":
        return set()
    return {name for name, column in columns.items() if column.get("data_type") == "json"}


@contextlib.contextmanager
def _room_to_compare(client: Any, destination: str) -> Iterator[None]:
    """DuckDB's full memory for the row comparison, then the loads' limit again (pipelines/duckdb_memory.py).

    The loads' small ``memory_limit`` keeps DuckDB from caching what it writes; the comparison's grouping of every
    column cannot always spill, and at the large scale a 3-day scope ran out of memory under 64 MB. Elsewhere a
    no-op."""
    limit = memory_limit()
    if limit is None or destination != "duckdb":
        yield
        return
    # DuckDB's own default (80% of the machine's memory); RESET would go back to the limit the database opened with
    machine_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") >> 20
    client.execute_sql(f"SET memory_limit = '{int(machine_mb * 0.8)}MB'")
    try:
        yield
    finally:
        client.execute_sql(f"SET memory_limit = '{limit}'")


def _apply_table(pipeline: dlt.Pipeline, table: str, pending: str) -> Applied | None:
    main_columns = _data_columns(pipeline, table)
    pending_columns = _data_columns(pipeline, pending)
    unknown = sorted(set(pending_columns) - set(main_columns))
    schema = pipeline.default_schema.tables
    # dlt's load columns both tables have (Arrow rows carry no _dlt_id)
    both = [c for c in LOAD_COLUMNS if all(c in schema[t].get("columns", {}) for t in (table, pending))]
    with pipeline.sql_client() as client:
        side = client.make_qualified_table_name(pending)
        try:
            loads = [r[0] for r in client.execute_sql(f"SELECT DISTINCT {client.escape_column_name('_dlt_load_id')} "
                                                      f"FROM {side}")]
        except Exception:  # noqa: BLE001 - the side table is in the schema but was never created
            return None
        if not loads:
            return None
        completed = {r[0] for r in client.execute_sql(
            f"SELECT load_id FROM {client.make_qualified_table_name('_dlt_loads')} WHERE status = 0")}
        todo = sorted(set(loads) & completed)
        if todo and unknown:
            raise PendoError(f"{pending} holds columns {', '.join(unknown)} that {table} does not have; the rows set "
                             f"aside cannot be applied (report this: it is a pendo-elt bug)")
        total = Applied()
        with _room_to_compare(client, pipeline.destination.destination_name), client.begin_transaction():
            for load_id in todo:
                one = _apply_load(client, table, side, load_id, list(main_columns), set(pending_columns), both,
                                  json=_json_columns(pipeline, main_columns))
                total.deleted += one.deleted
                total.inserted += one.inserted
            client.execute_sql(f"DELETE FROM {side}")
        if set(loads) - completed:
            logger.info("%s: discarded rows set aside by a load that never completed", table)
    return total


def _apply_load(client, table: str, side: str, load_id: str, columns: Sequence[str], present: set[str],  # noqa: ANN001
                load_columns: Sequence[str], json: set[str] = frozenset()) -> Applied:
    q = client.escape_column_name
    main = client.make_qualified_table_name(table)
    period = next(p for p in PERIODS if p in columns)
    entity = ENTITY_FIELDS[table][1] if table in ENTITY_FIELDS else None
    load = f"'{load_id}'"
    load_id_column, marker, classic = q("_dlt_load_id"), q(MARKER_COLUMN), q(CLASSIC_COLUMN)

    def in_scope(row: str, replaced: bool) -> str:
        match = f"m.{q(period)} = {row}.{q(period)}"
        if entity:
            match += f" AND (m.{q(entity)} IS NULL OR m.{q(entity)} = {row}.{q(entity)})"
        return (f"EXISTS (SELECT 1 FROM {side} m WHERE m.{load_id_column} = {load} AND m.{marker} = TRUE "
                f"AND COALESCE(m.{classic}, FALSE) = {'TRUE' if replaced else 'FALSE'} AND {match})")

    def compared(row: str) -> str:
        return f"{in_scope(row, False)} AND NOT {in_scope(row, True)}"

    def new_rows(row: str) -> str:
        return f"{row}.{load_id_column} = {load} AND ({row}.{marker} IS NULL OR {row}.{marker} = FALSE)"

    keys = [period] + ([entity] if entity else [])  # never NULL in a data row: plain equality, which Postgres
    # can hash-join on, ahead of the NULL-safe comparison of every column

    def value(row: str, c: str) -> str:  # Postgres' json has no equality: compared as jsonb
        return f"CAST({row}.{q(c)} AS JSONB)" if c in json else f"{row}.{q(c)}"

    def same(row: str, has: Sequence[str]) -> str:  # a diff row is this row (a column it lacks is NULL)
        return " AND ".join([f"d.{q(c)} = {row}.{q(c)}" for c in keys] + [
            f"d.{q(c)} IS NOT DISTINCT FROM {value(row, c)}" if c in has else f"d.{q(c)} IS NULL" for c in columns])

    listed = ", ".join(q(c) for c in columns)
    from_main = ", ".join(f"{value('r', c)} AS {q(c)}" for c in columns)
    from_side = ", ".join(f"{value('r', c)} AS {q(c)}" if c in present else f"NULL AS {q(c)}" for c in columns)
    client.execute_sql(
        f"CREATE TEMPORARY TABLE {DIFF_TABLE} AS SELECT {listed}, SUM(o) AS pendo_old, SUM(n) AS pendo_new FROM ("
        f"SELECT {from_main}, 1 AS o, 0 AS n FROM {main} r WHERE {compared('r')} "
        f"UNION ALL SELECT {from_side}, 0 AS o, 1 AS n FROM {side} r WHERE {new_rows('r')} AND {compared('r')}"
        f") u GROUP BY {listed} HAVING SUM(o) <> SUM(n)")
    deleted, inserted = client.execute_sql(
        f"SELECT COALESCE(SUM(pendo_old), 0), COALESCE(SUM(pendo_new), 0) FROM {DIFF_TABLE}")[0]
    replaced = client.execute_sql(f"SELECT COUNT(*) FROM {side} r WHERE {new_rows('r')} AND {in_scope('r', True)}")
    client.execute_sql(
        f"DELETE FROM {main} AS r WHERE {compared('r')} AND EXISTS (SELECT 1 FROM {DIFF_TABLE} d WHERE "
        f"d.pendo_old > 0 AND {same('r', columns)})")
    copied = [c for c in columns if c in present] + list(load_columns)
    targets = ", ".join(q(c) for c in copied)
    client.execute_sql(
        f"INSERT INTO {main} ({targets}) SELECT {', '.join('r.' + q(c) for c in copied)} FROM {side} r "
        f"WHERE {new_rows('r')} AND (({compared('r')} AND EXISTS (SELECT 1 FROM {DIFF_TABLE} d WHERE "
        f"d.pendo_new > 0 AND {same('r', present)})) OR {in_scope('r', True)})")
    client.execute_sql(f"DROP TABLE {DIFF_TABLE}")
    return Applied(int(deleted), int(inserted) + int(replaced[0][0]))
