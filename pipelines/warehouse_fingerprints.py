"""Bucket fingerprints, warehouse side: the grouping of ``sources/pendo/fingerprints.py`` in SQL.

One ``GROUP BY bucket, entity`` per table over the range asked for, through ``pipeline.sql_client()``: the same
keys (bucket as epoch ms, entity id as text) and the same measures in the same order, so the two sides compare
directly. It also lists the (bucket, entity) pairs a replaced bucket must delete, and their row counts.

DuckDB and Postgres are tested; the Snowflake SQL (``DATE_PART(EPOCH_MILLISECOND, ...)``, backslashes doubled in
literals) is written from its documentation and not verified here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dlt
import pendulum
from dlt.destinations.exceptions import DatabaseTerminalException, DatabaseUndefinedRelation

from sources.pendo.fingerprints import Fingerprint, Key, normalize
from sources.pendo.settings import ENTITY_FIELDS, RAW_EVENT_SOURCES, SINGLE_EVENT_SOURCES

EVENTS_ENTITY_COLUMN = "app_id"  # `events` has no entity: its fingerprint groups by app, its repairs are buckets


def entity_column(table: str) -> str:
    return ENTITY_FIELDS[table][1] if table in ENTITY_FIELDS else EVENTS_ENTITY_COLUMN


class WarehouseFingerprints:
    """Fingerprints of what a pipeline's destination holds. Opens a connection per call (none is kept open)."""

    def __init__(self, pipeline: dlt.Pipeline) -> None:
        self.pipeline = pipeline
        self.destination = pipeline.destination.destination_name if pipeline.destination else "duckdb"

    # --- SQL dialect ------------------------------------------------------------------------------
    def epoch_ms(self, column: str) -> str:
        if self.destination == "postgres":
            return f"CAST(EXTRACT(EPOCH FROM {column}) * 1000 AS BIGINT)"
        if self.destination == "snowflake":
            return f"DATE_PART(EPOCH_MILLISECOND, {column})"
        return f"epoch_ms({column})"

    def literal(self, value: str) -> str:
        text = str(value).replace("'", "''")
        if self.destination == "snowflake":  # Snowflake reads backslash escapes inside '...'
            text = text.replace("\\", "\\\\")
        return f"'{text}'"

    def timestamp(self, ms: int) -> str:
        iso = pendulum.from_timestamp(ms / 1000, tz="UTC").format("YYYY-MM-DDTHH:mm:ss.SSSSSSZ")
        return f"CAST('{iso}' AS TIMESTAMP WITH TIME ZONE)"

    # --- queries --------------------------------------------------------------------------------
    def has_table(self, table: str, *columns: str) -> bool:
        """The table exists in the destination with these columns (a table loaded with the other period has not
        its bucket column: it is about to be dropped by a full refresh and holds nothing this run can use).

        Only the destination's own "no such table / column" answer means no: a run appends to buckets this reader
        says are empty (``sources/pendo/fresh_buckets.py``), so any other failure (a lock held by a reader, too
        many connections, a timeout) is raised, never taken for an empty table. No local schema is needed (dlt's
        sql client builds its own): a first run killed during its load leaves none, yet its rows are there.
        """
        client = self.pipeline.sql_client()  # connects only inside ``with``: one connection per query below
        selected = ", ".join(client.escape_column_name(c) for c in columns) or "1"
        try:
            return self._selects(client, table, selected)
        except DatabaseTerminalException:  # an unknown column is a terminal error on every destination we load
            if not columns:
                raise
            self._selects(client, table, "1")  # raises again unless the table is there or not: the column is not
            return False

    @staticmethod
    def _selects(client: Any, table: str, selected: str) -> bool:
        try:
            with client:
                client.execute_sql(f"SELECT {selected} FROM {client.make_qualified_table_name(table)} WHERE 1 = 0")
        except DatabaseUndefinedRelation:
            return False
        return True

    def bucket_range(self, table: str, period: str) -> tuple[int, int] | None:
        """First and last bucket the table holds (epoch ms), or None when it holds none."""
        if not self.has_table(table, period):
            return None
        with self.pipeline.sql_client() as client:
            name = client.make_qualified_table_name(table)
            column = client.escape_column_name(period)
            low, high = client.execute_sql(
                f"SELECT MIN({self.epoch_ms(column)}), MAX({self.epoch_ms(column)}) FROM {name}")[0]
        return None if low is None else (int(low), int(high))

    def entity_versions(self, table: str) -> dict[str, int | None] | None:
        """``{id: lastUpdatedAt ms}`` of an entity list as the warehouse holds it (before this run); None without it."""
        if not self.has_table(table, "id"):
            return None
        versioned = self.has_table(table, "last_updated_at")
        with self.pipeline.sql_client() as client:
            name = client.make_qualified_table_name(table)
            updated = self.epoch_ms(client.escape_column_name("last_updated_at")) if versioned else "NULL"
            rows = client.execute_sql(f"SELECT {client.escape_column_name('id')}, {updated} FROM {name}")
        return {str(r[0]): None if r[1] is None else int(r[1]) for r in rows}

    def fingerprints(
        self,
        table: str,
        period: str,
        start_ms: int,
        end_ms: int,
        entities: Sequence[str] | None = None,
    ) -> dict[Key, Fingerprint]:
        """``{(bucket ms, entity id): measures}`` of the rows in ``[start_ms, end_ms)``; {} without the table."""
        if end_ms <= start_ms or not self.has_table(table, period):
            return {}
        with self.pipeline.sql_client() as client:
            name = client.make_qualified_table_name(table)
            q = client.escape_column_name
            bucket, entity = q(period), q(entity_column(table))
            if table in SINGLE_EVENT_SOURCES or table in RAW_EVENT_SOURCES:
                browser = q("browser_time")
                measures = [f"COUNT(DISTINCT {q('visitor_id')})", f"MIN({self.epoch_ms(browser)})",
                            f"MAX({self.epoch_ms(browser)})"]
            else:
                measures = [f"COALESCE(SUM({q('num_events')}), 0)", f"COALESCE(SUM({q('num_minutes')}), 0)",
                            f"COUNT(DISTINCT {q('visitor_id')})"]
            where = [f"{bucket} >= {self.timestamp(start_ms)}", f"{bucket} < {self.timestamp(end_ms)}"]
            if entities is not None:
                if not entities:
                    return {}
                where.append(f"CAST({entity} AS VARCHAR(1024)) IN ({', '.join(self.literal(e) for e in entities)})")
            sql = (f"SELECT {self.epoch_ms(bucket)}, CAST({entity} AS VARCHAR(1024)), COUNT(*), {', '.join(measures)} "
                   f"FROM {name} WHERE {' AND '.join(where)} GROUP BY 1, 2")
            rows: list[Any] = client.execute_sql(sql)
        return {(int(r[0]), "" if r[1] is None else str(r[1])): _reorder(table, r[2:]) for r in rows}


def _reorder(table: str, values: Sequence[Any]) -> Fingerprint:
    """SQL returns count first; both sides list measures as in ``fingerprints.measures``."""
    if table in SINGLE_EVENT_SOURCES or table in RAW_EVENT_SOURCES:
        rows, visitors, first, last = values
        return (normalize(rows), normalize(visitors), normalize(first), normalize(last))
    rows, events, minutes, visitors = values
    return (normalize(rows), normalize(events), normalize(minutes), normalize(visitors))
