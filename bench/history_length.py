"""History length: ``pendo-elt backfill`` of 30, 60, 90 and 365 days with default settings (issue 15).

The question is whether peak memory stays flat however long the history, and whether the time per million rows
stays the same. The simulator's own 30 days of the large scale are recorded once into a store that outlives the
invocation (``--history-store``), with the rows served per (table, day) and the simulator's ground truth per day
of the checked table; every older day of the year is the recorded day of the same weekday re-timed by whole weeks
(``bench/replay_shift.py``: ~24 MB a day on disk, ~9 GB for the year, written once). Each size then backfills the
*last* N days through the replay server (``bench/replay.py``), so all sizes read byte-identical answers and the
shorter histories are the tail of the longer one; the 30-day run reads only recorded answers.

Per size: rows, wall s, s per million rows, CPU s (user + system of the child and what it waited for), peak RSS
(``ru_maxrss`` of the child, from ``os.wait4``) and the peak of the summed RSS of the child and every process it
started (sampled every 50 ms, so a peak shorter than that can be missed). Checks: every run loads exactly the
rows served in its range; the checked table's rows per day equal the simulator's truth. Run alone with
``python -m bench.run --history-only`` (or ``python -m bench.history_length``); it writes the ``history``
section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import orjson
import pendulum
import psutil
import requests

from bench import replay_shift
from bench.doc import write_section
from bench.measure import BenchError, ChildServer, run_child
from bench.replay import cache_key, store_answer
from simulator.testing import SimulatorProcess
from sources.pendo.aggregation import rollup_body
from sources.pendo.windows import Window, plan_windows

YEAR_DAYS = 365
RECORDED_DAYS = 30  # the simulator's own history, recorded; older days are re-timed copies (bench/replay_shift.py)
SIZES = (30, 60, 90, YEAR_DAYS)
FLAT_TOLERANCE = 0.05  # peak RSS within 5% of the 30-day run counts as flat (allocator noise between runs)
TIME_TOLERANCE = 0.10  # s per million rows within 10% of the 30-day run
RSS_TARGET_MB = 450.0
SECTION = "history"
SAMPLE_S = 0.05


@dataclass
class Run:
    days: int
    rows: int
    wall_s: float
    cpu_s: float
    rss_mb: float  # ru_maxrss of the child
    tree_mb: float  # sampled peak of the child's and its descendants' summed RSS, never below the child's own
    load1: float
    others_pct: float

    @property
    def s_per_m(self) -> float:
        return self.wall_s / self.rows * 1e6

    @property
    def cpu_per_m(self) -> float:
        return self.cpu_s / self.rows * 1e6


class TreeRss:
    """Peak of the summed RSS of every descendant of this process except the servers (simulator, replay)."""

    def __init__(self, exclude: set[int]) -> None:
        self.exclude, self.peak_mb = exclude, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in me.children(recursive=True):
                try:
                    if proc.pid in self.exclude or proc.ppid() in self.exclude:
                        continue
                    total += proc.memory_info().rss
                except psutil.Error:
                    continue
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self._stop.wait(SAMPLE_S)


def record_history(sim: SimulatorProcess, windows: list[Window], tz: str, store: Path, check_table: str,
                   say: Callable[[str], None]) -> dict:
    """Record the simulator's own history once: every (table, day) answer, its rows, the check table's truth."""
    from bench.run import EVENT_TABLES, SOURCES

    meta_file = store / "served.json"
    if meta_file.exists():
        return json.loads(meta_file.read_text())
    answers = store / "answers"
    answers.mkdir(parents=True, exist_ok=True)
    served: dict[str, dict[str, int]] = {t: {} for t in EVENT_TABLES}
    started = time.perf_counter()
    with requests.Session() as http:
        http.headers.update({"x-pendo-integration-key": sim.integration_key, "content-type": "application/json"})
        for n, window in enumerate(windows):
            for table in EVENT_TABLES:
                body = orjson.dumps(rollup_body(SOURCES[table], window, "day", tz, None))
                response = http.post(f"{sim.base_url}/api/v1/aggregation", data=body, timeout=600)
                if response.status_code != 200:
                    raise BenchError(f"simulator answered {response.status_code} for {table} {window}")
                store_answer(answers, cache_key("POST", "/api/v1/aggregation", body), response.content)
                served[table][str(window.start_ms)] = len(orjson.loads(response.content)["results"] or [])
            if n % 30 == 29:
                say(f"   recorded {n + 1}/{len(windows)} days ({time.perf_counter() - started:.0f} s)")
        truth = {}
        for window in windows:
            response = http.get(f"{sim.base_url}/_sim/truth/{check_table}",
                                params={"start_ms": window.start_ms, "end_ms": window.end_ms}, timeout=600)
            response.raise_for_status()
            truth[str(window.start_ms)] = len(orjson.loads(response.content))
    meta = {"served": served, "truth": {check_table: truth}, "record_s": time.perf_counter() - started}
    meta_file.write_text(json.dumps(meta))
    return meta


def extend_to(store: Path, recorded: list[Window], days: list[Window], tz: str, meta: dict, check_table: str,
              say: Callable[[str], None]) -> dict:
    """The recorded month served again by whole weeks for every older day of ``days`` (bench/replay_shift.py)."""
    from bench.run import EVENT_TABLES, SOURCES

    retimed_file = store / "retimed.json"
    if retimed_file.exists():
        meta = json.loads(retimed_file.read_text())
    sources = meta.setdefault("sources", {})
    before, started = len(sources), time.perf_counter()
    bodies = {t: (lambda w, source=SOURCES[t]: rollup_body(source, w, "day", tz, None)) for t in EVENT_TABLES}
    replay_shift.extend(store / "answers", recorded, days, bodies, meta["served"], meta["truth"][check_table],
                        sources)
    if len(sources) > before:
        meta["retime_s"] = meta.get("retime_s", 0.0) + time.perf_counter() - started
        say(f"   re-timed {len(sources) - before} days from the {len(recorded)} recorded in "
            f"{time.perf_counter() - started:.0f} s")
        retimed_file.write_text(json.dumps(meta))
    return meta


def backfill_days(ctx_env: dict[str, str], url: str, key: str, tz: str, windows: list[Window], end: str,
                  meta: dict, check_table: str, work: Path, servers: set[int], timeout_s: float) -> Run:
    """Backfill the last ``len(windows)`` days with default settings; check rows against served and truth."""
    from bench.run import DATASET, EVENT_TABLES, pendo_cmd

    days = len(windows) - 1  # the windows run to the day after now, as backfill_range's end does
    first = pendulum.from_timestamp(windows[0].start_ms / 1000, tz=tz).to_date_string()
    where = Path(tempfile.mkdtemp(prefix=f"history-{days}-", dir=work))
    db = where / "load.duckdb"
    env = {k: v for k, v in ctx_env.items() if not k.startswith(("SOURCES__", "DESTINATION__"))}
    env.update({"SOURCES__PENDO__BASE_URL": url, "SOURCES__PENDO__INTEGRATION_KEY": key,
                "SOURCES__PENDO__SUBSCRIPTION_TIMEZONE": tz, "RUNTIME__DLTHUB_TELEMETRY": "false",
                "DESTINATION__DUCKDB__CREDENTIALS": str(db)})
    cmd = [*pendo_cmd(), "backfill", "--start", first, "--end", end, "--resources", ",".join(EVENT_TABLES),
           "--pipelines-dir", str(where / "pipelines"), "--dataset", DATASET]
    others = psutil.cpu_percent(interval=0.5)
    load1 = os.getloadavg()[0]
    try:
        with TreeRss(servers) as tree:
            result = run_child(cmd, env, Path(__file__).resolve().parent.parent, where / "pendo-elt.log", timeout_s)
        starts = [str(w.start_ms) for w in windows]
        want = {t: sum(meta["served"][t].get(s, 0) for s in starts) for t in EVENT_TABLES}
        con = duckdb.connect(str(db), read_only=True)
        try:
            got = {t: con.execute(f'SELECT count(*) FROM "{DATASET}"."{t}"').fetchone()[0] for t in EVENT_TABLES}
            per_day = dict(con.execute(f'SELECT epoch_ms("day"), count(*) FROM "{DATASET}"."{check_table}" '
                                       "GROUP BY 1").fetchall())
        finally:
            con.close()
        if got != want:
            raise BenchError(f"{days} days: loaded {got}, served {want}")
        truth = meta["truth"][check_table]
        wrong = [(s, per_day.get(int(s), 0), truth[s]) for s in starts if per_day.get(int(s), 0) != truth[s]]
        if wrong or set(per_day) - {int(s) for s in starts}:
            raise BenchError(f"{days} days: {check_table} per day differs from the truth (day ms, loaded, truth): "
                             f"{wrong[:5]}")
    except BenchError:
        raise
    else:
        shutil.rmtree(where, ignore_errors=True)
    return Run(days, sum(got.values()), result.wall_s, result.cpu_s, result.rss_mb,
               max(tree.peak_mb, result.rss_mb), load1, others)  # a peak between two samples: ru_maxrss saw it


def bench_history(sizes: tuple[int, ...], store_root: Path, work: Path, env: dict[str, str], timeout_s: float,
                  say: Callable[[str], None], check_table: str = "page_events",
                  on_run: Callable[[list[Run], dict], None] | None = None) -> tuple[list[Run], dict]:
    from bench.run import NOW, REPO, backfill_range

    store = store_root / f"large-{RECORDED_DAYS}"
    with SimulatorProcess(scale="large", now=NOW, history_days=RECORDED_DAYS) as sim:
        info = sim.info()
        tz, key = info["tz"], sim.integration_key
        span = backfill_range(info)
        recorded = plan_windows(pendulum.from_timestamp(span[2] / 1000), pendulum.from_timestamp(span[3] / 1000),
                                "day", tz, 1)
        first = pendulum.parse(span[1], tz=tz).subtract(days=max(sizes) + 1)
        windows = plan_windows(first, pendulum.from_timestamp(span[3] / 1000), "day", tz, 1)
        say(f"== history length: {len(windows)} day windows of the large scale ({len(recorded)} recorded), "
            f"store {store}")
        meta = record_history(sim, recorded, tz, store, check_table, say)
        replay = ChildServer([sys.executable, "-m", "bench.replay", "--upstream", sim.base_url, "--key", key,
                              "--store", str(store / "answers")], env, REPO)
        servers = {sim.process.pid, replay.proc.pid} if sim.process else {replay.proc.pid}
        runs = []
        try:
            for days in sizes:  # re-timed days are written as the sizes need them: a short run starts at once
                meta = extend_to(store, recorded, windows[-(days + 1):], tz, meta, check_table, say)
                run = backfill_days(env, replay.base_url, key, tz, windows[-(days + 1):], span[1], meta,
                                    check_table, work, servers, timeout_s)
                runs.append(run)
                if on_run:
                    on_run(runs, meta)
                say(f"   {days:>3} days: {run.rows:>11,} rows  wall {run.wall_s:6.1f} s ({run.s_per_m:.1f} s/M)  "
                    f"CPU {run.cpu_s:6.1f} s  peak RSS {run.rss_mb:4.0f} MB (all processes {run.tree_mb:4.0f} MB)  "
                    f"load1 {run.load1:.1f}, others {run.others_pct:.0f}%")
        finally:
            replay.stop()
    return runs, meta


def render(runs: list[Run], meta: dict, command: str, started: pendulum.DateTime, check_table: str,
           sizes: tuple[int, ...] = SIZES) -> str:
    from bench.run import BACKFILL_CHUNK_DAYS
    from pipelines.duckdb_memory import DEFAULT_MEMORY_LIMIT

    base = next((r for r in runs if r.days == 30), runs[0])
    rows = []
    for r in sorted(runs, key=lambda run: run.days):
        flat = r.tree_mb <= base.tree_mb * (1 + FLAT_TOLERANCE)
        same_time = r.s_per_m <= base.s_per_m * (1 + TIME_TOLERANCE)
        same_cpu = r.cpu_per_m <= base.cpu_per_m * (1 + TIME_TOLERANCE)
        rows.append([f"{r.days}", f"{r.rows:,}", f"{r.wall_s:.1f}", f"{r.s_per_m:.2f}", f"{r.cpu_s:.1f}",
                     f"{r.cpu_per_m:.2f}", f"{r.rss_mb:.0f}", f"{r.tree_mb:.0f}", f"{r.load1:.1f}",
                     f"{r.others_pct:.0f}%", "yes" if flat else "**no**",
                     ("yes" if same_time else "**no**") + (" / yes" if same_cpu else " / **no**")])
    header = ["days", "event rows", "wall s", "s per M rows", "CPU s", "CPU s per M rows", "peak RSS MB (child)",
              "peak RSS MB (all processes)", "load1", "others' CPU", "flat (≤5% over 30 d)",
              "time per M rows ≤10% over 30 d (wall / CPU)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    worst = max(r.tree_mb for r in runs)
    loads = [r.load1 for r in runs]
    missing = [str(d) for d in sizes if d not in {r.days for r in runs}]
    pending = [f"- Not measured (the invocation had not reached them): {', '.join(missing)} days."] if missing else []
    return "\n".join([
        "## History length (issue 15)", "",
        f"Generated by `{command}` on {started.format('YYYY-MM-DD HH:mm')} UTC. `pendo-elt backfill` of the last N "
        f"days of a year of the large scale ({RECORDED_DAYS} days recorded from the simulator in "
        f"{meta.get('record_s', 0):.0f} s, older days re-timed by whole weeks in {meta.get('retime_s', 0):.0f} s, "
        "`bench/replay_shift.py`), replayed; default settings (chunk_days "
        f"{BACKFILL_CHUNK_DAYS}, DuckDB memory_limit {DEFAULT_MEMORY_LIMIT}), all event tables into a fresh DuckDB "
        "file, one child run per size. Peak RSS (child) is `ru_maxrss` from "
        "`os.wait4`; (all processes) is the summed RSS of the child and every process it started, sampled every "
        "50 ms, and never less than the child's own peak. 1-minute load average before each run: min "
        f"{min(loads):.1f}, median {statistics.median(loads):.1f}, max {max(loads):.1f} on {os.cpu_count()} cores "
        "(shared machine: CPU seconds are the steadier figure).", "",
        *lines, "",
        f"- Peak RSS ≤ {RSS_TARGET_MB:.0f} MB, all processes, at every length: "
        f"**{'met' if worst <= RSS_TARGET_MB else 'NOT met'}** (worst {worst:.0f} MB).",
        f"- Checks: every run loaded exactly the rows served in its range; {check_table} rows of each day equal the "
        "simulator's truth.",
        *pending,
    ])


def main(argv: list[str] | None = None, via_run: str | None = None) -> int:
    from bench.run import DOC, REPO, say

    parser = argparse.ArgumentParser(prog="python -m bench.history_length", description=__doc__.split("\n\n")[0])
    parser.add_argument("--history-sizes", default=",".join(map(str, SIZES)),
                        help="days of history per run, run in this order (the 30-day run is the reference)")
    parser.add_argument("--history-store", type=Path,
                        default=Path(tempfile.gettempdir()) / "pendo-elt-bench-store" / "history",
                        help="where the recorded year is kept between invocations (~24 MB a day)")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--no-doc", action="store_true", help="print only")
    args = parser.parse_args(argv)
    # in the order given (the table is sorted): with little time, run 30 and the longest first
    sizes = tuple(dict.fromkeys(int(s) for s in args.history_sizes.split(",") if s.strip()))
    given = " ".join([*([via_run] if via_run else []), *(sys.argv[1:] if argv is None else argv)])
    module = "bench.run" if via_run else "bench.history_length"
    command = f"{os.path.relpath(sys.executable, REPO)} -m {module} {given}".strip()
    started = pendulum.now("UTC")
    work = Path(tempfile.mkdtemp(prefix="pendo-history-"))
    env = {**os.environ, "PYTHONPATH": str(REPO), "RUNTIME__DLTHUB_TELEMETRY": "false"}

    def written(runs: list[Run], meta: dict) -> None:  # after every size: a run stopped midway keeps what it measured
        section = render(runs, meta, command, started, "page_events", sizes)
        if not args.no_doc:
            write_section(DOC, SECTION, section)

    try:
        runs, meta = bench_history(sizes, args.history_store, work, env, args.timeout, say, on_run=written)
    except BenchError as exc:
        say(f"\nBENCHMARK FAILED: {exc}\n(logs kept in {work})")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    say("\n" + render(runs, meta, command, started, "page_events", sizes))
    if not args.no_doc:
        say(f"\nwritten to {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
