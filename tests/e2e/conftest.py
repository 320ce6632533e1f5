from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2
import pytest

from simulator.testing import SimulatorProcess
from tests.e2e.harness import Loader


@pytest.fixture
def loader(make_sim, tmp_path: Path) -> Callable[..., Loader]:
    def factory(sim: SimulatorProcess | None = None, **kwargs: object) -> Loader:
        return Loader(sim or make_sim(), tmp_path, **kwargs)  # type: ignore[arg-type]

    return factory


PG = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def pg_dataset() -> Iterator[str]:
    """A fresh dataset name on the machine's Postgres; afterwards every schema it spawned (staging...) is dropped."""
    try:
        psycopg2.connect(PG, connect_timeout=3).close()
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({exc}); .ci/run starts it")
    name = f"pendo_test_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg2.connect(PG) as conn, conn.cursor() as cur:
        cur.execute("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE %s", (f"{name}%",))
        for (schema,) in cur.fetchall():
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
