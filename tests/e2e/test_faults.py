"""Every fault Pendo or the network throws at a run: it recovers with exactly the ground truth."""

from __future__ import annotations

import pytest

from sources.pendo.errors import PendoAuthError, PendoUnavailableError
from tests.e2e.harness import Loader

AGG = "/api/v1/aggregation"


def _equal_truth(load: Loader) -> None:
    assert load.rollup_rows("page_events") == load.truth_rollup_rows("page_events")
    truth = load.sim.truth("visitors", include_anonymous=False)
    assert set(load.ids("visitors", "visitor_id")) == {v["visitorId"] for v in truth}


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 429, "retry_after": 1, "times": 3, "path": AGG},
        {"kind": "status", "status": 429, "times": 3, "path": AGG},
        {"kind": "status", "status": 500, "times": 2, "path": AGG},
        {"kind": "status", "status": 502, "times": 2, "path": AGG},
        {"kind": "status", "status": 503, "times": 3, "path": AGG},
        {"kind": "cut", "after_bytes": 200, "times": 2, "path": AGG},
        {"kind": "truncate", "after_bytes": 150, "times": 2, "path": AGG},
        {"kind": "garbage", "times": 1, "path": AGG},
        {"kind": "cut", "after_bytes": 50, "times": 1, "path": "/api/v1/page"},
    ],
    ids=lambda f: f"{f['kind']}-{f.get('status', f.get('after_bytes', ''))}-{f['path'].rsplit('/', 1)[-1]}",
)
def test_transient_faults_are_retried_to_an_exact_load(loader, fault: dict) -> None:
    load: Loader = loader()
    load.sim.inject(fault)
    load.run(["page_events", "visitors", "pages"])
    assert load.sim.control("GET", "faults")["pending"] == []
    _equal_truth(load)


def test_faults_spread_over_visitor_pages_lose_no_visitor(loader) -> None:
    load: Loader = loader()
    load.sim.inject({"kind": "status", "status": 503, "times": 1, "path": AGG},
                    {"kind": "cut", "after_bytes": 300, "times": 1, "path": AGG},
                    {"kind": "status", "status": 429, "retry_after": 0, "times": 1, "path": AGG})
    load.run(["visitors"], page_size=5)
    truth = load.sim.truth("visitors", include_anonymous=False)
    assert load.ids("visitors", "visitor_id") == {v["visitorId"]: 1 for v in truth}


def test_a_slow_answer_beyond_the_timeout_is_split_or_retried(loader) -> None:
    load: Loader = loader()
    load.sim.inject({"kind": "delay", "seconds": 3, "times": 2, "path": AGG})
    load.run(["page_events"], request_timeout=1)
    assert load.rollup_rows("page_events") == load.truth_rollup_rows("page_events")


def test_memory_limit_splits_windows_and_recovers_every_row(loader, make_sim) -> None:
    sim = make_sim()
    day_sizes = [len(sim.truth("page_events", start_ms=s, end_ms=s + 86_400_000))
                 for s in range(sim.info()["history_start_ms"], sim.info()["now_ms"], 86_400_000)]
    sim.configure(max_rows=max(day_sizes) // 2)  # the biggest days must be split into hours
    load: Loader = loader(sim)
    load.run(["page_events", "events"], window_days=3)
    assert load.rollup_rows("page_events") == load.truth_rollup_rows("page_events")
    assert load.rollup_rows("events") == load.truth_rollup_rows("events")


def test_a_persistent_outage_fails_clearly_then_the_next_run_is_exact(loader) -> None:
    load: Loader = loader()
    load.sim.inject({"kind": "status", "status": 503, "times": 50, "path": AGG})
    with pytest.raises(PendoUnavailableError, match="aggregation.*503"):
        load.run(["page_events"], max_attempts=3)
    load.sim.clear_faults()
    load.run(["page_events"])
    assert load.rollup_rows("page_events") == load.truth_rollup_rows("page_events")


def test_a_wrong_key_is_not_retried_and_says_what_to_check(loader) -> None:
    load: Loader = loader()
    with pytest.raises(PendoAuthError, match="integration key") as caught:
        load.run(["pages"], integration_key="not-the-key")
    assert "not-the-key" not in str(caught.value)
    assert load.sim.request_counts().get("GET /page", 0) == 1
