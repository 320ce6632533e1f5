"""Aggregated event sources (pageEvents, featureEvents, trackEvents, events).

The base unit is an hour row, a tuple laid out as ``HourRow`` below. Day rows are never stored:
they are the sum of the visible hour rows of a local day, grouped by every dimension but the hour,
so ``day == sum(hour)`` holds by construction and the current day grows as the clock moves.
``events`` is the same sum taken over the three sources together, without the entity id.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from math import log
from operator import itemgetter

from .entities import AppKinds
from .frustration import COUNTS, RECORDING, TAB, extend_rows, row_fields
from .sessions import MINUTE_MS, Session

# HourRow = (hour, visitorId, accountId, appId, entityId, server, remoteIp, userAgent,
#            firstTime, lastTime, numEvents, numMinutes[, tabId, 4 frustration counters, recordingId])
# The bracketed fields are appended by frustration.extend_rows; tabId (and the recording, which follows
# from the tab) is a dimension, the counters are summed like numEvents.
HourRow = tuple
ROLLUPS = ("pageEvents", "featureEvents", "trackEvents")
ENTITY_KEY = {"pageEvents": "pageId", "featureEvents": "featureId", "trackEvents": "trackTypeId"}


@dataclass(frozen=True, slots=True)
class Shape:
    """How one rollup source draws rows: how often, how many entities, how many minutes at most.

    Per session hour the minute budgets (40 + 15 + 5) keep the ``events`` hour row at <= 60 minutes.
    """

    share: float  # chance that a session hour has any row of this source
    mean_k: float  # mean number of distinct entities per session hour
    max_k: int
    budget: int  # numMinutes summed over one session hour's rows stays <= this
    clicks: bool = True  # rows carry frustration counters (page and feature rollups; not track events)


def shapes(pages_per_hour: float) -> dict[str, Shape]:
    return {"pageEvents": Shape(1.0, pages_per_hour, 12, 40), "featureEvents": Shape(0.6, 1.6, 6, 15),
            "trackEvents": Shape(0.2, 1.0, 1, 5, clicks=False)}


def hour_rows(r: random.Random, sessions: list[Session], by_app: dict[int, AppKinds],
              shape: Shape) -> list[HourRow]:
    """Rows of one source for one day, sorted by hour. Sessions that repeat another session from a
    new context (``mirror_of``) open that session's first entity again, so some day rows differ only
    in server, remoteIp or userAgent.

    The hottest loop of the simulator: names are bound locally and ``min`` is spelled out, but every
    random draw and float expression stays in the same order, since the rows are the specification.
    """
    rand = r.random
    rows: list[HourRow] = []
    add = rows.append
    first_of: dict[int, str] = {}
    extra_mean = max(shape.mean_k - 1.0, 0.05)
    share, max_k, budget = shape.share, shape.max_k, shape.budget
    for si, s in enumerate(sessions):
        kinds = by_app.get(s.app)
        if kinds is None:
            continue
        ids, cum = kinds.ids, kinds.cum
        total = cum[-1]
        top_k = max_k if max_k < len(ids) else len(ids)
        mirror_of = s.mirror_of
        vid, acc, app, server, ip, ua = s.person.id, s.account, s.app, s.server, s.ip, s.ua
        for hi, (hour, a, b) in enumerate(s.spans):
            forced = first_of.get(mirror_of) if hi == 0 and mirror_of >= 0 else None
            if forced is None and rand() >= share:
                continue
            k = 1 + int(-log(1.0 - rand()) * extra_mean)
            if k > top_k:
                k = top_k
            chosen = list(dict.fromkeys([ids[bisect(cum, rand() * total)] for _ in range(k)]))
            if forced is not None and forced not in chosen:
                chosen[-1:] = [forced]
            if hi == 0:
                first_of[si] = chosen[0]
            cap = budget // len(chosen) or 1
            span = b - a
            for ent in chosen:
                ft = a + int(rand() * span)
                lt = ft + int(rand() * (b - ft))
                nm = (lt - ft) // MINUTE_MS + 1
                if nm > cap:
                    nm = cap
                add((hour, vid, acc, app, ent, server, ip, ua, ft, lt, nm + int(-log(1.0 - rand()) * 2.5), nm))
    rows.sort(key=itemgetter(0))  # by hour
    return extend_rows(rows, shape.clicks)


def sum_rows(rows: Iterable[HourRow], cutoff: int, apps: frozenset[int], first_ms: int, end_ms: int,
             by_hour: bool, with_entity: bool, groups: dict[tuple, list[int]]) -> None:
    """Add the visible rows (lastTime < cutoff, app requested, hour in [first_ms, end_ms)) to ``groups``.

    The key is every dimension but the hour (``dims``), prefixed by the hour when ``by_hour``;
    firstTime takes the min, lastTime the max, counts are summed.
    """
    for row in rows:
        if row[9] >= cutoff or row[3] not in apps or not first_ms <= row[0] < end_ms:
            continue
        key = (row[1:8] if with_entity else row[1:4] + row[5:8]) + row[TAB:TAB + 1] + row[RECORDING:]
        if by_hour:
            key = (row[0],) + key
        g = groups.get(key)
        if g is None:
            groups[key] = [row[8], row[9], row[10], row[11], *row[COUNTS]]
        else:
            if row[8] < g[0]:
                g[0] = row[8]
            if row[9] > g[1]:
                g[1] = row[9]
            g[2] += row[10]
            g[3] += row[11]
            for i, count in enumerate(row[COUNTS], 4):
                g[i] += count


def to_dict(source: str, bucket_key: str, bucket: int, dims: tuple, agg: list[int],
            extras: dict[str, dict]) -> dict:
    """One API row. ``extras`` maps an entity id to the fixed object it carries (parameters/properties)."""
    base = 6 if source == "events" else 7
    dims, extended = dims[:base], dims[base:]
    if source == "events":
        vid, acc, app, server, ip, ua = dims
    else:
        vid, acc, app, ent, server, ip, ua = dims
    row = {"accountId": acc, "appId": app, bucket_key: bucket, "firstTime": agg[0], "lastTime": agg[1],
           "numEvents": agg[2], "numMinutes": agg[3], "remoteIp": ip, "server": server, "userAgent": ua,
           "visitorId": vid}
    if source != "events":
        row[ENTITY_KEY[source]] = ent
        extra = extras.get(ent)
        if extra is not None:
            row["parameters" if source == "pageEvents" else "properties"] = dict(extra)
    if extended:
        row.update(row_fields(source, (*extended, *agg[4:])))
    return row
