"""The raw baseline: the fastest a single Python process loads the same answers, with no dlt at all.

For each event table and each one-day window, exactly the request pendo-elt sends (``rollup_body`` over
``plan_windows(..., "day", tz, 1)``): POST it, read the whole body, ``orjson.loads`` it, build an Arrow table
(nested objects as JSON text, epoch-ms fields as timestamps, as pendo-elt stores them) and insert it into a
fresh DuckDB file. Sequential, one window at a time; no retries, no state, no merge.

Run as a child of ``bench.run`` (its peak RSS is its own): ``python -m bench.baseline --url URL --key KEY
--tz TZ --start-ms MS --end-ms MS --resources page_events,... --duckdb FILE``; prints one JSON line with
``{table: {"rows", "windows", "seconds"}}``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator

import duckdb
import orjson
import pendulum
import pyarrow as pa
import pyarrow.compute as pc
import requests

from sources.pendo.aggregation import rollup_body
from sources.pendo.settings import ROLLUP_SOURCES, SINGLE_EVENT_SOURCES
from sources.pendo.windows import plan_windows

SOURCES = {**ROLLUP_SOURCES, **SINGLE_EVENT_SOURCES}
EPOCH_MS = frozenset({"day", "hour", "firstTime", "lastTime", "browserTime", "guideTimestamp"})
TIMESTAMP = pa.timestamp("ms", tz="UTC")


def to_arrow(rows: list[dict]) -> pa.Table:
    """Column-wise build (faster than ``Table.from_pylist`` here); a column of mixed scalars becomes text."""
    keys: dict[str, None] = dict.fromkeys(rows[0])
    for row in rows:  # cheap: a key set seen before adds nothing
        if len(row) != len(keys) or row.keys() != keys.keys():
            keys.update(dict.fromkeys(row))
    columns = {}
    for key in keys:
        values = [row.get(key) for row in rows]
        try:
            column = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            column = pa.array([None if v is None else v if isinstance(v, str) else orjson.dumps(v).decode()
                               for v in values], type=pa.string())
        if pa.types.is_struct(column.type) or pa.types.is_list(column.type) or pa.types.is_map(column.type):
            column = pa.array([None if v is None else orjson.dumps(v).decode() for v in values], type=pa.string())
        elif pa.types.is_null(column.type):
            column = column.cast(pa.string())
        elif key in EPOCH_MS and pa.types.is_integer(column.type):
            column = pc.cast(column.cast(pa.int64()), TIMESTAMP)
        columns[key] = column
    return pa.table(columns)


def insert(con: duckdb.DuckDBPyConnection, table: str, batch: pa.Table, known: dict[str, set[str]]) -> None:
    con.register("batch", batch)
    try:
        if table not in known:
            con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM batch')
            known[table] = set(batch.column_names)
            return
        for name in batch.column_names:
            if name not in known[table]:  # a field first seen in a later window
                kind = con.execute(f'SELECT typeof("{name}") FROM batch LIMIT 1').fetchone()[0]
                con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {kind}')
                known[table].add(name)
        con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM batch')
    finally:
        con.unregister("batch")


class Answers:
    """The one-day windows of the range, and each window's parsed answer for a table, one at a time."""

    def __init__(self, url: str, key: str, tz: str, start_ms: int, end_ms: int) -> None:
        self.url, self.tz = url, tz
        self.windows = plan_windows(pendulum.from_timestamp(start_ms / 1000), pendulum.from_timestamp(end_ms / 1000),
                                    "day", tz, 1)
        self.session = requests.Session()
        self.session.headers.update({"x-pendo-integration-key": key, "content-type": "application/json"})

    def rows(self, table: str) -> Iterator[list[dict]]:
        """Each window's rows (windows without any are skipped)."""
        for window in self.windows:
            body = orjson.dumps(rollup_body(SOURCES[table], window, "day", self.tz, None))
            response = self.session.post(f"{self.url}/api/v1/aggregation", data=body, timeout=600)
            response.raise_for_status()
            rows = orjson.loads(response.content)["results"] or []
            del response
            if rows:
                yield rows


def load(url: str, key: str, tz: str, start_ms: int, end_ms: int, tables: list[str], db_path: str) -> dict:
    answers = Answers(url, key, tz, start_ms, end_ms)
    con = duckdb.connect(db_path)
    known: dict[str, set[str]] = {}
    out: dict[str, dict] = {}
    for table in tables:
        started = time.perf_counter()
        rows_total = 0
        for rows in answers.rows(table):
            insert(con, table, to_arrow(rows), known)
            rows_total += len(rows)
        out[table] = {"rows": rows_total, "windows": len(answers.windows),
                      "seconds": time.perf_counter() - started}
    con.close()
    return out


def answer_arguments(prog: str) -> argparse.ArgumentParser:
    """The options every baseline takes: where the answers are and which windows of which tables to read."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--tz", required=True)
    parser.add_argument("--start-ms", type=int, required=True)
    parser.add_argument("--end-ms", type=int, required=True)
    parser.add_argument("--resources", required=True)
    return parser


def event_tables(parser: argparse.ArgumentParser, resources: str) -> list[str]:
    tables = [t for t in resources.split(",") if t]
    unknown = [t for t in tables if t not in SOURCES]
    if unknown:
        parser.error(f"unknown event tables: {', '.join(unknown)}")
    return tables


def main(argv: list[str] | None = None) -> int:
    parser = answer_arguments("python -m bench.baseline")
    parser.add_argument("--duckdb", required=True)
    args = parser.parse_args(argv)
    tables = event_tables(parser, args.resources)
    if os.path.exists(args.duckdb):
        parser.error(f"{args.duckdb} exists; the baseline loads into a fresh file")
    result = load(args.url.rstrip("/"), args.key, args.tz, args.start_ms, args.end_ms, tables, args.duckdb)
    print(orjson.dumps(result).decode(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
