"""Pendo source for dlt: object lists, visitors and accounts, and windowed event data, exactly once.

    from sources.pendo import pendo_source
    pipeline.run(pendo_source(start_date="2026-01-01").with_resources("page_events", "visitors"))

Every argument can come from ``.dlt/config.toml`` / ``.dlt/secrets.toml`` (section ``[sources.pendo]``) or the
environment (``SOURCES__PENDO__<ARG>``). Tables keep tap-pendo's stream names.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote

import dlt
import pendulum
from dlt.sources import DltResource

from sources.pendo import entity_lists, fresh_buckets, pending, people_paging, sync, window_fetch
from sources.pendo import extra_resources as extra
from sources.pendo.apps import apps_resource
from sources.pendo.arrow import JSON_FIELDS
from sources.pendo.client import PendoClient
from sources.pendo.columns import stable_columns
from sources.pendo.config import PendoConfig
from sources.pendo.errors import ConfigError, PendoError
from sources.pendo.event_columns import typed_events
from sources.pendo.event_state import PendoClock, event_range, event_state, record_backfill_chunk
from sources.pendo.extra_resources import parse_report_ids
from sources.pendo.quarantine import Hold, is_rejected
from sources.pendo.repair import refuse_rows_without_entity, rows_per_bucket
from sources.pendo.scope import ScopeGuard
from sources.pendo.settings import (
    DEFAULT_CONCURRENCY,
    DEFAULT_LOOKBACK_DAYS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_PAGE_SIZE,
    DEFAULT_PERIOD,
    DEFAULT_REGION,
    DEFAULT_REQUEST_TIMEOUT_S,
    DEFAULT_RESOURCES,
    DEFAULT_RETRY_BACKOFF_S,
    DEFAULT_SETTLE_DAYS,
    DEFAULT_TIMEZONE,
    DEFAULT_WINDOW_DAYS,
    DEFAULT_WORKER_PROCESS,
    ENTITY_ENDPOINTS,
    ENTITY_FIELDS,
    LASTUPDATED_COLUMN,
    PEOPLE_SOURCES,
    PRODUCT_AREA_TABLES,
    RAW_EVENT_SOURCES,
    ROLLUP_SOURCES,
    SINGLE_EVENT_SOURCES,
    TOMBSTONE_COLUMN,
)
from sources.pendo.settle import SyncStats
from sources.pendo.shaping import metadata_field_rows, shape
from sources.pendo.single_event_table import DLT_ID, DLT_ID_HINTS, with_load_id
from sources.pendo.source_settings import pendo_client, settings_from
from sources.pendo.windows import bucket_starts, floor_to_bucket, plan_windows

__all__ = ["pendo_source", "PendoError", "ConfigError"]

logger = logging.getLogger("pendo_elt")


@dlt.source(name="pendo", max_table_nesting=2)
def pendo_source(
    integration_key: str = dlt.secrets.value,
    region: str = DEFAULT_REGION,
    base_url: str | None = None,
    app_ids: Any = None,
    start_date: str | None = None,
    end_date: str | None = None,
    period: str = DEFAULT_PERIOD,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    settle_days: int = DEFAULT_SETTLE_DAYS,
    subscription_timezone: str = DEFAULT_TIMEZONE,
    include_anonymous_visitors: bool = False,
    window_days: int = DEFAULT_WINDOW_DAYS,
    concurrency: int = DEFAULT_CONCURRENCY,
    page_size: int = DEFAULT_PAGE_SIZE,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT_S,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    retry_backoff_seconds: float = DEFAULT_RETRY_BACKOFF_S,
    worker_process: bool = DEFAULT_WORKER_PROCESS,
    report_ids: Any = None,
    backfill_progress: dict | None = None,
    warehouse: Any = None,
    sync_stats: SyncStats | None = None,
    verify_range: tuple[int, int] | None = None,
) -> Sequence[DltResource]:
    """All Pendo resources; ``visitor_history`` is present but deselected (one request per visitor per day).

    Args:
        integration_key: Pendo integration key (secret).
        region: us, eu, us1, jpn or au; picks the API host.
        base_url: overrides region (custom domains, the simulator); https unless loopback.
        app_ids: app ids to extract; default all apps (``expandAppIds("*")``).
        start_date: YYYY-MM-DD where the first run starts; default 30 days before now.
        end_date: YYYY-MM-DD (exclusive); set it to backfill a closed range without touching cursors.
        period: day or hour buckets for event tables; changing it needs a full refresh.
        lookback_days: trailing days re-extracted whole on every run (a blanket re-read; 0 by default).
        settle_days: days before the cursor bucket fingerprinted against Pendo on every run; only the (bucket,
            entity) pairs that differ are re-extracted. Older buckets that matched are final.
        subscription_timezone: the Pendo subscription's time zone; day buckets follow it.
        include_anonymous_visitors: also load ``_PENDO_T_`` visitors.
        window_days: days per event query (split automatically when Pendo refuses a window).
        concurrency: event windows requested at once, all event tables together (fetching overlaps loading).
        page_size: rows per visitors/accounts keyset page.
        request_timeout: seconds to wait for one answer.
        max_attempts: attempts per request on 429, 5xx, timeouts and cut bodies.
        retry_backoff_seconds: base of the exponential backoff between attempts.
        worker_process: fetch, parse and convert event windows in a worker process, beside dlt's work here.
        report_ids: saved-report ids whose rows ``report_results`` loads; none by default.
        backfill_progress: set by ``pendo-elt backfill``: ``{"key", "chunk", "total", "fresh"}`` records this
            chunk as done in the source state, committed atomically with its rows, so a rerun skips it.
        warehouse: reads the destination's fingerprints (``pipelines.warehouse_fingerprints``); default: the
            pipeline running this source.
        sync_stats: filled with verification counters per table (the runner's summary reads it).
        verify_range: set by ``pendo-elt verify --repair``: ``(start ms, end ms)``; the event tables then only
            repair what differs from Pendo in that range, and no cursor moves.
    """
    cfg = settings_from(locals())  # the arguments above that are settings, validated (sources/pendo/source_settings.py)
    client = pendo_client(cfg)
    clock = PendoClock(client)
    # one bound on windows in flight for all event tables; fetched and parsed in a worker process by default
    pool = window_fetch.WindowPool(cfg.concurrency, cfg if cfg.worker_process else None, client)
    scope = ScopeGuard(cfg)  # a widened app_ids / include_anonymous_visitors reloads the history it adds
    lists = sync.EntityLists(client, cfg)
    syncing = sync.Syncing(warehouse, sync_stats if sync_stats is not None else SyncStats(), lists, verify_range)
    syncing.stats.clients.append(client)

    resources: list[DltResource] = [entity_resource(client, cfg, t, e, lists) for t, e in ENTITY_ENDPOINTS.items()]
    resources.append(metadata_fields_resource(client))
    resources.append(apps_resource(client, cfg))
    resources += [people_resource(client, cfg, t, *spec, scope=scope) for t, spec in PEOPLE_SOURCES.items()]
    resources += [event_resource(client, cfg, clock, pool, t, s, single_events=False, progress=backfill_progress,
                                 syncing=syncing, scope=scope) for t, s in ROLLUP_SOURCES.items()]
    resources += [event_resource(client, cfg, clock, pool, t, s, single_events=True, progress=backfill_progress,
                                 syncing=syncing, scope=scope) for t, s in SINGLE_EVENT_SOURCES.items()]
    history = visitor_history_resource(client, cfg, clock, scope=scope)
    history.selected = False
    resources.append(history)
    resources += extra.extra_resources(client, cfg, parse_report_ids(report_ids))
    for table, source in RAW_EVENT_SOURCES.items():  # opt-in (--resources single_events): event-level rows
        raw = event_resource(client, cfg, clock, pool, table, source, single_events=True)
        raw.selected = False
        resources.append(raw)
    return resources


def entity_resource(
    client: PendoClient, cfg: PendoConfig, table: str, endpoint: str, lists: sync.EntityLists | None = None
) -> DltResource:
    """Full lists on every run (they are small): replace, so an entity deleted in Pendo leaves the table."""

    def entities() -> Iterator[list[dict]]:
        yield lists.get(endpoint) if lists else entity_lists.fetch_entities(client, endpoint, cfg.app_ids)

    resource = dlt.resource(entities, name=table, write_disposition="replace", primary_key="id")
    return extra.with_product_area_column(resource) if table in PRODUCT_AREA_TABLES else resource


def metadata_fields_resource(client: PendoClient) -> DltResource:
    def metadata_fields() -> Iterator[list[dict]]:
        for kind in ("visitor", "account"):
            yield metadata_field_rows(stable_columns(entity_lists.fetch_metadata_schema(client, kind)))

    return dlt.resource(metadata_fields, name="metadata_fields", write_disposition="replace",
                        primary_key=("kind", "group", "field"))


def people_resource(
    client: PendoClient, cfg: PendoConfig, table: str, source: str, id_field: str, id_column: str,
    scope: ScopeGuard | None = None,
) -> DltResource:
    """Visitors/accounts merged on their id, incremental on ``metadata.auto.lastupdated``."""

    def people() -> Iterator[Any]:
        state = {} if cfg.backfill else dlt.current.resource_state()
        reload = (scope or ScopeGuard(cfg)).reload(table, state, "cursor_ms")
        kind = "visitor" if source == "visitors" else "account"
        schema = stable_columns(entity_lists.fetch_metadata_schema(client, kind))
        lower = None
        if cfg.backfill:
            lower = int(cfg.start_date.timestamp() * 1000) if cfg.start_date else None
        elif "cursor_ms" in state and not reload:
            lower = state["cursor_ms"] - cfg.lookback_days * 86_400_000
        hints = dlt.mark.make_hints(columns=_new_column_hints(table, schema.column_hints()))
        first = True
        for rows in people_paging.fetch_people(client, source, id_field, schema, cfg, lower, state):
            yield dlt.mark.with_hints(rows, hints) if first else rows
            first = False
        schema.assigner.warn_once()  # fields outside the schema that met a taken column on the way

    # No nesting: a list in a metadata field outside the schema stays a JSON value, not a child table.
    # A visitor updated while a run pages through the keyset is met twice in that run (its new lastupdated sorts
    # after the cursor): the merge keeps the newest copy, not an arbitrary one.
    return dlt.resource(people, name=table, write_disposition="merge", primary_key=id_column, max_table_nesting=0,
                        columns={LASTUPDATED_COLUMN: {"dedup_sort": "desc"}})


def _new_column_hints(table: str, hints: dict[str, dict]) -> dict[str, dict]:
    """Type hints for metadata columns the table does not have yet.

    A column keeps the type it was created with: when Pendo retypes a field, re-hinting the column would make
    the destination cast old values and fail; unhinted, dlt stores values of the new type in a variant column
    (``<column>__v_<type>``) and nothing is lost.
    """
    existing = dlt.current.source_schema().tables.get(table, {}).get("columns", {})
    return {name: hint for name, hint in hints.items()
            if name not in existing or existing[name].get("data_type") in (None, hint.get("data_type"))}


def event_resource(
    client: PendoClient,
    cfg: PendoConfig,
    clock: PendoClock,
    pool: window_fetch.WindowPool,
    table: str,
    source: str,
    *,
    single_events: bool,
    progress: dict | None = None,
    syncing: sync.Syncing | None = None,
    scope: ScopeGuard | None = None,
) -> DltResource:
    """One query per window for all entities; a re-extracted (bucket, entity) replaces that pair's rows.

    Before the new buckets, the unsettled ones are verified against Pendo and only what differs is re-extracted
    (``sources.pendo.sync``).
    """
    period = cfg.period
    syncing = syncing or sync.Syncing(None, SyncStats(), None, None)
    entity = ENTITY_FIELDS.get(table)

    def events() -> Iterator[Any]:
        state = event_state(cfg)
        if (scope or ScopeGuard(cfg)).reload(table, state, "cursor"):
            state.pop("cursor")
        now = clock.now()
        ctx = sync.Context(client, cfg, syncing.warehouse(), syncing.stats, table, source, now)
        if syncing.verify_range is not None:
            start_ms, end_ms = syncing.verify_range
            end_ms = min(end_ms, int(now.timestamp() * 1000))
            jobs = sync.verify_jobs(ctx, sync.window_of(start_ms, end_ms, cfg)) if end_ms > start_ms else []
        else:
            start, end = event_range(cfg, state, now)
            jobs = sync.incremental_jobs(ctx, start, end, now, verified=not cfg.backfill and "cursor" in state,
                                         changed_entities=syncing.rule_edits(table))
        fetched = window_fetch.fetch_windows(client, table, source, [j.window for j in jobs], cfg, pool,
                                        single_events=single_events, stages=[j.stages for j in jobs])
        extracted_at = pendulum.now("UTC")
        load_id = dlt.current.load_package_state()["load_id"] if single_events else ""
        held = Hold(table, cfg.backfill)  # after a window with rejected rows the cursor stays: the next run re-extracts
        route = pending.PendingRoute(table, period, arrow=not single_events)
        diffable = route.usable
        chunk = progress.get("chunk") if progress else None
        appending = fresh_buckets.AppendRoute(table, chunk) if fresh_buckets.appends(jobs) else None  # nothing held
        for job, (window, pages) in zip(jobs, fetched, strict=True):
            counts: dict[int, int] = {}
            checked = (with_load_id(page, load_id) if single_events else page
                       for page in _checked_pages(table, period, held.watch(pages, period, window.start), counts))
            if job.scopes is not None and diffable:  # set aside, then applied as a difference (sources.pendo.pending)
                yield from route.job_items(job.scopes, job.tombstones, job.rows_replaced, checked)
            elif appending:
                yield from appending.items(checked)
            else:
                if job.scopes is not None:  # planned as a difference, but the table cannot be compared: replaced
                    syncing.stats.table(table).rows_replaced += job.rows_replaced
                if len(job.tombstones):
                    yield job.tombstones
                yield from checked
            for bucket in bucket_starts(window, period, cfg.timezone):
                ms = int(bucket.timestamp() * 1000)
                whole = {"rows": counts.get(ms, 0)} if job.stages is None else {}
                syncing.stats.record(table, ms, extracted_at=extracted_at, final=False, **whole)
            if job.advances_cursor and not clock.guessed and not held.active:
                state["cursor"] = min(bucket_starts(window, period, cfg.timezone)[-1],
                                      floor_to_bucket(now, period, cfg.timezone)).to_iso8601_string()
        syncing.stats.table(table).rows_set_aside += route.rows
        syncing.stats.table(table).rows_replaced += route.rows_replaced
        if progress and not held.active:
            record_backfill_chunk(progress)

    # Entity tables replace (bucket, entity) pairs; a dataset loaded when the key was the bucket alone keeps working
    # (the key only widens: every bucket replacement now marks each pair the warehouse holds).
    return typed_events(table, dlt.resource(
        events,
        name=table,
        write_disposition=fresh_buckets.MERGE_DISPOSITION,
        merge_key=(period, entity[1]) if entity else period,
        columns={
            period: {"data_type": "timestamp", "nullable": False},
            TOMBSTONE_COLUMN: {"data_type": "bool", "hard_delete": True},
            # dlt gives dict rows' _dlt_id these hints; single events arrive as Arrow pages with their own _dlt_id
            **({DLT_ID: DLT_ID_HINTS} if single_events else {f: {"data_type": "json"} for f in JSON_FIELDS}),
        },
    ))


def _checked_pages(table: str, period: str, pages: Iterator[Any], counts: dict[int, int]) -> Iterator[Any]:
    """Pages as they go: rows without their entity refused, rows counted per bucket (rejected rows count for none)."""
    for page in pages:
        if not is_rejected(page):
            refuse_rows_without_entity(table, page)
            for bucket, n in rows_per_bucket(page, period).items():
                counts[bucket] = counts.get(bucket, 0) + n
        yield page


def visitor_history_resource(
    client: PendoClient, cfg: PendoConfig, clock: PendoClock, scope: ScopeGuard | None = None
) -> DltResource:
    """Per-visitor activity, one GET per visitor per day (Pendo keeps about 180 days)."""

    def visitor_history() -> Iterator[list[dict]]:
        state = event_state(cfg)
        if (scope or ScopeGuard(cfg)).reload("visitor_history", state, "cursor"):
            state.pop("cursor")
        now = clock.now()
        start, end = event_range(cfg, state, now)
        days = [w.start for w in plan_windows(start, end, "day", cfg.timezone, 1)]
        schema = entity_lists.fetch_metadata_schema(client, "visitor")
        for page in people_paging.fetch_people(client, "visitors", "visitorId", schema, cfg, None, {}):
            for visitor in page:
                visitor_id = visitor["visitor_id"]
                for day in days:
                    items = client.get_json(f"/visitor/{_path_id(visitor_id)}/history",
                                            params={"starttime": int(day.timestamp() * 1000)})
                    rows = [{"visitor_id": visitor_id, "day": day, **shape(i)} for i in items or []]
                    yield [{"visitor_id": visitor_id, "day": day, TOMBSTONE_COLUMN: True}, *rows]
        if not cfg.backfill and days and not clock.guessed:
            state["cursor"] = days[-1].to_iso8601_string()

    return dlt.resource(
        visitor_history,
        name="visitor_history",
        write_disposition=fresh_buckets.MERGE_DISPOSITION,
        merge_key=("visitor_id", "day"),
        columns={"day": {"data_type": "timestamp", "nullable": False},
                 TOMBSTONE_COLUMN: {"data_type": "bool", "hard_delete": True}},
    )


def _path_id(visitor_id: str) -> str:
    return quote(visitor_id, safe="")


DEFAULT_RESOURCE_NAMES = DEFAULT_RESOURCES
