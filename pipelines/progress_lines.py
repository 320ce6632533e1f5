"""Progress as log lines, for stderr that is not a terminal (cron mail, Dagster, Airflow, CI logs).

One timestamped line per step (a window done, a table's rows, a step of the load, a backfill chunk) and a
heartbeat when nothing else was written for ``heartbeat`` seconds, so a long query or load never looks like a
hang. ``json`` writes one object per line with the same facts, for log shippers. Log records of other loggers
(retries, splits, ``--debug``) use the same two formats.
"""

from __future__ import annotations

import datetime as dt
import json as jsonlib
import logging
import threading
import time
from typing import TextIO

from pipelines.progress import RunProgress, TableProgress, elapsed


def timestamp(seconds: float | None = None, *, millis: bool = False) -> str:
    moment = dt.datetime.fromtimestamp(time.time() if seconds is None else seconds, dt.UTC)
    return moment.isoformat(timespec="milliseconds" if millis else "seconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = f"{timestamp(record.created)} {record.levelname} {record.name}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": timestamp(record.created, millis=True), "level": record.levelname.lower(),
                 "event": getattr(record, "event", "log"), "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return jsonlib.dumps(entry, default=str)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def error_line(message: str, log_format: str) -> str:
    """The CLI's closing error, in the chosen format (text keeps the plain ``error: ...`` line)."""
    if log_format == "json":
        return jsonlib.dumps({"time": timestamp(millis=True), "level": "error", "event": "error", "message": message})
    return f"error: {message}"


class LineRenderer:
    def __init__(self, stream: TextIO, lock: threading.RLock, *, json: bool, heartbeat: float) -> None:
        self.stream, self.lock, self.json, self.heartbeat = stream, lock, json, max(heartbeat, 0.1)
        self._last_line = time.monotonic()
        self._state: RunProgress | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- events -----------------------------------------------------------------------------------------------
    def event(self, kind: str, fields: dict, state: RunProgress) -> None:
        self._state = state
        if kind == "begin":
            self._start_heartbeat()
            what = (f"backfill {fields['backfill'][0]} to {fields['backfill'][1]} in {fields['chunks']} chunk(s)"
                    if fields.get("backfill") else fields["command"])
            self._write(kind, f"{what}: {fields['tables']} tables into {fields['destination']}, "
                              f"dataset {fields['dataset']}", fields)
        elif kind == "planned":
            text = (f"{fields['table']}: {fields['windows']} windows to fetch, {fields['first_day']} to "
                    f"{fields['end_day']}" if fields["windows"] else f"{fields['table']}: no window to fetch")
            self._write(kind, text, fields)
        elif kind == "window":
            table = state.table(fields["table"])
            extra = self._position(table, state)
            self._write(kind, f"{table.name}: window {fields['window']} of {fields['windows']} (day {fields['day']}) "
                              f"{fields['window_rows']:,} rows; {table.rows:,} in all, {extra['rows_per_s']:,.0f} "
                              f"rows/s{self._eta_text(extra)}", {**fields, **extra})
        elif kind == "rows":
            table = state.table(fields["table"])
            if not table.windowed:  # event tables report per window
                self._write(kind, f"{table.name}: {table.rows:,} rows", self._position(table, state))
        elif kind == "step":
            where = f" into {state.target}" if fields["phase"] == "loading" else ""
            self._write(kind, f"{fields['phase']}{where}", fields)
        elif kind == "step_done" and fields["phase"] == "extracting":
            self._write(kind, f"extracted {fields['rows']:,} rows from {len(state.tables)} tables in "
                              f"{fields['seconds']:.1f} s", fields)
        elif kind == "chunk":
            what = "already loaded, skipped" if fields["skipped"] else f"{fields['rows']:,} rows"
            self._write(kind, f"chunk {fields['chunk']} of {fields['chunks']} done ({fields['start']} to "
                              f"{fields['end']}): {what}", fields)
        elif kind == "loaded":
            self._write(kind, f"loaded {fields['table']}: {fields['rows']:,} rows", fields)
        elif kind == "done":
            self._write(kind, f"{fields['command']} finished: {fields['rows']:,} rows into {fields['destination']}, "
                              f"dataset {fields['dataset']}, in {fields['seconds']:.1f} s", fields)

    def log(self, text: str, record: logging.LogRecord) -> None:
        self._emit(text)

    def say(self, text: str) -> None:
        print(text, flush=True)

    def close(self, state: RunProgress) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    # --- lines ------------------------------------------------------------------------------------------------
    def _write(self, kind: str, text: str, fields: dict) -> None:
        if self.json:
            entry = {"time": timestamp(millis=True), "level": "info", "event": kind, "message": text,
                     **{k: v for k, v in fields.items() if k != "event" and v is not None}}
            self._emit(jsonlib.dumps(entry, default=str))
        else:
            self._emit(f"{timestamp()} INFO {text}")

    def _emit(self, line: str) -> None:
        with self.lock:
            self.stream.write(line + "\n")
            self.stream.flush()
            self._last_line = time.monotonic()

    def _position(self, table: TableProgress, state: RunProgress) -> dict:
        now = time.monotonic()
        fields: dict = {"table": table.name, "rows": table.rows, "rows_per_s": round(table.rate(now), 1)}
        if table.windowed:
            fields.update(window=table.windows_done, windows=table.windows, day=table.day)
            if state.backfill_days:
                eta = state.eta(table, now)
                fields["eta_s"] = round(eta) if eta is not None else None
        return fields

    @staticmethod
    def _eta_text(fields: dict) -> str:
        return f", ETA {elapsed(fields['eta_s'])}" if fields.get("eta_s") is not None else ""

    # --- heartbeat --------------------------------------------------------------------------------------------
    def _start_heartbeat(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._beat, name="pendo-elt-heartbeat", daemon=True)
            self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(min(1.0, self.heartbeat / 4)):
            with self.lock:
                state = self._state
                if state is None or state.phase == "done" or time.monotonic() - self._last_line < self.heartbeat:
                    continue
                self._heartbeat(state)

    def _heartbeat(self, state: RunProgress) -> None:
        now = time.monotonic()
        tables = [self._position(t, state) for t in state.tables.values() if t.windowed or t.rows]
        busy = [t for t in tables if "window" in t and t["window"] < t["windows"]]
        total_rate = state.rows / max(now - state.started, 1e-3)
        chunk = f" chunk {state.chunks_done + 1} of {state.chunks}," if state.chunks else ""
        text = (f"still {state.phase} ({elapsed(now - state.phase_started)}),{chunk} {state.rows:,} rows, "
                f"{total_rate:,.0f} rows/s")
        for t in busy:
            day = f" (day {t['day']} done)" if t["day"] else ""
            text += (f"; {t['table']} {t['window']} of {t['windows']} windows{day}, {t['rows']:,} rows"
                     f"{self._eta_text(t)}")
        eta = state.overall_eta(now) if state.backfill_days else None
        if eta is not None:
            text += f"; ETA {elapsed(eta)}"
        self._write("heartbeat", text, {"phase": state.phase, "seconds": round(now - state.phase_started, 1),
                                        "rows": state.rows, "rows_per_s": round(total_rate, 1),
                                        "chunk": state.chunks_done + 1 if state.chunks else None,
                                        "chunks": state.chunks or None, "eta_s": round(eta) if eta else None,
                                        "tables": busy})
