"""What the analyst sees: snake_case columns, real timestamps, typed visitor/account metadata.

Pendo sends every time as epoch milliseconds (``createdAt``, ``day``, ``metadata.auto.lastupdated``)
and camelCase keys. Metadata values do not always match their declared Type (numeric strings,
"true"), so coercion is by the Type in ``/api/v1/metadata/schema/{kind}``; a value that does not fit
is never dropped and never fails the load: its column is None and the original is kept in the JSON
column ``_pendo_uncoercible`` as ``{column: original}``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from dlt.common.normalizers.naming.snake_case import NamingConvention

from sources.pendo.shaping import (
    EPOCH_MS_FIELDS,
    UNCOERCIBLE_COLUMN,
    MetadataField,
    MetadataSchema,
    coerce,
    flatten_metadata,
    metadata_column,
    metadata_field_rows,
    ms_to_datetime,
    shape,
    snake_case,
)

UTC = dt.UTC


def at(ms: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(milliseconds=ms)


# --- keys -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "column"),
    [
        ("visitorId", "visitor_id"),
        ("appId", "app_id"),
        ("numEvents", "num_events"),
        ("lastUpdatedAt", "last_updated_at"),
        ("remoteIp", "remote_ip"),
        ("trackTypeId", "track_type_id"),
        ("guideStepId", "guide_step_id"),
        ("isNPS", "is_nps"),
        ("id", "id"),
        ("lastupdated", "lastupdated"),
        ("firstvisit", "firstvisit"),
        ("currentFirstEligibleToBeSeenAt", "current_first_eligible_to_be_seen_at"),
    ],
)
def test_snake_case(key: str, column: str) -> None:
    assert snake_case(key) == column
    assert NamingConvention().normalize_identifier(key) == column, "same column name dlt would derive"


# --- timestamps -----------------------------------------------------------------------------------
def test_epoch_ms_fields_cover_pendo_time_keys() -> None:
    for key in ("createdAt", "lastUpdatedAt", "day", "hour", "browserTime", "lastLogin", "lastupdated"):
        assert key in EPOCH_MS_FIELDS
    assert "visitorId" not in EPOCH_MS_FIELDS and "numMinutes" not in EPOCH_MS_FIELDS


def test_ms_to_datetime() -> None:
    assert ms_to_datetime(1543726800000) == dt.datetime(2018, 12, 2, 5, tzinfo=UTC)
    assert ms_to_datetime("1543726800000") == dt.datetime(2018, 12, 2, 5, tzinfo=UTC)
    assert ms_to_datetime(1543726800000.5) == dt.datetime(2018, 12, 2, 5, 0, 0, 500, tzinfo=UTC)
    assert ms_to_datetime(0) == dt.datetime(1970, 1, 1, tzinfo=UTC), "0 is 1970, not missing"
    assert ms_to_datetime(-1000) == dt.datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert ms_to_datetime(None) is None and ms_to_datetime("") is None
    assert ms_to_datetime(1).tzinfo is not None  # type: ignore[union-attr]
    for bad in (True, "soon", float("nan"), 10**20, {"a": 1}):
        with pytest.raises(ValueError):
            ms_to_datetime(bad)


# --- shape() --------------------------------------------------------------------------------------
def test_shape_event_row() -> None:
    row = {
        "accountId": "tempAccount",
        "appId": -323232,
        "day": 1543726800000,
        "numEvents": 1,
        "pageId": "4nB8NFtp6zpThsvts93XukexIDc",
        "remoteIp": "2409:4052::1",
        "visitorId": "Ünïcode visitorId stays as is",
        "parameters": {"pageNum": "2", "day": 3},
    }
    assert shape(row) == {
        "account_id": "tempAccount",
        "app_id": -323232,
        "day": dt.datetime(2018, 12, 2, 5, tzinfo=UTC),
        "num_events": 1,
        "page_id": "4nB8NFtp6zpThsvts93XukexIDc",
        "remote_ip": "2409:4052::1",
        "visitor_id": "Ünïcode visitorId stays as is",
        "parameters": {"page_num": "2", "day": 3},  # customer maps are never read as timestamps
    }


def test_shape_is_recursive_but_does_not_flatten() -> None:
    guide = {
        "id": "g1",
        "createdAt": 1531108800000,
        "createdByUser": {"id": "u", "lastLogin": "1540008000000", "visitorIds": ["a", "b"]},
        "steps": [{"id": "s1", "lastUpdatedAt": 1531108800000, "pollIds": ["p"]}],
        "validThrough": "never",
    }
    assert shape(guide) == {
        "id": "g1",
        "created_at": at(1531108800000),
        "created_by_user": {"id": "u", "last_login": at(1540008000000), "visitor_ids": ["a", "b"]},
        "steps": [{"id": "s1", "last_updated_at": at(1531108800000), "poll_ids": ["p"]}],
        "valid_through": "never",  # unconvertible: kept, not lost
    }
    assert guide["createdAt"] == 1531108800000, "input is not mutated"


# --- metadata schema ------------------------------------------------------------------------------
SCHEMA_BODY = {
    "auto": {
        "id": {"Type": "string", "DisplayName": "Visitor ID", "isHidden": False, "Dirty": False},
        "lastupdated": {"Type": "time", "DisplayName": "Last Updated"},
        "firstvisit": {"Type": "time"},
        "accountids": {"Type": "list", "ElementType": "string"},
    },
    "agent": {"email": {"Type": "string", "sample": "x@example.com"}},
    "custom": {
        "plan": {"Type": "string", "DisplayName": "Plan", "isPerApp": True},
        "seats": {"Type": "integer"},
        "arr": {"Type": "float"},
        "vip": {"Type": "boolean", "isHidden": True, "isDeleted": "true"},
        "signupDate": {"Type": "time", "ElementFormat": "ms"},
        "odd": {"Type": "timestamp"},
        "untyped": {"DisplayName": "No Type at all"},
        "weird": "not a descriptor",
    },
    "hubspot": {"list": {"Type": "", "sample": ["private-metadata"]}},
    "salesforce": None,
}


@pytest.fixture
def schema() -> MetadataSchema:
    return MetadataSchema.from_api("visitor", SCHEMA_BODY)


def test_schema_parsing_is_tolerant(schema: MetadataSchema) -> None:
    by_name = {(f.group, f.name): f for f in schema.fields}
    assert len(schema.fields) == 14
    assert by_name[("custom", "odd")].type == "timestamp" and by_name[("custom", "odd")].data_type == "json"
    assert by_name[("custom", "untyped")].type == "" and by_name[("custom", "weird")].data_type == "json"
    vip = by_name[("custom", "vip")]
    assert vip.is_hidden and vip.is_deleted and not vip.is_calculated
    assert by_name[("custom", "plan")] == MetadataField(
        kind="visitor", group="custom", name="plan", type="string", display_name="Plan", is_per_app=True
    )
    with pytest.raises(ValueError):
        MetadataSchema.from_api("visitor", ["not", "an", "object"])
    with pytest.raises(ValueError):
        MetadataSchema.from_api("segment", {})  # type: ignore[arg-type]


def test_column_hints(schema: MetadataSchema) -> None:
    hints = schema.column_hints()
    assert hints["metadata_auto_lastupdated"] == {
        "name": "metadata_auto_lastupdated",
        "data_type": "timestamp",
        "nullable": True,
        "timezone": True,
    }
    types = {name: h["data_type"] for name, h in hints.items()}
    assert types == {
        "metadata_auto_id": "text",
        "metadata_auto_lastupdated": "timestamp",
        "metadata_auto_firstvisit": "timestamp",
        "metadata_auto_accountids": "json",
        "metadata_agent_email": "text",
        "metadata_custom_plan": "text",
        "metadata_custom_seats": "bigint",
        "metadata_custom_arr": "double",
        "metadata_custom_vip": "bool",
        "metadata_custom_signup_date": "timestamp",
        "metadata_custom_odd": "json",
        "metadata_custom_untyped": "json",
        "metadata_custom_weird": "json",
        "metadata_hubspot_list": "json",
        UNCOERCIBLE_COLUMN: "json",
    }
    naming = NamingConvention()
    assert all(naming.normalize_identifier(name) == name for name in hints), "hints match dlt's columns"


def test_metadata_column_names_are_dlt_normalized() -> None:
    assert metadata_column("custom", "plan") == "metadata_custom_plan"
    assert metadata_column("auto", "lastupdated") == "metadata_auto_lastupdated"
    assert metadata_column("agent", "email") == "metadata_agent_email"
    assert metadata_column("auto__323232", "firstvisit") == "metadata_auto_323232_firstvisit"
    assert metadata_column("custom", "Plan Type") == "metadata_custom_plan_type"


def test_metadata_field_rows(schema: MetadataSchema) -> None:
    rows = metadata_field_rows(schema)
    assert len(rows) == 14
    assert rows[0] == {
        "kind": "visitor",
        "group": "auto",
        "field": "id",
        "column_name": "metadata_auto_id",
        "type": "string",
        "display_name": "Visitor ID",
        "element_type": None,
        "element_format": None,
        "is_hidden": False,
        "is_deleted": False,
        "is_calculated": False,
        "is_per_app": False,
        "is_promoted": False,
        "never_index": False,
        "dirty": False,
    }
    assert len({(r["kind"], r["group"], r["field"]) for r in rows}) == len(rows)


# --- coercion -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pendo_type", "value", "expected"),
    [
        ("time", 1535558257624, at(1535558257624)),
        ("time", "1535558257624", at(1535558257624)),
        ("time", 0, at(0)),
        ("time", "", None),
        ("integer", 12, 12),
        ("integer", "12", 12),
        ("integer", 12.0, 12),
        ("integer", " -3 ", -3),
        ("float", "1.5", 1.5),
        ("float", 2, 2.0),
        ("boolean", "true", True),
        ("boolean", "FALSE", False),
        ("boolean", 1, True),
        ("boolean", False, False),
        ("string", 42, "42"),
        ("string", True, "true"),
        ("string", "", ""),
        ("list", ["a", 1], ["a", 1]),
        ("", {"any": ["json"]}, {"any": ["json"]}),
        ("timestamp", "2026-01-01", "2026-01-01"),
        ("integer", None, None),
    ],
)
def test_coerce(pendo_type: str, value: object, expected: object) -> None:
    result = coerce(value, pendo_type)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("pendo_type", "value"),
    [
        ("integer", "12abc"),
        ("integer", 1.5),
        ("integer", True),
        ("integer", 2**70),
        ("float", "n/a"),
        ("float", "inf"),
        ("boolean", "yes"),
        ("boolean", 2),
        ("time", "yesterday"),
        ("time", True),
        ("string", {"a": 1}),
        ("list", "a,b"),
    ],
)
def test_uncoercible_values_raise(pendo_type: str, value: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        coerce(value, pendo_type)


# --- flatten_metadata -----------------------------------------------------------------------------
VISITOR = {  # Pendo's own sample visitor row, trimmed, plus custom fields
    "visitorId": '0 ü "quoted" id',
    "_cursor": 1535558257624,
    "metadata": {
        "agent": {"email": "someone@example.com", "ipaddress": "200.127.27.115", "language": "es_419"},
        "auto": {
            "accountid": "Acme Corp",
            "accountids": ["Acme Corp"],
            "firstvisit": 1463547077029,
            "id": "0",
            "idhash": 4108050209,
            "lastupdated": 1535558257624,
            "lastvisit": 1515771385415,
        },
        "auto__323232": {"firstvisit": 0},
        "custom": {"plan": "pro", "seats": "25", "arr": "lots", "vip": "true", "signupDate": None},
        "pendo": {"donotprocess": False},
    },
}


def test_flatten_visitor(schema: MetadataSchema) -> None:
    row = flatten_metadata(VISITOR, "visitorId", schema)
    assert row == {
        "visitor_id": '0 ü "quoted" id',
        "metadata_agent_email": "someone@example.com",
        "metadata_agent_ipaddress": "200.127.27.115",
        "metadata_agent_language": "es_419",
        "metadata_auto_accountid": "Acme Corp",
        "metadata_auto_accountids": ["Acme Corp"],
        "metadata_auto_firstvisit": at(1463547077029),
        "metadata_auto_id": "0",
        "metadata_auto_idhash": 4108050209,
        "metadata_auto_lastupdated": at(1535558257624),
        "metadata_auto_lastvisit": at(1515771385415),  # not in the schema: still a timestamp
        "metadata_auto_323232_firstvisit": at(0),  # per-app group typed like its base group
        "metadata_custom_plan": "pro",
        "metadata_custom_seats": 25,
        "metadata_custom_arr": None,
        "metadata_custom_vip": True,
        "metadata_custom_signup_date": None,
        "metadata_pendo_donotprocess": False,
        UNCOERCIBLE_COLUMN: {"metadata_custom_arr": "lots"},
    }
    assert "_cursor" not in row, "the keyset helper never reaches the warehouse"


def test_flatten_without_schema_keeps_everything() -> None:
    row = flatten_metadata(VISITOR, "visitorId", MetadataSchema("visitor"))
    assert row["metadata_custom_seats"] == "25" and row["metadata_custom_arr"] == "lots"
    assert row["metadata_auto_lastupdated"] == at(1535558257624)
    assert UNCOERCIBLE_COLUMN not in row


def test_flatten_never_fails_and_never_loses_a_value(schema: MetadataSchema) -> None:
    account = {
        "accountId": "acc-1",
        "metadata": {
            "auto": {"lastupdated": "garbage", "firstvisit": {"nested": 1}},
            "custom": {"seats": [1, 2], "vip": "maybe", "odd": {"kept": True}},
            "broken": "not a group object",
        },
    }
    row = flatten_metadata(account, "accountId", schema)
    assert row["account_id"] == "acc-1"
    assert row["metadata_auto_lastupdated"] is None and row["metadata_custom_seats"] is None
    assert row["metadata_custom_odd"] == {"kept": True}
    assert row["metadata_broken"] == "not a group object"
    assert row[UNCOERCIBLE_COLUMN] == {
        "metadata_auto_lastupdated": "garbage",
        "metadata_auto_firstvisit": {"nested": 1},
        "metadata_custom_seats": [1, 2],
        "metadata_custom_vip": "maybe",
    }


def test_flatten_handles_missing_metadata(schema: MetadataSchema) -> None:
    assert flatten_metadata({"visitorId": "v"}, "visitorId", schema) == {"visitor_id": "v"}
    assert flatten_metadata({"visitorId": "v", "metadata": None}, "visitorId", schema) == {"visitor_id": "v"}


def test_a_schema_group_that_is_not_an_object_is_refused() -> None:
    # Typing the warehouse from a garbled schema would fix wrong column types for good.
    with pytest.raises(ValueError, match="custom"):
        MetadataSchema.from_api("visitor", {"auto": {}, "custom": 5})
