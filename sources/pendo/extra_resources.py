"""Segments, product areas and saved-report results: small lists, replaced on every run.

- ``segments``: ``GET /api/v1/segment`` (a bare array, like every Pendo list). A segment's rule is an aggregation
  pipeline; it is kept verbatim as one JSON column, since snake-casing its keys would change what it means.
- ``product_areas``: Pendo's ``groups`` (aggregation source ``groups``). Pages and features carry their area as
  ``group``; :func:`with_product_area` adds it as ``product_area_id`` so marts can roll up by it.
- ``report_results``: the rows of the saved reports named in ``report_ids`` (``GET /api/v1/report/{id}/results.json``),
  one table for all of them with ``report_id`` plus each report's own columns; fields the report declares as
  ``time`` become timestamps. Nothing is requested while ``report_ids`` is empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote as url_quote

import dlt
from dlt.sources import DltResource

from sources.pendo.aggregation import app_id_param, envelope
from sources.pendo.client import PendoClient
from sources.pendo.config import PendoConfig
from sources.pendo.errors import ConfigError, PendoRequestError, PendoResponseError
from sources.pendo.shaping import ms_to_datetime, shape, snake_case

PRODUCT_AREA_COLUMN = "product_area_id"
REPORT_IDS_KEY = "sources.pendo.report_ids (env SOURCES__PENDO__REPORT_IDS)"


def parse_report_ids(value: Any) -> tuple[str, ...]:
    """``report_ids``: a list of saved-report ids or one comma-separated string; empty by default."""
    if value is None or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) and i.strip() for i in items):
        raise ConfigError(f"{REPORT_IDS_KEY} must be a list of saved-report ids (or \"id1,id2\"), got {value!r}")
    return tuple(dict.fromkeys(i.strip() for i in items))


def _list(client: PendoClient, path: str) -> list[dict]:
    rows = client.get_json(path)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise PendoResponseError(f"GET /api/v1{path} answered an unexpected body (expected a JSON array of "
                                 "objects); nothing was loaded")
    return rows


def segments_resource(client: PendoClient) -> DltResource:
    def segments() -> Iterator[list[dict]]:
        rows = []
        for raw in _list(client, "/segment"):
            pipeline = raw.get("pipeline")
            row = shape({k: v for k, v in raw.items() if k != "pipeline"})
            row["pipeline"] = pipeline
            rows.append(row)
        yield rows

    return dlt.resource(segments, name="segments", write_disposition="replace", primary_key="id",
                        columns={"pipeline": {"data_type": "json"}})


def product_areas_resource(client: PendoClient, cfg: PendoConfig) -> DltResource:
    """Pendo's product areas, from the aggregation source ``groups`` (the list has no REST endpoint we know of)."""

    def product_areas() -> Iterator[list[dict]]:
        params = {"appId": app_id_param(list(cfg.app_ids) if cfg.app_ids else None)}
        body = envelope([{"source": {"groups": params}}], "pendo-elt:groups")
        with client.aggregate(body, "product areas") as spool:
            yield [shape(r) for page in spool.pages() for r in page]

    # items: not documented (null in every sample we know): JSON rather than a child table of unknown shape
    return dlt.resource(product_areas, name="product_areas", write_disposition="replace", primary_key="id",
                        columns={"items": {"data_type": "json"}})


def with_product_area(row: dict) -> dict:
    """``product_area_id`` of a page or feature row: its ``group``'s id, None when it belongs to no area."""
    group = row.get("group")
    row[PRODUCT_AREA_COLUMN] = group.get("id") if isinstance(group, dict) else None
    return row


def with_product_area_column(resource: DltResource) -> DltResource:
    """Pages/features with ``product_area_id``, typed up front so it exists even before any area is assigned."""
    resource.add_map(with_product_area)
    resource.apply_hints(columns={PRODUCT_AREA_COLUMN: {"data_type": "text", "nullable": True}})
    return resource


def extra_resources(client: PendoClient, cfg: PendoConfig, report_ids: tuple[str, ...]) -> list[DltResource]:
    """The resources of this module and of ``seen_state``, in ``settings.EXTRA_RESOURCES`` order."""
    from sources.pendo.seen_state import SEEN_TABLES, seen_resource

    return [segments_resource(client), product_areas_resource(client, cfg),
            report_results_resource(client, report_ids),
            *(seen_resource(client, cfg, spec) for spec in SEEN_TABLES.values())]


def report_results_resource(client: PendoClient, report_ids: tuple[str, ...]) -> DltResource:
    def report_results() -> Iterator[list[dict]]:
        if not report_ids:
            return
        reports = {r.get("id"): r for r in _list(client, "/report")}
        for report_id in report_ids:
            if report_id not in reports:
                raise ConfigError(f"{REPORT_IDS_KEY} names report {report_id!r}, which Pendo does not list "
                                  "(GET /api/v1/report); remove it or fix the id")
            try:
                rows = client.get_json(f"/report/{url_quote(report_id, safe='')}/results.json")
            except PendoRequestError as exc:
                raise PendoRequestError(f"{exc} (report {report_id!r} of {REPORT_IDS_KEY}; Pendo cannot return "
                                        "Paths, Funnels, Retention or Data Explorer reports)") from None
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise PendoResponseError(f"GET /api/v1/report/{report_id}/results.json answered an unexpected body "
                                         "(expected a JSON array of objects); nothing was loaded")
            times = _time_fields(reports[report_id])
            yield [_report_row(report_id, row, times) for row in rows]

    # Replaced as a whole on every run that loads a report: a report's rows are its answer now, and a report
    # dropped from report_ids leaves the table (with report_ids empty nothing is requested or replaced).
    return dlt.resource(report_results, name="report_results", write_disposition="replace",
                        columns={"report_id": {"data_type": "text", "nullable": False}})


def _time_fields(report: dict) -> frozenset[str]:
    fields = ((report.get("aggregation") or {}).get("fields")) or []
    return frozenset(f.get("field") for f in fields if isinstance(f, dict) and f.get("type") == "time")


def _report_row(report_id: str, row: dict, times: frozenset[str]) -> dict:
    out = {"report_id": report_id, **shape(row)}
    for name in times:
        value = row.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[snake_case(name)] = ms_to_datetime(value)
    return out
