"""A first load equals what the simulated Pendo serves, table by table."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e.harness import Loader

ROLLUPS = ["events", "page_events", "feature_events", "track_events"]
SINGLES = ["guide_events", "poll_events"]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Loader:
    from simulator.testing import SimulatorProcess
    from tests.conftest import SIM_NOW

    sim = SimulatorProcess(scale="tiny", now=SIM_NOW).start()
    loader = Loader(sim, tmp_path_factory.mktemp("full"))
    loader.run()
    yield loader
    sim.stop()


@pytest.mark.parametrize("table", ROLLUPS)
def test_rollup_tables_equal_ground_truth(loaded: Loader, table: str) -> None:
    warehouse, truth = loaded.rollup_rows(table), loaded.truth_rollup_rows(table)
    assert truth, "the simulator serves rows for this table"
    assert warehouse == truth


@pytest.mark.parametrize("table", SINGLES)
def test_single_event_tables_equal_ground_truth(loaded: Loader, table: str) -> None:
    truth = loaded.truth_single_event_rows(table)
    assert truth
    assert loaded.single_event_rows(table) == truth


def test_sums_per_bucket_equal_ground_truth(loaded: Loader) -> None:
    rows = loaded.query(f"SELECT {loaded.epoch_ms('day')}, SUM(num_events), SUM(num_minutes) "
                        f"FROM {loaded.table('page_events')} GROUP BY 1")
    truth: Counter = Counter()
    minutes: Counter = Counter()
    for row in loaded.sim.truth("page_events", period="day"):
        truth[row["day"]] += row["numEvents"]
        minutes[row["day"]] += row["numMinutes"]
    assert {r[0]: (int(r[1]), int(r[2])) for r in rows} == {d: (truth[d], minutes[d]) for d in truth}


def test_identified_visitors_equal_ground_truth(loaded: Loader) -> None:
    truth = loaded.sim.truth("visitors", include_anonymous=False)
    assert Counter(loaded.ids("visitors", "visitor_id")) == Counter(v["visitorId"] for v in truth)
    rows = dict(loaded.query(f"SELECT visitor_id, {loaded.epoch_ms('metadata_auto_lastupdated')} "
                             f"FROM {loaded.table('visitors')}"))
    assert rows == {v["visitorId"]: v["metadata"]["auto"]["lastupdated"] for v in truth}


def test_accounts_equal_ground_truth(loaded: Loader) -> None:
    truth = loaded.sim.truth("accounts")
    assert loaded.ids("accounts", "account_id") == Counter(a["accountId"] for a in truth)


def test_ids_with_quotes_backslashes_and_non_ascii_survive(loaded: Loader) -> None:
    ids = set(loaded.ids("visitors", "visitor_id"))
    assert any('"' in i for i in ids) and any("\\" in i for i in ids)
    assert any(not i.isascii() for i in ids)


@pytest.mark.parametrize(("table", "truth_table"), [("pages", "pages"), ("features", "features"),
                                                     ("guides", "guides"), ("track_types", "track_types"),
                                                     ("reports", "reports")])
def test_entity_lists_equal_ground_truth(loaded: Loader, table: str, truth_table: str) -> None:
    assert loaded.ids(table, "id") == Counter(e["id"] for e in loaded.sim.truth(truth_table))


def test_guide_steps_and_polls_are_child_tables(loaded: Loader) -> None:
    guides = loaded.sim.truth("guides")
    assert loaded.ids("guides__steps", "id") == Counter(s["id"] for g in guides for s in g["steps"])
    assert loaded.ids("guides__polls", "id") == Counter(p["id"] for g in guides for p in g.get("polls") or [])


def test_metadata_fields_has_one_row_per_kind_group_field(loaded: Loader) -> None:
    expected = 0
    for kind in ("visitor", "account"):
        schema = loaded.sim.api("GET", f"metadata/schema/{kind}").json()
        expected += sum(len(fields) for fields in schema.values())
    assert loaded.query(f"SELECT COUNT(*) FROM {loaded.table('metadata_fields')}")[0][0] == expected


def test_custom_metadata_lands_as_typed_columns(loaded: Loader) -> None:
    columns = loaded.pipeline().default_schema.get_table_columns("visitors")
    schema = loaded.sim.api("GET", "metadata/schema/visitor").json()["custom"]
    expected = {"string": "text", "integer": "bigint", "float": "double", "boolean": "bool",
                "time": "timestamp", "list": "json"}
    for field, spec in schema.items():
        column = columns[f"metadata_custom_{field}"]
        assert column["data_type"] == expected[spec["Type"]], field


def test_timestamps_are_real_timestamps(loaded: Loader) -> None:
    schema = loaded.pipeline().default_schema
    assert schema.get_table_columns("page_events")["day"]["data_type"] == "timestamp"
    assert schema.get_table_columns("pages")["last_updated_at"]["data_type"] == "timestamp"
    assert schema.get_table_columns("guide_events")["browser_time"]["data_type"] == "timestamp"


def test_event_queries_do_not_fan_out_per_entity(loaded: Loader) -> None:
    counts = loaded.sim.request_counts()
    days = 31 + 1  # one query per day window per event table, plus the server clock query
    assert counts["POST /aggregation"] <= len(ROLLUPS + SINGLES) * days + 20
