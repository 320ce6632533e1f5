"""Day-by-day activity, generated on demand and kept in a small LRU cache.

Each (source, local day, revision) is one unit of work with its own random stream, so any day can
be built alone, in any order, and the whole history is never held in memory. Visibility is applied
on the way out: a rollup hour row is served once its lastTime < cutoff, a guide or poll event once
its browserTime < cutoff; day rows are re-summed from the visible hour rows on every call.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterator

from .catalog import Catalog
from .clock import Clock
from .guide_activity import day_guide_events
from .people import People
from .rollups import ROLLUPS, HourRow, hour_rows, shapes, sum_rows, to_dict
from .scales import ScaleSpec
from .seeding import rng
from .sessions import Session, day_sessions

RETAGGABLE = ("pageEvents", "featureEvents", "trackEvents")


class LRU:
    """Memo of the last few days built: sessions, hour rows, guide events, per-visitor indexes.

    Locked because the HTTP server is threaded; re-entrant because building hour rows asks for the
    day's sessions.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[tuple, object] = OrderedDict()
        self.lock = threading.RLock()

    def get(self, key: tuple, build: Callable[[], object]) -> object:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
            value = self.items[key] = build()
            if len(self.items) > self.size:
                self.items.popitem(last=False)
            return value


class Activity:
    def __init__(self, seed: int, scale: str, spec: ScaleSpec, clock: Clock, catalog: Catalog,
                 people: People, data_start: int) -> None:
        self.seed, self.scale, self.spec, self.clock = seed, scale, spec, clock
        self.catalog = catalog
        self.data_start = data_start
        # donotprocess visitors are never tracked; the rest can be active from the day after creation
        self.pool = sorted((p for p in people.visitors if not p.donotprocess), key=lambda p: p.created)
        self.pool_created = [p.created for p in self.pool]
        self.revisions: dict[tuple[str, str], int] = {}
        self.shapes = shapes(spec.pages_per_hour)
        self.by_app = {"pageEvents": catalog.pages_by_app, "featureEvents": catalog.features_by_app,
                       "trackEvents": catalog.tracks_by_app}
        self.extras = {"pageEvents": {pid: {} for pid in catalog.page_params}, "featureEvents": {},
                       "trackEvents": catalog.track_props, "events": {}}
        self.cache = LRU(40)  # ~4 days of everything; ~18 MB per day at large scale

    def sessions(self, day: str) -> list[Session]:
        return self.cache.get(("sessions", day), lambda: self._build_sessions(day))

    def _build_sessions(self, day: str) -> list[Session]:
        start, end = self.clock.day_start(day), self.clock.day_end(day)
        if start < self.data_start:
            return []
        hours = self.clock.hour_starts(day)
        pool = self.pool[:bisect_left(self.pool_created, start)]
        return day_sessions(rng(self.seed, self.scale, "sessions", day), pool, hours, end,
                            [self.clock.hour_of_day(h) for h in hours], self.catalog.servers)

    def hour_rows(self, source: str, day: str) -> list[HourRow]:
        rev = self.revisions.get((source, day), 0)
        return self.cache.get((source, day, rev), lambda: hour_rows(
            rng(self.seed, self.scale, source, day, rev), self.sessions(day), self.by_app[source],
            self.shapes[source]))

    def guide_events(self, day: str) -> tuple[list[dict], list[dict]]:
        return self.cache.get(("guides", day), lambda: day_guide_events(
            rng(self.seed, self.scale, "guideEvents", day), self.sessions(day), self.catalog.guides_by_app,
            self.spec.guide_share, self.clock.day_end(day)))

    def by_visitor(self, source: str, day: str) -> dict[str, list]:
        """Rows of one day keyed by visitor, for the per-visitor history endpoint."""
        def build() -> dict[str, list]:
            if source in ROLLUPS:
                rows, at = self.hour_rows(source, day), (lambda row: row[1])
            else:
                rows, at = self.guide_events(day)[0], (lambda e: e["visitorId"])
            index: dict[str, list] = {}
            for row in rows:
                index.setdefault(at(row), []).append(row)
            return index
        rev = self.revisions.get((source, day), 0)
        return self.cache.get(("index", source, day, rev), build)

    def served_days(self, first_ms: int, end_ms: int, cutoff: int) -> Iterator[tuple[str, int]]:
        """(day, day start) of the generated days overlapping [first_ms, end_ms) that hold anything visible."""
        for day in self.clock.days(max(first_ms, self.data_start), min(end_ms, cutoff + 1)):
            start = self.clock.day_start(day)
            if start >= cutoff:
                return
            yield day, start

    def rollup_rows(self, source: str, period: str, first_ms: int, end_ms: int, apps: frozenset[int],
                    cutoff: int) -> Iterator[dict]:
        sources = ROLLUPS if source == "events" else (source,)
        extras, by_hour = self.extras[source], period == "hour"
        for day, start in self.served_days(first_ms, end_ms, cutoff):
            if not by_hour and start < first_ms:
                continue
            lo, hi = (first_ms, end_ms) if by_hour else (start, self.clock.day_end(day))
            groups: dict[tuple, list[int]] = {}
            for s in sources:
                sum_rows(self.hour_rows(s, day), cutoff, apps, lo, hi, by_hour, source != "events", groups)
            if not by_hour:
                for dims, agg in groups.items():
                    yield to_dict(source, period, start, dims, agg, extras)
                continue
            items = groups.items() if len(sources) == 1 else sorted(groups.items(), key=lambda kv: kv[0][0])
            for key, agg in items:
                yield to_dict(source, period, key[0], key[1:], agg, extras)

    def single_rows(self, source: str, first_ms: int, end_ms: int, apps: frozenset[int],
                    cutoff: int) -> Iterator[dict]:
        which = 0 if source == "guideEvents" else 1
        end = min(end_ms, cutoff)
        for day, _ in self.served_days(first_ms, end, cutoff):
            for e in self.guide_events(day)[which]:
                if first_ms <= e["browserTime"] < end and e["appId"] in apps:
                    yield dict(e)
