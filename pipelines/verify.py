"""``pendo-elt verify``: compare every loaded bucket with Pendo, and with ``--repair`` re-extract what differs.

The comparison is the one ``pendo-elt run`` makes for its unsettled buckets (``sources.pendo.settle``), over any
range: fingerprints computed by Pendo against the same grouping in SQL on the warehouse's actual rows. A repair
goes through the pipeline like a backfill (exactly-once replacement of the differing (bucket, entity) pairs,
cursors untouched); a second comparison then decides the exit code: 0 when nothing differs (any more), 1 when
drift remains.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dlt
import pendulum

from pipelines import deletions, writer_lock
from pipelines.lock import PipelineLock
from pipelines.run import BACKFILL_RESOURCES, RunSummary, _run_locked
from pipelines.warehouse_fingerprints import WarehouseFingerprints
from sources.pendo import settle
from sources.pendo.client import PendoClient
from sources.pendo.config import PendoConfig, parse_date, validate_resources
from sources.pendo.errors import ConfigError
from sources.pendo.event_state import PendoClock
from sources.pendo.settings import ROLLUP_SOURCES, SINGLE_EVENT_SOURCES
from sources.pendo.source_settings import configured_from, pendo_client
from sources.pendo.windows import Window, floor_to_bucket, plan_windows

logger = logging.getLogger("pendo_elt")
SOURCES = {**ROLLUP_SOURCES, **SINGLE_EVENT_SOURCES}


@dataclass
class TableVerification:
    table: str
    buckets_checked: int = 0
    buckets_differing: int = 0
    buckets_repaired: int = 0
    rows_read: int = 0  # fingerprint rows, plus the data rows a repair re-extracted
    remaining: int = 0  # buckets still differing after the repair (or without one)
    rows_deleted: int = 0  # warehouse rows the repair deleted (replaced, or differing from Pendo's answer)
    rows_inserted: int = 0  # rows it inserted


@dataclass
class VerifyResult:
    window: Window
    tables: dict[str, TableVerification] = field(default_factory=dict)
    repaired: bool = False
    deletions: Any = None

    @property
    def drift(self) -> bool:
        deleted_in_pendo = self.deletions is not None and self.deletions.drift and not self.deletions.applied
        return any(t.remaining for t in self.tables.values()) or deleted_in_pendo


def verify(
    pipeline: dlt.Pipeline,
    start: str | None = None,
    end: str | None = None,
    resources: Sequence[str] | None = None,
    *,
    repair: bool = False,
    **source_args: Any,
) -> VerifyResult:
    """Compare (and with ``repair`` fix) the event tables over ``[start, end)`` (default: all loaded history)."""
    source_args = {k: v for k, v in source_args.items() if k != deletions.SETTING}
    names = validate_resources(list(resources) if resources else list(BACKFILL_RESOURCES))
    not_windowed = [n for n in names if n not in SOURCES]
    if not_windowed:
        raise ConfigError(f"verify compares the event tables only; {', '.join(not_windowed)} are replaced or merged "
                          "whole by every 'pendo-elt run'")
    cfg = configured_from(source_args)
    client = pendo_client(cfg)
    try:
        # A repair rewrites buckets: it is a writer of the dataset like a run (pipelines/writer_lock.py).
        writing = writer_lock.writing(pipeline) if repair else contextlib.nullcontext()
        with PipelineLock(pipeline.pipelines_dir, pipeline.pipeline_name), writing:
            result = _verify_locked(pipeline, cfg, client, names, start, end, repair, source_args)
            if not resources:  # a whole verify also reconciles deleted visitors and accounts
                result.deletions = deletions.reconcile_deletions(pipeline, source_args, apply=repair)
            return result
    finally:
        client.close()


def _verify_locked(pipeline: dlt.Pipeline, cfg: PendoConfig, client: PendoClient, names: Sequence[str],
                   start: str | None, end: str | None, repair: bool, source_args: dict) -> VerifyResult:
    try:
        pipeline.sync_destination()
    except Exception:  # noqa: BLE001 - an unreachable destination fails below with the driver's own line
        logger.debug("could not restore the pipeline state from the destination", exc_info=True)
    warehouse = WarehouseFingerprints(pipeline)
    stored = pipeline.state.get("sources", {}).get("pendo", {}).get("period", cfg.period)
    if stored != cfg.period:
        raise ConfigError(f"sources.pendo.period is {cfg.period!r} but dataset '{pipeline.dataset_name}' was loaded "
                          f"with {stored!r}; verify with the period it was loaded with")
    loaded = [r for r in (warehouse.bucket_range(t, cfg.period) for t in names) if r is not None]
    if not loaded:
        raise ConfigError(f"dataset '{pipeline.dataset_name}' on {warehouse.destination} holds no loaded event table "
                          f"({', '.join(names)}); run 'pendo-elt run' first")
    window = _range(cfg, min(r[0] for r in loaded), max(r[1] for r in loaded), start, end)
    result = VerifyResult(window)
    if repair:
        summary = _repair(pipeline, names, window, source_args)
        for name in names:
            sync = summary.sync.table(name)
            read = sync.fingerprint_rows + summary.rows.get(name, 0)
            result.tables[name] = TableVerification(name, sync.buckets_checked, sync.buckets_differing,
                                                    sync.buckets_repaired, read, rows_deleted=sync.rows_deleted,
                                                    rows_inserted=sync.rows_inserted(summary.rows.get(name, 0)))
        result.repaired = True
    stats = settle.SyncStats()
    now = PendoClock(client).now()
    for name in names:
        found = settle.verify(client, cfg, warehouse, name, SOURCES[name], window, stats, now=now)
        row = result.tables.setdefault(name, TableVerification(name, found.buckets_checked))
        remaining = len({r.bucket_ms for r in found.repairs})
        row.remaining = remaining
        if not repair:
            row.buckets_differing = remaining
        row.rows_read += stats.table(name).fingerprint_rows
    return result


def _repair(pipeline: dlt.Pipeline, names: Sequence[str], window: Window, source_args: dict) -> RunSummary:
    return _run_locked(pipeline, names, False, {**source_args, "verify_range": (window.start_ms, window.end_ms)})


def _range(cfg: PendoConfig, first_ms: int, last_ms: int, start: str | None, end: str | None) -> Window:
    """The range to compare: the loaded history by default, else ``[start, end)``, which must lie inside it.

    The default stops before the newest loaded bucket: it is the cursor bucket, still filling in Pendo, and every
    run re-extracts it whole anyway.
    """
    tz = cfg.timezone
    first = pendulum.from_timestamp(first_ms / 1000)
    newest = pendulum.from_timestamp(last_ms / 1000)
    loaded_end = plan_windows(newest, newest.add(seconds=1), cfg.period, tz, 1)[0].end
    lower = _day("start", start, tz) or first
    upper = _day("end", end, tz) or (newest if newest > lower else loaded_end)
    if upper <= lower:
        raise ConfigError(f"--end {end or upper.to_date_string()} must be after --start "
                          f"{start or lower.to_date_string()}")
    if floor_to_bucket(lower, "day", tz) < floor_to_bucket(first, "day", tz) or upper > loaded_end:
        shown = f"{first.in_tz(tz).to_date_string()}..{loaded_end.in_tz(tz).to_date_string()}"
        raise ConfigError(f"--start/--end {start or '-'}..{end or '-'} is outside the loaded history ({shown}, "
                          f"{tz}); pick days inside it, or load them first with 'pendo-elt backfill'")
    return Window(max(floor_to_bucket(lower, cfg.period, tz), floor_to_bucket(first, cfg.period, tz)), upper)


def _day(name: str, value: str | None, tz: str) -> pendulum.DateTime | None:
    if value is None:
        return None
    try:
        return parse_date(name, value, tz)
    except ConfigError:
        raise ConfigError(f"--{name} must be a date as YYYY-MM-DD, got {value!r}") from None


def print_result(result: VerifyResult) -> None:
    """Per-table summary on stdout, then one line saying whether drift remains."""
    header = ("table", "buckets checked", "differing", "repaired", "rows read", "rows deleted", "rows inserted",
              "still differing")
    lines = [(t.table, f"{t.buckets_checked:,}", f"{t.buckets_differing:,}",
              f"{t.buckets_repaired:,}" if result.repaired else "-", f"{t.rows_read:,}",
              f"{t.rows_deleted:,}" if result.repaired else "-", f"{t.rows_inserted:,}" if result.repaired else "-",
              f"{t.remaining:,}") for t in result.tables.values()]
    widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(len(header))]
    for line in [header, *lines]:
        print("  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
    span = f"{result.window.start.to_iso8601_string()}..{result.window.end.to_iso8601_string()}"
    if result.deletions is not None:
        print(result.deletions.line())
    drifting = [t.table for t in result.tables.values() if t.remaining]
    if result.deletions is not None and result.deletions.drift and not result.deletions.applied:
        drifting.append("deleted visitors/accounts")
    if not drifting:
        print(f"no drift: every compared bucket of {span} equals Pendo")
    elif result.repaired:
        print(f"drift remains after the repair in {', '.join(drifting)} ({span}); Pendo may still be changing: "
              "run 'pendo-elt verify --repair' again later")
    else:
        print(f"drift in {', '.join(drifting)} ({span}); run 'pendo-elt verify --repair' to re-extract it")
