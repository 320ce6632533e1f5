"""``pendo-elt``: argument parsing, output and exit codes only (0 ok, 1 extraction/load failure, 2 usage/config).

Errors are one line on stderr with no traceback unless ``--debug``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Callable

from pipelines.run import DEFAULT_DATASET
from sources.pendo.errors import ConfigError, PendoError
from sources.pendo.settings import ALL_RESOURCES, DEFAULT_RESOURCES

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def _resources(value: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in ALL_RESOURCES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown resource(s) {', '.join(unknown)}; choose from {', '.join(ALL_RESOURCES)}"
        )
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pendo-elt",
        description="Load Pendo product analytics into DuckDB, Postgres or Snowflake.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def destination_options(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("--destination", choices=("duckdb", "postgres", "snowflake"), default="duckdb",
                         help="where to load; credentials come from .dlt/secrets.toml or DESTINATION__* env vars")
        cmd.add_argument("--dataset", default=DEFAULT_DATASET, help="dataset (schema) name in the destination")
        cmd.add_argument("--pipelines-dir", default=None,
                         help="dlt working directory (default: ~/.dlt/pipelines); state is restored from the "
                              "destination when it is empty")

    run = commands.add_parser("run", help="the scheduled incremental run",
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    run.add_argument("--resources", type=_resources, default=list(DEFAULT_RESOURCES),
                     help="comma-separated resources to load")
    destination_options(run)
    run.add_argument("--full-refresh", action="store_true",
                     help="drop the tables and cursors of the selected resources and reload from start_date")

    simulate = commands.add_parser("simulate", help="run the local Pendo API simulator until stopped",
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    from simulator.main import add_arguments

    add_arguments(simulate)

    demo = commands.add_parser("demo", help="start the simulator, load it into ./pendo.duckdb, print a summary",
                               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    demo.add_argument("--scale", choices=("tiny", "small", "medium", "large"), default="small",
                      help="simulated subscription size")
    demo.add_argument("--duckdb", default="pendo.duckdb", help="DuckDB file to load into")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "run": _cmd_run,
        "simulate": _cmd_simulate,
        "demo": _cmd_demo,
    }
    try:
        return handlers[args.command](args)
    except PendoError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_FAILURE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence: one line, no traceback
        if args.debug:
            traceback.print_exc()
        print(f"error: {type(exc).__name__}: {_one_line(exc)} (rerun with --debug for details)", file=sys.stderr)
        return EXIT_FAILURE


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:400] + ("..." if len(text) > 400 else "")


def _cmd_run(args: argparse.Namespace) -> int:
    from pipelines.run import make_pipeline, run

    pipeline = make_pipeline(args.destination, args.dataset, args.pipelines_dir)
    summary = run(pipeline, args.resources, full_refresh=args.full_refresh)
    _print_summary(summary.rows, summary.seconds)
    return EXIT_OK


def _cmd_simulate(args: argparse.Namespace) -> int:
    from simulator.main import serve

    return serve(args)


def _cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.demo import demo

    return demo(scale=args.scale, duckdb_path=args.duckdb)


def _print_summary(rows: dict[str, int], seconds: float) -> None:
    width = max([len(t) for t in rows] + [5])
    print(f"{'table':<{width}}  {'rows loaded':>12}")
    for table in sorted(rows):
        print(f"{table:<{width}}  {rows[table]:>12,}")
    print(f"{'total':<{width}}  {sum(rows.values()):>12,}  in {seconds:.1f}s")


if __name__ == "__main__":
    sys.exit(main())
