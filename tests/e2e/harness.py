"""Load the simulator into a real destination and compare the warehouse with the simulator's ground truth."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt

from pipelines.run import RunSummary, make_pipeline, run
from simulator.testing import SimulatorProcess
from sources.pendo.settings import TOMBSTONE_COLUMN

# Warehouse column -> Pendo field, for every rollup table (the rollup's full identity plus its measures).
ROLLUP_COLUMNS = {
    "visitor_id": "visitorId", "account_id": "accountId", "app_id": "appId", "server": "server",
    "remote_ip": "remoteIp", "user_agent": "userAgent", "num_events": "numEvents", "num_minutes": "numMinutes",
}
ENTITY_COLUMN = {"page_events": ("page_id", "pageId"), "feature_events": ("feature_id", "featureId"),
                 "track_events": ("track_type_id", "trackTypeId"), "events": None}
SINGLE_EVENT_COLUMNS = {
    "visitor_id": "visitorId", "account_id": "accountId", "app_id": "appId", "type": "type",
    "guide_id": "guideId", "guide_step_id": "guideStepId", "browser_time": "browserTime",
}


@dataclass
class Loader:
    """One pipeline (working dir + DuckDB file or Postgres dataset) reused across runs of a test."""

    sim: SimulatorProcess
    workdir: Path
    destination: str = "duckdb"
    dataset: str = "pendo_data"
    source_args: dict[str, Any] | None = None

    def pipeline(self) -> dlt.Pipeline:
        config = None
        if self.destination == "duckdb":
            config = {"credentials": str(self.workdir / "pendo.duckdb")}
        elif self.destination == "postgres":
            config = {"credentials": "postgresql://postgres:postgres@127.0.0.1:5432/postgres"}
        return make_pipeline(self.destination, self.dataset, str(self.workdir / "pipelines"),
                             destination_config=config)

    def run(self, resources: list[str] | None = None, **overrides: Any) -> RunSummary:
        info = self.sim.info()
        args: dict[str, Any] = {
            "base_url": self.sim.base_url,
            "integration_key": self.sim.integration_key,
            "subscription_timezone": info["tz"],
            "start_date": _iso_date(info["history_start_ms"], info["tz"]),
            "retry_backoff_seconds": 0.05,
            **(self.source_args or {}),
            **overrides,
        }
        return run(self.pipeline(), resources, **args)

    def query(self, sql: str) -> list[tuple]:
        with self.pipeline().sql_client() as client:
            return [tuple(r) for r in client.execute_sql(sql)]

    def table(self, name: str) -> str:
        with self.pipeline().sql_client() as client:
            return client.make_qualified_table_name(name)

    def epoch_ms(self, column: str) -> str:
        if self.destination == "postgres":
            return f"CAST(EXTRACT(EPOCH FROM {column}) * 1000 AS BIGINT)"
        if self.destination == "snowflake":
            return f"DATE_PART(EPOCH_MILLISECOND, {column})"
        return f"epoch_ms({column})"

    # --- ground-truth comparisons -------------------------------------------------------------------
    def rollup_rows(self, table: str, period: str = "day") -> Counter:
        entity = ENTITY_COLUMN[table]
        columns = list(ROLLUP_COLUMNS) + ([entity[0]] if entity else [])
        select = ", ".join(columns + [self.epoch_ms(period)])
        return Counter(self.query(f"SELECT {select} FROM {self.table(table)}"))

    def truth_rollup_rows(self, table: str, period: str = "day", **params: Any) -> Counter:
        entity = ENTITY_COLUMN[table]
        fields = list(ROLLUP_COLUMNS.values()) + ([entity[1]] if entity else [])
        return Counter(tuple(row.get(f) for f in fields) + (row[period],)
                       for row in self.sim.truth(table, period=period, **params))

    def single_event_rows(self, table: str) -> Counter:
        select = ", ".join(list(SINGLE_EVENT_COLUMNS)[:-1] + [self.epoch_ms("browser_time")])
        return Counter(self.query(f"SELECT {select} FROM {self.table(table)}"))

    def truth_single_event_rows(self, table: str, **params: Any) -> Counter:
        return Counter(tuple(row.get(f) for f in SINGLE_EVENT_COLUMNS.values())
                       for row in self.sim.truth(table, **params))

    def ids(self, table: str, column: str) -> Counter:
        return Counter(r[0] for r in self.query(f"SELECT {column} FROM {self.table(table)}"))

    def snapshot(self, tables: list[str]) -> dict[str, Counter]:
        """Every data column of every row: what an analyst would see (dlt bookkeeping columns excluded).

        JSON columns compare as parsed JSON, so destinations that store it as text (DuckDB) and as jsonb
        (Postgres) compare equal.
        """
        result: dict[str, Counter] = {}
        schema = self.pipeline().default_schema
        for table in tables:
            columns = {name: column.get("data_type") for name, column in schema.get_table_columns(table).items()
                       if not name.startswith("_dlt") and name != TOMBSTONE_COLUMN}
            json_at = {i for i, data_type in enumerate(columns.values()) if data_type == "json"}
            rows = self.query(f"SELECT {', '.join(columns)} FROM {self.table(table)}")
            result[table] = Counter(tuple(_canonical_json(v) if i in json_at else v for i, v in enumerate(row))
                                    for row in rows)
        return result


def _canonical_json(value: object) -> str | None:
    if value is None:
        return None
    return json.dumps(json.loads(value) if isinstance(value, str) else value, sort_keys=True)


def _iso_date(ms: int, tz: str) -> str:
    import pendulum

    return pendulum.from_timestamp(ms / 1000, tz=tz).to_date_string()


EVENT_TABLES = ("page_events", "feature_events", "track_events", "events", "guide_events", "poll_events")


def event_drift(
    loader: Loader, period: str = "day", tables: tuple[str, ...] = EVENT_TABLES
) -> dict[str, dict[str, int]]:
    """Rows missing from or extra in each event table against ground truth, over the whole served history.

    Counters compare as multisets, so a duplicated row counts as extra.
    """
    drift = {}
    for table in tables:
        if table in ENTITY_COLUMN:
            loaded, truth = loader.rollup_rows(table, period), loader.truth_rollup_rows(table, period)
        else:
            loaded, truth = loader.single_event_rows(table), loader.truth_single_event_rows(table)
        if loaded != truth:
            drift[table] = {"missing": sum((truth - loaded).values()), "extra": sum((loaded - truth).values())}
    return drift
