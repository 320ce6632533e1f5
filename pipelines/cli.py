"""``pendo-elt``: argument parsing, output and exit codes only (0 ok, 1 extraction/load failure, 2 usage/config).

Errors are one line on stderr with no traceback unless ``--debug``; the integration key is masked in all output.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable

from pipelines.progress import LOG_FORMATS, Display, setup_logging
from pipelines.progress_lines import error_line
from pipelines.run import BACKFILL_CHUNK_DAYS, BACKFILL_RESOURCES, DEFAULT_DATASET, RunSummary
from sources.pendo.settings import ALL_RESOURCES, DEFAULT_RESOURCES

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
HEARTBEAT_ENV = "PENDO_ELT_HEARTBEAT_SECONDS"  # seconds without a log line before a heartbeat (default 30)
class UsageError(Exception):
    """Bad command-line input: exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as every other usage error
        self.exit(EXIT_USAGE, f"error: {message} (see {self.prog} --help)\n")


def _resources(allowed: tuple[str, ...]) -> Callable[[str], list[str]]:
    def parse(value: str) -> list[str]:
        names = [n.strip() for n in value.split(",") if n.strip()]
        unknown = [n for n in names if n not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"unknown resource(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(allowed)}")
        return names

    return parse


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.ArgumentDefaultsHelpFormatter
    parser = _Parser(prog="pendo-elt", formatter_class=fmt,
                     description="Load Pendo product analytics into DuckDB, Postgres or Snowflake.")
    _output_options(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def destination_options(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("--destination", choices=("duckdb", "postgres", "snowflake"), default="duckdb",
                         help="where to load; credentials come from .dlt/secrets.toml or DESTINATION__* env vars "
                              "(DuckDB: DESTINATION__DUCKDB__CREDENTIALS, default ./pendo.duckdb)")
        cmd.add_argument("--dataset", default=DEFAULT_DATASET, help="dataset (schema) name in the destination")
        cmd.add_argument("--pipelines-dir", default=None,
                         help="root of dlt's working dirs (None: $DLT_DATA_DIR/pipelines, else /var/dlt/pipelines as "
                              "root, else ~/.dlt/pipelines); each warehouse gets its own subdir, a cache of the "
                              "state the warehouse holds")

    run = commands.add_parser("run", help="the scheduled incremental run", formatter_class=fmt)
    run.add_argument("--resources", type=_resources(ALL_RESOURCES), default=",".join(DEFAULT_RESOURCES),
                     help="comma-separated resources to load")
    destination_options(run)
    run.add_argument("--full-refresh", action="store_true",
                     help="replace the dataset (all tables and cursors) with a fresh load of the selected resources "
                          "from start_date, loaded aside and swapped in atomically")

    backfill = commands.add_parser("backfill", formatter_class=fmt,
                                   help="reload a closed date range without moving the incremental cursors")
    backfill.add_argument("--start", required=True, help="first day to reload, YYYY-MM-DD")
    backfill.add_argument("--end", required=True, help="day after the last day to reload, YYYY-MM-DD (exclusive)")
    backfill.add_argument("--resources", type=_resources(BACKFILL_RESOURCES), default=",".join(BACKFILL_RESOURCES),
                          help="comma-separated event tables to reload")
    backfill.add_argument("--chunk-days", type=int, default=BACKFILL_CHUNK_DAYS,
                          help="days per load; a rerun of an interrupted backfill skips finished chunks")
    destination_options(backfill)

    verify = commands.add_parser("verify", formatter_class=fmt,
                                 help="compare the loaded event buckets with Pendo; --repair re-extracts what differs")
    verify.add_argument("--start", default=None, help="first day to compare, YYYY-MM-DD (None: the first loaded)")
    verify.add_argument("--end", default=None,
                        help="day after the last to compare, YYYY-MM-DD (None: up to the newest loaded bucket, which "
                             "every run re-extracts)")
    verify.add_argument("--resources", type=_resources(BACKFILL_RESOURCES), default=None,
                        help="comma-separated event tables to compare (None: every event table, and deleted "
                             "visitors and accounts)")
    verify.add_argument("--repair", action="store_true",
                        help="re-extract the differing (bucket, entity) pairs; cursors do not move")
    destination_options(verify)

    check = commands.add_parser("check", help="verify the key, the region and the destination", formatter_class=fmt)
    destination_options(check)

    status = commands.add_parser("status", formatter_class=fmt,
                                 help="rows, last load, cursor and lag per table, read from the destination")
    destination_options(status)

    models = commands.add_parser("models", formatter_class=fmt,
                                 help="build the dbt models (staging and marts) on the loaded dataset and test them")
    destination_options(models)
    models.add_argument("--timezone", default=None,
                        help="calendar time zone (None: sources.pendo.subscription_timezone, else UTC)")
    models.add_argument("--as-of", default=None, metavar="YYYY-MM-DD",
                        help="end the marts at this day (default: the last loaded day)")
    models.add_argument("--stitch-compat", action="store_true",
                        help="also build tap-pendo/Stitch-named views in <dataset>_analytics_stitch")

    report = commands.add_parser("report", formatter_class=fmt,
                                 help="write one self-contained HTML page of charts from the marts")
    destination_options(report)
    report.add_argument("--out", default="report.html", help="HTML file to write")

    simulate = commands.add_parser("simulate", help="run the local Pendo API simulator until stopped",
                                   formatter_class=fmt)
    from simulator.main import add_arguments

    add_arguments(simulate)

    demo = commands.add_parser("demo", help="start the simulator, load it into ./pendo.duckdb, print a summary",
                               formatter_class=fmt)
    demo.add_argument("--scale", choices=("tiny", "small", "medium", "large"), default="small",
                      help="simulated subscription size")
    demo.add_argument("--duckdb", default="pendo.duckdb", help="DuckDB file to load into")
    demo.add_argument("--report", default="report.html", help="HTML report to write")
    for command in commands.choices.values():  # also after the command: `pendo-elt run --debug`
        _output_options(command, after_command=True)
    return parser


def _output_options(parser: argparse.ArgumentParser, *, after_command: bool = False) -> None:
    # After the command the defaults are SUPPRESSed, so they do not undo the same option given before it.
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS if after_command else False,
                        help="show tracebacks and debug logs")
    parser.add_argument("--log-format", choices=LOG_FORMATS, default=argparse.SUPPRESS if after_command else "text",
                        help="progress and log lines on stderr: text, or json (one object per line) for log shippers")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    # dlt logs failed load jobs with full tracebacks at ERROR: the one-line error below says it all, so dlt stays
    # quiet unless --debug. pendo-elt's own warnings (retries, splits) use the "pendo_elt" logger.
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "DEBUG" if args.debug else "CRITICAL")
    args.display = Display(log_format=args.log_format, heartbeat=float(os.environ.get(HEARTBEAT_ENV) or 30))
    setup_logging(args.display, args.debug)
    redactor = _install_redaction()
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "run": _cmd_run, "backfill": _cmd_backfill, "verify": _cmd_verify, "check": _cmd_check, "status": _cmd_status,
        "models": _cmd_models, "report": _cmd_report, "simulate": _cmd_simulate, "demo": _cmd_demo,
    }
    from pipelines import signals

    if args.command != "simulate":
        signals.install()  # SIGINT/SIGTERM: one line saying what was committed, exit 130/143
    try:
        with args.display:  # closed (the live block's last frame drawn) before any error line
            return handlers[args.command](args)
    except KeyboardInterrupt as exc:
        if args.command == "simulate":
            print("error: interrupted", file=sys.stderr)
            return 130
        signals.stop(exc)
    except Exception as exc:  # noqa: BLE001 - the CLI's one place that turns errors into one line
        from pipelines.run import unwrap
        from sources.pendo.errors import PendoError

        if signals.interrupted(exc) is not None:
            signals.stop(exc)

        if args.debug:
            print(redactor(traceback.format_exc()), file=sys.stderr, end="")
        exc = unwrap(exc)
        if isinstance(exc, PendoError):
            message, code = str(exc), exc.exit_code
        elif isinstance(exc, UsageError):
            message, code = str(exc), EXIT_USAGE
        else:
            message, code = _describe(exc)
        print(error_line(redactor(message), args.log_format), file=sys.stderr)
        return code


def _install_redaction() -> Callable[[str], str]:
    """Mask the configured key everywhere: logs from any library, and our own error lines."""
    try:
        from pipelines import redact
        from sources.pendo.access import configured_secret

        secret = configured_secret()
    except Exception:  # noqa: BLE001 - a missing key is reported by the command that needs it
        return lambda text: text
    return redact.install([secret] if secret else []).redact


def _describe(exc: BaseException) -> tuple[str, int]:
    """One line and an exit code for errors that are not ours (dlt, drivers): the innermost cause says the most."""
    from dlt.common.configuration.exceptions import ConfigFieldMissingException, ConfigValueCannotBeCoercedException
    from dlt.common.configuration.providers.toml import TomlProviderReadException
    from dlt.destinations.exceptions import DestinationConnectionError

    from pipelines.run import causes

    chain = causes(exc)
    from pipelines.diskfull import describe_disk_full

    if (disk_full := describe_disk_full(chain)) is not None:
        return disk_full, EXIT_FAILURE
    for error in chain:
        if isinstance(error, TomlProviderReadException):
            reason = _one_line(str(error).split(":", 1)[-1])
            return (f"cannot read {error.file_name} ({', '.join(error.full_paths)}): fix the TOML syntax: {reason}",
                    EXIT_USAGE)
        if isinstance(error, ConfigValueCannotBeCoercedException):
            expected = getattr(error.hint, "__name__", str(error.hint))
            return (f"sources.pendo.{error.field_name} (env SOURCES__PENDO__{error.field_name.upper()}) must be "
                    f"of type {expected}, got {error.field_value!r}", EXIT_USAGE)
        if isinstance(error, ConfigFieldMissingException):
            return (f"a required setting is missing: {', '.join(_setting_names(error))}; put it in "
                    ".dlt/secrets.toml or the environment", EXIT_USAGE)
        if isinstance(error, DestinationConnectionError):
            reason = str(error).split("The actual reason given is:")[-1]
            return (f"cannot connect to the destination ({error.client_type}); check "
                    f"DESTINATION__<NAME>__CREDENTIALS: {_one_line(reason)}", EXIT_FAILURE)
    inner = chain[-1]
    return (f"{type(inner).__name__}: {_one_line(str(inner)) or type(inner).__name__} "
            "(rerun with --debug for details)", EXIT_FAILURE)


def _setting_names(error) -> list[str]:  # noqa: ANN001 - dlt's ConfigFieldMissingException
    """``sources.pendo.integration_key (env SOURCES__PENDO__INTEGRATION_KEY)`` for each missing field."""
    names = []
    for name, traces in error.traces.items():
        keyed = [t for t in traces if hasattr(t, "sections") and hasattr(t, "key")]
        if not keyed:
            names.append(name)
            continue
        # dlt looks a key up under several sections (sources.pendo.pendo, sources.pendo, sources, none): name
        # the documented one, the shortest with a kind and a name (sources.pendo, destination.postgres).
        named = [t for t in keyed if len(t.sections) >= 2] or keyed
        path = [*min(named, key=lambda t: len(t.sections)).sections, name]
        names.append(f"{'.'.join(path)} (env {'__'.join(p.upper() for p in path)})")
    return names


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text[:300] + ("..." if len(text) > 300 else "")


def _pipeline(args: argparse.Namespace):  # noqa: ANN202 - dlt.Pipeline, imported lazily for a fast --help
    from pipelines.run import make_pipeline

    # Progress on stderr: a live display on a terminal, else log lines (stdout keeps the summary).
    pipeline = make_pipeline(args.destination, args.dataset, args.pipelines_dir, progress=args.display.collector)
    from pipelines.guards import refuse_ambiguous_dataset

    refuse_ambiguous_dataset(pipeline)
    from pipelines import signals

    signals.watch(pipeline)
    return pipeline


def _begin(args: argparse.Namespace, pipeline, tables, **backfill) -> str:  # noqa: ANN001
    from pipelines.identity import identity_of

    target = identity_of(pipeline).target
    args.display.begin(args.command, target, pipeline.dataset_name, tables, **backfill)
    return target


def _say_where(args: argparse.Namespace, pipeline) -> None:  # noqa: ANN001 - dlt.Pipeline, imported lazily
    """The warehouse and its working dir, as one log line on stderr (stdout keeps the summary), text or JSON."""
    import logging

    from pipelines.identity import where

    log = logging.getLogger("pendo_elt.destination")
    log.setLevel(logging.INFO)  # shown at INFO although the root logger shows warnings only
    log.info("loading into %s", where(pipeline), extra={"event": "destination"})


def _cmd_run(args: argparse.Namespace) -> int:
    from pipelines.rejected import warn_rejected
    from pipelines.run import run

    pipeline = _pipeline(args)
    target = _begin(args, pipeline, args.resources)
    _say_where(args, pipeline)
    summary = run(pipeline, args.resources, full_refresh=args.full_refresh)
    args.display.finish(summary.rows, summary.seconds)
    _print_summary(summary, target, pipeline.dataset_name)
    warn_rejected(pipeline, summary.rows)
    return EXIT_OK


def _cmd_backfill(args: argparse.Namespace) -> int:
    from pipelines.run import backfill

    if args.chunk_days < 1:
        raise UsageError("--chunk-days must be at least 1")

    def report(start: str, end: str, summary: object) -> None:
        rows = sum(summary.rows.values()) if summary is not None else 0  # type: ignore[attr-defined]
        state = "already loaded, skipped" if summary is None else f"{rows:,} rows"
        args.display.chunk_done(start, end, summary.rows if summary is not None else None)  # type: ignore[attr-defined]
        args.display.say(f"chunk {start}..{end}: {state}")

    from pipelines.rejected import warn_rejected

    pipeline = _pipeline(args)
    chunks = -(-_days_between(args.start, args.end) // args.chunk_days)
    target = _begin(args, pipeline, args.resources, backfill_days=(args.start, args.end), chunks=max(chunks, 0))
    _say_where(args, pipeline)
    summary = backfill(pipeline, args.start, args.end, args.resources, chunk_days=args.chunk_days,
                       on_chunk=report)
    args.display.finish(summary.rows, summary.seconds)
    _print_summary(summary, target, pipeline.dataset_name)
    warn_rejected(pipeline, summary.rows, backfill=True)
    return EXIT_OK


def _days_between(start: str, end: str) -> int:
    """Days of a backfill range, for the display; 0 when the dates are bad (backfill refuses them)."""
    import datetime as dt

    try:
        return (dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days
    except ValueError:
        return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from pipelines.verify import print_result, verify

    result = verify(_pipeline(args), args.start, args.end, args.resources, repair=args.repair)
    print_result(result)
    return EXIT_FAILURE if result.drift else EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from pipelines.status import check_destination
    from sources.pendo.access import verify_access

    access = verify_access()
    print(f"ok: Pendo at {access['base_url']} accepts the integration key "
          f"({'read-write' if access['write_access'] else 'read-only'})")
    print(f"ok: {check_destination(_pipeline(args))}")
    return EXIT_OK


def _cmd_status(args: argparse.Namespace) -> int:
    from pipelines.identity import where
    from pipelines.status import table_status
    from sources.pendo.access import pendo_clock

    pipeline = _pipeline(args)
    print(f"destination: {where(pipeline)}")
    rows = table_status(pipeline, pendo_clock=pendo_clock)
    if not rows:
        print(f"nothing loaded yet into dataset '{args.dataset}' on {args.destination}")
        return EXIT_OK
    header = ("table", "rows", "last load (UTC)", "cursor", "behind")
    lines = [(r.table, f"{r.rows:,}", r.last_load.format("YYYY-MM-DD HH:mm") if r.last_load else "-",
              r.cursor or "-", r.behind or "-") for r in rows]
    widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(len(header))]
    for line in [header, *lines]:
        print("  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
    return EXIT_OK


def _cmd_models(args: argparse.Namespace) -> int:
    from pipelines.models import run_models
    from sources.pendo.access import configured_timezone

    result = run_models(args.destination, args.dataset, timezone=args.timezone or configured_timezone(),
                        as_of_date=args.as_of, stitch_compat=args.stitch_compat)
    print(result.summary())
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from pipelines.report import write_report

    path = write_report(args.destination, args.dataset, args.out)
    print(f"report written to {path.resolve()}")
    return EXIT_OK


def _cmd_simulate(args: argparse.Namespace) -> int:
    from simulator.main import serve

    return serve(args)


def _cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.demo import demo

    return demo(scale=args.scale, duckdb_path=args.duckdb, report_path=args.report, display=args.display)


def _print_summary(summary: RunSummary, target: str, dataset: str) -> None:
    rows, seconds = summary.rows, summary.table_seconds
    print(f"loaded into {target}, dataset {dataset}")
    width = max([len(t) for t in rows] + [5])
    print(f"{'table':<{width}}  {'rows loaded':>12}  {'seconds':>8}")
    for table in sorted(rows):
        took = f"{seconds[table]:8.1f}" if table in seconds else f"{'':>8}"
        print(f"{table:<{width}}  {rows[table]:>12,}  {took}")
    print(f"{'total':<{width}}  {sum(rows.values()):>12,}  {summary.seconds:8.1f}")
    sync = summary.sync.tables.values()
    if summary.requests:
        print(f"{summary.requests:,} requests to Pendo; {summary.fingerprint_rows:,} fingerprint rows; "
              f"{sum(t.buckets_checked for t in sync):,} buckets verified, {sum(t.buckets_repaired for t in sync):,} "
              f"repaired; {summary.rows_rewritten:,} event rows rewritten ({summary.rows_deleted:,} deleted, "
              f"{summary.rows_inserted:,} inserted)")


if __name__ == "__main__":
    sys.exit(main())
