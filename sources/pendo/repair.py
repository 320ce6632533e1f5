"""What an event resource extracts, window by window, and the delete markers that make each a replacement.

The unit of replacement is (bucket, entity) for the entity tables (merge key ``(period, entity column)``) and the
bucket for ``events``. Replacing a whole bucket of an entity table therefore needs one delete marker per
(bucket, entity) pair the warehouse holds in it (read from the warehouse fingerprints); the new rows carry their
own keys. Replacing some entities of a bucket (a repair) marks only those pairs and filters Pendo's query to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pendulum
import pyarrow as pa
import pyarrow.compute as pc

from sources.pendo import bucket_rows, window_fetch
from sources.pendo.arrow import TIMESTAMP
from sources.pendo.config import PendoConfig
from sources.pendo.diff import BucketRepair
from sources.pendo.errors import PendoResponseError
from sources.pendo.fingerprints import Fingerprint, Key, entity_filter
from sources.pendo.pending import Scope, scopes_of
from sources.pendo.settings import ENTITY_FIELDS, TOMBSTONE_COLUMN
from sources.pendo.windows import Window, bucket_starts, plan_windows

Page = window_fetch.Page


@dataclass
class Job:
    """One window to extract: extra pipeline stages, the markers emitted before its rows, what they delete."""

    window: Window
    stages: list[dict] | None
    tombstones: Page
    rows_replaced: int
    advances_cursor: bool
    scopes: list[Scope] | None = None  # diff-applied (``sources.pendo.pending``): what it re-extracts; None: replaced


def replacement_jobs(
    cfg: PendoConfig, table: str, windows: Sequence[Window], held: Mapping[Key, Fingerprint], *, single_events: bool,
    advances_cursor: bool, diff: bool = False,
) -> list[Job]:
    """Whole-bucket replacement of consecutive windows; ``held`` are the warehouse's fingerprints over them.

    ``diff``: the buckets are diff-applied instead (the markers stay, for a page the table cannot take as is)."""
    jobs = []
    for window in windows:
        ordered = [_ms(b) for b in bucket_starts(window, cfg.period, cfg.timezone)]
        starts = set(ordered)
        pairs = [key for key in held if key[0] in starts]
        jobs.append(Job(window, None, _markers(cfg, table, window, pairs, single_events),
                        sum(int(held[k][0]) for k in pairs), advances_cursor,
                        scopes_of(None, ordered) if diff else None))
    return jobs


def repair_jobs(
    cfg: PendoConfig, table: str, repairs: Iterable[BucketRepair], held: Mapping[Key, Fingerprint], *,
    single_events: bool, diff: bool = False,
) -> list[Job]:
    """One job per bucket repair. ``held`` must hold every warehouse pair of the buckets repaired whole.

    ``diff``: the repaired pairs are diff-applied (``sources.pendo.pending``) instead of replaced."""
    jobs = []
    for repair in repairs:
        window = bucket_window(cfg, repair.bucket_ms)
        if repair.entities is None:
            pairs = [key for key in held if key[0] == repair.bucket_ms]
            stages = None
        else:
            pairs = [(repair.bucket_ms, e) for e in repair.entities]
            stages = [{"filter": entity_filter(ENTITY_FIELDS[table][0], repair.entities)}]
        replaced = sum(int(held[k][0]) for k in pairs if k in held)
        scopes = scopes_of(None if repair.entities is None else pairs, [repair.bucket_ms]) if diff else None
        jobs.append(Job(window, stages, _markers(cfg, table, window, pairs, single_events), replaced, False, scopes))
    return jobs


def bucket_window(cfg: PendoConfig, bucket_ms: int) -> Window:
    start = pendulum.from_timestamp(bucket_ms / 1000)
    return plan_windows(start, start.add(seconds=1), cfg.period, cfg.timezone, 1)[0]


def _markers(cfg: PendoConfig, table: str, window: Window, pairs: Sequence[Key], single_events: bool) -> Page:
    if table not in ENTITY_FIELDS:
        return bucket_rows.tombstones(window, cfg.period, cfg.timezone, arrow=not single_events)
    column = ENTITY_FIELDS[table][1]
    if single_events:
        return [{cfg.period: pendulum.from_timestamp(b / 1000), column: e, TOMBSTONE_COLUMN: True} for b, e in pairs]
    return pair_tombstone_table(cfg.period, column, pairs)


def pair_tombstone_table(period: str, column: str, pairs: Sequence[Key]) -> pa.Table:
    """Delete markers, one per (bucket, entity): the merge deletes those rows and inserts none of these."""
    schema = pa.schema([pa.field(period, TIMESTAMP, nullable=False), pa.field(column, pa.string()),
                        pa.field(TOMBSTONE_COLUMN, pa.bool_())])
    buckets = pa.array([b * 1000 for b, _ in pairs], type=pa.int64()).cast(TIMESTAMP)
    return pa.table([buckets, pa.array([e for _, e in pairs], type=pa.string()), pa.array([True] * len(pairs))],
                    schema=schema)


def refuse_rows_without_entity(table: str, page: Page) -> None:
    """A row without its entity id could never be deleted by the (bucket, entity) merge: refuse the load."""
    if table not in ENTITY_FIELDS:
        return
    field, column = ENTITY_FIELDS[table]
    if isinstance(page, pa.Table):
        missing = page.num_rows if column not in page.column_names else page.column(column).null_count
    else:
        missing = sum(1 for row in page if row.get(column) is None and not row.get(TOMBSTONE_COLUMN))
    if missing:
        raise PendoResponseError(f"Pendo sent {missing} {table} rows without {field}; such rows cannot be replaced "
                                 "when Pendo changes them, so nothing was loaded (report it to Pendo support)")


def rows_per_bucket(page: Page, period: str) -> dict[int, int]:
    """Rows of a page per bucket (epoch ms), for the bucket state table."""
    if isinstance(page, pa.Table):
        if not page.num_rows or period not in page.column_names:
            return {}
        counts = pc.value_counts(page.column(period).cast(pa.int64()))
        return {int(v["values"]) // 1000: int(v["counts"]) for v in counts.to_pylist()}
    result: dict[int, int] = {}
    for row in page:
        bucket = row.get(period)
        if bucket is not None and not row.get(TOMBSTONE_COLUMN):
            ms = _ms(bucket)
            result[ms] = result.get(ms, 0) + 1
    return result


def _ms(ts: pendulum.DateTime) -> int:
    return int(ts.timestamp() * 1000)
