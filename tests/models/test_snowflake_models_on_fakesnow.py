"""The dbt project on dbt-snowflake, as far as it goes without a Snowflake account: fakesnow.

fakesnow (0.12) needs duckdb 2 and sqlglot 30.22, which dlt 1.31 cannot use, so it lives in a venv of its own,
built here from PyPI (slow: a few minutes; skipped with the reason when it cannot be installed). The DuckDB dataset
the models tests loaded is recreated in fakesnow with Snowflake types, then ``dbt build --target snowflake`` runs:
every model and dbt test must pass, every compiled SQL file must parse as Snowflake SQL (sqlglot), and every mart
must have as many rows as the same mart built on DuckDB. fakesnow runs Snowflake SQL by transpiling it to DuckDB,
so this proves the Snowflake-dispatched SQL is valid and consistent, not how Snowflake itself executes it; dlt's
Snowflake load path is not exercised (tests/e2e/test_snowflake.py needs an account).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.models import MARTS

HERE = Path(__file__).parent
REQUIREMENTS = ["fakesnow==0.12.1", "dbt-core>=1.10.5,<1.12", "dbt-snowflake>=1.10,<1.12"]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]  # the venv install takes minutes on a busy machine


@pytest.fixture(scope="module")
def fakesnow_python(tmp_path_factory) -> Path:
    if os.environ.get("PENDO_ELT_FAKESNOW_PYTHON"):  # a venv with REQUIREMENTS already installed
        return Path(os.environ["PENDO_ELT_FAKESNOW_PYTHON"])
    venv = tmp_path_factory.mktemp("fakesnow") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *REQUIREMENTS],
                             capture_output=True, text=True, timeout=1200)
    if install.returncode != 0:
        pytest.skip(f"cannot install {' '.join(REQUIREMENTS)}: {install.stderr.strip().splitlines()[-1:]}")
    return venv / "bin" / "python"


def test_the_models_build_and_test_on_dbt_snowflake_over_fakesnow(scenario, fakesnow_python, tmp_path) -> None:
    duck = scenario.built["duckdb"]
    models_dir = str(Path(__file__).parents[2] / "models")
    run = subprocess.run([str(fakesnow_python), str(HERE / "fakesnow_build.py"), str(duck.duckdb_path),
                          "pendo_data", duck.result.timezone,
                          str(tmp_path), models_dir], capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["success"], result["error"]
    assert result["compiled"] >= len(duck.result.models) + len(duck.result.tests)
    assert not result["parse_failures"], result["parse_failures"]
    for mart in MARTS:
        assert len(result["marts"][mart]) == len(duck.rows(mart)) > 0, mart
