"""``pendo-elt verify`` as a scheduler runs it: exit 1 on drift, ``--repair`` removes it, a second verify exits 0;
bad input gets one line and exit 2; a fingerprint query Pendo refuses is re-extracted, said once in the log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pendulum
import pytest

from tests.e2e.harness import Loader, event_drift

BIN = Path(sys.executable).parent / "pendo-elt"


@pytest.fixture
def verify_env(make_sim, tmp_path: Path):  # noqa: ANN201 - (loader, cli) pair
    sim = make_sim()
    info = sim.info()
    env = {**os.environ,
           "SOURCES__PENDO__BASE_URL": sim.base_url, "SOURCES__PENDO__INTEGRATION_KEY": sim.integration_key,
           "SOURCES__PENDO__SUBSCRIPTION_TIMEZONE": info["tz"],
           "SOURCES__PENDO__START_DATE": pendulum.from_timestamp(info["history_start_ms"] / 1000, tz=info["tz"])
           .to_date_string(),
           "SOURCES__PENDO__RETRY_BACKOFF_SECONDS": "0.05",
           "DESTINATION__DUCKDB__CREDENTIALS": str(tmp_path / "pendo.duckdb")}

    def cli(*args: str) -> subprocess.CompletedProcess:
        result = subprocess.run([str(BIN), *args, "--pipelines-dir", str(tmp_path / "pipelines")], capture_output=True,
                                text=True, timeout=600, cwd=tmp_path, env=env)
        assert sim.integration_key not in result.stdout + result.stderr
        return result

    return Loader(sim, tmp_path), cli


def _day(load: Loader, days_back: int) -> str:
    info = load.sim.info()
    return pendulum.from_timestamp(info["now_ms"] / 1000, tz=info["tz"]).subtract(days=days_back).to_date_string()


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_verify_finds_drift_repair_removes_it_and_a_second_verify_passes(verify_env) -> None:
    load, cli = verify_env
    assert cli("run").returncode == 0
    clean = cli("verify")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no drift" in clean.stdout
    load.sim.late(_day(load, 20), visitors=4)  # far beyond the settling horizon: no run would see it
    load.sim.rule_edit("feature")
    drift = cli("verify")
    assert drift.returncode == 1, drift.stdout + drift.stderr
    assert "drift in" in drift.stdout and "page_events" in drift.stdout and "feature_events" in drift.stdout
    assert event_drift(load) != {}  # verify alone changes nothing
    repaired = cli("verify", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert event_drift(load) == {}
    again = cli("verify")
    assert again.returncode == 0 and "no drift" in again.stdout


def test_verify_of_a_range_reads_only_that_range(verify_env) -> None:
    load, cli = verify_env
    assert cli("run", "--resources", "page_events").returncode == 0
    load.sim.late(_day(load, 20), visitors=4)
    inside = cli("verify", "--resources", "page_events", "--start", _day(load, 21), "--end", _day(load, 19))
    assert inside.returncode == 1
    elsewhere = cli("verify", "--resources", "page_events", "--start", _day(load, 10), "--end", _day(load, 5))
    assert elsewhere.returncode == 0, elsewhere.stdout + elsewhere.stderr


def test_verify_on_a_dataset_never_loaded_says_so_in_one_line(verify_env) -> None:
    _, cli = verify_env
    result = cli("verify", "--dataset", "never_loaded")
    assert result.returncode == 2
    assert "holds no loaded event table" in _one_error_line(result)


def test_verify_of_a_range_outside_the_loaded_history_says_so_in_one_line(verify_env) -> None:
    load, cli = verify_env
    assert cli("run", "--resources", "page_events").returncode == 0
    result = cli("verify", "--start", "2020-01-01", "--end", "2020-02-01")
    assert result.returncode == 2
    assert "outside the loaded history" in _one_error_line(result)
    bad = cli("verify", "--start", "yesterday")
    assert bad.returncode == 2 and "YYYY-MM-DD" in _one_error_line(bad)


def test_a_fingerprint_query_pendo_refuses_is_re_extracted_and_said_once(verify_env) -> None:
    load, cli = verify_env
    assert cli("run", "--resources", "page_events,guide_events").returncode == 0
    # verify asks Pendo's clock first; both fingerprint queries after it are refused
    load.sim.inject({"kind": "status", "status": 400, "body": "Invalid pipeline", "times": 2, "after": 1,
                     "path": "/api/v1/aggregation"})
    refused = cli("verify", "--resources", "page_events,guide_events")
    assert refused.returncode == 1  # an uncompared window is not known to be equal
    assert refused.stderr.count("would not answer a fingerprint query") == 1, refused.stderr
    # The repair run asks Pendo's clock first; the page_events fingerprint query after it is refused.
    load.sim.inject({"kind": "status", "status": 400, "body": "Invalid pipeline", "times": 1, "after": 1,
                     "path": "/api/v1/aggregation"})
    repaired = cli("verify", "--repair", "--resources", "page_events,guide_events")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert repaired.stderr.count("would not answer a fingerprint query") == 1, repaired.stderr
    assert event_drift(load, tables=("page_events", "guide_events")) == {}


def test_a_whole_verify_finds_a_deleted_visitor_and_repair_removes_its_rows(verify_env) -> None:
    load, cli = verify_env
    assert cli("run").returncode == 0
    gone = load.ids("page_events", "visitor_id").most_common(1)[0][0]
    load.sim.delete_visitor(gone)
    drift = cli("verify")
    assert drift.returncode == 1, drift.stdout + drift.stderr
    assert "would delete 1 of" in drift.stdout, drift.stdout
    repaired = cli("verify", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert gone not in load.ids("visitors", "visitor_id") and gone not in load.ids("page_events", "visitor_id")
    assert event_drift(load) == {}
    assert cli("verify").returncode == 0
