"""Two project folders on one machine, default relative DuckDB path, one shared pipelines dir (as root, dlt's
``/var/dlt/pipelines`` is shared whatever HOME says): each run writes its own folder's file, and ``status`` in each
folder shows its own tables. As root (CI) and as an ordinary user, with HOME pointing elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pendulum
import pytest

BIN = Path(sys.executable).parent / "pendo-elt"
NOBODY = 65534


@pytest.fixture
def world_writable() -> Iterator[Path]:
    """A folder every user can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="pendo-two-projects-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _as(user: str):  # noqa: ANN202 - a preexec_fn, or None
    if user == "root":
        if os.geteuid() != 0:
            pytest.skip("running as root needs root (CI runs as root)")
        return None
    if os.geteuid() != 0:
        return None  # already an ordinary user

    def drop() -> None:
        os.setgid(NOBODY)
        os.setuid(NOBODY)

    try:
        subprocess.run([str(BIN), "--help"], preexec_fn=drop, capture_output=True, timeout=60, check=True)
    except (PermissionError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"this interpreter cannot run as an ordinary user here ({exc}); the root case runs")
    return drop


@pytest.mark.parametrize("user", ["root", "ordinary user"])
def test_each_project_folder_loads_and_reads_its_own_file(make_sim, world_writable: Path, user: str) -> None:
    preexec = _as(user)
    sim = make_sim()
    info = sim.info()
    shared_data_dir = world_writable / "dlt-data"  # DLT_DATA_DIR: one pipelines dir for both, as /var/dlt is
    projects = {name: world_writable / name for name in ("one", "two")}
    for path in [shared_data_dir, *projects.values()]:
        path.mkdir()
        path.chmod(0o777)

    def cli(project: str, *args: str) -> subprocess.CompletedProcess:
        home = world_writable / f"home-{project}"  # HOME points elsewhere, and differs between the projects
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DESTINATION__", "SOURCES__", "DLT_"))}
        env.update({
            "HOME": str(home), "DLT_DATA_DIR": str(shared_data_dir),
            "SOURCES__PENDO__BASE_URL": sim.base_url, "SOURCES__PENDO__INTEGRATION_KEY": sim.integration_key,
            "SOURCES__PENDO__SUBSCRIPTION_TIMEZONE": info["tz"], "SOURCES__PENDO__RETRY_BACKOFF_SECONDS": "0.05",
            "SOURCES__PENDO__START_DATE": pendulum.from_timestamp(info["history_start_ms"] / 1000,
                                                                  tz=info["tz"]).to_date_string(),
        })
        result = subprocess.run([str(BIN), *args], cwd=projects[project], env=env, capture_output=True, text=True,
                                timeout=300, preexec_fn=preexec)
        assert result.returncode == 0, result.stderr
        return result

    cli("one", "run", "--resources", "page_events,visitors")
    cli("two", "run", "--resources", "pages,features")
    again = cli("one", "run", "--resources", "page_events,visitors")  # after the other project ran
    assert f"loading into duckdb file {projects['one'] / 'pendo.duckdb'}, dataset 'pendo_data'" in again.stderr

    def tables(project: str) -> set[str]:
        with duckdb.connect(str(projects[project] / "pendo.duckdb"), read_only=True) as con:
            rows = con.sql("SELECT table_name FROM information_schema.tables "
                           "WHERE table_schema = 'pendo_data' AND table_name NOT LIKE '_dlt%'").fetchall()
        return {r[0] for r in rows}

    assert {"page_events", "visitors"} <= tables("one") and not {"pages", "features"} & tables("one")
    assert {"pages", "features"} <= tables("two") and not {"page_events", "visitors"} & tables("two")
    for project, own, other in (("one", "page_events", "pages"), ("two", "pages", "page_events")):
        status = cli(project, "status").stdout
        assert status.splitlines()[0].startswith(
            f"destination: duckdb file {projects[project] / 'pendo.duckdb'}, dataset 'pendo_data' (working dir "
            f"{shared_data_dir / 'pipelines'}/duckdb-")
        listed = {line.split()[0] for line in status.splitlines()[2:]}
        assert own in listed and other not in listed, status


def test_dlt_default_working_dir_is_var_dlt_as_root_and_home_otherwise(world_writable: Path) -> None:
    """What the README documents: HOME does not move it as root; DLT_DATA_DIR does, for everyone."""
    code = "from pipelines.identity import default_pipelines_dir; print(default_pipelines_dir())"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLT_")}
    home = world_writable / "home"
    home.mkdir()
    home.chmod(0o777)
    found = subprocess.run([sys.executable, "-c", code], env={**env, "HOME": str(home)}, capture_output=True,
                           text=True, check=True, cwd=Path(__file__).parents[2]).stdout.strip()
    expected = "/var/dlt/pipelines" if os.geteuid() == 0 else str(home / ".dlt" / "pipelines")
    assert found == expected
    moved = subprocess.run([sys.executable, "-c", code], env={**env, "HOME": str(home), "DLT_DATA_DIR": "/srv/x"},
                           capture_output=True, text=True, check=True, cwd=Path(__file__).parents[2]).stdout.strip()
    assert moved == "/srv/x/pipelines"
