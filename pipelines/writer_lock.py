"""Writers of one dataset never interleave, across processes and machines; disjoint backfill days still do.

Two loads into one dataset at once doubled rows for good: both delete a bucket, both insert it, and two loads that
share a staging dataset truncate and merge each other's staged rows. The local pipeline lock (pipelines/lock.py)
only covers one working dir on one machine, so the lock that matters is held by the warehouse itself:

* **Postgres**: session advisory locks on a connection kept open for the load, taken in one fixed order (so two
  writers can never deadlock): the dataset (a ``run`` exclusive, a backfill chunk shared), then the staging dataset
  the load uses (exclusive: dlt truncates it), then each day a backfill chunk replaces (exclusive, in date order).
  A run excludes everything; backfills of disjoint days with their own staging datasets (Dagster's per-day
  partitions) load in parallel; backfills that share a day or a staging dataset take turns. Postgres queues lock
  requests, so a waiting run is not starved by a stream of backfill chunks. The server releases the locks when the
  connection ends, however the process dies.
* **DuckDB**: one writer per file anyway; an OS lock on ``<file>.pendo-elt.lock`` beside it (released by the kernel
  when the process dies) keeps a second process from starting a load between the first one's connections.
* **Snowflake** has no advisory locks: nothing is taken, concurrent writers are not prevented (README).

A writer that cannot get its locks within ``PENDO_ELT_WRITER_WAIT_SECONDS`` (default 300) exits 1 with one line
naming who holds them; nothing was extracted or loaded by it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pendulum

from pipelines.identity import DestinationIdentity, identity_of
from sources.pendo.errors import ConfigError, PendoError

WAIT_ENV = "PENDO_ELT_WRITER_WAIT_SECONDS"
DEFAULT_WAIT_SECONDS = 300.0
LOCK_SUFFIX = ".pendo-elt.lock"
_POLL_SECONDS = 0.2


class WriterBusyError(PendoError):
    """Another writer holds the dataset (or the days) this one needs: retryable, exit 1."""


@contextlib.contextmanager
def writing(pipeline: Any, days: Sequence[pendulum.Date] = ()) -> Iterator[None]:
    """Hold the warehouse's writer locks for one load: the whole dataset, or (``days`` given) a backfill's days."""
    identity = identity_of(pipeline)
    what = f"backfill {days[0]}..{days[-1]}" if days else "run"
    label = f"pendo-elt {what} pid {os.getpid()} on {socket.gethostname()}"
    wait = wait_seconds()
    if identity.destination == "postgres":
        with _postgres_locks(identity, _staging_dataset(pipeline), days, wait, label):
            yield
    elif identity.destination == "duckdb":
        with _file_lock(Path(identity.location + LOCK_SUFFIX), identity, wait, label):
            yield
    else:
        yield


def wait_seconds() -> float:
    raw = os.environ.get(WAIT_ENV)
    if raw is None:
        return DEFAULT_WAIT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise ConfigError(f"{WAIT_ENV} must be a number of seconds >= 0, got {raw!r}")
    return value


def chunk_days(start: pendulum.Date, end: pendulum.Date) -> list[pendulum.Date]:
    """The days ``[start, end)`` a backfill chunk replaces."""
    return [start.add(days=i) for i in range((end - start).in_days())]


# --- Postgres ---------------------------------------------------------------------------------------------------
def _postgres_locks(identity: DestinationIdentity, staging: str, days: Sequence[pendulum.Date], wait: float,
                    label: str) -> contextlib.AbstractContextManager[None]:
    import psycopg2

    wanted = wanted_locks(identity, staging, days)
    try:
        conn = psycopg2.connect(identity.credentials.to_native_representation(), connect_timeout=30,
                                application_name=label[:63])
    except psycopg2.Error as exc:
        raise PendoError(f"cannot connect to {identity.describe()} to take the writer lock: "
                         f"{' '.join(str(exc).split())[:200]}") from None
    conn.autocommit = True

    @contextlib.contextmanager
    def held() -> Iterator[None]:
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT set_config('lock_timeout', %s, false)", (f"{max(1, int(wait * 1000))}ms",))
                for key, shared, what in wanted:
                    try:
                        cur.execute(f"SELECT pg_advisory_lock{'_shared' if shared else ''}(%s)", (key,))
                    except (psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected):
                        raise WriterBusyError(_busy(identity, what, _pg_holders(conn, key), wait)) from None
            yield
        finally:
            conn.close()  # ends the session: the server releases every advisory lock it held

    return held()


def wanted_locks(identity: DestinationIdentity, staging: str,
                 days: Sequence[pendulum.Date]) -> list[tuple[int, bool, str]]:
    """(key, shared, what) of every advisory lock a writer takes, in the one order every writer uses."""
    wanted = [(_key(identity, "dataset", identity.dataset), bool(days), f"dataset '{identity.dataset}'"),
              (_key(identity, "staging", staging), False, f"staging dataset '{staging}'")]
    # a day is locked within its dataset: backfills of one day into two datasets on one server do not meet
    wanted += [(_key(identity, "day", f"{identity.dataset}\n{day}"), False, f"day {day}") for day in sorted(days)]
    return wanted


def _pg_holders(conn: Any, key: int) -> str:
    classid, objid = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    with conn.cursor() as cur:
        cur.execute(
            "SELECT a.application_name, a.client_addr, a.pid, a.backend_start FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
            "AND l.classid::bigint = %s AND l.objid::bigint = %s AND l.objsubid = 1 AND l.pid <> pg_backend_pid()",
            (classid, objid))
        rows = cur.fetchall()
    return "; ".join(f"{name or 'a session'} (server pid {pid} from {addr or 'local socket'}, connected "
                     f"{pendulum.instance(since).in_tz('UTC').format('YYYY-MM-DD HH:mm:ss')} UTC)"
                     for name, addr, pid, since in rows) or "another writer"


def _key(identity: DestinationIdentity, kind: str, name: str) -> int:
    """A signed 64-bit advisory lock key, the same on every machine for the same dataset object."""
    digest = hashlib.sha256(f"pendo-elt\n{identity.location}\n{kind}\n{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _staging_dataset(pipeline: Any) -> str:
    """The staging dataset dlt's merge uses for this pipeline (its default layout is ``%s_staging``)."""
    layout = pipeline.destination.config_params.get("staging_dataset_name_layout") or "%s_staging"
    return layout % pipeline.dataset_name if "%s" in layout else layout


# --- DuckDB -----------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _file_lock(path: Path, identity: DestinationIdentity, wait: float, label: str) -> Iterator[None]:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:  # the folder of the database itself is not writable: the load would fail the same way
        raise PendoError(f"cannot create the writer lock {path}: {exc.strerror or exc}") from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
                    raise WriterBusyError(_busy(identity, f"file {identity.location}", holder, wait)) from None
                time.sleep(_POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{label} since {pendulum.now('UTC').format('YYYY-MM-DD HH:mm:ss')} UTC".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def _busy(identity: DestinationIdentity, what: str, holder: str, wait: float) -> str:
    return (f"{what} of {identity.describe()} is being written by {holder}; waited {wait:.0f} s "
            f"({WAIT_ENV}), this run loaded nothing: run it again when that one is done")
