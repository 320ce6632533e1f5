"""A destination that cannot be identified, or a pipelines dir that cannot be written: one line, exit 2, nothing
requested from Pendo, nothing loaded anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "pendo-elt"


@pytest.fixture
def cli(shared_sim, tmp_path: Path):
    info = shared_sim.info()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DESTINATION__", "SOURCES__"))}
    base.update({"SOURCES__PENDO__BASE_URL": shared_sim.base_url,
                 "SOURCES__PENDO__INTEGRATION_KEY": shared_sim.integration_key,
                 "SOURCES__PENDO__SUBSCRIPTION_TIMEZONE": info["tz"]})

    def invoke(*args: str, **env: str) -> subprocess.CompletedProcess:
        shared_sim.control("DELETE", "requests")
        result = subprocess.run([str(BIN), *args], cwd=tmp_path, env={**base, **env}, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 2, result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
        assert not shared_sim.request_counts(), "Pendo was asked something"
        assert not list(tmp_path.glob("*.duckdb")), "a database was created"
        return errors[0]

    invoke.dir = tmp_path  # type: ignore[attr-defined]
    return invoke


@pytest.mark.parametrize(("args", "env"), [
    (("run",), {"DESTINATION__DUCKDB__CREDENTIALS": ":pipeline:"}),
    (("run", "--destination", "postgres"), {}),
    (("backfill", "--start", "2026-03-01", "--end", "2026-03-02", "--destination", "postgres"),
     {"DESTINATION__POSTGRES__CREDENTIALS": "postgresql://loader:pw@/warehouse"}),
    (("status", "--destination", "postgres"), {}),
])
def test_a_destination_that_cannot_be_identified(cli, args: tuple[str, ...], env: dict[str, str]) -> None:
    line = cli(*args, "--pipelines-dir", str(cli.dir / "pipelines"), **env)
    assert "cannot tell which" in line and "DESTINATION__" in line and "nothing was loaded" in line
    assert "pw" not in line


def test_a_pipelines_dir_that_cannot_be_written(cli) -> None:
    blocker = cli.dir / "a-file"
    blocker.write_text("not a directory")
    line = cli("run", "--pipelines-dir", str(blocker / "pipelines"))
    assert f"--pipelines-dir {blocker / 'pipelines'} is not writable" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permission bits; the file case covers root")
def test_a_read_only_pipelines_dir(cli) -> None:
    read_only = cli.dir / "read-only"
    read_only.mkdir(mode=0o500)
    assert "is not writable" in cli("run", "--pipelines-dir", str(read_only))
