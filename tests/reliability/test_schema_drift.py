"""Schema drift in Pendo's metadata: new custom fields become columns, retyped fields lose no value.

New fields come from the simulator (``sim.add_metadata_field``: in the schema at once, a value on every record,
``lastupdated`` moved to now so the next incremental run re-reads every record).

A field that *changes type* cannot be made by the simulator (its fields are fixed at creation), so these tests
do what a Pendo admin does in Data Mappings: the declared ``Type`` in ``/api/v1/metadata/schema/visitor``
changes while the stored values stay what they were. The schema answer is edited on its way into the real
client (``PendoClient.get_json``); everything after it - shaping, coercion, dlt, DuckDB - is the real pipeline.

How a retyped field lands (see docs/reliability.md):
- its column keeps the type it was created with (dlt never alters a column's type; since 0274a83 the source no
  longer re-hints an existing column with Pendo's new type);
- a value that converts to the new Pendo type and that dlt can coerce back into the old column is stored there
  (integer -> string, integer -> float, float -> string, boolean -> string);
- a value that converts to the new type but cannot go back into the old column lands in a dlt variant column
  next to it, ``<column>__v_<type>`` (time -> string: ``metadata_custom_signup_date__v_text``; integer -> time:
  ``metadata_custom_logins__v_timestamp``), and the original column is null for that row;
- a value that does not convert to the new type goes to ``_pendo_uncoercible`` as ``{column: original}`` and the
  column is null (string -> integer, integer -> boolean, list -> string).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator

import pytest

import sources.pendo.client as client_module
from tests.reliability.harness import DATASET, Workspace

PEOPLE_TABLES = ["metadata_fields", "visitors", "accounts"]
NEW_FIELDS = {"tier": "string", "seats_used": "integer", "health": "float", "churned": "boolean",
              "renewed_at": "time", "labels": "list"}
DUCKDB_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "float": "DOUBLE", "boolean": "BOOLEAN",
                "time": "TIMESTAMP WITH TIME ZONE", "list": "JSON"}


def _column_types(ws: Workspace, table: str) -> dict[str, str]:
    return dict(ws.query(f"SELECT column_name, data_type FROM information_schema.columns "
                         f"WHERE table_schema = '{DATASET}' AND table_name = '{table}'"))


def _landed(ws: Workspace, table: str, id_column: str, column: str) -> dict[str, object]:
    """Where each record's value of ``column`` is: the column, else a dlt variant column, else _pendo_uncoercible."""
    types = _column_types(ws, table)
    variants = [c for c in types if c.startswith(f"{column}__v_")]
    select = ", ".join(f'"{c}"' for c in [column, *variants])
    landed = {}
    for ident, *values, uncoercible in ws.query(f"SELECT {id_column}, {select}, _pendo_uncoercible "
                                                f"FROM {DATASET}.{table}"):
        value = next((v for v in values if v is not None), None)
        if value is None and uncoercible:
            value = json.loads(uncoercible).get(column)
        elif isinstance(value, str) and types.get(column) == "JSON":
            value = json.loads(value)
        if isinstance(value, dt.datetime):
            value = int(value.timestamp() * 1000)
        landed[ident] = value
    return landed


def _truth(ws: Workspace, table: str, field: str) -> dict[str, object]:
    id_field = "visitorId" if table == "visitors" else "accountId"
    return {r[id_field]: r["metadata"]["custom"].get(field)
            for r in ws.sim.truth(table, include_anonymous=False)}


def test_new_custom_fields_of_every_type_become_typed_columns_and_no_record_or_value_is_lost(ws: Workspace) -> None:
    load = ws.loader()
    load.run(PEOPLE_TABLES)
    columns_before = {t: set(ws.columns(t)) for t in ("visitors", "accounts")}
    for kind in ("visitor", "account"):
        for name, type_ in NEW_FIELDS.items():
            ws.sim.add_metadata_field(kind, name, type_)
    load.run(PEOPLE_TABLES)

    ws.assert_equals_truth(PEOPLE_TABLES)  # every record, at its new lastupdated; metadata_fields has the new rows
    for table, id_column in (("visitors", "visitor_id"), ("accounts", "account_id")):
        types = _column_types(ws, table)
        assert columns_before[table] <= set(types), "a column disappeared"
        for name, type_ in NEW_FIELDS.items():
            column = f"metadata_custom_{name}"
            assert types.get(column) == DUCKDB_TYPES[type_], (table, column, types.get(column))
            assert _landed(ws, table, id_column, column) == _truth(ws, table, name), (table, column)
        assert ws.query(f"SELECT COUNT(*) FROM {DATASET}.{table} WHERE _pendo_uncoercible IS NOT NULL") == [(0,)]


@pytest.fixture
def retype(monkeypatch) -> Iterator[Callable[[str, str], None]]:
    """``retype(field, new_type)``: Pendo's visitor schema declares custom ``field`` as ``new_type`` from now on."""
    declared: dict[str, str] = {}
    original = client_module.PendoClient.get_json

    def get_json(self, path: str, params: dict | None = None):  # noqa: ANN001, ANN202 - mirrors the real method
        body = original(self, path, params)
        if path == "/metadata/schema/visitor" and isinstance(body, dict):
            for field, new_type in declared.items():
                body["custom"][field]["Type"] = new_type
        return body

    monkeypatch.setattr(client_module.PendoClient, "get_json", get_json)
    yield lambda field, new_type: declared.update({field: new_type})
    declared.clear()


def _retype_between_runs(ws: Workspace, retype: Callable[[str, str], None], field: str, new_type: str) -> None:
    load = ws.loader()
    load.run(["visitors"])
    retype(field, new_type)
    ws.sim.add_metadata_field("visitor", "touch", "string")  # every visitor is re-read by the next run
    load.run(["visitors"])


ORIGINAL_TYPES = {"logins": "integer", "score": "float", "beta_user": "boolean", "role": "string", "tags": "list",
                  "signup_date": "time"}
COMPATIBLE = [("logins", "string"), ("logins", "float"), ("score", "string"), ("beta_user", "string")]
UNFIT = [("role", "integer"), ("logins", "boolean"), ("tags", "string")]


@pytest.mark.parametrize(("field", "new_type"), [
    pytest.param(*c, id=f"{c[0]}-to-{c[1]}", marks=() if i == 0 else pytest.mark.slow) for i, c in enumerate(COMPATIBLE)
])
def test_a_field_retyped_to_a_type_its_column_can_hold_keeps_its_column_and_every_value(
    ws: Workspace, retype: Callable[[str, str], None], field: str, new_type: str
) -> None:
    column = f"metadata_custom_{field}"
    _retype_between_runs(ws, retype, field, new_type)
    assert _column_types(ws, "visitors")[column] == DUCKDB_TYPES[ORIGINAL_TYPES[field]]
    assert _landed(ws, "visitors", "visitor_id", column) == _truth(ws, "visitors", field)
    assert not [c for c in ws.columns("visitors") if "__v_" in c], "unexpected dlt variant column"


@pytest.mark.parametrize(("field", "new_type"), [
    pytest.param(*c, id=f"{c[0]}-to-{c[1]}", marks=() if i == 0 else pytest.mark.slow) for i, c in enumerate(UNFIT)
])
def test_a_field_retyped_to_a_type_its_values_do_not_fit_keeps_them_in_pendo_uncoercible(
    ws: Workspace, retype: Callable[[str, str], None], field: str, new_type: str
) -> None:
    column = f"metadata_custom_{field}"
    _retype_between_runs(ws, retype, field, new_type)
    truth = _truth(ws, "visitors", field)
    assert ws.query(f'SELECT COUNT(*) FROM {DATASET}.visitors WHERE "{column}" IS NOT NULL') == [(0,)]
    assert _landed(ws, "visitors", "visitor_id", column) == truth
    ws.assert_equals_truth(["visitors"])


@pytest.mark.parametrize(("field", "new_type", "variant"), [
    pytest.param("signup_date", "string", "metadata_custom_signup_date__v_text", id="signup_date-time-to-string"),
    pytest.param("logins", "time", "metadata_custom_logins__v_timestamp", id="logins-integer-to-time",
                 marks=pytest.mark.slow),
])
def test_a_field_retyped_between_time_and_text_or_number_lands_in_a_dlt_variant_column(
    ws: Workspace, retype: Callable[[str, str], None], field: str, new_type: str, variant: str
) -> None:
    """Finding F2 (fixed in 0274a83): the load failed for good ("Unimplemented type for cast (TIMESTAMP WITH TIME
    ZONE -> BIGINT)"), because every run re-hinted the existing column with Pendo's new type."""
    column = f"metadata_custom_{field}"
    _retype_between_runs(ws, retype, field, new_type)
    types = _column_types(ws, "visitors")
    assert types[column] == DUCKDB_TYPES[ORIGINAL_TYPES[field]]  # the column keeps its type ...
    assert variant in types  # ... and the new values land next to it
    assert ws.query(f'SELECT COUNT(*) FROM {DATASET}.visitors WHERE "{variant}" IS NULL') == [(0,)]
    landed = _landed(ws, "visitors", "visitor_id", column)
    assert {k: str(v) for k, v in landed.items()} == {k: str(v) for k, v in _truth(ws, "visitors", field).items()}
    ws.assert_equals_truth(["visitors"])


def test_a_retype_reverted_in_pendo_puts_the_values_back_in_their_column(
    ws: Workspace, retype: Callable[[str, str], None]
) -> None:
    """Finding F3 (fixed in 0274a83): the package the retype broke was retried first by every later run, so the
    pipeline stayed blocked even after the admin reverted the type. Now nothing fails in the first place, and a
    revert brings every value back into the original column."""
    _retype_between_runs(ws, retype, "signup_date", "string")
    retype("signup_date", "time")
    ws.sim.advance(hours=2)
    ws.sim.add_metadata_field("visitor", "touch_again", "string")  # every visitor is re-read once more
    ws.loader().run(["visitors"])
    column = "metadata_custom_signup_date"
    assert ws.query(f"SELECT COUNT(*) FROM {DATASET}.visitors WHERE {column} IS NULL") == [(0,)]
    assert _landed(ws, "visitors", "visitor_id", column) == _truth(ws, "visitors", "signup_date")
    ws.assert_equals_truth(["visitors"])
