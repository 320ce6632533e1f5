"""Bounded disk: completed load packages are pruned after every successful run and backfill chunk.

dlt keeps every finished package under ``<working dir>/load/loaded/`` forever (the working dir is
``<pipelines_dir>/<destination>-<hash>/pendo``; issue 13 item 9); pendo-elt keeps the newest
``PENDO_ELT_KEEP_LOAD_PACKAGES`` (default 3). The destination's own record of loads is untouched and every run
stays exact.
"""

from __future__ import annotations

from pathlib import Path

import pendulum

from tests.reliability.harness import CORE, EXIT_OK, EXIT_USAGE, Workspace, one_error_line


def loaded_packages(ws: Workspace) -> list[str]:
    folder = ws.working_dir / "load" / "loaded"
    return sorted((p.name for p in folder.iterdir() if p.is_dir()), key=float) if folder.is_dir() else []


def size_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def test_only_the_newest_packages_stay_after_runs_and_backfill_chunks(ws: Workspace) -> None:
    resources = ",".join(CORE)
    for run in range(4):
        if run:
            ws.sim.advance(hours=6)
        result = ws.cli("run", "--resources", resources, PENDO_ELT_KEEP_LOAD_PACKAGES="2")
        assert result.returncode == EXIT_OK, result.stderr[-2000:]
        ws.assert_equals_truth(CORE)
        kept = loaded_packages(ws)
        assert kept == ws.completed_loads()[-len(kept):] and len(kept) == min(run + 1, 2)

    start = pendulum.parse(ws.start_date)
    backfill = ws.cli("backfill", "--start", ws.start_date, "--end", start.add(days=9).to_date_string(),
                      "--resources", "page_events,guide_events", "--chunk-days", "3")
    assert backfill.returncode == EXIT_OK, backfill.stderr[-2000:]
    assert backfill.stdout.count("chunk ") == 3  # three chunks, three loads
    ws.assert_equals_truth(CORE)
    loads = ws.completed_loads()
    assert len(loads) == 4 + 3, "the destination keeps its record of every load"
    assert loaded_packages(ws) == loads[-3:], "default: the newest three packages"


def test_a_bad_number_of_packages_to_keep_is_refused_before_anything_runs(ws: Workspace) -> None:
    result = ws.cli("run", "--resources", ",".join(CORE), PENDO_ELT_KEEP_LOAD_PACKAGES="many")
    assert result.returncode == EXIT_USAGE
    assert "PENDO_ELT_KEEP_LOAD_PACKAGES" in one_error_line(result)
    assert ws.sim.request_counts() == {} and ws.tables() == []
