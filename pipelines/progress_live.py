"""Progress as a live block on a terminal: one line per table, redrawn in place a few times a second.

Event tables show windows done of planned, the day reached, rows, rows/s and (backfills) an ETA; other tables
their rows. The counts are the summary's (delete markers excluded). Log records and stdout lines written while the
block is shown go above it, so it is never torn. The last frame stays on screen when the run ends.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from typing import TextIO

from pipelines.progress import RunProgress, TableProgress, elapsed

REFRESH_SECONDS = 0.25
_UP_AND_CLEAR = "\x1b[{n}F\x1b[J"  # to the start of the line n lines up, then clear to the end of the screen


class LiveRenderer:
    def __init__(self, stream: TextIO, lock: threading.RLock) -> None:
        self.stream, self.lock = stream, lock
        self._state: RunProgress | None = None
        self._drawn = 0  # lines of the block now on screen
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def event(self, kind: str, fields: dict, state: RunProgress) -> None:
        self._state = state
        if kind == "begin" and self._thread is None:
            self._thread = threading.Thread(target=self._refresh, name="pendo-elt-display", daemon=True)
            self._thread.start()
        if kind in ("begin", "chunk", "done", "step", "step_done"):
            self._draw()

    def log(self, text: str, record: logging.LogRecord) -> None:
        self._above(text, self.stream)

    def say(self, text: str) -> None:
        import sys

        self._above(text, sys.stdout)

    def close(self, state: RunProgress) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        with self.lock:
            if self._state is not None:
                self._draw()
            self._drawn = 0  # the last frame stays; what follows starts below it

    def _above(self, text: str, target: TextIO) -> None:
        with self.lock:
            self._clear()
            if target is not self.stream:
                self.stream.flush()
            target.write(text + "\n")
            target.flush()
            self._draw()

    def _refresh(self) -> None:
        while not self._stop.wait(REFRESH_SECONDS):
            with self.lock:
                self._draw()

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write(_UP_AND_CLEAR.format(n=self._drawn))
            self._drawn = 0

    def _draw(self) -> None:
        if self._state is None:
            return
        width = max(40, shutil.get_terminal_size((100, 24)).columns - 1)
        lines = [line[:width] for line in frame(self._state, time.monotonic())]
        self._clear()
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
        self._drawn = len(lines)


def frame(state: RunProgress, now: float) -> list[str]:
    """The block for one instant: a header, then a line per table."""
    what = state.command if not state.backfill_days else (
        f"backfill {state.backfill_days[0]} to {state.backfill_days[1]}")
    chunk = f"  chunk {min(state.chunks_done + 1, state.chunks)} of {state.chunks}" if state.chunks else ""
    eta = state.overall_eta(now) if state.phase == "extracting" else None
    header = [f"{what}: {state.phase} {elapsed(now - state.started)}{chunk}"
              f"{f'  ETA {elapsed(eta)}' if eta is not None else ''}",
              f"  into {state.target}, dataset {state.dataset}"]
    tables = list(state.tables.values())
    if not tables:
        return header
    width = max(len(t.name) for t in tables)
    lines = [*header, f"  {'table':<{width}}  {'windows':>9}  {'day':<10}  {'rows':>11}  {'rows/s':>8}  ETA"]
    lines += [_table_line(t, state, now, width) for t in tables]
    lines.append(f"  {'total':<{width}}  {'':>9}  {'':<10}  {state.rows:>11,}  "
                 f"{state.rows / max(state.rate_clock(now) - state.started, 1.0):>8,.0f}")
    return lines


def _table_line(table: TableProgress, state: RunProgress, now: float, width: int) -> str:
    if not table.windowed:  # a list or a few pages: a rate would say nothing
        return f"  {table.name:<{width}}  {'':>9}  {'':<10}  {table.rows:>11,}"
    eta = state.eta(table, now) if state.phase == "extracting" else None
    return (f"  {table.name:<{width}}  {f'{table.windows_done}/{table.windows}':>9}  {table.day or '':<10}  "
            f"{table.rows:>11,}  {table.rate(state.rate_clock(now)):>8,.0f}  "
            f"{elapsed(eta) if eta is not None else ''}").rstrip()
