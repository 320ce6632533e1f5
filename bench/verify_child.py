"""One measured ``pendo-elt verify`` of a loaded dataset (a child of :mod:`bench.verify_cost`).

The CLI prints a table meant for people; this child runs the same :func:`pipelines.verify.verify` and prints
what it read as one JSON line, so the parent can measure the process (wall time, peak RSS) and count the rows.
Settings come from the environment (``SOURCES__PENDO__*``), as for the CLI.
"""

from __future__ import annotations

import sys

import orjson

from bench.scheduled_child import pipeline_of, pipeline_parser
from pipelines.verify import verify


def main(argv: list[str] | None = None) -> int:
    parser = pipeline_parser("python -m bench.verify_child")
    parser.add_argument("--resources", default=None, help="comma-separated event tables (default: a whole verify)")
    args = parser.parse_args(argv)
    result = verify(pipeline_of(args), resources=args.resources.split(",") if args.resources else None)
    deletions = result.deletions
    print(orjson.dumps({
        "tables": {name: {"buckets_checked": t.buckets_checked, "rows_read": t.rows_read,
                          "differing": t.buckets_differing} for name, t in result.tables.items()},
        "window": [result.window.start_ms, result.window.end_ms],
        "drift": result.drift,
        # a whole verify also lists every visitor and account id Pendo has (the deletion reconciliation)
        "ids_listed": sum(deletions.pendo_ids.values()) if deletions is not None else 0,
        "id_requests": deletions.requests if deletions is not None else 0,
    }).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
