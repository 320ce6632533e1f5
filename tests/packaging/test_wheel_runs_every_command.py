"""The wheel, installed non-editable into a fresh venv with no checkout on sys.path, runs every command.

How a Docker image or an orchestrator deploys pendo-elt: ``pip install pendo_elt-*.whl``. The dbt project must come
with it (it once failed with ``Path '.../site-packages/models' does not exist``), and nothing may be read from the
checkout. The test runs ``simulate``,
``check``, ``run``, ``backfill``, ``status``, ``demo``, then ``models`` and ``report`` on a second dataset.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

import duckdb
import pytest
import setuptools

pytestmark = pytest.mark.timeout(900)  # a wheel build, a venv, demo and two dbt builds
ROOT = Path(__file__).parents[2]
IGNORE = shutil.ignore_patterns(".venv", ".git", "tests", "build", "dist", "*.egg-info", "__pycache__", "*.duckdb",
                                "*.duckdb.wal", ".pendo-elt", ".pytest_cache", ".ruff_cache", "bench", "report.html")


def test_the_package_list_covers_every_package_of_the_checkout() -> None:
    """pyproject lists its packages (the dbt project is mapped in): a new package must be added there too."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = set(setuptools.find_packages(str(ROOT), include=["sources*", "pipelines*", "simulator*"]))
    assert found <= listed, f"add {sorted(found - listed)} to [tool.setuptools] packages in pyproject.toml"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    shutil.copytree(ROOT, source, ignore=IGNORE)  # a clean tree: no stale build/ can leak into the wheel
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(work / "dist"), str(source)], check=True, capture_output=True, timeout=300)
    wheel = next((work / "dist").glob("pendo_elt-*.whl"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # The wheel itself is installed for real; its dependencies are the ones this test's interpreter already has,
    # reached through a .pth line (a fresh index install of dbt and dlt took over 3 minutes on two busy cores). A
    # .pth in a directory added that way is not executed, so the checkout's editable hook stays out of sys.path.
    purelib = sysconfig.get_paths()["purelib"]
    (venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages" / "_deps.pth").write_text(
        purelib + "\n")
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, capture_output=True, timeout=300)
    shutil.rmtree(source)  # nothing of the checkout is left to read from
    return venv


def test_the_installed_wheel_runs_every_command(installed: Path, tmp_path: Path) -> None:
    bin_dir = installed / "bin"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DESTINATION__", "SOURCES__", "PYTHON", "DLT_"))}
    env.update({"DLT_DATA_DIR": str(tmp_path / "dlt"), "RUNTIME__DLTHUB_TELEMETRY": "false"})
    code = "import json, sys, pipelines, sources, simulator; print(json.dumps([pipelines.__file__, sys.path]))"
    module, paths = json.loads(subprocess.run([str(bin_dir / "python"), "-c", code], cwd=tmp_path, env=env,
                                              capture_output=True, text=True, check=True).stdout)
    assert module.startswith(str(installed)), module
    checkout = [p for p in paths if p == str(ROOT) or (p.startswith(str(ROOT)) and "/.venv/" not in p)]
    assert not checkout, paths

    simulator = subprocess.Popen([str(bin_dir / "pendo-elt"), "simulate", "--scale", "tiny", "--key", "wheel-key",
                                  "--now", "2026-03-20T15:30:00Z"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
    try:
        fields = dict(p.split("=", 1) for p in simulator.stdout.readline().split())
        pendo = {**env, "SOURCES__PENDO__BASE_URL": fields["base_url"], "SOURCES__PENDO__INTEGRATION_KEY": "wheel-key",
                 "SOURCES__PENDO__SUBSCRIPTION_TIMEZONE": fields["tz"], "SOURCES__PENDO__START_DATE": "2026-03-01",
                 "SOURCES__PENDO__RETRY_BACKOFF_SECONDS": "0.05"}

        def cli(*args: str) -> str:
            result = subprocess.run([str(bin_dir / "pendo-elt"), *args], cwd=tmp_path, env=pendo,
                                    capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, (args, result.stderr)
            return result.stdout

        assert "is writable" in cli("check", "--dataset", "second")
        assert "page_events" in cli("run", "--dataset", "second")
        assert cli("backfill", "--dataset", "second", "--start", "2026-03-02", "--end", "2026-03-04",
                   "--resources", "page_events").count("chunk ") == 1
        assert "page_events" in cli("status", "--dataset", "second")
        demo = cli("demo", "--scale", "tiny", "--duckdb", "demo.duckdb", "--report", "demo.html")
        assert "tests passed" in demo and (tmp_path / "demo.html").is_file()
        assert "tests passed" in cli("models", "--dataset", "second")
        assert "report written" in cli("report", "--dataset", "second", "--out", "second.html")
    finally:
        simulator.send_signal(signal.SIGTERM)
        simulator.wait(timeout=30)
        simulator.stdout.close()
    with duckdb.connect(str(tmp_path / "pendo.duckdb"), read_only=True) as con:
        schemas = {r[0] for r in con.sql("SELECT schema_name FROM information_schema.schemata").fetchall()}
    assert {"second", "second_analytics"} <= schemas
    assert "<svg" in (tmp_path / "second.html").read_text()
