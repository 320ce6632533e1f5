"""Building and running the dlt pipeline that loads Pendo into a destination."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt
import pendulum
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.pipeline import LoadInfo
from dlt.common.storages.load_package import PackageStorage
from dlt.pipeline.exceptions import PipelineStepFailed

from pipelines import deletions, postgres_load, refresh, writer_lock
from pipelines.apply_pending import apply_pending
from pipelines.bucket_state import write_bucket_state
from pipelines.duckdb_memory import duckdb_credentials
from pipelines.identity import prepare_working_root, resolve_identity
from pipelines.lock import PipelineLock
from pipelines.packages import packages_to_keep, prune_completed_packages
from sources.pendo import pendo_source, progress_events
from sources.pendo.config import validate_resources
from sources.pendo.errors import ConfigError, PendoError
from sources.pendo.fresh_buckets import appended_backfill, appended_tables
from sources.pendo.memory import release_memory
from sources.pendo.pending import PENDING_PREFIX
from sources.pendo.quarantine import REJECTED_MARK
from sources.pendo.settings import (
    DEFAULT_RESOURCES,
    RAW_EVENT_SOURCES,
    ROLLUP_SOURCES,
    SINGLE_EVENT_SOURCES,
    TOMBSTONE_COLUMN,
)
from sources.pendo.settle import SyncStats

logger = logging.getLogger("pendo_elt")

PIPELINE_NAME = "pendo"
DEFAULT_DATASET = "pendo_data"  # not "pendo": DuckDB cannot tell a schema from the catalog pendo.duckdb
ADD_LOAD_ID_ENV = "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID"
DESTINATIONS = ("duckdb", "postgres", "snowflake")
# dlt ignores loader_file_format from config files (dlt-notes §4): it is chosen here, per destination. Postgres gets
# none: a run-wide format overrides every table's own, and there the Arrow tables load as parquet (below), the
# rest as INSERT ... VALUES (dlt's preferred format for Postgres).
LOADER_FILE_FORMAT: dict[str, str | None] = {"duckdb": "parquet", "postgres": None, "snowflake": "parquet"}
# Tables that arrive as Arrow load on Postgres as parquet through ADBC (binary COPY; adbc-driver-postgresql): no
# per-row conversion to SQL text, and '' stays ''. dlt's csv COPY would do as well but forces '' to NULL.
ARROW_FILE_FORMAT = {"postgres": "parquet"}
ARROW_TABLES = (*ROLLUP_SOURCES, *SINGLE_EVENT_SOURCES, *RAW_EVENT_SOURCES)  # event tables yielding Arrow pages
# DuckDB loads one job at a time: its parallel COPY and merge statements ran in one process and set the peak memory
# (1,174 MB against 778 MB for one worker, 30 days of the large scale), for about the same load time. Postgres loads
# two at a time (dlt's default is 20): the six event tables' COPYs and merges side by side took the load step of that
# backfill to 667 MB, two workers to 519-555 MB, at the same CPU (docs/performance.md, Postgres). dlt reads the
# setting from the environment (or [load] workers in .dlt/config.toml); a value the user set wins.
LOAD_WORKERS = {"duckdb": "1", "postgres": "2"}
LOAD_WORKERS_ENV = "LOAD__WORKERS"
_USER_LOAD_WORKERS = os.environ.get(LOAD_WORKERS_ENV)
BACKFILL_RESOURCES: tuple[str, ...] = (*ROLLUP_SOURCES, *SINGLE_EVENT_SOURCES)
# Days per backfill load. Every chunk pays a whole dlt run (extract, normalize, staging copy, merge, state sync),
# so a month per chunk; an interrupted backfill loses at most the month in flight.
BACKFILL_CHUNK_DAYS = 31


@dataclass
class RunSummary:
    """What one run loaded, per table, for the closing summary."""

    rows: dict[str, int] = field(default_factory=dict)
    deletions: deletions.DeletionReport | None = None  # when this run reconciled deletions (see pipelines/deletions)
    seconds: float = 0.0
    table_seconds: dict[str, float] = field(default_factory=dict)  # extraction time per resource
    load_info: LoadInfo | None = None
    skipped_chunks: int = 0
    sync: SyncStats = field(default_factory=SyncStats)  # verification counters per event table
    requests: int = 0  # HTTP requests sent to Pendo
    fingerprint_rows: int = 0  # rows of fingerprint answers read from Pendo
    rows_deleted: int = 0  # event-table rows deleted: by bucket replacement, and by applied differences
    rows_inserted: int = 0  # event-table rows inserted: every row of a replacement, the differing rows of a diff

    @property
    def data_rows(self) -> int:
        """Rows read from Pendo for data (every table; delete markers excluded)."""
        return sum(self.rows.values())

    @property
    def rows_rewritten(self) -> int:
        """Event-table rows the warehouse rewrote: inserted plus deleted."""
        return self.rows_inserted + self.rows_deleted

    def add(self, other: RunSummary) -> None:
        for table, count in other.rows.items():
            self.rows[table] = self.rows.get(table, 0) + count
        for table, seconds in other.table_seconds.items():
            self.table_seconds[table] = self.table_seconds.get(table, 0.0) + seconds
        self.seconds += other.seconds
        self.requests += other.requests
        self.fingerprint_rows += other.fingerprint_rows
        self.rows_deleted += other.rows_deleted
        self.rows_inserted += other.rows_inserted


def make_pipeline(
    destination: str = "duckdb",
    dataset: str = DEFAULT_DATASET,
    pipelines_dir: str | None = None,
    pipeline_name: str = PIPELINE_NAME,
    destination_config: dict[str, Any] | None = None,
    progress: Any = None,
) -> dlt.Pipeline:
    if destination not in DESTINATIONS:
        raise ConfigError(f"unknown destination {destination!r}; choose from {', '.join(DESTINATIONS)}")
    # Arrow tables (the rollup fast path) skip dlt's row normalizer, which is what adds _dlt_load_id; keep it, so
    # every table says which load wrote each row (status, audits and the models read it). Set in the environment, not
    # with dlt.config[...] = True: that rewrites a shared TOML document, and a pipeline extracting in another thread
    # could read it mid-write and load Arrow tables without the column.
    if os.environ.get(ADD_LOAD_ID_ENV) != "true":
        os.environ[ADD_LOAD_ID_ENV] = "true"
    # Arrow's default allocator (mimalloc) keeps freed pages; the system allocator gives them back, which lowered the
    # peak of a 30-day large-scale backfill by ~40 MB at the same speed.
    pa.set_memory_pool(pa.system_memory_pool())
    # The working dir belongs to this warehouse alone (pipelines/identity.py); credentials are passed explicitly, so
    # dlt loads exactly where the identity says (a relative DuckDB path is resolved once, against the current dir).
    identity = resolve_identity(destination, dataset, destination_config, pipeline_name)
    working_root = prepare_working_root(identity, pipelines_dir)
    credentials = duckdb_credentials(identity.credentials) if destination == "duckdb" else identity.credentials
    config = {**(destination_config or {}), "credentials": credentials}
    target = getattr(dlt.destinations, destination)(**config)
    if destination == "postgres":
        postgres_load.copy_parquet_by_row_group()  # a month of page_events no longer sits in memory whole
    try:
        return dlt.pipeline(pipeline_name=pipeline_name, destination=target, dataset_name=dataset,
                            pipelines_dir=str(working_root), **({"progress": progress} if progress else {}))
    except ModuleNotFoundError as exc:
        raise ConfigError(f"the {destination} destination needs an extra: pip install -e '.[{destination}]' "
                          f"({exc.name} is missing)") from None


def run(
    pipeline: dlt.Pipeline,
    resources: Sequence[str] | None = None,
    *,
    full_refresh: bool = False,
    **source_args: Any,
) -> RunSummary:
    """Extract, normalize and load under the pipeline lock; raise the user-facing error on failure."""
    names = validate_resources(list(resources) if resources else list(DEFAULT_RESOURCES))
    every_hours = source_args.pop(deletions.SETTING, None)  # not a pendo_source argument
    with PipelineLock(pipeline.pipelines_dir, pipeline.pipeline_name), writer_lock.writing(pipeline):
        if full_refresh and refresh.is_atomic(pipeline):  # loaded aside, swapped in: a kill never leaves half
            summary = refresh.full_refresh(pipeline, lambda aside: _run_locked(aside, names, False, source_args))
        else:
            refresh.recover(pipeline)
            summary = _run_locked(pipeline, names, full_refresh, source_args)
        if deletions.PEOPLE_TABLES & set(names):  # after the load, so today's visitors are in the warehouse
            summary.deletions = deletions.reconcile_if_due(pipeline, source_args, every_hours)
        return summary


def _run_locked(pipeline: dlt.Pipeline, names: Sequence[str], full_refresh: bool, source_args: dict) -> RunSummary:
    started = time.monotonic()
    keep_packages = packages_to_keep()  # a bad setting is refused before anything runs
    stats = SyncStats()
    source = pendo_source(**source_args, sync_stats=stats).with_resources(*names)
    meter = _RowMeter()
    destination = _destination_name(pipeline)
    _choose_load_workers(destination)
    arrow_format = ARROW_FILE_FORMAT.get(destination)
    for name in names:
        source.resources[name].add_step(meter.step(name))
        if arrow_format and name in ARROW_TABLES:
            source.resources[name].apply_hints(file_format=arrow_format)
    try:
        _finish_pending(pipeline)
        apply_pending(pipeline, stats)  # rows set aside by a run killed before it applied them: before any fingerprint
        info = pipeline.run(
            source,
            loader_file_format=LOADER_FILE_FORMAT.get(destination, "parquet"),
            refresh="drop_sources" if full_refresh else None,
        )
    except PipelineStepFailed as exc:
        raise unwrap(exc) from None
    apply_pending(pipeline, stats)  # this load's set-aside scopes, as differences (pipelines/apply_pending.py)
    prune_completed_packages(pipeline, keep_packages)
    period = pipeline.state.get("sources", {}).get("pendo", {}).get("period", "day")
    write_bucket_state(pipeline, period, stats.buckets)
    summary = RunSummary(seconds=time.monotonic() - started, load_info=info, sync=stats, requests=stats.requests_sent,
                         fingerprint_rows=stats.fingerprint_rows, rows_deleted=stats.rows_deleted,
                         rows_inserted=stats.rows_inserted(meter.rows))
    trace = pipeline.last_trace
    if trace and trace.last_normalize_info:
        summary.rows = {t: n for t, n in trace.last_normalize_info.row_counts.items()
                        if not t.startswith(("_dlt", PENDING_PREFIX))}  # set-aside rows count for their table
    summary.rows.update(meter.rows)  # resource tables: real rows, without the bucket delete markers
    summary.table_seconds = meter.seconds()
    return summary


class _RowMeter:
    """Counts the rows each resource yields (not the delete markers) and how long it took to yield them."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self._first: dict[str, float] = {}
        self._last: dict[str, float] = {}

    def step(self, table: str) -> Callable[[Any], Any]:
        self.rows[table] = 0

        def count(item: Any) -> Any:  # a pipe step: sees each page (list) whole, as the resource yielded it
            now = time.monotonic()
            self._first.setdefault(table, now)
            self._last[table] = now
            if isinstance(item, pa.Table):
                # every rollup table has the (null) delete-marker column; only marker rows have it true
                markers = pc.sum(item.column(TOMBSTONE_COLUMN)).as_py() if TOMBSTONE_COLUMN in item.column_names else 0
                self.rows[table] += item.num_rows - (markers or 0)
            else:
                page = item if isinstance(item, list) else [item]
                self.rows[table] += sum(1 for row in page if not (isinstance(row, dict) and (
                    row.get(TOMBSTONE_COLUMN) or REJECTED_MARK in row)))
            progress_events.rows_extracted(table, self.rows[table])  # live counts are the summary's counts
            return item

        return count

    def seconds(self) -> dict[str, float]:
        return {t: self._last[t] - self._first[t] for t in self._first}


def _choose_load_workers(destination: str) -> None:
    """Set dlt's load workers for this destination, unless the user chose them (environment or config file)."""
    if _USER_LOAD_WORKERS is not None:
        return
    if os.environ.get(LOAD_WORKERS_ENV) is None and dlt.config.get("load.workers") is not None:
        return
    if destination in LOAD_WORKERS:
        os.environ[LOAD_WORKERS_ENV] = LOAD_WORKERS[destination]
    else:
        os.environ.pop(LOAD_WORKERS_ENV, None)


def _finish_pending(pipeline: dlt.Pipeline) -> None:
    """A run that died after extracting leaves packages behind; deal with them first, or dlt ignores new data.

    A package whose load never began is loaded now, unless it appends rows to buckets that were empty when it
    was extracted (``sources/pendo/fresh_buckets.py``): another writer may have loaded them since, so it is
    abandoned like the next case. One whose load began is abandoned (dlt's abort restores the
    cursors to where it started) and this run extracts its data again: resuming would re-run a staging copy whose
    rows the warehouse had committed before the crash, and the event tables' delete-insert would insert those rows
    twice. Extracting again is always safe, because every table replaces what it reloads (lists are replaced,
    visitors and accounts upserted, event buckets deleted and re-inserted). A package that cannot be loaded is
    abandoned the same way rather than retried by every later run.
    """
    if not pipeline.has_pending_data:
        return
    interrupted = [load_id for load_id in pipeline.list_normalized_load_packages() if _load_began(pipeline, load_id)]
    if interrupted:
        logger.warning("an earlier run was interrupted while loading package %s; abandoning it, this run extracts its "
                       "data again", ", ".join(interrupted))
        _abort_pending(pipeline)
        return
    try:
        pipeline.normalize()
        states = [pipeline.get_load_package_state(load_id) for load_id in pipeline.list_normalized_load_packages()]
        appending = sorted({t for state in states for t in appended_tables(state)})
        if appending:  # its rows were extracted as appends: another writer may have loaded those buckets since
            chunks = sorted(filter(None, (appended_backfill(state) for state in states)))
            if chunks:  # a run does not extract a backfill's days: say how to get them
                logger.warning("an earlier backfill stopped before loading new rows of %s (its chunk from %s); "
                               "its package is abandoned: run that backfill again to load those days (its loaded "
                               "chunks are skipped)", ", ".join(appending), ", ".join(chunks))
            else:
                logger.warning("an earlier run stopped before loading new rows of %s; abandoning its package, this "
                               "run extracts them again", ", ".join(appending))
            _abort_pending(pipeline)
            return
        pipeline.load()
    except PipelineStepFailed as exc:
        logger.warning("dropping an unfinished load package that cannot be loaded (%s); this run extracts its "
                       "data again", " ".join(str(causes(exc)[-1]).split())[:300])
        _abort_pending(pipeline)


def _load_began(pipeline: dlt.Pipeline, load_id: str) -> bool:
    """True once the loader touched the warehouse for this package: schema applied, or any job started or retried."""
    info = pipeline.get_load_package_info(load_id)
    applied_schema = Path(info.package_path, PackageStorage.APPLIED_SCHEMA_UPDATES_FILE_NAME)
    if info.has_pending_transitions or applied_schema.exists():
        return True
    if any(info.jobs[state] for state in ("started_jobs", "completed_jobs", "failed_jobs")):
        return True
    return any(job.job_file_info.retry_count for job in info.jobs["new_jobs"])


def _abort_pending(pipeline: dlt.Pipeline) -> None:
    """Abandon every pending package and restore the cursors it carried to where it started (dlt's abort)."""
    try:
        pipeline.abort_packages()
    except PipelineStepFailed as exc:
        raise unwrap(exc) from None


def backfill(
    pipeline: dlt.Pipeline,
    start: str,
    end: str,
    resources: Sequence[str] | None = None,
    *,
    chunk_days: int = BACKFILL_CHUNK_DAYS,
    on_chunk: Callable[[str, str, RunSummary | None], None] | None = None,
    **source_args: Any,
) -> RunSummary:
    """Reload ``[start, end)`` chunk by chunk, leaving the incremental cursors where they are.

    Each chunk is its own load; its completion is recorded in the source state of that same load, so an
    interrupted backfill, run again with the same range and resources, skips the chunks already loaded.
    """
    names = validate_resources(list(resources) if resources else list(BACKFILL_RESOURCES))
    not_windowed = [n for n in names if n not in BACKFILL_RESOURCES]
    if not_windowed:
        raise ConfigError(f"backfill reloads time-windowed tables only; {', '.join(not_windowed)} "
                          f"are loaded whole by 'pendo-elt run'")
    first, last = _date("start", start), _date("end", end)
    if last <= first:
        raise ConfigError(f"--end {end} must be after --start {start}")
    if first > pendulum.today("UTC").date():
        raise ConfigError(f"--start {start} is in the future")
    chunks = [(d, min(d.add(days=chunk_days), last)) for d in _days(first, last, chunk_days)]
    key = f"{first}..{last}:{','.join(sorted(names))}"
    total = RunSummary()
    with PipelineLock(pipeline.pipelines_dir, pipeline.pipeline_name):
        refresh.recover(pipeline)
        done = _backfill_done(pipeline, key)
        fresh = done is None
        for chunk_start, chunk_end in chunks:
            label = chunk_start.to_date_string()
            if done and label in done:
                total.skipped_chunks += 1
                if on_chunk:
                    on_chunk(label, chunk_end.to_date_string(), None)
                continue
            progress = {"key": key, "chunk": label, "total": len(chunks), "fresh": fresh}
            with writer_lock.writing(pipeline, writer_lock.chunk_days(chunk_start, chunk_end)):
                summary = _run_locked(pipeline, names, False, {
                    **source_args, "start_date": label, "end_date": chunk_end.to_date_string(),
                    "backfill_progress": progress,
                })
            fresh = False
            release_memory()  # the next chunk starts from what this one left resident
            total.add(summary)
            total.load_info = summary.load_info
            if on_chunk:
                on_chunk(label, chunk_end.to_date_string(), summary)
    return total


def _backfill_done(pipeline: dlt.Pipeline, key: str) -> list[str] | None:
    """Chunks of an unfinished backfill with this key; None when there is none (or it completed)."""
    try:
        pipeline.sync_destination()
    except Exception:  # noqa: BLE001 - an unreachable destination fails the first chunk with a clear error
        return None
    entry = pipeline.state.get("sources", {}).get("pendo", {}).get("backfills", {}).get(key)
    if not entry or len(entry.get("done", [])) >= entry.get("total", 0):
        return None
    return list(entry["done"])


def _date(name: str, value: str) -> pendulum.Date:
    try:
        parsed = pendulum.parse(str(value), strict=True, exact=True)
    except (ValueError, pendulum.parsing.exceptions.ParserError):
        parsed = None
    if not isinstance(parsed, pendulum.Date) or isinstance(parsed, pendulum.DateTime):
        raise ConfigError(f"--{name} must be a date as YYYY-MM-DD, got {value!r}")
    return parsed


def _days(first: pendulum.Date, last: pendulum.Date, step: int) -> list[pendulum.Date]:
    days, current = [], first
    while current < last:
        days.append(current)
        current = current.add(days=step)
    return days


def _destination_name(pipeline: dlt.Pipeline) -> str:
    return pipeline.destination.destination_name if pipeline.destination else "duckdb"


def causes(exc: BaseException) -> list[BaseException]:
    """The chain of an error: dlt keeps the real one in ``.exception`` as well as in ``__cause__``."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not c for c in chain):
        chain.append(current)
        nested = getattr(current, "exception", None)
        current = nested if isinstance(nested, BaseException) else (current.__cause__ or current.__context__)
    return chain


def unwrap(exc: BaseException) -> BaseException:
    """The user-facing :class:`PendoError` inside a dlt failure (resource errors nest deeply), else ``exc``."""
    return next((e for e in causes(exc) if isinstance(e, PendoError)), exc)


def table_counts(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Rows per data table as stored in the destination (delete markers never are)."""
    schema = pipeline.default_schema
    tables = sorted(t for t in schema.data_table_names() if not t.startswith("_dlt"))
    counts: dict[str, int] = {}
    with pipeline.sql_client() as client:
        for table in tables:
            try:
                rows = client.execute_sql(f"SELECT COUNT(*) FROM {client.make_qualified_table_name(table)}")
            except Exception:  # noqa: BLE001 - a table in the schema may not exist yet in the destination
                continue
            counts[table] = int(rows[0][0])
    return counts
