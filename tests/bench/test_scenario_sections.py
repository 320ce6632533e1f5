"""The verify-cost and scheduled-day scenarios render their own sections and run alone with ``--only``."""

import pytest

from bench import run as bench_run
from bench.measure import BenchError, ChildResult
from bench.scheduled_day import Hour, RunResult, ScheduledDay
from bench.scheduled_day import render as render_scheduled_day
from bench.verify_cost import VerifyCost, fail_if_wrong
from bench.verify_cost import render as render_verify_cost


def _cost(rows_read: int, drift: bool = False) -> VerifyCost:
    cost = VerifyCost("large", 30, ChildResult(10, 8, 300, ""), 1000, ChildResult(2, 1, 200, ""), requests=9)
    cost.tables = {"page_events": {"buckets_checked": 30, "rows_read": rows_read, "range_rows": 1000}}
    cost.ids_listed, cost.id_requests, cost.drift = 40, 2, drift
    return cost


def test_verify_cost_section_reports_the_share_against_the_target() -> None:
    met = "\n".join(render_verify_cost(_cost(9), bench_run.table))
    assert "0.90%" in met and "**met**" in met
    missed = "\n".join(render_verify_cost(_cost(10), bench_run.table))
    assert "1.00%" in missed and "**NOT met**" in missed


def test_verify_cost_stops_the_benchmark_on_drift() -> None:
    fail_if_wrong(_cost(9))
    with pytest.raises(BenchError):
        fail_if_wrong(_cost(9, drift=True))


def test_scheduled_day_section_reports_cpu_seconds_per_run() -> None:
    run = RunResult(wall_s=3.0, rss_mb=250, requests=12, event_rows=100, fingerprint_rows=5, rows_rewritten=200,
                    cpu_s=1.5)
    day = ScheduledDay("large", 30, initial={"verified sync": run, "3-day lookback": run},
                       hours=[Hour(1, "", 2, 100, {"verified sync": run, "3-day lookback": run})])
    text = "\n".join(render_scheduled_day(day, bench_run.table))
    assert "CPU s" in text and "| 1.5 |" in text


def test_only_selects_one_scenario() -> None:
    assert bench_run.parse_args(["--only", "verify-cost"]).only == "verify-cost"
    assert bench_run.parse_args(["--scheduled-day-only"]).only == "scheduled-day"
    assert bench_run.parse_args([]).only is None
