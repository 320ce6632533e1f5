"""Rollup rows as Arrow tables: the fast path for the millions of flat rows of event rollups.

dlt loads Arrow tables without its row-by-row normalizer, which is most of the cost of a dict row. Rollup rows
are flat apart from ``parameters`` / ``properties`` (customer-defined objects); those become JSON text columns so
an analyst gets one stable column instead of a column per customer key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from sources.pendo.settings import TOMBSTONE_COLUMN
from sources.pendo.shaping import EPOCH_MS_FIELDS, snake_case

TIMESTAMP = pa.timestamp("us", tz="UTC")  # dlt's own timestamp precision: tables from any path concatenate
JSON_FIELDS = ("parameters", "properties")
BUCKET_COLUMNS = ("day", "hour")  # the merge key: never null


def rollup_table(rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Rows of one answer to a table with snake_case columns and epoch-ms fields as UTC timestamps."""
    if not rows:
        return pa.table({})
    nested = [f for f in JSON_FIELDS if any(f in r for r in rows)]
    if nested:
        rows = [_json_fields(r, nested) for r in rows]
    table = pa.Table.from_pylist(list(rows))
    columns, names = [], []
    for name, column in zip(table.column_names, table.columns, strict=True):
        if name in EPOCH_MS_FIELDS and (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
            column = _ms_to_timestamp(column)
        elif pa.types.is_null(column.type):
            continue  # a field that is null on every row: nothing to type it by, dlt would drop it anyway
        columns.append(column)
        names.append(snake_case(name))
    schema = pa.schema([pa.field(n, c.type, nullable=n not in BUCKET_COLUMNS) for n, c in zip(names, columns,
                                                                                           strict=True)])
    return pa.Table.from_arrays(columns, schema=schema)


def _ms_to_timestamp(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    return pc.cast(pc.multiply(pc.cast(values, pa.int64()), 1000), TIMESTAMP)


def _json_fields(row: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    out = dict(row)
    for f in fields:
        value = out.get(f)
        out[f] = None if value is None else orjson.dumps(value).decode()
    return out


def tombstone_table(period: str, bucket_ms: Sequence[int]) -> pa.Table:
    """Delete markers, one per bucket: the merge deletes the bucket's rows and inserts none of these."""
    schema = pa.schema([pa.field(period, TIMESTAMP, nullable=False), pa.field(TOMBSTONE_COLUMN, pa.bool_())])
    return pa.table([_ms_to_timestamp(pa.array(bucket_ms, type=pa.int64())), pa.array([True] * len(bucket_ms))],
                    schema=schema)
