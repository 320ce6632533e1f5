"""Rows that cannot be typed or keyed go to ``_pendo_rejected`` instead of failing the whole run.

One malformed row (a guide event without ``browserTime``, a rollup whose ``accountId`` is a number where every
other row has text) used to stop every run with an ``ArrowInvalid`` naming neither table nor field. Now the row is
kept, whole, as JSON in ``_pendo_rejected`` (table_name, raw_json, reason, the ``day``/``hour`` bucket its window
began with, dlt's ``_dlt_load_id``), and every other row loads. dlt derives the rejected table from the event
resource's hints, so it also carries that resource's always-null ``_pendo_deleted`` (and, from rollups,
``parameters``/``properties``) columns.

Event tables replace whole buckets, so a bucket loaded without its rejected rows must not look complete forever:
:class:`Hold` stops the table's cursor before the first window that had a rejected row, so the next run extracts
that bucket again (and a backfill chunk with a rejected row is not recorded as done). When Pendo sends the row
well-formed again, the bucket is whole again; while it does not, every run re-extracts from there and rejects
it again (the rows of ``_pendo_rejected`` are appended, one set per load).

The happy path costs nothing: an answer is screened row by row only after Arrow refused to build it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import dlt
import orjson
import pyarrow as pa

from sources.pendo.arrow import BUCKET_COLUMNS, JSON_FIELDS, rollup_table

REJECTED_TABLE = "_pendo_rejected"
REJECTED_MARK = "raw_json"  # the column only rejected rows have (the row meter must not count them as events)
REJECTED_COLUMNS = {
    "table_name": {"data_type": "text", "nullable": False},
    "raw_json": {"data_type": "text", "nullable": False},
    "reason": {"data_type": "text", "nullable": False},
    # the resource's bucket columns are declared non-null for the event tables; here they may be absent
    "day": {"data_type": "timestamp", "nullable": True},
    "hour": {"data_type": "timestamp", "nullable": True},
}
HEALING = "its window is extracted again by the next run (the cursor stays before it)"
BACKFILL_HEALING = "this backfill chunk is not recorded as done: run the same backfill again to re-extract it"


@dataclass
class Rejected:
    """Rows of one answer that were set aside, each with the reason."""

    rows: list[tuple[dict, str]] = field(default_factory=list)


def _kind(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def rollup_pages(rows: Sequence[dict]) -> Iterator[pa.Table | Rejected]:
    """``rollup_table(rows)``; when Arrow refuses the answer, the rows that break it are set aside."""
    try:
        yield rollup_table(rows)
        return
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    good, bad = screen_rollups(rows)
    try:
        table = rollup_table(good)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:  # not a type mix: keep the answer aside
        good, bad = [], bad + [(row, f"the answer cannot be typed: {' '.join(str(exc).split())[:200]}")
                               for row in good]
        table = None
    if bad:
        yield Rejected(bad)
    if table is not None and table.num_rows:
        yield table


def screen_rollups(rows: Sequence[dict]) -> tuple[list[dict], list[tuple[dict, str]]]:
    """Rows without a numeric bucket, and rows whose value of a field is of a minority type, with the reason."""
    bad: dict[int, str] = {}
    for i, row in enumerate(rows):
        bucket = next((row[b] for b in BUCKET_COLUMNS if b in row), None)
        if isinstance(bucket, bool) or not isinstance(bucket, int | float):
            bad[i] = f"no numeric day/hour bucket (got {bucket!r:.40})"
    names = dict.fromkeys(k for row in rows for k in row)
    for name in names:
        if name in JSON_FIELDS or name in BUCKET_COLUMNS:
            continue
        kinds = [_kind(row.get(name)) for row in rows]
        counts = Counter(k for k in kinds if k is not None)
        if len(counts) < 2:
            continue
        usual, usual_count = counts.most_common(1)[0]
        for i, kind in enumerate(kinds):
            if kind is not None and kind != usual and i not in bad:
                bad[i] = (f"{name} is {kind} ({rows[i].get(name)!r:.40}) where {usual_count} other rows of the "
                          f"answer have {usual}")
    return [r for i, r in enumerate(rows) if i not in bad], [(rows[i], reason) for i, reason in bad.items()]


def screen_single_events(rows: Sequence[dict]) -> tuple[list[dict], list[tuple[dict, str]]]:
    """Single events are keyed by the bucket of ``browserTime``: a row without a usable one cannot be placed."""
    good, bad = [], []
    for row in rows:
        browser = row.get("browserTime")
        try:
            if isinstance(browser, bool) or browser is None:
                raise ValueError
            int(browser)
            good.append(row)
        except (TypeError, ValueError, OverflowError):
            bad.append((row, f"browserTime is {'missing' if browser is None else repr(browser)[:40]}: the event "
                             "cannot be placed in a day/hour bucket"))
    return good, bad


class Hold:
    """Turns :class:`Rejected` pages of one event table into ``_pendo_rejected`` rows, and remembers that it did:
    from then on the table's cursor must not move (see the module docstring)."""

    def __init__(self, table: str, backfill: bool = False) -> None:
        self.table = table
        self.active = False
        self.healing = BACKFILL_HEALING if backfill else HEALING

    def watch(self, pages: Iterable[Any], period: str, bucket: Any) -> Iterator[Any]:
        for page in pages:
            if isinstance(page, Rejected):
                self.active = True
                yield rejected_item(self.table, page, period, bucket, self.healing)
            else:
                yield page


def rejected_item(table: str, rejected: Rejected, period: str, bucket: Any, healing: str = HEALING) -> Any:
    rows = [{"table_name": table, "raw_json": orjson.dumps(raw, default=str).decode(),
             "reason": f"{reason}; {healing}", period: bucket} for raw, reason in rejected.rows]
    # The variant starts from the event resource's hints: clear its merge key (bucket, entity), which would make the
    # entity column of the rejected table non-nullable.
    hints = dlt.mark.make_hints(table_name=REJECTED_TABLE, write_disposition="append", columns=REJECTED_COLUMNS,
                                merge_key="")
    return dlt.mark.with_hints(rows, hints, create_table_variant=True)


def is_rejected(item: Any) -> bool:
    """True for what :meth:`Hold.watch` made of a :class:`Rejected` page (rows bound for ``_pendo_rejected``)."""
    from dlt.extract.items import DataItemWithMeta

    return isinstance(item, DataItemWithMeta)
