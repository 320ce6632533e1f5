"""Run the dbt project on dbt-snowflake against fakesnow; executed by the fakesnow venv of
test_snowflake_models_on_fakesnow.py (fakesnow needs duckdb 2 and sqlglot 30.22, which dlt 1.31 cannot use).

argv: <loaded DuckDB file> <dataset> <time zone> <work dir> <models dir>. The loaded tables are recreated with
Snowflake types (quoted upper-case names, as dlt's Snowflake destination creates them) and their rows copied in,
then ``dbt build --target snowflake`` runs; every compiled SQL file is parsed as Snowflake SQL with sqlglot. Prints
one JSON line: dbt's success, the parse failures, and every mart's rows.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

import duckdb
import fakesnow
import sqlglot

TYPES = {"VARCHAR": "VARCHAR", "BIGINT": "NUMBER(19,0)", "INTEGER": "NUMBER(10,0)", "DOUBLE": "FLOAT",
         "BOOLEAN": "BOOLEAN", "TIMESTAMP WITH TIME ZONE": "TIMESTAMP_TZ", "JSON": "VARIANT", "DATE": "DATE",
         "TIMESTAMP": "TIMESTAMP_NTZ"}
MARTS = ("daily_activity_visitor", "daily_activity_account", "active_users", "feature_adoption", "page_usage",
         "guide_funnel", "nps", "retention", "account_health")


def main(source: str, dataset: str, timezone: str, work: str, models: str) -> None:
    loaded = duckdb.connect(source, read_only=True)
    tables: dict[str, list[str]] = {}
    for table, column, data_type in loaded.sql(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            f"WHERE table_schema = '{dataset}' ORDER BY table_name, ordinal_position").fetchall():
        tables.setdefault(table, []).append(f'"{column.upper()}" {TYPES.get(data_type, "VARCHAR")}')
    loaded.close()
    pathlib.Path(work, "fakesnow").mkdir(parents=True, exist_ok=True)
    with fakesnow.patch(db_path=f"{work}/fakesnow"):
        import snowflake.connector

        conn = snowflake.connector.connect(database="WH", schema=dataset.upper(), user="u", password="p",
                                           account="fake")
        cur = conn.cursor()
        for table, columns in tables.items():
            cur.execute(f'CREATE TABLE "{table.upper()}" ({", ".join(columns)})')
        # Test-only shim: rows go in through fakesnow's DuckDB (dlt's Snowflake load cannot run on fakesnow).
        duck = conn._duck_conn  # noqa: SLF001
        duck.execute(f"ATTACH '{source}' AS loaded (READ_ONLY)")
        for table in tables:
            duck.execute(f'INSERT INTO WH.{dataset.upper()}."{table.upper()}" SELECT * FROM loaded.{dataset}."{table}"')
        duck.execute("DETACH loaded")
        os.environ.update({"PENDO_DBT_TARGET": "snowflake", "PENDO_SF_ACCOUNT": "fake", "PENDO_SF_USER": "u",
                           "PENDO_SF_PASSWORD": "p", "PENDO_SF_DATABASE": "WH", "PENDO_SF_WAREHOUSE": "wh",
                           "PENDO_DBT_SCHEMA": f"{dataset}_analytics", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
        from dbt.cli.main import dbtRunner

        result = dbtRunner().invoke([
            "build", "--project-dir", models, "--profiles-dir", models, "--target", "snowflake", "--threads", "1",
            "--target-path", f"{work}/target", "--log-path", f"{work}/logs", "--quiet",
            "--vars", json.dumps({"pendo_schema": dataset, "pendo_timezone": timezone}),
        ])
        marts = {}
        for mart in MARTS:
            cur.execute(f"SELECT * FROM {dataset.upper()}_ANALYTICS.{mart.upper()}")
            names = [d[0].lower() for d in cur.description]
            marts[mart] = [dict(zip(names, [str(v) for v in row], strict=True)) for row in cur.fetchall()]
    failures = []
    compiled = sorted(pathlib.Path(work, "target", "compiled").rglob("*.sql"))
    for path in compiled:
        try:
            sqlglot.parse(path.read_text(), read="snowflake", error_level=sqlglot.ErrorLevel.RAISE)
        except sqlglot.errors.ParseError as exc:
            failures.append(f"{path.name}: {str(exc)[:200]}")
    print(json.dumps({"success": result.success, "error": str(result.exception or ""), "compiled": len(compiled),
                      "parse_failures": failures, "marts": marts}))


if __name__ == "__main__":
    main(*sys.argv[1:6])
