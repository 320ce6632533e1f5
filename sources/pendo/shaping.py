"""Turn Pendo rows into the rows an analyst sees.

- Keys become snake_case (``visitorId`` -> ``visitor_id``) the same way dlt's default naming
  convention would, so hints written here match the columns dlt creates.
- Epoch-ms fields become UTC datetimes, so the warehouse gets ``timestamp`` columns instead of
  bigints nobody remembers to convert.
- Visitor/account ``metadata`` is flattened to one typed column per schema field
  (``metadata_<group>_<field>``) using ``/api/v1/metadata/schema/{kind}``. Pendo sends values
  that do not match their declared type (numeric strings, "true"); a value that cannot be
  coerced never fails the load and is never dropped: its column is set to None and the
  original goes to the JSON column ``_pendo_uncoercible`` as ``{column: original}``.

Nothing here flattens nested objects: dlt does that (``a__b`` columns, child tables for lists).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Literal

from dlt.common.normalizers.naming.snake_case import NamingConvention

from sources.pendo.aggregation import CURSOR_ALIAS

MetadataKind = Literal["visitor", "account"]
UNCOERCIBLE_COLUMN = "_pendo_uncoercible"

_BREAK_1 = re.compile(r"([^_])([A-Z][a-z]+)")  # same breaks as dlt's snake_case naming
_BREAK_2 = re.compile(r"([a-z0-9])([A-Z])")
_NAMING = NamingConvention()
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_INT64 = (-(2**63), 2**63 - 1)
_PER_APP_GROUP = re.compile(r"^(.*?)_+-?\d+$")  # auto__323232 / auto_323232 -> auto


@lru_cache(maxsize=8192)
def snake_case(name: str) -> str:
    """``lastUpdatedAt`` -> ``last_updated_at``, ``isNPS`` -> ``is_nps``; lowercase stays as is."""
    return _BREAK_2.sub(r"\1_\2", _BREAK_1.sub(r"\1_\2", name)).lower()


EPOCH_MS_FIELDS: frozenset[str] = frozenset(
    {
        # objects (pages, features, guides, reports, track types, users)
        "createdAt", "lastUpdatedAt", "validThrough", "dailyMergeFirst", "dailyRollupFirst",
        "publishedAt", "publishedEver", "resetAt", "showsAfter", "expiresAfter",
        "currentFirstEligibleToBeSeenAt", "lastLogin", "deletedAt", "lastRunAt", "lastSuccessRunAt",
        # event rows and buckets
        "day", "hour", "firstTime", "lastTime", "browserTime", "guideTimestamp",
        "firstSeenAt", "lastSeenAt", "lastAdvancedAutoAt", "lastDismissedAutoAt", "lastTimeoutAt",
        "startTime", "endTime", "lastKeyFrameTimestamp",
        # visitor history
        "ts", "lastTs",
        # visitor/account auto metadata
        "firstvisit", "lastvisit", "lastupdated", "lastmetadataupdate_agent",
    }
)  # fmt: skip
"""Raw Pendo keys whose values are epoch milliseconds."""

OPAQUE_FIELDS: frozenset[str] = frozenset({"properties", "parameters"})
"""Customer-defined maps (track-event properties, URL parameters): their keys are snake_cased
but never treated as timestamps, since a property named ``day`` means whatever the customer
meant."""


def ms_to_datetime(value: Any) -> _dt.datetime | None:
    """Epoch ms (int, float or numeric string) -> aware UTC datetime.

    ``None`` and ``""`` -> None. 0 is 1970-01-01, not "missing": Pendo writes 0 for real
    (``auto__323232.firstvisit``) and we do not guess. Raises ValueError for anything else.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"not an epoch-ms value: {value!r}")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            value = float(value.strip())
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        raise ValueError(f"not a finite epoch-ms value: {value!r}")
    try:
        return _EPOCH + _dt.timedelta(milliseconds=float(value) if isinstance(value, Decimal) else value)
    except OverflowError:
        raise ValueError(f"epoch ms out of range: {value!r}") from None


def _shape_value(key: str, value: Any, opaque: bool = False) -> Any:
    if not opaque and key in EPOCH_MS_FIELDS and isinstance(value, int | float | str | Decimal):
        try:
            return ms_to_datetime(value)
        except ValueError:
            return value  # keep it: dlt stores it in a variant column rather than losing it
    return _shape_any(value, opaque or key in OPAQUE_FIELDS)


def _shape_any(value: Any, opaque: bool = False) -> Any:
    if isinstance(value, dict):
        return {snake_case(k): _shape_value(k, v, opaque) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape_any(v, opaque) for v in value]
    return value


def shape(row: dict[str, Any]) -> dict[str, Any]:
    """snake_case every key (nested too) and turn :data:`EPOCH_MS_FIELDS` into datetimes.

    A timestamp that cannot be converted is kept as is. Lists and nested objects are kept.
    """
    return _shape_any(row)


# --------------------------------------------------------------------------------------------
# Metadata schema
# --------------------------------------------------------------------------------------------

DLT_TYPES: dict[str, str] = {
    "string": "text",
    "integer": "bigint",
    "float": "double",
    "boolean": "bool",
    "time": "timestamp",
    "list": "json",
    "": "json",
}
"""Pendo ``Type`` -> dlt ``data_type``; any other (unknown) Type maps to ``json``."""


@lru_cache(maxsize=8192)
def metadata_column(group: str, name: str) -> str:
    """Column for a metadata field: ``metadata_<group>_<field>``, normalized like dlt would
    (``auto__323232`` -> ``auto_323232``, spaces/dashes -> ``_``) so hints match the data."""
    return _NAMING.normalize_identifier(f"metadata_{snake_case(group)}_{snake_case(name)}")


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class MetadataField:
    """One field of ``/api/v1/metadata/schema/{kind}``."""

    kind: str
    group: str
    name: str
    type: str
    display_name: str | None = None
    element_type: str | None = None
    element_format: str | None = None
    is_hidden: bool = False
    is_deleted: bool = False
    is_calculated: bool = False
    is_per_app: bool = False
    is_promoted: bool = False
    never_index: bool = False
    dirty: bool = False

    @property
    def column_name(self) -> str:
        return metadata_column(self.group, self.name)

    @property
    def data_type(self) -> str:
        return DLT_TYPES.get(self.type, "json")

    @classmethod
    def from_descriptor(cls, kind: str, group: str, name: str, desc: Any) -> MetadataField:
        d = desc if isinstance(desc, dict) else {}
        raw_type = d.get("Type")
        return cls(
            kind=kind,
            group=group,
            name=name,
            type=raw_type.strip().lower() if isinstance(raw_type, str) else "",
            display_name=_text(d.get("DisplayName")),
            element_type=_text(d.get("ElementType")),
            element_format=_text(d.get("ElementFormat")),
            is_hidden=_flag(d.get("isHidden")),
            is_deleted=_flag(d.get("isDeleted")),
            is_calculated=_flag(d.get("isCalculated")),
            is_per_app=_flag(d.get("isPerApp")),
            is_promoted=_flag(d.get("isPromoted")),
            never_index=_flag(d.get("neverIndex")),
            dirty=_flag(d.get("Dirty")),
        )


@dataclass
class MetadataSchema:
    """Parsed metadata schema of one kind; fields keyed by raw (group, name)."""

    kind: str
    fields: list[MetadataField] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_key = {(f.group, f.name): f for f in self.fields}
        self.assigner: Any = None  # a columns.ColumnAssigner: unique, stable columns across runs (set by the source)

    def use_columns(self, assigner: Any) -> MetadataSchema:
        """Name columns with ``assigner`` (``sources.pendo.columns``); every schema field gets its column now."""
        assigner.assign((f.group, f.name) for f in self.fields)
        self.assigner = assigner
        return self

    def column_of(self, group: str, name: str) -> str:
        """The column of a field, in the schema or not; the plain normalized name without an assigner."""
        return metadata_column(group, name) if self.assigner is None else self.assigner.column(group, name)

    @classmethod
    def from_api(cls, kind: MetadataKind, body: Any) -> MetadataSchema:
        """Odd descriptors become untyped (json), a null group is empty; a body or group of another type is refused.

        Typing the warehouse from a schema Pendo did not mean would fix wrong column types for good, so a
        malformed schema raises ``ValueError`` instead of silently meaning "no fields".
        """
        if kind not in ("visitor", "account"):
            raise ValueError(f"kind must be 'visitor' or 'account', got {kind!r}")
        if not isinstance(body, dict):
            raise ValueError(f"metadata schema body is not an object (got {type(body).__name__})")
        odd = [group for group, group_fields in body.items() if group_fields is not None and
               not isinstance(group_fields, dict)]  # null is an empty group; 5 or a list is not a schema
        if odd:
            raise ValueError(f"metadata schema group(s) {', '.join(map(str, odd))} are not objects")
        fields = [
            MetadataField.from_descriptor(kind, group, name, desc)
            for group, group_fields in body.items()
            if isinstance(group_fields, dict)
            for name, desc in group_fields.items()
        ]
        return cls(kind, fields)

    def lookup(self, group: str, name: str) -> MetadataField | None:
        """The field, falling back from a per-app group (``auto__323232``) to its base group."""
        found = self._by_key.get((group, name))
        if found is None and (m := _PER_APP_GROUP.match(group)):
            found = self._by_key.get((m.group(1), name))
        return found

    def column_hints(self) -> dict[str, dict[str, Any]]:
        """dlt column hints for ``resource.apply_hints(columns=...)``; without an assigner, first field wins
        on a column-name collision."""
        hints: dict[str, dict[str, Any]] = {}
        for f in self.fields:
            column = self.column_of(f.group, f.name)
            col: dict[str, Any] = {"name": column, "data_type": f.data_type, "nullable": True}
            if f.data_type == "timestamp":
                col["timezone"] = True
            hints.setdefault(column, col)
        hints[UNCOERCIBLE_COLUMN] = {"name": UNCOERCIBLE_COLUMN, "data_type": "json", "nullable": True}
        return hints


def metadata_field_rows(schema: MetadataSchema) -> list[dict[str, Any]]:
    """Rows of the ``metadata_fields`` table (key: kind, group, field)."""
    return [
        {
            "kind": f.kind,
            "group": f.group,
            "field": f.name,
            "column_name": schema.column_of(f.group, f.name),
            "type": f.type,
            "display_name": f.display_name,
            "element_type": f.element_type,
            "element_format": f.element_format,
            "is_hidden": f.is_hidden,
            "is_deleted": f.is_deleted,
            "is_calculated": f.is_calculated,
            "is_per_app": f.is_per_app,
            "is_promoted": f.is_promoted,
            "never_index": f.never_index,
            "dirty": f.dirty,
        }
        for f in schema.fields
    ]


# --------------------------------------------------------------------------------------------
# Coercion
# --------------------------------------------------------------------------------------------


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("bool is not an integer")
    if isinstance(value, int):
        result = value
    elif isinstance(value, float | str | Decimal):
        try:
            dec = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
        if not dec.is_finite() or dec != dec.to_integral_value():
            raise ValueError(f"not an integer: {value!r}")
        result = int(dec)
    else:
        raise ValueError(f"not an integer: {value!r}")
    if not _INT64[0] <= result <= _INT64[1]:
        raise ValueError(f"integer out of bigint range: {value!r}")
    return result


def _to_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"not a number: {value!r}")
    result = float(value.strip() if isinstance(value, str) else value)
    if not math.isfinite(result):
        raise ValueError(f"not a finite number: {value!r}")
    return result


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError(f"not a boolean: {value!r}")


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    raise ValueError(f"not a string: {value!r}")


def _to_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    raise ValueError(f"not a list: {value!r}")


_COERCE = {
    "time": ms_to_datetime,
    "integer": _to_int,
    "float": _to_float,
    "boolean": _to_bool,
    "string": _to_str,
    "list": _to_list,
}


def coerce(value: Any, pendo_type: str | None) -> Any:
    """Coerce one metadata value to its Pendo Type; raises ValueError when it cannot.

    None stays None; ``""`` means "no value" for time/integer/float/boolean. Type ``""`` or an
    unknown Type returns the value untouched (a JSON column).
    """
    if value is None:
        return None
    func = _COERCE.get(pendo_type or "")
    if func is None:
        return value
    if value == "" and pendo_type != "string":
        return None
    return func(value)


def flatten_metadata(row: dict[str, Any], id_field: str, schema: MetadataSchema) -> dict[str, Any]:
    """``{"visitorId": .., "metadata": {group: {field: v}}}`` -> flat typed row.

    Output: ``visitor_id`` (snake_cased ``id_field``), other top-level keys shaped (the keyset
    helper ``_cursor`` is dropped), then one ``metadata_<group>_<field>`` per field. Schema
    fields are coerced by Type; other fields get default shaping (auto ``lastupdated``,
    ``firstvisit``, ``lastvisit`` still become datetimes).
    Uncoercible values: column None, original in ``_pendo_uncoercible`` ``{column: original}``.
    """
    out: dict[str, Any] = {snake_case(id_field): row.get(id_field)}
    for key, value in row.items():
        if key not in (id_field, "metadata", CURSOR_ALIAS):
            out[snake_case(key)] = _shape_value(key, value)
    uncoercible: dict[str, Any] = {}
    metadata = row.get("metadata")
    if isinstance(metadata, dict):
        for group, group_fields in metadata.items():
            if not isinstance(group_fields, dict):
                out[_NAMING.normalize_identifier(f"metadata_{snake_case(group)}")] = group_fields
                continue
            for name, value in group_fields.items():
                column = schema.column_of(group, name)
                meta_field = schema.lookup(group, name)
                try:
                    if meta_field is not None:
                        out[column] = coerce(value, meta_field.type)
                    elif name in EPOCH_MS_FIELDS and value is not None:
                        out[column] = coerce(value, "time")
                    else:
                        out[column] = _shape_any(value)
                except (ValueError, TypeError):
                    out[column] = None
                    uncoercible[column] = value
    if uncoercible:
        out[UNCOERCIBLE_COLUMN] = uncoercible
    return out
