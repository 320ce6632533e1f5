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

Rows get these fields from a hash of the row (``extend_rows``, called where rollups.hour_rows returns), so adding
them changed no existing field of any row, and rows built elsewhere (late data, rule edits) carry them too.
"""

from __future__ import annotations

import hashlib
import math
import zlib

HourRow = tuple  # the 12 fields of rollups.HourRow, then the fields at TAB, COUNTS and RECORDING below
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


def extend_rows(rows: list[HourRow], clicks: bool) -> list[HourRow]:
    """The rows with (tabId, 4 counters, recordingId or None) appended; the counters are 0 unless ``clicks``.

    Drawn from a hash of the row itself, not from the generator's random stream: every existing field of every
    row stays what it was, and rows built anywhere (late data, rule edits) get the same fields the same way.
    """
    out = []
    for row in rows:
        h = _tab_hash(row)
        recording = f"rec-{h:08x}" if (h % 1000) < RECORDED_SHARE * 1000 else None
        counts = _counts(row) if clicks else (0, 0, 0, 0)
        out.append((*row[:12], f"{h:08x}", *counts, recording))
    return out


def _counts(row: HourRow) -> tuple[int, ...]:
    digest = hashlib.blake2b(repr(row[:12]).encode(), digest_size=16).digest()
    uniforms = [int.from_bytes(digest[i:i + 2], "big") / 65536 for i in range(0, 16, 2)]
    return tuple(1 + int(-mean * math.log(1.0 - uniforms[2 * i + 1])) if uniforms[2 * i] < rate else 0
                 for i, (rate, mean) in enumerate(SIGNAL_RATES))


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
