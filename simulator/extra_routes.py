"""Routes beyond the core API: segments, saved report results, and the ground truth of the tables behind them.

Kept apart from ``server.py`` so the core server stays small; ``server.py`` calls :func:`api` before it answers
404 and :func:`truth` before the core truth tables.

- ``GET /api/v1/segment``: the saved segments, a bare array (no pagination, like every Pendo list).
- ``GET /api/v1/report/{id}/results.json``: the rows of a saved report, a bare array, computed by running the
  report's saved ``aggregation.pipeline`` now; 404 for an unknown report. Pendo's docs: "Paths, Funnels,
  Retention, and Data Explorer reports cannot be returned with this endpoint" (every simulated report is an
  aggregation list, so all can).
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.aggregation import run_aggregation
from simulator.data import Dataset
from simulator.data.seen_state import GUIDE_SOURCES, POLL_SOURCES
from simulator.errors import AggregationError
from simulator.expressions import EvalContext

EXTRA_TRUTH_TABLES = ("product_areas", "segments", "report_results", "guides_seen", "polls_seen", "single_events")


class NotFound(Exception):
    """The route exists but the object does not (answered 404)."""


def api(ds: Dataset, method: str, parts: list[str]) -> list[dict] | None:
    """The answer of an extra GET route, or None when ``parts`` is not one (the server answers 404)."""
    if method != "GET":
        return None
    if parts == ["segment"]:
        return _copy_list(ds.catalog.segments)
    if len(parts) == 3 and parts[0] == "report" and parts[2] == "results.json":
        return report_results(ds, parts[1])
    return None


def report_results(ds: Dataset, report_id: str) -> list[dict]:
    report = next((r for r in ds.catalog.reports if r["id"] == report_id), None)
    if report is None:
        raise NotFound(f"report {report_id} not found")
    body = {"request": {"pipeline": report["aggregation"]["pipeline"]}}
    try:
        return list(run_aggregation(body, ds, EvalContext(now_ms=ds.now_ms, tz=ds.tz), None).rows)
    except AggregationError as exc:  # a saved pipeline the simulator cannot run is a bug in the simulator
        raise RuntimeError(f"report {report_id} has a pipeline the simulator cannot run: {exc}") from exc


def truth(ds: Dataset, table: str, query: dict) -> list[dict] | None:
    """Ground truth of an extra table (raw API rows, as the API serves them now), or None for another table.

    ``report_results`` takes ``report_id`` (default: every report, each row tagged with ``reportId``);
    ``guides_seen`` / ``polls_seen`` are lifetime state (the ``...Ever`` sources); ``single_events`` takes
    ``start_ms`` / ``end_ms`` like the event tables; ``app_ids`` filters every table that has an appId.
    """
    if table not in EXTRA_TRUTH_TABLES:
        return None
    apps = [int(a) for a in query["app_ids"].split(",")] if query.get("app_ids") else list(ds.app_ids)
    builders: dict[str, Callable[[], list[dict]]] = {
        "product_areas": lambda: list(ds.object_rows("groups")),
        "segments": lambda: _copy_list(ds.catalog.segments),
        "report_results": lambda: _all_report_results(ds, query.get("report_id")),
        "guides_seen": lambda: ds.seen_rows(GUIDE_SOURCES[1], None, None, apps),
        "polls_seen": lambda: ds.seen_rows(POLL_SOURCES[1], None, None, apps),
        "single_events": lambda: list(ds.event_rows(
            "singleEvents", "day", int(query.get("start_ms") or ds.history_start_ms()),
            int(query.get("end_ms") or ds.now_ms), apps)),
    }
    return builders[table]()


def _all_report_results(ds: Dataset, report_id: str | None) -> list[dict]:
    if report_id:
        return report_results(ds, report_id)
    return [{"reportId": r["id"], **row} for r in ds.catalog.reports for row in report_results(ds, r["id"])]


def _copy_list(rows: list[dict]) -> list[dict]:
    import orjson

    return orjson.loads(orjson.dumps(rows))
