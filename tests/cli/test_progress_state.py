"""The progress state the display draws from, fed events directly (pure logic, no run)."""

from __future__ import annotations

import io
import json

from pipelines.progress import Display
from pipelines.progress_live import frame


def _display(log_format: str = "json") -> tuple[Display, io.StringIO]:
    stream = io.StringIO()
    display = Display(stream=stream, log_format=log_format, live=False, heartbeat=3600)
    return display, stream


def _events(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_backfill_rows_add_up_across_chunks_and_delete_markers_do_not_count() -> None:
    display, stream = _display()
    display.begin("backfill", "duckdb /x.duckdb", "pendo_data", ["page_events"],
                  backfill_days=("2026-03-01", "2026-03-05"), chunks=2)
    for chunk, (first, end) in enumerate([("2026-03-01", "2026-03-03"), ("2026-03-03", "2026-03-05")]):
        display.step("Extract pendo")
        display.source_event({"event": "planned", "table": "page_events", "windows": 2, "first_day": first,
                              "end_day": end})
        display.source_event({"event": "rows", "table": "page_events", "rows": 0})  # markers only: no line
        display.source_event({"event": "rows", "table": "page_events", "rows": 10})
        display.source_event({"event": "window", "table": "page_events", "window": 1, "windows": 2,
                              "day": first, "end_day": "2026-03-0" + str(2 + 2 * chunk), "window_rows": 10})
        display.step(None)
        display.step("Extract pendo")  # dlt extracts its state right after: not a second step to the reader
        display.step(None)
        for step in ("Normalize pendo in 1", "Load pendo in 1"):
            display.step(step)
            display.step(None)
    assert display.state.table("page_events").rows == 20
    assert display.state.fraction(display.state.table("page_events")) == 0.75
    events = _events(stream)
    steps = [e["message"] for e in events if e["event"] == "step"]
    assert steps == ["extracting", "preparing the load", "loading into duckdb /x.duckdb"] * 2
    assert not any(e["event"] == "rows" for e in events)  # event tables report per window
    windows = [e for e in events if e["event"] == "window"]
    assert [w["rows"] for w in windows] == [10, 20] and all("eta_s" in w for w in windows)


def test_finish_takes_the_summary_counts_and_child_tables_count_in_the_total() -> None:
    display, stream = _display("text")
    display.begin("run", "duckdb /x.duckdb", "pendo_data", ["guides"])
    display.source_event({"event": "rows", "table": "guides", "rows": 6})
    display.finish({"guides": 6, "guides__steps": 11}, 1.5)
    lines = stream.getvalue().splitlines()
    assert any(line.endswith("INFO loaded guides: 6 rows") for line in lines)
    assert not any("guides__steps" in line for line in lines)
    assert "run finished: 17 rows into duckdb /x.duckdb, dataset pendo_data" in lines[-1]
    block = frame(display.state, 0.0)
    assert block[0].startswith("run: done") and "into duckdb /x.duckdb, dataset pendo_data" in block[1]
    assert block[-1].split()[:2] == ["total", "17"]


def test_events_after_close_are_dropped() -> None:
    display, stream = _display()
    display.begin("run", "duckdb /x.duckdb", "pendo_data", ["pages"])
    display.close()
    display.source_event({"event": "rows", "table": "pages", "rows": 3})
    assert [e["event"] for e in _events(stream)] == ["begin"]
