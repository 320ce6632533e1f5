"""Bounded disk: completed load packages are pruned after every successful load, keeping the newest few.

dlt moves every package it finished (loaded or aborted) to ``<pipelines_dir>/<pipeline>/load/loaded/<load_id>``
and never deletes it: about 1 MB per run at the small scale, hundreds of MB a day at the large scale on an hourly
schedule. Nothing reads them again (cursors and schemas live in the destination and in the working dir's state),
so only the newest ``PENDO_ELT_KEEP_LOAD_PACKAGES`` (default 3) are kept, for debugging a recent run.
"""

from __future__ import annotations

import logging
import os
import shutil

import dlt

from sources.pendo.errors import ConfigError

logger = logging.getLogger("pendo_elt")

KEEP_ENV = "PENDO_ELT_KEEP_LOAD_PACKAGES"
DEFAULT_KEEP = 3


def packages_to_keep() -> int:
    value = os.environ.get(KEEP_ENV, str(DEFAULT_KEEP))
    try:
        keep = int(value)
    except ValueError:
        keep = -1
    if keep < 0:
        raise ConfigError(f"{KEEP_ENV} must be a whole number of completed load packages to keep (0 or more), "
                          f"got {value!r}")
    return keep


def prune_completed_packages(pipeline: dlt.Pipeline, keep: int | None = None) -> list[str]:
    """Delete all but the newest ``keep`` completed packages; returns the load ids deleted.

    Load ids are the package's creation time as a decimal number, so their numeric order is the run order.
    """
    keep = packages_to_keep() if keep is None else keep
    completed = sorted(pipeline.list_completed_load_packages(), key=float)
    doomed = completed[:-keep] if keep else completed
    for load_id in doomed:
        path = pipeline.get_load_package_info(load_id).package_path
        # A package that cannot be removed (a file held open elsewhere) is retried after the next run.
        shutil.rmtree(path, ignore_errors=True)
    if doomed:
        logger.debug("pruned %d completed load package(s), kept %d", len(doomed), min(keep, len(completed)))
    return doomed
