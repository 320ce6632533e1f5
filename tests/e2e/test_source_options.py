"""Options a user sets: periods, apps, anonymous visitors, time zones, page sizes."""

from __future__ import annotations

from collections import Counter
from urllib.parse import quote

import pendulum

from tests.e2e.harness import Loader


def test_hour_period_equals_hourly_ground_truth(loader) -> None:
    load: Loader = loader()
    load.run(["page_events", "guide_events"], period="hour")
    assert load.rollup_rows("page_events", "hour") == load.truth_rollup_rows("page_events", "hour")
    assert load.single_event_rows("guide_events") == load.truth_single_event_rows("guide_events")


def test_one_app_loads_only_that_apps_rows(loader) -> None:
    load: Loader = loader()
    app = load.sim.info()["default_app_id"]
    load.run(["page_events", "pages"], app_ids=[app])
    assert load.rollup_rows("page_events") == load.truth_rollup_rows("page_events", app_ids=[app])
    assert set(r[0] for r in load.query(f"SELECT DISTINCT app_id FROM {load.table('pages')}")) == {app}


def test_anonymous_visitors_are_loaded_only_when_asked(loader, make_sim, tmp_path) -> None:
    sim = make_sim()
    without = Loader(sim, tmp_path / "without")
    without.run(["visitors"])
    assert not any(i.startswith("_PENDO_T_") for i in without.ids("visitors", "visitor_id"))
    with_anon = Loader(sim, tmp_path / "with")
    with_anon.run(["visitors"], include_anonymous_visitors=True)
    assert with_anon.ids("visitors", "visitor_id") == Counter(v["visitorId"] for v in sim.truth("visitors"))


def test_keyset_pages_survive_ties_on_lastupdated(loader) -> None:
    load: Loader = loader()
    truth = load.sim.truth("visitors", include_anonymous=False)
    tied = Counter(v["metadata"]["auto"]["lastupdated"] for v in truth).most_common(1)[0][1]
    assert tied > 7, "the simulator puts many visitors on one lastupdated value"
    load.run(["visitors", "accounts"], page_size=7)
    assert load.ids("visitors", "visitor_id") == Counter(v["visitorId"] for v in truth)
    assert load.ids("accounts", "account_id") == Counter(a["accountId"] for a in load.sim.truth("accounts"))


def test_new_york_day_buckets_follow_dst(loader) -> None:
    load: Loader = loader()
    load.run(["page_events"])
    days = {r[0] for r in load.query(f"SELECT DISTINCT {load.epoch_ms('day')} FROM {load.table('page_events')}")}
    est = pendulum.datetime(2026, 3, 7, tz="America/New_York")
    edt = pendulum.datetime(2026, 3, 9, tz="America/New_York")
    assert int(est.timestamp() * 1000) in days and est.in_timezone("UTC").hour == 5
    assert int(edt.timestamp() * 1000) in days and edt.in_timezone("UTC").hour == 4
    assert load.rollup_rows("page_events") == load.truth_rollup_rows("page_events")


def test_windows_larger_than_a_day_give_the_same_rows(loader) -> None:
    load: Loader = loader()
    load.run(["page_events"], window_days=7)
    assert load.rollup_rows("page_events") == load.truth_rollup_rows("page_events")


def test_visitor_history_is_off_by_default_and_loads_each_visitor_day_when_asked(loader) -> None:
    load: Loader = loader()
    load.run()
    assert "visitor_history" not in load.pipeline().default_schema.tables
    info = load.sim.info()
    start = pendulum.from_timestamp(info["now_ms"] / 1000, tz=info["tz"]).subtract(days=1).to_date_string()
    load.run(["visitor_history"], start_date=start)
    loaded = Counter(r[0] for r in load.query(f"SELECT visitor_id FROM {load.table('visitor_history')}"))
    expected: Counter = Counter()
    day_starts = [pendulum.parse(start, tz=info["tz"]), pendulum.parse(start, tz=info["tz"]).add(days=1)]
    for visitor in load.sim.truth("visitors", include_anonymous=False):
        vid = visitor["visitorId"]
        for day in day_starts:
            items = load.sim.api("GET", f"visitor/{quote(vid, safe='')}/history",
                                 params={"starttime": int(day.timestamp() * 1000)}).json()
            expected[vid] += len(items)
    assert +loaded == +expected and sum(expected.values()) > 0
