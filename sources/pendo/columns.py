"""One unique, stable warehouse column per Pendo metadata field, whatever the fields are called.

dlt's snake_case naming maps ``planLevel``, ``plan_level``, ``plan__level``, ``Plan Level`` and ``plan.level`` to
the same ``metadata_custom_plan_level``, and every non-ASCII name (``名前``, ``住所``) to ``metadata_customxx``:
left alone, those fields would share one column and all but one value of each record would be lost.

The rule, deterministic and recorded (``metadata_fields.column_name``, and the source state, which travels with
the data so a fresh machine restores it):

1. A field keeps the column it was given by an earlier run (the state), forever: a colliding field that appears
   later never takes a column from a field already loaded.
2. A new field gets its plain name (``metadata_<group>_<field>``) when no other field holds it, the name is
   ASCII and it normalizes to something (``名前`` does not). Among new fields that want the same plain name, the
   one whose name is already in snake_case (``plan_level``) wins; otherwise the first in sorted order.
3. Every other field gets the plain name plus ``_`` and 8 hex digits of a hash of its raw group and name
   (``metadata_custom_plan_level_1c0f9a2e``, ``metadata_customxx_5f1b2c9d``): the same suffix on every machine,
   whatever order the fields arrive in.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, MutableMapping

from sources.pendo.shaping import MetadataSchema, metadata_column, snake_case

logger = logging.getLogger("pendo_elt")

STATE_KEY = "metadata_columns"  # in the source state: {kind: {"<group>\x1f<name>": column}}
_ALNUM = re.compile(r"[A-Za-z0-9]")
_SEP = "\x1f"  # cannot occur in a JSON key Pendo sends us as a group name


def _key(group: str, name: str) -> str:
    return f"{group}{_SEP}{name}"


def _lossy(group: str, name: str) -> bool:
    """The plain column does not identify the field: non-ASCII characters were replaced, or no letter or digit
    was left (``""``, ``"-"``)."""
    return not (group + name).isascii() or not _ALNUM.search(name)


def _suffixed(group: str, name: str, column: str, taken: set[str]) -> str:
    digest = hashlib.sha1(_key(group, name).encode()).hexdigest()
    for width in range(8, 41, 4):  # a longer suffix only if two fields' hashes ever share a prefix
        candidate = f"{column}_{digest[:width]}"
        if candidate not in taken:
            return candidate
    raise AssertionError("unreachable: sha1 prefixes of distinct keys differ")


class ColumnAssigner:
    """Columns of one metadata kind (visitor or account); ``assigned`` is the state entry, updated in place."""

    def __init__(self, kind: str, assigned: MutableMapping[str, str] | None = None) -> None:
        self.kind = kind
        self.assigned: MutableMapping[str, str] = assigned if assigned is not None else {}
        self._taken = set(self.assigned.values())
        self._memo: dict[tuple[str, str], str] = {}
        self.renamed: list[tuple[str, str, str]] = []  # (group, name, column) given a suffixed column this run

    def assign(self, fields: Iterable[tuple[str, str]]) -> None:
        """Give every new (group, name) a column, by the rule in the module docstring."""
        new = sorted({(g, n) for g, n in fields if _key(g, n) not in self.assigned})
        # plain-name claimants first, the field already in snake_case ahead of the others wanting its name
        new.sort(key=lambda f: (snake_case(f[1]) != f[1], f))
        for group, name in new:
            self._give(group, name)

    def column(self, group: str, name: str) -> str:
        """The field's column; a field outside the schema (Pendo sends some) is assigned on first sight."""
        found = self._memo.get((group, name))  # once per field per record: a tuple lookup, no string building
        if found is None:
            found = self.assigned.get(_key(group, name)) or self._give(group, name)
            self._memo[(group, name)] = found
        return found

    def _give(self, group: str, name: str) -> str:
        plain = metadata_column(group, name)
        if plain in self._taken or _lossy(group, name):
            column = _suffixed(group, name, plain, self._taken)
            self.renamed.append((group, name, column))
        else:
            column = plain
        self.assigned[_key(group, name)] = column
        self._taken.add(column)
        return column

    def warn_once(self) -> None:
        """One warning line for the fields given a suffixed column in this run (never again for them)."""
        if not self.renamed:
            return
        shown = ", ".join(f"{g}.{n} -> {c}" for g, n, c in self.renamed[:6])
        more = f" and {len(self.renamed) - 6} more" if len(self.renamed) > 6 else ""
        logger.warning("%d %s metadata field(s) collide with another field's column name after normalization or "
                       "have no ASCII name; each gets its own column (%s%s); metadata_fields.column_name maps "
                       "every Pendo field to its column", len(self.renamed), self.kind, shown, more)
        self.renamed = []


def assigner_from_state(source_state: MutableMapping, kind: str) -> ColumnAssigner:
    """The kind's assigner over the columns recorded in the source state (created empty on a first run)."""
    return ColumnAssigner(kind, source_state.setdefault(STATE_KEY, {}).setdefault(kind, {}))


def stable_columns(schema: MetadataSchema) -> MetadataSchema:
    """Inside a resource: name ``schema``'s columns by the rule above, from and into the current source state."""
    import dlt

    assigner = assigner_from_state(dlt.current.source_state(), schema.kind)
    schema.use_columns(assigner)
    assigner.warn_once()
    return schema
