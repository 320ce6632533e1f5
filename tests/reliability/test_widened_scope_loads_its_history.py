"""A configuration that widens what is extracted loads the history it adds; narrowing says what it leaves behind.

Before: widening ``app_ids`` from one app to all, or turning ``include_anonymous_visitors`` on, loaded the new rows
only from the cursor on: 10 of 14 day buckets lacked the second app's rows, 160 of 2,183 visitors were missing, all
with exit code 0 (issue 13 item 3). Every case runs the CLI against the simulator and compares every row with the
ground truth of the scope configured.
"""

from __future__ import annotations

from collections import Counter

from tests.reliability.harness import CORE, EXIT_OK, Workspace

RESOURCES = ",".join(CORE)
EVENT_TABLES = ("page_events", "guide_events")


def run(ws: Workspace, resources: str = RESOURCES, **env: str):  # noqa: ANN201 - the harness's Completed
    result = ws.cli("run", "--resources", resources, **env)
    assert result.returncode == EXIT_OK, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    return result


def warnings(result, word: str) -> list[str]:  # noqa: ANN001
    return [line for line in result.stderr.splitlines() if word in line and "WARNING" in line]


def event_truth(ws: Workspace, table: str, app_ids: list[int] | None) -> Counter:
    load = ws.loader()
    if table == "guide_events":
        return load.truth_single_event_rows(table, app_ids=app_ids)
    return load.truth_rollup_rows(table, app_ids=app_ids)


def event_rows(ws: Workspace, table: str) -> Counter:
    load = ws.loader()
    return load.single_event_rows(table) if table == "guide_events" else load.rollup_rows(table)


def visitor_truth(ws: Workspace, include_anonymous: bool) -> Counter:
    return Counter((v["visitorId"], v["metadata"]["auto"]["lastupdated"])
                   for v in ws.sim.truth("visitors", include_anonymous=include_anonymous))


def test_widening_app_ids_from_one_app_to_all_reloads_every_loaded_bucket(ws: Workspace) -> None:
    first_app = ws.sim.info()["app_ids"][0]
    run(ws, SOURCES__PENDO__APP_IDS=str(first_app))
    for table in EVENT_TABLES:
        assert event_rows(ws, table) == event_truth(ws, table, [first_app]), table
    ws.sim.advance(hours=30)

    widened = run(ws)  # app_ids unset: all apps
    lines = warnings(widened, "sources.pendo.app_ids widened")
    assert len(lines) == 1 and f"from apps {first_app} to all apps" in lines[0], widened.stderr[-2000:]
    ws.assert_equals_truth(CORE)  # every bucket of every app, no duplicate
    ws.assert_cursors_consistent(CORE)

    again = run(ws)
    assert warnings(again, "sources.pendo.app_ids") == []
    ws.assert_equals_truth(CORE)


def test_a_widening_killed_before_its_load_is_reloaded_by_the_next_run(ws: Workspace) -> None:
    """The recorded scope travels with the rows: a failed widening run records nothing, the next one reloads."""
    first_app = ws.sim.info()["app_ids"][0]
    run(ws, SOURCES__PENDO__APP_IDS=str(first_app))
    ws.sim.inject({"kind": "status", "status": 503, "times": 100, "path": "/api/v1/aggregation", "after": 6})
    failed = ws.cli("run", "--resources", RESOURCES, SOURCES__PENDO__MAX_ATTEMPTS="1")
    assert failed.returncode == 1, failed.stderr[-2000:]
    ws.sim.clear_faults()
    widened = run(ws)
    assert len(warnings(widened, "sources.pendo.app_ids widened")) == 1
    ws.assert_equals_truth(CORE)


def test_turning_on_anonymous_visitors_loads_every_anonymous_visitor(ws: Workspace) -> None:
    run(ws)
    assert ws.warehouse_rows("visitors") == visitor_truth(ws, include_anonymous=False)
    ws.sim.advance(hours=30)

    widened = run(ws, SOURCES__PENDO__INCLUDE_ANONYMOUS_VISITORS="true")
    assert len(warnings(widened, "sources.pendo.include_anonymous_visitors turned on")) == 1
    assert ws.warehouse_rows("visitors") == visitor_truth(ws, include_anonymous=True)
    assert any(v.startswith("_PENDO_T_") for v, _ in ws.warehouse_rows("visitors"))

    narrowed = run(ws, SOURCES__PENDO__INCLUDE_ANONYMOUS_VISITORS="false")
    lines = warnings(narrowed, "sources.pendo.include_anonymous_visitors turned off")
    assert len(lines) == 1 and "stay in visitors" in lines[0] and "--full-refresh" in lines[0]


def test_a_resource_added_later_loads_the_datasets_whole_history(ws: Workspace) -> None:
    """With the default start_date (30 days before now) moving on, a table added three days later still loads
    from the dataset's first day, as the tables loaded from the start hold it."""
    run(ws, unset=("SOURCES__PENDO__START_DATE",))
    ws.sim.advance(days=3)
    run(ws, f"{RESOURCES},feature_events", unset=("SOURCES__PENDO__START_DATE",))
    load = ws.loader()
    assert load.rollup_rows("feature_events") == load.truth_rollup_rows("feature_events")
    ws.assert_equals_truth(CORE)


def test_narrowing_app_ids_says_in_one_line_what_stays_and_loses_nothing_in_scope(ws: Workspace) -> None:
    run(ws)
    kept = ws.sim.info()["app_ids"][0]
    ws.sim.advance(hours=30)
    narrowed = run(ws, SOURCES__PENDO__APP_IDS=str(kept))
    lines = warnings(narrowed, "sources.pendo.app_ids narrowed")
    assert len(lines) == 1, narrowed.stderr[-2000:]
    assert f"from all apps to apps {kept}" in lines[0] and "stay in the event tables" in lines[0]
    for table in EVENT_TABLES:
        loaded, truth = event_rows(ws, table), event_truth(ws, table, [kept])
        in_scope = Counter({row: n for row, n in loaded.items() if row[2] == kept})
        assert in_scope == truth, table  # every row of the kept app, none doubled
