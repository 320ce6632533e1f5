"""Destination settings refused before anything runs, because they cannot work (exit 2, one line)."""

from __future__ import annotations

from pathlib import Path

import dlt

from sources.pendo.errors import ConfigError


def refuse_ambiguous_dataset(pipeline: dlt.Pipeline) -> None:
    """DuckDB names a database file's catalog after the file: a dataset (schema) ``pendo`` inside ``pendo.duckdb``
    makes every unqualified ``pendo.<table>`` ambiguous, and the load fails half-way with a binder error."""
    if pipeline.destination is None or pipeline.destination.destination_name != "duckdb":
        return
    try:
        database = getattr(pipeline.destination_client().config.credentials, "database", None)
    except Exception:  # noqa: BLE001 - credentials the run itself reports better (a path it cannot create)
        return
    if not isinstance(database, str) or database == ":memory:":
        return
    catalog = Path(database).stem
    if catalog.lower() == pipeline.dataset_name.lower():
        raise ConfigError(f"--dataset {pipeline.dataset_name!r} has the name DuckDB gives the catalog of {database}: "
                          "every query of it would be ambiguous; choose another dataset (the default is pendo_data) "
                          "or another file name (DESTINATION__DUCKDB__CREDENTIALS)")
