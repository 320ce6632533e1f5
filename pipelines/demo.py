"""``make demo``: a simulated Pendo subscription loaded into DuckDB, end to end, with nothing to configure."""

from __future__ import annotations

import os
import tempfile

from pipelines.models import run_models
from pipelines.report import write_report
from pipelines.run import DEFAULT_DATASET, make_pipeline, run, table_counts
from simulator.testing import SimulatorProcess


def demo(scale: str = "small", duckdb_path: str = "pendo.duckdb", report_path: str = "report.html") -> int:
    """Simulator on a free loopback port, a full load, the dbt models, the HTML report; prints what it made."""
    with SimulatorProcess(scale=scale, now=None, seed=1) as sim:
        info = sim.info()
        print(f"simulator: {sim.base_url} (scale={scale}, tz={info['tz']})")
        with tempfile.TemporaryDirectory(prefix="pendo-demo-") as pipelines_dir:
            pipeline = make_pipeline(
                "duckdb", DEFAULT_DATASET, pipelines_dir,
                destination_config={"credentials": os.path.abspath(duckdb_path)},
            )
            # The demo always starts from an empty dataset so its numbers are the simulator's.
            summary = run(
                pipeline, full_refresh=True, base_url=sim.base_url, integration_key=sim.integration_key,
                subscription_timezone=info["tz"], start_date=_date(info["history_start_ms"]),
                retry_backoff_seconds=0.2,
            )
            counts = table_counts(pipeline)
        built = run_models("duckdb", DEFAULT_DATASET, duckdb_path=os.path.abspath(duckdb_path), timezone=info["tz"])
        report = write_report("duckdb", DEFAULT_DATASET, report_path, duckdb_path=os.path.abspath(duckdb_path))
    width = max(len(t) for t in counts)
    print(f"\nloaded into {os.path.abspath(duckdb_path)} (dataset {DEFAULT_DATASET!r}) in {summary.seconds:.1f}s")
    print(f"{'table':<{width}}  {'rows':>10}")
    for table, count in counts.items():
        print(f"{table:<{width}}  {count:>10,}")
    print(f"{'total':<{width}}  {sum(counts.values()):>10,}")
    print(f"\nmodels: {built.summary()}")
    print(f"report: {report.resolve()}")
    return 0


def _date(ms: int) -> str:
    import pendulum

    return pendulum.from_timestamp(ms / 1000).to_date_string()


__all__ = ["demo"]
