"""Buckets the warehouse holds nothing of are appended, not merged: a first load or a backfill writes each row once.

Every event table loads with dlt's delete-insert merge, which copies each row into a staging table, deletes the
matching keys from the final table and copies the row again. Into buckets the warehouse holds no row of (a first
load, a backfill of days never loaded, a full refresh into its aside dataset), the delete finds nothing and the
result is exactly an append; measured on 30 days of page_events (1M rows) into DuckDB, the staging copy and the
merge took 2-3x the time of one direct insert. So a run whose every job of a table replaces whole buckets that
the warehouse's fingerprints show empty loads that table with ``append`` (the table's hints for this run only;
the next run declares the merge again). It emits no delete markers: there is nothing to delete.

An append is only exact while nothing else writes those buckets before it loads. The writer locks hold them from
extraction to load; a package left by a killed run is therefore never resumed when it appends (another pipeline
may have loaded the same days meanwhile): ``pipelines.run`` abandons it and its data is extracted again, as the
merge would have replaced it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import dlt

from sources.pendo.quarantine import is_rejected
from sources.pendo.repair import Job

PACKAGE_STATE_KEY = "pendo_appended_tables"  # in the load package's state: tables this package appends to
_APPEND = dlt.mark.make_hints(write_disposition="append")


def appends(jobs: Sequence[Job]) -> bool:
    """True when every job replaces whole buckets the warehouse holds no row of (nothing for a merge to delete)."""
    return bool(jobs) and all(job.scopes is None and job.stages is None and job.rows_replaced == 0 for job in jobs)


class AppendRoute:
    """One event table's pages in an appending run: the first page of data carries the append hint."""

    def __init__(self, table: str) -> None:
        self.table, self.marked = table, False

    def items(self, pages: Iterator[Any]) -> Iterator[Any]:
        for page in pages:
            if not self.marked and not is_rejected(page):  # rejected rows go to their own table with their hints
                state = dlt.current.load_package_state()["state"]
                state[PACKAGE_STATE_KEY] = sorted({*state.get(PACKAGE_STATE_KEY, ()), self.table})
                page, self.marked = dlt.mark.with_hints(page, _APPEND), True
            yield page


def appended_tables(package_state: dict) -> list[str]:
    """The tables a pending load package appends to (see the module docstring: such a package is not resumed)."""
    return list(package_state.get(PACKAGE_STATE_KEY, ()))
