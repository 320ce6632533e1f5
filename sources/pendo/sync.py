"""The plan of one event resource's extraction: repairs found by verification, then the new buckets.

An incremental run (a) re-extracts ``[cursor bucket, now)`` whole, as always (the cursor bucket is the last,
possibly partial one); (b) fingerprints the unsettled buckets before it on both sides and re-extracts only the
(bucket, entity) pairs that differ; (c) for entities whose tagging rules changed since the warehouse last saw
them, fingerprints their whole loaded history and repairs what differs. A backfill replaces its range whole. A
verify-and-repair run (``pendo-elt verify --repair``) only repairs what differs in its range. Repairs never move
cursors.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dlt
import pendulum

from sources.pendo import entity_lists, settle
from sources.pendo.client import PendoClient
from sources.pendo.config import PendoConfig
from sources.pendo.repair import Job, bucket_window, repair_jobs, replacement_jobs
from sources.pendo.settings import RAW_EVENT_SOURCES, SINGLE_EVENT_SOURCES
from sources.pendo.windows import Window, floor_to_bucket, plan_windows

logger = logging.getLogger("pendo_elt")

# Event table -> the entity list whose rule edits reprocess its history (table name, list endpoint).
RULE_ENTITIES: dict[str, tuple[str, str]] = {
    "page_events": ("pages", "page"),
    "feature_events": ("features", "feature"),
    "track_events": ("track_types", "tracktype"),
}


@dataclass
class Context:
    client: PendoClient
    cfg: PendoConfig
    warehouse: settle.Warehouse
    stats: settle.SyncStats
    table: str
    source: str
    now: pendulum.DateTime | None = None  # Pendo's clock

    @property
    def single(self) -> bool:
        return self.table in SINGLE_EVENT_SOURCES or self.table in RAW_EVENT_SOURCES  # raw events too


def incremental_jobs(
    ctx: Context,
    start: pendulum.DateTime,
    end: pendulum.DateTime,
    now: pendulum.DateTime,
    *,
    verified: bool,
    changed_entities: Callable[[], Sequence[str]] | None = None,
) -> list[Job]:
    """Repairs (when ``verified``: the run has loaded before) followed by the replacement of ``[start, end)``."""
    cfg = ctx.cfg
    jobs: list[Job] = []
    if verified:
        unsettled = settle.unsettled_window(cfg, ctx.warehouse, ctx.table, now, start)
        if unsettled is not None:
            jobs += verify_jobs(ctx, unsettled)
        if changed_entities is not None:
            jobs += rule_edit_jobs(ctx, changed_entities(), unsettled.start if unsettled else start)
    window_buckets = cfg.window_days * (1 if cfg.period == "day" else 24)
    windows = plan_windows(start, end, cfg.period, cfg.timezone, window_buckets)
    if windows:
        held = ctx.warehouse.fingerprints(ctx.table, cfg.period, windows[0].start_ms, windows[-1].end_ms)
        # A verified run diff-applies its new buckets too: today's bucket is mostly the rows the warehouse has.
        replacing = replacement_jobs(cfg, ctx.table, windows, held, single_events=ctx.single,
                                     advances_cursor=not cfg.backfill, diff=verified)
        _count(ctx, replacing)
        jobs += replacing
    return jobs


def verify_jobs(ctx: Context, window: Window, entities: Sequence[str] | None = None) -> list[Job]:
    """Fingerprint ``window`` on both sides and return the repairs of what differs."""
    found = settle.verify(ctx.client, ctx.cfg, ctx.warehouse, ctx.table, ctx.source, window, ctx.stats, entities,
                          now=ctx.now)
    held = found.warehouse
    if entities is not None and any(r.entities is None for r in found.repairs):
        # A bucket repaired whole deletes every pair the warehouse holds in it, not only the filtered entities'.
        for repair in found.repairs:
            if repair.entities is None:
                bucket = repair.bucket_ms
                end = bucket_window(ctx.cfg, bucket).end_ms
                held = {**held, **ctx.warehouse.fingerprints(ctx.table, ctx.cfg.period, bucket, end)}
    jobs = repair_jobs(ctx.cfg, ctx.table, found.repairs, held, single_events=ctx.single, diff=True)
    ctx.stats.table(ctx.table).buckets_repaired += len(jobs)
    _count(ctx, jobs)
    return jobs


def rule_edit_jobs(ctx: Context, entities: Sequence[str], before: pendulum.DateTime) -> list[Job]:
    """Entities whose rules changed: verify the table's whole loaded history before ``before`` (the unsettled
    buckets and the new ones are verified or replaced anyway).

    Every entity is compared, not only the edited ones: a reprocessed tag also moves rows to other entities of its
    app (they now match another rule) whose ``lastUpdatedAt`` does not move. The fingerprints are one row per
    (bucket, entity), small next to the rows; only the pairs that differ are re-extracted.
    """
    if not entities:
        return []
    loaded = ctx.warehouse.bucket_range(ctx.table, ctx.cfg.period)
    if loaded is None or loaded[0] >= int(before.timestamp() * 1000):
        return []
    logger.info("%s: tagging rules of %d entities changed; verifying the loaded history", ctx.table, len(entities))
    return verify_jobs(ctx, Window(pendulum.from_timestamp(loaded[0] / 1000), before))


def changed_entities(
    pendo_versions: dict[str, int | None], warehouse_versions: dict[str, int | None] | None
) -> list[str]:
    """Entities added, removed, or whose ``lastUpdatedAt`` moved since the warehouse's copy (None: no copy yet)."""
    if not warehouse_versions:
        return []
    ids = pendo_versions.keys() | warehouse_versions.keys()
    return sorted(i for i in ids if pendo_versions.get(i, -1) != warehouse_versions.get(i, -1))


def _count(ctx: Context, jobs: list[Job]) -> None:
    """Rows the replaced jobs delete; a diff-applied job's deletes are counted when applied."""
    ctx.stats.table(ctx.table).rows_replaced += sum(job.rows_replaced for job in jobs if job.scopes is None)


# --- what the event resources of one source instance share ------------------------------------------------
class EntityLists:
    """Each entity list fetched once per source instance: loaded as a table and compared for rule edits."""

    def __init__(self, client: PendoClient, cfg: PendoConfig) -> None:
        self._client, self._cfg = client, cfg
        self._lists: dict[str, list[dict]] = {}
        self._lock = threading.Lock()

    def get(self, endpoint: str) -> list[dict]:
        with self._lock:
            if endpoint not in self._lists:
                self._lists[endpoint] = entity_lists.fetch_entities(self._client, endpoint, self._cfg.app_ids)
            return self._lists[endpoint]


class Syncing:
    """What the event resources share for verification: the warehouse reader, counters, entity lists."""

    def __init__(self, warehouse: Any, stats: settle.SyncStats, lists: EntityLists | None,
                 verify_range: tuple[int, int] | None) -> None:
        self._warehouse, self.stats, self.lists, self.verify_range = warehouse, stats, lists, verify_range

    def warehouse(self) -> Any:
        if self._warehouse is None:
            from pipelines.warehouse_fingerprints import WarehouseFingerprints  # the pipeline running this source

            self._warehouse = WarehouseFingerprints(dlt.current.pipeline())
        return self._warehouse

    def rule_edits(self, table: str) -> Callable[[], list[str]] | None:
        """A callable listing the entities of ``table`` whose rules changed since the warehouse's copy."""
        if table not in RULE_ENTITIES or self.lists is None:
            return None
        list_table, endpoint = RULE_ENTITIES[table]

        def changed() -> list[str]:
            held = self.warehouse().entity_versions(list_table)
            if not held:
                return []
            current = {str(e["id"]): _ms_or_none(e.get("last_updated_at")) for e in self.lists.get(endpoint)}
            return changed_entities(current, held)

        return changed


def _ms_or_none(value: Any) -> int | None:
    if value is None:
        return None
    if hasattr(value, "timestamp"):
        return int(round(value.timestamp() * 1000))
    return int(value)


def window_of(start_ms: int, end_ms: int, cfg: PendoConfig) -> Window:
    """``[start, end)`` with the start floored to its bucket (a verify range from the command line)."""
    first = floor_to_bucket(pendulum.from_timestamp(start_ms / 1000), cfg.period, cfg.timezone)
    return Window(first, pendulum.from_timestamp(end_ms / 1000))
