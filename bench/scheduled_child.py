"""One measured ``pendo-elt run`` of the scheduled-day scenario (a child of :mod:`bench.scheduled_day`).

The CLI prints rows per table only; this child runs the same :func:`pipelines.run.run` and prints its counters
as one JSON line, so the parent can measure the process (wall time, peak RSS) and read what it did.
Settings come from the environment (``SOURCES__PENDO__*``), as for the CLI.
"""

from __future__ import annotations

import argparse
import sys

import dlt
import orjson

from pipelines.run import BACKFILL_RESOURCES, make_pipeline, run


def pipeline_parser(prog: str) -> argparse.ArgumentParser:
    """The arguments every benchmark child takes: where its DuckDB pipeline lives (also :mod:`bench.verify_child`)."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--duckdb", required=True)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--pipelines-dir", required=True)
    return parser


def pipeline_of(args: argparse.Namespace) -> dlt.Pipeline:
    return make_pipeline("duckdb", args.dataset, args.pipelines_dir, destination_config={"credentials": args.duckdb})


def main(argv: list[str] | None = None) -> int:
    summary = run(pipeline_of(pipeline_parser("python -m bench.scheduled_child").parse_args(argv)))
    event_rows = sum(summary.rows.get(t, 0) for t in BACKFILL_RESOURCES)
    print(orjson.dumps({
        "event_rows": event_rows,
        "other_rows": sum(summary.rows.values()) - event_rows,
        # counters of the verified sync (pipelines.run.RunSummary); absent before it, hence the defaults
        "fingerprint_rows": getattr(summary, "fingerprint_rows", 0),
        "rows_rewritten": getattr(summary, "rows_rewritten", None),
        "rows_deleted": getattr(summary, "rows_deleted", None),
        "rows_inserted": getattr(summary, "rows_inserted", None),  # absent before rows were diff-applied
        "client_requests": getattr(summary, "requests", None),
    }).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
