"""The aggregation source ``singleEvents``: raw, event-level rows, each with its own ``eventId``.

Origins (see the README): ``singleEvents`` is listed as "raw events with eventId" [3p: aggdsl spec sheet];
Pendo's Data Sync ``ALLEVENTS`` export has one row per event with ``eventId`` [doc: Data Sync]. The fields
here (``eventId, type, browserTime, visitorId, accountId, appId, pageId|featureId|trackTypeId, server,
remoteIp, userAgent, tabId``) and the types ``load`` / ``click`` / ``track`` are modelled on those [inferred].

Every hour rollup row is the sum of its raw events: a page row with numEvents 5 is 5 ``load`` events spread
over [firstTime, lastTime]. So ``singleEvents`` always agrees with pageEvents/featureEvents/trackEvents, and a
raw event is served exactly when its rollup row is (its lastTime before the processing cutoff).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from .rollups import ENTITY_KEY, ROLLUPS
from .seeding import rng

if TYPE_CHECKING:
    from .activity import Activity

TYPE_OF = {"pageEvents": "load", "featureEvents": "click", "trackEvents": "track"}
EVENT_BYTES = 420


def _day_events(activity: Activity, day: str) -> list[tuple[int, int, dict]]:
    """(lastTime of the row, browserTime, event) of one local day, sorted by browserTime."""
    revs = tuple(activity.revisions.get((s, day), 0) for s in ROLLUPS)

    def build() -> list[tuple[int, int, dict]]:
        r = rng(activity.seed, activity.scale, "singleEvents", day, revs)
        out = []
        for source in ROLLUPS:
            for row in activity.hour_rows(source, day):
                hour, vid, acc, app, ent, server, ip, ua, first, last, n = row[:11]
                tab = row[12] if len(row) > 12 else None
                for k in range(n):
                    at = first + (last - first) * k // max(n - 1, 1)
                    event = {"eventId": f"{r.getrandbits(64):016x}", "type": TYPE_OF[source], "browserTime": at,
                             "visitorId": vid, "accountId": acc, "appId": app, ENTITY_KEY[source]: ent,
                             "server": server, "remoteIp": ip, "userAgent": ua}
                    if tab is not None:
                        event["tabId"] = tab
                    out.append((last, at, event))
        out.sort(key=lambda item: (item[1], item[2]["eventId"]))
        return out

    return activity.cache.get(("singleEvents", day, revs), build, lambda v: EVENT_BYTES * len(v))


def single_event_rows(activity: Activity, first_ms: int, end_ms: int, apps: frozenset[int],
                      cutoff: int) -> Iterator[dict]:
    for day, _ in activity.served_days(first_ms, min(end_ms, cutoff), cutoff):
        for last, at, event in _day_events(activity, day):
            if last < cutoff and first_ms <= at < end_ms and event["appId"] in apps:
                yield dict(event)
