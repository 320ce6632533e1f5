"""Day-by-day activity, generated on demand and kept in a memory-budgeted cache (``DayCache``).

Each (source, local day, revision) is one unit of work with its own random stream, so any day can
be built alone, in any order, by any thread, and the whole history need not be held in memory.
Visibility is applied on the way out: a rollup hour row is served once its lastTime < cutoff, a guide
or poll event once its browserTime < cutoff; day rows are re-summed from the visible hour rows on
every call.
"""

from __future__ import annotations

import copy
from bisect import bisect_left
from collections.abc import Iterator

from . import rewrites
from .catalog import Catalog
from .clock import Clock
from .daycache import DEFAULT_CACHE_MB, GUIDE_EVENT_BYTES, HOUR_ROW_BYTES, MB, SESSION_BYTES, DayCache
from .guide_activity import day_guide_events
from .people import People
from .rollups import ROLLUPS, HourRow, hour_rows, shapes, sum_rows, to_dict
from .scales import ScaleSpec
from .seeding import rng
from .sessions import Session, day_sessions

RETAGGABLE = ("pageEvents", "featureEvents", "trackEvents")

INDEX_KEY_BYTES, INDEX_ROW_BYTES = 140, 10


class Activity:
    """Generated days of one subscription. ``revisions`` and ``rewrites`` (late data, rule edits,
    deletions: see rewrites.py) are the only state control calls change."""

    def __init__(self, seed: int, scale: str, spec: ScaleSpec, clock: Clock, catalog: Catalog,
                 people: People, data_start: int, cache_mb: float = DEFAULT_CACHE_MB) -> None:
        self.seed, self.scale, self.spec, self.clock = seed, scale, spec, clock
        self.catalog = catalog
        self.people = people
        self.data_start = data_start
        # donotprocess visitors are never tracked; the rest can be active from the day after creation
        self.pool = sorted((p for p in people.visitors if not p.donotprocess), key=lambda p: p.created)
        self.pool_created = [p.created for p in self.pool]
        self.revisions: dict[tuple[str, str], int] = {}
        self.rewrites = rewrites.Rewrites()
        self.shapes = shapes(spec.pages_per_hour)
        self.by_app = {"pageEvents": catalog.pages_by_app, "featureEvents": catalog.features_by_app,
                       "trackEvents": catalog.tracks_by_app}
        self.extras = {"pageEvents": {pid: {} for pid in catalog.page_params}, "featureEvents": {},
                       "trackEvents": catalog.track_props, "events": {}}
        self.cache = DayCache(int(cache_mb * MB))  # ~14 MB a day at the large scale, ~0.05 MB at tiny

    def view(self) -> Activity:
        """A copy with its own ``revisions`` that shares the cache: one request's consistent state.

        Cache keys carry the revision, so a view never reads rows of a revision it was not given.
        """
        view = copy.copy(self)
        view.revisions = dict(self.revisions)
        view.rewrites = self.rewrites.copy()
        return view

    def retag(self, source: str, day: str) -> None:
        """Move ``source``'s ``day`` to a new revision and drop the rows of the old ones."""
        key = (source, day)
        rev = self.revisions[key] = self.revisions.get(key, 0) + 1
        self.cache.discard(lambda k: not (len(k) >= 3 and k[-3:-1] == key and k[-1] != rev))

    def sessions(self, day: str) -> list[Session]:
        return self.cache.get(("sessions", day), lambda: self._build_sessions(day),
                              lambda v: SESSION_BYTES * len(v))

    def _build_sessions(self, day: str) -> list[Session]:
        start, end = self.clock.day_start(day), self.clock.day_end(day)
        if start < self.data_start:
            return []
        hours = self.clock.hour_starts(day)
        pool = self.pool[:bisect_left(self.pool_created, start)]
        return day_sessions(rng(self.seed, self.scale, "sessions", day), pool, hours, end,
                            [self.clock.hour_of_day(h) for h in hours], self.catalog.servers)

    def hour_rows(self, source: str, day: str) -> list[HourRow]:
        """All activity of a rollup source on a day (what ``events`` sums), rewrites included."""
        rev = self.revisions.get((source, day), 0)
        return rewrites.activity_rows(self, source, day, lambda: self.cache.get((source, day, rev), lambda: hour_rows(
            rng(self.seed, self.scale, source, day, rev), self.sessions(day), self.by_app[source],
            self.shapes[source]), lambda v: HOUR_ROW_BYTES * len(v)))

    def tagged_rows(self, source: str, day: str) -> list[HourRow]:
        """The rows a rollup source serves: ``hour_rows`` as attributed by the current tag rules."""
        return rewrites.tagged_rows(self, source, day)

    def guide_events(self, day: str) -> tuple[list[dict], list[dict]]:
        return rewrites.guide_events(self, day, lambda: self.cache.get(("guides", day), lambda: day_guide_events(
            rng(self.seed, self.scale, "guideEvents", day), self.sessions(day), self.catalog.guides_by_app,
            self.spec.guide_share, self.clock.day_end(day)), lambda v: GUIDE_EVENT_BYTES * (len(v[0]) + len(v[1]))))

    def by_visitor(self, source: str, day: str) -> dict[str, list]:
        """Rows of one day keyed by visitor, for the per-visitor history endpoint."""
        def build() -> dict[str, list]:
            if source in ROLLUPS:
                rows, at = self.tagged_rows(source, day), (lambda row: row[1])
            else:
                rows, at = self.guide_events(day)[0], (lambda e: e["visitorId"])
            index: dict[str, list] = {}
            for row in rows:
                index.setdefault(at(row), []).append(row)
            return index
        rev = self.revisions.get((source, day), 0)
        return self.cache.get(("index", source, day, rev, *self.rewrites.stamp(source, day)), build, _index_bytes)

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
        rows_of = self.hour_rows if source == "events" else self.tagged_rows  # events are not tagged
        extras, by_hour = self.extras[source], period == "hour"
        for day, start in self.served_days(first_ms, end_ms, cutoff):
            if not by_hour and start < first_ms:
                continue
            lo, hi = (first_ms, end_ms) if by_hour else (start, self.clock.day_end(day))
            groups: dict[tuple, list[int]] = {}
            for s in sources:
                sum_rows(rows_of(s, day), cutoff, apps, lo, hi, by_hour, source != "events", groups)
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


def _index_bytes(index: dict[str, list]) -> int:
    return INDEX_KEY_BYTES * len(index) + INDEX_ROW_BYTES * sum(map(len, index.values()))
