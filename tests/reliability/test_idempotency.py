"""Runs with no new data change no row: every table, every column an analyst sees, and the cursors.

Idempotency is what makes "just run it again" the answer to every failure in this suite. The second run of
:func:`twice_loaded` re-extracts the lookback (three days of event buckets, the visitors updated in them) and
replaces every entity list; the warehouse must come out identical, row for row, column for column (only
dlt's bookkeeping ``_dlt_id`` / ``_dlt_load_id`` differ).
"""

from __future__ import annotations

import shutil

import pytest

from tests.reliability.conftest import TwiceLoaded
from tests.reliability.harness import CORE, ENTITIES, PEOPLE, ROLLUPS, SINGLES, Workspace

ALL_TRUTH_TABLES = (*ROLLUPS, *SINGLES, *PEOPLE, *ENTITIES, "metadata_fields")


def test_the_first_run_equals_the_ground_truth_in_every_table(twice_loaded: TwiceLoaded) -> None:
    twice_loaded.ws.assert_equals_truth(ALL_TRUTH_TABLES)


def test_a_second_run_with_no_new_data_changes_no_row_of_any_table(twice_loaded: TwiceLoaded) -> None:
    first, second = twice_loaded.after_first, twice_loaded.after_second
    assert sorted(second) == sorted(first), "the second run created or dropped tables"
    changed = {t: {"gone": sum((first[t] - second[t]).values()), "new": sum((second[t] - first[t]).values())}
               for t in first if first[t] != second[t]}
    assert not changed, f"rows changed without new data: {changed}"
    assert sum(sum(c.values()) for c in first.values()) > 3_000  # every default table, child tables included


def test_a_second_run_actually_reloaded_and_left_the_cursors_where_they_were(twice_loaded: TwiceLoaded) -> None:
    assert len(twice_loaded.loads_second) == len(twice_loaded.loads_first) + 1  # it did load (the lookback)
    assert "page_events" in twice_loaded.second.stdout
    assert twice_loaded.cursors_second == twice_loaded.cursors_first
    twice_loaded.ws.assert_cursors_consistent((*ROLLUPS, *SINGLES, *PEOPLE))


@pytest.mark.slow
def test_a_run_on_a_fresh_machine_with_no_new_data_changes_no_row(ws: Workspace) -> None:
    """State restored from the destination: the run re-reads only the lookback and replaces it identically."""
    resources = ",".join(CORE)
    assert ws.cli("run", "--resources", resources).returncode == 0
    before, cursors = ws.snapshot(), ws.cursors()
    shutil.rmtree(ws.pipelines)
    ws.sim.control("DELETE", "requests")
    again = ws.cli("run", "--resources", resources)
    assert again.returncode == 0, again.stderr[-2000:]
    assert ws.sim.request_counts()["POST /aggregation"] < 20  # incremental, not a reload from start_date
    assert ws.snapshot() == before
    assert ws.cursors() == cursors
