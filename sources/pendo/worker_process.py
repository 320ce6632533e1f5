"""The parent's handle on the window worker process (``sources/pendo/window_worker.py``).

:meth:`WindowWorker.submit` sends one window and returns a future of its parts (lists of pages, decoded from
Arrow IPC), as ``window_fetch.fetch_window_parts`` would have returned them in process. A failure in the worker
(Pendo refusing, retries exhausted) is raised from the future as the same error. The worker dying (killed, out of
memory) fails every window in flight with :class:`WorkerDied`: a one-line error, exit 1, and as with any error
in extraction nothing of the run is loaded. :meth:`stop` ends the worker by its pid and reaps it; the worker also
ends by itself when this process does (its socket closes), so it never outlives a killed parent.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from concurrent.futures import Future
from multiprocessing.connection import Connection
from typing import Any

from sources.pendo.arrow_ipc import decode_page
from sources.pendo.client import PendoClient
from sources.pendo.config import PendoConfig
from sources.pendo.errors import PendoError

logger = logging.getLogger("pendo_elt")
STOP_WAIT_S = 5.0


class WorkerDied(PendoError):
    """The window worker process ended while windows were in flight (exit 1: running again is safe)."""


class RemoteTraceback(Exception):
    """The worker's traceback of an unexpected error, chained to it as its cause."""

    def __str__(self) -> str:
        return str(self.args[0])


class WindowWorker:
    """One worker process fetching up to ``cfg.concurrency`` windows at once for this process."""

    def __init__(self, cfg: PendoConfig, client: PendoClient) -> None:
        self._client = client  # the requests the worker sends are counted on the source's client
        self._seen_requests = 0
        ours, theirs = socket.socketpair()
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sources.pendo.window_worker", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, close_fds=True,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},  # this process's code
            )
        self._conn = Connection(ours.detach())
        self._send_lock = threading.Lock()
        self._lock = threading.Lock()
        self._pending: dict[int, Future] = {}
        self._next_task = 0
        self._stopping = False
        self._died: WorkerDied | None = None
        self._send(("init", cfg, logging.getLogger("pendo_elt").getEffectiveLevel()))
        self._reader = threading.Thread(target=self._read, daemon=True, name="pendo-window-worker")
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def submit(self, table: str, source: str, window: Any, stages: list[dict] | None, single_events: bool) -> Future:
        future: Future = Future()
        with self._lock:
            if self._died is not None:
                raise self._died
            task = self._next_task = self._next_task + 1
            self._pending[task] = future
        try:
            self._send(("fetch", task, table, source, window, stages, single_events))
        except OSError:
            self._reader.join(STOP_WAIT_S)  # the reader notices the worker's end and fails the future
        return future

    def stop(self, *, kill: bool = False) -> None:
        """End the worker: asked to stop after a normal extraction, killed at once after a failure."""
        self._stopping = True
        if self.process.poll() is None:
            if not kill:
                try:
                    self._send(("stop",))
                    self.process.wait(STOP_WAIT_S)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            if self.process.poll() is None:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._conn.close()
        self._reader.join(STOP_WAIT_S)
        self._fail_pending(WorkerDied("extraction stopped"))

    def _send(self, message: tuple) -> None:
        with self._send_lock:
            self._conn.send(message)

    def _read(self) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                break
            kind = message[0]
            if kind == "log":
                logging.getLogger(message[1]).log(message[2], "%s", message[3])
                continue
            with self._lock:
                future = self._pending.pop(message[1], None)
            self._count_requests(message[-1])
            if future is None or not future.set_running_or_notify_cancel():
                continue
            if kind == "done":
                try:
                    future.set_result([[decode_page(page) for page in part] for part in message[2]])
                except Exception as exc:  # noqa: BLE001 - a page that cannot be read fails its window, not this reader
                    future.set_exception(exc)
            else:
                error = message[2]
                if not isinstance(error, PendoError):
                    error.__cause__ = RemoteTraceback(message[3])
                future.set_exception(error)
        if not self._stopping:
            self._fail_pending(self._death())

    def _count_requests(self, total: int) -> None:
        with self._lock:
            self._client.requests_sent += total - self._seen_requests
            self._seen_requests = total

    def _death(self) -> WorkerDied:
        try:
            code = self.process.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            code = None
        how = (f"was killed by {signal.Signals(-code).name}" if code is not None and code < 0
               else f"exited with code {code}" if code is not None else "closed its connection")
        return WorkerDied(f"the event window worker process (pid {self.process.pid}) {how} while extracting; "
                          "nothing of the data in flight was loaded: run the same command again")

    def _fail_pending(self, error: WorkerDied) -> None:
        with self._lock:
            if self._died is None:
                self._died = error
            pending, self._pending = self._pending, {}
        for future in pending.values():
            if future.set_running_or_notify_cancel():
                future.set_exception(error)
