"""The same source loaded into Postgres (127.0.0.1:5432) gives the same tables as DuckDB."""

from __future__ import annotations

from tests.e2e.harness import Loader

TABLES = ["page_events", "feature_events", "events", "guide_events", "poll_events", "visitors", "accounts",
          "pages", "guides", "guides__steps", "metadata_fields"]



def test_postgres_and_duckdb_hold_the_same_rows(make_sim, tmp_path, pg_dataset) -> None:
    sim = make_sim()
    duck = Loader(sim, tmp_path / "duck")
    pg = Loader(sim, tmp_path / "pg", destination="postgres", dataset=pg_dataset)
    duck.run()
    pg.run()
    for table in ("page_events", "feature_events", "events"):
        assert pg.rollup_rows(table) == duck.rollup_rows(table) == duck.truth_rollup_rows(table), table
    for table in TABLES:
        assert pg.query(f"SELECT COUNT(*) FROM {pg.table(table)}") == duck.query(
            f"SELECT COUNT(*) FROM {duck.table(table)}"), table


def test_postgres_holds_every_value_duckdb_holds_empty_strings_included(make_sim, tmp_path, pg_dataset) -> None:
    """Arrow tables reach Postgres as parquet through ADBC, the rest as INSERT: no value may change on the way
    (a CSV COPY would have turned Pendo's empty accountId '' of anonymous visitors into NULL)."""
    sim = make_sim()
    duck = Loader(sim, tmp_path / "duck")
    pg = Loader(sim, tmp_path / "pg", destination="postgres", dataset=pg_dataset)
    duck.run()
    pg.run()
    tables = ["page_events", "feature_events", "track_events", "events", "guide_events", "poll_events", "visitors",
              "accounts"]
    assert pg.snapshot(tables) == duck.snapshot(tables)
    assert pg.query(f"SELECT COUNT(*) FROM {pg.table('page_events')} WHERE account_id = ''")[0][0] > 0

