"""Snowflake cannot be reached from CI; with credentials present, the same load must equal the ground truth."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.e2e.harness import Loader

CREDENTIALS = os.environ.get("DESTINATION__SNOWFLAKE__CREDENTIALS")


@pytest.mark.snowflake
@pytest.mark.skipif(not CREDENTIALS, reason="Snowflake is not reachable here: set DESTINATION__SNOWFLAKE__CREDENTIALS "
                                            "and pip install -e '.[snowflake]' to run this test")
def test_snowflake_load_equals_ground_truth(make_sim, tmp_path) -> None:
    pytest.importorskip("snowflake.connector", reason="install the snowflake extra: pip install -e '.[snowflake]'")
    load = Loader(make_sim(), tmp_path, destination="snowflake", dataset=f"pendo_test_{uuid.uuid4().hex[:8]}")
    try:
        load.run(["page_events", "visitors"])
        assert load.rollup_rows("page_events") == load.truth_rollup_rows("page_events")
    finally:
        with load.pipeline().sql_client() as client:
            client.drop_dataset()
