"""Progress records the source emits while it extracts, for whoever wants to show them.

They are ordinary log records on the ``pendo_elt.progress`` logger with the facts in ``record.progress`` (a dict
with an ``event`` key), so the source knows nothing of terminals or log formats: ``pipelines/progress.py`` turns
them into a live display or timestamped log lines, and any other host (Dagster, a notebook) sees readable INFO
lines if it logs at INFO. Row counts exclude the bucket delete markers, as the run summary does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

LOGGER_NAME = "pendo_elt.progress"
logger = logging.getLogger(LOGGER_NAME)


def emit(event: str, message: str, *, level: int = logging.INFO, **fields: Any) -> None:
    if logger.isEnabledFor(level):
        logger.log(level, message, extra={"progress": {"event": event, **fields}})


def windows_planned(table: str, windows: list, tz: str) -> None:
    """An event table is about to fetch these windows (``sources.pendo.windows.Window``, in order)."""
    if not windows:
        emit("planned", f"{table}: nothing to fetch", table=table, windows=0)
        return
    first, last = _day(windows[0].start, tz), _day(windows[-1].end, tz)
    emit("planned", f"{table}: {len(windows)} windows from {first} to {last}", table=table, windows=len(windows),
         first_day=first, end_day=last)


def window_pages(table: str, number: int, total: int, window: Any, tz: str, pages: Iterable) -> Iterator:
    """``pages`` unchanged; once the last one is handed on, one ``window`` record with the window's rows."""
    rows = 0
    for page in pages:
        if hasattr(page, "num_rows"):
            rows += page.num_rows
        elif isinstance(page, list):
            rows += len(page)
        # else a quarantine.Rejected page: its rows go to _pendo_rejected, they are not the window's rows
        yield page
    day = _day(window.start, tz)
    emit("window", f"{table}: window {number} of {total} (day {day}) done, {rows:,} rows", table=table,
         window=number, windows=total, day=day, end_day=_day(window.end, tz), window_rows=rows)


def rows_extracted(table: str, rows: int) -> None:
    """The running count of real rows ``table`` has yielded (DEBUG: one record per page)."""
    emit("rows", f"{table}: {rows:,} rows", level=logging.DEBUG, table=table, rows=rows)


def _day(instant: Any, tz: str) -> str:
    return instant.in_tz(tz).to_date_string()
