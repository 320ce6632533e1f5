"""What a run is doing, for the people watching it: fed by events, drawn by a renderer.

Events come from three places, none of which knows how they are shown:
- the source's records on the ``pendo_elt.progress`` logger (``sources/pendo/progress_events.py``): windows
  planned and done per event table, rows per page per table (the same counter as the summary's);
- dlt's step boundaries (extract, normalize, load), through :class:`StepCollector`, a dlt progress collector
  that ignores dlt's own counters (they count delete markers and speak of files and jobs);
- the CLI: the run's destination, backfill chunks, the final summary.

:class:`Display` keeps the state (:class:`RunProgress`) and hands every event to one renderer: a live block on a
terminal (``pipelines/progress_live.py``) or timestamped lines, text or JSON (``pipelines/progress_lines.py``).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol, TextIO

from dlt.common.runtime.collector import Collector

from sources.pendo.progress_events import LOGGER_NAME

LOG_FORMATS = ("text", "json")
PHASES = {"Extract": "extracting", "Normalize": "preparing the load", "Load": "loading"}


@dataclass
class TableProgress:
    """One table's position: rows so far and, for event tables, windows done of planned and the day reached."""

    name: str
    started: float
    rows: int = 0
    rows_before: int = 0  # rows of the earlier loads of this invocation (backfill chunks count from zero each)
    windows: int = 0  # planned for the current load (a backfill plans again for every chunk)
    windows_done: int = 0
    day: str | None = None  # first day of the last window done
    reached: str | None = None  # end (exclusive) of the last window done
    first_day: str | None = None  # of the current plan
    end_day: str | None = None

    def rate(self, now: float) -> float:
        return self.rows / max(now - self.started, 1.0)

    @property
    def windowed(self) -> bool:
        return self.windows > 0 or self.first_day is not None


@dataclass
class RunProgress:
    """The run as a whole: what it loads where, its phase, its tables, and for a backfill its range and chunks."""

    command: str = "run"
    target: str = ""
    dataset: str = ""
    phase: str = "starting"
    started: float = field(default_factory=time.monotonic)
    phase_started: float = field(default_factory=time.monotonic)
    extract_ended: float | None = None  # rates stop moving once nothing is extracted any more
    tables: dict[str, TableProgress] = field(default_factory=dict)
    backfill_days: tuple[str, str] | None = None  # [first, end) of a backfill
    chunks: int = 0
    chunks_done: int = 0

    def table(self, name: str) -> TableProgress:
        if name not in self.tables:
            self.tables[name] = TableProgress(name, started=time.monotonic())
        return self.tables[name]

    other_rows: int = 0  # rows of child tables (guides__steps), known from the summary only

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values()) + self.other_rows

    def rate_clock(self, now: float) -> float:
        """The instant rates are measured at: now while extracting, else when extraction ended."""
        return now if self.phase in ("starting", "extracting") or self.extract_ended is None else self.extract_ended

    def fraction(self, table: TableProgress) -> float | None:
        """How much of its work an event table has done: days of the backfill range, else windows of the plan."""
        if self.backfill_days and table.reached:
            first, end = (_ordinal(d) for d in self.backfill_days)
            return min(1.0, max(0.0, (_ordinal(table.reached) - first) / max(end - first, 1)))
        if table.windows:
            return table.windows_done / table.windows
        return None

    def eta(self, table: TableProgress, now: float) -> float | None:
        """Seconds left for one event table, at the pace it has kept since it started."""
        done = self.fraction(table)
        if not done or done >= 1.0:
            return 0.0 if done else None
        return (now - table.started) * (1 - done) / done

    def overall_eta(self, now: float) -> float | None:
        etas = [self.eta(t, now) for t in self.tables.values() if t.windowed]
        known = [e for e in etas if e is not None]
        return max(known) if known and len(known) == len(etas) else None


class Renderer(Protocol):
    def event(self, kind: str, fields: dict, state: RunProgress) -> None: ...
    def log(self, text: str, record: logging.LogRecord) -> None: ...
    def say(self, text: str) -> None: ...
    def close(self, state: RunProgress) -> None: ...


class Display:
    """The run's progress, fed by events, drawn live on a terminal or as log lines; one per CLI invocation."""

    def __init__(self, stream: TextIO | None = None, log_format: str = "text", live: bool | None = None,
                 heartbeat: float = 30.0) -> None:
        self.stream = stream or sys.stderr
        self.log_format = log_format
        self.live = (log_format == "text" and self.stream.isatty()) if live is None else live
        self.heartbeat = heartbeat
        self.state = RunProgress()
        self._lock = threading.RLock()
        self._renderer: Renderer | None = None
        self._last_step: str | None = None
        self._closed = False
        self._repeated = False

    @property
    def renderer(self) -> Renderer:
        if self._renderer is None:
            if self.live:
                from pipelines.progress_live import LiveRenderer

                self._renderer = LiveRenderer(self.stream, self._lock)
            else:
                from pipelines.progress_lines import LineRenderer

                self._renderer = LineRenderer(self.stream, self._lock, json=self.log_format == "json",
                                              heartbeat=self.heartbeat)
        return self._renderer

    @property
    def collector(self) -> StepCollector:
        return StepCollector(self)

    # --- what the CLI says ------------------------------------------------------------------------------------
    def begin(self, command: str, target: str, dataset: str, tables: list[str] | tuple[str, ...],
              backfill_days: tuple[str, str] | None = None, chunks: int = 0) -> None:
        with self._lock:
            self.state = RunProgress(command=command, target=target, dataset=dataset, backfill_days=backfill_days,
                                     chunks=chunks)
            self.renderer.event("begin", {"command": command, "destination": target, "dataset": dataset,
                                          "tables": len(tables), "backfill": backfill_days, "chunks": chunks},
                                self.state)

    def chunk_done(self, start: str, end: str, rows: dict[str, int] | None) -> None:
        with self._lock:
            self.state.chunks_done += 1
            self.renderer.event("chunk", {"chunk": self.state.chunks_done, "chunks": self.state.chunks,
                                          "start": start, "end": end, "skipped": rows is None,
                                          "rows": sum(rows.values()) if rows else 0}, self.state)

    def finish(self, rows: dict[str, int], seconds: float) -> None:
        """The run succeeded: the summary's counts become the display's, one ``loaded`` event per table."""
        with self._lock:
            self.state.phase = "done"
            for name, count in sorted(rows.items()):
                if name not in self.state.tables:  # child tables (guides__steps) count in the total only
                    self.state.other_rows += count
                    continue
                self.state.table(name).rows = count
                self.renderer.event("loaded", {"table": name, "rows": count}, self.state)
            self.renderer.event("done", {"command": self.state.command, "destination": self.state.target,
                                         "dataset": self.state.dataset, "rows": sum(rows.values()),
                                         "seconds": round(seconds, 1)}, self.state)

    def say(self, text: str) -> None:
        """A line for stdout (a chunk done, a demo step) that must not tear the live block."""
        if self._renderer is None or self._closed:
            print(text, flush=True)
        else:
            self.renderer.say(text)

    def close(self) -> None:
        """Stop drawing (the live block's last frame stays); later events are dropped. Idempotent."""
        if self._renderer is not None and not self._closed:  # not under the lock: the renderer's thread may wait
            self._renderer.close(self.state)
        self._closed = True

    def __enter__(self) -> Display:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what the source and dlt say --------------------------------------------------------------------------
    def source_event(self, fields: dict) -> None:
        kind, name = fields.get("event"), fields.get("table")
        if not name or self._closed:
            return
        with self._lock:
            table = self.state.table(name)
            if kind == "planned":
                table.windows, table.windows_done = int(fields.get("windows") or 0), 0
                table.first_day, table.end_day = fields.get("first_day"), fields.get("end_day")
            elif kind == "window":
                table.windows_done = int(fields["window"])
                table.day, table.reached = fields.get("day"), fields.get("end_day")
            elif kind == "rows":
                rows = table.rows_before + int(fields["rows"])
                if rows == table.rows:
                    return  # a page of delete markers only
                table.rows = rows
                fields = {**fields, "rows": rows}
            else:
                return
            self.renderer.event(kind, fields, self.state)

    def step(self, step: str | None) -> None:
        """dlt started a step (``Extract pendo``, ``Load pendo in 1712...``) or, with None, ended one."""
        if self._closed:
            return
        with self._lock:
            before, seconds = self.state.phase, time.monotonic() - self.state.phase_started
            if self._repeated:  # dlt extracts the pipeline state right after the data: one step to a reader
                self._repeated = step is not None
                return
            if step is None:
                self._last_step = before
                if before == "extracting":
                    self.state.extract_ended = time.monotonic()
                    for table in self.state.tables.values():
                        table.rows_before = table.rows
                self.renderer.event("step_done", {"phase": before, "seconds": round(seconds, 1),
                                                  "rows": self.state.rows}, self.state)
                return
            phase = PHASES.get(step.split(" ", 1)[0], step.split(" ", 1)[0].lower())
            if phase == self._last_step == "extracting":
                self._repeated = True
                return
            self._last_step = None
            self.state.phase = phase
            if self.state.phase == "extracting":
                self.state.extract_ended = None
            self.state.phase_started = time.monotonic()
            self.renderer.event("step", {"phase": self.state.phase}, self.state)

    def log(self, text: str, record: logging.LogRecord) -> None:
        if self._closed:
            print(text, file=self.stream, flush=True)
            return
        with self._lock:
            self.renderer.log(text, record)


class StepCollector(Collector):
    """A dlt progress collector that only reports step boundaries to the display."""

    def __init__(self, display: Display) -> None:
        self.display = display
        self.step = ""

    def update(self, name: str, inc: int = 1, total: int | None = None, inc_total: int | None = None,
               message: str | None = None, label: str | None = None) -> None:
        pass  # dlt's counters include delete markers and dlt's files and jobs: the source's events say more

    def _start(self, step: str) -> None:
        self.display.step(step)

    def _stop(self) -> None:
        self.display.step(None)

    def __deepcopy__(self, memo: dict) -> StepCollector:  # dlt copies collectors with pipelines; share ours
        return self


class ProgressHandler(logging.Handler):
    """Hands the source's progress records to the display."""

    def __init__(self, display: Display) -> None:
        super().__init__(logging.DEBUG)
        self.display = display

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, "progress", None)
        if isinstance(fields, dict):
            self.display.source_event(fields)


class DisplayLogHandler(logging.Handler):
    """Every other log record (warnings, --debug) goes through the display, so the live block stays whole."""

    def __init__(self, display: Display, formatter: logging.Formatter) -> None:
        super().__init__()
        self.display = display
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.display.log(self.format(record), record)
        except Exception:  # noqa: BLE001 - logging must never end the run
            self.handleError(record)


def setup_logging(display: Display, debug: bool) -> None:
    """Route the root logger and the source's progress records through ``display``."""
    from pipelines.progress_lines import formatter

    root = logging.getLogger()
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(DisplayLogHandler(display, formatter(display.log_format)))
    progress = logging.getLogger(LOGGER_NAME)
    progress.setLevel(logging.DEBUG)
    progress.propagate = False  # shown by the display, not as raw log lines
    progress.handlers = [ProgressHandler(display)]


def elapsed(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _ordinal(day: str) -> int:
    import datetime as dt

    return dt.date.fromisoformat(day).toordinal()


__all__ = ["Display", "RunProgress", "TableProgress", "StepCollector", "setup_logging", "LOG_FORMATS", "elapsed"]
