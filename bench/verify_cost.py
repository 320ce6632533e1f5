"""``make bench``'s "verify cost": what ``pendo-elt verify`` of all loaded history reads when nothing changed,
against what a reload of the same days reads (issue 10's target: under 1%).

One live simulator (``--verify-cost-scale``, default large, 30 days of history), one pipeline loaded once with
``pendo-elt run`` (a measured child, :mod:`bench.scheduled_child`), then a whole ``pendo-elt verify`` (a measured
child, :mod:`bench.verify_child`) with nothing changed in between. Rows read: the fingerprint rows Pendo answered
per event table, against the event rows the warehouse holds in the range verify compared (what a reload of it
reads); the deletion reconciliation of a whole verify (every visitor and account id) is reported beside them.
Alone: ``python -m bench.run --only verify-cost`` (writes its own section of docs/performance.md).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import orjson
import pendulum

from bench.measure import BenchError, ChildResult, run_child
from simulator.testing import SimulatorProcess

EVENT_TABLES = ("page_events", "feature_events", "track_events", "events", "guide_events", "poll_events")
DATASET = "bench_data"
NOW = "2026-03-20T15:30:00Z"
TARGET_SHARE = 0.01
REPO = Path(__file__).resolve().parent.parent


@dataclass
class VerifyCost:
    scale: str
    days: int
    load: ChildResult | None = None
    loaded_event_rows: int = 0
    verify: ChildResult | None = None
    requests: int = 0
    tables: dict[str, dict] = field(default_factory=dict)  # per table: buckets_checked, rows_read, range_rows
    ids_listed: int = 0
    id_requests: int = 0
    drift: bool = False

    @property
    def fingerprint_rows(self) -> int:
        return sum(t["rows_read"] for t in self.tables.values())

    @property
    def range_rows(self) -> int:
        return sum(t["range_rows"] for t in self.tables.values())


def bench_verify_cost(scale: str, days: int, work: Path, env: dict[str, str], timeout_s: float,
                      say: Callable[[str], None], before_run: Callable[[], object] | None = None) -> VerifyCost:
    """Load ``days`` of history once, then verify it with nothing changed; both measured as children."""
    result = VerifyCost(scale, days)
    work.mkdir(parents=True, exist_ok=True)
    db, pipelines_dir = work / "pendo.duckdb", work / "pipelines"
    where = ["--duckdb", str(db), "--dataset", DATASET, "--pipelines-dir", str(pipelines_dir)]
    with SimulatorProcess(scale=scale, now=NOW, history_days=days) as sim:
        info = sim.info()
        tz = info["tz"]
        child_env = {**{k: v for k, v in env.items() if not k.startswith(("SOURCES__", "DESTINATION__"))},
                     "SOURCES__PENDO__BASE_URL": sim.base_url, "SOURCES__PENDO__INTEGRATION_KEY": sim.integration_key,
                     "SOURCES__PENDO__SUBSCRIPTION_TIMEZONE": tz, "RUNTIME__DLTHUB_TELEMETRY": "false",
                     "SOURCES__PENDO__START_DATE": pendulum.from_timestamp(info["history_start_ms"] / 1000, tz=tz)
                     .to_date_string()}
        say(f"verify cost ({scale}, {days} days): loading the history")
        if before_run is not None:
            before_run()
        result.load = run_child([sys.executable, "-m", "bench.scheduled_child", *where], child_env, REPO,
                                work / "load.log", timeout_s)
        result.loaded_event_rows = orjson.loads(result.load.stdout.strip().splitlines()[-1])["event_rows"]
        say(f"verify cost ({scale}, {days} days): verify, nothing changed")
        sim.control("DELETE", "requests")
        if before_run is not None:
            before_run()
        result.verify = run_child([sys.executable, "-m", "bench.verify_child", *where], child_env, REPO,
                                  work / "verify.log", timeout_s)
        result.requests = sum(sim.request_counts().values())
    answer = orjson.loads(result.verify.stdout.strip().splitlines()[-1])
    result.tables, result.drift = answer["tables"], answer["drift"]
    result.ids_listed, result.id_requests = answer["ids_listed"], answer["id_requests"]
    window = answer["window"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        for table, row in result.tables.items():
            row["range_rows"] = con.execute(
                f'SELECT count(*) FROM "{DATASET}"."{table}" WHERE epoch_ms("day") >= ? AND epoch_ms("day") < ?',
                window).fetchone()[0]
    finally:
        con.close()
    say(f"   verify read {result.fingerprint_rows:,} fingerprint rows for {result.range_rows:,} event rows "
        f"({100 * result.fingerprint_rows / max(result.range_rows, 1):.2f}%), {result.requests} requests, "
        f"{result.verify.wall_s:.1f} s")
    return result


def render(res: VerifyCost, table: Callable[[list[str], list[list[str]]], str]) -> list[str]:
    assert res.load is not None and res.verify is not None
    rows = []
    for name in EVENT_TABLES:
        if name not in res.tables:
            continue
        t = res.tables[name]
        rows.append([name, str(t["buckets_checked"]), f"{t['range_rows']:,}", f"{t['rows_read']:,}",
                     f"{100 * t['rows_read'] / max(t['range_rows'], 1):.2f}%"])
    share = res.fingerprint_rows / max(res.range_rows, 1)
    rows.append(["all event tables", "", f"{res.range_rows:,}", f"{res.fingerprint_rows:,}", f"{100 * share:.2f}%"])
    v = res.verify
    return [f"### Verify with nothing changed: {res.scale} scale, {res.days} days of history", "",
            f"One load (`pendo-elt run`: {res.loaded_event_rows:,} event rows, {res.load.wall_s:.0f} s wall, "
            f"{res.load.cpu_s:.0f} s CPU, peak RSS {res.load.rss_mb:.0f} MB), then a whole `pendo-elt verify` "
            f"of the loaded history with nothing changed: {res.requests} requests to Pendo, {v.wall_s:.1f} s wall, "
            f"{v.cpu_s:.1f} s CPU, peak RSS {v.rss_mb:.0f} MB. *Reload rows* are the event rows the warehouse "
            "holds in the range verify compared (all loaded days but the partial current one): what a reload of "
            "it reads. *Fingerprint rows* are the rows of Pendo's fingerprint answers.", "",
            table(["table", "buckets compared", "reload rows", "fingerprint rows", "share"], rows), "",
            f"- Target (issue 10): under {100 * TARGET_SHARE:.0f}% of the rows a reload reads: "
            f"**{'met' if share < TARGET_SHARE else 'NOT met'}** ({100 * share:.2f}%).",
            f"- A whole verify also reconciles deletions: it listed {res.ids_listed:,} visitor and account ids in "
            f"{res.id_requests} requests ({100 * res.ids_listed / max(res.range_rows, 1):.2f}% of the reload rows "
            "besides; `pendo-elt verify --resources ...` skips it, a scheduled run does it once every "
            "`reconcile_deletions_hours`).",
            f"- Drift found: {'YES (nothing changed, so this is a bug)' if res.drift else 'none'}."]


def fail_if_wrong(res: VerifyCost) -> None:
    """Nothing changed between the load and the verify: any drift is a bug, and the benchmark stops."""
    if res.drift:
        raise BenchError(f"verify cost: verify found drift right after a load with nothing changed: {res.tables}")
