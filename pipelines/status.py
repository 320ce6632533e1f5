"""``pendo-elt status`` and ``pendo-elt check``: what the destination holds, and whether a run can work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import dlt
import pendulum

from sources.pendo.errors import PendoError


class DestinationError(PendoError):
    """The destination cannot be reached or written."""


@dataclass
class TableStatus:
    table: str
    rows: int
    last_load: pendulum.DateTime | None
    cursor: str | None
    behind: str | None


def table_status(pipeline: dlt.Pipeline, now: pendulum.DateTime | None = None) -> list[TableStatus]:
    """Read rows, last load and cursors from the destination itself (works from an empty working dir)."""
    now = now or pendulum.now("UTC")
    try:
        pipeline.sync_destination()
    except Exception as exc:  # noqa: BLE001 - any driver error becomes one line
        raise DestinationError(f"cannot read the destination: {_one_line(exc)}") from None
    if not pipeline.schema_names:
        return []
    schema = pipeline.default_schema
    resources = pipeline.state.get("sources", {}).get("pendo", {}).get("resources", {})
    result = []
    with pipeline.sql_client() as client:
        loads = dict(client.execute_sql(
            f"SELECT load_id, inserted_at FROM {client.make_qualified_table_name('_dlt_loads')} WHERE status = 0"))
        for table in sorted(schema.data_table_names()):
            if table.startswith("_dlt"):
                continue
            name = client.make_qualified_table_name(table)
            try:
                rows, last_id = client.execute_sql(f"SELECT COUNT(*), MAX(_dlt_load_id) FROM {name}")[0]
            except Exception:  # noqa: BLE001 - in the schema but never created (no rows yet)
                continue
            last = loads.get(last_id)
            cursor, behind = _cursor(resources.get(table, {}), now)
            result.append(TableStatus(table, int(rows), pendulum.instance(last) if last else None, cursor, behind))
    return result


def _cursor(state: dict, now: pendulum.DateTime) -> tuple[str | None, str | None]:
    if "cursor" in state:
        at = pendulum.parse(state["cursor"])
    elif "cursor_ms" in state:
        at = pendulum.from_timestamp(state["cursor_ms"] / 1000)
    else:
        return None, None
    return at.to_iso8601_string(), _age(now - at)


def _age(delta: pendulum.Duration) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def check_destination(pipeline: dlt.Pipeline) -> str:
    """Create and drop a scratch table in the dataset: proves the destination is reachable and writable."""
    scratch = f"_pendo_elt_check_{uuid.uuid4().hex[:8]}"
    try:
        with pipeline.sql_client() as client:
            if not client.has_dataset():
                client.create_dataset()
            name = client.make_qualified_table_name(scratch)
            client.execute_sql(f"CREATE TABLE {name} (ok INTEGER)")
            client.execute_sql(f"INSERT INTO {name} VALUES (1)")
            client.execute_sql(f"DROP TABLE {name}")
    except Exception as exc:  # noqa: BLE001 - any driver error becomes one line
        raise DestinationError(
            f"destination {pipeline.destination.destination_name} is not reachable or not writable: "
            f"{_one_line(exc)}"
        ) from None
    from pipelines.identity import where

    return f"{where(pipeline)} is writable"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] + ("..." if len(text) > 300 else "")
