"""`pendo-elt run` and `backfill` as an orchestrator sees them (stderr not a terminal): timestamped log lines.

One line per step (a window, a table's rows, a step of the load, a chunk), each with a UTC timestamp; a heartbeat
when a step is long; no dlt jargon; `--log-format json` gives one parseable object per line with the same facts.
"""

from __future__ import annotations

import json
import re

from tests.cli.test_cli_commands import cli  # noqa: F401 - the fixture: a private simulator and DuckDB file

TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (INFO|WARNING|ERROR|DEBUG) \S")
WINDOW_LINE = re.compile(r"(\w+): window (\d+) of (\d+) \(day (\d{4}-\d\d-\d\d)\) ([\d,]+) rows; ([\d,]+) in all, "
                         r"([\d,]+) rows/s")
DLT_JARGON = ("Jobs", "Files", "Resources", "CPU usage", "Memory usage", "load_id", "Normalize", "Extract pendo")


def _summary_rows(stdout: str) -> dict[str, int]:
    rows = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].replace(",", "").isdigit():
            rows[parts[0]] = int(parts[1].replace(",", ""))
    return rows


def test_run_writes_one_timestamped_line_per_step_with_table_rows_rate_and_position(cli) -> None:  # noqa: F811
    result = cli("run")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(TEXT_LINE.match(line) for line in lines), result.stderr
    assert not any(word in result.stderr for word in DLT_JARGON), result.stderr
    windows = [WINDOW_LINE.search(line).groups() for line in lines if WINDOW_LINE.search(line)]
    by_table: dict[str, list[tuple]] = {}
    for table, number, total, day, window_rows, so_far, _rate in windows:
        by_table.setdefault(table, []).append((int(number), int(total), day, int(window_rows.replace(",", "")),
                                               int(so_far.replace(",", ""))))
    assert {"page_events", "events", "guide_events"} <= set(by_table)
    summary = _summary_rows(result.stdout)
    for table, seen in by_table.items():
        assert [n for n, *_ in seen] == list(range(1, seen[0][1] + 1)), f"{table}: one line per window, in order"
        assert sorted(day for _, _, day, _, _ in seen) == [day for _, _, day, _, _ in seen]
        assert sum(w for *_, w, _ in seen) == seen[-1][4] == summary[table], f"{table}: counts are the summary's"
    text = result.stderr
    assert "pages: " in text and re.search(r"visitors: [\d,]+ rows", text)  # entity tables: their rows
    for step in ("extracting", "preparing the load", "loading into duckdb", "loaded page_events: "):
        assert step in text
    assert f"into duckdb {cli.db}, dataset pendo_data" in lines[0] and "run finished" in lines[-1]


def test_a_long_step_gets_a_heartbeat(cli) -> None:  # noqa: F811
    # Every event window answers 2 s late: without a heartbeat the log would fall silent.
    cli.sim.inject({"kind": "delay", "seconds": 2, "times": 3, "after": 1, "path": "/api/v1/aggregation"})
    result = cli("run", "--resources", "page_events", PENDO_ELT_HEARTBEAT_SECONDS="1")
    assert result.returncode == 0, result.stderr
    beats = [line for line in result.stderr.splitlines() if " still " in line]
    assert beats, result.stderr
    assert all(TEXT_LINE.match(line) and "rows" in line and "rows/s" in line for line in beats)
    assert any(re.search(r"still extracting .*; page_events \d+ of \d+ windows", line) for line in beats), beats


def test_backfill_lines_name_each_chunk_and_window(cli) -> None:  # noqa: F811
    result = cli("backfill", "--start", "2026-03-01", "--end", "2026-03-05", "--resources", "page_events",
                 "--chunk-days", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert all(TEXT_LINE.match(line) for line in lines), result.stderr
    assert "backfill 2026-03-01 to 2026-03-05 in 2 chunk(s)" in lines[0]
    assert sum("chunk 1 of 2 done (2026-03-01 to 2026-03-03)" in line for line in lines) == 1
    assert sum("chunk 2 of 2 done (2026-03-03 to 2026-03-05)" in line for line in lines) == 1
    days = [WINDOW_LINE.search(line).group(4) for line in lines if WINDOW_LINE.search(line)]
    assert days == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
    assert all("ETA" in line for line in lines if WINDOW_LINE.search(line))
    assert not any(word in result.stderr for word in DLT_JARGON)


def test_json_lines_parse_and_carry_the_same_fields(cli) -> None:  # noqa: F811
    cli.sim.inject({"kind": "delay", "seconds": 2, "times": 2, "after": 1, "path": "/api/v1/aggregation"})
    result = cli("--log-format", "json", "backfill", "--start", "2026-03-01", "--end", "2026-03-03",
                 "--resources", "page_events", PENDO_ELT_HEARTBEAT_SECONDS="1")
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stderr.splitlines()]  # every line is one object
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", e["time"]) and e["level"] for e in entries)
    events = [e["event"] for e in entries]
    assert events[0] == "begin" and events[-1] == "done" and "heartbeat" in events and "chunk" in events
    windows = [e for e in entries if e["event"] == "window"]
    assert [(w["table"], w["window"], w["windows"], w["day"]) for w in windows] == [
        ("page_events", 1, 2, "2026-03-01"), ("page_events", 2, 2, "2026-03-02")]
    assert all(isinstance(w["rows"], int) and isinstance(w["rows_per_s"], float) for w in windows)
    done = entries[-1]
    assert done["rows"] == windows[-1]["rows"] == _summary_rows(result.stdout)["page_events"]
    assert done["destination"] == f"duckdb {cli.db}" and done["dataset"] == "pendo_data"


def test_json_errors_are_json_too(cli) -> None:  # noqa: F811
    result = cli("run", "--log-format", "json", "--resources", "pages", SOURCES__PENDO__INTEGRATION_KEY="wrong-key")
    assert result.returncode == 2
    last = json.loads(result.stderr.splitlines()[-1])
    assert last["level"] == "error" and "integration key" in last["message"]
