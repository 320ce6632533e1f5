"""How Pendo rewrites its past, as layers over the generated days: late batches, deletions, rule edits.

``Rewrites`` is plain state (what control calls did); the layer functions turn a generated day into
what the API serves after them:

- *activity* rows of a rollup source: generated + late batches of that day - deleted visitors.
  ``events`` sums these: it is all activity, independent of tagging.
- *tagged* rows (pageEvents, featureEvents, trackEvents): the activity rows after every rule edit
  of that source (``rule_edits.apply_edits``).
- guide and poll events: generated + late batches - deleted visitors.

With no control call every layer is the generated day itself, under the generated day's own cache
key, so the answers stay byte-identical. Otherwise a layer is cached under a key that carries a
*stamp* of the state it depends on (batches of that day, deleted visitors, edits of that source):
every stamp only grows, so a snapshot never reads a layer built for another state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from operator import itemgetter
from typing import TYPE_CHECKING

from .daycache import GUIDE_EVENT_BYTES, HOUR_ROW_BYTES, SESSION_BYTES
from .guide_activity import day_guide_events
from .late import LATE_SHARE, LateBatch, late_sessions, poll_guides_first
from .rollups import ROLLUPS, HourRow, hour_rows
from .rule_edits import RuleEdit, apply_edits
from .seeding import rng
from .sessions import Session

if TYPE_CHECKING:
    from .activity import Activity



@dataclass
class Rewrites:
    """What the control surface did to the past. Values are immutable; ``copy`` is a consistent view."""

    late: dict[str, tuple[LateBatch, ...]] = field(default_factory=dict)  # local day -> its batches
    edits: tuple[RuleEdit, ...] = ()
    deleted_visitors: frozenset[str] = frozenset()
    deleted_accounts: frozenset[str] = frozenset()

    def copy(self) -> Rewrites:
        return replace(self, late=dict(self.late))

    def stamp(self, source: str, day: str) -> tuple[int, ...]:
        """The state a layer of (source, day) depends on; () when nothing touched it."""
        s = (len(self.late.get(day, ())), len(self.deleted_visitors))
        if source in ROLLUPS:
            s += (sum(1 for e in self.edits if e.source == source),)
        return s if any(s) else ()

    def edits_of(self, source: str) -> tuple[RuleEdit, ...]:
        return tuple(e for e in self.edits if e.source == source)


def activity_rows(act: Activity, source: str, day: str, generated: Callable[[], list[HourRow]]) -> list[HourRow]:
    """Every activity row of a rollup source on a day: generated + late - deleted, sorted by hour."""
    rw = act.rewrites
    batches, deleted = rw.late.get(day, ()), rw.deleted_visitors
    if not batches and not deleted:
        return generated()

    def build() -> list[HourRow]:
        rows = list(generated())
        for batch in batches:
            rows += late_hour_rows(act, source, batch)
        if deleted:
            rows = [r for r in rows if r[1] not in deleted]
        rows.sort(key=itemgetter(0))  # stable: generated rows keep their order within an hour
        return rows

    key = ("rw", "activity", source, day, act.revisions.get((source, day), 0), len(batches), len(deleted))
    return act.cache.get(key, build, lambda v: HOUR_ROW_BYTES * len(v))


def tagged_rows(act: Activity, source: str, day: str) -> list[HourRow]:
    """A rollup source's rows as tagged now: its activity rows after that source's rule edits."""
    edits = act.rewrites.edits_of(source)
    if not edits:
        return act.hour_rows(source, day)
    key = ("rw", "tagged", source, day, act.revisions.get((source, day), 0)) + act.rewrites.stamp(source, day)
    return act.cache.get(key, lambda: apply_edits(edits, day, act.hour_rows(source, day)),
                         lambda v: HOUR_ROW_BYTES * len(v))


def guide_events(act: Activity, day: str,
                 generated: Callable[[], tuple[list[dict], list[dict]]]) -> tuple[list[dict], list[dict]]:
    """Guide and poll events of a day: generated + late - deleted, each list sorted by browserTime."""
    rw = act.rewrites
    batches, deleted = rw.late.get(day, ()), rw.deleted_visitors
    if not batches and not deleted:
        return generated()

    def build() -> tuple[list[dict], list[dict]]:
        guides, polls = (list(x) for x in generated())
        for batch in batches:
            g, p = late_guide_events(act, batch)
            guides += g
            polls += p
        if deleted:
            guides = [e for e in guides if e["visitorId"] not in deleted]
            polls = [e for e in polls if e["visitorId"] not in deleted]
        guides.sort(key=itemgetter("browserTime"))
        polls.sort(key=itemgetter("browserTime"))
        return guides, polls

    key = ("rw", "guides", day, len(batches), len(deleted))
    return act.cache.get(key, build, lambda v: GUIDE_EVENT_BYTES * (len(v[0]) + len(v[1])))


# --- one late batch's rows (keys end in the batch index, never in a (source, day) a retag discards) ---
def _late_sessions(act: Activity, batch: LateBatch) -> list[Session]:
    def build() -> list[Session]:
        day = batch.day
        return late_sessions(rng(act.seed, act.scale, "late-sessions", day, batch.index), batch,
                             act.people.by_id, act.clock.hour_starts(day), act.clock.day_end(day),
                             act.catalog.servers)
    return act.cache.get(("late", "sessions", batch.day, batch.index), build, lambda v: SESSION_BYTES * len(v))


def late_hour_rows(act: Activity, source: str, batch: LateBatch) -> list[HourRow]:
    return act.cache.get(("late", batch.day, batch.index, source), lambda: hour_rows(
        rng(act.seed, act.scale, "late", source, batch.day, batch.index), _late_sessions(act, batch),
        act.by_app[source], replace(act.shapes[source], share=LATE_SHARE)), lambda v: HOUR_ROW_BYTES * len(v))


def late_guide_events(act: Activity, batch: LateBatch) -> tuple[list[dict], list[dict]]:
    return act.cache.get(("late", "guides", batch.day, batch.index), lambda: day_guide_events(
        rng(act.seed, act.scale, "late-guides", batch.day, batch.index), _late_sessions(act, batch),
        poll_guides_first(act.catalog.guides_by_app), LATE_SHARE, act.clock.day_end(batch.day)),
        lambda v: GUIDE_EVENT_BYTES * (len(v[0]) + len(v[1])))
