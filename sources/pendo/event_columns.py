"""Column types of the single-event tables (guide_events, poll_events) from Pendo's schema, not the first row.

dlt types a column by the first value it meets. ``pollResponse`` is a number, a text or a choice id depending
on the poll (tap-pendo's ``poll_events`` schema types it ``string``): typed by the first row, free-text answers
would land in an undocumented ``poll_response__v_text`` variant column and choice ids ("2") would turn into
integers. So every field whose type can vary by row gets a declared type here, and each poll row carries:

- ``poll_response``: always text (numbers as their text, ``true`` / ``false``, lists and objects as JSON);
- ``poll_response_score``: the number, when Pendo sent a number (NPSRating 0..10, NumberScale,
  PositiveNegative 1 / 0); NULL for text and choice ids, which Pendo sends as strings.

A dataset loaded before this (``poll_response`` created as bigint) cannot take text: the run stops with one line
asking for ``--full-refresh`` (its text answers are in ``poll_response__v_text``, which the models read).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import dlt
from dlt.sources import DltResource

from sources.pendo.errors import ConfigError

TEXT_FIELDS = ("visitor_id", "account_id", "guide_id", "guide_step_id", "destination_step_id", "event_id",
               "guide_seen_reason", "poll_id", "poll_type", "poll_response", "type", "url", "country", "region",
               "language", "server_name", "remote_ip", "user_agent")
POLL_FIELDS = ("poll_id", "poll_type", "poll_response")
COLUMN_TYPES: dict[str, dict[str, str]] = {
    # table -> column -> dlt data_type (tap-pendo's guide_events / poll_events schemas, plus the score)
    "guide_events": {**dict.fromkeys((f for f in TEXT_FIELDS if f not in POLL_FIELDS), "text"),
                     "app_id": "bigint", "load_time": "bigint",
                     "latitude": "double", "longitude": "double"},
    "poll_events": {**dict.fromkeys(TEXT_FIELDS, "text"), "app_id": "bigint", "load_time": "bigint",
                    "latitude": "double", "longitude": "double", "poll_response_score": "double"},
}
RESPONSE, SCORE = "poll_response", "poll_response_score"


def typed_events(table: str, resource: DltResource) -> DltResource:
    """Declare the table's column types and shape its rows (a no-op for tables without declared types)."""
    types = COLUMN_TYPES.get(table)
    if not types:
        return resource
    resource.apply_hints(columns={name: {"data_type": t, "nullable": True} for name, t in types.items()})
    return resource.add_map(_row_shaper(table, types))


def _row_shaper(table: str, types: dict[str, str]) -> Callable[[Any], Any]:
    checked = False
    text_fields = [name for name, t in types.items() if t == "text"]

    def shape(row: Any) -> Any:
        nonlocal checked
        if not checked:  # once per run, before the first row reaches dlt's schema
            refuse_conflicting_columns(table, types)
            checked = True
        if not isinstance(row, dict):  # an Arrow page, typed when it was built (single_event_table)
            return row
        if table == "poll_events" and RESPONSE in row:
            row[SCORE] = score_of(row[RESPONSE])  # from the original value, before it becomes text
        for name in text_fields:
            value = row.get(name)
            if value is not None and not isinstance(value, str):
                row[name] = as_text(value)
        return row

    return shape


def refuse_conflicting_columns(table: str, types: dict[str, str]) -> None:
    """A column the dataset already has with another type: stop with one line instead of failing the load."""
    existing = dlt.current.source_schema().tables.get(table, {}).get("columns", {})
    for name, wanted in types.items():
        have = existing.get(name, {}).get("data_type")
        if have is not None and have != wanted:
            raise ConfigError(
                f"{table}.{name} is {have} in this dataset (loaded by an older pendo-elt) but is now {wanted}; "
                f"run `pendo-elt run --full-refresh` to reload {table} with typed columns"
            )


def score_of(value: Any) -> float | None:
    """The numeric answer, when Pendo sent a number (not a string, not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def as_text(value: Any) -> str:
    """Numbers as their text (``7``, ``2.5``), booleans as ``true`` / ``false``, lists and objects as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


__all__ = ["typed_events", "COLUMN_TYPES", "score_of", "as_text"]
