"""Buckets the warehouse holds nothing of are appended, not merged: a first load or a backfill writes each row once.

Every event table loads with dlt's delete-insert merge, which copies each row into a staging table, deletes the
matching keys from the final table and copies the row again. Into buckets the warehouse holds no row of (a first
load, a backfill of days never loaded, a full refresh into its aside dataset), the delete finds nothing and the
result is exactly an append; measured on 30 days of page_events (1M rows) into DuckDB, the staging copy and the
merge took 2-3x the time of one direct insert. So a run whose every job of a table replaces whole buckets that
the warehouse's fingerprints show empty loads that table with ``append`` (the table's hints for this run only;
the next run that writes the table declares the merge again). It emits no delete markers: there is nothing to
delete. Only Arrow pages are appended: dict rows may nest lists into child tables, and dlt gives child rows their
root key only in a merge table, so the first dict page puts the table back on the merge for the whole run.

An append is only exact while nothing else writes those buckets before it loads. The writer locks hold them from
extraction to load, and "empty" means the destination answered so (``WarehouseFingerprints.has_table`` raises on
any other failure). A package left by a killed run is never resumed when it appends (another pipeline may have
loaded the same days meanwhile): ``pipelines.run`` abandons it and its data is extracted again, as the merge
would have replaced it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import dlt
import pyarrow as pa

from sources.pendo.quarantine import is_rejected
from sources.pendo.repair import Job

MERGE_DISPOSITION = {"disposition": "merge", "strategy": "delete-insert"}  # every event table's own disposition
PACKAGE_STATE_KEY = "pendo_appended_tables"  # in the load package's state: tables this package appends to
BACKFILL_STATE_KEY = "pendo_appended_backfill"  # ... and the first day of the backfill chunk it belongs to
_APPEND = dlt.mark.make_hints(write_disposition="append")
_MERGE = dlt.mark.make_hints(write_disposition=MERGE_DISPOSITION)


def appends(jobs: Sequence[Job]) -> bool:
    """True when every job replaces whole buckets the warehouse holds no row of (nothing for a merge to delete)."""
    return bool(jobs) and all(job.scopes is None and job.stages is None and job.rows_replaced == 0 for job in jobs)


class AppendRoute:
    """One event table's pages in an appending run: the first Arrow page carries the append hint."""

    def __init__(self, table: str, backfill_chunk: str | None = None) -> None:
        self.table, self.backfill_chunk = table, backfill_chunk
        self.marked = self.merged = False

    def items(self, pages: Iterator[Any]) -> Iterator[Any]:
        for page in pages:
            if self.merged or is_rejected(page):  # rejected rows go to their own table with their own hints
                yield page
            elif not isinstance(page, pa.Table):
                self.merged = True  # see the module docstring: the whole run merges (it has nothing to delete)
                yield dlt.mark.with_hints(page, _MERGE)
            elif not self.marked:
                self.marked = True
                self._record()
                yield dlt.mark.with_hints(page, _APPEND)
            else:
                yield page

    def _record(self) -> None:
        state = dlt.current.load_package_state()["state"]
        state[PACKAGE_STATE_KEY] = sorted({*state.get(PACKAGE_STATE_KEY, ()), self.table})
        if self.backfill_chunk:
            state[BACKFILL_STATE_KEY] = self.backfill_chunk


def appended_tables(package_state: dict) -> list[str]:
    """The tables a pending load package appends to (see the module docstring: such a package is not resumed)."""
    return list(package_state.get(PACKAGE_STATE_KEY, ()))


def appended_backfill(package_state: dict) -> str | None:
    """The first day of the backfill chunk a pending appending package came from (None: a ``run``)."""
    return package_state.get(BACKFILL_STATE_KEY)
