"""Postgres: pendo-elt against the raw Postgres baseline on the same replayed answers (issue 15).

Per repeat, alternating so a burst of load from other processes hits both alike: the raw baseline
(:mod:`bench.baseline_postgres`: orjson, Arrow, binary COPY through ADBC, no dlt) into one fresh schema, then
``pendo-elt backfill`` of all event tables into another. Each is a child process (wall from spawn to exit, CPU,
peak RSS from ``os.wait4``); both must load exactly the rows served; both schemas are dropped afterwards.
``python -m bench.run --postgres-only`` runs this alone and rewrites only its own section of docs/performance.md.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.measure import ChildResult, Sample, Series, run_child

SECTION = "postgres"
RATIO_TARGET, RSS_TARGET_MB = 1.3, 600.0
TABLE_SCHEMA_PREFIX = "bench_pg"


@dataclass
class PostgresResult:
    scale: str
    days: int
    rows: int = 0
    baseline: Series = field(default_factory=Series)
    pendo: Series = field(default_factory=Series)
    ratios: list[tuple[float, float]] = field(default_factory=list)  # (wall, CPU) of each alternating pair
    formats: str = ""
    note: str = ""  # why it did not run, when it did not


def reachable(dsn: str) -> str:
    """'' when Postgres answers at ``dsn``, else the first line of why not."""
    import psycopg2

    try:
        psycopg2.connect(dsn, connect_timeout=5).close()
    except psycopg2.OperationalError as exc:
        return str(exc).strip().splitlines()[0]
    return ""


def table_counts(dsn: str, schema: str, tables: tuple[str, ...]) -> dict[str, int]:
    import psycopg2

    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        counts = {}
        for table in tables:
            cur.execute(f'SELECT count(*) FROM "{schema}"."{table}"')
            counts[table] = cur.fetchone()[0]
    return counts


def drop_schemas(dsn: str, dataset: str) -> None:
    """Drop ``dataset`` and every schema dlt derived from it (``<dataset>_staging``)."""
    import psycopg2

    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        cur.execute("SELECT schema_name FROM information_schema.schemata WHERE schema_name = %s "
                    "OR schema_name LIKE %s", (dataset, dataset + "\\_%"))
        for (name,) in cur.fetchall():
            cur.execute(f'DROP SCHEMA "{name}" CASCADE')


def bench_postgres(ctx: Any, scale: str, days: int, baseline_cmd: list[str], pendo_cmd: list[str],
                   env: dict[str, str], cwd: Path, served: dict[str, int], formats: str,
                   expect: Callable[[str, dict[str, int], dict[str, int]], None],
                   say: Callable[[str], None]) -> PostgresResult:
    """``baseline_cmd`` and ``pendo_cmd`` get ``--schema``/``--dataset`` appended here (pendo-elt also
    ``--pipelines-dir``); ``ctx`` is bench.run's Context (run_dir, load1, args.repeat/timeout/postgres_dsn)."""
    dsn, res = ctx.args.postgres_dsn, PostgresResult(scale, days, formats=formats)
    why = reachable(dsn)
    if why:
        res.note = f"Postgres skipped: cannot connect ({why})"
        say(f"   {res.note}")
        return res
    tables = tuple(served)
    for rep in range(ctx.args.repeat):
        pair = []
        for who in ("baseline", "pendo-elt"):
            schema = f"{TABLE_SCHEMA_PREFIX}_{os.getpid()}_{int(time.time() * 1000)}"
            where = ctx.run_dir(f"postgres-{who}")
            load = ctx.load1()
            try:
                if who == "baseline":
                    cmd = [*baseline_cmd, "--dsn", dsn, "--schema", schema]
                else:
                    cmd = [*pendo_cmd, "--pipelines-dir", str(where / "pipelines"), "--dataset", schema]
                result = run_child(cmd, env, cwd, where / f"{who}.log", ctx.args.timeout)
                counts = table_counts(dsn, schema, tables)
                expect(f"{who} into Postgres", counts, served)
                if who == "baseline":
                    detail = orjson.loads(result.stdout.strip().splitlines()[-1])
                    expect("the raw Postgres baseline (its own count)", {t: d["rows"] for t, d in detail.items()},
                           served)
            finally:
                drop_schemas(dsn, schema)
            shutil.rmtree(where, ignore_errors=True)
            pair.append(_sample(result, sum(counts.values()), load))
        res.baseline.add(pair[0])
        res.pendo.add(pair[1])
        res.rows = pair[1].rows
        res.ratios.append((pair[1].wall_s / pair[0].wall_s, pair[1].cpu_s / pair[0].cpu_s))
        say(f"   [{rep + 1}/{ctx.args.repeat}] postgres {res.rows:>10,} rows  baseline {pair[0].wall_s:6.1f}s "
            f"(cpu {pair[0].cpu_s:.1f}s) {pair[0].rss_mb:5.0f} MB | pendo-elt {pair[1].wall_s:6.1f}s "
            f"(cpu {pair[1].cpu_s:.1f}s) {pair[1].rss_mb:5.0f} MB  ratio {res.ratios[-1][0]:.2f}  "
            f"load {pair[1].load1:.1f}")
    return res


def _sample(result: ChildResult, rows: int, load: float) -> Sample:
    return Sample(result.wall_s, result.cpu_s, result.rss_mb, rows, load)


def verdicts(res: PostgresResult) -> list[str]:
    wall = statistics.median(w for w, _ in res.ratios)
    cpu = statistics.median(c for _, c in res.ratios)
    peak = max(s.rss_mb for s in res.pendo.samples)
    return [
        f"pendo-elt ≤ {RATIO_TARGET}x the raw Postgres baseline (median of the alternating pairs' ratios): "
        f"**{'met' if wall <= RATIO_TARGET else 'NOT met'}** ({wall:.2f}x wall; {cpu:.2f}x CPU).",
        f"The same in CPU seconds (the steadier figure on a shared machine, where wall time is mostly waiting for "
        f"a core): **{'met' if cpu <= RATIO_TARGET else 'NOT met'}** ({cpu:.2f}x).",
        f"Peak RSS ≤ {RSS_TARGET_MB:.0f} MB, worst pendo-elt run: "
        f"**{'met' if peak <= RSS_TARGET_MB else 'NOT met'}** ({peak:.0f} MB).",
    ]


def render(res: PostgresResult, command: str, when: str, table: Callable[[list[str], list[list[str]]], str]) -> str:
    """The markdown of the Postgres section (``table`` renders a markdown table, as bench.run's does)."""
    title = (f"### Postgres: pendo-elt vs the raw Postgres baseline, all event tables, {res.scale} scale, "
             f"{res.days} days")
    if res.note or not res.ratios:
        return f"{title}\n\n{res.note or 'not measured'}"

    def rate(series: Series) -> str:
        return f"{series.rows / series.median('wall_s'):,.0f}"

    rows = [[who, f"{series.rows:,}", f"{series.median('wall_s'):.1f}", rate(series), f"{series.median('cpu_s'):.1f}",
             f"{series.median('rss_mb'):.0f}", f"{max(s.rss_mb for s in series.samples):.0f}"]
            for who, series in (("raw baseline (orjson, Arrow, ADBC binary COPY)", res.baseline),
                                (f"pendo-elt backfill ({res.formats})", res.pendo))]
    loads = [s.load1 for s in res.baseline.samples + res.pendo.samples]
    pairs = ", ".join(f"{w:.2f}x / {c:.2f}x" for w, c in res.ratios)
    return "\n".join([
        title, "",
        f"Generated by `{command}` on {when} UTC. {len(res.ratios)} alternating pair(s) of child runs (baseline, "
        "then pendo-elt, each into a fresh schema, dropped afterwards) on the same replayed answers; medians shown. "
        f"1-minute load average before the runs: min {min(loads):.1f}, median {statistics.median(loads):.1f}, "
        f"max {max(loads):.1f} on {os.cpu_count()} cores (the machine is shared: CPU seconds and the pairs' ratios "
        "are the steadier figures).", "",
        table(["run", "rows", "wall s", "rows/s", "CPU s", "peak RSS MB (median)", "peak RSS MB (worst)"], rows), "",
        f"Ratio pendo-elt / baseline of each pair (wall / CPU): {pairs}.", "",
        *[f"- {v}" for v in verdicts(res)],
    ])


def baseline_command(url: str, key: str, tz: str, span: tuple[str, str, int, int],
                     tables: tuple[str, ...]) -> list[str]:
    return [sys.executable, "-m", "bench.baseline_postgres", "--url", url, "--key", key, "--tz", tz,
            "--start-ms", str(span[2]), "--end-ms", str(span[3]), "--resources", ",".join(tables)]


def write(doc: Path | None, markdown: str) -> None:
    if doc is not None:
        from bench.doc import write_section

        write_section(doc, SECTION, markdown)
