"""Bucket fingerprints, Pendo side: small grouped aggregations that say whether a bucket changed.

Pure functions (no HTTP). A fingerprint is keyed by ``(bucket epoch ms, entity id)``: the entity is the
pageId / featureId / trackTypeId of a rollup, the guideId / pollId of a single event, the appId of ``events``.
Its value is a tuple of numbers that every change the Pendo imitation can make moves (late rows, re-tagged or
re-attributed rows, deleted visitors): row count, sums of the measures, distinct visitors, and for single events
the first and last browserTime. The warehouse side (``pipelines/warehouse_fingerprints.py``) computes the same
tuple in SQL over the loaded rows, in the same order.

Rollups carry their bucket (``day``/``hour``), so one ``group`` over a window answers for all its buckets.
Single events carry only ``browserTime``: one ``spawn`` runs a sub-pipeline per bucket, each grouping by entity
and stamping its bucket with an ``eval``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sources.pendo.aggregation import app_id_param, envelope, quote, time_series
from sources.pendo.windows import Period, Window

Key = tuple[int, str]  # (bucket start, epoch ms; entity id as text)
Fingerprint = tuple[int | float, ...]

ROLLUP_MEASURES: dict[str, dict[str, str | None]] = {
    "rows": {"count": None},
    "numEvents": {"sum": "numEvents"},
    "numMinutes": {"sum": "numMinutes"},
    "visitors": {"count": "visitorId"},
}
SINGLE_MEASURES: dict[str, dict[str, str | None]] = {
    "rows": {"count": None},
    "visitors": {"count": "visitorId"},
    "firstTime": {"min": "browserTime"},
    "lastTime": {"max": "browserTime"},
}
BUCKET_ALIAS = "bucket"


def measures(single_events: bool) -> dict[str, dict[str, str | None]]:
    return SINGLE_MEASURES if single_events else ROLLUP_MEASURES


def entity_filter(field: str, ids: Iterable[str]) -> str:
    """``pageId == "a" || pageId == "b"``: every id escaped, so quotes and backslashes cannot break the query."""
    clauses = [f"{field} == {quote(str(i))}" for i in sorted(set(ids))]
    if not clauses:
        raise ValueError("entity_filter needs at least one id")
    return " || ".join(clauses)


def _source_stage(source: str, window: Window, period: Period, tz: str, app_ids: list[int] | None) -> dict:
    return {"source": {source: {"appId": app_id_param(app_ids)}, "timeSeries": time_series(period, window, tz)}}


def rollup_fingerprint_body(
    source: str,
    entity_field: str,
    window: Window,
    period: Period,
    tz: str,
    app_ids: list[int] | None,
    entities: Sequence[str] | None = None,
) -> dict[str, Any]:
    """One query for every (bucket, entity) of a rollup source in the window."""
    pipeline: list[dict[str, Any]] = [_source_stage(source, window, period, tz, app_ids)]
    if entities:
        pipeline.append({"filter": entity_filter(entity_field, entities)})
    pipeline.append({"group": {"group": [period, entity_field], "fields": ROLLUP_MEASURES}})
    return envelope(pipeline, f"pendo-elt:fingerprint:{source}:{window}")


def single_fingerprint_body(
    source: str,
    entity_field: str,
    buckets: Sequence[Window],
    period: Period,
    tz: str,
    app_ids: list[int] | None,
    entities: Sequence[str] | None = None,
) -> dict[str, Any]:
    """One ``spawn`` with a sub-pipeline per bucket (single events have no bucket field to group by)."""
    if not buckets:
        raise ValueError("single_fingerprint_body needs at least one bucket")
    pipelines = []
    for bucket in buckets:
        stages: list[dict[str, Any]] = [_source_stage(source, bucket, period, tz, app_ids)]
        if entities:
            stages.append({"filter": entity_filter(entity_field, entities)})
        stages.append({"group": {"group": [entity_field], "fields": SINGLE_MEASURES}})
        stages.append({"eval": {BUCKET_ALIAS: str(bucket.start_ms)}})
        pipelines.append(stages)
    label = f"{buckets[0]}+{len(buckets) - 1}" if len(buckets) > 1 else str(buckets[0])
    return envelope([{"spawn": pipelines}], f"pendo-elt:fingerprint:{source}:{label}")


def normalize(value: Any) -> int | float:
    """One number type for both sides: Pendo's JSON ints/floats and SQL's ints, Decimals and floats compare."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal | float):
        rounded = round(float(value), 6)
        return int(rounded) if rounded == int(rounded) else rounded
    return int(value) if isinstance(value, int) else normalize(float(value))


def parse_fingerprints(
    rows: Iterable[dict[str, Any]], bucket_field: str, entity_field: str, single_events: bool
) -> dict[Key, Fingerprint]:
    """``{(bucket ms, entity id): (measures...)}`` from the rows of a fingerprint answer.

    A row without an entity id keys as ``""``: the warehouse side refuses such rows at load time, so a Pendo
    group with a null id always differs and its bucket is re-extracted whole (and the load then says why).
    """
    names = list(measures(single_events))
    result: dict[Key, Fingerprint] = {}
    for row in rows:
        bucket = row.get(bucket_field)
        if bucket is None:
            continue
        entity = row.get(entity_field)
        key = (int(bucket), "" if entity is None else str(entity))
        result[key] = tuple(normalize(row.get(name)) for name in names)
    return result
