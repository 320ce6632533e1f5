"""The control surface: tests move the clock, re-tag history, add metadata and inject faults over HTTP."""

from __future__ import annotations

import time

import pytest
import requests

DAY_MS = 86_400_000


def _page_events(sim, first_ms: int, count: int) -> list[dict]:
    response = sim.aggregate([{"source": {"pageEvents": {"appId": 'expandAppIds("*")'},
                                          "timeSeries": {"period": "dayRange", "first": first_ms, "count": count}}}])
    response.raise_for_status()
    return response.json()["results"]


def test_late_data_is_not_served_until_the_processing_lag_has_passed(make_sim) -> None:
    sim = make_sim(lag_minutes=180)
    info = sim.info()
    rows = _page_events(sim, info["now_ms"], 1)
    assert all(row["lastTime"] < info["cutoff_ms"] for row in rows)
    before = sum(r["numEvents"] for r in rows)
    sim.advance(hours=6)
    after = sum(r["numEvents"] for r in _page_events(sim, info["now_ms"], 1))
    assert after > before  # today's bucket grows as processing catches up


def test_advancing_the_clock_serves_new_days(make_sim) -> None:
    sim = make_sim()
    info = sim.info()
    tomorrow = info["now_ms"] + DAY_MS
    assert _page_events(sim, tomorrow, 1) == []
    sim.advance(days=2)
    assert _page_events(sim, tomorrow, 1)


def test_retag_changes_that_day_only(make_sim) -> None:
    sim = make_sim()
    start = sim.info()["history_start_ms"]
    day_5, day_6 = start + 5 * DAY_MS, start + 6 * DAY_MS
    before_5, before_6 = _page_events(sim, day_5, 1), _page_events(sim, day_6, 1)
    day_name = time.strftime("%Y-%m-%d", time.gmtime((day_5 + 12 * 3_600_000) / 1000))
    sim.retag(day_name)
    assert _page_events(sim, day_5, 1) != before_5
    assert _page_events(sim, day_6, 1) == before_6


def test_a_new_custom_field_appears_in_schema_and_rows(make_sim) -> None:
    sim = make_sim()
    sim.add_metadata_field("visitor", "nps_segment", "string")
    schema = sim.api("GET", "metadata/schema/visitor").json()
    assert schema["custom"]["nps_segment"]["Type"] == "string"
    visitors = sim.truth("visitors", include_anonymous=False)
    assert any("nps_segment" in (v["metadata"].get("custom") or {}) for v in visitors)


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_status_faults_hit_the_next_requests_then_stop(make_sim, status: int) -> None:
    sim = make_sim()
    sim.inject({"kind": "status", "status": status, "times": 2, "retry_after": 3 if status == 429 else None})
    first, second, third = (sim.api("GET", "token/verify") for _ in range(3))
    assert first.status_code == second.status_code == status
    assert third.status_code == 200
    if status == 429:
        assert first.headers["Retry-After"] == "3"


def test_a_delay_fault_outlasts_a_short_client_timeout(make_sim) -> None:
    sim = make_sim()
    sim.inject({"kind": "delay", "seconds": 2})
    with pytest.raises(requests.exceptions.ReadTimeout):
        sim.api("GET", "token/verify", timeout=0.5)
    assert sim.api("GET", "token/verify").status_code == 200


def test_a_cut_fault_breaks_the_connection_mid_body(make_sim) -> None:
    sim = make_sim()
    sim.inject({"kind": "cut", "after_bytes": 40, "path": "/api/v1/page"})
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        sim.api("GET", "page", params={"expand": "*"})
    assert sim.api("GET", "page", params={"expand": "*"}).status_code == 200


def test_a_truncate_fault_sends_a_complete_response_with_cut_json(make_sim) -> None:
    sim = make_sim()
    sim.inject({"kind": "truncate", "after_bytes": 30, "path": "/api/v1/page"})
    response = sim.api("GET", "page", params={"expand": "*"})
    assert response.status_code == 200 and len(response.content) == 30
    with pytest.raises(ValueError):
        response.json()


def test_a_garbage_fault_answers_an_html_page(make_sim) -> None:
    sim = make_sim()
    sim.inject({"kind": "garbage"})
    response = sim.api("GET", "token/verify")
    assert response.status_code == 200 and response.text.startswith("<html>")


def test_faults_can_target_one_path(make_sim) -> None:
    sim = make_sim()
    sim.inject({"kind": "status", "status": 503, "path": "/api/v1/aggregation"})
    assert sim.api("GET", "token/verify").status_code == 200
    assert sim.aggregate([{"source": {"apps": None}}]).status_code == 503


def test_bad_fault_specs_are_refused(make_sim) -> None:
    sim = make_sim()
    with pytest.raises(requests.HTTPError):
        sim.inject({"kind": "explode"})


def test_request_log_counts_routes(make_sim) -> None:
    sim = make_sim()
    sim.api("GET", "token/verify")
    sim.aggregate([{"source": {"apps": None}}])
    counts = sim.request_counts()
    assert counts["GET /token/verify"] == 1 and counts["POST /aggregation"] == 1
