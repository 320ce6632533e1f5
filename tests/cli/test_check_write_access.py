"""`pendo-elt check` also tries the aggregation endpoint: a read-only key gets one line naming the missing
permission ("Allow Write Access") and exit 2; a run with it fails the same way on its first aggregation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "pendo-elt"
WRITE_KEY = "check-write-key-51c0"
READ_ONLY_KEY = "check-read-only-key-9e2d"


@pytest.fixture
def check(make_sim, tmp_path: Path):
    sim = make_sim(key=WRITE_KEY, read_only_key=READ_ONLY_KEY)

    def invoke(command: str, key: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "SOURCES__PENDO__BASE_URL": sim.base_url, "SOURCES__PENDO__INTEGRATION_KEY": key,
               "SOURCES__PENDO__RETRY_BACKOFF_SECONDS": "0.05",
               "DESTINATION__DUCKDB__CREDENTIALS": str(tmp_path / "pendo.duckdb")}
        result = subprocess.run([str(BIN), command, "--pipelines-dir", str(tmp_path / "pipelines")],
                                capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
        assert key not in result.stdout + result.stderr, "the integration key leaked into the output"
        return result

    invoke.sim = sim  # type: ignore[attr-defined]
    return invoke


def _error_lines(result: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def test_a_read_only_key_fails_check_with_one_line_naming_the_permission(check) -> None:
    result = check("check", READ_ONLY_KEY)
    assert result.returncode == 2, result.stderr
    lines = _error_lines(result)
    assert len(lines) == 1, result.stderr
    assert "Allow Write Access" in lines[0] and "aggregation" in lines[0] and "read-only" in lines[0]
    assert check.sim.request_counts().get("POST /aggregation") == 1  # it did try the endpoint


def test_a_read_write_key_passes_check_and_it_tries_the_aggregation_endpoint(check) -> None:
    result = check("check", WRITE_KEY)
    assert result.returncode == 0, result.stderr
    assert "read-write" in result.stdout
    assert check.sim.request_counts().get("POST /aggregation") == 1


def test_a_run_with_a_read_only_key_names_the_permission_too(check) -> None:
    result = check("run", READ_ONLY_KEY)
    assert result.returncode == 2, result.stderr
    lines = _error_lines(result)
    assert len(lines) == 1 and "Allow Write Access" in lines[0], result.stderr
