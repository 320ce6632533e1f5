"""Compare settings of pendo-elt against the raw baseline on the same stored answers (a quick experiment tool).

``make bench`` measures the defaults thoroughly; this runs a handful of variants once each, so a setting can be
weighed in minutes:

    .venv/bin/python -m bench.variants --days 30 baseline default chunk7:--chunk-days=7 \\
        workers20:LOAD__WORKERS=20 conc4:SOURCES__PENDO__CONCURRENCY=4 steps

A variant is ``label[:item,item...]``; an item is an environment variable ``K=V`` for the child or a backfill
option ``--name=value``. ``baseline`` runs the raw baseline; a label starting with ``steps`` runs the backfill in
process and prints, per chunk, the duration and peak RSS (the process and its window worker) of dlt's extract,
normalize and load steps. The answers of the large scale are recorded once per ``--days`` under ``--store`` and
replayed (``bench/replay.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pendulum
import psutil

from bench.measure import ChildServer, run_child, tree_rss_bytes
from bench.run import DATASET, EVENT_TABLES, NOW, REPO, backfill_range, duckdb_counts, pendo_cmd, record, run_baseline
from simulator.testing import SimulatorProcess
from sources.pendo.windows import plan_windows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variants", nargs="+", help="label[:K=V,--option=value,...]")
    parser.add_argument("--days", type=int, default=30, help="days of history at the large scale")
    parser.add_argument("--store", type=Path, default=Path(tempfile.gettempdir()) / "pendo-elt-bench-store",
                        help="where recorded answers are kept between invocations")
    args = parser.parse_args(argv)
    store = args.store / f"large-{args.days}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__"))}
    env["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    with SimulatorProcess(scale="large", now=NOW, history_days=args.days) as sim:
        info = sim.info()
        tz, key = info["tz"], sim.integration_key
        span = backfill_range(info)
        served = _recorded(sim, store, span, tz)
        replay = ChildServer([sys.executable, "-m", "bench.replay", "--upstream", sim.base_url, "--key", key,
                              "--store", str(store / "answers")], env, REPO)
        try:
            for variant in args.variants:
                _run_variant(variant, env, replay.base_url, key, tz, span, served)
        finally:
            replay.stop()
    return 0


def _recorded(sim: SimulatorProcess, store: Path, span: tuple[str, str, int, int], tz: str) -> dict[str, int]:
    served_file = store / "served.json"
    if not served_file.exists():
        windows = plan_windows(pendulum.from_timestamp(span[2] / 1000), pendulum.from_timestamp(span[3] / 1000),
                               "day", tz, 1)
        (store / "answers").mkdir(parents=True, exist_ok=True)
        serving = record(sim, windows, tz, store / "answers")
        served_file.write_text(json.dumps({table: s.rows for table, s in serving.items()}))
    return json.loads(served_file.read_text())


def _run_variant(variant: str, env: dict[str, str], url: str, key: str, tz: str, span: tuple[str, str, int, int],
                 served: dict[str, int]) -> None:
    label, _, spec = variant.partition(":")
    extra_env, options = {}, []
    for item in filter(None, spec.split(",")):
        if item.startswith("--"):
            options += item.split("=", 1)
        else:
            name, _, value = item.partition("=")
            extra_env[name] = value
    child_env = {**env, **extra_env, "SOURCES__PENDO__BASE_URL": url, "SOURCES__PENDO__INTEGRATION_KEY": key,
                 "SOURCES__PENDO__SUBSCRIPTION_TIMEZONE": tz}
    where = Path(tempfile.mkdtemp(prefix=f"variant-{label}-"))
    try:
        if label == "baseline":
            context = SimpleNamespace(env=env, args=argparse.Namespace(timeout=3600))  # what run_baseline reads
            result, rows, _ = run_baseline(context, url, key, tz, span, EVENT_TABLES, where)  # type: ignore[arg-type]
        elif label.startswith("steps"):
            command = [sys.executable, "-m", "bench.variants", "--_steps", url, key, tz, span[0], span[1],
                       str(where / "load.duckdb"), *options]
            result = run_child(command, child_env, REPO, where / "steps.log", 3600)
            print(f"{variant}\n{result.stdout.rstrip()}", flush=True)
            return
        else:
            child_env["DESTINATION__DUCKDB__CREDENTIALS"] = str(where / "load.duckdb")
            command = [*pendo_cmd(), "backfill", "--start", span[0], "--end", span[1], "--resources",
                       ",".join(EVENT_TABLES), "--pipelines-dir", str(where / "pipelines"), "--dataset", DATASET,
                       *options]
            result = run_child(command, child_env, REPO, where / "pendo-elt.log", 3600)
            got = duckdb_counts(where / "load.duckdb", DATASET, EVENT_TABLES)
            if got != served:
                print(f"{variant}: loaded {got}, served {served}", flush=True)
            rows = sum(got.values())
        print(f"{variant:45s} rows {rows:>9,}  wall {result.wall_s:6.1f} s  CPU {result.cpu_s:6.1f} s  "
              f"peak RSS {result.rss_mb:5.0f} MB  {rows / result.wall_s:8,.0f} rows/s  "
              f"load1 {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _steps(argv: list[str]) -> int:
    """In process: backfill the event tables; per chunk, each dlt step's duration and peak RSS (sampled)."""
    from pipelines.run import make_pipeline

    url, key, tz, start, end, db, *options = argv
    chunk_days = int(options[options.index("--chunk-days") + 1]) if "--chunk-days" in options else None
    if "--destination" in options and options[options.index("--destination") + 1] == "postgres":
        return _steps_postgres(url, key, tz, start, end, db, chunk_days)
    pipeline = make_pipeline("duckdb", DATASET, db + ".pipelines", destination_config={"credentials": db})
    return _steps_in(pipeline, url, key, tz, start, end, chunk_days)


def _steps_postgres(url: str, key: str, tz: str, start: str, end: str, db: str, chunk_days: int | None) -> int:
    """``steps`` into a fresh schema of the benchmark's Postgres (``--destination=postgres``), dropped afterwards."""
    from bench.postgres import drop_schemas
    from bench.run import POSTGRES_DSN
    from pipelines.run import make_pipeline

    dataset = f"bench_steps_{os.getpid()}"
    pipeline = make_pipeline("postgres", dataset, db + ".pipelines", destination_config={"credentials": POSTGRES_DSN})
    try:
        return _steps_in(pipeline, url, key, tz, start, end, chunk_days)
    finally:
        drop_schemas(POSTGRES_DSN, dataset)


def _steps_in(pipeline: object, url: str, key: str, tz: str, start: str, end: str, chunk_days: int | None) -> int:
    from pipelines.run import backfill

    process, samples, done = psutil.Process(), [], threading.Event()

    def sample() -> None:
        while not done.is_set():
            cpu = process.cpu_times()  # RSS of the process tree: the window worker counts
            samples.append((time.time(), tree_rss_bytes(process) >> 20, cpu.user + cpu.system))
            time.sleep(0.05)

    def cpu_at(moment: float) -> float:  # the process's CPU seconds at the last sample before ``moment``
        return max((cpu for at, _, cpu in samples if at <= moment), default=0.0)

    def on_chunk(first: str, last: str, _summary: object) -> None:
        steps = []
        for step in pipeline.last_trace.steps:
            began, ended = step.started_at.timestamp(), step.finished_at.timestamp()
            peak = max((mb for at, mb, _ in samples if began <= at <= ended), default=0)
            steps.append(f"{step.step} {ended - began:.1f} s (CPU {cpu_at(ended) - cpu_at(began):.1f} s, "
                         f"peak {peak} MB)")
        print(f"  {first}..{last}: " + ", ".join(steps), flush=True)

    threading.Thread(target=sample, daemon=True).start()
    started = time.perf_counter()
    backfill(pipeline, start, end, list(EVENT_TABLES), on_chunk=on_chunk,
             **({"chunk_days": chunk_days} if chunk_days else {}),
             base_url=url, integration_key=key, subscription_timezone=tz)
    done.set()
    print(f"  total {time.perf_counter() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--_steps"]:
        sys.exit(_steps(sys.argv[2:]))
    sys.exit(main())
