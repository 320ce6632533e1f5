"""The deterministic Pendo subscription the simulator serves, and its ground truth.

Everything derives from (seed, scale, the initial clock): same inputs, byte-identical rows. The clock
can be moved and history can be changed (re-tagging, new metadata fields, late data, rule edits,
deletions: see rewrite_calls.py); ``truth`` always answers
with exactly what the API would serve at the current clock.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Iterable, Iterator
from datetime import date
from zoneinfo import ZoneInfoNotFoundError

import orjson

from . import rewrite_calls
from .activity import RETAGGABLE, Activity
from .catalog import build_catalog
from .clock import Clock, add_days
from .daycache import DEFAULT_CACHE_MB
from .entities import DEFAULT_APP_ID
from .history import visitor_history
from .metadata import FIELDS, KINDS, TYPES, AddedField, MetadataMaker, schema
from .people import ANON_PREFIX, build_people
from .rollups import ROLLUPS
from .scales import SCALES, SPECS
from .seen_state import seen_rows
from .single_events import single_event_rows

ENTITY_KINDS = ("page", "feature", "guide", "tracktype", "report")
OBJECT_SOURCES = {"pages": "page", "features": "feature", "guides": "guide", "trackTypes": "tracktype"}
SINGLE_EVENTS = ("guideEvents", "pollEvents")
EVENT_SOURCES = ("events", *ROLLUPS, *SINGLE_EVENTS)
PERIODS = ("day", "hour")
TRUTH_TABLES = {"pages": "page", "features": "feature", "guides": "guide", "track_types": "tracktype",
                "reports": "report", "visitors": "visitors", "accounts": "accounts", "events": "events",
                "page_events": "pageEvents", "feature_events": "featureEvents",
                "track_events": "trackEvents", "guide_events": "guideEvents", "poll_events": "pollEvents"}


def _copy(obj: object) -> object:
    """A deep copy (callers may mutate what they get); orjson is much faster than copy.deepcopy."""
    return orjson.loads(orjson.dumps(obj))


def _check(value: str, allowed: Iterable[str], what: str) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")


class Dataset:
    """One simulated subscription: entities, people, activity, a movable clock and a processing lag."""

    def __init__(self, seed: int = 1, scale: str = "small", tz: str = "America/New_York",
                 now_ms: int | None = None, lag_ms: int = 60 * 60 * 1000, history_days: int = 30,
                 cache_mb: float = DEFAULT_CACHE_MB) -> None:
        _check(scale, SCALES, "scale")
        if lag_ms < 0 or history_days < 1 or cache_mb < 0:
            raise ValueError("lag_ms must be >= 0, history_days >= 1 and cache_mb >= 0")
        try:
            self.clock = Clock(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
        self.seed, self.scale, self.tz = seed, scale, tz
        self.now_ms = now_ms if now_ms is not None else int(time.time() * 1000) // 60_000 * 60_000
        self.lag_ms, self.history_days = lag_ms, history_days
        # Everything is placed relative to the first served day and the initial local day, so
        # restarting later on the same local day rebuilds the same subscription.
        self.data_start_ms = self.clock.day_start(add_days(self.clock.day_of(self.now_ms), -history_days))
        anchor = self.clock.floor_day(self.now_ms)
        spec = SPECS[scale]
        self.catalog = build_catalog(seed, scale, spec, self.data_start_ms, anchor)
        self.app_ids: list[int] = [a["id"] for a in self.catalog.apps]
        self.default_app_id = DEFAULT_APP_ID
        self.people = build_people(seed, scale, spec, self.app_ids, self.data_start_ms, anchor)
        self.meta = MetadataMaker(seed, scale, self.catalog.servers)
        self.activity = Activity(seed, scale, spec, self.clock, self.catalog, self.people, self.data_start_ms,
                                 cache_mb)
        self.feature_page = {f["id"]: f["pageId"] for f in self.catalog.features}

    def snapshot(self) -> Dataset:
        """A frozen copy of everything a control call can change (clock, lag, revisions, rewrites,
        metadata fields) that shares the immutable subscription and the day cache.

        The server takes one under its lock and answers from it without the lock, so an answer
        reflects exactly one state even while the control surface changes the live dataset.
        """
        view = copy.copy(self)
        view.meta = dataclasses.replace(self.meta, added={k: list(v) for k, v in self.meta.added.items()})
        view.activity = self.activity.view()
        return view

    # --- clock --------------------------------------------------------------------------------------
    @property
    def cutoff_ms(self) -> int:
        """Data whose last activity is at or after this instant is still being processed."""
        return self.now_ms - self.lag_ms

    def history_start_ms(self) -> int:
        """Start of the served history: local midnight ``history_days`` days before the *initial* clock.

        It stays put when the clock moves, because nothing before it exists and everything after it
        stays served; so ``truth()``'s default range is always everything the API serves.
        """
        return self.data_start_ms

    def advance(self, ms: int) -> None:
        if ms < 0:
            raise ValueError("advance() only moves forward; use set_now() to go back")
        self.now_ms += ms

    def set_now(self, now_ms: int) -> None:
        self.now_ms = now_ms

    # --- REST objects -------------------------------------------------------------------------------
    def entities(self, kind: str) -> list[dict]:
        _check(kind, ENTITY_KINDS, "entity kind")
        return rewrite_calls.patch_entities(self, kind, _copy(self.catalog.kind(kind)))

    def metadata_schema(self, kind: str) -> dict:
        _check(kind, KINDS, "metadata kind")
        return schema(kind, self.meta.added[kind])

    def visitor(self, visitor_id: str) -> dict | None:
        return self._record("visitor", visitor_id)

    def account(self, account_id: str) -> dict | None:
        return self._record("account", account_id)

    def _record(self, kind: str, record_id: str) -> dict | None:
        p = self.people.by_id.get((kind, record_id))
        if p is None or rewrite_calls.is_deleted(self, kind, record_id):
            return None
        return self.meta.record(kind, p, self.cutoff_ms)

    def visitor_history(self, visitor_id: str, start_ms: int) -> list[dict]:
        if self.visitor(visitor_id) is None:
            return []
        return visitor_history(self.activity, self.catalog, self.feature_page, visitor_id, start_ms,
                               self.cutoff_ms)

    # --- aggregation DataProvider -------------------------------------------------------------------
    def object_rows(self, source: str) -> Iterable[dict]:
        if source == "groups":
            return _copy(self.catalog.groups)
        if source in OBJECT_SOURCES:
            return self.entities(OBJECT_SOURCES[source])
        if source == "apps":
            return _copy(self.catalog.apps)
        _check(source, ("visitors", "accounts", "apps", *OBJECT_SOURCES), "object source")
        return self._people_rows(source)

    def _people_rows(self, source: str) -> Iterator[dict]:
        kind, id_key = ("visitor", "visitorId") if source == "visitors" else ("account", "accountId")
        people = self.people.visitors if kind == "visitor" else self.people.accounts
        cutoff = self.cutoff_ms
        rw = self.activity.rewrites
        deleted = rw.deleted_visitors if kind == "visitor" else rw.deleted_accounts
        for p in people:
            v = p.version_at(cutoff)
            if v >= 0 and p.id not in deleted:
                yield {id_key: p.id, "metadata": self.meta.metadata(kind, p, v)}

    def event_rows(self, source: str, period: str, first_ms: int, end_ms: int,
                   app_ids: list[int]) -> Iterator[dict]:
        _check(period, PERIODS, "period")
        apps = frozenset(app_ids)
        if source == "singleEvents":
            return single_event_rows(self.activity, first_ms, end_ms, apps, self.cutoff_ms)
        _check(source, EVENT_SOURCES, "event source")
        if source in SINGLE_EVENTS:
            return self.activity.single_rows(source, first_ms, end_ms, apps, self.cutoff_ms)
        return self.activity.rollup_rows(source, period, first_ms, end_ms, apps, self.cutoff_ms)

    def seen_rows(self, source: str, first_ms: int | None, end_ms: int | None, app_ids: list[int]) -> list[dict]:
        """guidesSeen/pollsSeen state folded from the visible guide and poll events in [first_ms, end_ms)
        (None: the whole served history)."""
        first = self.history_start_ms() if first_ms is None else first_ms
        end = self.now_ms if end_ms is None else end_ms
        apps = frozenset(app_ids)
        return seen_rows(source, self.activity.single_rows("guideEvents", first, end, apps, self.cutoff_ms),
                         self.activity.single_rows("pollEvents", first, end, apps, self.cutoff_ms))

    # --- change -------------------------------------------------------------------------------------
    def retag(self, day: str, source: str = "pageEvents") -> None:
        """Re-tag history: that local day's rows of ``source`` (and so its ``events``) are rebuilt."""
        _check(source, RETAGGABLE, "retaggable source")
        self.activity.retag(source, date.fromisoformat(day).isoformat())

    def late(self, day: str, visitors: int = 20) -> dict:
        """Late activity arriving now for a past (or the current) local day; each call adds a batch."""
        return rewrite_calls.add_late(self, day, visitors)

    def rule_edit(self, kind: str, entity_id: str | None = None) -> dict:
        """A page's, feature's or track type's whole history reprocessed under an edited rule."""
        return rewrite_calls.rule_edit(self, kind, entity_id)

    def delete_visitor(self, visitor_id: str) -> dict:
        return rewrite_calls.delete_visitor(self, visitor_id)

    def delete_account(self, account_id: str) -> dict:
        return rewrite_calls.delete_account(self, account_id)

    def add_metadata_field(self, kind: str, name: str, type_: str) -> None:
        """A new custom field: in the schema at once; every identified record gets a value and its
        ``metadata.auto.lastupdated`` moves to the current clock (a metadata write is immediate)."""
        _check(kind, KINDS, "metadata kind")
        _check(type_, TYPES, "metadata type")
        taken = {n for fields in FIELDS[kind].values() for n in fields} | {f.name for f in self.meta.added[kind]}
        if name in taken:
            raise ValueError(f"{kind} metadata field {name!r} already exists")
        self.meta.added[kind].append(AddedField(kind, name, type_, self.now_ms))

    # --- ground truth -------------------------------------------------------------------------------
    def truth(self, table: str, *, period: str = "day", start_ms: int | None = None, end_ms: int | None = None,
              app_ids: list[int] | None = None, include_anonymous: bool = True) -> list[dict]:
        """Exactly what the API serves now, as raw API rows. Event tables default to every app and
        the whole served history [history_start_ms(), now_ms); ``app_ids`` also filters entities."""
        _check(table, TRUTH_TABLES, "truth table")
        what = TRUTH_TABLES[table]
        apps = self.app_ids if app_ids is None else app_ids
        if what in ENTITY_KINDS:
            rows = self.entities(what)
            return rows if app_ids is None or what == "report" else [r for r in rows if r["appId"] in apps]
        if what in ("visitors", "accounts"):
            rows = list(self.object_rows(what))
        else:
            start = self.history_start_ms() if start_ms is None else start_ms
            end = self.now_ms if end_ms is None else end_ms
            rows = list(self.event_rows(what, period, start, end, apps))
        if include_anonymous or what == "accounts":
            return rows
        return [r for r in rows if not r["visitorId"].startswith(ANON_PREFIX)]
