"""Tag-rule edits: Pendo reprocesses a page's, feature's or track type's whole lifetime under a new rule.

"Editing an existing tag clears the previous tagged events and reprocesses the tag using the new
tagging rule": on every day, some of the entity's rows still match (they stay), some now match
another entity of the same app (re-attributed to ``moved_to``), some match nothing (no longer
tagged), and on the ``emptied`` days none of its rows stay. Activity itself does not change, so
``events`` (which is not tagged) stays as it was. Each row's fate is a hash of the edit and the row,
so an edit applies the same way to days generated later, to the current day as it grows, and to days
re-generated after a cache eviction.
"""

from __future__ import annotations

from dataclasses import dataclass

from .rollups import HourRow
from .seeding import seed_of

KIND_SOURCE = {"page": "pageEvents", "feature": "featureEvents", "tracktype": "trackEvents"}
STAY, MOVE, DROP = 0, 1, 2


@dataclass(frozen=True, slots=True)
class RuleEdit:
    index: int  # order among all edits: later edits apply to what earlier ones left
    kind: str
    entity_id: str
    moved_to: str | None  # None when the app has no other entity of that kind: moved rows are dropped
    at_ms: int
    emptied: frozenset[str]  # local days on which none of the entity's rows stay

    @property
    def source(self) -> str:
        return KIND_SOURCE[self.kind]


def fate(edit: RuleEdit, day: str, row: HourRow) -> int:
    """STAY, MOVE or DROP for one of the edited entity's hour rows: 50/30/20, no STAY on emptied days."""
    h = seed_of("rule-edit", edit.index, row[0], row[1], row[5], row[6], row[7], row[8]) % 10
    if day in edit.emptied:
        return MOVE if h < 6 else DROP
    return STAY if h < 5 else MOVE if h < 8 else DROP


def apply_edits(edits: tuple[RuleEdit, ...], day: str, rows: list[HourRow]) -> list[HourRow]:
    """The hour rows of one source and day as tagged after ``edits`` (all of that source), in order."""
    for edit in edits:
        target, out = edit.entity_id, []
        for row in rows:
            if row[4] != target:
                out.append(row)
                continue
            f = fate(edit, day, row)
            if f == STAY:
                out.append(row)
            elif f == MOVE and edit.moved_to is not None:
                out.append(row[:4] + (edit.moved_to,) + row[5:])
        rows = out
    return rows


def other_entity(ids: list[str], entity_id: str) -> str | None:
    """The entity that takes re-attributed rows: the app's most used other one (its lists are by popularity)."""
    return next((i for i in ids if i != entity_id), None)


def patch_entity(kind: str, row: dict, edit: RuleEdit) -> None:
    """Show the edit in the entity list: a new rule, a new version, ``lastUpdatedAt`` at the edit."""
    n = edit.index + 1
    row["lastUpdatedAt"] = edit.at_ms
    row["stableVersionId"] = f"{row['stableVersionId'].rsplit('-', 1)[0]}-{edit.at_ms}"
    if kind == "page":
        row["rules"] = [dict(rule, rule=f"{rule['rule']}?edit={n}",
                             parsedRule=rule["parsedRule"].replace("/?(?:", f"\\?edit={n}(?:", 1))
                        for rule in row["rules"]]
    elif kind == "feature":
        row["elementPathRules"] = [f"{rule}:not(.edit-{n})" for rule in row["elementPathRules"]]
    else:
        row["trackTypeRules"] = [f"{rule} (edit {n})" for rule in row["trackTypeRules"]]
