"""A dataset whose poll_response column an older pendo-elt created as bigint (typed by the first answer, text
answers in poll_response__v_text) is not loaded into silently: the run stops with one line asking for
--full-refresh, and the models still read every old text answer from the variant column."""

from __future__ import annotations

from pathlib import Path

import dlt
import duckdb
import pytest

from pipelines.models import run_models
from sources.pendo.errors import ConfigError
from tests.e2e.harness import Loader


def test_bigint_poll_response_is_refused_with_one_line(shared_sim, tmp_path: Path) -> None:
    loader = Loader(shared_sim, tmp_path)
    base = {"guide_id": "g1", "guide_step_id": "s1", "visitor_id": "v1", "account_id": "a1", "app_id": -323232,
            "type": "pollResponse", "day": "2026-03-01T05:00:00Z"}
    old = [{**base, "poll_id": "p1", "poll_response": 7, "browser_time": "2026-03-01T10:00:00Z"},
           {**base, "poll_id": "p2", "poll_response": "Too slow on big reports",
            "browser_time": "2026-03-01T10:01:00Z"}]
    # What an older pendo-elt left behind: the column typed by its first value, the text in a variant column.
    loader.pipeline().run(dlt.resource(old, name="poll_events"), schema=dlt.Schema("pendo"))
    columns = {r[0]: r[1] for r in duckdb.connect(str(tmp_path / "pendo.duckdb")).execute(
        "select column_name, data_type from information_schema.columns where table_name = 'poll_events'").fetchall()}
    assert columns["poll_response"] == "BIGINT" and "poll_response__v_text" in columns

    loader.run(["visitors", "accounts", "events", "guides"])  # what the models need besides poll_events
    with pytest.raises(ConfigError) as caught:
        loader.run(["poll_events"])
    message = str(caught.value)
    assert "\n" not in message and "poll_events.poll_response is bigint" in message and "--full-refresh" in message

    result = run_models("duckdb", "pendo_data", duckdb_path=str(tmp_path / "pendo.duckdb"),
                        work_dir=tmp_path / "dbt", timezone="UTC")
    assert result.models
    with duckdb.connect(str(tmp_path / "pendo.duckdb"), read_only=True) as conn:
        answers = dict(conn.execute(f"select poll_id, poll_response from {result.staging_schema}"
                                    ".stg_pendo__poll_events").fetchall())
    assert answers == {"p1": "7", "p2": "Too slow on big reports"}, "old text answers are not lost"
