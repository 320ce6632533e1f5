"""pendo-elt bounds DuckDB's buffer pool for its loads (pipelines/duckdb_memory.py); 0 keeps DuckDB's default."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.duckdb_memory import MEMORY_LIMIT_ENV
from pipelines.run import make_pipeline
from sources.pendo.errors import ConfigError


def _limit(tmp_path: Path) -> str:
    pipeline = make_pipeline("duckdb", "limit_check", str(tmp_path / "pipelines"),
                             destination_config={"credentials": str(tmp_path / "w.duckdb")})
    with pipeline.sql_client() as client:
        return client.execute_sql("SELECT current_setting('memory_limit')")[0][0]


def test_loads_run_under_the_default_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    assert _limit(tmp_path) == "61.0 MiB"  # 64MB as DuckDB prints it


def test_the_limit_is_set_by_the_environment_and_zero_keeps_duckdbs_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1GB")
    assert _limit(tmp_path / "a") == "953.6 MiB"
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "0")
    assert _limit(tmp_path / "b") not in ("61.0 MiB", "953.6 MiB")


def test_a_limit_that_is_not_a_size_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(ConfigError, match=MEMORY_LIMIT_ENV):
        _limit(tmp_path)
