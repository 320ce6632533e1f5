"""Segments, product areas, report results, guide/poll state, raw events and frustration fields equal the
simulator's ground truth, over HTTP into DuckDB: after a first load, and after an incremental run a day later."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from simulator.testing import SimulatorProcess
from sources.pendo.settings import DEFAULT_RESOURCES
from tests.e2e.harness import Loader

RESOURCES = [*DEFAULT_RESOURCES, "single_events"]
CLICK_COLUMNS = {"tab_id": "tabId", "rage_click_count": "rageClickCount", "dead_click_count": "deadClickCount",
                 "error_click_count": "errorClickCount", "u_turn_count": "uTurnCount",
                 "recording_id": "recordingId", "recording_session_id": "recordingSessionId"}
ROLLUP_KEY = {"visitor_id": "visitorId", "account_id": "accountId", "app_id": "appId", "server": "server",
              "remote_ip": "remoteIp", "user_agent": "userAgent", "num_events": "numEvents",
              "num_minutes": "numMinutes"}
ENTITY = {"page_events": ("page_id", "pageId"), "feature_events": ("feature_id", "featureId"),
          "events": None, "track_events": ("track_type_id", "trackTypeId")}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Loader:
    from tests.conftest import SIM_NOW

    sim = SimulatorProcess(scale="tiny", now=SIM_NOW).start()
    report_ids = [r["id"] for r in sim.api("GET", "report").json()]
    loader = Loader(sim, Path(tmp_path_factory.mktemp("extra")), source_args={"report_ids": report_ids})
    loader.run(RESOURCES)
    yield loader
    sim.stop()


def _check_everything(load: Loader) -> None:
    """Every new table (and the new rollup columns) against the truth the simulator serves now."""
    sim = load.sim
    segments = sim.truth("segments")
    assert segments
    rows = load.query(f"SELECT id, name, pipeline FROM {load.table('segments')}")
    assert Counter((i, n, _json(p)) for i, n, p in rows) == Counter(
        (s["id"], s["name"], _json(s["pipeline"])) for s in segments)

    areas = sim.truth("product_areas")
    assert load.query(f"SELECT COUNT(*) FROM {load.table('product_areas')}")[0][0] == len(areas) > 0
    assert dict(load.query(f"SELECT id, name FROM {load.table('product_areas')}")) == {
        a["id"]: a["name"] for a in areas}
    for table in ("pages", "features"):
        truth = {e["id"]: (e.get("group") or {}).get("id") for e in sim.truth(table)}
        assert dict(load.query(f"SELECT id, product_area_id FROM {load.table(table)}")) == truth
        assert any(truth.values()) and not all(truth.values())

    report_rows = sim.truth("report_results")
    assert {r["reportId"] for r in report_rows} == {r["id"] for r in sim.truth("reports")}
    got = load.query(f"SELECT report_id, visitor_id, {load.epoch_ms('lastvisit')}, account_id, account_name, "
                     f"{load.epoch_ms('firstvisit')} FROM {load.table('report_results')}")
    assert Counter(got) == Counter((r["reportId"], r.get("visitorId"), r.get("lastvisit"), r.get("accountId"),
                                    r.get("accountName"), r.get("firstvisit")) for r in report_rows)

    guides = sim.truth("guides_seen")
    assert guides
    got = load.query(f"SELECT visitor_id, guide_id, guide_step_id, seen_count, last_state, "
                     f"{load.epoch_ms('first_seen_at')}, {load.epoch_ms('last_seen_at')}, "
                     f"{load.epoch_ms('last_advanced_auto_at')}, {load.epoch_ms('last_dismissed_auto_at')}, "
                     f"{load.epoch_ms('last_timeout_at')} FROM {load.table('guides_seen')}")
    assert Counter(got) == Counter(tuple(g[f] for f in (
        "visitorId", "guideId", "guideStepId", "seenCount", "lastState", "firstSeenAt", "lastSeenAt",
        "lastAdvancedAutoAt", "lastDismissedAutoAt", "lastTimeoutAt")) for g in guides)

    polls = sim.truth("polls_seen")
    assert polls
    got = load.query(f"SELECT visitor_id, poll_id, guide_id, response, {load.epoch_ms('time')} "
                     f"FROM {load.table('polls_seen')}")
    assert Counter(got) == Counter((p["visitorId"], p["pollId"], p["guideId"], str(p["response"]), p["time"])
                                   for p in polls)

    raw = sim.truth("single_events")
    assert raw
    got = load.query(f"SELECT event_id, type, visitor_id, page_id, feature_id, track_type_id, tab_id, "
                     f"{load.epoch_ms('browser_time')} FROM {load.table('single_events')}")
    assert Counter(got) == Counter((e["eventId"], e["type"], e["visitorId"], e.get("pageId"), e.get("featureId"),
                                    e.get("trackTypeId"), e["tabId"], e["browserTime"]) for e in raw)

    for table in ENTITY:
        assert rollups_with_clicks(load, table) == truth_with_clicks(load, table), table


def rollups_with_clicks(load: Loader, table: str, period: str = "day") -> Counter:
    columns = _click_columns(load, table)
    entity = [ENTITY[table][0]] if ENTITY[table] else []
    select = ", ".join([*ROLLUP_KEY, *entity, *columns, load.epoch_ms(period)])
    return Counter(load.query(f"SELECT {select} FROM {load.table(table)}"))


def truth_with_clicks(load: Loader, table: str, period: str = "day") -> Counter:
    fields = [*ROLLUP_KEY.values(), *([ENTITY[table][1]] if ENTITY[table] else []),
              *(CLICK_COLUMNS[c] for c in _click_columns(load, table))]
    return Counter(tuple(r.get(f) for f in fields) + (r[period],) for r in load.sim.truth(table, period=period))


def _click_columns(load: Loader, table: str) -> list[str]:
    have = load.pipeline().default_schema.get_table_columns(table)
    return [c for c in CLICK_COLUMNS if c in have]


def _json(value: object) -> str:
    return json.dumps(json.loads(value) if isinstance(value, str) else value, sort_keys=True)


def test_first_load_equals_ground_truth(loaded: Loader) -> None:
    _check_everything(loaded)


def test_frustration_fields_and_tabs_are_columns(loaded: Loader) -> None:
    page = set(_click_columns(loaded, "page_events"))
    assert page == set(CLICK_COLUMNS), "every field Pendo sends on page rollups is a column"
    assert _click_columns(loaded, "track_events") == ["tab_id"], "and none it does not send"
    # tabId is part of the grain: some visitor-days have one row per tab where they would otherwise have one
    split = loaded.query(
        f"SELECT COUNT(*) FROM (SELECT visitor_id, page_id, server, remote_ip, user_agent, day "
        f"FROM {loaded.table('page_events')} GROUP BY 1, 2, 3, 4, 5, 6 HAVING COUNT(DISTINCT tab_id) > 1) t")
    assert split[0][0] > 0


def test_incremental_run_a_day_later_equals_ground_truth(loaded: Loader) -> None:
    before = len(loaded.sim.truth("guides_seen")), len(loaded.sim.truth("single_events"))
    loaded.sim.advance(days=1)
    summary = loaded.run(RESOURCES)
    after = len(loaded.sim.truth("guides_seen")), len(loaded.sim.truth("single_events"))
    assert after[1] > before[1] and after[0] >= before[0], "the day brought new rows"
    # incremental: only the state that moved within the lookback was asked for, yet the table is complete
    assert 0 < summary.rows["guides_seen"] < after[0]
    assert 0 < summary.rows["polls_seen"] < len(loaded.sim.truth("polls_seen"))
    _check_everything(loaded)


def test_report_results_are_opt_in(make_sim, tmp_path) -> None:
    sim = make_sim()
    load = Loader(sim, tmp_path)
    load.run(["report_results", "pages"])
    assert "report_results" not in load.pipeline().default_schema.tables
    assert sim.request_counts().get("GET /report", 0) == 0


def test_an_unknown_report_id_is_one_clear_configuration_error(make_sim, tmp_path) -> None:
    from sources.pendo.errors import ConfigError

    load = Loader(make_sim(), tmp_path)
    with pytest.raises(ConfigError, match="report_ids.*'nope'"):
        load.run(["report_results"], report_ids="nope")


def test_split_windows_keep_tabs_and_sum_frustration_counters(make_sim, tmp_path) -> None:
    """A day fetched hour by hour is summed back into day rows by every dimension, tabId included."""
    sim = make_sim()
    info = sim.info()
    sizes = [len(sim.truth("page_events", start_ms=s, end_ms=s + 86_400_000))
             for s in range(info["history_start_ms"], info["now_ms"], 86_400_000)]
    sim.configure(max_rows=max(sizes) // 2)
    load = Loader(sim, tmp_path)
    load.run(["page_events", "events", "track_events"], window_days=3)
    for table in ("page_events", "events", "track_events"):
        assert rollups_with_clicks(load, table) == truth_with_clicks(load, table), table
    assert _click_columns(load, "track_events") == ["tab_id"]



def test_postgres_holds_the_same_new_tables(make_sim, tmp_path, pg_dataset) -> None:
    sim = make_sim()
    report_ids = [r["id"] for r in sim.api("GET", "report").json()]
    pg = Loader(sim, tmp_path, destination="postgres", dataset=pg_dataset, source_args={"report_ids": report_ids})
    pg.run(RESOURCES)
    _check_everything(pg)
