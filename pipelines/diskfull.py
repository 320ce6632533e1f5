"""One line for a full disk: which path, how much is free, what to do (instead of ``OSError: [Errno 28]``)."""

from __future__ import annotations

import errno
import shutil
from collections.abc import Sequence


def describe_disk_full(chain: Sequence[BaseException]) -> str | None:
    """The message for an error chain that holds ENOSPC; None for any other error.

    Python's ``OSError`` from pyarrow and dlt's file writers carries no file name, so the path is the one the
    failing step was writing under: the pipeline's working directory (dlt's ``PipelineStepFailed`` holds it).
    """
    full = next((e for e in chain if isinstance(e, OSError) and e.errno == errno.ENOSPC), None)
    if full is None:
        said = next((e for e in reversed(chain) if "No space left on device" in str(e)), None)  # DuckDB names its file
        if said is None:
            return None
        return (f"no space left on device: {' '.join(str(said).split())[:300]}: free some space there or move the "
                "destination; the load was not recorded as complete, and the next run extracts its data again")
    path = full.filename
    if not path:
        pipeline = next((p for p in (getattr(e, "pipeline", None) for e in chain) if p is not None), None)
        path = getattr(pipeline, "working_dir", None)
    where = f"writing {path}" if path else "writing a working file"
    free = _free(str(path)) if path else None
    return (f"no space left on device {where}{f' ({free} free)' if free else ''}: free some space or point "
            "--pipelines-dir (dlt's working files) at a larger disk; the next run extracts again what this one "
            "could not load")


def _free(path: str) -> str | None:
    from pathlib import Path

    current = Path(path)
    while not current.exists() and current != current.parent:
        current = current.parent
    try:
        free = shutil.disk_usage(current).free
    except OSError:
        return None
    return f"{free / 1024:.0f} KB" if free < 10 * 1024 * 1024 else f"{free / 1024 / 1024:.0f} MB"
