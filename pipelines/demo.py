"""``make demo``: a simulated Pendo subscription loaded into DuckDB, end to end, with nothing to configure."""

from __future__ import annotations

import os
import tempfile

from pipelines.identity import identity_of
from pipelines.models import run_models
from pipelines.progress import Display
from pipelines.report import write_report
from pipelines.run import DEFAULT_DATASET, make_pipeline, run, table_counts
from simulator.testing import SimulatorProcess
from sources.pendo.settings import DEFAULT_RESOURCES


def demo(scale: str = "small", duckdb_path: str = "pendo.duckdb", report_path: str = "report.html",
         display: Display | None = None) -> int:
    """Simulator on a free loopback port, a full load, the dbt models, the HTML report; says each step as it goes."""
    display = display or Display()
    target = os.path.abspath(duckdb_path)
    say = display.say
    with SimulatorProcess(scale=scale, now=None, seed=1) as sim:
        info = sim.info()
        say(f"simulator: {sim.base_url} (scale={scale}, tz={info['tz']})")
        with tempfile.TemporaryDirectory(prefix="pendo-demo-") as pipelines_dir:
            pipeline = make_pipeline("duckdb", DEFAULT_DATASET, pipelines_dir, progress=display.collector,
                                     destination_config={"credentials": target})
            say(f"loading the simulator into {target} ({len(DEFAULT_RESOURCES)} tables) ...")
            display.begin("demo load", identity_of(pipeline).target, DEFAULT_DATASET, DEFAULT_RESOURCES)
            # The demo always starts from an empty dataset so its numbers are the simulator's.
            summary = run(
                pipeline, full_refresh=True, base_url=sim.base_url, integration_key=sim.integration_key,
                subscription_timezone=info["tz"], start_date=_date(info["history_start_ms"]),
                retry_backoff_seconds=0.2,
            )
            display.finish(summary.rows, summary.seconds)
            display.close()  # the load's last frame stays above what follows
            counts = table_counts(pipeline)
        _print_counts(counts, target, summary.seconds)
        print("\nbuilding models (dbt build: staging, marts and their tests) ...", flush=True)
        built = run_models("duckdb", DEFAULT_DATASET, duckdb_path=target, timezone=info["tz"])
        print(f"models: {built.summary()}", flush=True)
        print(f"writing report {os.path.abspath(report_path)} ...", flush=True)
        report = write_report("duckdb", DEFAULT_DATASET, report_path, duckdb_path=target)
    print(f"report: {report.resolve()}", flush=True)
    return 0


def _print_counts(counts: dict[str, int], target: str, seconds: float) -> None:
    width = max(len(t) for t in counts)
    lines = [f"\nloaded into {target} (dataset {DEFAULT_DATASET!r}) in {seconds:.1f}s",
             f"{'table':<{width}}  {'rows':>10}"]
    lines += [f"{table:<{width}}  {count:>10,}" for table, count in counts.items()]
    lines.append(f"{'total':<{width}}  {sum(counts.values()):>10,}")
    print("\n".join(lines), flush=True)


def _date(ms: int) -> str:
    import pendulum

    return pendulum.from_timestamp(ms / 1000).to_date_string()


__all__ = ["demo"]
