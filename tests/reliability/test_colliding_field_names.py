"""Metadata fields whose names collide after snake_case normalization, or have no ASCII name, each get their own
stable column, and every value of every such field lands in it (issue 13, item 2).

Before: ``planLevel``, ``plan_level``, ``plan__level``, ``Plan Level`` and ``plan.level`` shared
``metadata_custom_plan_level``, and ``名前`` / ``住所`` shared ``metadata_customxx``: up to 1,466 of 1,480 values
were lost. Fields are added through the simulator's control surface (``POST /_sim/metadata-field``), a first
group before the first run and a second, colliding with the first, before the second run, so the test also shows
that a column given once is never given to another field.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid

import psycopg2
import pytest

from tests.e2e.harness import Loader

PG = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
FIRST = {"planLevel": "string", "plan_level": "integer", "名前": "string"}
LATER = {"plan__level": "float", "Plan Level": "boolean", "plan.level": "time", "住所": "list", "": "string"}
TABLES = {"visitor": ("visitors", "visitor_id", "visitorId"), "account": ("accounts", "account_id", "accountId")}


@pytest.fixture(params=["duckdb", "postgres"])
def destination(request) -> str:
    return request.param


@pytest.fixture
def loader(make_sim, tmp_path, destination: str):
    sim = make_sim()
    if destination == "duckdb":
        yield Loader(sim, tmp_path / "duck")
        return
    try:
        psycopg2.connect(PG, connect_timeout=3).close()
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({exc})")
    dataset = f"pendo_test_{uuid.uuid4().hex[:8]}"
    yield Loader(sim, tmp_path / "pg", destination="postgres", dataset=dataset)
    with psycopg2.connect(PG) as conn, conn.cursor() as cur:
        for schema in (dataset, f"{dataset}_staging"):  # dlt's staging dataset too
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _columns(load: Loader, kind: str) -> dict[str, str]:
    rows = load.query(f"SELECT field, column_name FROM {load.table('metadata_fields')} "
                      f"WHERE kind = '{kind}' AND \"group\" = 'custom'")
    return dict(rows)


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, str) and value[:1] == "[":  # a JSON list as DuckDB returns it
        return json.loads(value)
    return value


def _assert_every_value_landed(load: Loader, kind: str, fields: dict[str, str], columns: dict[str, str]) -> None:
    table, id_column, id_field = TABLES[kind]
    truth = {r[id_field]: r["metadata"]["custom"] for r in load.sim.truth(table, include_anonymous=False)}
    select = ", ".join(f'"{columns[name]}"' for name in fields)
    stored = {row[0]: row[1:] for row in load.query(f"SELECT {id_column}, {select} FROM {load.table(table)}")}
    assert stored.keys() == truth.keys()
    for record, values in stored.items():
        for name, value in zip(fields, values, strict=True):
            assert _plain(value) == truth[record][name], (kind, name, columns[name], record)


def test_colliding_and_non_ascii_field_names_get_their_own_stable_columns_and_lose_no_value(
    loader: Loader, caplog
) -> None:
    for kind in TABLES:
        for name, type_ in FIRST.items():
            loader.sim.add_metadata_field(kind, name, type_)
    with caplog.at_level(logging.WARNING, logger="pendo_elt"):
        loader.run(["metadata_fields", "visitors", "accounts"])
    first = {kind: {n: c for n, c in _columns(loader, kind).items() if n in FIRST} for kind in TABLES}
    for kind in TABLES:
        assert len(set(first[kind].values())) == len(FIRST), first[kind]
        assert first[kind]["plan_level"] == "metadata_custom_plan_level"  # the snake_case name keeps the plain one
        _assert_every_value_landed(loader, kind, FIRST, first[kind])
    warnings = [r for r in caplog.records if "collide" in r.getMessage()]
    assert len(warnings) == len(TABLES), [r.getMessage() for r in warnings]  # one line per kind, not per record
    assert all("\n" not in r.getMessage() for r in warnings)

    caplog.clear()
    loader.sim.advance(hours=1)
    for kind in TABLES:
        for name, type_ in LATER.items():
            loader.sim.add_metadata_field(kind, name, type_)
    with caplog.at_level(logging.WARNING, logger="pendo_elt"):
        loader.run(["metadata_fields", "visitors", "accounts"])
    assert len([r for r in caplog.records if "collide" in r.getMessage()]) == len(TABLES)
    for kind in TABLES:
        columns = _columns(loader, kind)
        assert {n: columns[n] for n in FIRST} == first[kind], "a field loaded before changed its column"
        everything = {**FIRST, **LATER}
        assert len({columns[n] for n in everything}) == len(everything), columns
        _assert_every_value_landed(loader, kind, everything, columns)
    # a third run with nothing new gives every field the same column again, and warns no more
    before = {kind: _columns(loader, kind) for kind in TABLES}
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pendo_elt"):
        loader.run(["metadata_fields", "visitors", "accounts"])
    assert not [r for r in caplog.records if "collide" in r.getMessage()]
    assert {kind: _columns(loader, kind) for kind in TABLES} == before
