"""`pendo-elt simulate` and `pendo-elt demo` as a user runs them: real processes, real output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import requests

BIN = Path(sys.executable).parent


def test_simulate_prints_its_url_and_key_first_and_serves_until_stopped() -> None:
    proc = subprocess.Popen(
        [str(BIN / "pendo-elt"), "simulate", "--port", "0", "--scale", "tiny", "--key", "test-key-123",
         "--now", "2026-03-20T15:30:00Z"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = proc.stdout.readline()
        fields = dict(p.split("=", 1) for p in first.split())
        assert fields["integration_key"] == "test-key-123"
        assert fields["base_url"].startswith("http://127.0.0.1:")
        verify = requests.get(f"{fields['base_url']}/api/v1/token/verify",
                              headers={"x-pendo-integration-key": "test-key-123"}, timeout=10)
        assert verify.json() == {"valid": True, "writeAccess": True}
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        proc.stdout.close()
        proc.stderr.close()


def test_simulate_makes_up_a_key_when_none_is_given() -> None:
    proc = subprocess.Popen([str(BIN / "pendo-elt"), "simulate", "--scale", "tiny"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        fields = dict(p.split("=", 1) for p in proc.stdout.readline().split())
        assert len(fields["integration_key"]) >= 16
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


def test_demo_loads_the_simulator_into_duckdb_and_prints_a_summary(tmp_path: Path) -> None:
    target, report = tmp_path / "pendo.duckdb", tmp_path / "report.html"
    result = subprocess.run([str(BIN / "pendo-elt"), "demo", "--scale", "tiny", "--duckdb", str(target),
                             "--report", str(report)],
                            capture_output=True, text=True, timeout=600, cwd=Path(__file__).parents[2])
    assert result.returncode == 0, result.stderr
    assert "page_events" in result.stdout and "total" in result.stdout
    assert f"report: {report}" in result.stdout and "tests passed" in result.stdout
    # It narrates, and prints the load summary as soon as the load ends (before dbt starts).
    from sources.pendo.settings import DEFAULT_RESOURCES

    steps = [f"loading the simulator into {target} ({len(DEFAULT_RESOURCES)} tables) ...", "\ntotal ",
             "\nbuilding models (dbt build", "\nmodels: built ", f"\nwriting report {report} ...",
             f"\nreport: {report}"]
    positions = [result.stdout.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), result.stdout
    html = report.read_text()
    assert "<svg" in html and "http://" not in html.replace("http://www.w3.org", "")
    with duckdb.connect(str(target), read_only=True) as con:
        printed = {line.split()[0]: int(line.split()[1].replace(",", "")) for line in result.stdout.splitlines()
                   if line.startswith(("page_events ", "visitors "))}
        assert con.sql("SELECT COUNT(*) FROM pendo_data.page_events").fetchone()[0] == printed["page_events"] > 0
        assert con.sql("SELECT COUNT(*) FROM pendo_data.visitors").fetchone()[0] == printed["visitors"] > 0
