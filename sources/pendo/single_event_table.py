"""Single events (guide_events, poll_events, the raw event tables) as Arrow tables with the dict path's schema.

dlt loads an Arrow table without its row-by-row normalizer, most of the cost of a dict row. The table built here
has exactly the columns and types dlt gives the same rows shaped as dicts (``bucket_rows.shape_single_events``
plus ``event_columns.typed_events``), so a dataset loaded before keeps loading with no schema change:

- the declared columns of ``event_columns.COLUMN_TYPES`` in their declared type (text answers as text, the
  poll score as a double), epoch-ms fields as UTC timestamps, the bucket column derived from ``browserTime``;
- ``_dlt_id``, which dlt adds to dict rows only: a unique id per row, generated as dlt generates it
  (``_dlt_load_id`` is added by dlt to every Arrow table, ``pipelines.run`` switches that on);
- every other field typed as dlt would type it from the values.

A page whose values the dict path would treat differently keeps the dict path (:class:`KeepDicts`): nested
objects (dlt flattens them into ``a__b`` columns) and lists (child tables), a field of mixed types (dlt makes a
variant column), text that dlt would detect as a timestamp, a non-integer epoch-ms value, two keys with one
column name. Such pages are rare and load exactly as before; every other page takes the fast path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
from dlt.common.normalizers.utils import generate_dlt_ids
from dlt.common.schema.detections import is_iso_timestamp

from sources.pendo.arrow import TIMESTAMP, column_values, ms_to_timestamp, row_keys
from sources.pendo.bucket_rows import SlotBuckets, shape_single_events
from sources.pendo.event_columns import RESPONSE, SCORE, as_text, score_of
from sources.pendo.settings import TOMBSTONE_COLUMN
from sources.pendo.shaping import EPOCH_MS_FIELDS, shape, snake_case

DLT_ID, DLT_LOAD_ID = "_dlt_id", "_dlt_load_id"
# The hints dlt's default schema gives _dlt_id of dict rows (its Arrow columns get only type and nullability):
# declared on the resource, they are kept when an Arrow page creates the column.
DLT_ID_HINTS = {"unique": True, "row_key": True}
RESERVED = frozenset({DLT_ID, DLT_LOAD_ID, "_dlt_parent_id", "_dlt_root_id", "_dlt_list_idx", TOMBSTONE_COLUMN})
ARROW_TYPES = {"text": pa.string(), "bigint": pa.int64(), "double": pa.float64()}
_INFERRED_OK = {"bigint": (pa.types.is_integer,), "double": (pa.types.is_integer, pa.types.is_floating)}


class KeepDicts(Exception):  # noqa: N818 - a signal, not an error: the page keeps the dict path
    """The page holds a value the Arrow path would store differently from dlt's dict normalizer."""


def single_event_page(rows: Sequence[dict], period: str, tz: str, types: dict[str, str]) -> pa.Table | list[dict]:
    """Rows of one answer page (each with an integer-like ``browserTime``, see ``quarantine``) as one Arrow table,
    or as the dict path's shaped rows when a value needs dlt's normalizer."""
    try:
        return single_event_table(rows, period, tz, types)
    except (KeepDicts, pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        return shape_single_events(list(rows), period, tz)


def single_event_table(rows: Sequence[dict], period: str, tz: str, types: dict[str, str]) -> pa.Table:
    """Raises :class:`KeepDicts` (or an Arrow error) for a page the dict path must take.

    Columns come in the order dlt gives the dict path's table (bucket, tombstone flag, declared columns, the
    others as they appear, ``_dlt_id``), so a table created from Arrow pages looks the same; the tombstone flag
    and declared columns the page lacks are null columns, as they are in the dict path's rows.
    """
    if not rows:
        return pa.table({})
    n = len(rows)
    columns: dict[str, pa.Array] = {}
    browser = None
    for key in row_keys(rows):
        name = snake_case(key)
        if name in RESERVED or name == period or name in columns:
            raise KeepDicts(f"{key} names a column another field or dlt gives")
        values = column_values(rows, key)
        if key == "browserTime":
            browser = values
        column = _column(key, name, values, types.get(name))
        if column is not None:  # else null on every row and not declared: dlt creates no column for it either
            columns[name] = column
        if name == RESPONSE and SCORE in types:
            columns[SCORE] = pa.array([score_of(v) for v in values], type=pa.float64())
    if browser is None:
        raise KeepDicts("no browserTime: the rows have no bucket")
    ordered = {period: ms_to_timestamp(pa.array(_buckets(browser, period, tz), type=pa.int64())),
               TOMBSTONE_COLUMN: pa.nulls(n, pa.bool_())}
    for name, declared in types.items():
        found = columns.pop(name, None)
        ordered[name] = pa.nulls(n, ARROW_TYPES[declared]) if found is None else found
    ordered.update(columns)
    ordered[DLT_ID] = pa.array(generate_dlt_ids(n), type=pa.string())
    fields = [pa.field(name, c.type, nullable=name not in (period, DLT_ID)) for name, c in ordered.items()]
    return pa.Table.from_arrays(list(ordered.values()), schema=pa.schema(fields))


def with_load_id(page: Any, load_id: str) -> Any:
    """An Arrow page with ``_dlt_load_id`` before ``_dlt_id``, where dlt puts it in a table of dict rows, and typed
    as there (text, no precision); dlt's own Arrow load id (``pipelines.run`` turns it on) rewrites the values."""
    if not isinstance(page, pa.Table) or DLT_ID not in page.column_names:
        return page
    return page.add_column(page.schema.get_field_index(DLT_ID), pa.field(DLT_LOAD_ID, pa.string(), nullable=False),
                           pa.repeat(load_id, page.num_rows).cast(pa.string()))


def _column(key: str, name: str, values: list[Any], declared: str | None) -> pa.Array | None:
    if declared == "text":
        return _text_column(key, name, values)
    column = pa.array(values)
    kind = column.type
    if declared is not None:
        if not (pa.types.is_null(kind) or any(ok(kind) for ok in _INFERRED_OK[declared])):
            raise KeepDicts(f"{key} is {kind}, declared {declared}")
        return column.cast(ARROW_TYPES[declared])
    if pa.types.is_null(kind):
        return None
    if key in EPOCH_MS_FIELDS:
        if not pa.types.is_integer(kind):
            raise KeepDicts(f"{key} is {kind}, not epoch milliseconds")
        return ms_to_timestamp(column)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        if is_iso_timestamp(str, _first(values)):
            raise KeepDicts(f"{key} looks like a timestamp: dlt would type it by detection")
        return column
    if pa.types.is_floating(kind) and isinstance(_first(values), int):
        raise KeepDicts(f"{key} starts with an integer: dlt would type it bigint")
    if pa.types.is_boolean(kind) or pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return column
    raise KeepDicts(f"{key} is {kind}: nested values are dlt's to flatten")


def _text_column(key: str, name: str, values: list[Any]) -> pa.Array:
    """A declared text column: numbers, booleans and objects as ``event_columns.as_text`` writes them."""
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    return pa.array([v if v is None or isinstance(v, str) else as_text(shape({key: v})[name]) for v in values],
                    type=pa.string())


def _first(values: list[Any]) -> Any:
    return next((v for v in values if v is not None), None)


def _buckets(browser: list[Any], period: str, tz: str) -> list[int]:
    bucket_ms: Callable[[int], int] = SlotBuckets(period, tz).bucket_ms
    return [bucket_ms(int(ms)) for ms in browser]


__all__ = ["single_event_page", "single_event_table", "with_load_id", "DLT_ID", "DLT_ID_HINTS", "TIMESTAMP"]
