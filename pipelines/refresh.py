"""An atomic full refresh: the fresh copy is loaded aside and swapped in with one transaction.

``run --full-refresh`` used dlt's ``refresh="drop_sources"``, which empties the tables when the load begins: a run
killed during the load left half a dataset and, once its package was abandoned, the old cursors, so later runs
reloaded only the lookback (issue 13 item 1). Now:

1. the selected resources load, as a first run, into a sibling dataset ``<dataset>_refresh`` with a working
   directory of its own (``<pipelines_dir>/.<pipeline>-refresh``), same pipeline name, so its state rows are the
   pipeline's; the dataset and its cursors are not touched;
2. one transaction replaces every table of the dataset (data and dlt's ``_dlt_pipeline_state``, ``_dlt_loads``,
   ``_dlt_version``) by the fresh copy: on Postgres ``ALTER TABLE ... SET SCHEMA``; DuckDB cannot move a table to
   another schema, so there each table is re-created and copied in the same transaction;
3. the local working directory is dropped and restored from the destination, so local cursors match the data.

A kill before the swap commits leaves the old data and cursors; after, the complete new ones. The next run
(refresh or not) finds the aside working directory and cleans up: it drops the aside datasets and, when the swap
may have begun, the local working directory (the destination holds the truth either way).

Snowflake runs DDL outside transactions, so it keeps dlt's ``drop_sources`` (not atomic), with a warning.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed

from pipelines.bucket_state import TABLE as BUCKETS_TABLE
from sources.pendo.errors import PendoError

logger = logging.getLogger("pendo_elt")

ASIDE_SUFFIX = "_refresh"  # dlt normalizes dataset names: a double underscore would become one
SWAP_MARKER = "SWAP_BEGUN"  # written in the aside working dir right before the swap transaction
ATOMIC_DESTINATIONS = ("duckdb", "postgres")
T = TypeVar("T")


class RefreshBlockedError(PendoError):
    """The swap cannot drop a table other objects depend on (Postgres views, e.g. dbt's staging models)."""

    exit_code = 2


def aside_dir(pipeline: dlt.Pipeline) -> Path:
    return Path(pipeline.pipelines_dir) / f".{pipeline.pipeline_name}-refresh"


def is_atomic(pipeline: dlt.Pipeline) -> bool:
    if _destination(pipeline) in ATOMIC_DESTINATIONS:
        return True
    logger.warning("--full-refresh on %s is not atomic (its DDL commits on its own): a run killed while loading "
                   "leaves the tables partly empty until the next --full-refresh", _destination(pipeline))
    return False


def full_refresh(pipeline: dlt.Pipeline, load: Callable[[dlt.Pipeline], T]) -> T:
    """Run ``load`` on an aside pipeline (an empty dataset: a first run), then swap its dataset in."""
    recover(pipeline)
    _sync(pipeline)  # the dataset's current tables, from the destination when the working dir is new
    aside = _aside_pipeline(pipeline)
    # An aside dataset outlives its working dir when that was deleted after a kill: never resume it.
    _call(lambda: _drop_datasets(aside, staging_only=False))
    try:
        result = load(aside)
    except Exception:
        _finish(pipeline)  # nothing was swapped: the dataset, its cursors and the working dir are as they were
        raise
    marker = aside_dir(pipeline) / SWAP_MARKER
    marker.write_text(str(os.getpid()))
    try:
        _swap(pipeline, aside)
    finally:
        _finish(pipeline)  # committed or rolled back: the destination's state is the truth
    return result


def recover(pipeline: dlt.Pipeline) -> None:
    """Clean up after a refresh that did not finish; a no-op (one stat) when none was interrupted."""
    folder = aside_dir(pipeline)
    if not folder.exists():
        return
    if (folder / SWAP_MARKER).exists():
        logger.warning("an earlier --full-refresh was interrupted around its swap; the dataset holds either the old "
                       "or the new data, complete, and its state is now restored from the destination")
    else:
        logger.warning("an earlier --full-refresh was interrupted before its swap; the dataset keeps its old data, "
                       "and the copy it was loading aside is removed")
    _finish(pipeline)


def _finish(pipeline: dlt.Pipeline) -> None:
    """Local state from the destination, aside datasets and working dir gone; safe to repeat after a kill."""
    folder = aside_dir(pipeline)
    if (folder / SWAP_MARKER).exists():
        pipeline.drop()  # the working dir's cursors may be the old ones; the destination's are the truth
    if folder.exists():
        aside = _aside_pipeline(pipeline)
        _call(lambda: _drop_datasets(aside, staging_only=False))
    _call(lambda: _drop_datasets(pipeline, staging_only=True))  # merge staging tables of the old tables
    shutil.rmtree(folder, ignore_errors=True)
    _sync(pipeline)


def _aside_pipeline(pipeline: dlt.Pipeline) -> dlt.Pipeline:
    # The same name: dlt stores and restores state by pipeline name, so the swapped-in state rows are this
    # pipeline's. dlt.pipeline() makes it the active one; the caller's pipeline activates itself again when used.
    return dlt.pipeline(pipeline_name=pipeline.pipeline_name, destination=pipeline.destination,
                        dataset_name=f"{pipeline.dataset_name}{ASIDE_SUFFIX}", pipelines_dir=str(aside_dir(pipeline)),
                        progress=pipeline.collector)


def _drop_datasets(pipeline: dlt.Pipeline, *, staging_only: bool) -> None:
    with pipeline.sql_client() as client:
        names = [client.staging_dataset_name] + ([] if staging_only else [client.dataset_name])
        for name in names:
            with client.with_alternative_dataset_name(name):
                if client.has_dataset():
                    client.drop_dataset()


def _swap(pipeline: dlt.Pipeline, aside: dlt.Pipeline) -> None:
    """Replace the dataset's tables by the aside dataset's, in one transaction."""
    known = set(pipeline.default_schema.tables) if pipeline.default_schema_name else set()
    destination = _destination(pipeline)

    def swap() -> None:
        with aside.sql_client() as aside_client:
            source_name = aside_client.dataset_name  # as dlt normalized it
        with pipeline.sql_client() as client:
            target = client.fully_qualified_dataset_name()
            with client.with_alternative_dataset_name(source_name):
                source = client.fully_qualified_dataset_name()
                fresh = _tables(client)
            if "_dlt_pipeline_state" not in fresh:  # never swap in a copy without its state
                raise RuntimeError(f"the refreshed copy {source} has no pipeline state; the dataset is unchanged")
            current = _tables(client) if client.has_dataset() else []
            # Tables of this pipeline only: what dlt knows of, its bookkeeping (dlt's, and _pendo_buckets, which
            # describes the old rows) and what replaces them. Logs such as _pendo_deletions stay.
            doomed = [t for t in current if t in known or t in fresh or t.startswith("_dlt") or t == BUCKETS_TABLE]
            with client.begin_transaction():
                client.execute_sql(f"CREATE SCHEMA IF NOT EXISTS {target}")
                for table in doomed:
                    _drop_table(client, target, table)
                for table in fresh:
                    if destination == "postgres":
                        client.execute_sql(f"ALTER TABLE {source}.{client.escape_column_name(table)} "
                                           f"SET SCHEMA {_bare(target)}")
                    else:
                        _copy_duckdb_table(client, source, source_name, target, table)

    _call(swap)


def _drop_table(client: Any, dataset: str, table: str) -> None:
    try:
        client.execute_sql(f"DROP TABLE {dataset}.{client.escape_column_name(table)}")
    except Exception as exc:
        if "depend" not in str(exc):
            raise
        # Not CASCADE: that would silently drop the user's views (dbt's staging models) with the old table.
        raise RefreshBlockedError(
            f"--full-refresh cannot replace {dataset}.{table}: other objects depend on it "
            f"({' '.join(str(exc).split())[:160]}); drop them (dbt: its staging views) and run again, "
            "then rebuild them with 'pendo-elt models'; the dataset is unchanged") from None


def _copy_duckdb_table(client: Any, source: str, source_name: str, target: str, table: str) -> None:
    """DuckDB has no ``ALTER TABLE ... SET SCHEMA``: re-create the table as dlt made it (types, NOT NULL), copy it."""
    name = client.escape_column_name(table)
    columns = client.execute_sql(
        "SELECT column_name, data_type, is_nullable FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = %s AND table_name = %s ORDER BY column_index", source_name, table)
    definition = ", ".join(f"{client.escape_column_name(c)} {t}{'' if n else ' NOT NULL'}" for c, t, n in columns)
    client.execute_sql(f"CREATE TABLE {target}.{name} ({definition})")
    client.execute_sql(f"INSERT INTO {target}.{name} SELECT * FROM {source}.{name}")
    client.execute_sql(f"DROP TABLE {source}.{name}")


def _tables(client: Any) -> list[str]:
    rows = client.execute_sql(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name", client.dataset_name)
    return [r[0] for r in rows]


def _bare(qualified: str) -> str:
    """The schema part of a possibly catalog-qualified dataset name (DuckDB: "catalog"."schema")."""
    return qualified.rsplit(".", 1)[-1]


def _sync(pipeline: dlt.Pipeline) -> None:
    _call(pipeline.sync_destination)


def _call(step: Callable[[], Any]) -> Any:
    from pipelines.run import unwrap

    try:
        return step()
    except PipelineStepFailed as exc:
        raise unwrap(exc) from None


def _destination(pipeline: dlt.Pipeline) -> str:
    return pipeline.destination.destination_name if pipeline.destination else "duckdb"

