"""``make bench``'s "scheduled day": 24 hourly runs on a Pendo that rewrites its past, verified sync against the
blanket 3-day lookback, side by side in the same benchmark.

One live simulator (the past changes, so the replay server cannot serve it) and two pipelines, each with its own
DuckDB file: **verified sync** (``settle_days`` 10, ``lookback_days`` 0: fingerprints, re-extracts only what
changed) and **3-day lookback** (``settle_days`` 0, ``lookback_days`` 3: what pendo-elt did before). Both load the
history once, then the clock moves one hour at a time; some hours bring late data for a past day or a rule edit,
and after each hour both run, each as a child process measured alone (wall time, peak RSS from ``wait4``).

"Changed rows" are the rows, after the hour, of every (table, day) bucket whose ground truth the hour changed:
what a perfect extractor would have to read. The simulator's request log counts every request of a run.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import orjson
import pendulum
import requests

from bench.measure import BenchError, run_child
from simulator.testing import SimulatorProcess

EVENT_TABLES = ("page_events", "feature_events", "track_events", "events", "guide_events", "poll_events")
HOURS = 24
DATASET = "bench_data"
VARIANTS: dict[str, dict[str, str]] = {
    "verified sync": {"SOURCES__PENDO__SETTLE_DAYS": "10", "SOURCES__PENDO__LOOKBACK_DAYS": "0"},
    "3-day lookback": {"SOURCES__PENDO__SETTLE_DAYS": "0", "SOURCES__PENDO__LOOKBACK_DAYS": "3"},
}
READ_TARGET, REWRITE_TARGET = 1.2, 1.2


@dataclass(frozen=True)
class Change:
    """What happens to Pendo's past before one hourly run (besides the clock moving)."""

    label: str
    late_days_back: int | None = None
    rule_edit: str | None = None  # entity kind


# Late data 1, 2, 5 and 9 days back and one page rule edit, spread over the day.
SCHEDULE: dict[int, Change] = {
    3: Change("late data 2 days back", late_days_back=2),
    8: Change("late data 5 days back", late_days_back=5),
    12: Change("page rule edit", rule_edit="page"),
    15: Change("late data 9 days back", late_days_back=9),
    20: Change("late data 1 day back", late_days_back=1),
}


@dataclass
class RunResult:
    wall_s: float
    rss_mb: float
    requests: int
    event_rows: int
    fingerprint_rows: int
    rows_rewritten: int | None
    rows_deleted: int | None = None
    rows_inserted: int | None = None
    cpu_s: float = 0.0  # user + system of the child: steadier than wall time on a shared machine


@dataclass
class Hour:
    hour: int
    change: str
    changed_buckets: int
    changed_rows: int
    runs: dict[str, RunResult] = field(default_factory=dict)


@dataclass
class ScheduledDay:
    scale: str
    days: int
    initial: dict[str, RunResult] = field(default_factory=dict)
    hours: list[Hour] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)


class Truth:
    """Digests of the ground truth per (table, local day), to tell which buckets an hour changed."""

    def __init__(self, sim: SimulatorProcess) -> None:
        self.sim, self.tz = sim, sim.info()["tz"]
        self.http = requests.Session()
        self.known: dict[tuple[str, str], tuple[str, int]] = {}

    def day_ms(self, day: str) -> tuple[int, int]:
        start = pendulum.parse(day, tz=self.tz)
        return int(start.timestamp() * 1000), int(start.add(days=1).timestamp() * 1000)

    def digest(self, table: str, day: str) -> tuple[str, int]:
        start, end = self.day_ms(day)
        response = self.http.get(f"{self.sim.base_url}/_sim/truth/{table}",
                                 params={"start_ms": start, "end_ms": end}, timeout=600)
        response.raise_for_status()
        return hashlib.sha256(response.content).hexdigest(), len(orjson.loads(response.content))

    def remember(self, cells: set[tuple[str, str]]) -> None:
        for cell in cells - set(self.known):
            self.known[cell] = self.digest(*cell)

    def changed(self, cells: set[tuple[str, str]]) -> tuple[int, int]:
        """(buckets, rows) among ``cells`` whose truth differs from what was remembered; remembers the new."""
        buckets = rows = 0
        for cell in sorted(cells):
            now = self.digest(*cell)
            if now[0] != self.known.get(cell, ("", 0))[0]:
                buckets, rows = buckets + 1, rows + now[1]
            self.known[cell] = now
        return buckets, rows


def local_day(ms: int, tz: str, days_back: int = 0) -> str:
    return pendulum.from_timestamp(ms / 1000, tz=tz).subtract(days=days_back).to_date_string()


def bench_scheduled_day(scale: str, days: int, work: Path, env: dict[str, str], timeout_s: float,
                        say: Callable[[str], None], hours: int = HOURS,
                        before_run: Callable[[], object] | None = None) -> ScheduledDay:
    """``before_run`` is called just before each measured run (the benchmark samples the machine's load)."""
    result = ScheduledDay(scale, days)
    with SimulatorProcess(scale=scale, now="2026-03-20T15:30:00Z", history_days=days) as sim:
        info = sim.info()
        tz, start = info["tz"], info["history_start_ms"]
        base_env = {**{k: v for k, v in env.items() if not k.startswith(("SOURCES__", "DESTINATION__"))},
                    "SOURCES__PENDO__BASE_URL": sim.base_url, "SOURCES__PENDO__INTEGRATION_KEY": sim.integration_key,
                    "SOURCES__PENDO__SUBSCRIPTION_TIMEZONE": tz, "RUNTIME__DLTHUB_TELEMETRY": "false",
                    "SOURCES__PENDO__START_DATE": local_day(start, tz)}

        def measured(variant: str, label: str) -> RunResult:
            where = work / variant.replace(" ", "_")
            where.mkdir(parents=True, exist_ok=True)
            sim.control("DELETE", "requests")
            if before_run is not None:
                before_run()
            cmd = [sys.executable, "-m", "bench.scheduled_child", "--duckdb", str(where / "pendo.duckdb"),
                   "--dataset", DATASET, "--pipelines-dir", str(where / "pipelines")]
            child = run_child(cmd, {**base_env, **VARIANTS[variant]}, Path(__file__).resolve().parent.parent,
                              where / f"{label}.log", timeout_s)
            counters = orjson.loads(child.stdout.strip().splitlines()[-1])
            return RunResult(child.wall_s, child.rss_mb, sum(sim.request_counts().values()), counters["event_rows"],
                             counters["fingerprint_rows"], counters["rows_rewritten"], counters.get("rows_deleted"),
                             counters.get("rows_inserted"), child.cpu_s)

        for variant in VARIANTS:
            say(f"scheduled day ({scale}, {days} days): initial load, {variant}")
            result.initial[variant] = measured(variant, "initial")
        truth = Truth(sim)
        for hour in range(1, hours + 1):
            change = SCHEDULE.get(hour)
            now_ms = sim.info()["now_ms"] + 3_600_000
            touched = {local_day(now_ms, tz), local_day(now_ms, tz, 1)}
            if change and change.late_days_back is not None:
                touched.add(local_day(now_ms, tz, change.late_days_back))
            cells = {(t, d) for t in EVENT_TABLES for d in touched}
            if change and change.rule_edit:
                span = days + 2
                cells |= {("page_events", local_day(now_ms, tz, n)) for n in range(span)}
            truth.remember(cells)
            sim.advance(hours=1)
            if change and change.late_days_back is not None:
                sim.late(local_day(now_ms, tz, change.late_days_back), visitors=200)
            if change and change.rule_edit:
                sim.rule_edit(change.rule_edit)
            buckets, rows = truth.changed(cells)
            entry = Hour(hour, change.label if change else "", buckets, rows)
            for variant in VARIANTS:
                entry.runs[variant] = measured(variant, f"hour{hour:02d}")
            result.hours.append(entry)
            say(f"   hour {hour:2d} {entry.change:24s} changed {rows:>8,} rows; " + "; ".join(
                f"{v}: read {r.event_rows:,} (+{r.fingerprint_rows:,} fp), {r.requests} req, {r.wall_s:.1f} s"
                for v, r in entry.runs.items()))
        result.checks = [check_equal_to_truth(sim, work / v.replace(" ", "_") / "pendo.duckdb", v, tz)
                         for v in VARIANTS]
    return result


def check_equal_to_truth(sim: SimulatorProcess, db: Path, variant: str, tz: str) -> str:
    """Buckets (table, day) whose loaded rows differ from the ground truth, over the whole loaded history."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        wrong, total = 0, 0
        for table in EVENT_TABLES:
            at = "browser_time" if table in ("guide_events", "poll_events") else "day"
            key = "browserTime" if at == "browser_time" else "day"
            loaded = dict(con.execute(f'SELECT CAST(timezone(\'{tz}\', "{at}") AS DATE)::VARCHAR, sum(1) '
                                      f'FROM "{DATASET}"."{table}" GROUP BY 1').fetchall())
            truth: dict[str, int] = {}
            days: dict[int, str] = {}  # rollup rows share their bucket's ms: one pendulum call per bucket
            for row in sim.truth(table):
                ms = row[key]
                day = days.get(ms) or days.setdefault(ms, local_day(ms, tz))
                truth[day] = truth.get(day, 0) + 1
            total += len(truth)
            wrong += sum(1 for d in set(truth) | set(loaded) if truth.get(d, 0) != loaded.get(d, 0))
    finally:
        con.close()
    return (f"{variant}: {wrong} of {total} (table, day) buckets differ in row count from the ground truth over the "
            "whole loaded history" + ("" if wrong else " (none)"))


# --- report -------------------------------------------------------------------------------------------------
def _fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _total(runs: list[RunResult], name: str) -> int | None:
    values = [getattr(r, name) for r in runs]
    return None if any(v is None for v in values) else sum(values)


def render(res: ScheduledDay, table: Callable[[list[str], list[list[str]]], str]) -> list[str]:
    names = list(VARIANTS)
    header = ["hour", "change", "changed buckets", "changed rows"]
    for v in names:
        header += [f"{v}: requests", "rows read", "fingerprint rows", "rows rewritten", "deleted", "inserted",
                   "wall s", "CPU s", "peak RSS MB"]
    rows = []
    for h in res.hours:
        row = [str(h.hour), h.change or "-", str(h.changed_buckets), f"{h.changed_rows:,}"]
        for v in names:
            r = h.runs[v]
            row += [str(r.requests), f"{r.event_rows:,}", f"{r.fingerprint_rows:,}", _fmt(r.rows_rewritten),
                    _fmt(r.rows_deleted), _fmt(r.rows_inserted), f"{r.wall_s:.1f}", f"{r.cpu_s:.1f}", f"{r.rss_mb:.0f}"]
        rows.append(row)
    total_changed = sum(h.changed_rows for h in res.hours)
    totals = [f"all {len(res.hours)}", "", str(sum(h.changed_buckets for h in res.hours)), f"{total_changed:,}"]
    for v in names:
        runs = [h.runs[v] for h in res.hours]
        rewritten, deleted, inserted = (_total(runs, name) for name in ("rows_rewritten", "rows_deleted",
                                                                        "rows_inserted"))
        totals += [str(sum(r.requests for r in runs)), f"{sum(r.event_rows for r in runs):,}",
                   f"{sum(r.fingerprint_rows for r in runs):,}", _fmt(rewritten), _fmt(deleted), _fmt(inserted),
                   f"{sum(r.wall_s for r in runs):.1f}", f"{sum(r.cpu_s for r in runs):.1f}",
                   f"{max(r.rss_mb for r in runs):.0f}"]
    rows.append(totals)
    initial = "; ".join(f"{v}: {r.event_rows:,} event rows, {r.wall_s:.0f} s ({r.cpu_s:.0f} s CPU), {r.rss_mb:.0f} MB"
                        for v, r in res.initial.items())
    schedule = ", ".join(f"hour {h}: {c.label}" for h, c in SCHEDULE.items())
    n = len(res.hours)
    return ["", f"### Scheduled day: {n} hourly runs, {res.scale} scale, {res.days} days of history", "",
            f"Initial load of each pipeline ({initial}); then, each hour, the clock moves one hour and both "
            f"pipelines run ({schedule}; late data = 200 late sessions). *Rows read* are event rows read from "
            "Pendo for data, *fingerprint rows* the rows of fingerprint answers (verified sync only), *rows "
            "rewritten* the event rows deleted plus those inserted (a replaced bucket deletes and inserts all its "
            "rows, a diff-applied scope only the rows that differ); *changed rows* are "
            "the rows, after the hour, of the (table, day) buckets whose ground truth the hour changed.", "",
            table(header, rows), "", "Targets (verified sync):", ""] + [f"- {v}" for v in verdicts(res)] + [
            "", f"Correctness after the {n} runs:", ""] + [f"- {c}" for c in res.checks]


def verdicts(res: ScheduledDay) -> list[str]:
    variant = next(iter(VARIANTS))
    runs = [(h, h.runs[variant]) for h in res.hours]
    changed = sum(h.changed_rows for h, _ in runs) or 1
    read = sum(r.event_rows for _, r in runs)
    fp = sum(r.fingerprint_rows for _, r in runs)
    out = [f"rows read {read:,} for {changed:,} changed rows over the day: {read / changed:.2f}x (target "
           f"<= {READ_TARGET}x) {'met' if read <= READ_TARGET * changed else 'NOT met'}; fingerprint rows {fp:,} "
           "besides"]
    worst = max(runs, key=lambda hr: hr[1].event_rows / max(hr[0].changed_rows, 1))
    out.append(f"worst hour: hour {worst[0].hour} read {worst[1].event_rows:,} rows for {worst[0].changed_rows:,} "
               "changed")
    measured = [r for _, r in runs]
    rewritten, deleted, inserted = (_total(measured, n) for n in ("rows_rewritten", "rows_deleted", "rows_inserted"))
    if rewritten is not None:
        if deleted is None or inserted is None:  # a pendo-elt that inserted every row it read
            deleted, inserted = rewritten - read, read
        out.append(f"rows rewritten {rewritten:,}: {rewritten / changed:.2f}x the changed rows (target <= "
                   f"{REWRITE_TARGET}x) {'met' if rewritten <= REWRITE_TARGET * changed else 'NOT met'}; they count "
                   f"the rows deleted ({deleted:,}, {deleted / changed:.2f}x) as well as those inserted "
                   f"({inserted:,}, {inserted / changed:.2f}x)")
    else:
        out.append("rows rewritten: not reported by this pendo-elt (no verified-sync counters)")
    base = next(reversed(list(VARIANTS)))
    base_read = sum(h.runs[base].event_rows for h in res.hours)
    out.append(f"the 3-day lookback read {base_read:,} rows over the same day ({base_read / max(read, 1):.1f}x "
               "the verified sync)")
    return out


def fail_if_wrong(res: ScheduledDay) -> None:
    """Verified sync must end equal to the ground truth everywhere; the benchmark stops if it does not."""
    first = res.checks[0] if res.checks else ""
    if "(none)" not in first:
        raise BenchError(f"scheduled day: {first}")
