"""Aggregation bodies that list every visitor or account id Pendo has, and nothing else (pure, no HTTP).

The deletion reconciliation (``pipelines/deletions.py``) compares these ids with the warehouse's. A
scan reads only the id of each record, so it costs about ``records / page_size`` requests and a few
bytes per record, against the full metadata a load reads.

Pages are keyed on the id alone: ids are unique and never change, so ``id > last id`` pages through
every record exactly once, with no ties to break (unlike ``lastupdated``, which many records share
and which moves when a record is updated mid-scan).
"""

from __future__ import annotations

from typing import Any

from sources.pendo.aggregation import envelope, quote


def id_page_body(source: str, id_field: str, after: str | None, page_size: int,
                 identified_only: bool) -> dict[str, Any]:
    """One page of ids: ``source`` -> [``identified``] -> [``filter id > after``] -> ``sort id`` -> ``limit``
    -> ``select id``. ``identified_only`` leaves out anonymous visitors, as a load without
    ``include_anonymous_visitors`` does."""
    if page_size < 1:
        raise ValueError(f"page_size must be >= 1, got {page_size}")
    pipeline: list[dict[str, Any]] = [{"source": {source: None}}]
    if identified_only:
        pipeline.append({"identified": id_field})
    if after is not None:
        pipeline.append({"filter": f"{id_field} > {quote(after)}"})
    pipeline += [{"sort": [id_field]}, {"limit": int(page_size)}, {"select": {id_field: id_field}}]
    return envelope(pipeline, f"pendo-elt:{source}:ids")


def ids_of(rows: list[dict[str, Any]], id_field: str) -> list[str]:
    """The ids of one answer, in its order; a row without one is a malformed answer, not a record to skip."""
    out = []
    for row in rows:
        value = row.get(id_field)
        if value is None:
            raise ValueError(f"a row of the id scan has no {id_field!r}")
        out.append(str(value))
    return out


def next_after(ids: list[str], page_size: int) -> str | None:
    """Where the next page starts: after the last id of a full page; None when this page was the last."""
    return ids[-1] if len(ids) >= page_size else None
