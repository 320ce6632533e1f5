"""Verification: fingerprint a range of buckets on both sides, diff them, and plan the repairs.

``pendo-elt run`` verifies the unsettled buckets (the last ``settle_days`` before the cursor bucket) and the
whole loaded history of entities whose tagging rules changed; ``pendo-elt verify`` any range. A bucket older
than the horizon whose fingerprint matched is final: Pendo's own Data Sync treats a day as final ~9 days on.

Pendo-side fingerprint queries obey its limits like any window: a window refused with "Query exceeded memory
limit" (or a timeout) is split; one that cannot be split further, or that Pendo refuses as a bad request, cannot
be compared, so its buckets count as differing and are re-extracted whole.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pendulum

from sources.pendo import fingerprints as fp
from sources.pendo.client import PendoClient
from sources.pendo.config import PendoConfig
from sources.pendo.diff import BucketRepair, differing, plan_repairs
from sources.pendo.errors import PendoRequestError, WindowTooLargeError
from sources.pendo.settings import ENTITY_FIELDS, RAW_EVENT_SOURCES, ROLLUP_SOURCES, SINGLE_EVENT_SOURCES
from sources.pendo.windows import Window, bucket_starts, incremental_start, plan_windows, split_window

logger = logging.getLogger("pendo_elt")

EVENT_TABLES = (*ROLLUP_SOURCES, *SINGLE_EVENT_SOURCES)  # the tables whose rewrites a run counts
EVENTS_ENTITY_FIELD = "appId"  # `events` fingerprints group by app; its repairs are whole buckets


class Warehouse(Protocol):
    """What verification reads from the destination (``pipelines.warehouse_fingerprints``)."""

    def bucket_range(self, table: str, period: str) -> tuple[int, int] | None: ...

    def fingerprints(self, table: str, period: str, start_ms: int, end_ms: int,
                     entities: Sequence[str] | None = None) -> dict[fp.Key, fp.Fingerprint]: ...

    def entity_versions(self, table: str) -> dict[str, int | None] | None: ...


@dataclass
class TableSync:
    """Counters of one table's verification and repair in a run (summed over the run's passes)."""

    buckets_checked: int = 0
    keys_differing: int = 0
    buckets_differing: int = 0
    buckets_repaired: int = 0
    fingerprint_rows: int = 0
    fingerprint_requests: int = 0
    rows_replaced: int = 0  # warehouse rows deleted by bucket replacement (new rows are counted as loaded)
    rows_set_aside: int = 0  # loaded rows that went to the side table of a diff-applied scope, not to the table
    rows_applied_deleted: int = 0  # rows the apply of set-aside scopes deleted from the table
    rows_applied_inserted: int = 0  # rows it inserted (set-aside rows that the table did not hold already)

    @property
    def rows_deleted(self) -> int:
        return self.rows_replaced + self.rows_applied_deleted

    def rows_inserted(self, loaded: int) -> int:
        """Of the ``loaded`` rows of the table, those loaded into it, plus those applied from its side table."""
        return max(loaded - self.rows_set_aside, 0) + self.rows_applied_inserted
    unverifiable_windows: int = 0


@dataclass
class SyncStats:
    """Shared by the event resources of one source instance; read by the runner for the summary."""

    tables: dict[str, TableSync] = field(default_factory=dict)
    refusal_logged: bool = False
    clients: list[PendoClient] = field(default_factory=list)  # whose requests this run sent
    # (table, bucket ms) -> what this run learnt about the bucket: rows, fingerprint, verified/extracted, final
    buckets: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)

    def record(self, table: str, bucket_ms: int, **facts: Any) -> None:
        self.buckets.setdefault((table, bucket_ms), {}).update(facts)

    def table(self, name: str) -> TableSync:
        return self.tables.setdefault(name, TableSync())

    @property
    def requests_sent(self) -> int:
        return sum(c.requests_sent for c in self.clients)

    @property
    def fingerprint_rows(self) -> int:
        return sum(t.fingerprint_rows for t in self.tables.values())

    @property
    def rows_replaced(self) -> int:
        return sum(t.rows_replaced for t in self.tables.values())

    @property
    def rows_deleted(self) -> int:
        """Event-table rows deleted: by whole replacement and by applied differences."""
        return sum(t.rows_deleted for t in self.tables.values())

    def rows_inserted(self, loaded: dict[str, int]) -> int:
        """Event-table rows inserted, from the rows each table loaded (``loaded``): those loaded into the table
        itself, plus those a difference applied from its side table."""
        return sum(self.tables.get(name, TableSync()).rows_inserted(loaded.get(name, 0)) for name in EVENT_TABLES)


@dataclass
class Verification:
    """The outcome of comparing one table over one range."""

    table: str
    window: Window | None
    pendo: dict[fp.Key, fp.Fingerprint]
    warehouse: dict[fp.Key, fp.Fingerprint]
    keys: set[fp.Key]
    repairs: list[BucketRepair]
    buckets_checked: int


def entity_field(table: str) -> str:
    return ENTITY_FIELDS[table][0] if table in ENTITY_FIELDS else EVENTS_ENTITY_FIELD


def unsettled_window(
    cfg: PendoConfig, warehouse: Warehouse, table: str, now: pendulum.DateTime, extract_start: pendulum.DateTime
) -> Window | None:
    """``[max(first loaded bucket, floor(now) - settle_days), extract_start)``, or None when empty."""
    loaded = warehouse.bucket_range(table, cfg.period)
    if loaded is None or cfg.settle_days == 0:
        return None
    first = pendulum.from_timestamp(loaded[0] / 1000)
    start = incremental_start(now, first, cfg.settle_days, cfg.period, cfg.timezone)
    return Window(start, extract_start) if start < extract_start else None


def verify(
    client: PendoClient,
    cfg: PendoConfig,
    warehouse: Warehouse,
    table: str,
    source: str,
    window: Window,
    stats: SyncStats,
    entities: Sequence[str] | None = None,
    now: pendulum.DateTime | None = None,
) -> Verification:
    """Fingerprint ``window`` (only ``entities`` when given) on both sides and plan the repairs.

    ``now`` is Pendo's clock: it decides which matching buckets are final."""
    sync = stats.table(table)
    pendo, unknown = pendo_fingerprints(client, cfg, table, source, window, stats, entities)
    held = warehouse.fingerprints(table, cfg.period, window.start_ms, window.end_ms, entities)
    keys = differing(pendo, held)
    buckets = {b for b, _ in keys} | unknown
    repairs = plan_repairs(keys, pendo, held, by_entity=table in ENTITY_FIELDS, whole_buckets=unknown)
    starts = [int(b.timestamp() * 1000) for b in bucket_starts(window, cfg.period, cfg.timezone)]
    checked = len(starts)
    sync.buckets_checked += checked
    if entities is None:
        _record_verified(cfg, stats, table, starts, pendo, buckets, now or pendulum.now("UTC"))
    sync.keys_differing += len(keys)
    sync.buckets_differing += len(buckets)
    return Verification(table, window, pendo, held, keys, repairs, checked)


def _record_verified(cfg: PendoConfig, stats: SyncStats, table: str, starts: list[int],
                     pendo: dict[fp.Key, fp.Fingerprint], differing_buckets: set[int], now: pendulum.DateTime) -> None:
    """Bucket state: Pendo's fingerprint of each bucket; a matching bucket past the horizon is final."""
    per_bucket: dict[int, list[tuple[str, fp.Fingerprint]]] = {}
    for (bucket, entity), value in pendo.items():
        per_bucket.setdefault(bucket, []).append((entity, value))
    verified_at = pendulum.now("UTC")
    horizon = incremental_start(now, pendulum.from_timestamp(0), max(cfg.settle_days - 1, 0), cfg.period, cfg.timezone)
    final_before = int(horizon.timestamp() * 1000)
    for bucket in starts:
        entries = sorted(per_bucket.get(bucket, []))
        digest = hashlib.sha1(repr(entries).encode(), usedforsecurity=False).hexdigest()
        matched = bucket not in differing_buckets
        stats.record(table, bucket, rows=int(sum(v[0] for _, v in entries)), fingerprint=digest,
                     verified_at=verified_at, final=matched and bucket < final_before, matched=matched)


def pendo_fingerprints(
    client: PendoClient,
    cfg: PendoConfig,
    table: str,
    source: str,
    window: Window,
    stats: SyncStats,
    entities: Sequence[str] | None = None,
) -> tuple[dict[fp.Key, fp.Fingerprint], set[int]]:
    """Pendo's fingerprints of ``window``, and the buckets it could not fingerprint."""
    single = table in SINGLE_EVENT_SOURCES or table in RAW_EVENT_SOURCES  # raw events count like them
    if single:
        buckets = plan_windows(window.start, window.end, cfg.period, cfg.timezone, 1)
        return _single(client, cfg, table, source, buckets, stats, entities)
    return _rollup(client, cfg, table, source, window, stats, entities)


def _rollup(client: PendoClient, cfg: PendoConfig, table: str, source: str, window: Window, stats: SyncStats,
            entities: Sequence[str] | None) -> tuple[dict[fp.Key, fp.Fingerprint], set[int]]:
    app_ids = list(cfg.app_ids) if cfg.app_ids else None
    body = fp.rollup_fingerprint_body(source, entity_field(table), window, cfg.period, cfg.timezone, app_ids,
                                      entities)
    try:
        rows = _ask(client, body, f"{table} fingerprint {window}", stats.table(table))
    except WindowTooLargeError as exc:
        halves = split_window(window, cfg.timezone, min_period=cfg.period)
        if halves is None:
            return {}, _unverifiable(window, cfg, table, stats, str(exc))
        logger.warning("%s; splitting the fingerprint of %s", exc, window)
        result: dict[fp.Key, fp.Fingerprint] = {}
        unknown: set[int] = set()
        for half in halves:
            got, lost = _rollup(client, cfg, table, source, half, stats, entities)
            result.update(got)
            unknown |= lost
        return result, unknown
    except PendoRequestError as exc:
        return {}, _unverifiable(window, cfg, table, stats, str(exc))
    return fp.parse_fingerprints(rows, cfg.period, entity_field(table), single_events=False), set()


def _single(client: PendoClient, cfg: PendoConfig, table: str, source: str, buckets: list[Window],
            stats: SyncStats, entities: Sequence[str] | None) -> tuple[dict[fp.Key, fp.Fingerprint], set[int]]:
    if not buckets:
        return {}, set()
    app_ids = list(cfg.app_ids) if cfg.app_ids else None
    span = Window(buckets[0].start, buckets[-1].end)
    body = fp.single_fingerprint_body(source, entity_field(table), buckets, cfg.period, cfg.timezone, app_ids,
                                      entities)
    try:
        rows = _ask(client, body, f"{table} fingerprint {span}", stats.table(table))
    except WindowTooLargeError as exc:
        if len(buckets) == 1:
            return {}, _unverifiable(span, cfg, table, stats, str(exc))
        logger.warning("%s; splitting the fingerprint of %s", exc, span)
        middle = len(buckets) // 2
        first, lost_first = _single(client, cfg, table, source, buckets[:middle], stats, entities)
        second, lost_second = _single(client, cfg, table, source, buckets[middle:], stats, entities)
        return {**first, **second}, lost_first | lost_second
    except PendoRequestError as exc:
        return {}, _unverifiable(span, cfg, table, stats, str(exc))
    return fp.parse_fingerprints(rows, fp.BUCKET_ALIAS, entity_field(table), single_events=True), set()


def _ask(client: PendoClient, body: dict, label: str, sync: TableSync) -> list[dict[str, Any]]:
    sync.fingerprint_requests += 1
    with client.aggregate(body, label, splittable=True) as spool:
        rows = [row for page in spool.pages() for row in page]
    sync.fingerprint_rows += len(rows)
    return rows


def _unverifiable(window: Window, cfg: PendoConfig, table: str, stats: SyncStats, reason: str) -> set[int]:
    """Buckets Pendo would not fingerprint: they count as differing and are re-extracted whole."""
    stats.table(table).unverifiable_windows += 1
    if not stats.refusal_logged:
        stats.refusal_logged = True
        logger.warning("Pendo would not answer a fingerprint query (%s); the buckets it covers are re-extracted "
                       "instead of compared (further refusals in this run are not logged)", reason)
    return {int(b.timestamp() * 1000) for b in bucket_starts(window, cfg.period, cfg.timezone)}
