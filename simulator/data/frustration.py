"""Frustration signals, tabs and session recordings on rollup rows (pageEvents, featureEvents, events).

What is modelled, and how sure it is (see the README's table of origins):
- ``tabId``: the browser tab a rollup row was recorded in. It is a dimension, like server or userAgent: two
  rows of one visitor, context and day that differ only in tabId are two rows, never one [3p: aggdsl spec
  sheet; S5-python page_events schema]. Here a tab lives for one six-hour block of the visitor's context, so
  a day row splits by tab while the hours of one tab still sum into one day row.
- ``rageClickCount``, ``deadClickCount``, ``errorClickCount``, ``uTurnCount``: counters summed like
  numEvents [3p: aggdsl spec sheet]. Page and feature rollups (and ``events``) carry them; track rollups
  do not.
- ``recordingId`` / ``recordingSessionId``: present only on rows of a recorded tab (about one in five), as
  Pendo sends them only when session replay captured the visit [3p: S5-python page_events schema].

Rows get these fields from a random stream of their own, after every other field was drawn, so adding them
changed no existing field of any row.
"""

from __future__ import annotations

import random
import zlib

HourRow = tuple  # the 12 fields of rollups.HourRow, then the EXTRA_FIELDS below
TAB_BLOCK_MS = 6 * 3_600_000
RECORDED_SHARE = 0.2
COUNTERS = ("rageClickCount", "deadClickCount", "errorClickCount", "uTurnCount")
# Index of each extra field in an extended hour row (after the 12 base fields).
TAB, COUNTS, RECORDING = 12, slice(13, 17), 17
CLICK_SOURCES = frozenset({"pageEvents", "featureEvents", "events"})
# Chance that a row has any of each signal, and the mean count when it has one.
SIGNAL_RATES = ((0.06, 2.5), (0.10, 1.5), (0.04, 1.2), (0.08, 1.0))


def _tab_hash(row: HourRow) -> int:
    """Stable across processes (zlib, not ``hash``): visitor, server, remoteIp, userAgent and the six-hour block."""
    return zlib.crc32(f"{row[1]}\x00{row[5]}\x00{row[6]}\x00{row[7]}\x00{row[0] // TAB_BLOCK_MS}".encode())


def extend_rows(r: random.Random, rows: list[HourRow], source: str) -> list[HourRow]:
    """The rows with (tabId, 4 counters, recordingId or None) appended; counters are 0 for trackEvents."""
    clicks = source in CLICK_SOURCES
    out = []
    for row in rows:
        h = _tab_hash(row)
        tab = f"{h:08x}"
        recording = f"rec-{h:08x}" if (h % 1000) < RECORDED_SHARE * 1000 else None
        if clicks:
            counts = tuple(1 + int(-mean * _log1m(r.random())) if r.random() < rate else 0
                           for rate, mean in SIGNAL_RATES)
        else:
            counts = (0, 0, 0, 0)
        out.append((*row[:12], tab, *counts, recording))
    return out


def _log1m(x: float) -> float:
    import math

    return math.log(1.0 - x) if x < 1.0 else -50.0


def row_fields(source: str, extra: tuple) -> dict:
    """The API fields of an extended, summed row: ``extra`` is (tabId, recordingId, *summed counters)."""
    if not extra:
        return {}  # a row built without the extension (an older generator): it carries no such field
    tab, recording, *counts = extra
    fields: dict = {"tabId": tab}
    if source in CLICK_SOURCES:
        fields.update(zip(COUNTERS, counts, strict=True))
        if recording is not None:
            fields["recordingId"] = recording
            fields["recordingSessionId"] = f"{recording}-s"
    return fields
