"""The control calls that rewrite the past (late data, rule edits, deletions), on a live ``Dataset``.

Each call records what happened in ``Activity.rewrites`` (see rewrites.py for how the served rows
follow from it) and answers with a summary. The caller holds the server's state lock, so snapshots
see a call entirely or not at all.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import TYPE_CHECKING

from .late import LateBatch, choose_visitors, usable_hours
from .rewrites import late_guide_events, late_hour_rows
from .rollups import ROLLUPS
from .rule_edits import KIND_SOURCE, STAY, RuleEdit, fate, other_entity, patch_entity
from .seeding import rng, seed_of

if TYPE_CHECKING:
    from .dataset import Dataset

EMPTIED_SHARE = 8  # besides the middle one, about one day in 8 that had rows loses all of them


def _forget_layers(ds: Dataset) -> None:
    """Drop cached layers of the previous state; the generated days they were built from stay."""
    ds.activity.cache.discard(lambda k: k[0] != "rw")


def add_late(ds: Dataset, day: str, visitors: int = 20) -> dict:
    """``visitors`` late sessions on local ``day`` (a day of the served history, today included)."""
    day = date.fromisoformat(day).isoformat()
    clock, act = ds.clock, ds.activity
    start = clock.day_start(day)
    if not ds.history_start_ms() <= start < ds.now_ms:
        raise ValueError(f"day {day} is not in the served history "
                         f"({clock.day_of(ds.history_start_ms())} to {clock.day_of(ds.now_ms)})")
    if visitors < 1:
        raise ValueError("visitors must be at least 1")
    rw = act.rewrites
    index = len(rw.late.get(day, ()))
    ids = choose_visitors(rng(ds.seed, ds.scale, "late-visitors", day, index), act.pool, rw.deleted_visitors,
                          start, visitors)
    batch = LateBatch(day, index, ids, usable_hours(clock.hour_starts(day), clock.day_end(day), ds.cutoff_ms))
    rw.late = {**rw.late, day: rw.late.get(day, ()) + (batch,)}
    _forget_layers(ds)
    rows = {s: len(late_hour_rows(act, s, batch)) for s in ROLLUPS}
    rows["events"] = sum(rows.values())
    guides, polls = late_guide_events(act, batch)
    rows |= {"guideEvents": len(guides), "pollEvents": len(polls)}
    return {"day": day, "rows": rows}


def rule_edit(ds: Dataset, kind: str, entity_id: str | None = None) -> dict:
    """Reprocess an entity's whole lifetime under an edited rule (the one with most rows when no id)."""
    if kind not in KIND_SOURCE:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KIND_SOURCE)}")
    source, act = KIND_SOURCE[kind], ds.activity
    days = list(ds.clock.days(ds.history_start_ms(), ds.clock.day_end(ds.clock.day_of(ds.now_ms))))
    per_day = {day: Counter(row[4] for row in act.tagged_rows(source, day)) for day in days}
    if entity_id is None:
        totals = sum(per_day.values(), Counter())
        if not totals:
            raise ValueError(f"no {kind} has any history to edit")
        entity_id = max(totals, key=lambda e: (totals[e], e))
    entity = next((e for e in ds.catalog.kind(kind) if e["id"] == entity_id), None)
    if entity is None:
        raise ValueError(f"unknown {kind} id {entity_id!r}")
    index = len(act.rewrites.edits)
    had = [day for day in days if per_day[day][entity_id]]
    emptied = {day for day in had if seed_of("emptied", index, day) % EMPTIED_SHARE == 0}
    if had:
        emptied.add(had[len(had) // 2])
    moved_to = other_entity(act.by_app[source][entity["appId"]].ids, entity_id)
    edit = RuleEdit(index, kind, entity_id, moved_to, ds.now_ms, frozenset(emptied))
    changed = [day for day in had if any(row[4] == entity_id and fate(edit, day, row) != STAY
                                         for row in act.tagged_rows(source, day))]
    act.rewrites.edits += (edit,)
    _forget_layers(ds)
    return {"kind": kind, "id": entity_id, "moved_to": moved_to, "days_changed": changed,
            "days_emptied": sorted(emptied)}


def patch_entities(ds: Dataset, kind: str, rows: list[dict]) -> list[dict]:
    """The entity list as it reads after the rule edits of ``kind`` (``rows`` is a private copy)."""
    edits = [e for e in ds.activity.rewrites.edits if e.kind == kind]
    if edits:
        by_id = {row["id"]: row for row in rows}
        for edit in edits:
            patch_entity(kind, by_id[edit.entity_id], edit)
    return rows


def delete_visitor(ds: Dataset, visitor_id: str) -> dict:
    """The visitor leaves the visitors source, its record and history, and every event row of it."""
    rw = ds.activity.rewrites
    if ("visitor", visitor_id) not in ds.people.by_id or visitor_id in rw.deleted_visitors:
        raise ValueError(f"unknown visitor {visitor_id!r}")
    rw.deleted_visitors |= {visitor_id}
    _forget_layers(ds)
    return {"deleted_visitor": visitor_id}


def delete_account(ds: Dataset, account_id: str) -> dict:
    """The account leaves the accounts source and ``GET /account/{id}``. Its visitors and their rows
    stay (their accountId included), as with Pendo's bulk delete of accounts, which deletes no visitor."""
    rw = ds.activity.rewrites
    if ("account", account_id) not in ds.people.by_id or account_id in rw.deleted_accounts:
        raise ValueError(f"unknown account {account_id!r}")
    rw.deleted_accounts |= {account_id}
    return {"deleted_account": account_id}


def is_deleted(ds: Dataset, kind: str, record_id: str) -> bool:
    rw = ds.activity.rewrites
    return record_id in (rw.deleted_visitors if kind == "visitor" else rw.deleted_accounts)
