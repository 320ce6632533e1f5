"""Windowed event queries: a shared pool of fetch threads, windows split on Pendo's memory limit, answers
converted to Arrow tables (rollups, and single events with the dict path's schema) before they are handed over.

Each window yields its pages only once its answer arrived whole, so dlt never sees a row of a partial answer.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pyarrow as pa

from sources.pendo import parse_turn, progress_events, quarantine
from sources.pendo.aggregation import rollup_body
from sources.pendo.bucket_rows import combine_hours_into_days, page_slices
from sources.pendo.client import PendoClient
from sources.pendo.config import PendoConfig
from sources.pendo.errors import WindowTooLargeError
from sources.pendo.event_columns import COLUMN_TYPES
from sources.pendo.memory import release_memory
from sources.pendo.settings import MIN_SPLIT_MS, PAGE_ROWS, WORKER_MIN_WINDOWS
from sources.pendo.single_event_table import single_event_page
from sources.pendo.spool import RowSpool
from sources.pendo.windows import Window, bucket_starts, split_window
from sources.pendo.worker_process import WindowWorker

logger = logging.getLogger("pendo_elt")

Page = list[dict] | pa.Table


class WindowPool:
    """One pool of ``concurrency`` fetchers shared by every event resource of a source instance.

    dlt extracts the event resources round-robin; with a pool each, ``concurrency`` windows per table were in
    flight at once. Shared, ``concurrency`` bounds the whole source. The pool starts with the first resource
    that fetches and shuts down when the last one finishes or fails, so no thread (and no worker process)
    outlives the extraction. Fetchers never wait for each other or for the consumer, so round-robin consumption
    cannot deadlock them. With ``worker_cfg`` the windows are fetched, parsed and converted in a worker process
    (``sources/pendo/worker_process.py``) so that work runs beside dlt's in this one; without, in threads here.
    """

    def __init__(self, workers: int, worker_cfg: PendoConfig | None = None,
                 client: PendoClient | None = None) -> None:
        self.workers = workers
        self._worker_cfg, self._client = worker_cfg, client
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._process: WindowWorker | None = None
        self._users = 0
        self._failed = False

    @contextlib.contextmanager
    def session(self, windows: int = 0) -> Iterator[Callable[..., Future]]:
        """``submit(client, table, source, window, cfg, stages, single_events)``: a future of the window's parts.

        The first session chooses for the whole extraction: the worker process when it brings ``windows`` of
        at least ``WORKER_MIN_WINDOWS`` (a backfill, a first load); threads for a few windows, where starting a
        process (~1 s of CPU, ~100 MB) would cost more than it saves.
        """
        with self._lock:
            if self._executor is None and self._process is None:
                self._failed = False
                if self._worker_cfg is not None and windows >= WORKER_MIN_WINDOWS:
                    self._process = WindowWorker(self._worker_cfg, self._client)
                else:
                    self._executor = ThreadPoolExecutor(max_workers=self.workers,
                                                        thread_name_prefix="pendo-windows")
            self._users += 1
            executor, process = self._executor, self._process
        if process is not None:
            submit = functools.partial(_submit_to_worker, process)
        else:
            assert executor is not None
            submit = functools.partial(executor.submit, fetch_window_parts)
        try:
            yield submit
        except BaseException:  # an error, or dlt closing the resource early: windows in flight are not wanted
            self._failed = True
            raise
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    if executor is not None:
                        # Do not wait for a window still retrying after a failure: its rows would be thrown away.
                        executor.shutdown(wait=False, cancel_futures=True)
                    if process is not None:
                        process.stop(kill=self._failed)
                    self._executor = self._process = None
                    release_memory()  # the load step starts next and sets the peak: start it lean


def _submit_to_worker(process: WindowWorker, _client: PendoClient, table: str, source: str, window: Window,
                      _cfg: PendoConfig, stages: list[dict] | None, single_events: bool) -> Future:
    return process.submit(table, source, window, stages, single_events)


def fetch_windows(
    client: PendoClient,
    table: str,
    source: str,
    windows: list[Window],
    cfg: PendoConfig,
    pool: WindowPool,
    *,
    single_events: bool,
    stages: list[list[dict] | None] | None = None,
) -> Iterator[tuple[Window, Iterator[Page]]]:
    """Each window with its complete rows, in order, while the next windows are already being fetched.

    Up to ``cfg.concurrency`` windows of this table are queued on the source's shared ``pool``, so network and
    Pendo's work overlap with loading. A worker converts its answer to Arrow tables before it hands it over, so
    a window waiting to be loaded is compact. ``stages[i]`` are extra
    pipeline stages for ``windows[i]`` (an entity filter for a repair).
    """
    extra = list(stages) if stages is not None else [None] * len(windows)
    progress_events.windows_planned(table, windows, cfg.timezone)
    with pool.session(len(windows)) as submit:
        pending: deque[Future] = deque()

        def fetch(window: Window, more: list[dict] | None) -> Future:
            return submit(client, table, source, window, cfg, more, single_events)

        try:
            upcoming = iter(zip(windows, extra, strict=True))
            for window, more in itertools.islice(upcoming, cfg.concurrency):
                pending.append(fetch(window, more))
            for number, window in enumerate(windows, 1):
                parts = pending.popleft().result()
                next_window = next(upcoming, None)
                if next_window is not None:
                    pending.append(fetch(*next_window))
                yield window, progress_events.window_pages(table, number, len(windows), window, cfg.timezone,
                                                           itertools.chain.from_iterable(parts))
        finally:
            for future in pending:  # windows of this table not started yet; other tables' stay queued
                future.cancel()


def fetch_window_parts(client: PendoClient, table: str, source: str, window: Window, cfg: PendoConfig,
                       stages: list[dict] | None, single_events: bool) -> list[Iterable[Page]]:
    """One window's answer, whole, as pages (per part of a split window): what a fetcher hands over.

    The worker process calls this too (``sources/pendo/window_worker.py``), so both paths convert alike.
    """
    types = COLUMN_TYPES.get(table, {})
    with parse_turn.converting():  # parsed and converted one window at a time, however many are fetched
        return [_part_pages(part_period, spool, cfg, single_events, types)
                for part_period, _part, spool in _fetch_adaptive(client, table, source, window, cfg.period, cfg,
                                                                 stages)]


def _part_pages(part_period: str, spool: RowSpool, cfg: PendoConfig, single_events: bool,
                column_types: dict[str, str] | None = None) -> Iterable[Page]:
    """Pages of one answer, converted now; an answer spooled to disk (a huge one) is converted as it is loaded."""
    pages = _convert(part_period, spool, cfg, single_events, column_types or {})
    return pages if spool.on_disk else list(pages)


def _convert(part_period: str, spool: RowSpool, cfg: PendoConfig, single_events: bool,
             column_types: dict[str, str]) -> Iterator[Page]:
    """Rows of one answer; a day fetched hour by hour is summed back into day rows as Pendo does. Single events
    are typed by ``column_types`` (``event_columns.COLUMN_TYPES`` of their table)."""
    with spool:
        if single_events:
            for page in spool.pages(PAGE_ROWS):
                good, bad = quarantine.screen_single_events(page)
                if bad:
                    yield quarantine.Rejected(bad)
                if good:
                    yield single_event_page(good, cfg.period, cfg.timezone, column_types)
        elif part_period == cfg.period:
            for page in spool.pages(PAGE_ROWS):
                yield from quarantine.rollup_pages(page)
        else:
            for page in page_slices(combine_hours_into_days(spool, cfg.timezone)):
                yield from quarantine.rollup_pages(page)


def _fetch_adaptive(
    client: PendoClient, table: str, source: str, window: Window, period: str, cfg: PendoConfig,
    stages: list[dict] | None = None,
) -> Iterator[tuple[str, Window, RowSpool]]:
    body = rollup_body(source, window, period, cfg.timezone, list(cfg.app_ids) if cfg.app_ids else None,
                       stages=stages)
    try:
        yield period, window, client.aggregate(body, f"{table} {window}", splittable=True)
        return
    except WindowTooLargeError as exc:
        if window.end_ms - window.start_ms <= MIN_SPLIT_MS:
            raise exc.at_smallest_window() from None
        logger.warning("%s; splitting %s", exc, window)
    halves = split_window(window, cfg.timezone)
    assert halves is not None  # windows longer than one hour always split
    if period == "day" and len(bucket_starts(window, "day", cfg.timezone)) == 1:
        # Below one day Pendo cannot answer in dayRange: fetch the day's hours into one spool, so the caller
        # sums every hour of the day together (summing each half separately would split day rows).
        day_hours = RowSpool()
        for half in halves:
            for _, _, spool in _fetch_adaptive(client, table, source, half, "hour", cfg, stages):
                for page in spool.pages(PAGE_ROWS):
                    for row in page:
                        day_hours.append(row)
        yield "hour", window, day_hours
        return
    for half in halves:
        yield from _fetch_adaptive(client, table, source, half, period, cfg, stages)
