"""``make bench``: pendo-elt end to end against the raw limit, on the simulator's large scale.

For each size (history days 15, 30, 60 at the large scale by default):

1. Serving alone. Every one-day window of every event table is fetched from the simulator (bytes only,
   no parsing) and stored; then fetched again from the replay server (:mod:`bench.replay`) that serves
   those stored bytes. The measured runs read the replay server: the simulator computes answers slower
   than a client parses them, and the benchmark must not measure the simulator (``--live`` reads the
   simulator directly instead).
2. The raw baseline (:mod:`bench.baseline`): same requests, ``orjson`` + Arrow + DuckDB, no dlt, in a child.
3. pendo-elt: ``pendo-elt backfill`` of the whole range into a fresh DuckDB, in a child, per event table and
   all together (per table only at the base size), plus ``pendo-elt run --resources visitors,accounts``.

Each measurement is repeated (``--repeat``, median reported); baseline and pendo-elt runs alternate so load
from other processes hits both alike. Row counts are checked: every run loads exactly the rows served, and
one table is compared day by day with the simulator's ground truth. Once, all event tables are backfilled
into Postgres. Results are printed and written to docs/performance.md between the bench markers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import orjson
import pendulum
import psutil
import requests

from bench import guide_heavy, history_length, scheduled_day, verify_cost
from bench import postgres as pg_bench
from bench.doc import replace_between, write_section
from bench.measure import BenchError, ChildResult, ChildServer, Sample, Series, machine, run_child
from bench.replay import cache_key, store_answer
from pipelines.duckdb_memory import DEFAULT_MEMORY_LIMIT
from pipelines.run import ARROW_FILE_FORMAT, BACKFILL_CHUNK_DAYS
from simulator.testing import SimulatorProcess
from sources.pendo.aggregation import rollup_body
from sources.pendo.settings import (
    DEFAULT_CONCURRENCY,
    DEFAULT_WINDOW_DAYS,
    DEFAULT_WORKER_PROCESS,
    ROLLUP_SOURCES,
    SINGLE_EVENT_SOURCES,
)
from sources.pendo.windows import Window, plan_windows

REPO = Path(__file__).resolve().parent.parent
NOW = "2026-03-20T15:30:00Z"
BASE_DAYS = 30
EVENT_TABLES = ("page_events", "feature_events", "track_events", "events", "guide_events", "poll_events")
SOURCES = {**ROLLUP_SOURCES, **SINGLE_EVENT_SOURCES}
PEOPLE = ("visitors", "accounts")
ALL_EVENTS = "all event tables"
DATASET = "bench_data"
POSTGRES_DSN = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
DOC = REPO / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin (written by `make bench`; edits here are overwritten) -->", "<!-- bench:end -->"
# Issue 15: at most 0.9x the single-process baseline's wall time (using both cores), stretch 0.7x; peak memory of
# all of pendo-elt's processes together at most 450 MB (issue 6's 1.5x / 600 MB of one process are superseded).
RATIO_TARGET, RATIO_STRETCH, RSS_TARGET_MB = 0.9, 0.7, 450.0
# run alone with --only NAME; each writes its own section of the doc ("history" also: --history-only)
SCENARIOS = ("scheduled-day", "verify-cost", "guide-heavy", "postgres", "history")
POSTGRES_FORMATS = f"{ARROW_FILE_FORMAT['postgres']} (event tables, ADBC), insert_values (the rest)"


@dataclass
class Serving:
    rows: int = 0
    bytes: int = 0
    sim_s: float = 0.0
    replay: list[float] = field(default_factory=list)


@dataclass
class SizeResult:
    scale: str
    days: int
    windows: int
    serving: dict[str, Serving] = field(default_factory=dict)
    baseline: dict[str, Series] = field(default_factory=dict)
    pendo: dict[str, Series] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)
    replay_misses: int = 0


@dataclass
class Context:
    args: argparse.Namespace
    work: Path
    env: dict[str, str]
    loads: list[float] = field(default_factory=list)
    others: list[float] = field(default_factory=list)  # other processes' CPU %, sampled before each run
    postgres: pg_bench.PostgresResult | None = None
    notes: list[str] = field(default_factory=list)
    _n: int = 0

    def run_dir(self, label: str) -> Path:
        self._n += 1
        path = self.work / f"{self._n:03d}-{label.replace(' ', '_')}"
        path.mkdir(parents=True)
        return path

    def load1(self) -> float:
        """Note how busy the machine is just before a run, while the benchmark itself is idle."""
        self.others.append(psutil.cpu_percent(interval=0.5))
        load = os.getloadavg()[0]
        self.loads.append(load)
        return load


# --- the pieces ---------------------------------------------------------------------------------
def pendo_cmd() -> list[str]:
    script = Path(sys.executable).with_name("pendo-elt")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipelines.cli"]


def backfill_range(info: dict) -> tuple[str, str, int, int]:
    """The CLI dates covering the served history, and the same range in ms for the baseline."""
    tz = info["tz"]
    first = pendulum.from_timestamp(info["history_start_ms"] / 1000, tz=tz)
    now = pendulum.from_timestamp(info["now_ms"] / 1000, tz=tz)
    if (first.hour, first.minute, first.second) != (0, 0, 0):
        raise BenchError(f"history does not start at a local midnight: {first}")
    return first.to_date_string(), now.add(days=1).to_date_string(), info["history_start_ms"], info["now_ms"]


def record(sim: SimulatorProcess, windows: list[Window], tz: str, store: Path | None) -> dict[str, Serving]:
    """Serving alone from the simulator: POST every window, read the bytes (timed); count rows (untimed)."""
    out: dict[str, Serving] = {}
    with requests.Session() as http:
        http.headers.update({"x-pendo-integration-key": sim.integration_key, "content-type": "application/json"})
        for table in EVENT_TABLES:
            serving = out[table] = Serving()
            for window in windows:
                body = orjson.dumps(rollup_body(SOURCES[table], window, "day", tz, None))
                started = time.perf_counter()
                response = http.post(f"{sim.base_url}/api/v1/aggregation", data=body, timeout=600)
                content = response.content
                serving.sim_s += time.perf_counter() - started
                if response.status_code != 200:
                    raise BenchError(f"simulator answered {response.status_code} for {table} {window}: "
                                     f"{content[:200]!r}")
                serving.bytes += len(content)
                serving.rows += len(orjson.loads(content)["results"] or [])
                if store is not None:
                    store_answer(store, cache_key("POST", "/api/v1/aggregation", body), content)
    return out


def serve_replay(url: str, key: str, windows: list[Window], tz: str, serving: dict[str, Serving]) -> None:
    with requests.Session() as http:
        http.headers.update({"x-pendo-integration-key": key, "content-type": "application/json"})
        for table in EVENT_TABLES:
            started, size = time.perf_counter(), 0
            for window in windows:
                body = orjson.dumps(rollup_body(SOURCES[table], window, "day", tz, None))
                response = http.post(f"{url}/api/v1/aggregation", data=body, timeout=600)
                response.raise_for_status()
                size += len(response.content)
            serving[table].replay.append(time.perf_counter() - started)
            if size != serving[table].bytes:
                raise BenchError(f"replay served {size} bytes of {table}, the simulator {serving[table].bytes}")


def duckdb_counts(path: Path, schema: str, tables: tuple[str, ...]) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f'SELECT count(*) FROM "{schema}"."{t}"').fetchone()[0] for t in tables}
    finally:
        con.close()


def child_env(ctx: Context, url: str, key: str, tz: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in ctx.env.items() if not k.startswith(("SOURCES__", "DESTINATION__"))}
    env.update({
        "SOURCES__PENDO__BASE_URL": url, "SOURCES__PENDO__INTEGRATION_KEY": key,
        "SOURCES__PENDO__SUBSCRIPTION_TIMEZONE": tz, "RUNTIME__DLTHUB_TELEMETRY": "false",
    })
    if ctx.args.concurrency:
        env["SOURCES__PENDO__CONCURRENCY"] = str(ctx.args.concurrency)
    if ctx.args.window_days:
        env["SOURCES__PENDO__WINDOW_DAYS"] = str(ctx.args.window_days)
    env.update(extra)
    return env


def sample(ctx: Context, label: str, go: Callable[[Path], tuple[ChildResult, int]]) -> tuple[Sample, Path]:
    where = ctx.run_dir(label)
    load = ctx.load1()
    result, rows = go(where)
    return Sample(result.wall_s, result.cpu_s, result.rss_mb, rows, load), where


def run_baseline(ctx: Context, url: str, key: str, tz: str, span: tuple[str, str, int, int],
                 tables: tuple[str, ...], where: Path) -> tuple[ChildResult, int, dict]:
    cmd = [sys.executable, "-m", "bench.baseline", "--url", url, "--key", key, "--tz", tz,
           "--start-ms", str(span[2]), "--end-ms", str(span[3]), "--resources", ",".join(tables),
           "--duckdb", str(where / "baseline.duckdb")]
    result = run_child(cmd, ctx.env, REPO, where / "baseline.log", ctx.args.timeout)
    detail = orjson.loads(result.stdout.strip().splitlines()[-1])
    return result, sum(d["rows"] for d in detail.values()), detail


def run_pendo(ctx: Context, command: list[str], env: dict[str, str], where: Path) -> ChildResult:
    cmd = [*pendo_cmd(), *command, "--pipelines-dir", str(where / "pipelines"), "--dataset", DATASET]
    return run_child(cmd, env, REPO, where / "pendo-elt.log", ctx.args.timeout)


def backfill_args(ctx: Context, span: tuple[str, str, int, int], tables: tuple[str, ...]) -> list[str]:
    args = ["backfill", "--start", span[0], "--end", span[1], "--resources", ",".join(tables)]
    if ctx.args.chunk_days:
        args += ["--chunk-days", str(ctx.args.chunk_days)]
    return args


def expect(what: str, got: dict[str, int], want: dict[str, int]) -> None:
    wrong = {t: (got.get(t), n) for t, n in want.items() if got.get(t) != n}
    if wrong:
        raise BenchError(f"{what} loaded the wrong number of rows (loaded, served): {wrong}")


# --- one size ---------------------------------------------------------------------------------------
def bench_size(ctx: Context, scale: str, days: int, full: bool, postgres: bool,
               tables_alone: tuple[str, ...] = (), check_table: str | None = None) -> SizeResult:
    """One scale and size; each table alone too at the base size (``full``), or only ``tables_alone``."""
    args = ctx.args
    say(f"\n== scale {scale}, {days} days of history: starting the simulator")
    with SimulatorProcess(scale=scale, now=NOW, history_days=days) as sim:
        info = sim.info()
        tz, key = info["tz"], sim.integration_key
        span = backfill_range(info)
        windows = plan_windows(pendulum.from_timestamp(span[2] / 1000), pendulum.from_timestamp(span[3] / 1000),
                               "day", tz, 1)
        res = SizeResult(scale, days, len(windows))
        store = None if args.live else ctx.run_dir(f"store-{scale}-{days}")
        say(f"   serving alone from the simulator ({len(windows)} windows x {len(EVENT_TABLES)} tables) ...")
        res.serving = record(sim, windows, tz, store)
        served = {t: s.rows for t, s in res.serving.items()}
        say("   " + ", ".join(f"{t} {s.rows:,} rows in {s.sim_s:.1f}s" for t, s in res.serving.items()))
        replay: ChildServer | None = None
        try:
            if store is not None:
                replay = ChildServer([sys.executable, "-m", "bench.replay", "--upstream", sim.base_url,
                                      "--key", key, "--store", str(store)], ctx.env, REPO)
            url = replay.base_url if replay else sim.base_url
            if replay:
                for _ in range(args.repeat):
                    serve_replay(url, key, windows, tz, res.serving)
                say("   replay serving: " + ", ".join(
                    f"{t} {statistics.median(s.replay):.1f}s" for t, s in res.serving.items()))
            groups: list[tuple[str, ...]] = [(t,) for t in (EVENT_TABLES if full else tables_alone)]
            groups.append(EVENT_TABLES)
            if args.postgres_only:
                groups, full = [], False
            env = child_env(ctx, url, key, tz)
            keep: Path | None = None
            if full and replay:  # visitors/accounts pages are not in the store yet: one untimed pass fills it
                where = ctx.run_dir("warm-people")
                run_pendo(ctx, ["run", "--resources", ",".join(PEOPLE)],
                          {**env, "DESTINATION__DUCKDB__CREDENTIALS": str(where / "load.duckdb")}, where)
                shutil.rmtree(where)
            for rep in range(args.repeat):
                for tables in groups:
                    label = tables[0] if len(tables) == 1 else ALL_EVENTS
                    want = {t: served[t] for t in tables}

                    def baseline(where: Path, tables: tuple[str, ...] = tables,
                                 want: dict[str, int] = want) -> tuple[ChildResult, int]:
                        result, rows, detail = run_baseline(ctx, url, key, tz, span, tables, where)
                        expect("the raw baseline", {t: d["rows"] for t, d in detail.items()}, want)
                        return result, rows

                    def pendo(where: Path, tables: tuple[str, ...] = tables,
                              want: dict[str, int] = want) -> tuple[ChildResult, int]:
                        db = where / "load.duckdb"
                        result = run_pendo(ctx, backfill_args(ctx, span, tables),
                                           {**env, "DESTINATION__DUCKDB__CREDENTIALS": str(db)}, where)
                        counts = duckdb_counts(db, DATASET, tables)
                        expect("pendo-elt backfill", counts, want)
                        return result, sum(counts.values())

                    b, b_dir = sample(ctx, f"baseline-{label}", baseline)
                    res.baseline.setdefault(label, Series()).add(b)
                    shutil.rmtree(b_dir)
                    p, p_dir = sample(ctx, f"pendo-{label}", pendo)
                    res.pendo.setdefault(label, Series()).add(p)
                    say(f"   [{rep + 1}/{args.repeat}] {label:<18} {p.rows:>10,} rows  baseline {b.wall_s:7.1f}s "
                        f"{b.rss_mb:6.0f} MB | pendo-elt {p.wall_s:7.1f}s {p.rss_mb:6.0f} MB (cpu {p.cpu_s:.1f}s) "
                        f"ratio {p.wall_s / b.wall_s:.2f}  load {p.load1:.1f}")
                    if label == ALL_EVENTS and keep is None:
                        keep = p_dir
                    else:
                        shutil.rmtree(p_dir)
                if full:
                    def people(where: Path) -> tuple[ChildResult, int]:
                        db = where / "load.duckdb"
                        result = run_pendo(ctx, ["run", "--resources", ",".join(PEOPLE)],
                                           {**env, "DESTINATION__DUCKDB__CREDENTIALS": str(db)}, where)
                        return result, sum(duckdb_counts(db, DATASET, PEOPLE).values())

                    s, s_dir = sample(ctx, "pendo-people", people)
                    res.pendo.setdefault("visitors + accounts", Series()).add(s)
                    say(f"   [{rep + 1}/{args.repeat}] visitors + accounts {s.rows:>9,} rows  pendo-elt "
                        f"{s.wall_s:.1f}s {s.rss_mb:.0f} MB")
                    if rep == 0:
                        res.checks.append(check_people(sim, s_dir / "load.duckdb"))
                    shutil.rmtree(s_dir)
            if keep is not None:  # None with --postgres-only
                res.checks.append(check_days(sim, keep / "load.duckdb", check_table or args.check_table, windows))
                res.checks.append(f"every run loaded exactly the rows served ({sum(served.values()):,} event rows "
                                  f"in {len(windows)} day windows per table)")
                shutil.rmtree(keep)
            if replay:
                stats = requests.get(f"{replay.base_url}/_replay/stats", timeout=30).json()
                res.replay_misses = stats["misses"]
            if postgres:
                ctx.postgres = pg_bench.bench_postgres(
                    ctx, scale, days, pg_bench.baseline_command(url, key, tz, span, EVENT_TABLES),
                    [*pendo_cmd(), *backfill_args(ctx, span, EVENT_TABLES), "--destination", "postgres"],
                    child_env(ctx, url, key, tz, DESTINATION__POSTGRES__CREDENTIALS=args.postgres_dsn), REPO,
                    served, POSTGRES_FORMATS, expect, say)
        finally:
            if replay:
                replay.stop()
            if store is not None:
                shutil.rmtree(store, ignore_errors=True)
    return res


def check_days(sim: SimulatorProcess, db: Path, table: str, windows: list[Window]) -> str:
    """Rows per day of ``table`` as loaded, against the simulator's ground truth for each day window."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        loaded = dict(con.execute(f'SELECT epoch_ms("day"), count(*) FROM "{DATASET}"."{table}" GROUP BY 1')
                      .fetchall())
    finally:
        con.close()
    wrong = []
    with requests.Session() as http:
        for window in windows:
            response = http.get(f"{sim.base_url}/_sim/truth/{table}",
                                params={"start_ms": window.start_ms, "end_ms": window.end_ms}, timeout=600)
            response.raise_for_status()
            truth = len(orjson.loads(response.content))
            if loaded.get(window.start_ms, 0) != truth:
                wrong.append((str(window), loaded.get(window.start_ms, 0), truth))
    extra = set(loaded) - {w.start_ms for w in windows}
    if wrong or extra:
        raise BenchError(f"{table} differs from the simulator's truth (window, loaded, truth): {wrong[:10]}; "
                         f"days outside the windows: {sorted(extra)[:5]}")
    return f"{table}: rows of each of the {len(windows)} days equal the simulator's truth ({sum(loaded.values()):,})"


def check_people(sim: SimulatorProcess, db: Path) -> str:
    counts = duckdb_counts(db, DATASET, PEOPLE)
    want = {"visitors": len(sim.truth("visitors", include_anonymous="false")), "accounts": len(sim.truth("accounts"))}
    expect("pendo-elt run --resources visitors,accounts", counts, want)
    return f"visitors ({counts['visitors']:,}) and accounts ({counts['accounts']:,}) equal the simulator's truth"


# --- report ---------------------------------------------------------------------------------------------
def say(text: str) -> None:
    print(text, flush=True)


def fmt_rate(rows: float, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds else "-"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in
                                                                 range(len(header))) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main_table(res: SizeResult) -> str:
    rows = []
    for label in [*EVENT_TABLES, ALL_EVENTS, "visitors + accounts"]:
        ours = res.pendo.get(label)
        if ours is None:
            continue
        base = res.baseline.get(label)
        name = f"**{label}**" if label == ALL_EVENTS else label
        b_wall = base.median("wall_s") if base else 0.0
        o_wall = ours.median("wall_s")
        rows.append([
            name, f"{ours.rows:,}",
            f"{b_wall:.1f}" if base else "-", fmt_rate(base.rows, b_wall) if base else "-",
            f"{base.median('cpu_s'):.1f}" if base else "-", f"{base.median('rss_mb'):.0f}" if base else "-",
            f"{o_wall:.1f}", fmt_rate(ours.rows, o_wall), f"{ours.median('cpu_s'):.1f}",
            f"{ours.median('rss_mb'):.0f}",
            f"{o_wall / b_wall:.2f}x" if base else "-",
            f"{ours.median('cpu_s') / base.median('cpu_s'):.2f}x" if base else "-",
        ])
    return table(["table", "rows", "baseline s", "baseline rows/s", "baseline CPU s", "baseline RSS MB",
                  "pendo-elt s", "pendo-elt rows/s", "pendo-elt CPU s", "pendo-elt peak MB (all processes)",
                  "ratio (wall)", "ratio (CPU)"], rows)


def serving_table(res: SizeResult) -> str:
    rows = []
    total = Serving()
    for label, s in res.serving.items():
        replay = statistics.median(s.replay) if s.replay else 0.0
        total.rows, total.bytes, total.sim_s = total.rows + s.rows, total.bytes + s.bytes, total.sim_s + s.sim_s
        total.replay = [(total.replay[0] if total.replay else 0.0) + replay]
        rows.append([label, f"{s.rows:,}", f"{s.bytes / 1e6:,.0f}", f"{s.sim_s:.1f}", fmt_rate(s.rows, s.sim_s),
                     f"{replay:.1f}" if s.replay else "-", fmt_rate(s.rows, replay) if s.replay else "-"])
    rows.append(["**total**", f"{total.rows:,}", f"{total.bytes / 1e6:,.0f}", f"{total.sim_s:.1f}",
                 fmt_rate(total.rows, total.sim_s), f"{total.replay[0]:.1f}" if total.replay else "-",
                 fmt_rate(total.rows, total.replay[0]) if total.replay else "-"])
    return table(["table", "rows", "body MB", "simulator s", "simulator rows/s", "replay s", "replay rows/s"], rows)


def growth_table(results: list[SizeResult]) -> str:
    rows = []
    for res in results:
        ours, base = res.pendo[ALL_EVENTS], res.baseline[ALL_EVENTS]
        o_wall, b_wall = ours.median("wall_s"), base.median("wall_s")
        rows.append([f"{res.scale}, {res.days} days", f"{ours.rows:,}", f"{b_wall:.1f}", f"{base.median('rss_mb'):.0f}",
                     f"{o_wall:.1f}", fmt_rate(ours.rows, o_wall), f"{o_wall / ours.rows * 1e6:.1f}",
                     f"{ours.median('cpu_s'):.1f}", f"{ours.median('rss_mb'):.0f}", f"{o_wall / b_wall:.2f}x",
                     f"{ours.median('cpu_s') / base.median('cpu_s'):.2f}x"])
    return table(["size", "event rows", "baseline s", "baseline RSS MB", "pendo-elt s", "pendo-elt rows/s",
                  "pendo-elt s per M rows", "pendo-elt CPU s", "pendo-elt peak MB (all processes)", "ratio (wall)",
                  "ratio (CPU)"], rows)


def verdicts(results: list[SizeResult]) -> list[str]:
    out = []
    by_days = {r.days: r for r in results if r.scale == results[0].scale}
    base = by_days.get(BASE_DAYS) or results[0]
    ratio = base.pendo[ALL_EVENTS].median("wall_s") / base.baseline[ALL_EVENTS].median("wall_s")
    cpu = base.pendo[ALL_EVENTS].median("cpu_s") / base.baseline[ALL_EVENTS].median("cpu_s")
    out.append(f"End to end ≤ {RATIO_TARGET}x the single-process raw baseline (all event tables, {base.scale}, "
               f"{base.days} days): **{'met' if ratio <= RATIO_TARGET else 'NOT met'}** ({ratio:.2f}x wall; "
               f"{cpu:.2f}x CPU, all processes); stretch ≤ {RATIO_STRETCH}x: "
               f"**{'met' if ratio <= RATIO_STRETCH else 'NOT met'}**.")
    worst = max(sample.rss_mb for series in base.pendo.values() for sample in series.samples)
    typical = max(series.median("rss_mb") for series in base.pendo.values())
    out.append(f"Peak memory ≤ {RSS_TARGET_MB:.0f} MB at {base.scale} ({base.days} days), all processes counted, in "
               f"every pendo-elt run: **{'met' if worst <= RSS_TARGET_MB else 'NOT met'}** (worst run {worst:.0f} MB; "
               f"the highest median {typical:.0f} MB).")
    double = by_days.get(2 * base.days)
    if double:
        big = double.pendo[ALL_EVENTS].median("rss_mb")
        ref = base.pendo[ALL_EVENTS].median("rss_mb")
        verdict = "met" if big <= ref * 1.05 else "NOT met"  # 5%: allocator noise between runs
        out.append(f"Peak RSS no higher at double size ({double.days} days): **{verdict}** ({big:.0f} MB vs "
                   f"{ref:.0f} MB; within 5% counts as equal).")
    return out


def load_note(loads: list[float], others: list[float]) -> tuple[str, bool]:
    """How busy the machine was before the measured runs, and whether that makes the wall times noisy."""
    loads, others = loads or [0.0], others or [0.0]
    note = (f"Other processes' CPU use, sampled for 0.5 s before each measured run (the benchmark idle): median "
            f"{statistics.median(others):.0f}%, max {max(others):.0f}% of the machine. 1-minute load average at "
            f"those moments (it includes the benchmark's own runs): min {min(loads):.1f}, median "
            f"{statistics.median(loads):.1f}, max {max(loads):.1f} on {os.cpu_count() or 1} cores.")
    return note, statistics.median(others) > 10 or max(others) > 50


def scenario_section(ctx: Context, command: str, started: pendulum.DateTime, sampled_from: int,
                     body: list[str]) -> str:
    """A scenario's own section (``bench.doc.write_section``): how it was run, how busy the machine was, its body."""
    note, noisy = load_note(ctx.loads[sampled_from:], ctx.others[sampled_from:])
    body = body[next(i for i, line in enumerate(body) if line):]  # from its heading on
    head = f"Generated by `{command}` on {started.format('YYYY-MM-DD HH:mm')} UTC. {note}"
    if noisy:
        head += (" Other processes were busy on the machine: wall times are longer and vary more than on an idle "
                 "one; row and request counts do not depend on it.")
    rest = body[1:]
    rest = rest[next((i for i, line in enumerate(rest) if line), len(rest)):]
    return "\n".join([body[0], "", head, "", *rest])


def render(ctx: Context, results: list[SizeResult], command: str, started: pendulum.DateTime,
           seconds: float) -> str:
    info = machine()
    cores = os.cpu_count() or 1
    busy, noisy = load_note(ctx.loads, ctx.others)
    served_by = ("by the simulator directly (--live)" if ctx.args.live
                 else "from the replay server (recorded from the simulator)")
    parts = [BEGIN, "", "## Measured results", "",
             f"Generated by `{command}` on {started.format('YYYY-MM-DD HH:mm')} UTC in {seconds / 60:.0f} min. "
             f"Medians of {ctx.args.repeat} run(s) per measurement; every run is a child process measured with "
             "`os.wait4` (wall clock from spawn to exit, CPU = user + system of the child and the processes it "
             "waited for, peak RSS = the summed RSS of the child and all its descendants, sampled every 50 ms, "
             "never less than the child's `ru_maxrss`). pendo-elt "
             f"settings: concurrency {ctx.args.concurrency or DEFAULT_CONCURRENCY}, window_days "
             f"{ctx.args.window_days or DEFAULT_WINDOW_DAYS}, "
             f"backfill chunk_days {ctx.args.chunk_days or BACKFILL_CHUNK_DAYS}, "
             "event windows fetched and parsed "
             + ("in a worker process (`worker_process` on), " if DEFAULT_WORKER_PROCESS else
                "by threads of the loading process (`worker_process` off, the default), ")
             + f"DuckDB loads parquet (DuckDB memory_limit {DEFAULT_MEMORY_LIMIT}). Answers are served {served_by}.",
             "",
             "### Machine", "",
             table(["cores", "memory", "CPU", "OS", "Python", "dlt", "duckdb", "pyarrow", "orjson", "ijson"],
                   [[info["cores"], info["memory"], info["cpu"], info["os"], info["python"], info["dlt"],
                     info["duckdb"], info["pyarrow"], info["orjson"], info["ijson"]]]), "", busy]
    if noisy:
        parts += ["", f"**Noisy numbers:** other processes (other engineers' test suites) were busy on this "
                  f"{cores}-core machine during the benchmark, so wall times are longer and vary more than on an "
                  "idle machine. CPU seconds, and the ratio of alternating baseline and pendo-elt runs, are the "
                  "steadier figures."]
    base = next((r for r in results if r.pendo.get(EVENT_TABLES[0])), results[0])
    title = f"{base.scale} scale, {base.days} days ({base.windows} one-day windows per table)"
    parts += ["", f"### pendo-elt vs the raw baseline: {title}", "", main_table(base)]
    if len(results) > 1:
        parts += ["", "### Growth with the data (all event tables together)", "", growth_table(results)]
    if ctx.postgres:
        parts += ["", "Postgres: see its own section (`--postgres-only` re-runs it alone)."]
    parts += ["", "### Targets", ""] + [f"- {v}" for v in verdicts(results)]
    for res in results:
        title = f"{res.scale} scale, {res.days} days ({res.windows} one-day windows per table)"
        parts += ["", f"### Serving alone: {title}", "", serving_table(res)]
        if res.replay_misses:
            parts.append(f"\nRequests the replay server had not stored and forwarded to the simulator: "
                         f"{res.replay_misses} (pendo-elt's clock request, and the visitors/accounts pages of the "
                         "untimed warm-up run).")
    parts += ["", "### Correctness checks", ""] + [f"- {c}" for r in results for c in
                                                     [f"{r.scale}, {r.days} days: {x}" for x in r.checks]]
    parts += [f"- {n}" for n in ctx.notes]
    parts += ["", END]
    return "\n".join(parts)


def write_doc(path: Path, section: str) -> None:
    replace_between(path, BEGIN, END, section)  # the main section: it starts with BEGIN and ends with END


# --- entry point -------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (the median is reported)")
    parser.add_argument("--scales", default="large", help="simulator scales, comma-separated")
    parser.add_argument("--sizes", default="0.5,1,2",
                        help=f"history lengths as multiples of {BASE_DAYS} days (1 = the full per-table benchmark)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: scale medium, 1 repeat, base size only, doc not written unless --doc")
    parser.add_argument("--no-postgres", action="store_true", help="skip the Postgres runs")
    parser.add_argument("--postgres-only", action="store_true",
                        help="only pendo-elt vs the raw Postgres baseline (base size, first scale); writes only the "
                             "Postgres section of the doc")
    parser.add_argument("--postgres-dsn", default=POSTGRES_DSN)
    parser.add_argument("--live", action="store_true", help="read the simulator directly instead of the replay")
    parser.add_argument("--concurrency", type=int, default=None, help="SOURCES__PENDO__CONCURRENCY for pendo-elt")
    parser.add_argument("--window-days", type=int, default=None, help="SOURCES__PENDO__WINDOW_DAYS for pendo-elt")
    parser.add_argument("--chunk-days", type=int, default=None, help="pendo-elt backfill --chunk-days")
    parser.add_argument("--check-table", default="page_events", choices=EVENT_TABLES,
                        help="table compared day by day with the simulator's truth")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds one child run may take")
    parser.add_argument("--doc", default=None, help=f"markdown file to write (default {DOC.relative_to(REPO)})")
    parser.add_argument("--no-doc", action="store_true", help="print only")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs) afterwards")
    parser.add_argument("--scheduled-day-scale", default="large",
                        help="scale of the scheduled-day scenario (24 hourly runs, verified sync vs 3-day lookback)")
    parser.add_argument("--no-scheduled-day", action="store_true", help="skip the scheduled-day scenario")
    parser.add_argument("--scheduled-day-only", action="store_true", help="same as --only scheduled-day")
    parser.add_argument("--scheduled-day-hours", type=int, default=24, help="hourly runs of the scheduled day")
    parser.add_argument("--no-guide-heavy", action="store_true", help="skip the guide-heavy scenario")
    parser.add_argument("--guide-heavy-only", action="store_true",
                        help="run only the guide-heavy scenario (bench/guide_heavy.py; its own doc section)")
    parser.add_argument("--history-only", action="store_true",
                        help="run only the history-length scenario (bench/history_length.py: backfills of 30, 60, 90 "
                             "and 365 days, default settings; its options: python -m bench.history_length --help)")
    parser.add_argument("--verify-cost-scale", default="large",
                        help="scale of the verify-cost scenario (a whole verify with nothing changed vs a reload)")
    parser.add_argument("--no-verify-cost", action="store_true", help="skip the verify-cost scenario")
    parser.add_argument("--only", choices=SCENARIOS, default=None,
                        help="run only this scenario; it rewrites its own section of the doc, nothing else")
    args = parser.parse_args(argv)
    if args.scheduled_day_only:
        args.only = "scheduled-day"
    # the scenarios that grew their own flag first: --only NAME is the one spelling, the flags stay as aliases
    args.guide_heavy_only = args.guide_heavy_only or args.only == "guide-heavy"
    args.postgres_only = args.postgres_only or args.only == "postgres"
    if args.only in ("guide-heavy", "postgres"):
        args.only = None  # handled by their flags below and in main()
    if args.quick:
        args.scales, args.repeat, args.sizes, args.scheduled_day_scale = "medium", 1, "1", "medium"
        args.verify_cost_scale = "medium"
        args.no_guide_heavy = True
    if args.only is not None:
        args.no_guide_heavy = True
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.postgres_only:
        if args.no_postgres or args.scheduled_day_only:
            parser.error("--postgres-only runs the Postgres part alone: drop --no-postgres/--scheduled-day-only")
        args.sizes, args.no_scheduled_day, args.scales = "1", True, args.scales.split(",")[0]
        args.no_verify_cost = args.no_guide_heavy = True
    if args.window_days not in (None, 1):
        say("note: the baseline always uses one-day windows; --window-days changes only pendo-elt's requests")
    return args


def main(argv: list[str] | None = None) -> int:
    given_args = sys.argv[1:] if argv is None else argv
    joined = " ".join(given_args)
    if "--history-only" in given_args or "--only history" in joined:  # its own options are parsed there
        return history_length.main(joined.replace("--only history", "").replace("--history-only", "").split(),
                                   "--history-only")
    args = parse_args(argv)
    given = " ".join(given_args)
    if os.environ.get("MAKELEVEL"):
        command = f'make bench BENCH_ARGS="{given}"' if given else "make bench"
    else:
        command = f"{os.path.relpath(sys.executable, REPO)} -m bench.run {given}".strip()
    started, t0 = pendulum.now("UTC"), time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="pendo-bench-"))
    ctx = Context(args, work, {**os.environ, "PYTHONPATH": str(REPO), "RUNTIME__DLTHUB_TELEMETRY": "false"})
    say(f"pendo-elt benchmark; work directory {work}")
    for key, value in machine().items():
        say(f"   {key}: {value}")
    results: list[SizeResult] = []
    sizes = sorted({float(s) for s in args.sizes.split(",") if s.strip()})
    if BASE_DAYS not in {max(1, round(BASE_DAYS * s)) for s in sizes}:
        say(f"--sizes must include 1 (the {BASE_DAYS}-day base size)")
        return 2
    ok = False
    doc = Path(args.doc) if args.doc else (None if args.quick or args.no_doc else DOC)
    try:
        if not args.no_guide_heavy:  # its own section, written first: the main run may take an hour more
            heavy = guide_heavy.bench_guide_heavy(ctx, BASE_DAYS)
            say("\n" + guide_heavy.render(heavy, command))
            if doc is not None:
                guide_heavy.write(doc, heavy, command)
            if args.guide_heavy_only:
                ok = True
                return 0
        for n, scale in enumerate(s.strip() for s in args.scales.split(",") if s.strip()):
            for size in sizes if args.only is None else ():
                days = max(1, round(BASE_DAYS * size))
                full = days == BASE_DAYS
                postgres = full and n == 0 and not args.no_postgres
                results.append(bench_size(ctx, scale, days, full, postgres))
        results.sort(key=lambda r: (r.scale, r.days))
        sections = {}  # scenarios with a section of their own (bench.doc.write_section)
        if not args.no_scheduled_day and args.only in (None, "scheduled-day"):
            sampled_from = len(ctx.loads)
            scheduled = scheduled_day.bench_scheduled_day(args.scheduled_day_scale, BASE_DAYS, work / "scheduled-day",
                                                          ctx.env, args.timeout, say, args.scheduled_day_hours,
                                                          ctx.load1)
            scheduled_day.fail_if_wrong(scheduled)
            sections["scheduled-day"] = scenario_section(ctx, command, started, sampled_from,
                                                         scheduled_day.render(scheduled, table))
        if not args.no_verify_cost and args.only in (None, "verify-cost"):
            sampled_from = len(ctx.loads)
            cost = verify_cost.bench_verify_cost(args.verify_cost_scale, BASE_DAYS, work / "verify-cost", ctx.env,
                                                 args.timeout, say, ctx.load1)
            verify_cost.fail_if_wrong(cost)
            sections["verify-cost"] = scenario_section(ctx, command, started, sampled_from,
                                                       verify_cost.render(cost, table))
        if ctx.postgres is not None:
            pg_section = pg_bench.render(ctx.postgres, command, started.format("YYYY-MM-DD HH:mm"), table)
            say("\n" + pg_section)
            pg_bench.write(doc, pg_section)
        if args.only is None and not args.postgres_only:
            section = render(ctx, results, command, started, time.perf_counter() - t0)
            say("\n" + section)
            if doc is not None:
                write_doc(doc, section)
        for name, markdown in sections.items():
            say("\n" + markdown)
            if doc is not None:
                write_section(doc, name, markdown)
        if doc is not None:
            say(f"\nwritten to {doc}")
        ok = True
    except BenchError as exc:
        say(f"\nBENCHMARK FAILED: {exc}\n(logs kept in {work})")
        return 1
    finally:
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0

if __name__ == "__main__":
    sys.exit(main())
