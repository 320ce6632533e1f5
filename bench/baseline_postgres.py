"""The raw Postgres baseline: the same answers into Postgres by binary COPY through ADBC, with no dlt at all.

The Postgres counterpart of :mod:`bench.baseline`: for each event table and each one-day window, exactly the
request pendo-elt sends; read the body, ``orjson.loads`` it, build an Arrow table (``bench.baseline.to_arrow``:
nested objects as JSON text, epoch-ms fields as timestamps; columns renamed to the snake_case names pendo-elt
stores) and append it to a table of a fresh schema with ``adbc_ingest``, the binary COPY of the driver pendo-elt
loads Arrow tables with (``adbc-driver-postgresql``, as dlt's ``PostgresParquetCopyJob`` uses it). One process,
one connection, one window at a time, one commit per table; no retries, no state, no staging, no merge.

Run as a child of ``bench.run``: ``python -m bench.baseline_postgres --url URL --key KEY --tz TZ --start-ms MS
--end-ms MS --resources page_events,... --dsn DSN --schema NAME``; prints one JSON line with ``{table: {"rows",
"windows", "seconds"}}``. The schema must not exist; the caller drops it.
"""

from __future__ import annotations

import sys
import time

import orjson
import pyarrow as pa
from adbc_driver_manager import dbapi
from adbc_driver_postgresql import _driver_path

from bench.baseline import Answers, answer_arguments, event_tables, to_arrow
from sources.pendo.shaping import snake_case

# Arrow types the baseline's tables hold, as Postgres column types (for a column first seen in a later window)
PG_TYPES = {pa.string(): "text", pa.int64(): "bigint", pa.float64(): "double precision", pa.bool_(): "boolean"}


def postgres_type(kind: pa.DataType) -> str:
    return "timestamp with time zone" if pa.types.is_timestamp(kind) else PG_TYPES.get(kind, "text")


def shaped(rows: list[dict]) -> pa.Table:
    """The baseline's Arrow table with pendo-elt's column names; a column null on every row says nothing: dropped."""
    batch = to_arrow(rows)
    keep = [i for i, column in enumerate(batch.columns) if column.null_count < len(column)]
    batch = batch.select(keep)
    return batch.rename_columns([snake_case(name) for name in batch.column_names])


def conform(cur: dbapi.Cursor, schema: str, table: str, batch: pa.Table, known: dict[str, pa.Schema]) -> pa.Table:
    """Fit a later window to the table: columns it lacks as nulls, new ones added, types and order the table's."""
    have = known[table]
    for name in batch.column_names:
        if name not in have.names:  # a field first seen in a later window
            kind = batch.schema.field(name).type
            cur.execute(f'ALTER TABLE "{schema}"."{table}" ADD COLUMN "{name}" {postgres_type(kind)}')
            have = have.append(pa.field(name, kind))
    known[table] = have
    columns = []
    for field in have:
        if field.name in batch.column_names:
            column = batch.column(field.name)
            columns.append(column if column.type == field.type else column.cast(pa.string()).cast(field.type))
        else:
            columns.append(pa.nulls(batch.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=have)


def load(url: str, key: str, tz: str, start_ms: int, end_ms: int, tables: list[str], dsn: str,
         schema: str) -> dict:
    answers = Answers(url, key, tz, start_ms, end_ms)
    out: dict[str, dict] = {}
    with dbapi.connect(driver=_driver_path(), db_kwargs={"uri": dsn}) as con, con.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
        con.commit()
        known: dict[str, pa.Schema] = {}
        for table in tables:
            started = time.perf_counter()
            rows_total = 0
            for rows in answers.rows(table):
                batch = shaped(rows)
                if table in known:
                    cur.adbc_ingest(table, conform(cur, schema, table, batch, known), mode="append",
                                    db_schema_name=schema)
                else:
                    cur.adbc_ingest(table, batch, mode="create", db_schema_name=schema)
                    known[table] = batch.schema
                rows_total += len(rows)
            con.commit()
            out[table] = {"rows": rows_total, "windows": len(answers.windows),
                          "seconds": time.perf_counter() - started}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = answer_arguments("python -m bench.baseline_postgres")
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--schema", required=True, help="a schema that does not exist yet (created here)")
    args = parser.parse_args(argv)
    tables = event_tables(parser, args.resources)
    result = load(args.url.rstrip("/"), args.key, args.tz, args.start_ms, args.end_ms, tables, args.dsn,
                  args.schema)
    print(orjson.dumps(result).decode(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
