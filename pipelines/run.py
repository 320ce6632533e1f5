"""Building and running the dlt pipeline that loads Pendo into a destination."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.pipeline.exceptions import PipelineStepFailed

from sources.pendo import pendo_source
from sources.pendo.config import validate_resources
from sources.pendo.errors import ConfigError, PendoError
from sources.pendo.settings import DEFAULT_RESOURCES, TOMBSTONE_COLUMN

PIPELINE_NAME = "pendo"
DEFAULT_DATASET = "pendo_data"  # not "pendo": DuckDB cannot tell a schema from the catalog pendo.duckdb
DESTINATIONS = ("duckdb", "postgres", "snowflake")
# dlt ignores loader_file_format from config files (dlt-notes §4): it is chosen here, per destination.
LOADER_FILE_FORMAT = {"duckdb": "parquet", "postgres": "insert_values", "snowflake": "parquet"}


@dataclass
class RunSummary:
    """What one run loaded, per table, for the closing summary."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    load_info: LoadInfo | None = None


def make_pipeline(
    destination: str = "duckdb",
    dataset: str = DEFAULT_DATASET,
    pipelines_dir: str | None = None,
    pipeline_name: str = PIPELINE_NAME,
    destination_config: dict[str, Any] | None = None,
) -> dlt.Pipeline:
    if destination not in DESTINATIONS:
        raise ConfigError(f"unknown destination {destination!r}; choose from {', '.join(DESTINATIONS)}")
    target: Any = destination
    if destination_config:
        target = getattr(dlt.destinations, destination)(**destination_config)
    return dlt.pipeline(
        pipeline_name=pipeline_name,
        destination=target,
        dataset_name=dataset,
        pipelines_dir=pipelines_dir,
    )


def run(
    pipeline: dlt.Pipeline,
    resources: Sequence[str] | None = None,
    *,
    full_refresh: bool = False,
    **source_args: Any,
) -> RunSummary:
    """Extract, normalize and load; raise the user-facing :class:`PendoError` when one caused a failure."""
    names = validate_resources(list(resources) if resources else list(DEFAULT_RESOURCES))
    started = time.monotonic()
    source = pendo_source(**source_args).with_resources(*names)
    destination_name = pipeline.destination.destination_name if pipeline.destination else "duckdb"
    try:
        info = pipeline.run(
            source,
            loader_file_format=LOADER_FILE_FORMAT.get(destination_name, "parquet"),
            refresh="drop_sources" if full_refresh else None,
        )
    except PipelineStepFailed as exc:
        raise unwrap(exc) from None
    summary = RunSummary(seconds=time.monotonic() - started, load_info=info)
    trace = pipeline.last_trace
    if trace and trace.last_normalize_info:
        summary.rows = {
            table: count
            for table, count in trace.last_normalize_info.row_counts.items()
            if not table.startswith("_dlt")
        }
    return summary


def unwrap(exc: BaseException) -> BaseException:
    """Find the user-facing error dlt wrapped (resource errors nest two or three levels deep)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, PendoError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return exc


def table_counts(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Rows per data table as stored in the destination (tombstones never are)."""
    schema = pipeline.default_schema
    tables = sorted(t for t in schema.data_table_names() if not t.startswith("_dlt"))
    counts: dict[str, int] = {}
    with pipeline.sql_client() as client:
        for table in tables:
            try:
                rows = client.execute_sql(f"SELECT COUNT(*) FROM {client.make_qualified_table_name(table)}")
            except Exception:  # noqa: BLE001 - a table in the schema may not exist yet in the destination
                continue
            counts[table] = int(rows[0][0])
    return counts


__all__ = ["make_pipeline", "run", "RunSummary", "table_counts", "unwrap", "TOMBSTONE_COLUMN"]
