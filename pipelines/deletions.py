"""Deletions reach the warehouse: visitors and accounts Pendo no longer has leave it, with all their event rows.

Pendo deletes visitors (GDPR requests, bulk deletes) and accounts; an incremental load never sees a
record that is gone, so without this the warehouse would keep them and every event row of theirs
forever. :func:`reconcile_deletions` lists every id Pendo has (a select-only keyset scan, see
``sources/pendo/people_ids.py``), compares it with the ids the warehouse holds, and deletes what is
missing in one transaction. ``pendo-elt run`` calls it through :func:`reconcile_if_due`, at most once
every ``reconcile_deletions_hours`` (a full id scan costs about visitors / page_size requests: cheap once
a day, wasteful every hour); ``pendo-elt verify`` calls :func:`reconcile_deletions` every time.

Each applied reconciliation appends a row to ``_pendo_deletions`` in the dataset, in the transaction
of its deletions: the schedule survives a new machine, and the table is an audit log of what left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dlt
from dlt.common.configuration.inject import with_config

from sources.pendo.client import PendoClient
from sources.pendo.errors import ConfigError, PendoError, PendoResponseError
from sources.pendo.people_ids import id_page_body, ids_of, next_after
from sources.pendo.settings import ANONYMOUS_PREFIX, PEOPLE_SOURCES
from sources.pendo.source_settings import configured_from, pendo_client

logger = logging.getLogger("pendo_elt")

SETTING = "reconcile_deletions_hours"
DEFAULT_RECONCILE_DELETIONS_HOURS = 24
LOG_TABLE = "_pendo_deletions"
PEOPLE_TABLES = frozenset(PEOPLE_SOURCES)
IDS_PER_STATEMENT = 500  # ids per DELETE ... IN (...): far below every driver's parameter limit
MAX_SHARE_DELETED = 0.5  # more than this share of the warehouse's ids missing from Pendo looks like a glitch


class DeletionRefused(PendoError):
    """Pendo's id list does not look trustworthy enough to delete from the warehouse (exit 1: retry later)."""


@dataclass(frozen=True)
class DeletionSettings:
    client: PendoClient
    include_anonymous_visitors: bool
    page_size: int
    every_hours: float


@dataclass
class DeletionReport:
    """What a reconciliation found and did. ``rows`` counts per table the rows deleted (``applied``) or that
    would be deleted (a dry run): ``visitors`` and ``accounts`` themselves and every event table."""

    applied: bool
    pendo_ids: dict[str, int] = field(default_factory=dict)  # "visitors"/"accounts" -> ids Pendo listed
    warehouse_ids: dict[str, int] = field(default_factory=dict)  # -> ids the warehouse held (in scope)
    missing: dict[str, list[str]] = field(default_factory=dict)  # -> warehouse ids Pendo no longer has
    rows: dict[str, int] = field(default_factory=dict)
    requests: int = 0

    @property
    def drift(self) -> bool:
        return any(self.missing.values())

    def line(self) -> str:
        verb = "deleted" if self.applied else "would delete"
        people = ", ".join(f"{len(ids)} of {self.warehouse_ids.get(t, 0)} {t}" for t, ids in self.missing.items())
        events = sum(n for t, n in self.rows.items() if t not in PEOPLE_TABLES)
        return (f"deletions: {verb} {people} no longer in Pendo, and {events} of their event rows "
                f"({self.requests} requests)")


@with_config(sections=("sources", "pendo"))
def _every_hours(reconcile_deletions_hours: Any = DEFAULT_RECONCILE_DELETIONS_HOURS) -> float:
    """``reconcile_deletions_hours`` as configured (explicit first): a setting of the run, not of the source."""
    try:
        hours = float(reconcile_deletions_hours)
    except (TypeError, ValueError):
        hours = -1.0
    if not 0 <= hours <= 8760:
        raise ConfigError(f"sources.pendo.{SETTING} (env SOURCES__PENDO__{SETTING.upper()}) must be a number of "
                          f"hours from 0 (every run) to 8760, got {reconcile_deletions_hours!r}")
    return hours


def _hours(source_config: Mapping[str, Any]) -> float:
    given = source_config.get(SETTING)
    return _every_hours() if given is None else _every_hours(given)


def _settings(source_config: Mapping[str, Any]) -> DeletionSettings:
    """Settings from the run's source arguments where given, else from config, validated as the source does."""
    cfg = configured_from(source_config)
    hours = _hours(source_config)
    return DeletionSettings(pendo_client(cfg), cfg.include_anonymous_visitors, cfg.page_size, hours)


def reconcile_deletions(pipeline: dlt.Pipeline, source_config: Mapping[str, Any], *, apply: bool) -> DeletionReport:
    """Compare every visitor and account id Pendo has with the warehouse's; with ``apply``, delete what is gone.

    Args:
        pipeline: the loaded pipeline (its destination and dataset are reconciled).
        source_config: the source arguments of the run (``base_url``, ``integration_key``, ...: what
            ``pendo_source`` takes); anything not given comes from ``[sources.pendo]`` / ``SOURCES__PENDO__*``.
        apply: delete the missing visitors from ``visitors`` and their rows from every table with a
            ``visitor_id`` column, and the missing accounts from ``accounts``, in one transaction, and record
            the reconciliation in ``_pendo_deletions``. False: a dry run that counts the same rows.

    Visitors are compared in the scope they are loaded in: without ``include_anonymous_visitors``, anonymous
    (``_PENDO_T_``) ids are neither listed nor deleted. Accounts' visitors and event rows stay when an account
    goes (Pendo's account delete deletes no visitor).

    Raises:
        DeletionRefused: Pendo listed no id of a kind the warehouse has, or more than half the warehouse's ids
            of a kind are missing: nothing is deleted (a Pendo glitch must not wipe a warehouse).
        ConfigError: nothing was ever loaded into the dataset.
    """
    settings = _settings(source_config)
    with pipeline.sql_client() as sql:
        tables = _existing_tables(pipeline, sql)
        report = DeletionReport(applied=apply)
        try:
            for table, (source, id_field, id_column) in PEOPLE_SOURCES.items():
                if table not in tables:
                    continue
                anonymous_out = table == "visitors" and not settings.include_anonymous_visitors
                held = {i for i in _column(sql, table, id_column) if not (anonymous_out and _anonymous(i))}
                listed = _fetch_ids(settings, source, id_field, anonymous_out, report)
                report.pendo_ids[table], report.warehouse_ids[table] = len(listed), len(held)
                report.missing[table] = sorted(held - listed)
                check_trustworthy(table, len(listed), len(held), len(report.missing[table]))
        finally:
            settings.client.close()
        _delete(pipeline, sql, tables, report, apply)
    if report.drift:
        logger.warning(report.line())
    return report


def reconcile_if_due(pipeline: dlt.Pipeline, source_config: Mapping[str, Any],
                     every_hours: float | None = None) -> DeletionReport | None:
    """Reconcile (and apply) when the last reconciliation recorded in the dataset is ``every_hours`` old or more
    (default: the ``reconcile_deletions_hours`` setting; 0 means every run). None when it was not due."""
    if every_hours is None:
        every_hours = _hours(source_config)
    if every_hours > 0:
        last = last_reconciled_ms(pipeline)
        if last is not None and time.time() * 1000 - last < every_hours * 3_600_000:
            return None
    return reconcile_deletions(pipeline, source_config, apply=True)


def last_reconciled_ms(pipeline: dlt.Pipeline) -> int | None:
    """When the last applied reconciliation committed (epoch ms), from the dataset; None if never."""
    with pipeline.sql_client() as sql:
        try:
            rows = sql.execute_sql(f"SELECT MAX(reconciled_at_ms) FROM {sql.make_qualified_table_name(LOG_TABLE)}")
        except Exception:  # noqa: BLE001 - no log table yet: never reconciled
            return None
    return int(rows[0][0]) if rows and rows[0][0] is not None else None


# --- Pendo side -------------------------------------------------------------------------------------
def _fetch_ids(settings: DeletionSettings, source: str, id_field: str, identified_only: bool,
               report: DeletionReport) -> set[str]:
    ids: set[str] = set()
    after: str | None = None
    while True:
        report.requests += 1
        body = id_page_body(source, id_field, after, settings.page_size, identified_only)
        with settings.client.aggregate(body, f"{source} ids page {report.requests}") as spool:
            rows = [row for page in spool.pages() for row in page]
        try:
            page_ids = ids_of(rows, id_field)
        except ValueError as exc:
            raise PendoResponseError(f"POST /api/v1/aggregation ({source} ids) answered {exc}; nothing was "
                                     "deleted") from None
        ids.update(page_ids)
        after = next_after(page_ids, settings.page_size)
        if after is None:
            return ids


def _anonymous(visitor_id: str) -> bool:
    return visitor_id.startswith(ANONYMOUS_PREFIX)


def check_trustworthy(table: str, listed: int, held: int, missing: int) -> None:
    if held and not listed:
        raise DeletionRefused(f"Pendo listed no {table} while the warehouse has {held}; nothing was deleted (check "
                              "the key's subscription and region; run again later)")
    if missing > MAX_SHARE_DELETED * held:
        raise DeletionRefused(f"{missing} of the warehouse's {held} {table} are not in Pendo, more than half; "
                              "nothing was deleted (a partial answer from Pendo must not wipe the warehouse)")


# --- warehouse side ---------------------------------------------------------------------------------
def _existing_tables(pipeline: dlt.Pipeline, sql: Any) -> dict[str, set[str]]:
    """Data tables of the schema that exist in the destination, with their column names."""
    if not pipeline.default_schema_name:
        pipeline.sync_destination()
    if not pipeline.default_schema_name:
        raise ConfigError(f"nothing was loaded into dataset {pipeline.dataset_name!r} yet; run 'pendo-elt run' first")
    schema = pipeline.default_schema
    out: dict[str, set[str]] = {}
    for table in schema.data_table_names():
        try:
            sql.execute_sql(f"SELECT 1 FROM {sql.make_qualified_table_name(table)} WHERE 1 = 0")
        except Exception:  # noqa: BLE001 - in the schema but never created (a resource not loaded yet)
            continue
        out[table] = set(schema.get_table_columns(table))
    return out


def _column(sql: Any, table: str, column: str) -> Iterable[str]:
    rows = sql.execute_sql(f"SELECT {column} FROM {sql.make_qualified_table_name(table)}") or []
    return (str(r[0]) for r in rows if r[0] is not None)


def _targets(tables: dict[str, set[str]], report: DeletionReport) -> list[tuple[str, str, list[str]]]:
    """(table, id column, ids) for every DELETE: the people tables and every table of a missing visitor's rows."""
    out = []
    visitors = report.missing.get("visitors", [])
    for table, (_, _, id_column) in PEOPLE_SOURCES.items():
        if report.missing.get(table):
            out.append((table, id_column, report.missing[table]))
    if visitors:
        out += [(t, "visitor_id", visitors) for t, cols in sorted(tables.items())
                if t not in PEOPLE_TABLES and "visitor_id" in cols]
    return out


def _delete(pipeline: dlt.Pipeline, sql: Any, tables: dict[str, set[str]], report: DeletionReport,
            apply: bool) -> None:
    targets = _targets(tables, report)
    log = sql.make_qualified_table_name(LOG_TABLE)
    if apply:  # DDL outside the transaction: Snowflake commits any open transaction on DDL
        sql.execute_sql(f"CREATE TABLE IF NOT EXISTS {log} (reconciled_at_ms BIGINT NOT NULL, visitors_deleted "
                        "BIGINT NOT NULL, accounts_deleted BIGINT NOT NULL, event_rows_deleted BIGINT NOT NULL)")
    with sql.begin_transaction():
        for table, column, ids in targets:
            name = sql.make_qualified_table_name(table)
            report.rows[table] = 0
            for start in range(0, len(ids), IDS_PER_STATEMENT):
                chunk = ids[start:start + IDS_PER_STATEMENT]
                where = f"{column} IN ({', '.join(['%s'] * len(chunk))})"
                report.rows[table] += int(sql.execute_sql(f"SELECT COUNT(*) FROM {name} WHERE {where}", *chunk)[0][0])
                if apply:
                    sql.execute_sql(f"DELETE FROM {name} WHERE {where}", *chunk)
        if apply:
            events = sum(n for t, n in report.rows.items() if t not in PEOPLE_TABLES)
            sql.execute_sql(f"INSERT INTO {log} VALUES (%s, %s, %s, %s)", int(time.time() * 1000),
                            len(report.missing.get("visitors", [])), len(report.missing.get("accounts", [])), events)
