"""Guide and poll state per visitor: ``guides_seen`` and ``polls_seen``, incremental.

Both read Pendo's lifetime sources (``guidesSeenEver``, ``pollsSeenEver``): a row is the visitor's whole history
with that guide or poll, recomputed by Pendo, so upserting it is exact. Incremental on the row's own time
(``lastSeenAt``; a poll answer's ``time``): each run asks only for rows whose time is at or after the highest
one loaded minus ``lookback_days``, and merges them on (visitor, guide) / (visitor, poll). A state change that
does not move that time (a dismissal long after the last view) is picked up while it is inside the lookback or
at the visitor's next view; ``--full-refresh`` reloads everything, and removes state of deleted visitors.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dlt
from dlt.sources import DltResource

from sources.pendo.aggregation import app_id_param, envelope
from sources.pendo.client import PendoClient
from sources.pendo.config import PendoConfig
from sources.pendo.shaping import ms_to_datetime, shape

DAY_MS = 86_400_000
GUIDE_TIMES = ("first_seen_at", "last_seen_at", "last_advanced_auto_at", "last_dismissed_auto_at", "last_timeout_at")


@dataclass(frozen=True)
class SeenSpec:
    table: str
    source: str
    cursor: str  # Pendo field the increment follows (epoch ms)
    key: tuple[str, ...]  # warehouse primary key
    sort: tuple[str, ...]


SEEN_TABLES: dict[str, SeenSpec] = {
    "guides_seen": SeenSpec("guides_seen", "guidesSeenEver", "lastSeenAt", ("visitor_id", "guide_id"),
                            ("lastSeenAt", "visitorId", "guideId")),
    "polls_seen": SeenSpec("polls_seen", "pollsSeenEver", "time", ("visitor_id", "poll_id"),
                           ("time", "visitorId", "pollId")),
}


def seen_body(spec: SeenSpec, app_ids: tuple[int, ...] | None, lower_ms: int | None) -> dict:
    pipeline: list[dict[str, Any]] = [{"source": {spec.source: {"appId": app_id_param(list(app_ids) if app_ids
                                                                                      else None)}}}]
    if lower_ms is not None:
        pipeline.append({"filter": f"{spec.cursor} >= {int(lower_ms)}"})
    pipeline.append({"sort": list(spec.sort)})
    return envelope(pipeline, f"pendo-elt:{spec.source}")


def shape_seen(spec: SeenSpec, row: dict) -> dict:
    out = shape(row)
    if spec.table == "polls_seen":
        # "time" is too generic a name for the global epoch-ms list; response is a number, a text or a choice id
        # depending on the poll type: text, like poll_events.poll_response, so one column holds every answer.
        out["time"] = ms_to_datetime(row.get("time"))
        response = row.get("response")
        out["response"] = None if response is None else (response if isinstance(response, str) else
                                                         _json_text(response))
    return out


def _json_text(value: Any) -> str:
    """10 -> "10" (an NPS score reads as it does in poll_events); a list or object of choices -> its JSON."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    import orjson

    return orjson.dumps(value).decode()


def seen_resource(client: PendoClient, cfg: PendoConfig, spec: SeenSpec) -> DltResource:
    def seen() -> Iterator[list[dict]]:
        state = dlt.current.resource_state()
        lower = state["cursor_ms"] - cfg.lookback_days * DAY_MS if "cursor_ms" in state else None
        highest = state.get("cursor_ms")
        with client.aggregate(seen_body(spec, cfg.app_ids, lower), spec.table) as spool:
            for page in spool.pages():
                rows = []
                for raw in page:
                    at = raw.get(spec.cursor)
                    if isinstance(at, int | float) and not isinstance(at, bool):
                        highest = int(at) if highest is None else max(highest, int(at))
                    rows.append(shape_seen(spec, raw))
                yield rows
        if highest is not None:
            state["cursor_ms"] = highest  # committed with the rows, in the same load package

    columns: dict[str, dict] = {c: {"data_type": "text", "nullable": False} for c in spec.key}
    if spec.table == "polls_seen":
        columns["time"] = {"data_type": "timestamp"}
        columns["response"] = {"data_type": "text"}
    else:  # typed up front: a column still null everywhere (no timeout yet) exists with its type
        columns.update({c: {"data_type": "timestamp"} for c in GUIDE_TIMES})
    return dlt.resource(seen, name=spec.table, write_disposition="merge", primary_key=spec.key, columns=columns)
