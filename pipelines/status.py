"""``pendo-elt status`` and ``pendo-elt check``: what the destination holds, and whether a run can work."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dlt
import pendulum

from pipelines.identity import identity_of
from sources.pendo.errors import ConfigError, PendoError
from sources.pendo.pending import PENDING_PREFIX


class DestinationError(PendoError):
    """The destination cannot be reached or written."""


@dataclass
class TableStatus:
    table: str
    rows: int
    last_load: pendulum.DateTime | None
    cursor: str | None
    behind: str | None


def missing_duckdb_file(pipeline: dlt.Pipeline) -> Path | None:
    """The DuckDB file the pipeline would read when it does not exist (opening it would create an empty one)."""
    identity = identity_of(pipeline)
    if identity.destination != "duckdb":
        return None
    path = Path(identity.location)
    return None if path.exists() else path


def table_status(pipeline: dlt.Pipeline, now: pendulum.DateTime | None = None,
                 pendo_clock: Callable[[], pendulum.DateTime | None] | None = None) -> list[TableStatus]:
    """Read rows, last load and cursors from the destination itself (works from an empty working dir).

    ``pendo_clock`` asks Pendo's clock (None when it cannot): cursors are in Pendo's time, loads in this machine's.
    """
    missing = missing_duckdb_file(pipeline)
    if missing is not None:
        raise ConfigError(f"no DuckDB database at {missing}: nothing was loaded there; run `pendo-elt run` first, "
                          "or point DESTINATION__DUCKDB__CREDENTIALS at the file you loaded")
    now = now or pendulum.now("UTC")
    pendo_now = pendo_clock() if pendo_clock else None
    skew = (pendo_now - now) if pendo_now is not None else pendulum.duration()
    try:
        pipeline.sync_destination()
    except Exception as exc:  # noqa: BLE001 - any driver error becomes one line
        raise DestinationError(f"cannot read the destination: {_one_line(exc)}") from None
    if not pipeline.schema_names:
        return []
    schema = pipeline.default_schema
    source_state = pipeline.state.get("sources", {}).get("pendo", {})
    resources, period = source_state.get("resources", {}), source_state.get("period", "day")
    result = []
    with pipeline.sql_client() as client:
        loads = dict(client.execute_sql(
            f"SELECT load_id, inserted_at FROM {client.make_qualified_table_name('_dlt_loads')} WHERE status = 0"))
        for table in sorted(schema.data_table_names()):
            if table.startswith(("_dlt", PENDING_PREFIX)):  # side tables are empty after every run
                continue
            name = client.make_qualified_table_name(table)
            try:
                rows, last_id = client.execute_sql(f"SELECT COUNT(*), MAX(_dlt_load_id) FROM {name}")[0]
            except Exception:  # noqa: BLE001 - in the schema but never created (no rows yet)
                continue
            last = pendulum.instance(loads[last_id]) if loads.get(last_id) else None
            cursor, behind = _cursor(resources.get(table, {}), last, period, now, skew)
            result.append(TableStatus(table, int(rows), last, cursor, behind))
    return result


def _cursor(state: dict, last_load: pendulum.DateTime | None, period: str, now: pendulum.DateTime,
            skew: pendulum.Duration | None = None) -> tuple[str | None, str | None]:
    """The cursor, and how far the table is behind what Pendo can have processed by now.

    Pendo serves data after a processing lag; a run at time L loads what Pendo had processed by L - lag, and by
    now Pendo has processed up to now - lag: the lag cancels, and the table is now - L behind, L being its last
    load. An event cursor is the start of the last bucket the run reached (the current, incomplete one): when that
    bucket ended before the last load (the cursor did not move, e.g. a backfill or a run of other tables loaded
    since), the data reaches only to the end of that bucket. Not the wall clock minus the cursor: that read hours
    behind for a day bucket loaded a minute ago. ``skew`` (Pendo's clock minus this machine's) puts the cursor,
    in Pendo's time, on this machine's clock.
    """
    if "cursor" in state:
        at = pendulum.parse(state["cursor"])
        covered = at.add(days=1) if period == "day" else at.add(hours=1)
    elif "cursor_ms" in state:
        at = pendulum.from_timestamp(state["cursor_ms"] / 1000)
        covered = None  # visitors/accounts: a run sees every record updated before it
    else:
        return None, None
    if last_load is None:
        return at.to_iso8601_string(), None
    through = min(last_load, covered - (skew or pendulum.duration())) if covered is not None else last_load
    return at.to_iso8601_string(), _age(max(now - through, pendulum.duration()))


def _age(delta: pendulum.Duration) -> str:
    minutes = delta.total_seconds() / 60
    if minutes < 120:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def check_destination(pipeline: dlt.Pipeline) -> str:
    """Create and drop a scratch table in the dataset: proves the destination is reachable and writable."""
    identity = identity_of(pipeline)
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
        raise DestinationError(f"destination {identity.describe()} is not reachable or not writable: "
                               f"{_one_line(exc)}") from None
    return f"{identity.describe()}, is writable"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] + ("..." if len(text) > 300 else "")
