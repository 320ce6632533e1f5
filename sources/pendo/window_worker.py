"""The worker process that fetches, parses and converts event windows, so the second core works (issue 15).

Parsing an answer and building its Arrow tables hold the GIL; in the main process they took turns with dlt's
extract, normalize and load. Here they run in a process of their own: ``python -m sources.pendo.window_worker
<fd>`` talks to its parent (``sources/pendo/worker_process.py``) over one socket. The parent sends the source's
config once, then one message per window; up to ``concurrency`` windows are fetched at once (threads, as in the
main process), each exactly as the main process would (``window_fetch.fetch_window_parts``: retries, splitting
on Pendo's memory limit, quarantine), and each window's pages go back only once its answer arrived whole, Arrow
tables as IPC stream bytes (compact, no per-row pickling), single-event rows and rejected rows as they are.

The worker never outlives its parent: it exits when the socket closes (the parent ended, however it ended) or
its parent process changes, and it ignores SIGINT (Ctrl-C reaches the whole process group; the parent decides).
Log records of the fetch (retries, splits) are sent to the parent, which logs them as its own.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

import pyarrow as pa

from sources.pendo.arrow_ipc import encode_page
from sources.pendo.client import PendoClient
from sources.pendo.window_fetch import fetch_window_parts

PARENT_POLL_S = 0.2


class _Sender:
    """Messages to the parent from every thread, one at a time (a connection is not thread-safe)."""

    def __init__(self, conn: Connection) -> None:
        self._conn, self._lock = conn, threading.Lock()

    def send(self, message: tuple) -> None:
        with self._lock:
            self._conn.send(message)


class _ForwardLogs(logging.Handler):
    def __init__(self, sender: _Sender) -> None:
        super().__init__()
        self._sender = sender

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):  # the parent is gone or the record is broken: nothing to tell
            self._sender.send(("log", record.name, record.levelno, record.getMessage()))


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="parent-watch").start()
    conn = Connection(int(argv[0]))
    sender = _Sender(conn)
    try:
        _, cfg, level = conn.recv()
    except (EOFError, OSError):
        return 0
    logger = logging.getLogger("pendo_elt")
    logger.handlers[:] = [_ForwardLogs(sender)]
    logger.setLevel(level)
    logger.propagate = False

    pa.set_memory_pool(pa.system_memory_pool())  # as in the parent: freed pages go back to the OS
    client = PendoClient(cfg.base_url, cfg.integration_key, timeout=cfg.request_timeout,
                         max_attempts=cfg.max_attempts, backoff_base=cfg.retry_backoff_seconds)

    def run(task: int, table: str, source: str, window: Any, more: Any, single_events: bool) -> None:
        parts = None
        try:
            parts = fetch_window_parts(client, table, source, window, cfg, more, single_events)
            reply: tuple = ("done", task, [[encode_page(p) for p in part] for part in parts], client.requests_sent)
        except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent, which raises it
            reply = ("error", task, _portable(exc), traceback.format_exc(), client.requests_sent)
        del parts
        sender.send(reply)

    with ThreadPoolExecutor(max_workers=cfg.concurrency, thread_name_prefix="pendo-windows") as executor:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            if message[0] == "stop":
                break
            executor.submit(run, *message[1:])
        os._exit(0)  # threads still fetching belong to a run that is over: do not wait for them
    return 0


def _portable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling (the user-facing errors do), else its type and text."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
