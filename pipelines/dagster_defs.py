"""Dagster definitions for pendo-elt (optional extra: ``pip install -e '.[dagster]'``).

    dagster dev -m pipelines.dagster_defs

* ``pendo_backfill/<table>``: the time-windowed event tables, partitioned by day. One partition run calls
  :func:`pipelines.run.backfill` for exactly that day, so a Dagster backfill over a date range reloads a long
  history as many independent runs, in parallel across Dagster's run workers. Each partition has its own dlt
  pipeline (``pendo_backfill_<YYYYMMDD>``: own working dir, lock, state and staging dataset), and the incremental
  cursors of the ``pendo`` pipeline are never read or moved.
* ``pendo/<table>``: every default table, unpartitioned: :func:`pipelines.run.run`, the scheduled incremental
  run, the same pipeline (``pendo``) and working dir as ``pendo-elt run``, so cron and Dagster share its lock.

The event tables have two asset keys because Dagster allows one definition per key: ``pendo/<table>`` is the
table kept current (put downstream dependencies on it), ``pendo_backfill/<table>`` records which days were
reloaded. One multi-asset per role, not one asset per table: a partition is one dlt load of the selected tables
(one Pendo clock query, one commit); selecting fewer tables in Dagster reloads only those.

DuckDB takes one writer at a time: runs against one DuckDB file must be serialized, by limiting the concurrency
pool ``pendo_elt_duckdb`` of both assets to 1 (``dagster instance concurrency set pendo_elt_duckdb 1``) or runs
tagged ``pendo-elt/writer: duckdb`` (``tag_concurrency_limits`` in dagster.yaml); real parallelism needs Postgres
or Snowflake. On an empty dataset, load one partition (or the incremental job) before a parallel backfill.

Settings, read when the code location loads (the same names as the CLI where there is one):
``PENDO_ELT_DESTINATION`` (duckdb), ``PENDO_ELT_DATASET`` (pendo_data), ``PENDO_ELT_PIPELINES_DIR`` (dlt's
default), ``PENDO_ELT_PARTITIONS_START`` (first partition; default ``sources.pendo.start_date``, else 90 days
ago), ``PENDO_ELT_INCREMENTAL_CRON`` (``15 * * * *``, UTC); DuckDB's file ``DESTINATION__DUCKDB__CREDENTIALS``
(./pendo.duckdb); Pendo itself ``SOURCES__PENDO__*`` or ``.dlt/`` of the working directory, as ``pendo-elt``.
"""

# No `from __future__ import annotations`: Dagster reads the context and resource annotations at definition time.
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import dlt
import pendulum
from dagster import AssetExecutionContext
from dlt.common.schema import Schema

from pipelines import redact
from pipelines.run import BACKFILL_RESOURCES, DEFAULT_DATASET, DESTINATIONS, PIPELINE_NAME, make_pipeline
from pipelines.run import backfill as run_backfill
from pipelines.run import run as run_incremental
from sources.pendo.access import configured_secret
from sources.pendo.errors import ConfigError, PendoError
from sources.pendo.settings import DEFAULT_RESOURCES, DEFAULT_TIMEZONE

RESOURCE_KEY = "pendo_elt"
WRITER_TAG = "pendo-elt/writer"  # value: the destination; limit it to 1 for DuckDB
POOL_PREFIX = "pendo_elt_"  # + destination: the concurrency pool of both assets; limit pendo_elt_duckdb to 1
BACKFILL_PREFIX = "pendo_backfill"
INCREMENTAL_PREFIX = "pendo"
DEFAULT_CRON = "15 * * * *"  # hourly, as the cron example in the README
DEFAULT_PARTITIONS_DAYS_AGO = 90
CHECK_NAME = "matches_pendo"  # the asset check on each pendo/<event table>: pendo-elt verify, no repair


class PendoELT(dg.ConfigurableResource):
    """Where pendo-elt loads; Pendo's own settings (key, region, time zone...) come from ``SOURCES__PENDO__*``."""

    destination: str = "duckdb"
    dataset: str = DEFAULT_DATASET
    pipelines_dir: str | None = None
    duckdb_path: str | None = None  # None: DESTINATION__DUCKDB__CREDENTIALS, else ./pendo.duckdb as the CLI

    def incremental_pipeline(self) -> dlt.Pipeline:
        """The CLI's pipeline (``pendo``): same working dir, lock, state and cursors as ``pendo-elt run``."""
        config = {"credentials": self._duckdb_file()} if self.destination == "duckdb" else None
        return make_pipeline(self.destination, self.dataset, self.pipelines_dir, destination_config=config)

    def partition_pipeline(self, name: str) -> dlt.Pipeline:
        """A pipeline of one partition: its own working dir, lock, state, and staging dataset.

        The staging dataset is where dlt's delete-insert merge stages rows: two loads sharing one would truncate
        and merge each other's rows, so each partition gets ``<dataset>_staging_<partition>`` (dropped after).
        """
        config: dict[str, Any] = {"staging_dataset_name_layout": f"%s_staging_{name.removeprefix('pendo_')}"}
        if self.destination == "duckdb":
            config["credentials"] = self._duckdb_file()
        return make_pipeline(self.destination, self.dataset, self.pipelines_dir, pipeline_name=name,
                             destination_config=config)

    def _duckdb_file(self) -> Any:
        """One file for every pipeline: dlt's default would be ``<pipeline name>.duckdb`` for each partition."""
        configured = self.duckdb_path or dlt.secrets.get("destination.duckdb.credentials")
        if configured and (not isinstance(configured, str) or "://" in configured or configured.startswith(":")):
            return configured  # a connection string, :memory: or a credentials object: dlt knows what to do
        return str(Path(configured or f"{PIPELINE_NAME}.duckdb").absolute())


def _seed_schema(pipeline: dlt.Pipeline) -> bool:
    """Start a fresh partition pipeline from the dataset's own ``pendo`` schema.

    dlt restores a pipeline on a fresh machine with the newest stored schema of its name, whichever pipeline
    stored it; a partition that started from an empty schema would store one with the event tables only, and
    ``pendo-elt status`` on a fresh machine would then list only those. Seeded, it stores a superset or nothing,
    and infers no column type that contradicts the table's (a text value of a bigint column goes to its variant
    column, as in the ``pendo`` pipeline). False when the dataset has no schema to start from.
    """
    if pipeline.schema_names:
        return True
    try:
        with pipeline.destination_client() as client:
            ready = client.is_storage_initialized()
            stored = client.get_stored_schema("pendo") if ready else None  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - an empty or unreachable destination: the load says what is wrong
        return False
    if stored is None:
        return False
    pipeline._inject_schema(Schema.from_dict(json.loads(stored.schema)))  # noqa: SLF001 - no public way
    return True


def _drop_staging(pipeline: dlt.Pipeline) -> None:
    try:
        with pipeline.sql_client() as client, client.with_staging_dataset():
            if client.has_dataset():
                client.drop_dataset()
    except Exception as exc:  # noqa: BLE001 - leftovers cost space, not correctness; the next run reuses it
        dg.get_dagster_logger().warning(f"could not drop the staging dataset of {pipeline.pipeline_name}: {exc}")


_REDACTED: set[str] = set()


def _redact_logs() -> None:
    """Mask the configured integration key in every log line of this run process, as ``pendo-elt`` does."""
    try:
        secret = configured_secret()
    except Exception:  # noqa: BLE001 - a missing key is reported by the run that needs it
        return
    if secret and secret not in _REDACTED:
        _REDACTED.add(secret)
        redact.install([secret])


def _failure(exc: PendoError) -> dg.Failure:
    """The one-line message as the run's failure, without a traceback (as ``pendo-elt`` prints it)."""
    return dg.Failure(description=str(exc), metadata={"error": type(exc).__name__}, allow_retries=False)


def _materializations(
    keys: Sequence[dg.AssetKey], rows: dict[str, int], **metadata: Any
) -> Iterator[dg.MaterializeResult]:
    for key in keys:
        yield dg.MaterializeResult(asset_key=key, metadata={"rows_loaded": rows.get(key.path[-1], 0), **metadata})


def _partitions_start(value: str | None) -> str:
    value = value or os.environ.get("PENDO_ELT_PARTITIONS_START") or dlt.config.get("sources.pendo.start_date")
    if not value:
        return pendulum.today("UTC").subtract(days=DEFAULT_PARTITIONS_DAYS_AGO).to_date_string()
    try:
        return pendulum.parse(str(value), exact=True).to_date_string()  # type: ignore[union-attr]
    except (ValueError, AttributeError, pendulum.parsing.exceptions.ParserError):
        raise ConfigError(f"PENDO_ELT_PARTITIONS_START must be a date as YYYY-MM-DD, got {value!r}") from None


def build_definitions(
    *,
    destination: str | None = None,
    dataset: str | None = None,
    pipelines_dir: str | None = None,
    duckdb_path: str | None = None,
    partitions_start: str | None = None,
    timezone: str | None = None,
    cron: str | None = None,
) -> dg.Definitions:
    """The Definitions; every argument left out is read from the environment or ``.dlt/`` (module docstring)."""
    destination = destination or os.environ.get("PENDO_ELT_DESTINATION", "duckdb")
    if destination not in DESTINATIONS:
        raise ConfigError(f"PENDO_ELT_DESTINATION: unknown destination {destination!r}; "
                          f"choose from {', '.join(DESTINATIONS)}")
    # Days of Pendo's subscription time zone, as the source buckets them; a day is a partition once it is over.
    timezone = timezone or dlt.config.get("sources.pendo.subscription_timezone") or DEFAULT_TIMEZONE
    daily = dg.DailyPartitionsDefinition(start_date=_partitions_start(partitions_start), timezone=str(timezone))
    kinds = {"dlt", destination}
    tags = {WRITER_TAG: destination}  # run tags of the jobs and the schedule: for run tag_concurrency_limits
    pool = f"{POOL_PREFIX}{destination}"  # op concurrency pool: holds however a run was launched (UI, backfill)

    @dg.multi_asset(
        name="pendo_backfill",
        specs=[dg.AssetSpec([BACKFILL_PREFIX, t], kinds=kinds, group_name="pendo_backfill",
                            description=f"Reloads of {t} for one day of Pendo's time zone (pendo-elt backfill).")
               for t in BACKFILL_RESOURCES],
        partitions_def=daily,
        backfill_policy=dg.BackfillPolicy.multi_run(1),  # a run per day: the unit Dagster spreads over workers
        can_subset=True,
        pool=pool,
        # Partitions that start together on an empty dataset race to create its tables (Postgres: "duplicate key
        # value violates unique constraint pg_type_typname_nsp_index"); a retry finds them made. Pendo's own
        # errors were already retried request by request and fail at once (Failure(allow_retries=False)).
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL,
                                    jitter=dg.Jitter.PLUS_MINUS),
    )
    def pendo_backfill(context: AssetExecutionContext, pendo_elt: PendoELT) -> Iterator[dg.MaterializeResult]:
        """Reload the partition's day(s) of the selected event tables; incremental cursors stay where they are."""
        _redact_logs()
        window = context.partition_time_window
        first, last = window.start.date().isoformat(), window.end.date().isoformat()
        days = (window.end.date() - window.start.date()).days
        name = f"pendo_backfill_{first.replace('-', '')}" + (f"_{days}d" if days > 1 else "")
        keys = sorted(context.selected_asset_keys, key=lambda k: k.path[-1])
        tables = [k.path[-1] for k in keys]
        pipeline = pendo_elt.partition_pipeline(name)
        if not _seed_schema(pipeline):
            context.log.warning(
                f"dataset {pendo_elt.dataset} holds no pendo tables yet: partitions started together on it race to "
                "create them and may infer different column types; load one partition (or the incremental job) "
                "first, then backfill in parallel")
        context.log.info(f"backfill {first}..{last} of {', '.join(tables)} with pipeline {name}")
        try:
            summary = run_backfill(pipeline, first, last, tables, chunk_days=1)
        except PendoError as exc:
            raise _failure(exc) from None
        # Only after success: a load that failed half way is finished by the next attempt from this staging data.
        _drop_staging(pipeline)
        yield from _materializations(keys, summary.rows, days=f"{first}..{last}", pipeline=name,
                                     seconds=round(summary.seconds, 1))

    @dg.multi_asset(
        name="pendo_incremental",
        specs=[dg.AssetSpec([INCREMENTAL_PREFIX, t], kinds=kinds, group_name="pendo",
                            description=f"{t}, kept current by the incremental run (pendo-elt run).")
               for t in DEFAULT_RESOURCES],
        can_subset=True,
        pool=pool,
    )
    def pendo_incremental(
        context: AssetExecutionContext, pendo_elt: PendoELT
    ) -> Iterator[dg.MaterializeResult]:
        """The incremental run of the selected tables, from the cursors in the destination."""
        _redact_logs()
        keys = sorted(context.selected_asset_keys, key=lambda k: k.path[-1])
        try:
            summary = run_incremental(pendo_elt.incremental_pipeline(), [k.path[-1] for k in keys])
        except PendoError as exc:
            raise _failure(exc) from None
        yield from _materializations(keys, summary.rows, seconds=round(summary.seconds, 1))

    @dg.multi_asset_check(
        name="pendo_matches_pendo",
        specs=[dg.AssetCheckSpec(CHECK_NAME, asset=[INCREMENTAL_PREFIX, t],
                                 description=f"Every loaded bucket of {t} equals Pendo (pendo-elt verify)")
               for t in BACKFILL_RESOURCES],
        can_subset=True,
        pool=pool,
    )
    def pendo_matches_pendo(
        context: dg.AssetCheckExecutionContext, pendo_elt: PendoELT
    ) -> Iterator[dg.AssetCheckResult]:
        """``pendo-elt verify`` without repair over all loaded history: fingerprints only, nothing is loaded."""
        from pipelines.verify import verify

        _redact_logs()
        tables = sorted(k.asset_key.path[-1] for k in context.selected_asset_check_keys)
        try:
            result = verify(pendo_elt.incremental_pipeline(), resources=tables)
        except PendoError as exc:
            raise _failure(exc) from None
        span = f"{result.window.start.to_iso8601_string()}..{result.window.end.to_iso8601_string()}"
        for table in tables:
            found = result.tables[table]
            yield dg.AssetCheckResult(
                asset_key=[INCREMENTAL_PREFIX, table], check_name=CHECK_NAME, passed=found.remaining == 0,
                metadata={"buckets_checked": found.buckets_checked, "buckets_differing": found.remaining,
                          "rows_read": found.rows_read,
                          "range": span},
                description=None if found.remaining == 0 else "drift: run pendo-elt verify --repair")

    incremental_job = dg.define_asset_job("pendo_incremental_job", selection=[pendo_incremental], tags=tags,
                                          description="The scheduled incremental run (pendo-elt run).")
    backfill_job = dg.define_asset_job("pendo_backfill_job", selection=[pendo_backfill], tags=tags,
                                       description="One day of event tables per run (pendo-elt backfill).")
    verify_job = dg.define_asset_job("pendo_verify_job", selection=dg.AssetSelection.checks(pendo_matches_pendo),
                                     tags=tags, description="pendo-elt verify (no repair) as asset checks.")
    schedule = dg.ScheduleDefinition(
        name="pendo_incremental_schedule", job=incremental_job,
        cron_schedule=cron or os.environ.get("PENDO_ELT_INCREMENTAL_CRON", DEFAULT_CRON),
        execution_timezone="UTC",
    )
    resource = PendoELT(
        destination=destination,
        dataset=dataset or os.environ.get("PENDO_ELT_DATASET", DEFAULT_DATASET),
        pipelines_dir=pipelines_dir or os.environ.get("PENDO_ELT_PIPELINES_DIR") or None,
        duckdb_path=duckdb_path,
    )
    return dg.Definitions(
        assets=[pendo_backfill, pendo_incremental],
        asset_checks=[pendo_matches_pendo],
        jobs=[incremental_job, backfill_job, verify_job],
        schedules=[schedule],
        resources={RESOURCE_KEY: resource},
    )


defs = build_definitions()
