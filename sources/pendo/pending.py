"""Diff-applied re-extraction, source side: a re-extracted scope's rows go to a side table, not to their table.

An incremental run re-extracts today's bucket and the (bucket, entity) pairs verification found differing. Most rows
of such a scope are the same as the warehouse's (a day rollup row only changes for the visitors active in the
hour; a late event leaves the other events of its pair alone), so replacing the scope whole would delete and insert
every row of it. Instead the rows go to ``_pendo_pending_<table>`` (appended, with their load id), preceded by scope
markers: one row per (bucket, entity) pair re-extracted, or per bucket re-extracted whole (entity NULL).
``pipelines.apply_pending`` then makes the table's scope equal to the side table's rows in one transaction,
touching only the rows that differ, and empties the side table.

A page whose rows the table cannot take as they are (a column it does not have yet, a nested list that would make
a child table, a value of another type) switches the rest of its job to whole replacement through dlt, which
evolves the table's schema: the job's delete markers and its remaining pages go to the table itself, and a
``classic`` scope marker tells the apply step to insert the rows already set aside without comparing them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import dlt
import pendulum
import pyarrow as pa

from sources.pendo.arrow import TIMESTAMP
from sources.pendo.fingerprints import Key
from sources.pendo.quarantine import is_rejected
from sources.pendo.settings import ENTITY_FIELDS, TOMBSTONE_COLUMN

PENDING_PREFIX = "_pendo_pending_"
CLASSIC_COLUMN = "_pendo_classic"  # on scope markers: the scope was replaced whole, insert its pending rows as they are
MARKER_COLUMN = TOMBSTONE_COLUMN  # scope markers carry it, so the run's row meter does not count them as rows
Scope = tuple[int, str | None]  # (bucket ms, entity id or None for the whole bucket)

# Python values a column of each dlt type takes without dlt making a variant column.
_ACCEPTS: dict[str, tuple[type, ...]] = {
    "text": (str, int, float, bool, Decimal),
    "bigint": (int,),
    "double": (int, float, Decimal),
    "decimal": (int, float, Decimal),
    "bool": (bool,),
    "timestamp": (dt.datetime,),
    "date": (dt.date,),
    "json": (object,),
}


def pending_table(table: str) -> str:
    return PENDING_PREFIX + table


def scopes_of(pairs: Sequence[Key] | None, bucket_ms: Sequence[int]) -> list[Scope]:
    """The scopes of a job: its (bucket, entity) pairs, or every bucket whole when ``pairs`` is None."""
    if pairs is None:
        return [(b, None) for b in bucket_ms]
    return [(b, e) for b, e in pairs]


class PendingRoute:
    """Routes one event table's diff-applied jobs to its side table (one instance per run of the resource)."""

    def __init__(self, table: str, period: str, arrow: bool) -> None:
        self.table, self.period, self.arrow = table, period, arrow
        self.entity_column = ENTITY_FIELDS[table][1] if table in ENTITY_FIELDS else None
        self.columns = _table_columns(table)
        self.rows = 0  # data rows set aside this run
        self.rows_replaced = 0  # warehouse rows deleted by jobs that switched to whole replacement
        self._hints = dlt.mark.make_hints(
            table_name=pending_table(table), write_disposition="append", merge_key="",
            columns={
                **{name: {"data_type": c["data_type"], "nullable": True} for name, c in self.columns.items()},
                period: {"data_type": "timestamp", "nullable": False},
                MARKER_COLUMN: {"data_type": "bool", "nullable": True, "hard_delete": False},
                CLASSIC_COLUMN: {"data_type": "bool", "nullable": True},
            })

    @property
    def usable(self) -> bool:
        """The table exists with columns and has no child tables (the apply compares root rows only)."""
        if not self.columns:
            return False
        tables = dlt.current.source_schema().tables.values()
        return not any(t.get("parent") == self.table for t in tables)

    def wrap(self, item: Any) -> Any:
        return dlt.mark.with_hints(item, self._hints, create_table_variant=True)

    def markers(self, scopes: Sequence[Scope], classic: bool = False) -> Any:
        buckets = [b for b, _ in scopes]
        entities = [e for _, e in scopes]
        if self.arrow:
            fields = [pa.field(self.period, TIMESTAMP, nullable=False)]
            arrays = [pa.array([b * 1000 for b in buckets], type=pa.int64()).cast(TIMESTAMP)]
            if self.entity_column:
                fields.append(pa.field(self.entity_column, pa.string()))
                arrays.append(pa.array(entities, type=pa.string()))
            fields += [pa.field(MARKER_COLUMN, pa.bool_()), pa.field(CLASSIC_COLUMN, pa.bool_())]
            arrays += [pa.array([True] * len(scopes)), pa.array([classic] * len(scopes))]
            return self.wrap(pa.table(arrays, schema=pa.schema(fields)))
        rows = []
        for bucket, entity in scopes:
            row: dict[str, Any] = {self.period: pendulum.from_timestamp(bucket / 1000), MARKER_COLUMN: True,
                                   CLASSIC_COLUMN: classic}
            if self.entity_column:
                row[self.entity_column] = entity
            rows.append(row)
        return self.wrap(rows)

    def fits(self, page: Any) -> bool:
        """The table takes this page's rows as they are: same columns, no nested lists, values of the same type."""
        if isinstance(page, pa.Table):
            # dlt's own columns (single-event pages bring their _dlt_id and _dlt_load_id) are not data columns
            data = {name for name in page.column_names if name != TOMBSTONE_COLUMN and not name.startswith("_dlt_")}
            return data <= self.columns.keys()
        for row in page:
            for name, value in row.items():
                if value is None:
                    continue
                column = self.columns.get(name)
                if column is None:
                    return False
                wanted = column.get("data_type")
                if isinstance(value, list | dict) and wanted != "json":
                    return False
                if wanted == "bigint" and isinstance(value, bool):
                    return False
                if not isinstance(value, _ACCEPTS.get(wanted, (object,))):
                    return False
        return True

    def job_items(self, scopes: Sequence[Scope], tombstones: Any, rows_replaced: int,
                  pages: Iterator[Any]) -> Iterator[Any]:
        """Markers, then each page set aside; from the first page that does not fit, whole replacement."""
        yield self.markers(scopes)
        classic = False
        for page in pages:
            if is_rejected(page):  # bound for _pendo_rejected already
                yield page
                continue
            page = self._without_empty_new_columns(page)
            if not classic and self.fits(page):
                self.rows += page.num_rows if isinstance(page, pa.Table) else len(page)
                yield self.wrap(page)
                continue
            if not classic:
                classic = True
                self.rows_replaced += rows_replaced
                yield self.markers(scopes, classic=True)
                if len(tombstones):
                    yield tombstones
            yield page


    def _without_empty_new_columns(self, page: Any) -> Any:
        """An Arrow page without the all-null columns the table does not have (the declared columns every rollup
        page carries, sources.pendo.arrow.DECLARED_COLUMNS): they hold no value, and the side table must not grow
        a column its table lacks."""
        if not isinstance(page, pa.Table) or not self.columns:
            return page
        empty = [name for name in page.column_names
                 if name not in self.columns and name != TOMBSTONE_COLUMN and not name.startswith("_dlt_")
                 and page.column(name).null_count == page.num_rows]
        return page.drop_columns(empty) if empty else page


def _table_columns(table: str) -> Mapping[str, dict]:
    """The table's data columns as the dataset's schema has them ({} before its first load)."""
    columns = dlt.current.source_schema().tables.get(table, {}).get("columns", {})
    return {name: c for name, c in columns.items()
            if c.get("data_type") and not name.startswith("_dlt_") and name not in (TOMBSTONE_COLUMN,)}
