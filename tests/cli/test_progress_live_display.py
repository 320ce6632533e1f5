"""`pendo-elt run` and `backfill` on a terminal (a pseudo-terminal): a live block of windows, days and rows."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time

from tests.cli.test_cli_commands import BIN, KEY, cli  # noqa: F401 - the fixture: a private simulator and DuckDB

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
TABLE_LINE = re.compile(r"^\s+(\w+)\s+(\d+)/(\d+)\s+(\d{4}-\d\d-\d\d)\s+([\d,]+)\s+([\d,]+)")


def _on_a_terminal(cli, *args: str, **env: str) -> tuple[str, str, int]:  # noqa: F811
    """Run with stderr on a pseudo-terminal; returns what the terminal showed, stdout and the exit code."""
    command = [str(BIN), *args, "--pipelines-dir", str(cli.dir / "pipelines")]
    master, slave = pty.openpty()
    environment = {**cli.env, "COLUMNS": "120", **env}
    proc = subprocess.Popen(command, stdin=slave, stdout=subprocess.PIPE, stderr=slave, cwd=cli.dir,
                            env=environment)
    os.close(slave)
    shown, deadline = b"", time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
            elif proc.poll() is not None:
                break
        stdout = proc.stdout.read().decode()
        code = proc.wait(timeout=60)
    finally:
        os.close(master)
        proc.stdout.close()
        if proc.poll() is None:
            proc.kill()
    text = shown.decode(errors="replace")
    assert KEY not in text + stdout
    return text, stdout, code


def _frames(shown: str) -> list[str]:
    """The successive blocks: each redraw starts by moving the cursor up (ESC [ n F)."""
    return [ANSI.sub("", part) for part in re.split(r"\x1b\[\d+F", shown)]


def test_the_live_display_shows_windows_days_and_rows_that_match_the_summary(cli) -> None:  # noqa: F811
    # Slow answers, so that the display is seen mid-run and not only at the end.
    cli.sim.inject({"kind": "delay", "seconds": 1, "times": 3, "after": 2, "path": "/api/v1/aggregation"})
    shown, stdout, code = _on_a_terminal(cli, "run")
    assert code == 0, shown
    frames = _frames(shown)
    assert len(frames) > 3 and "\x1b[" in shown  # redrawn in place, not printed line after line
    positions = {}
    for frame in frames:
        for line in frame.splitlines():
            match = TABLE_LINE.match(line)
            if match:
                positions.setdefault(match.group(1), set()).add((int(match.group(2)), int(match.group(3))))
    assert {"page_events", "events", "poll_events"} <= set(positions)
    assert any(done < total for done, total in positions["page_events"]), "a frame mid-run shows windows left"
    last = frames[-1]
    summary = {p[0]: int(p[1].replace(",", "")) for p in (line.split() for line in stdout.splitlines())
               if len(p) >= 2 and p[1].replace(",", "").isdigit()}
    for table in ("page_events", "visitors", "pages", "guide_events"):
        row = next(line for line in last.splitlines() if line.split()[:1] == [table])
        assert int(row.split()[-1 if table in ("visitors", "pages") else 3].replace(",", "")) == summary[table], row
    assert "done" in last.splitlines()[0] and f"into duckdb {cli.db}, dataset pendo_data" in last.splitlines()[1]
    assert "it/s" not in shown and "Jobs" not in shown  # not dlt's bars


def test_a_backfill_on_a_terminal_shows_its_chunk_and_an_eta(cli) -> None:  # noqa: F811
    cli.sim.inject({"kind": "delay", "seconds": 1, "times": 4, "after": 1, "path": "/api/v1/aggregation"})
    shown, stdout, code = _on_a_terminal(cli, "backfill", "--start", "2026-03-01", "--end", "2026-03-05",
                                         "--resources", "page_events", "--chunk-days", "2")
    assert code == 0, shown
    frames = _frames(shown)
    assert any("chunk 1 of 2" in f for f in frames) and any("chunk 2 of 2" in f for f in frames)
    assert any("ETA" in f.splitlines()[0] for f in frames if f.strip()), "the header shows an ETA while extracting"
    assert "chunk 2026-03-01..2026-03-03:" in stdout and "chunk 2026-03-03..2026-03-05:" in stdout
