"""The models' warehouse, built once per test run and shared by every xdist worker.

`make test` spreads test files over workers, and a session fixture is per worker: without this each worker
that runs a tests/models file would load the simulator and build dbt again. The first worker to ask builds under
an exclusive file lock in the run's shared directory (tests/conftest.py) and pickles the result; the others
read it. The controller drops the Postgres schemas and the directory when the whole run ends.
"""

from __future__ import annotations

import fcntl
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
DATASETS_FILE = "postgres_datasets.txt"


def shared(directory: str, build: Callable[[Path], tuple[T, list[str]]]) -> T:
    """``build(workdir)`` once per run (returns the value and the Postgres schemas it created), else its pickle."""
    root = Path(directory) / "models"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this worker dies
        saved = root / "scenario.pickle"
        if saved.exists():
            return pickle.loads(saved.read_bytes())
        value, schemas = build(root / "build")
        (root / DATASETS_FILE).write_text("\n".join(schemas), encoding="utf-8")
        saved.write_bytes(pickle.dumps(value))
        return value


def release_shared(directory: str) -> None:
    """Drop the Postgres schemas the build created and remove the shared directory."""
    listed = Path(directory) / "models" / DATASETS_FILE
    schemas = [s for s in listed.read_text(encoding="utf-8").split() if s] if listed.exists() else []
    if schemas:
        import psycopg2

        from tests.models.conftest import PG_URL

        with psycopg2.connect(PG_URL, connect_timeout=5) as conn, conn.cursor() as cursor:
            for schema in schemas:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    shutil.rmtree(directory, ignore_errors=True)
