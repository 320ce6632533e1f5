"""`run_models` refuses bad settings before starting dbt, and a failed dbt build is one line naming the culprit."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.models import ModelsError, NodeResult, _failure_line, run_models
from sources.pendo.errors import ConfigError, PendoError
from tests.models.conftest import Scenario


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"destination": "bigquery"}, "unknown destination"),
    ({"timezone": "Mars/Olympus"}, "unknown time zone"),
    ({"dataset": "pendo; drop"}, "lower-case SQL identifier"),
    ({"target_schema": "a-b"}, "lower-case SQL identifier"),
    ({"duckdb_path": "/nonexistent/pendo.duckdb"}, "no DuckDB database"),
    ({"destination": "postgres", "postgres_credentials": "mysql://x@h/db"}, "postgresql://"),
])
def test_bad_settings_are_config_errors(tmp_path: Path, kwargs: dict, message: str) -> None:
    args = {"destination": "duckdb", "dataset": "pendo_data", "duckdb_path": str(tmp_path / "x.duckdb"),
            "work_dir": tmp_path / "dbt", **kwargs}
    duckdb.connect(str(tmp_path / "x.duckdb")).close()
    with pytest.raises(ConfigError, match=message) as caught:
        run_models(args.pop("destination"), args.pop("dataset"), **args)
    assert "\n" not in str(caught.value)


def test_a_failed_build_is_one_line_naming_the_model(scenario: Scenario) -> None:
    """dbt ran on a DuckDB file without the loaded tables (in the session fixture, alongside the loads)."""
    error = scenario.failure
    assert isinstance(error, ModelsError) and isinstance(error, PendoError)  # the CLI prints "error: ..."; exit 1
    message = str(error)
    assert "\n" not in message
    assert message.startswith("dbt build failed on duckdb: model stg_pendo__")
    assert "does not exist" in message and "log:" in message
    log = Path(message.rsplit("(log: ", 1)[1].rstrip(")"))
    assert log.is_file() and log.parent.parent.name == "dbt-failing", "dbt's log stays in the work dir"


def test_failure_line_prefers_the_first_failed_node() -> None:
    nodes = [NodeResult("not_null_x", "test", "fail", 0.1, "Got 3 results, configured to fail if != 0"),
             NodeResult("y", "model", "error", 0.1, "boom")]
    line = _failure_line("postgres", nodes, "", Path("/tmp/dbt.log"))
    assert line == ("dbt build failed on postgres: test not_null_x: Got 3 results, configured to fail if != 0 "
                    "(+1 more) (log: /tmp/dbt.log)")
    assert "Connection refused" in _failure_line(
        "postgres", [], "12:00:00  Encountered an error:\nDatabase Error\n  Connection refused\n", Path("l"))
